/* Stage 5: fragment joining. People that assembly left in pieces, and peaks
 * nobody took, join the nearest person they could belong to across one hidden
 * joint (see join_fragments in pafdecode.h). */
#include <math.h>

#include "internal.h"

/* Fragment joining --------------------------------------------------------- */

/* One fragment's nearest host so far and the runner-up's cost. */
typedef struct {
    double best, second;
    int32_t host, runner_up;
} pd_join_choice;


size_t pd_join_workspace_size(int num_keypoints, int capacity, int total_peaks) {
    size_t K = (size_t)num_keypoints;
    return pd_round_up(K * K) + pd_round_up(K * K * sizeof(int32_t)) +
           3 * pd_round_up(K * sizeof(int32_t)) +
           pd_round_up(((size_t)capacity * K + 1) * sizeof(int32_t)) +
           5 * pd_round_up((size_t)capacity * sizeof(double)) +
           pd_round_up(((size_t)capacity + (size_t)total_peaks) * sizeof(pd_candidate)) +
           pd_round_up((size_t)capacity * sizeof(pd_candidate)) +
           pd_round_up(((size_t)capacity + (size_t)total_peaks) * sizeof(pd_join_choice)) +
           pd_round_up((size_t)capacity * (sizeof(int32_t) + 1)) +
           pd_round_up((K + 1) * sizeof(int32_t)) + pd_round_up((size_t)capacity * sizeof(int32_t)) +
           pd_round_up((size_t)capacity * sizeof(pd_candidate)) + 20 * PD_ALIGN;
}

void pd_tree_middles(const pd_skeleton *s, uint8_t *adjacent, int32_t *middle) {
    const int K = s->num_keypoints;
    for (size_t c = 0; c < (size_t)K * K; c++) adjacent[c] = 0;
    for (int l = 0; l < s->num_limbs; l++) {
        if (s->limb_redundant && s->limb_redundant[l]) continue;
        int a = s->limb_keypoints[2 * l], b = s->limb_keypoints[2 * l + 1];
        adjacent[(size_t)a * K + b] = adjacent[(size_t)b * K + a] = 1;
    }
    for (int i = 0; i < K; i++) {
        for (int j = 0; j < K; j++) {
            int32_t m = -1;
            /* Two tree limbs apart: not neighbours, and a neighbour of i (the first
             * in limb order) is one of j's. */
            for (int l = 0; l < s->num_limbs && m < 0 && i != j &&
                            !adjacent[(size_t)i * K + j];
                 l++) {
                if (s->limb_redundant && s->limb_redundant[l]) continue;
                int a = s->limb_keypoints[2 * l], b = s->limb_keypoints[2 * l + 1];
                int v = a == i ? b : b == i ? a : -1;
                if (v >= 0 && adjacent[(size_t)v * K + j]) m = v;
            }
            middle[(size_t)i * K + j] = m;
        }
    }
}

/* The longest tree limb person p holds, in map pixels; 0 when it holds none. */
static double pd_person_reach(const pd_people *people, const pd_skeleton *s, int p,
                              const float *peak_x, const float *peak_y) {
    const int32_t *slots = people->slots + (size_t)p * people->num_keypoints;
    double longest = 0.0;
    for (int l = 0; l < s->num_limbs; l++) {
        if (s->limb_redundant && s->limb_redundant[l]) continue;
        int32_t ga = slots[s->limb_keypoints[2 * l]], gb = slots[s->limb_keypoints[2 * l + 1]];
        if (ga < 0 || gb < 0) continue;
        double dx = (double)peak_x[ga] - (double)peak_x[gb];
        double dy = (double)peak_y[ga] - (double)peak_y[gb];
        double length = sqrt(dx * dx + dy * dy);
        if (length > longest) longest = length;
    }
    return longest;
}

/* How far, in host limbs, a fragment lies from a host: the least over the host's
 * keypoints i and the fragment's j (its nf types and peaks) that one hidden joint
 * separates (their tree path is two limbs long, through a type neither holds) of
 * distance / (2 * reach). Infinity when no such pair exists. Exact whenever it is
 * at most `limit`: pairs certainly beyond it are skipped before anything else
 * (the slack keeps rounding out of that decision). */
