/* Helpers shared by the kernels; not part of the public API. */
#ifndef PAFDECODE_INTERNAL_H
#define PAFDECODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pafdecode.h"

#define PD_ALIGN 64

/* Non-finite inputs are read as 0 everywhere, so NaN and Inf can neither make
 * a peak nor poison a score. (v - v) is 0 for finite v and NaN otherwise. */
static inline float pd_finite_or_zero(float v) { return (v - v == 0.0f) ? v : 0.0f; }

static inline size_t pd_round_up(size_t n) { return (n + PD_ALIGN - 1) & ~(size_t)(PD_ALIGN - 1); }

/* A bump allocator over the caller's workspace, with a measuring mode (no
 * workspace): each stage lays its workspace out in one function, and its size
 * function runs that same function measuring, so size and layout cannot drift
 * apart. Takes are rounded up to PD_ALIGN, so a layout's size does not depend on
 * where the workspace starts once that is aligned. */
typedef struct {
    char *next;
    size_t left;   /* bytes left after next (real mode)                      */
    size_t used;   /* bytes taken so far, alignment included                  */
    int measuring; /* 1: nothing is handed out, takes are only counted        */
    int failed;    /* 1: a take did not fit                                   */
} pd_arena;

static inline void *pd_take(pd_arena *arena, size_t bytes) {
    size_t need = pd_round_up(bytes);
    arena->used += need;
    if (arena->measuring) return NULL;
    if (need > arena->left) {
        arena->failed = 1;
        return NULL;
    }
    void *p = arena->next;
    arena->next += need;
    arena->left -= need;
    return p;
}

static inline void pd_arena_init(pd_arena *arena, void *workspace, size_t size) {
    uintptr_t base = (uintptr_t)workspace;
    uintptr_t aligned = (base + PD_ALIGN - 1) & ~(uintptr_t)(PD_ALIGN - 1);
    size_t skip = (size_t)(aligned - base);
    arena->next = (char *)aligned;
    arena->left = (workspace && size > skip) ? size - skip : 0;
    arena->used = 0;
    arena->measuring = 0;
    arena->failed = 0;
}

static inline void pd_arena_measuring(pd_arena *arena) {
    arena->next = NULL;
    arena->left = 0;
    arena->used = 0;
    arena->measuring = 1;
    arena->failed = 0;
}

/* 1 when every take of a real layout fitted. */
static inline int pd_arena_ok(const pd_arena *arena) { return !arena->measuring && !arena->failed; }

/* The workspace a measured layout needs from any base address: what it took
 * plus the most that aligning the base can skip. */
static inline size_t pd_arena_size(const pd_arena *arena) { return arena->used + PD_ALIGN; }

/* A sub-workspace of `size` bytes for a function that lays out its own. */
typedef struct {
    void *base;
    size_t size;
} pd_block;

static inline pd_block pd_take_block(pd_arena *arena, size_t size) {
    pd_block block = {pd_take(arena, size), size};
    return block;
}

/* 1 when x comes before y in the decoder's order: score descending, then a, then b. */
static inline int pd_before(const pd_candidate *x, const pd_candidate *y) {
    if (x->score != y->score) return x->score > y->score;
    if (x->a != y->a) return x->a < y->a;
    return x->b < y->b;
}

/* Sorts by score descending, then a ascending, then b ascending: a total order,
 * so the result does not depend on the sort's stability. Heapsort: no
 * recursion and no allocation. Peaks reuse it with a = raster index. */
void pd_sort_candidates(pd_candidate *items, int n);

/* The same order for items that arrive sorted by (a, b): a stable radix sort on the
 * score, faster for long lists. `scratch` holds n items. */
void pd_sort_candidates_stable(pd_candidate *items, int n, pd_candidate *scratch);

/* The same order for items in any order: a radix sort on the score, then runs of
 * equal scores sorted by pd_sort_candidates; O(n) with few ties, where
 * pd_sort_candidates is O(n log n). Scores must not be NaN (pd_before is no order
 * on NaN). `scratch` holds n items. */
void pd_sort_candidates_any(pd_candidate *items, int n, pd_candidate *scratch);

/* Flush denormals to zero for the duration of a decode (x86 MXCSR is per
 * thread, so this is thread-safe); restores the caller's mode after. */
unsigned pd_enter_flush_denormals(void);
void pd_leave_flush_denormals(unsigned saved);

/* The five stages of pd_decode_frame, each in its own file, each reading the one
 * pd_params. The stage bindings of the Python module call them one by one. */

/* Stage 1 output: the peaks of every keypoint channel. Peaks are named by a
 * global index g = k * max_peaks + rank (rank within channel k, strongest first). */
typedef struct {
    int max_peaks;
    float *x, *y, *value; /* K * max_peaks, map cells                           */
    int32_t *count;       /* K: peaks kept per channel                          */
} pd_peak_set;

