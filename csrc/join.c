/* Stage 5: fragment joining. People that assembly left in pieces, and peaks
 * nobody took, join the nearest person they could belong to across one hidden
 * joint (see join_fragments in pafdecode.h). */
#include <math.h>

#include "internal.h"

/* One fragment's nearest host so far and the runner-up's cost. */
typedef struct {
    double best, second;
    int32_t host, runner_up;
} pd_join_choice;

void pd_tree_middles(const pd_skeleton *s, uint8_t *adjacent, int32_t *middle) {
    const int K = s->num_keypoints;
    for (size_t c = 0; c < (size_t)K * K; c++) {
        adjacent[c] = 0;
        middle[c] = -1;
    }
    for (int l = 0; l < s->num_limbs; l++) {
        if (s->limb_redundant && s->limb_redundant[l]) continue;
        int a = s->limb_keypoints[2 * l], b = s->limb_keypoints[2 * l + 1];
        adjacent[(size_t)a * K + b] = adjacent[(size_t)b * K + a] = 1;
    }
    /* Two tree limbs apart: i and j are not neighbours, and a neighbour v of i is
     * one of j's; v is the first such in limb order. Walking the tree limbs in
     * order and, at each, both of its ends as i, the first limb to name a middle
     * for (i, j) is the first limb of i whose other end neighbours j: the middle a
     * search of i's limbs in order for each pair would find, in O(L K), not
     * O(K^2 L). */
    for (int l = 0; l < s->num_limbs; l++) {
        if (s->limb_redundant && s->limb_redundant[l]) continue;
        for (int end = 0; end < 2; end++) {
            const int i = s->limb_keypoints[2 * l + end], v = s->limb_keypoints[2 * l + 1 - end];
            for (int j = 0; j < K; j++) {
                const size_t ij = (size_t)i * K + j;
                if (j != i && !adjacent[ij] && adjacent[(size_t)v * K + j] && middle[ij] < 0)
                    middle[ij] = v;
            }
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

/* For each type j, the types i two tree limbs from it (middle[i * K + j] >= 0), in
 * increasing order: partners[start[j] .. start[j + 1]). */
static void pd_tree_partners(const int32_t *middles, int K, int32_t *start, int32_t *partners) {
    int32_t n = 0;
    for (int j = 0; j < K; j++) {
        start[j] = n;
        for (int i = 0; i < K; i++)
            if (middles[(size_t)i * K + j] >= 0) partners[n++] = i;
    }
    start[K] = n;
}

/* How far, in host limbs, a fragment lies from a host: the least over the host's
 * keypoints i and the fragment's j (its nf types and peaks) that one hidden joint
 * separates (their tree path is two limbs long, through a type neither holds) of
 * distance / (2 * reach). Infinity when no such pair exists. Exact whenever it is
 * at most `limit`: pairs certainly beyond it are skipped before anything else
 * (the slack keeps rounding out of that decision). Only the types two limbs from
 * each of the fragment's are visited (their partner lists), so one weighing costs
 * O(nf * d2), d2 the most types two tree limbs from one, whatever the host's
 * size; the least cost is the same in any order. */
static double pd_join_cost(const int32_t *host, const int32_t *frag, const int32_t *frag_types,
                           int nf, int K, const int32_t *middles, const int32_t *start,
                           const int32_t *partners, const float *peak_x, const float *peak_y,
                           double reach, double limit) {
    double best = INFINITY;
    const double far = 1.001 * limit * 2.0 * reach;
    for (int b = 0; b < nf; b++) {
        const int j = frag_types[b];
        const double fx = (double)peak_x[frag[j]], fy = (double)peak_y[frag[j]];
        for (int32_t e = start[j]; e < start[j + 1]; e++) {
            const int i = partners[e];
            if (host[i] < 0) continue;
            int32_t middle = middles[(size_t)i * K + j];
            if (host[middle] >= 0 || frag[middle] >= 0) continue;
            double dx = (double)peak_x[host[i]] - fx, dy = (double)peak_y[host[i]] - fy;
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
    const int32_t *middles, *partner_start, *partners, *types;
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
    double cost = pd_join_cost(slots, frag, frag_types, nf, K, r->middles, r->partner_start,
                               r->partners, r->peak_x, r->peak_y, r->reach[p], limit);
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

/* The whole joining pass: what it reads, its workspace and a round's state. */
typedef struct {
    pd_people *people;
    const pd_skeleton *s;
    const float *peak_x, *peak_y, *peak_value;
    const int32_t *peak_count;
    int max_peaks, count; /* peaks per channel; people when joining began     */
    float margin;
    pd_join_round r;
    /* workspace */
    uint8_t *adjacent, *changed;
    int32_t *middles, *partner_start, *partners, *holder_start, *holders, *stamp, *cursor, *lone, *frag_types, *types, *grown, *bucket, *members;
    double *reach, *box;
    pd_candidate *joins, *hosts, *lacking;
    pd_join_choice *choices;
    /* a round's state */
    int num_grown, num_hosts, num_joins, serial;
    double widest, longest;
} pd_join_state;

/* The one layout of the pass's workspace for `count` people, measured by
 * pd_join_workspace_size with count = capacity. */
static void pd_join_layout(pd_join_state *j, int K, int count, int total, pd_arena *arena) {
    const size_t k = (size_t)K, n = (size_t)count, fragments = n + (size_t)total;
    j->adjacent = pd_take(arena, k * k);
    j->middles = pd_take(arena, k * k * sizeof(int32_t));
    j->partner_start = pd_take(arena, (k + 1) * sizeof(int32_t));
    j->partners = pd_take(arena, k * k * sizeof(int32_t));
    j->cursor = pd_take(arena, k * sizeof(int32_t));
    j->lone = pd_take(arena, k * sizeof(int32_t));
    j->frag_types = pd_take(arena, k * sizeof(int32_t));
    j->types = pd_take(arena, n * k * sizeof(int32_t));
    j->reach = pd_take(arena, n * sizeof(double));
    j->box = pd_take(arena, 4 * n * sizeof(double));
    j->joins = pd_take(arena, fragments * sizeof(pd_candidate));
    j->hosts = pd_take(arena, n * sizeof(pd_candidate));
    j->choices = pd_take(arena, fragments * sizeof(pd_join_choice));
    j->changed = pd_take(arena, n);
    j->grown = pd_take(arena, n * sizeof(int32_t));
    j->bucket = pd_take(arena, (k + 1) * sizeof(int32_t));
    j->members = pd_take(arena, n * sizeof(int32_t));
    j->lacking = pd_take(arena, n * sizeof(pd_candidate));
    /* A peak is held by two people at most. */
    j->holder_start = pd_take(arena, (k + 1) * sizeof(int32_t));
    j->holders = pd_take(arena, (2 * (size_t)total + 1) * sizeof(int32_t));
    j->stamp = pd_take(arena, n * sizeof(int32_t));
}

size_t pd_join_workspace_size(int num_keypoints, int capacity, int total_peaks) {
    pd_join_state j;
    pd_arena arena;
    pd_arena_measuring(&arena);
    pd_join_layout(&j, num_keypoints, capacity, total_peaks, &arena);
    return pd_arena_size(&arena);
}

/* Per person that changed (all in round 0): its reach, its box and the types it
 * holds, in type order. */
static void pd_join_summaries(pd_join_state *j, int round) {
    const int K = j->people->num_keypoints;
    for (int p = 0; p < j->count; p++) {
        if (round > 0 && !j->changed[p]) continue;
        const int32_t *slots = j->people->slots + (size_t)p * K;
        j->reach[p] = j->people->keypoints[p] >= 2
                          ? pd_person_reach(j->people, j->s, p, j->peak_x, j->peak_y)
                          : 0.0;
        double *b = j->box + 4 * (size_t)p;
        b[0] = b[1] = INFINITY;
        b[2] = b[3] = -INFINITY;
        for (int k = 0, n = 0; k < K; k++) {
            if (slots[k] < 0) continue;
            j->types[(size_t)p * K + n++] = k;
            double x = j->peak_x[slots[k]], y = j->peak_y[slots[k]];
            if (x < b[0]) b[0] = x;
            if (y < b[1]) b[1] = y;
            if (x > b[2]) b[2] = x;
            if (y > b[3]) b[3] = y;
        }
    }
}

/* Hosts by the left edge of their box, so that a fragment looks at the hosts
 * around it first and stops where none can come within reach; with the widest
 * box and the longest reach, which bound how far that is. */
static void pd_join_hosts(pd_join_state *j) {
    j->num_hosts = 0;
    j->widest = j->longest = 0.0;
    for (int p = 0; p < j->count; p++) {
        if (!(j->reach[p] > 0.0)) continue;
        const double *b = j->box + 4 * (size_t)p;
        j->hosts[j->num_hosts].a = p;
        j->hosts[j->num_hosts].b = 0;
        j->hosts[j->num_hosts].score = -(float)b[0];
        j->num_hosts++;
        if (b[2] - b[0] > j->widest) j->widest = b[2] - b[0];
        if (j->reach[p] > j->longest) j->longest = j->reach[p];
    }
    pd_sort_candidates(j->hosts, j->num_hosts);
    /* Every host by the types it holds: holders[holder_start[t] ..
     * holder_start[t + 1]) hold type t, by index. */
    const int K = j->people->num_keypoints;
    for (int k = 0; k <= K; k++) j->holder_start[k] = 0;
    for (int p = 0; p < j->count; p++) {
        if (!(j->reach[p] > 0.0)) continue;
        for (int t = 0; t < j->people->keypoints[p]; t++)
            j->holder_start[j->types[(size_t)p * K + t] + 1]++;
    }
    for (int k = 0; k < K; k++) {
        j->holder_start[k + 1] += j->holder_start[k];
        j->cursor[k] = j->holder_start[k];
    }
    for (int p = 0; p < j->count; p++) {
        if (!(j->reach[p] > 0.0)) continue;
        for (int t = 0; t < j->people->keypoints[p]; t++)
            j->holders[j->cursor[j->types[(size_t)p * K + t]]++] = p;
    }
}

/* Fragments by their first keypoint type (a person's lowest, a peak's own), so
 * that each type's fragments sweep only the hosts lacking that type. A person
 * is a fragment only if it holds at most half the types: its host would hold as
 * many keypoints, all of other types. Type k's people are members[bucket[k] ..
 * bucket[k + 1]). */
static void pd_join_buckets(pd_join_state *j) {
    const int K = j->people->num_keypoints;
    for (int k = 0; k <= K; k++) j->bucket[k] = 0;
    for (int f = 0; f < j->count; f++) {
        int nf = j->people->keypoints[f];
        if (nf > 0 && 2 * nf <= K) j->bucket[j->types[(size_t)f * K] + 1]++;
    }
    for (int k = 0; k < K; k++) {
        j->bucket[k + 1] += j->bucket[k];
        j->cursor[k] = j->bucket[k];
    }
    for (int f = 0; f < j->count; f++) {
        int nf = j->people->keypoints[f];
        if (nf > 0 && 2 * nf <= K) j->members[j->cursor[j->types[(size_t)f * K]]++] = f;
    }
}

/* One fragment as pd_join_consider weighs it. */
typedef struct {
    int f, is_person, nf;
    const int32_t *slots; /* K global peak indices or -1                        */
    double box[4];
} pd_fragment;

/* Entry m of type kind's fragments (people first, then the type's peaks); 0 for
 * a peak somebody holds, which is no fragment. The types go to j->frag_types; a
 * peak is seen through j->lone, which the caller resets after. */
static int pd_join_fragment(pd_join_state *j, int kind, int m, int people_end, pd_fragment *fr) {
    const int K = j->people->num_keypoints;
    fr->is_person = m < people_end;
    if (fr->is_person) {
        fr->f = j->members[m];
        fr->nf = j->people->keypoints[fr->f];
        fr->slots = j->people->slots + (size_t)fr->f * K;
        for (int i = 0; i < fr->nf; i++) j->frag_types[i] = j->types[(size_t)fr->f * K + i];
        for (int i = 0; i < 4; i++) fr->box[i] = j->box[4 * (size_t)fr->f + i];
        return 1;
    }
    int32_t g = kind * j->max_peaks + (m - people_end);
    if (j->people->owner[g] >= 0) return 0;
    fr->f = j->count + g;
    fr->nf = 1;
    j->lone[kind] = g;
    fr->slots = j->lone;
    j->frag_types[0] = kind;
    fr->box[0] = fr->box[2] = j->peak_x[g];
    fr->box[1] = fr->box[3] = j->peak_y[g];
    return 1;
}

static void pd_join_weigh(pd_join_state *j, const pd_fragment *fr, int p, pd_join_choice *choice) {
    pd_join_consider(&j->r, fr->f, fr->is_person, fr->slots, j->frag_types, fr->nf, fr->box, p,
                     choice);
}

/* Every host lacking type kind, in the order of j->hosts; returns how many. */
static int pd_join_lacking(pd_join_state *j, int kind) {
    const int K = j->people->num_keypoints;
    int n = 0;
    for (int at = 0; at < j->num_hosts; at++)
        if (j->people->slots[(size_t)j->hosts[at].a * K + kind] < 0) j->lacking[n++] = j->hosts[at];
    return n;
}

/* Weighs every host of lacking[0..n) that can come within reach: from the first
 * whose box starts at or right of the fragment's left edge rightwards, and from
 * the one before leftwards, each side until no host can. The bounds only skip
 * hosts whose cost certainly exceeds the limit (the slack keeps rounding out of
 * that decision), so the choice is the one weighing them all would make. */
static void pd_join_sweep(pd_join_state *j, const pd_fragment *fr, int n,
                          pd_join_choice *choice) {
    const pd_candidate *lacking = j->lacking;
    choice->best = choice->second = INFINITY;
    choice->host = choice->runner_up = -1;
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if ((double)-lacking[mid].score < fr->box[0])
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int at = lo; at < n; at++) {
        double limit = choice->second < 1.0 ? choice->second : 1.0;
        int p = lacking[at].a;
        if (j->box[4 * (size_t)p] - fr->box[2] > 1.01 * limit * 2.0 * j->longest) break;
        pd_join_weigh(j, fr, p, choice);
    }
    for (int at = lo - 1; at >= 0; at--) {
        double limit = choice->second < 1.0 ? choice->second : 1.0;
        int p = lacking[at].a;
        if (fr->box[0] - j->box[4 * (size_t)p] - j->widest > 1.01 * limit * 2.0 * j->longest)
            break;
        pd_join_weigh(j, fr, p, choice);
    }
}

/* How many hosts pd_join_by_type would visit for the fragment, repeats included:
 * the holders of the types two tree limbs from each of its types. */
static long pd_join_by_type_size(const pd_join_state *j, const pd_fragment *fr) {
    long n = 0;
    for (int b = 0; b < fr->nf; b++) {
        const int t = j->frag_types[b];
        for (int32_t e = j->partner_start[t]; e < j->partner_start[t + 1]; e++)
            n += j->holder_start[j->partners[e] + 1] - j->holder_start[j->partners[e]];
    }
    return n;
}

/* Weighs, once each, the hosts holding a type two tree limbs from one of the
 * fragment's: the only ones whose cost can be finite. The outcome does not depend
 * on the order hosts are weighed in (pd_join_consider), so this chooses what the
 * sweep would, visiting at most pd_join_by_type_size hosts. */
static void pd_join_by_type(pd_join_state *j, const pd_fragment *fr, pd_join_choice *choice) {
    choice->best = choice->second = INFINITY;
    choice->host = choice->runner_up = -1;
    if (j->serial == INT32_MAX) {
        for (int p = 0; p < j->count; p++) j->stamp[p] = 0;
        j->serial = 0;
    }
    const int32_t serial = ++j->serial;
    for (int b = 0; b < fr->nf; b++) {
        const int t = j->frag_types[b];
        for (int32_t e = j->partner_start[t]; e < j->partner_start[t + 1]; e++) {
            const int i = j->partners[e];
            for (int32_t h = j->holder_start[i]; h < j->holder_start[i + 1]; h++) {
                const int p = j->holders[h];
                if (j->stamp[p] == serial) continue;
                j->stamp[p] = serial;
                pd_join_weigh(j, fr, p, choice);
            }
        }
    }
}

/* 1 when a fragment must weigh every host again: in round 0, when it changed
 * itself, or when its host or runner-up did. Otherwise only the hosts that grew
 * can change its choice: the others weigh what they weighed before. */
static int pd_join_needs_full(const pd_join_state *j, const pd_fragment *fr,
                              const pd_join_choice *choice, int round) {
    return round == 0 || (fr->is_person && j->changed[fr->f]) ||
           (choice->host >= 0 && j->changed[choice->host]) ||
           (choice->runner_up >= 0 && j->changed[choice->runner_up]);
}

/* Chooses a host for every fragment whose first type is kind, and queues the
 * joins that are clear enough: the nearest host below margin times the next. */
static void pd_join_kind(pd_join_state *j, int kind, int round) {
    const int people_end = j->bucket[kind + 1];
    int num_lacking = -1; /* built when a fragment first needs it */
    for (int m = j->bucket[kind]; m < people_end + j->peak_count[kind]; m++) {
        pd_fragment fr;
        if (!pd_join_fragment(j, kind, m, people_end, &fr)) continue;
        pd_join_choice *choice = &j->choices[fr.f];
        if (pd_join_needs_full(j, &fr, choice, round)) {
            if (num_lacking < 0) num_lacking = pd_join_lacking(j, kind);
            /* Where hosts crowd within reach (small maps, noise) the sweep visits
             * most of them; the holders of the partner types are then fewer. Both
             * choose the same host. */
            if (4 * pd_join_by_type_size(j, &fr) < num_lacking)
                pd_join_by_type(j, &fr, choice);
            else
                pd_join_sweep(j, &fr, num_lacking, choice);
        } else {
            for (int i = 0; i < j->num_grown; i++) pd_join_weigh(j, &fr, j->grown[i], choice);
        }
        if (!fr.is_person) j->lone[kind] = -1;
        if (choice->host < 0 || !(choice->best < (double)j->margin * choice->second)) continue;
        j->joins[j->num_joins].a = fr.f;
        j->joins[j->num_joins].b = choice->host;
        j->joins[j->num_joins].score = -(float)choice->best;
        j->num_joins++;
    }
}

/* 1 when fragment f (a person or, past count, a peak) can still join host p: p
 * has not joined another, and holds none of f's types. */
static int pd_join_still_fits(const pd_join_state *j, int f, int p) {
    const int K = j->people->num_keypoints;
    const int32_t *into = j->people->slots + (size_t)p * K;
    if (j->people->keypoints[p] == 0) return 0;
    if (f >= j->count) return into[(f - j->count) / j->max_peaks] < 0;
    const int32_t *from = j->people->slots + (size_t)f * K;
    if (j->people->keypoints[f] == 0) return 0;
    for (int k = 0; k < K; k++)
        if (into[k] >= 0 && from[k] >= 0) return 0;
    return 1;
}

/* Runs the queued joins, nearest first, skipping those that no longer fit;
 * returns how many ran, marking the people they changed. */
static int pd_join_apply(pd_join_state *j) {
    for (int p = 0; p < j->count; p++) j->changed[p] = 0;
    j->num_grown = 0;
    int joined = 0;
    pd_sort_candidates(j->joins, j->num_joins);
    for (int i = 0; i < j->num_joins; i++) {
        int f = j->joins[i].a, p = j->joins[i].b;
        if (!pd_join_still_fits(j, f, p)) continue;
        if (f >= j->count) {
            int32_t g = f - j->count;
            pd_person_take(j->people, p, g / j->max_peaks, g, j->peak_value[g]);
        } else {
            pd_person_absorb(j->people, p, f, 0, 0.0f);
            j->changed[f] = 1; /* gone: whoever counted on it weighs again */
        }
        if (!j->changed[p]) j->grown[j->num_grown++] = p;
        j->changed[p] = 1;
        joined++;
    }
    return joined;
}

int pd_stage_join(const pd_params *params, pd_people *people, const pd_skeleton *s,
                  const pd_peak_set *peaks, void *workspace, size_t workspace_size) {
    if (!(params->join_fragments > 0.0f)) return PD_OK;
    const int K = people->num_keypoints;
    pd_join_state j;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    pd_join_layout(&j, K, people->count, K * peaks->max_peaks, &arena);
    if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
    /* A host holds two keypoints at least (a reach > 0): without one, no fragment
     * has anywhere to go and the rounds below would join nothing. */
    int any_host = 0;
    for (int p = 0; p < people->count && !any_host; p++) any_host = people->keypoints[p] >= 2;
    if (!any_host) return PD_OK;
    j.people = people;
    j.s = s;
    j.peak_x = peaks->x;
    j.peak_y = peaks->y;
    j.peak_value = peaks->value;
    j.peak_count = peaks->count;
    j.max_peaks = peaks->max_peaks;
    j.count = people->count;
    j.margin = params->join_fragments;
    const pd_join_round r = {people,  j.middles, j.partner_start, j.partners, j.types,
                             j.reach, j.box,     peaks->x,        peaks->y};
    j.r = r;
    pd_tree_middles(s, j.adjacent, j.middles);
    pd_tree_partners(j.middles, K, j.partner_start, j.partners);
    for (int k = 0; k < K; k++) j.lone[k] = -1;
    for (int p = 0; p < j.count; p++) j.changed[p] = j.stamp[p] = 0;
    j.num_grown = 0;
    j.serial = 0;
    /* Rounds until none joins: the pieces of one person are rivals as hosts until
     * they have joined each other. Each round joins a fragment away, so the rounds
     * end. After the first, a fragment whose host and runner-up are unchanged only
     * weighs the hosts that grew. */
    for (int round = 0;; round++) {
        pd_join_summaries(&j, round);
        pd_join_hosts(&j);
        pd_join_buckets(&j);
        j.num_joins = 0;
        for (int kind = 0; kind < K; kind++) pd_join_kind(&j, kind, round);
        if (!pd_join_apply(&j)) return PD_OK;
    }
}