static double pd_join_cost(const int32_t *host, const int32_t *host_types, int nh,
                           const int32_t *frag, const int32_t *frag_types, int nf, int K,
                           const int32_t *middles, const float *peak_x,
                           const float *peak_y, double reach, double limit) {
    double best = INFINITY;
    const double far = 1.001 * limit * 2.0 * reach;
    for (int a = 0; a < nh; a++) {
        int i = host_types[a];
        double hx = (double)peak_x[host[i]], hy = (double)peak_y[host[i]];
        for (int b = 0; b < nf; b++) {
            int j = frag_types[b];
            int32_t middle = middles[(size_t)i * K + j];
            if (middle < 0 || host[middle] >= 0 || frag[middle] >= 0) continue;
            double dx = hx - (double)peak_x[frag[j]], dy = hy - (double)peak_y[frag[j]];
            if (dx * dx + dy * dy > far * far) continue;
            double cost = sqrt(dx * dx + dy * dy) / (2.0 * reach);
            if (cost < best) best = cost;
        }
    }
    return best;
}

/* What a round of joining reads. */
typedef struct {
    const pd_people *people;
    const int32_t *middles, *types;
    const double *reach, *box;
    const float *peak_x, *peak_y;
} pd_join_round;

/* Weighs host p for fragment f (nf types at frag, its box fb; a peak when f is not
 * a person). The outcome is the same in any order of hosts: the least cost, the
 * lowest index among hosts at it, and the least cost of any other host. */
static void pd_join_consider(const pd_join_round *r, int f, int is_person, const int32_t *frag,
                             const int32_t *frag_types, int nf, const double *fb, int p,
                             pd_join_choice *choice) {
    const int K = r->people->num_keypoints;
    if (p == f || !(r->reach[p] > 0.0)) return;
    /* A host outranks the fragment: more keypoints, or as many and an earlier index. */
    int np = r->people->keypoints[p];
    if (is_person && (np < nf || (np == nf && p > f))) return;
    if (np + nf > K) return;
    /* Most hosts hold a type of the fragment already: the cheapest test first. */
    const int32_t *slots = r->people->slots + (size_t)p * K;
    for (int i = 0; i < nf; i++)
        if (slots[frag_types[i]] >= 0) return;
    const double *hb = r->box + 4 * (size_t)p;
    double gx = fb[0] - hb[2] > hb[0] - fb[2] ? fb[0] - hb[2] : hb[0] - fb[2];
    double gy = fb[1] - hb[3] > hb[1] - fb[3] ? fb[1] - hb[3] : hb[1] - fb[3];
    if (gx < 0.0) gx = 0.0;
    if (gy < 0.0) gy = 0.0;
    /* Only a cost within reach and below the runner-up's can change the outcome,
     * and every cost is at least gap / (2 * reach); the slack keeps the shortcut
     * from deciding a borderline case. */
    double limit = choice->second < 1.0 ? choice->second : 1.0;
    double far = 1.01 * limit * 2.0 * r->reach[p];
    if (gx * gx + gy * gy > far * far) return;
    double cost = pd_join_cost(slots, r->types + (size_t)p * K, np, frag, frag_types, nf, K,
                               r->middles, r->peak_x, r->peak_y, r->reach[p], limit);
    if (!(cost <= 1.0)) return;
    if (cost < choice->best) {
        choice->second = choice->best;
        choice->runner_up = choice->host;
        choice->best = cost;
        choice->host = p;
    } else if (cost == choice->best) {
        choice->second = cost;
        if (p < choice->host) {
            choice->runner_up = choice->host;
            choice->host = p;
        } else {
            choice->runner_up = p;
        }
    } else if (cost < choice->second) {
        choice->second = cost;
        choice->runner_up = p;
    }
}

