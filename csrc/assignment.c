/* Stage 3: assignment. Chooses, per limb type, connections that use each peak
 * at most once: greedily by score, or with the maximum total score. */
#include <math.h>

#include "internal.h"

/* The solver's state: potentials u over rows and v over columns, each
 * column's least reduced cost minv, the row p matched to each column, the
 * augmenting path `way` and the columns used. 1-based: column 0 is the virtual
 * start of each search. */
typedef struct {
    double *u, *v, *minv;
    int32_t *p, *way;
    uint8_t *used;
    const double *cost;
    ptrdiff_t ld;
    int n, m, transposed;
} pd_lsa;

static void pd_lsa_layout(pd_lsa *s, int n, int m, pd_arena *arena) {
    s->u = pd_take(arena, ((size_t)n + 1) * sizeof(double));
    s->v = pd_take(arena, ((size_t)m + 1) * sizeof(double));
    s->minv = pd_take(arena, ((size_t)m + 1) * sizeof(double));
    s->p = pd_take(arena, ((size_t)m + 1) * sizeof(int32_t));
    s->way = pd_take(arena, ((size_t)m + 1) * sizeof(int32_t));
    s->used = pd_take(arena, (size_t)m + 1);
}

size_t pd_lsa_workspace_size(int rows, int cols) {
    if (rows < 0 || cols < 0) return 0;
    pd_lsa s;
    pd_arena arena;
    pd_arena_measuring(&arena);
    pd_lsa_layout(&s, rows < cols ? rows : cols, rows < cols ? cols : rows, &arena);
    return pd_arena_size(&arena);
}

/* cost of (row i, column j), 1-based, of the problem with rows the shorter side. */
static inline double pd_lsa_cost(const pd_lsa *s, int i, int j) {
    return s->transposed ? s->cost[(ptrdiff_t)(j - 1) * s->ld + (i - 1)]
                         : s->cost[(ptrdiff_t)(i - 1) * s->ld + (j - 1)];
}

/* One Dijkstra step from row i0 (reached through column j0): lowers each unused
 * column's minv, and returns the unused column of least minv (0 when none: only
 * non-finite costs get there), its value in *delta. */
static int pd_lsa_scan(pd_lsa *s, int i0, int j0, double *delta) {
    int j1 = 0;
    double best = INFINITY;
    for (int j = 1; j <= s->m; j++) {
        if (s->used[j]) continue;
        double cur = pd_lsa_cost(s, i0, j) - s->u[i0] - s->v[j];
        if (cur < s->minv[j]) {
            s->minv[j] = cur;
            s->way[j] = j0;
        }
        if (s->minv[j] < best) {
            best = s->minv[j];
            j1 = j;
        }
    }
    *delta = best;
    return j1;
}

/* Adds row i to the matching along a shortest augmenting path; PD_OK or a PD_ERR. */
static int pd_lsa_augment(pd_lsa *s, int i) {
    s->p[0] = i;
    int j0 = 0;
    for (int j = 0; j <= s->m; j++) {
        s->minv[j] = INFINITY;
        s->used[j] = 0;
    }
    do {
        s->used[j0] = 1;
        double delta;
        int j1 = pd_lsa_scan(s, s->p[j0], j0, &delta);
        if (j1 == 0) return PD_ERR_ARGUMENT;
        for (int j = 0; j <= s->m; j++) {
            if (s->used[j]) {
                s->u[s->p[j]] += delta;
                s->v[j] -= delta;
            } else {
                s->minv[j] -= delta;
            }
        }
        j0 = j1;
    } while (s->p[j0] != 0);
    do {
        int j1 = s->way[j0];
        s->p[j0] = s->p[j1];
        j0 = j1;
    } while (j0 != 0);
    return PD_OK;
}

/* The shortest augmenting path method with potentials (Kuhn-Munkres as
 * refined by Jonker and Volgenant), O(n^2 m) for n <= m. Rows are the shorter
 * side; a taller matrix is solved as its transpose. */
int pd_linear_sum_assignment(const double *cost, int rows, int cols, ptrdiff_t ld,
                             int32_t *col_of_row, void *workspace, size_t workspace_size) {
    if (rows < 0 || cols < 0 || (rows > 0 && cols > 0 && !cost)) return PD_ERR_ARGUMENT;
    for (int i = 0; i < rows; i++) col_of_row[i] = -1;
    if (rows == 0 || cols == 0) return PD_OK;
    pd_lsa s;
    s.transposed = rows > cols;
    s.n = s.transposed ? cols : rows;
    s.m = s.transposed ? rows : cols;
    s.cost = cost;
    s.ld = ld;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    pd_lsa_layout(&s, s.n, s.m, &arena);
    if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
    for (int i = 0; i <= s.n; i++) s.u[i] = 0.0;
    for (int j = 0; j <= s.m; j++) {
        s.v[j] = 0.0;
        s.p[j] = 0;
        s.way[j] = 0;
    }
    for (int i = 1; i <= s.n; i++) {
        int rc = pd_lsa_augment(&s, i);
        if (rc != PD_OK) return rc;
    }
    for (int j = 1; j <= s.m; j++) {
        if (s.p[j] == 0) continue;
        if (s.transposed)
            col_of_row[j - 1] = s.p[j] - 1;
        else
            col_of_row[s.p[j] - 1] = j - 1;
    }
    return PD_OK;
}

