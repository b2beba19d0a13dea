/* Stage 3: assignment. Chooses, per limb type, connections that use each peak
 * at most once: greedily by score, or with the maximum total score. */
#include <float.h>
#include <math.h>

#include "internal.h"

/* Components whose shorter side has at least this many peaks try the sparse
 * solver first (pd_solve_component); below it the dense search with its shortcut
 * costs less. Callgrind, mean instructions per decode over five shrinking crowds of
 * 50 / 100 people with this at 8: 9.01 / 23.70 M, 16: 8.96 / 23.65 M, 24: 8.94 /
 * 23.64 M, 32: 8.93 / 23.65 M, 48: 8.93 / 23.69 M (at 0b53aa5; the dense solver
 * alone, 08c463f: 8.92 / 26.47 M). */
#define PD_SPARSE_MIN_SIDE 24

/* The solver's state: potentials u over rows and v over columns, each
 * column's least reduced cost minv, the row p matched to each column, the
 * augmenting path `way` and the columns used. 1-based: column 0 is the virtual
 * start of each search. */
typedef struct {
    double *u, *v, *minv;
    int32_t *p, *way;
    uint8_t *used;
    const double *cost;
    ptrdiff_t step_i, step_j; /* cost of (i, j), 1-based: cost[(i-1) step_i + (j-1) step_j] */
    int n, m, transposed;
    /* Optional (see pd_lsa_shortcut): per row i, the columns whose cost may be
     * non-zero, row_cols[row_start[i - 1] .. row_start[i]); and the columns whose v
     * ever changed, `moved` (flagged in moved_flag). */
    const int32_t *row_start, *row_cols;
    int32_t *moved;
    uint8_t *moved_flag;
    int num_moved;
} pd_lsa;

static void pd_lsa_layout(pd_lsa *s, int n, int m, pd_arena *arena) {
    s->u = pd_take(arena, ((size_t)n + 1) * sizeof(double));
    s->v = pd_take(arena, ((size_t)m + 1) * sizeof(double));
    s->minv = pd_take(arena, ((size_t)m + 1) * sizeof(double));
    s->p = pd_take(arena, ((size_t)m + 1) * sizeof(int32_t));
    s->way = pd_take(arena, ((size_t)m + 1) * sizeof(int32_t));
    s->used = pd_take(arena, (size_t)m + 1);
    s->moved = pd_take(arena, ((size_t)m + 1) * sizeof(int32_t));
    s->moved_flag = pd_take(arena, (size_t)m + 1);
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
    return s->cost[(ptrdiff_t)(i - 1) * s->step_i + (ptrdiff_t)(j - 1) * s->step_j];
}

/* One Dijkstra step from row i0 (reached through column j0): lowers each unused
 * column's minv, and returns the unused column of least minv (0 when none: only
 * non-finite costs get there), its value in *delta. First it finishes the step
 * before (whose delta was `last`, 0.0 before the first step): a used column's v
 * and its row's u, an unused column's minv, one pass over the columns instead of
 * two, each value's operations in the same order. j0, just marked used, was
 * unused in that step and gets nothing: its minv is never read again in this
 * search, and its row is not yet on the path (its u is what the scan reads).
 * Adding 0.0 changes nothing: potentials start at +0.0 and so never become -0.0. */
