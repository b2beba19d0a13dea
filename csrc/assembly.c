/* Stage 4: assembly. Connections become people: a connection joins the person
 * that holds one of its ends, merges two people that share no keypoint type,
 * and never overwrites a keypoint a person already holds. */
#include <math.h>

#include "internal.h"

void pd_people_layout(pd_people *people, int num_keypoints, int total_peaks, pd_arena *arena) {
    /* Creating a person takes two peaks nobody holds, so this many suffice. */
    const size_t capacity = (size_t)total_peaks / 2 + 1;
    people->num_keypoints = num_keypoints;
    people->capacity = (int)capacity;
    people->total_peaks = total_peaks;
    people->count = 0;
    people->slots = pd_take(arena, capacity * (size_t)num_keypoints * sizeof(int32_t));
    people->keypoints = pd_take(arena, capacity * sizeof(int32_t));
    people->connections = pd_take(arena, capacity * sizeof(int32_t));
    people->evidence = pd_take(arena, capacity * sizeof(double));
    people->owner = pd_take(arena, (size_t)total_peaks * sizeof(int32_t));
    people->co_owner = pd_take(arena, (size_t)total_peaks * sizeof(int32_t));
    people->grown = NULL;
    people->num_grown = people->scaled = 0;
}

void pd_people_clear(pd_people *people) {
    people->count = 0;
    people->num_grown = people->scaled = 0;
    for (int g = 0; g < people->total_peaks; g++) people->owner[g] = people->co_owner[g] = -1;
}

/* Notes that person p took a keypoint of type k, for the prior's scales. */
static inline void pd_person_grew(pd_people *people, int p, int k) {
    if (!people->grown) return;
    people->grown[2 * (size_t)people->num_grown] = p;
    people->grown[2 * (size_t)people->num_grown + 1] = k;
    people->num_grown++;
}