/* The optimal assignment's workspace for na x nb peaks and num candidates:
 * union-find and component bookkeeping over both sides, the candidates bucketed
 * by component, a dense block for the largest component, its solution, and the
 * solver's own workspace. */
typedef struct {
    int32_t *parent, *component_of, *member_of, *local, *start, *fill, *root_of, *grouped;
    int32_t *comp_rows, *comp_cols, *block_candidate, *solution;
    double *block;
    pd_block lsa;
} pd_optimal_ws;

static void pd_optimal_layout(pd_optimal_ws *w, int na, int nb, int num, pd_arena *arena) {
    const size_t nodes = (size_t)na + (size_t)nb, cells = (size_t)na * (size_t)nb;
    w->parent = pd_take(arena, nodes * sizeof(int32_t));
    w->component_of = pd_take(arena, nodes * sizeof(int32_t));
    w->member_of = pd_take(arena, nodes * sizeof(int32_t));
    w->local = pd_take(arena, nodes * sizeof(int32_t));
    w->start = pd_take(arena, (nodes + 1) * sizeof(int32_t));
    w->fill = pd_take(arena, (nodes + 1) * sizeof(int32_t));
    w->root_of = pd_take(arena, (size_t)num * sizeof(int32_t));
    w->grouped = pd_take(arena, (size_t)num * sizeof(int32_t));
    w->comp_rows = pd_take(arena, (size_t)na * sizeof(int32_t));
    w->comp_cols = pd_take(arena, (size_t)nb * sizeof(int32_t));
    w->block = pd_take(arena, cells * sizeof(double));
    w->block_candidate = pd_take(arena, cells * sizeof(int32_t));
    w->solution = pd_take(arena, (size_t)(na > nb ? na : nb) * sizeof(int32_t));
    w->lsa = pd_take_block(arena, pd_lsa_workspace_size(na, nb));
}

/* The greedy assignment's: a used flag per peak on each side. */
static void pd_greedy_layout(uint8_t **used_a, uint8_t **used_b, int na, int nb,
                             pd_arena *arena) {
    *used_a = pd_take(arena, (size_t)na);
    *used_b = pd_take(arena, (size_t)nb);
}

size_t pd_assign_workspace_size(int max_peaks) {
    const int side = max_peaks > 0 ? max_peaks : 0;
    pd_optimal_ws w;
    uint8_t *used_a, *used_b;
    pd_arena optimal, greedy;
    pd_arena_measuring(&optimal);
    pd_arena_measuring(&greedy);
    /* At most side x side candidates: one per pair. */
    pd_optimal_layout(&w, side, side, side * side, &optimal);
    pd_greedy_layout(&used_a, &used_b, side, side, &greedy);
    return pd_arena_size(&optimal) > pd_arena_size(&greedy) ? pd_arena_size(&optimal)
                                                            : pd_arena_size(&greedy);
}

