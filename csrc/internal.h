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

/* A bump allocator over the caller's workspace. */
typedef struct {
    char *next;
    size_t left;
} pd_arena;

static inline void *pd_take(pd_arena *arena, size_t bytes) {
    size_t need = pd_round_up(bytes);
    if (need > arena->left) return NULL;
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
}

/* Sorts by score descending, then a ascending, then b ascending: a total order,
 * so the result does not depend on the sort's stability. Heapsort: no
 * recursion and no allocation. Peaks reuse it with a = raster index. */
void pd_sort_candidates(pd_candidate *items, int n);

/* The same order for items that arrive sorted by (a, b): a stable radix sort on the
 * score, faster for long lists. `scratch` holds n items. */
void pd_sort_candidates_stable(pd_candidate *items, int n, pd_candidate *scratch);

/* Flush denormals to zero for the duration of a decode (x86 MXCSR is per
 * thread, so this is thread-safe); restores the caller's mode after. */
unsigned pd_enter_flush_denormals(void);
void pd_leave_flush_denormals(unsigned saved);

/* Stage 4 state: partial people built from connections. Peaks are named by a
 * global index (the channel's offset plus the peak's rank in its channel). */
typedef struct {
    int num_keypoints;
    int capacity;         /* people that can be created                        */
    int count;            /* people created, merged ones included              */
    int32_t *slots;       /* count x num_keypoints global peak index, or -1    */
    int32_t *keypoints;   /* per person: keypoints held, 0 once merged away    */
    int32_t *connections; /* per person: connections that built it            */
    double *evidence;     /* per person: peak values plus connection scores    */
    int32_t *owner;       /* per global peak: the person holding it, or -1     */
    int32_t *co_owner;    /* per global peak: a second person holding it, or -1 */
    /* Merge vetoes from limbs beyond the tree; none unless the decoder sets them. */
    int num_vetoes;
    const int32_t *veto_kinds; /* 2 per veto limb: its two keypoint types         */
    const float *veto_scores;  /* per veto limb, stride x stride: the score of the
                                  candidate between peaks a and b (ranks within
                                  their channels), or -1                         */
    int veto_stride;           /* peaks per channel: global index = type * stride */
    float veto_min;            /* a merge needs candidates at least this good     */
} pd_people;

size_t pd_people_workspace_size(int num_keypoints, int total_peaks);
int pd_people_init(pd_people *people, int num_keypoints, int total_peaks, pd_arena *arena);

/* Adds one chosen connection of a limb from keypoint type ka to kb. */
void pd_people_connect(pd_people *people, int ka, int kb, int32_t ga, int32_t gb, float value_a,
                       float value_b, float score, int redundant);

/* Each end's best candidate among a limb's nc candidates (best first): for a
 * peak a < na, best_of_a[a]; for b < nb, best_of_b[b]; score -1 where none. */
void pd_best_candidates(const pd_candidate *candidates, int nc, int na, int nb,
                        pd_candidate *best_of_a, pd_candidate *best_of_b);

/* After a limb type's connections: shares peaks between people where two
 * keypoints merged into one (see shared_peak_score in pafdecode.h), from each
 * end's best candidate (pd_best_candidates) between peaks oa + a and ob + b. */
void pd_people_share(pd_people *people, int kb, int32_t oa, int32_t ob,
                     const pd_candidate *best_of_a, int na, const pd_candidate *best_of_b,
                     int nb, const float *peak_value, float min_score);

/* Merges the different people holding peaks ga (type ka) and gb (type kb) when
 * no person holds both and they have no keypoint type in common; otherwise
 * changes nothing. */
void pd_people_repair(pd_people *people, int ka, int kb, int32_t ga, int32_t gb, float value_a,
                      float value_b, float score);

/* Writes the people that pass the filters, best score first. `order` and
 * `scratch` have room for people->count items. Returns how many were written. */
int pd_people_emit(const pd_people *people, const float *peak_x, const float *peak_y,
                   const float *peak_value, const pd_params *params, pd_candidate *order,
                   pd_candidate *scratch, float *out_keypoints, float *out_scores);

/* Fragment joining (join_fragments in pafdecode.h), after assembly and repair.
 * Workspace from the arena: pd_join_workspace_size(K, people->count, K * max_peaks). */
size_t pd_join_workspace_size(int num_keypoints, int capacity, int total_peaks);
int pd_people_join_fragments(pd_people *people, const pd_skeleton *s, const float *peak_x,
                             const float *peak_y, const float *peak_value,
                             const int32_t *peak_count, int max_peaks, float margin,
                             pd_arena *arena);

/* For keypoint types i and j two limbs apart over the limbs that are not redundant
 * (not neighbours, with a neighbour in common), middle[i * K + j] is that common
 * neighbour (i's first in limb order); -1 for every other pair. `adjacent` is
 * K * K bytes of scratch. */
void pd_tree_middles(const pd_skeleton *s, uint8_t *adjacent, int32_t *middle);

#endif