static int pd_people_join_fragments(pd_people *people, const pd_skeleton *s, const float *peak_x,
                             const float *peak_y, const float *peak_value,
                             const int32_t *peak_count, int max_peaks, float margin,
                             pd_arena *arena) {
    const int K = people->num_keypoints, count = people->count;
    const int total = K * max_peaks, num_fragments = count + total;
    uint8_t *adjacent = pd_take(arena, (size_t)K * K);
    int32_t *middles = pd_take(arena, (size_t)K * K * sizeof(int32_t));
    int32_t *cursor = pd_take(arena, (size_t)K * sizeof(int32_t));
    int32_t *lone = pd_take(arena, (size_t)K * sizeof(int32_t));
    int32_t *frag_types = pd_take(arena, (size_t)K * sizeof(int32_t));
    int32_t *types = pd_take(arena, ((size_t)count * K + 1) * sizeof(int32_t));
    double *reach = pd_take(arena, (size_t)count * sizeof(double) + 1);
    double *box = pd_take(arena, 4 * ((size_t)count * sizeof(double) + 1));
    pd_candidate *joins = pd_take(arena, (size_t)num_fragments * sizeof(pd_candidate));
    pd_candidate *hosts = pd_take(arena, (size_t)count * sizeof(pd_candidate) + 1);
    pd_join_choice *choices = pd_take(arena, (size_t)num_fragments * sizeof(pd_join_choice));
    uint8_t *changed = pd_take(arena, (size_t)count + 1);
    int32_t *grown = pd_take(arena, (size_t)count * sizeof(int32_t) + 1);
    int32_t *bucket = pd_take(arena, ((size_t)K + 1) * sizeof(int32_t));
    int32_t *members = pd_take(arena, (size_t)count * sizeof(int32_t) + 1);
    pd_candidate *lacking = pd_take(arena, (size_t)count * sizeof(pd_candidate) + 1);
    if (!adjacent || !middles || !cursor || !lone || !frag_types || !types || !reach || !box ||
        !joins || !hosts || !choices || !changed || !grown || !bucket || !members || !lacking)
        return PD_ERR_WORKSPACE;
    pd_join_round r = {people, middles, types, reach, box, peak_x, peak_y};
    pd_tree_middles(s, adjacent, middles);
    for (int k = 0; k < K; k++) lone[k] = -1;
    for (int p = 0; p < count; p++) changed[p] = 0;
    int num_grown = 0;
    /* Rounds until none joins: the pieces of one person are rivals as hosts until
     * they have joined each other. Each round joins a fragment away, so the rounds
     * end. After the first, a fragment whose host and runner-up are unchanged only
     * weighs the hosts that grew: the others weigh what they weighed before. */
    for (int round = 0;; round++) {
        /* Per person: its reach, its box and the types it holds, in type order. */
        for (int p = 0; p < count; p++) {
            if (round > 0 && !changed[p]) continue;
            const int32_t *slots = people->slots + (size_t)p * K;
            reach[p] = people->keypoints[p] >= 2
                           ? pd_person_reach(people, s, p, peak_x, peak_y)
                           : 0.0;
            double *b = box + 4 * (size_t)p;
            b[0] = b[1] = INFINITY;
            b[2] = b[3] = -INFINITY;
            for (int k = 0, n = 0; k < K; k++) {
                if (slots[k] < 0) continue;
                types[(size_t)p * K + n++] = k;
                double x = peak_x[slots[k]], y = peak_y[slots[k]];
                if (x < b[0]) b[0] = x;
                if (y < b[1]) b[1] = y;
                if (x > b[2]) b[2] = x;
                if (y > b[3]) b[3] = y;
            }
        }
        /* Hosts by the left edge of their box, so that a fragment looks at the hosts
         * around it first and stops where none can come within reach. */
        int num_hosts = 0;
        double widest = 0.0, longest = 0.0;
        for (int p = 0; p < count; p++) {
            if (!(reach[p] > 0.0)) continue;
            hosts[num_hosts].a = p;
            hosts[num_hosts].b = 0;
            hosts[num_hosts].score = -(float)box[4 * (size_t)p];
            num_hosts++;
            if (box[4 * (size_t)p + 2] - box[4 * (size_t)p] > widest)
                widest = box[4 * (size_t)p + 2] - box[4 * (size_t)p];
            if (reach[p] > longest) longest = reach[p];
        }
        pd_sort_candidates(hosts, num_hosts);
        int num_joins = 0;
        /* Fragments by their first keypoint type (a person's lowest, a peak's own),
         * so that each type's fragments sweep only the hosts lacking that type. A
         * person is a fragment only if it holds at most half the types: its host
         * would hold as many keypoints, all of other types. */
        for (int k = 0; k <= K; k++) bucket[k] = 0;
        for (int f = 0; f < count; f++) {
            int nf = people->keypoints[f];
            if (nf > 0 && 2 * nf <= K) bucket[types[(size_t)f * K] + 1]++;
        }
        for (int k = 0; k < K; k++) {
            bucket[k + 1] += bucket[k];
            cursor[k] = bucket[k];
        }
        for (int f = 0; f < count; f++) {
            int nf = people->keypoints[f];
            if (nf > 0 && 2 * nf <= K) members[cursor[types[(size_t)f * K]]++] = f;
        }
        for (int kind = 0; kind < K; kind++) {
            const int people_end = bucket[kind + 1];
            int num_lacking = -1; /* built when a fragment first needs it */
            for (int m = bucket[kind]; m < people_end + peak_count[kind]; m++) {
                const int32_t *frag;
                int nf, f, is_person = m < people_end;
                double fb[4];
                if (is_person) {
                    f = members[m];
                    nf = people->keypoints[f];
                    frag = people->slots + (size_t)f * K;
                    for (int i = 0; i < nf; i++) frag_types[i] = types[(size_t)f * K + i];
                    for (int i = 0; i < 4; i++) fb[i] = box[4 * (size_t)f + i];
                } else {
                    int32_t g = kind * max_peaks + (m - people_end);
                    if (people->owner[g] >= 0) continue;
                    f = count + g;
                    nf = 1;
                    lone[kind] = g;
                    frag = lone;
                    frag_types[0] = kind;
                    fb[0] = fb[2] = peak_x[g];
                    fb[1] = fb[3] = peak_y[g];
                }
                pd_join_choice *choice = &choices[f];
                int full = round == 0 || (is_person && changed[f]) ||
                           (choice->host >= 0 && changed[choice->host]) ||
                           (choice->runner_up >= 0 && changed[choice->runner_up]);
                if (full) {
                    if (num_lacking < 0) {
                        num_lacking = 0;
                        for (int at = 0; at < num_hosts; at++)
                            if (people->slots[(size_t)hosts[at].a * K + kind] < 0)
                                lacking[num_lacking++] = hosts[at];
                    }
                    choice->best = choice->second = INFINITY;
                    choice->host = choice->runner_up = -1;
                    /* The first host whose box starts at or right of the fragment's
                     * left edge; then rightwards from it, and leftwards from the one
                     * before, each side until no host can come within reach. */
                    int lo = 0, hi = num_lacking;
                    while (lo < hi) {
                        int mid = lo + (hi - lo) / 2;
                        if ((double)-lacking[mid].score < fb[0])
                            lo = mid + 1;
                        else
                            hi = mid;
                    }
                    for (int at = lo; at < num_lacking; at++) {
                        double limit = choice->second < 1.0 ? choice->second : 1.0;
                        int p = lacking[at].a;
                        if (box[4 * (size_t)p] - fb[2] > 1.01 * limit * 2.0 * longest)
                            break;
                        pd_join_consider(&r, f, is_person, frag, frag_types, nf, fb, p, choice);
                    }
                    for (int at = lo - 1; at >= 0; at--) {
                        double limit = choice->second < 1.0 ? choice->second : 1.0;
                        int p = lacking[at].a;
                        if (fb[0] - box[4 * (size_t)p] - widest >
                            1.01 * limit * 2.0 * longest)
                            break;
                        pd_join_consider(&r, f, is_person, frag, frag_types, nf, fb, p, choice);
                    }
                } else {
                    for (int i = 0; i < num_grown; i++)
                        pd_join_consider(&r, f, is_person, frag, frag_types, nf, fb, grown[i],
                                         choice);
                }
                if (!is_person) lone[kind] = -1;
                if (choice->host < 0 || !(choice->best < (double)margin * choice->second))
                    continue;
                joins[num_joins].a = f;
                joins[num_joins].b = choice->host;
                joins[num_joins].score = -(float)choice->best;
                num_joins++;
            }
        }
        for (int p = 0; p < count; p++) changed[p] = 0;
        num_grown = 0;
        int joined = 0;
        /* Nearest first; a join is skipped when its host has joined another person,
         * or has since taken a keypoint of the fragment's types. */
        pd_sort_candidates(joins, num_joins);
        for (int i = 0; i < num_joins; i++) {
            int f = joins[i].a, p = joins[i].b;
            int32_t *into = people->slots + (size_t)p * K;
            if (people->keypoints[p] == 0) continue;
            if (f >= count) {
                int32_t g = f - count;
                int kind = g / max_peaks;
                if (into[kind] >= 0) continue;
                pd_person_take(people, p, kind, g, peak_value[g]);
            } else {
                int32_t *from = people->slots + (size_t)f * K;
                int disjoint = people->keypoints[f] > 0;
                for (int k = 0; k < K && disjoint; k++) disjoint = !(into[k] >= 0 && from[k] >= 0);
                if (!disjoint) continue;
                pd_person_absorb(people, p, f, 0, 0.0f);
                changed[f] = 1; /* gone: whoever counted on it weighs again */
            }
            if (!changed[p]) grown[num_grown++] = p;
            changed[p] = 1;
            joined++;
        }
        if (!joined) break;
    }
    return PD_OK;
}

int pd_stage_join(const pd_params *params, pd_people *people, const pd_skeleton *s,
                  const pd_peak_set *peaks, void *workspace, size_t workspace_size) {
    if (!(params->join_fragments > 0.0f)) return PD_OK;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    return pd_people_join_fragments(people, s, peaks->x, peaks->y, peaks->value, peaks->count,
                                    peaks->max_peaks, params->join_fragments, &arena);
}