static int pd_find_root(int32_t *parent, int i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static int pd_assign_greedy(const pd_candidate *cands, int num, int na, int nb,
                            pd_candidate *out, uint8_t *used_a, uint8_t *used_b) {
    int limit = na < nb ? na : nb, count = 0;
    for (int i = 0; i < na; i++) used_a[i] = 0;
    for (int j = 0; j < nb; j++) used_b[j] = 0;
    for (int c = 0; c < num && count < limit; c++) {
        if (used_a[cands[c].a] || used_b[cands[c].b]) continue;
        used_a[cands[c].a] = used_b[cands[c].b] = 1;
        out[count++] = cands[c];
    }
    return count;
}

/* Numbers the components of the candidate graph in the order of their best
 * candidate and buckets the candidates by component, keeping their order: one
 * pass, not one per component. Returns how many components. */
static int pd_components(const pd_candidate *cands, int num, int na, int nb, pd_optimal_ws *w) {
    int32_t *parent = w->parent, *component_of = w->component_of;
    for (int i = 0; i < na + nb; i++) {
        parent[i] = i;
        component_of[i] = -1;
        w->member_of[i] = -1;
    }
    for (int c = 0; c < num; c++) {
        int ra = pd_find_root(parent, cands[c].a);
        int rb = pd_find_root(parent, na + cands[c].b);
        if (ra != rb) parent[ra] = rb;
    }
    int components = 0;
    for (int c = 0; c < num; c++) {
        int root = pd_find_root(parent, cands[c].a);
        if (component_of[root] < 0) component_of[root] = components++;
        w->root_of[c] = component_of[root];
    }
    for (int k = 0; k <= components; k++) w->start[k] = 0;
    for (int c = 0; c < num; c++) w->start[w->root_of[c] + 1]++;
    for (int k = 0; k < components; k++) w->start[k + 1] += w->start[k];
    for (int k = 0; k < components; k++) w->fill[k] = w->start[k];
    for (int c = 0; c < num; c++) w->grouped[w->fill[w->root_of[c]]++] = c;
    return components;
}

/* Component k's optimal matching: flags its chosen candidates in w->root_of. */
static int pd_solve_component(const pd_candidate *cands, int na, int k, pd_optimal_ws *w) {
    const int32_t *members = w->grouped + w->start[k];
    const int size = w->start[k + 1] - w->start[k];
    int rows = 0, cols = 0;
    for (int m = 0; m < size; m++) {
        const pd_candidate *cand = &cands[members[m]];
        int a = cand->a, b = na + cand->b;
        if (w->member_of[a] != k) {
            w->member_of[a] = k;
            w->local[a] = rows;
            w->comp_rows[rows++] = cand->a;
        }
        if (w->member_of[b] != k) {
            w->member_of[b] = k;
            w->local[b] = cols;
            w->comp_cols[cols++] = cand->b;
        }
    }
    if (rows == 1 || cols == 1) {
        /* A star: the best edge wins, and it is the component's first. */
        w->root_of[members[0]] = 1;
        return PD_OK;
    }
    for (int q = 0; q < rows * cols; q++) w->block[q] = 0.0;
    for (int m = 0; m < size; m++) {
        const pd_candidate *cand = &cands[members[m]];
        ptrdiff_t at = (ptrdiff_t)w->local[cand->a] * cols + w->local[na + cand->b];
        w->block[at] = -(double)cand->score;
        w->block_candidate[at] = members[m];
    }
    int rc = pd_linear_sum_assignment(w->block, rows, cols, cols, w->solution, w->lsa.base,
                                      w->lsa.size);
    if (rc != PD_OK) return rc;
    for (int r = 0; r < rows; r++) {
        int col = w->solution[r];
        if (col < 0 || w->block[(ptrdiff_t)r * cols + col] == 0.0) continue;
        w->root_of[w->block_candidate[(ptrdiff_t)r * cols + col]] = 1;
    }
    return PD_OK;
}

/* The maximum-weight matching over the candidate graph. Non-candidates weigh
 * 0 and every candidate weighs more (scores are > 0), so the optimal full
 * assignment restricted to candidate edges is the optimal partial matching.
 * The candidate graph of a crowd falls apart into small connected components,
 * each solved on its own dense block: exact, and far cheaper than one
 * na x nb problem. */
static int pd_assign_optimal(const pd_candidate *cands, int num, int na, int nb,
                             pd_candidate *out, pd_arena *arena) {
    pd_optimal_ws w;
    pd_optimal_layout(&w, na, nb, num, arena);
    if (!pd_arena_ok(arena)) return PD_ERR_WORKSPACE;
    const int components = pd_components(cands, num, na, nb, &w);
    /* root_of is done with: it now flags the chosen candidates, so the output
     * comes out in the candidates' own order (score, a, b) without a sort. */
    for (int c = 0; c < num; c++) w.root_of[c] = 0;
    for (int k = 0; k < components; k++) {
        int rc = pd_solve_component(cands, na, k, &w);
        if (rc != PD_OK) return rc;
    }
    int count = 0;
    for (int c = 0; c < num; c++)
        if (w.root_of[c]) out[count++] = cands[c];
    return count;
}

int pd_assign_limb(const pd_candidate *candidates, int num_candidates, int na, int nb,
                   int mode, pd_candidate *out, void *workspace, size_t workspace_size) {
    if (num_candidates < 0 || na < 0 || nb < 0) return PD_ERR_ARGUMENT;
    if (num_candidates == 0) return 0;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    if (mode == PD_ASSIGN_GREEDY) {
        uint8_t *used_a, *used_b;
        pd_greedy_layout(&used_a, &used_b, na, nb, &arena);
        if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
        return pd_assign_greedy(candidates, num_candidates, na, nb, out, used_a, used_b);
    }
    if (mode == PD_ASSIGN_HUNGARIAN)
        return pd_assign_optimal(candidates, num_candidates, na, nb, out, &arena);
    return PD_ERR_ARGUMENT;
}

int pd_stage_connections(const pd_params *params, const pd_candidate *candidates, int nc,
                         int na, int nb, pd_candidate *out, void *workspace,
                         size_t workspace_size) {
    return pd_assign_limb(candidates, nc, na, nb, params->assignment, out, workspace,
                          workspace_size);
}
