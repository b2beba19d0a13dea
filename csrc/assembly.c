/* Stage 4: assembly. Connections become people: a connection joins the person
 * that holds one of its ends, merges two people that share no keypoint type,
 * and never overwrites a keypoint a person already holds. */
#include "internal.h"

size_t pd_people_workspace_size(int num_keypoints, int total_peaks) {
    size_t capacity = (size_t)total_peaks / 2 + 1;
    return pd_round_up(capacity * (size_t)num_keypoints * sizeof(int32_t)) +
           2 * pd_round_up(capacity * sizeof(int32_t)) + pd_round_up(capacity * sizeof(double)) +
           2 * pd_round_up((size_t)total_peaks * sizeof(int32_t) + 4) + 6 * PD_ALIGN;
}

int pd_people_init(pd_people *people, int num_keypoints, int total_peaks, pd_arena *arena) {
    /* Creating a person takes two peaks nobody holds, so this many suffice. */
    int capacity = total_peaks / 2 + 1;
    people->num_keypoints = num_keypoints;
    people->capacity = capacity;
    people->count = 0;
    people->slots = pd_take(arena, (size_t)capacity * (size_t)num_keypoints * sizeof(int32_t));
    people->keypoints = pd_take(arena, (size_t)capacity * sizeof(int32_t));
    people->connections = pd_take(arena, (size_t)capacity * sizeof(int32_t));
    people->evidence = pd_take(arena, (size_t)capacity * sizeof(double));
    people->owner = pd_take(arena, (size_t)total_peaks * sizeof(int32_t) + 4);
    people->co_owner = pd_take(arena, (size_t)total_peaks * sizeof(int32_t) + 4);
    if (!people->slots || !people->keypoints || !people->connections || !people->evidence ||
        !people->owner || !people->co_owner)
        return PD_ERR_WORKSPACE;
    for (int g = 0; g < total_peaks; g++) people->owner[g] = people->co_owner[g] = -1;
    people->num_vetoes = 0;
    people->veto_kinds = NULL;
    people->veto_scores = NULL;
    people->veto_stride = 0;
    people->veto_min = 0.0f;
    return PD_OK;
}

/* Gives peak g (of type k) to person p, as its holder or, when someone holds it
 * already, its second holder. */
static void pd_person_take(pd_people *people, int p, int k, int32_t g, float value) {
    people->slots[(size_t)p * people->num_keypoints + k] = g;
    if (people->owner[g] < 0)
        people->owner[g] = p;
    else
        people->co_owner[g] = p;
    people->keypoints[p] += 1;
    people->evidence[p] += value;
}

/* 1 when a limb beyond the tree whose types `into` and `from` hold on opposite
 * sides has no candidate between those peaks scoring at least veto_min. */
static int pd_merge_vetoed(const pd_people *people, const int32_t *into, const int32_t *from) {
    const int stride = people->veto_stride;
    for (int v = 0; v < people->num_vetoes; v++) {
        int k1 = people->veto_kinds[2 * v], k2 = people->veto_kinds[2 * v + 1];
        const float *scores = people->veto_scores + (size_t)v * stride * stride;
        for (int side = 0; side < 2; side++) {
            int32_t x = side == 0 ? into[k1] : from[k1], y = side == 0 ? from[k2] : into[k2];
            if (x < 0 || y < 0) continue;
            float score = scores[(size_t)(x - k1 * stride) * stride + (size_t)(y - k2 * stride)];
            if (!(score >= people->veto_min)) return 1;
        }
    }
    return 0;
}

/* The first holder of peak g that has no keypoint of type k, or -1. */
static int pd_holder_lacking(const pd_people *people, int32_t g, int k) {
    const int K = people->num_keypoints;
    int h = people->owner[g];
    if (h >= 0 && people->slots[(size_t)h * K + k] < 0) return h;
    h = people->co_owner[g];
    if (h >= 0 && people->slots[(size_t)h * K + k] < 0) return h;
    return -1;
}

/* Attaches peak g of type k to person p through a limb of the given score. */
static void pd_person_attach(pd_people *people, int p, int k, int32_t g, float value,
                             float score) {
    pd_person_take(people, p, k, g, value);
    people->connections[p] += 1;
    people->evidence[p] += score;
}

void pd_people_connect(pd_people *people, int ka, int kb, int32_t ga, int32_t gb, float value_a,
                       float value_b, float score, int redundant) {
    const int K = people->num_keypoints;
    int pa = people->owner[ga], pb = people->owner[gb];
    if (pa < 0 && pb < 0) {
        /* A redundant limb only adds evidence between body parts a tree
         * already reaches; it never starts a person on its own. */
        if (redundant || people->count >= people->capacity) return;
        int p = people->count++;
        for (int k = 0; k < K; k++) people->slots[(size_t)p * K + k] = -1;
        people->keypoints[p] = 0;
        people->connections[p] = 1;
        people->evidence[p] = score;
        pd_person_take(people, p, ka, ga, value_a);
        pd_person_take(people, p, kb, gb, value_b);
        return;
    }
    /* A keypoint a person holds is never overwritten: the end goes to the first
     * holder of the other end that lacks its type, if any. */
    if (pa >= 0 && pb < 0) {
        int h = pd_holder_lacking(people, ga, kb);
        if (h >= 0) pd_person_attach(people, h, kb, gb, value_b, score);
        return;
    }
    if (pa < 0 && pb >= 0) {
        int h = pd_holder_lacking(people, gb, ka);
        if (h >= 0) pd_person_attach(people, h, ka, ga, value_a, score);
        return;
    }
    int ca = people->co_owner[ga], cb = people->co_owner[gb];
    int both = pa == pb || pa == cb ? pa : (ca >= 0 && (ca == pb || ca == cb)) ? ca : -1;
    if (both >= 0) {
        people->connections[both] += 1;
        people->evidence[both] += score;
        return;
    }
    int32_t *into = people->slots + (size_t)pa * K;
    int32_t *from = people->slots + (size_t)pb * K;
    for (int k = 0; k < K; k++)
        if (into[k] >= 0 && from[k] >= 0) return; /* conflicting people stay apart */
    if (people->num_vetoes > 0 && pd_merge_vetoed(people, into, from)) return;
    for (int k = 0; k < K; k++) {
        if (from[k] < 0) continue;
        into[k] = from[k];
        if (people->owner[from[k]] == pb)
            people->owner[from[k]] = pa;
        else
            people->co_owner[from[k]] = pa;
        from[k] = -1;
    }
    people->keypoints[pa] += people->keypoints[pb];
    people->connections[pa] += people->connections[pb] + 1;
    people->evidence[pa] += people->evidence[pb] + score;
    people->keypoints[pb] = 0;
    people->connections[pb] = 0;
    people->evidence[pb] = 0.0;
}

