/* Stage 3: assignment. Chooses, per limb type, connections that use each peak
 * at most once: greedily by score, or with the maximum total score. */
#include <math.h>

#include "internal.h"

size_t pd_lsa_workspace_size(int rows, int cols) {
    if (rows < 0 || cols < 0) return 0;
    size_t n = (size_t)(rows < cols ? rows : cols) + 1;
    size_t m = (size_t)(rows < cols ? cols : rows) + 1;
    /* u over rows; v, minv over columns (double); p, way over columns; used. */
    return pd_round_up(n * sizeof(double)) + 2 * pd_round_up(m * sizeof(double)) +
           2 * pd_round_up(m * sizeof(int32_t)) + pd_round_up(m) + 7 * PD_ALIGN;
}

/* The shortest augmenting path method with potentials (Kuhn-Munkres as
 * refined by Jonker and Volgenant), O(n^2 m) for n <= m. Rows are the shorter
 * side; a taller matrix is solved as its transpose. */
int pd_linear_sum_assignment(const double *cost, int rows, int cols, ptrdiff_t ld,
                             int32_t *col_of_row, void *workspace, size_t workspace_size) {
    if (rows < 0 || cols < 0 || (rows > 0 && cols > 0 && !cost)) return PD_ERR_ARGUMENT;
    for (int i = 0; i < rows; i++) col_of_row[i] = -1;
    if (rows == 0 || cols == 0) return PD_OK;
    if (workspace_size < pd_lsa_workspace_size(rows, cols)) return PD_ERR_WORKSPACE;
    const int transposed = rows > cols;
    const int n = transposed ? cols : rows;
    const int m = transposed ? rows : cols;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    double *u = pd_take(&arena, (size_t)(n + 1) * sizeof(double));
    double *v = pd_take(&arena, (size_t)(m + 1) * sizeof(double));
    double *minv = pd_take(&arena, (size_t)(m + 1) * sizeof(double));
    int32_t *p = pd_take(&arena, (size_t)(m + 1) * sizeof(int32_t));
    int32_t *way = pd_take(&arena, (size_t)(m + 1) * sizeof(int32_t));
    uint8_t *used = pd_take(&arena, (size_t)(m + 1));
    if (!u || !v || !minv || !p || !way || !used) return PD_ERR_WORKSPACE;
    for (int i = 0; i <= n; i++) u[i] = 0.0;
    for (int j = 0; j <= m; j++) {
        v[j] = 0.0;
        p[j] = 0;
        way[j] = 0;
    }
    /* 1-based internally: column 0 is the virtual start of each search. */
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (int j = 1; j <= m; j++) {
                if (used[j]) continue;
                double a = transposed ? cost[(ptrdiff_t)(j - 1) * ld + (i0 - 1)]
                                      : cost[(ptrdiff_t)(i0 - 1) * ld + (j - 1)];
                double cur = a - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if (j1 == 0) return PD_ERR_ARGUMENT; /* only non-finite costs get here */
            for (int j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    for (int j = 1; j <= m; j++) {
        if (p[j] == 0) continue;
        if (transposed)
            col_of_row[j - 1] = p[j] - 1;
        else
            col_of_row[p[j] - 1] = j - 1;
    }
    return PD_OK;
}

size_t pd_assign_workspace_size(int max_peaks) {
    size_t peaks = (size_t)(max_peaks > 0 ? max_peaks : 0);
    size_t nodes = 2 * peaks;
    /* union-find and component bookkeeping over both sides, a dense block for
     * the largest component, its solution, and the solver's own workspace */
    return 4 * pd_round_up(nodes * sizeof(int32_t)) + 2 * pd_round_up((nodes + 1) * sizeof(int32_t)) +
           2 * pd_round_up(peaks * peaks * sizeof(int32_t)) +
           2 * pd_round_up(peaks * sizeof(int32_t) + 4) +
           pd_round_up(peaks * peaks * sizeof(double) + 8) +
           pd_round_up(peaks * peaks * sizeof(int32_t) + 4) + pd_round_up(peaks * sizeof(int32_t) + 4) +
           pd_lsa_workspace_size((int)peaks, (int)peaks) + 14 * PD_ALIGN;
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

/* The maximum-weight matching over the candidate graph. Non-candidates weigh
 * 0 and every candidate weighs more (scores are > 0), so the optimal full
 * assignment restricted to candidate edges is the optimal partial matching.
 * The candidate graph of a crowd falls apart into small connected components,
 * each solved on its own dense block: exact, and far cheaper than one
 * na x nb problem. */
static int pd_assign_optimal(const pd_candidate *cands, int num, int na, int nb,
                             pd_candidate *out, pd_arena *arena) {
    int nodes = na + nb;
    int32_t *parent = pd_take(arena, (size_t)nodes * sizeof(int32_t));
    int32_t *component_of = pd_take(arena, (size_t)nodes * sizeof(int32_t));
    int32_t *member_of = pd_take(arena, (size_t)nodes * sizeof(int32_t));
    int32_t *local = pd_take(arena, (size_t)nodes * sizeof(int32_t));
    int32_t *start = pd_take(arena, ((size_t)nodes + 1) * sizeof(int32_t));
    int32_t *fill = pd_take(arena, ((size_t)nodes + 1) * sizeof(int32_t));
    int32_t *root_of = pd_take(arena, (size_t)num * sizeof(int32_t));
    int32_t *grouped = pd_take(arena, (size_t)num * sizeof(int32_t));
    int32_t *comp_rows = pd_take(arena, (size_t)na * sizeof(int32_t) + 4);
    int32_t *comp_cols = pd_take(arena, (size_t)nb * sizeof(int32_t) + 4);
    double *block = pd_take(arena, (size_t)na * (size_t)nb * sizeof(double) + 8);
    int32_t *block_candidate = pd_take(arena, (size_t)na * (size_t)nb * sizeof(int32_t) + 4);
    int32_t *solution = pd_take(arena, (size_t)(na > nb ? na : nb) * sizeof(int32_t) + 4);
    size_t lsa_size = pd_lsa_workspace_size(na, nb);
    void *lsa_ws = pd_take(arena, lsa_size);
    if (!parent || !component_of || !member_of || !local || !start || !fill || !root_of ||
        !grouped || !comp_rows || !comp_cols || !block || !block_candidate || !solution ||
        !lsa_ws)
        return PD_ERR_WORKSPACE;

    for (int i = 0; i < nodes; i++) {
        parent[i] = i;
        component_of[i] = -1;
        member_of[i] = -1;
    }
    for (int c = 0; c < num; c++) {
        int ra = pd_find_root(parent, cands[c].a);
        int rb = pd_find_root(parent, na + cands[c].b);
        if (ra != rb) parent[ra] = rb;
    }
    /* Number the components in the order of their best candidate and bucket the
     * candidates by component, keeping their order: one pass, not one per component. */
    int components = 0;
    for (int c = 0; c < num; c++) {
        int root = pd_find_root(parent, cands[c].a);
        if (component_of[root] < 0) component_of[root] = components++;
        root_of[c] = component_of[root];
    }
    for (int k = 0; k <= components; k++) start[k] = 0;
    for (int c = 0; c < num; c++) start[root_of[c] + 1]++;
    for (int k = 0; k < components; k++) start[k + 1] += start[k];
    for (int k = 0; k < components; k++) fill[k] = start[k];
    for (int c = 0; c < num; c++) grouped[fill[root_of[c]]++] = c;

    /* root_of is done with: it now flags the chosen candidates, so the output
     * comes out in the candidates' own order (score, a, b) without a sort. */
    for (int c = 0; c < num; c++) root_of[c] = 0;
    for (int k = 0; k < components; k++) {
        const int32_t *members = grouped + start[k];
        const int size = start[k + 1] - start[k];
        int rows = 0, cols = 0;
        for (int m = 0; m < size; m++) {
            const pd_candidate *cand = &cands[members[m]];
            int a = cand->a, b = na + cand->b;
            if (member_of[a] != k) {
                member_of[a] = k;
                local[a] = rows;
                comp_rows[rows++] = cand->a;
            }
            if (member_of[b] != k) {
                member_of[b] = k;
                local[b] = cols;
                comp_cols[cols++] = cand->b;
            }
        }
        if (rows == 1 || cols == 1) {
            /* A star: the best edge wins, and it is the component's first. */
            root_of[members[0]] = 1;
            continue;
        }
        for (int q = 0; q < rows * cols; q++) block[q] = 0.0;
        for (int m = 0; m < size; m++) {
            const pd_candidate *cand = &cands[members[m]];
            ptrdiff_t at = (ptrdiff_t)local[cand->a] * cols + local[na + cand->b];
            block[at] = -(double)cand->score;
            block_candidate[at] = members[m];
        }
        int rc = pd_linear_sum_assignment(block, rows, cols, cols, solution, lsa_ws, lsa_size);
        if (rc != PD_OK) return rc;
        for (int r = 0; r < rows; r++) {
            int col = solution[r];
            if (col < 0 || block[(ptrdiff_t)r * cols + col] == 0.0) continue;
            root_of[block_candidate[(ptrdiff_t)r * cols + col]] = 1;
        }
    }
    int count = 0;
    for (int c = 0; c < num; c++)
        if (root_of[c]) out[count++] = cands[c];
    return count;
}

int pd_assign_limb(const pd_candidate *candidates, int num_candidates, int na, int nb,
                   int mode, pd_candidate *out, void *workspace, size_t workspace_size) {
    if (num_candidates < 0 || na < 0 || nb < 0) return PD_ERR_ARGUMENT;
    if (num_candidates == 0) return 0;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    if (mode == PD_ASSIGN_GREEDY) {
        uint8_t *used_a = pd_take(&arena, (size_t)na);
        uint8_t *used_b = pd_take(&arena, (size_t)nb);
        if (!used_a || !used_b) return PD_ERR_WORKSPACE;
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