static int pd_lsa_scan(pd_lsa *s, int i0, int j0, double last, double *delta) {
    s->u[s->p[0]] += last;
    s->v[0] -= last;
    const double ui = s->u[i0];
    int j1 = 0;
    double best = INFINITY;
    for (int j = 1; j <= s->m; j++) {
        if (s->used[j]) {
            if (j != j0) {
                s->u[s->p[j]] += last;
                s->v[j] -= last;
            }
            continue;
        }
        s->minv[j] -= last;
        double cur = pd_lsa_cost(s, i0, j) - ui - s->v[j];
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

/* Adds row i to the matching along a shortest augmenting path; PD_OK or a PD_ERR.
 * Each step lowers the potentials of the path so far by its delta; that update
 * runs inside the next step's scan (pd_lsa_scan), the last one below. */
static int pd_lsa_augment(pd_lsa *s, int i) {
    s->p[0] = i;
    int j0 = 0;
    for (int j = 0; j <= s->m; j++) {
        s->minv[j] = INFINITY;
        s->used[j] = 0;
    }
    double delta = 0.0;
    do {
        s->used[j0] = 1;
        int j1 = pd_lsa_scan(s, s->p[j0], j0, delta, &delta);
        if (j1 == 0) return PD_ERR_ARGUMENT;
        j0 = j1;
    } while (s->p[j0] != 0);
    for (int j = 0; j <= s->m; j++) {
        if (s->used[j]) {
            s->u[s->p[j]] += delta;
            s->v[j] -= delta;
        }
    }
    /* The columns reached (column 0 aside, which is no real column) are those
     * whose v this search moved. */
    for (int j = 1; j <= s->m; j++) {
        if (s->used[j] && !s->moved_flag[j]) {
            s->moved_flag[j] = 1;
            s->moved[s->num_moved++] = j;
        }
    }
    do {
        int j1 = s->way[j0];
        s->p[j0] = s->p[j1];
        j0 = j1;
    } while (j0 != 0);
    return PD_OK;
}

/* Row i's augmentation when its first Dijkstra step ends it, done without
 * visiting every column; returns 1 when it did so, 0 when the full step must run
 * (nothing is changed then).
 *
 * Exactness. The first step of pd_lsa_augment computes, for every column j, the
 * reduced cost (c(i, j) - u[i]) - v[j] (minv starts infinite, so each becomes its
 * minv), picks the lowest-numbered column j1 of least value, and ends when j1 is
 * free (p[j1] == 0), having added delta (that value) to u[i] and taken it from
 * v[0]; the path is then j1 alone. A column whose cost is 0 and whose v never
 * changed (v[j] is still the 0.0 it started at) has the value (0.0 - u[i]) - 0.0,
 * the same for all of them. So when the least value over the other columns (row
 * i's listed ones and every column whose v moved, computed by the same
 * expression) is strictly below that common value, no unlisted unmoved column
 * can be j1 or tie with it, and the lowest-numbered column of least value among
 * the others is the step's j1. If it is free, the step's effects on u, v, p (the
 * only state that outlives an augmentation: minv and way are rewritten before
 * they are read again) are written here; otherwise the full step runs. */
static int pd_lsa_shortcut(pd_lsa *s, int i) {
    const double ui = s->u[i], rest = (0.0 - ui) - 0.0;
    double best = INFINITY;
    int j1 = 0;
    for (int pass = 0; pass < 2; pass++) {
        const int32_t *list = pass ? s->moved : s->row_cols + s->row_start[i - 1];
        const int count = pass ? s->num_moved : s->row_start[i] - s->row_start[i - 1];
        for (int q = 0; q < count; q++) {
            const int j = list[q];
            const double cur = pd_lsa_cost(s, i, j) - ui - s->v[j];
            if (cur < best || (cur == best && j < j1)) {
                best = cur;
                j1 = j;
            }
        }
    }
    if (!(best < rest) || s->p[j1] != 0) return 0;
    s->u[i] += best;
    s->v[0] -= best;
    s->p[0] = i;
    s->way[j1] = 0;
    s->p[j1] = i;
    return 1;
}

/* The solver over a laid-out pd_lsa (rows the shorter side), from zero
 * potentials; with s->row_start set, rows take pd_lsa_shortcut where it applies. */
static int pd_lsa_run(pd_lsa *s, int32_t *col_of_row, int rows) {
    for (int i = 0; i <= s->n; i++) s->u[i] = 0.0;
    for (int j = 0; j <= s->m; j++) {
        s->v[j] = 0.0;
        s->p[j] = 0;
        s->way[j] = 0;
        s->moved_flag[j] = 0;
    }
    s->num_moved = 0;
    for (int i = 1; i <= s->n; i++) {
        if (s->row_start && pd_lsa_shortcut(s, i)) continue;
        int rc = pd_lsa_augment(s, i);
        if (rc != PD_OK) return rc;
    }
    for (int i = 0; i < rows; i++) col_of_row[i] = -1;
    for (int j = 1; j <= s->m; j++) {
        if (s->p[j] == 0) continue;
        if (s->transposed)
            col_of_row[j - 1] = s->p[j] - 1;
        else
            col_of_row[s->p[j] - 1] = j - 1;
    }
    return PD_OK;
}

/* The solver on `cost` (rows x cols, row stride ld) with the rows' listed
 * columns (see pd_lsa_shortcut; NULL: none, every row takes the full search);
 * PD_OK or a PD_ERR. */
static int pd_lsa_solve(const double *cost, int rows, int cols, ptrdiff_t ld,
                        const int32_t *row_start, const int32_t *row_cols, int32_t *col_of_row,
                        void *workspace, size_t workspace_size) {
    pd_lsa s;
    s.transposed = rows > cols;
    s.n = s.transposed ? cols : rows;
    s.m = s.transposed ? rows : cols;
    s.cost = cost;
    s.step_i = s.transposed ? 1 : ld;
    s.step_j = s.transposed ? ld : 1;
    s.row_start = row_start;
    s.row_cols = row_cols;
    pd_arena arena;
    pd_arena_init(&arena, workspace, workspace_size);
    pd_lsa_layout(&s, s.n, s.m, &arena);
    if (!pd_arena_ok(&arena)) return PD_ERR_WORKSPACE;
    return pd_lsa_run(&s, col_of_row, rows);
}

/* The shortest augmenting path method with potentials (Kuhn-Munkres as
 * refined by Jonker and Volgenant), O(n^2 m) for n <= m. Rows are the shorter
 * side; a taller matrix is solved as its transpose. */
int pd_linear_sum_assignment(const double *cost, int rows, int cols, ptrdiff_t ld,
                             int32_t *col_of_row, void *workspace, size_t workspace_size) {
    if (rows < 0 || cols < 0 || (rows > 0 && cols > 0 && !cost)) return PD_ERR_ARGUMENT;
    for (int i = 0; i < rows; i++) col_of_row[i] = -1;
    if (rows == 0 || cols == 0) return PD_OK;
    return pd_lsa_solve(cost, rows, cols, ld, NULL, NULL, col_of_row, workspace, workspace_size);
}

/* The sparse solver (pd_sparse_solve): the same optimal assignment over the
 * candidate edges alone, in exact integer costs, for components too large for the
 * dense search to be cheap; it is used only where its answer is provably the
 * dense solver's (pd_solve_component).
 *
 * The problem. Rows 1..n and real columns 1..m as the dense block has them; row r
 * may take a listed column (cost -score, scaled to an integer) or its own column
 * m + r at cost 0 (being left unmatched, as the dense solver's zero cells leave
 * it). Columns are numbered 1..m+n, column 0 is the virtual start. Rows are added
 * one at a time along a shortest augmenting path (Dijkstra over the reduced costs
 * c - u[r] - v[j], which are >= 0 on every edge of the rows already added), the
 * same method as the dense solver; the integer potentials are exact. */
typedef struct {
    int64_t *u, *v, *dist;           /* u: (n + 1,); v, dist: (m + n + 1,)        */
    int32_t *p, *way, *state;        /* (m + n + 1,): row of a column, path, 0/1/2 */
    int32_t *frontier, *touched;     /* (m + n,): columns reached, not yet / ever  */
    int32_t *col_of, *stack_row, *stack_edge; /* (n + 1,): uniqueness check         */
    uint8_t *color, *reach;          /* (n + 1,)                                   */
    const int32_t *row_start, *row_cols; /* row r's columns: [row_start[r-1], row_start[r]) */
    const int64_t *row_cost;         /* their costs                                */
    int n, m;
} pd_sparse;

static void pd_sparse_layout(pd_sparse *s, int n, int m, pd_arena *arena) {
    const size_t cols = (size_t)n + (size_t)m + 1, rows = (size_t)n + 1;
    s->u = pd_take(arena, rows * sizeof(int64_t));
    s->v = pd_take(arena, cols * sizeof(int64_t));
    s->dist = pd_take(arena, cols * sizeof(int64_t));
    s->p = pd_take(arena, cols * sizeof(int32_t));
    s->way = pd_take(arena, cols * sizeof(int32_t));
    s->state = pd_take(arena, cols * sizeof(int32_t));
    s->frontier = pd_take(arena, cols * sizeof(int32_t));
    s->touched = pd_take(arena, cols * sizeof(int32_t));
    s->col_of = pd_take(arena, rows * sizeof(int32_t));
    s->stack_row = pd_take(arena, rows * sizeof(int32_t));
    s->stack_edge = pd_take(arena, rows * sizeof(int32_t));
    s->color = pd_take(arena, rows);
    s->reach = pd_take(arena, rows);
}

/* Row r's edge q (row_start[r-1] <= q <= row_start[r]; the last is its own
 * column m + r): the column in *j, the cost returned. */
static inline int64_t pd_sparse_edge(const pd_sparse *s, int r, int q, int *j) {
    if (q < s->row_start[r]) {
        *j = s->row_cols[q];
        return s->row_cost[q];
    }
    *j = s->m + r;
    return 0;
}

/* Dijkstra's relaxation of row r's edges, r reached at distance base through
 * column `from` (0: r is the row being added). */
static void pd_sparse_relax(pd_sparse *s, int r, int64_t base, int from, int *num_frontier,
                            int *num_touched) {
    const int64_t ur = s->u[r];
    for (int q = s->row_start[r - 1]; q <= s->row_start[r]; q++) {
        int j;
        const int64_t c = pd_sparse_edge(s, r, q, &j);
        if (s->state[j] == 2) continue;
        const int64_t d = base + (c - ur - s->v[j]);
        if (s->state[j] == 0) {
            s->state[j] = 1;
            s->frontier[(*num_frontier)++] = j;
            s->touched[(*num_touched)++] = j;
        } else if (d >= s->dist[j]) {
            continue;
        }
        s->dist[j] = d;
        s->way[j] = from;
    }
}

/* Adds row i along a shortest augmenting path. Its own column m + i is free, so
 * the search always ends. */
static void pd_sparse_augment(pd_sparse *s, int i) {
    int num_frontier = 0, num_touched = 0, end;
    s->p[0] = i;
    pd_sparse_relax(s, i, 0, 0, &num_frontier, &num_touched);
    for (;;) {
        int best = 0;
        for (int q = 1; q < num_frontier; q++) {
            const int j = s->frontier[q], k = s->frontier[best];
            if (s->dist[j] < s->dist[k] || (s->dist[j] == s->dist[k] && j < k)) best = q;
        }
        const int j = s->frontier[best];
        s->frontier[best] = s->frontier[--num_frontier];
        s->state[j] = 2;
        if (s->p[j] == 0) {
            end = j;
            break;
        }
        pd_sparse_relax(s, s->p[j], s->dist[j], j, &num_frontier, &num_touched);
    }
    /* Potentials: every column settled before the end, and its row, move by how
     * much nearer it is than the end; that keeps reduced costs >= 0 and makes the
     * path's edges tight. */
    const int64_t total = s->dist[end];
    s->u[i] += total;
    for (int q = 0; q < num_touched; q++) {
        const int j = s->touched[q];
        if (s->state[j] == 2 && j != end) {
            s->u[s->p[j]] += total - s->dist[j];
            s->v[j] -= total - s->dist[j];
        }
        s->state[j] = 0;
    }
    for (int j = end; j != 0;) {
        const int prev = s->way[j];
        s->p[j] = s->p[prev];
        j = prev;
    }
}

/* 1 when the assignment found is the only optimal one, 0 when another exists.
 *
 * Argument. (u, v) is an optimal dual: reduced costs >= 0, 0 on the assignment's
 * edges, v <= 0, and v = 0 on the free columns (a column is touched only once it
 * is matched, and a matched column stays matched). By complementary slackness,
 * another assignment is optimal exactly when it uses tight edges only and leaves
 * no column of v < 0 free. Its difference with ours is then a set of alternating
 * cycles of tight edges, or paths that start at a matched column of v = 0 (which
 * it frees) and end, through a tight edge, at a free column. So on the graph of
 * rows with r -> r' when r has a tight edge to the column matched to r', the
 * assignment is unique iff that graph has no cycle and no row matched to a column
 * of v = 0 reaches a row with a tight edge to a free column. A depth-first
 * search decides both. */
static int pd_sparse_unique(pd_sparse *s) {
    for (int j = 1; j <= s->m + s->n; j++)
        if (s->p[j] != 0) s->col_of[s->p[j]] = j;
    for (int r = 1; r <= s->n; r++) s->color[r] = s->reach[r] = 0;
    for (int root = 1; root <= s->n; root++) {
        if (s->color[root]) continue;
        int top = 0;
        s->color[root] = 1;
        s->stack_row[top] = root;
        s->stack_edge[top++] = s->row_start[root - 1];
        while (top > 0) {
            const int r = s->stack_row[top - 1], q = s->stack_edge[top - 1];
            if (q > s->row_start[r]) {
                s->color[r] = 2;
                if (--top > 0 && s->reach[r]) s->reach[s->stack_row[top - 1]] = 1;
                continue;
            }
            s->stack_edge[top - 1] = q + 1;
            int j;
            const int64_t c = pd_sparse_edge(s, r, q, &j);
            if (j == s->col_of[r] || c - s->u[r] - s->v[j] != 0) continue;
            const int next = s->p[j];
            if (next == 0) {
                s->reach[r] = 1;
            } else if (s->color[next] == 1) {
                return 0;
            } else if (s->color[next] == 2) {
                s->reach[r] |= s->reach[next];
            } else {
                s->color[next] = 1;
                s->stack_row[top] = next;
                s->stack_edge[top++] = s->row_start[next - 1];
            }
        }
    }
    for (int r = 1; r <= s->n; r++)
        if (s->reach[r] && s->v[s->col_of[r]] == 0) return 0;
    return 1;
}

/* The assignment of the n x m problem listed in row_start / row_cols / row_cost
 * (1-based columns); 1 with p (the row of each real column, 0 if free) set when it
 * is the only optimal one, 0 when not, or when a row lists a column twice (the
 * dense block keeps the last of those, a different problem). */
static int pd_sparse_solve(pd_sparse *s) {
    for (int i = 0; i <= s->n; i++) s->u[i] = 0;
    for (int j = 0; j <= s->m + s->n; j++) {
        s->v[j] = 0;
        s->p[j] = 0;
        s->state[j] = 0;
    }
    int repeated = 0;
    for (int r = 1; r <= s->n; r++) {
        for (int q = s->row_start[r - 1]; q < s->row_start[r]; q++) {
            repeated |= s->state[s->row_cols[q]] == r;
            s->state[s->row_cols[q]] = r;
        }
    }
    for (int j = 1; j <= s->m; j++) s->state[j] = 0;
    if (repeated) return 0;
    for (int i = 1; i <= s->n; i++) pd_sparse_augment(s, i);
    return pd_sparse_unique(s);
}

/* The optimal assignment's workspace for na x nb peaks and num candidates:
 * union-find and component bookkeeping over both sides, the candidates bucketed
 * by component, a dense block for the largest component, its solution, and the
 * solver's own workspace. */
typedef struct {
    int32_t *parent, *component_of, *member_of, *local, *start, *fill, *root_of, *grouped;
    int32_t *comp_rows, *comp_cols, *block_candidate, *solution, *row_start, *row_cols;
    int32_t *row_member; /* the candidate of each row_cols entry */
    int64_t *row_cost;   /* its exact integer cost, for the sparse solver */
    double *block;
    pd_block lsa;
    pd_sparse sparse;
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
    w->row_start = pd_take(arena, ((size_t)(na > nb ? na : nb) + 1) * sizeof(int32_t));
    w->row_cols = pd_take(arena, (size_t)num * sizeof(int32_t));
    w->row_member = pd_take(arena, (size_t)num * sizeof(int32_t));
    w->row_cost = pd_take(arena, (size_t)num * sizeof(int64_t));
    w->lsa = pd_take_block(arena, pd_lsa_workspace_size(na, nb));
    pd_sparse_layout(&w->sparse, na < nb ? na : nb, na < nb ? nb : na, arena);
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

/* Component k's candidates as the solver's rows (the shorter side of its rows x
 * cols block) list them: w->row_start, w->row_cols (1-based columns) and
 * w->row_member; with a `unit` (> 0, see pd_exact_unit), w->row_cost too. */
static void pd_solver_rows(const pd_candidate *cands, int na, int k, int rows, int cols,
                           double unit, pd_optimal_ws *w) {
    const int32_t *members = w->grouped + w->start[k];
    const int size = w->start[k + 1] - w->start[k], transposed = rows > cols;
    const int n = transposed ? cols : rows;
    for (int i = 0; i <= n; i++) w->row_start[i] = 0;
    for (int m = 0; m < size; m++) {
        const pd_candidate *cand = &cands[members[m]];
        int r = w->local[cand->a], c = w->local[na + cand->b];
        w->row_start[(transposed ? c : r) + 1]++;
    }
    for (int i = 0; i < n; i++) w->row_start[i + 1] += w->row_start[i];
    for (int m = 0; m < size; m++) {
        const pd_candidate *cand = &cands[members[m]];
        int r = w->local[cand->a], c = w->local[na + cand->b];
        int row = transposed ? c : r;
        /* row_start[row] counts the row's entries placed so far; shifted back below */
        const int q = w->row_start[row]++;
        w->row_cols[q] = (transposed ? r : c) + 1;
        w->row_member[q] = members[m];
        if (unit > 0.0) w->row_cost[q] = -(int64_t)((double)cand->score * unit);
    }
    for (int i = n; i > 0; i--) w->row_start[i] = w->row_start[i - 1];
    w->row_start[0] = 0;
}

/* The power of two by which component k's scores become exact integer costs for
 * the sparse solver, or 0 when they cannot: every score positive and finite, the
 * unit making the least one's last bit (so every score's, all being >= it) 1, and
 * the largest below 2^50 units. Then the dense solver too computes exactly (see
 * pd_solve_component). A product by a power of two is exact. */
static double pd_exact_unit(const pd_candidate *cands, const int32_t *members, int size) {
    float least = INFINITY, most = 0.0f;
    for (int m = 0; m < size; m++) {
        const float score = cands[members[m]].score;
        if (!(score > 0.0f && score <= FLT_MAX)) return 0.0;
        least = score < least ? score : least;
        most = score > most ? score : most;
    }
    int exponent;
    frexp((double)least, &exponent); /* least in [2^(exponent-1), 2^exponent) */
    const double unit = ldexp(1.0, 24 - exponent); /* 2^-104 .. 2^172: a double */
    return (double)most * unit < 0x1p50 ? unit : 0.0;
}

/* The sparse solver on component k (listed by pd_solver_rows with a unit): flags
 * its chosen candidates and returns 1 when its assignment is the only optimal
 * one, else 0 (nothing flagged). */
static int pd_sparse_component(const int32_t *row_start, int n, int m, pd_optimal_ws *w) {
    pd_sparse *s = &w->sparse;
    s->n = n;
    s->m = m;
    s->row_start = row_start;
    s->row_cols = w->row_cols;
    s->row_cost = w->row_cost;
    if (!pd_sparse_solve(s)) return 0;
    for (int j = 1; j <= m; j++) {
        const int r = s->p[j];
        if (r == 0) continue;
        for (int q = row_start[r - 1]; q < row_start[r]; q++)
            if (w->row_cols[q] == j) w->root_of[w->row_member[q]] = 1;
    }
    return 1;
}

/* Component k's optimal matching: flags its chosen candidates in w->root_of.
 *
 * Large components take the sparse solver when its answer is the dense one's.
 * Under pd_exact_unit (costs c in [-M, 0], M the largest score, below 2^50 units)
 * every value the dense solver computes is a multiple of the unit within 4 M, so
 * below 2^52 units and exact. Between searches, with a free column f (there is
 * one while rows are added, rows being the shorter side), each added row has
 * u <= c(i, f) - v(f) = c(i, f) <= 0, so v = c - u >= c >= -M on its column, and
 * v <= 0 (v only falls): u, v in [-M, 0]. In a search from row i0 the first delta
 * is c - v >= -M, the rest are >= 0, and their sum stays <= c(i0, f) <= 0: every
 * partial sum lies in [-M, 0]. So a row on the path has u in [-M, M], a column
 * v in [-2M, 0], a reduced cost c - u - v lies in [-2M, 3M], and minv (lowered by
 * the deltas, the first of which may be negative) in [-M, 4M]. The dense solver
 * then finds an optimal assignment, whose candidate edges are a maximum-weight
 * matching. When that matching is unique (pd_sparse_unique), both solvers give
 * it. */
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
    const int short_side = rows < cols ? rows : cols, long_side = rows < cols ? cols : rows;
    const double unit =
        short_side >= PD_SPARSE_MIN_SIDE ? pd_exact_unit(cands, members, size) : 0.0;
    pd_solver_rows(cands, na, k, rows, cols, unit, w);
    if (unit > 0.0 && pd_sparse_component(w->row_start, short_side, long_side, w))
        return PD_OK;
    for (int q = 0; q < rows * cols; q++) w->block[q] = 0.0;
    for (int m = 0; m < size; m++) {
        const pd_candidate *cand = &cands[members[m]];
        ptrdiff_t at = (ptrdiff_t)w->local[cand->a] * cols + w->local[na + cand->b];
        w->block[at] = -(double)cand->score;
        w->block_candidate[at] = members[m];
    }
    /* The dense solver's assignment, ties included (pd_lsa_shortcut): the rows
     * list the columns of their candidates, every other cost is 0. */
    int rc = pd_lsa_solve(w->block, rows, cols, cols, w->row_start, w->row_cols, w->solution,
                          w->lsa.base, w->lsa.size);
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