void pd_people_repair(pd_people *people, int ka, int kb, int32_t ga, int32_t gb, float value_a,
                      float value_b, float score) {
    int pa = people->owner[ga], pb = people->owner[gb];
    int ca = people->co_owner[ga], cb = people->co_owner[gb];
    if (pa < 0 || pb < 0 || pa == pb || pa == cb || (ca >= 0 && (ca == pb || ca == cb))) return;
    /* Both ends held by different people: connecting merges them if they can be. */
    pd_people_connect(people, ka, kb, ga, gb, value_a, value_b, score, 0);
}

void pd_best_candidates(const pd_candidate *candidates, int nc, int na, int nb,
                        pd_candidate *best_of_a, pd_candidate *best_of_b) {
    /* The first candidate naming an end is its best: candidates come best first. */
    for (int a = 0; a < na; a++) best_of_a[a].score = -1.0f;
    for (int b = 0; b < nb; b++) best_of_b[b].score = -1.0f;
    for (int c = nc - 1; c >= 0; c--) {
        best_of_a[candidates[c].a] = candidates[c];
        best_of_b[candidates[c].b] = candidates[c];
    }
}

void pd_people_share(pd_people *people, int kb, int32_t oa, int32_t ob,
                     const pd_candidate *best_of_a, int na, const pd_candidate *best_of_b,
                     int nb, const float *peak_value, float min_score) {
    /* First, an unheld b goes to the first holder of its best a that lacks kb:
     * a person's own peak before a shared one. */
    for (int b = 0; b < nb; b++) {
        const pd_candidate *c = &best_of_b[b];
        if (!(c->score >= min_score)) continue;
        int32_t ga = oa + c->a, gb = ob + b;
        if (people->owner[gb] >= 0) continue;
        int h = pd_holder_lacking(people, ga, kb);
        if (h >= 0) pd_person_attach(people, h, kb, gb, peak_value[gb], c->score);
    }
    /* Then holders of a still lacking kb take a's best b when someone holds b
     * already. */
    for (int a = 0; a < na; a++) {
        const pd_candidate *c = &best_of_a[a];
        if (!(c->score >= min_score)) continue;
        int32_t ga = oa + a, gb = ob + c->b;
        if (people->owner[gb] < 0) continue;
        for (int pass = 0; pass < 2; pass++) {
            int h = pass == 0 ? people->owner[ga] : people->co_owner[ga];
            if (h < 0 || people->co_owner[gb] >= 0) continue;
            if (people->slots[(size_t)h * people->num_keypoints + kb] >= 0) continue;
            pd_person_attach(people, h, kb, gb, peak_value[gb], c->score);
        }
    }
}

int pd_people_emit(const pd_people *people, const float *peak_x, const float *peak_y,
                   const float *peak_value, const pd_params *params, pd_candidate *order,
                   pd_candidate *scratch, float *out_keypoints, float *out_scores) {
    const int K = people->num_keypoints;
    int kept = 0;
    for (int p = 0; p < people->count; p++) {
        int n = people->keypoints[p];
        if (n == 0 || n < params->min_keypoints) continue;
        double mean = people->evidence[p] / (double)(n + people->connections[p]);
        if (mean < (double)params->min_person_score) continue;
        order[kept].a = p;
        order[kept].b = 0;
        /* Ranked by mean evidence times the share of the skeleton found, so that AP's
         * ranking puts whole people before confident fragments. */
        order[kept].score = (float)(mean * (double)n / (double)K);
        kept++;
    }
    /* People were listed in creation order: a stable sort keeps it for ties. */
    pd_sort_candidates_stable(order, kept, scratch);
    const float stride = params->stride;
    const float shift = 0.5f * stride - 0.5f;
    for (int i = 0; i < kept; i++) {
        const int32_t *slots = people->slots + (size_t)order[i].a * K;
        float *row = out_keypoints + (size_t)i * K * 3;
        for (int k = 0; k < K; k++) {
            int32_t g = slots[k];
            if (g < 0) {
                row[3 * k] = row[3 * k + 1] = row[3 * k + 2] = 0.0f;
                continue;
            }
            row[3 * k] = peak_x[g] * stride + shift;
            row[3 * k + 1] = peak_y[g] * stride + shift;
            row[3 * k + 2] = peak_value[g];
        }
        out_scores[i] = order[i].score;
    }
    return kept;
}
