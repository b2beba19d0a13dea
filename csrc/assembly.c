/* Stage 4: assembly. Connections become people: a connection joins the person
 * that holds one of its ends, merges two people that share no keypoint type,
 * and never overwrites a keypoint a person already holds. */
#include "internal.h"

size_t pd_people_workspace_size(int num_keypoints, int total_peaks) {
    size_t capacity = (size_t)total_peaks / 2 + 1;
    return pd_round_up(capacity * (size_t)num_keypoints * sizeof(int32_t)) +
           2 * pd_round_up(capacity * sizeof(int32_t)) + pd_round_up(capacity * sizeof(double)) +
           pd_round_up((size_t)total_peaks * sizeof(int32_t) + 4) + 5 * PD_ALIGN;
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
    if (!people->slots || !people->keypoints || !people->connections || !people->evidence ||
        !people->owner)
        return PD_ERR_WORKSPACE;
    for (int g = 0; g < total_peaks; g++) people->owner[g] = -1;
    return PD_OK;
}

static void pd_person_take(pd_people *people, int p, int k, int32_t g, float value) {
    people->slots[(size_t)p * people->num_keypoints + k] = g;
    people->owner[g] = p;
    people->keypoints[p] += 1;
    people->evidence[p] += value;
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
    if (pa >= 0 && pb < 0) {
        if (people->slots[(size_t)pa * K + kb] >= 0) return;
        pd_person_take(people, pa, kb, gb, value_b);
        people->connections[pa] += 1;
        people->evidence[pa] += score;
        return;
    }
    if (pa < 0 && pb >= 0) {
        if (people->slots[(size_t)pb * K + ka] >= 0) return;
        pd_person_take(people, pb, ka, ga, value_a);
        people->connections[pb] += 1;
        people->evidence[pb] += score;
        return;
    }
    if (pa == pb) {
        people->connections[pa] += 1;
        people->evidence[pa] += score;
        return;
    }
    int32_t *into = people->slots + (size_t)pa * K;
    int32_t *from = people->slots + (size_t)pb * K;
    for (int k = 0; k < K; k++)
        if (into[k] >= 0 && from[k] >= 0) return; /* conflicting people stay apart */
    for (int k = 0; k < K; k++) {
        if (from[k] < 0) continue;
        into[k] = from[k];
        people->owner[from[k]] = pa;
        from[k] = -1;
    }
    people->keypoints[pa] += people->keypoints[pb];
    people->connections[pa] += people->connections[pb] + 1;
    people->evidence[pa] += people->evidence[pb] + score;
    people->keypoints[pb] = 0;
    people->connections[pb] = 0;
    people->evidence[pb] = 0.0;
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