/* Stage 4 state: partial people built from connections. */
typedef struct {
    int num_keypoints;
    int capacity;         /* people that can be created                        */
    int total_peaks;      /* global peak indices: K * max_peaks                */
    int count;            /* people created, merged ones included              */
    int32_t *slots;       /* count x num_keypoints global peak index, or -1    */
    int32_t *keypoints;   /* per person: keypoints held, 0 once merged away    */
    int32_t *connections; /* per person: connections that built it            */
    double *evidence;     /* per person: peak values plus connection scores    */
    int32_t *owner;       /* per global peak: the person holding it, or -1     */
    int32_t *co_owner;    /* per global peak: a second person holding it, or -1 */
    /* For the limb prior's scales, kept up to date from what people take rather
     * than recomputed: (person, keypoint type) pairs taken since the prior last
     * ran, and how many people have a scale; grown is NULL when not tracked. */
    int32_t *grown;
    int num_grown, scaled;
} pd_people;

/* Room for every (person, type) pair one decode can take: each peak is taken at
 * most twice, and each merge moves at most num_keypoints of them. */
static inline size_t pd_people_growth_capacity(const pd_people *people) {
    return 2 * (size_t)people->total_peaks + (size_t)people->capacity * people->num_keypoints;
}

/* peaks.c: every channel's peaks into `peaks`; the total found, or a PD_ERR.
 * `workspace` holds pd_peaks_workspace_size(H, W, max_peaks) bytes. */
int pd_stage_peaks(const pd_params *params, const pd_fields *heatmaps, int num_keypoints,
                   const pd_peak_set *peaks, void *workspace, size_t workspace_size);

/* scoring.c: limb l's candidates, best first, capped at max_candidates (out has
 * room for max_peaks^2); 0 when an end has no peaks; or a PD_ERR. `workspace`
 * holds pd_score_workspace_size(H, W, paf_samples, max_peaks) bytes. */
int pd_stage_candidates(const pd_params *params, const pd_skeleton *s, const pd_fields *pafs,
                        int limb, const pd_peak_set *peaks, pd_candidate *out,
                        void *workspace, size_t workspace_size);

/* assignment.c: the connections params->assignment chooses among nc sorted
 * candidates between na and nb peaks; `workspace` holds
 * pd_assign_workspace_size(max_peaks) bytes. */
int pd_stage_connections(const pd_params *params, const pd_candidate *candidates, int nc,
                         int na, int nb, pd_candidate *out, void *workspace,
                         size_t workspace_size);

/* assembly.c: the people's layout over an arena (measuring or real) for
 * total_peaks peaks, and their reset to no one. */
void pd_people_layout(pd_people *people, int num_keypoints, int total_peaks, pd_arena *arena);
void pd_people_clear(pd_people *people);

/* assembly.c: limb l's nconn chosen connections join people, in order (with
 * rival_margin on, one with a near-tie rival among the nc candidates adds no
 * evidence); then, for a tree limb with shared_peak_score on, the sharing pass
 * over its candidates. best_of_a and best_of_b have room for max_peaks items each. */
void pd_stage_assemble_limb(const pd_params *params, pd_people *people, const pd_skeleton *s,
                            int limb, const pd_peak_set *peaks, const pd_candidate *candidates,
                            int nc, const pd_candidate *chosen, int nconn,
                            pd_candidate *best_of_a, pd_candidate *best_of_b);

/* assembly.c, the limb length prior (limb_length_prior in pafdecode.h), run
 * between scoring and assignment of limb l when it is on: penalises limb l's nc
 * candidates (best first) too long for the people holding their ends, and sorts
 * them again. `scale` has room for people->count doubles, `moved` for nc
 * candidates. Returns how many it penalised. */
int pd_stage_limb_prior(const pd_params *params, pd_people *people, const pd_skeleton *s,
                        int limb, const pd_peak_set *peaks, pd_candidate *candidates, int nc,
                        double *scale, pd_candidate *moved);

/* join.c: fragment joining (join_fragments in pafdecode.h) when it is on; PD_OK
 * or a PD_ERR. `workspace` holds pd_join_workspace_size(K, capacity, total) bytes
 * for people->capacity <= capacity. */
size_t pd_join_workspace_size(int num_keypoints, int capacity, int total_peaks);
int pd_stage_join(const pd_params *params, pd_people *people, const pd_skeleton *s,
                  const pd_peak_set *peaks, void *workspace, size_t workspace_size);

/* assembly.c, the output: writes the people that pass the filters, best score
 * first, in image pixels. `order` and `scratch` have room for people->count
 * items. Returns how many were written. */
int pd_people_emit(const pd_people *people, const pd_peak_set *peaks, const pd_params *params,
                   pd_candidate *order, pd_candidate *scratch, float *out_keypoints,
                   float *out_scores);

/* Gives peak g (of type k, value `value`) to person p, as its holder or, when
 * someone holds it already, its second holder. */
void pd_person_take(pd_people *people, int p, int k, int32_t g, float value);

/* Person `to` takes every keypoint, connection and bit of evidence of person
 * `from`, who is left empty, plus a connection of the given score between them
 * when `link` is set. They must hold no keypoint type in common. */
void pd_person_absorb(pd_people *people, int to, int from, int link, float score);

/* For keypoint types i and j two limbs apart over the limbs that are not redundant
 * (not neighbours, with a neighbour in common), middle[i * K + j] is that common
 * neighbour (i's first in limb order); -1 for every other pair. `adjacent` is
 * K * K bytes of scratch. */
void pd_tree_middles(const pd_skeleton *s, uint8_t *adjacent, int32_t *middle);

#endif