void pd_person_take(pd_people *people, int p, int k, int32_t g, float value) {
    people->slots[(size_t)p * people->num_keypoints + k] = g;
    pd_person_grew(people, p, k);
    if (people->owner[g] < 0)
        people->owner[g] = p;
    else
        people->co_owner[g] = p;
    people->keypoints[p] += 1;
    people->evidence[p] += value;
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

void pd_person_absorb(pd_people *people, int to, int from, int link, float score) {
    const int K = people->num_keypoints;
    int32_t *into = people->slots + (size_t)to * K, *gone = people->slots + (size_t)from * K;
    for (int k = 0; k < K; k++) {
        if (gone[k] < 0) continue;
        into[k] = gone[k];
        pd_person_grew(people, to, k);
        if (people->owner[gone[k]] == from)
            people->owner[gone[k]] = to;
        else
            people->co_owner[gone[k]] = to;
        gone[k] = -1;
    }
    people->keypoints[to] += people->keypoints[from];
    if (link) {
        people->connections[to] += people->connections[from] + 1;
        people->evidence[to] += people->evidence[from] + score;
    } else {
        people->connections[to] += people->connections[from];
        people->evidence[to] += people->evidence[from];
    }
    people->keypoints[from] = 0;
    people->connections[from] = 0;
    people->evidence[from] = 0.0;
}

/* Adds one chosen connection of a limb from keypoint type ka to kb. */
static void pd_people_connect(pd_people *people, int ka, int kb, int32_t ga, int32_t gb, float value_a,
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
    pd_person_absorb(people, pa, pb, 1, score);
}

/* Each end's best candidate among a limb's nc candidates (best first): for a
 * peak a < na, best_of_a[a]; for b < nb, best_of_b[b]; score -1 where none. */
static void pd_best_candidates(const pd_candidate *candidates, int nc, int na, int nb,
                        pd_candidate *best_of_a, pd_candidate *best_of_b) {
    /* The first candidate naming an end is its best: candidates come best first. */
    for (int a = 0; a < na; a++) best_of_a[a].score = -1.0f;
    for (int b = 0; b < nb; b++) best_of_b[b].score = -1.0f;
    for (int c = nc - 1; c >= 0; c--) {
        best_of_a[candidates[c].a] = candidates[c];
        best_of_b[candidates[c].b] = candidates[c];
    }
}

/* After a limb type's connections: shares peaks between people where two
 * keypoints merged into one (see shared_peak_score), from each end's best
 * candidate (pd_best_candidates) between peaks oa + a and ob + b. */
static void pd_people_share(pd_people *people, int kb, int32_t oa, int32_t ob,
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

/* For rival_margin: each end's chosen partner (.a; -1 when unchosen) and the best
 * score among its other candidates (.score; -inf where none), for peaks a < na in
 * of_a and b < nb in of_b. */
static void pd_rival_scores(const pd_candidate *candidates, int nc, const pd_candidate *chosen,
                            int nconn, int na, int nb, pd_candidate *of_a, pd_candidate *of_b) {
    for (int a = 0; a < na; a++) {
        of_a[a].a = -1;
        of_a[a].score = -INFINITY;
    }
    for (int b = 0; b < nb; b++) {
        of_b[b].a = -1;
        of_b[b].score = -INFINITY;
    }
    for (int c = 0; c < nconn; c++) {
        of_a[chosen[c].a].a = chosen[c].b;
        of_b[chosen[c].b].a = chosen[c].a;
    }
    for (int c = 0; c < nc; c++) {
        const pd_candidate *x = &candidates[c];
        if (of_a[x->a].a != x->b && x->score > of_a[x->a].score) of_a[x->a].score = x->score;
        if (of_b[x->b].a != x->a && x->score > of_b[x->b].score) of_b[x->b].score = x->score;
    }
}

/* The evidence a chosen connection adds: its score, or 0 when a rival (another
 * candidate sharing one of its ends, pd_rival_scores) scores within `margin` of it:
 * a near tie says nothing about whose limb it is. */
static float pd_connection_evidence(const pd_candidate *c, const pd_candidate *of_a,
                                    const pd_candidate *of_b, float margin) {
    const float rival = of_a[c->a].score > of_b[c->b].score ? of_a[c->a].score : of_b[c->b].score;
    return rival >= c->score - margin ? 0.0f : c->score;
}

void pd_stage_assemble_limb(const pd_params *params, pd_people *people, const pd_skeleton *s,
                            int l, const pd_peak_set *peaks, const pd_candidate *candidates,
                            int nc, const pd_candidate *chosen, int nconn,
                            pd_candidate *best_of_a, pd_candidate *best_of_b) {
    const int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
    const int na = peaks->count[ka], nb = peaks->count[kb];
    const int32_t oa = (int32_t)((size_t)ka * peaks->max_peaks);
    const int32_t ob = (int32_t)((size_t)kb * peaks->max_peaks);
    const int redundant = s->limb_redundant ? s->limb_redundant[l] : 0;
    const float *value = peaks->value;
    const float margin = params->rival_margin;
    if (margin > 0.0f)
        pd_rival_scores(candidates, nc, chosen, nconn, na, nb, best_of_a, best_of_b);
    for (int c = 0; c < nconn; c++) {
        int32_t ga = oa + chosen[c].a, gb = ob + chosen[c].b;
        float score = margin > 0.0f
                          ? pd_connection_evidence(&chosen[c], best_of_a, best_of_b, margin)
                          : chosen[c].score;
        pd_people_connect(people, ka, kb, ga, gb, value[ga], value[gb], score, redundant);
    }
    if (!(params->shared_peak_score > 0.0f) || redundant || na == 0 || nb == 0) return;
    pd_best_candidates(candidates, nc, na, nb, best_of_a, best_of_b);
    pd_people_share(people, kb, oa, ob, best_of_a, na, best_of_b, nb, value,
                    params->shared_peak_score);
}

int pd_people_emit(const pd_people *people, const pd_peak_set *peaks, const pd_params *params,
                   pd_candidate *order, pd_candidate *scratch, float *out_keypoints,
                   float *out_scores) {
    const int K = people->num_keypoints;
    const float *peak_x = peaks->x, *peak_y = peaks->y, *peak_value = peaks->value;
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


/* -- the limb length prior ---------------------------------------------------------- */

static double pd_peak_distance(const pd_peak_set *peaks, int32_t g, int32_t h) {
    const double dx = (double)peaks->x[g] - (double)peaks->x[h];
    const double dy = (double)peaks->y[g] - (double)peaks->y[h];
    return sqrt(dx * dx + dy * dy);
}

/* Each person's scale: the largest, over the limbs with an expected length whose
 * two keypoints it holds, of their distance over that length; 0 when none. Seen
 * at an angle a limb only looks shorter, so each ratio is a lower bound on the
 * scale and the largest is the tightest. */
static void pd_person_scales(const pd_people *people, const pd_skeleton *s,
                             const pd_peak_set *peaks, double *scale) {
    const int K = people->num_keypoints;
    for (int p = 0; p < people->count; p++) scale[p] = 0.0;
    for (int m = 0; m < s->num_limbs; m++) {
        const double expected = (double)s->limb_length[m];
        if (!(expected > 0.0)) continue;
        const int ka = s->limb_keypoints[2 * m], kb = s->limb_keypoints[2 * m + 1];
        for (int p = 0; p < people->count; p++) {
            const int32_t ga = people->slots[(size_t)p * K + ka];
            const int32_t gb = people->slots[(size_t)p * K + kb];
            if (ga < 0 || gb < 0) continue;
            const double ratio = pd_peak_distance(peaks, ga, gb) / expected;
            if (ratio > scale[p]) scale[p] = ratio;
        }
    }
}

/* pd_person_scales kept up to date: a person's scale is the largest ratio over
 * the limbs whose two keypoints it holds, and during assembly a person only gains
 * keypoints (a merged-away person holds no peak, so its scale is never read).
 * So each keypoint taken since the last call can only add the limbs it
 * completes, and the largest ratio over the same limbs is the same double. */
static void pd_grow_scales(pd_people *people, const pd_skeleton *s, const pd_peak_set *peaks,
                           double *scale) {
    const int K = people->num_keypoints;
    for (int p = people->scaled; p < people->count; p++) scale[p] = 0.0;
    people->scaled = people->count;
    for (int e = 0; e < people->num_grown; e++) {
        const int p = people->grown[2 * e], k = people->grown[2 * e + 1];
        for (int m = 0; m < s->num_limbs; m++) {
            const int ka = s->limb_keypoints[2 * m], kb = s->limb_keypoints[2 * m + 1];
            const double expected = (double)s->limb_length[m];
            if ((ka != k && kb != k) || !(expected > 0.0)) continue;
            const int32_t ga = people->slots[(size_t)p * K + ka];
            const int32_t gb = people->slots[(size_t)p * K + kb];
            if (ga < 0 || gb < 0) continue;
            const double ratio = pd_peak_distance(peaks, ga, gb) / expected;
            if (ratio > scale[p]) scale[p] = ratio;
        }
    }
    people->num_grown = 0;
}

/* The largest scale among the holders of peak g, 0 when none has one. */
static double pd_holder_scale(const pd_people *people, const double *scale, int32_t g) {
    double best = 0.0;
    const int h = people->owner[g], c = people->co_owner[g];
    if (h >= 0 && scale[h] > best) best = scale[h];
    if (c >= 0 && scale[c] > best) best = scale[c];
    return best;
}

/* Candidates [0, kept) and the penalised ones in `moved` [0, m), each sorted, into
 * one sorted list of kept + m in `candidates`, merged from the back (in place: the
 * write position never passes the read position of `candidates`). */
static void pd_merge_penalised(pd_candidate *candidates, int kept, const pd_candidate *moved,
                               int m) {
    int i = kept - 1, j = m - 1, o = kept + m - 1;
    while (j >= 0) {
        const int take_kept = i >= 0 && pd_before(&moved[j], &candidates[i]);
        candidates[o--] = take_kept ? candidates[i--] : moved[j--];
    }
}

int pd_stage_limb_prior(const pd_params *params, pd_people *people, const pd_skeleton *s,
                        int l, const pd_peak_set *peaks, pd_candidate *candidates, int nc,
                        double *scale, pd_candidate *moved) {
    if (!(params->limb_length_prior > 0.0f) || !s->limb_length) return 0;
    /* Tracked scales take in what grew whether or not this limb needs them, so
     * the record of growth never holds more than one limb type's. */
    if (people->grown) pd_grow_scales(people, s, peaks, scale);
    if (nc <= 0) return 0;
    const double expected = (double)s->limb_length[l];
    if (!(expected > 0.0)) return 0;
    if (!people->grown) pd_person_scales(people, s, peaks, scale);
    const double reach = (double)params->limb_length_prior * expected;
    const int ka = s->limb_keypoints[2 * l], kb = s->limb_keypoints[2 * l + 1];
    const int32_t oa = (int32_t)((size_t)ka * peaks->max_peaks);
    const int32_t ob = (int32_t)((size_t)kb * peaks->max_peaks);
    /* The candidates left alone stay in order at the front; the penalised ones move
     * to `moved`, are sorted there and merged back. */
    int kept = 0, penalised = 0;
    for (int c = 0; c < nc; c++) {
        pd_candidate cand = candidates[c];
        const int32_t ga = oa + cand.a, gb = ob + cand.b;
        double known = pd_holder_scale(people, scale, ga);
        const double other = pd_holder_scale(people, scale, gb);
        if (other > known) known = other;
        const double bound = reach * known;
        const double length = known > 0.0 ? pd_peak_distance(peaks, ga, gb) : 0.0;
        if (!(known > 0.0) || !(length > bound)) {
            candidates[kept++] = cand;
            continue;
        }
        const double fit = bound / length;
        cand.score = (float)((double)cand.score * fit * fit);
        moved[penalised++] = cand;
    }
    if (penalised == 0) return 0;
    /* (a, b) pairs are unique, so the total order's sort gives what the twin's does.
     * The penalised candidates left [kept, nc) free: the sort's scratch. */
    pd_sort_candidates_any(moved, penalised, candidates + kept);
    pd_merge_penalised(candidates, kept, moved, penalised);
    return penalised;
}
