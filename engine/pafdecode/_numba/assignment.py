"""assignment.c: which candidate limbs become connections, greedily by score or as
the maximum-weight matching of each connected component (the same union-find,
component gathering, dense blocks and shortest augmenting path solver as C, so
ties resolve identically; large components first try the same sparse solver, kept
only where its optimum is unique). The optimal assignment gathers each component's
candidates in one pass instead of rescanning the list."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .fp import FMAX, PD_ERR_ARGUMENT, PD_OK, inline, jit
from .sort import Cands, sort_candidates

GREEDY = 0
HUNGARIAN = 1
SPARSE_MIN_SIDE = 24  # assignment.c's PD_SPARSE_MIN_SIDE

# The shortest augmenting path solver's scratch (pd_linear_sum_assignment), with the
# columns whose v ever moved (`moved`, flagged in moved_flag) for pd_lsa_shortcut.
LsaWork = namedtuple("LsaWork", ["u", "v", "minv", "p", "way", "used", "moved", "moved_flag"])

# Scratch of one limb type's assignment over at most mp peaks a side: greedy's used
# marks, the optimal assignment's union-find (parent), component membership and
# local indices per node, a component's rows and columns, its dense block and
# solution, per candidate its root and the next candidate of its component, the
# solver rows' lists (columns, candidates, exact costs) and the sparse solver's scratch.
AssignWork = namedtuple("AssignWork", [
    "used_a", "used_b", "parent", "member_of", "local", "comp_rows", "comp_cols",
    "block", "solution", "lsa", "root_of", "next_of", "head", "row_start", "row_cols",
    "row_member", "row_cost", "sparse"])


@jit
def lsa_work(rows, cols):
    n = min(rows, cols) + 1
    m = max(rows, cols) + 1
    return LsaWork(np.empty(n, np.float64), np.empty(m, np.float64), np.empty(m, np.float64),
                   np.empty(m, np.int32), np.empty(m, np.int32), np.empty(m, np.uint8),
                   np.empty(m, np.int32), np.empty(m, np.uint8))


@jit
def assign_work(na, nb, num, optimal):
    """Scratch for limbs of up to na x nb peaks and num candidates; only greedy's
    when not `optimal` (allocation is much of a small frame's cost)."""
    nodes = na + nb
    big = na * nb if optimal else 0
    many = num if optimal else 0
    return AssignWork(np.empty(na, np.uint8), np.empty(nb, np.uint8),
                      np.empty(nodes, np.int32), np.empty(nodes, np.int32),
                      np.empty(nodes, np.int32), np.empty(na, np.int32),
                      np.empty(nb, np.int32), np.empty(max(min(big, 4096), 1), np.float64),
                      np.empty(max(na, nb), np.int32), lsa_work(na, nb),
                      np.empty(many, np.int32), np.empty(many, np.int32),
                      np.empty(nodes, np.int32), np.empty(max(na, nb) + 1, np.int32),
                      np.empty(many, np.int32), np.empty(many, np.int32),
                      np.empty(many, np.int64),
                      sparse_work(na, nb) if optimal else sparse_work(0, 0))


@jit
def _grown(w, rows, cols, num):
    """`w` with a block of rows * cols and per-candidate room for num."""
    if rows * cols <= w.block.shape[0] and num <= w.root_of.shape[0]:
        return w
    block = w.block if rows * cols <= w.block.shape[0] else np.empty(rows * cols, np.float64)
    root_of = w.root_of
    next_of = w.next_of
    row_cols, row_member, row_cost = w.row_cols, w.row_member, w.row_cost
    if num > root_of.shape[0]:
        root_of = np.empty(num, np.int32)
        next_of = np.empty(num, np.int32)
        row_cols = np.empty(num, np.int32)
        row_member = np.empty(num, np.int32)
        row_cost = np.empty(num, np.int64)
    return AssignWork(w.used_a, w.used_b, w.parent, w.member_of, w.local, w.comp_rows,
                      w.comp_cols, block, w.solution, w.lsa, root_of, next_of, w.head,
                      w.row_start, row_cols, row_member, row_cost, w.sparse)


@inline
def _cost(cost, ld, transposed, i, j):
    return cost[j * ld + i] if transposed else cost[i * ld + j]


@inline
def _augment(cost, ld, transposed, m, i, u, v, minv, p, way, used, moved, moved_flag,
             num_moved):
    """One row of the shortest augmenting path solver: (PD_OK, or PD_ERR_ARGUMENT
    when no column can take it (infinite costs); the columns in `moved` now)."""
    p[0] = i
    j0 = 0
    for j in range(m + 1):
        minv[j] = np.inf
        used[j] = 0
    while True:
        used[j0] = 1
        i0 = p[j0]
        j1 = 0
        delta = np.inf
        for j in range(1, m + 1):
            if used[j] != 0:
                continue
            cur = _cost(cost, ld, transposed, i0 - 1, j - 1) - u[i0] - v[j]
            if cur < minv[j]:
                minv[j] = cur
                way[j] = j0
            if minv[j] < delta:
                delta = minv[j]
                j1 = j
        if j1 == 0:
            return PD_ERR_ARGUMENT, num_moved
        for j in range(m + 1):
            if used[j] != 0:
                u[p[j]] += delta
                v[j] -= delta
            else:
                minv[j] -= delta
        j0 = j1
        if p[j0] == 0:
            break
    # The columns reached (column 0 aside, no real column): those whose v moved.
    for j in range(1, m + 1):
        if used[j] != 0 and moved_flag[j] == 0:
            moved_flag[j] = 1
            moved[num_moved] = j
            num_moved += 1
    while True:
        j1 = way[j0]
        p[j0] = p[j1]
        j0 = j1
        if j0 == 0:
            return PD_OK, num_moved


@inline
def _shortcut(cost, ld, transposed, i, u, v, p, way, row_start, row_cols, moved, num_moved):
    """pd_lsa_shortcut: row i's augmentation when its first step ends it, from its
    listed columns and the moved ones alone (exact: see assignment.c); False when
    the full step must run (nothing changed)."""
    ui = u[i]
    rest = (0.0 - ui) - 0.0
    best = np.inf
    j1 = 0
    for q in range(row_start[i - 1], row_start[i]):
        j = row_cols[q]
        cur = _cost(cost, ld, transposed, i - 1, j - 1) - ui - v[j]
        if cur < best or (cur == best and j < j1):
            best = cur
            j1 = j
    for q in range(num_moved):
        j = moved[q]
        cur = _cost(cost, ld, transposed, i - 1, j - 1) - ui - v[j]
        if cur < best or (cur == best and j < j1):
            best = cur
            j1 = j
    if not (best < rest) or p[j1] != 0:
        return False
    u[i] += best
    v[0] -= best
    p[0] = i
    way[j1] = 0
    p[j1] = i
    return True


@jit
def lsa(cost, rows, cols, ld, col_of_row, u, v, minv, p, way, used, moved, moved_flag,
        row_start, row_cols, sparse):
    """pd_linear_sum_assignment on a flat row-major float64 cost with row stride ld
    (with `sparse`, pd_lsa_sparse: row_start / row_cols list the solver rows'
    non-zero columns); u .. moved_flag the solver's scratch (LsaWork), passed as
    arrays: a call counts a reference to every array of a tuple it is passed, which
    costs as much as a small component's solve."""
    for i in range(rows):
        col_of_row[i] = -1
    if rows == 0 or cols == 0:
        return PD_OK
    transposed = rows > cols
    n = cols if transposed else rows
    m = rows if transposed else cols
    u[:n + 1] = 0.0
    v[:m + 1] = 0.0
    p[:m + 1] = 0
    way[:m + 1] = 0
    moved_flag[:m + 1] = 0
    num_moved = 0
    for i in range(1, n + 1):
        if sparse and _shortcut(cost, ld, transposed, i, u, v, p, way, row_start, row_cols,
                                moved, num_moved):
            continue
        rc, num_moved = _augment(cost, ld, transposed, m, i, u, v, minv, p, way, used, moved,
                                 moved_flag, num_moved)
        if rc != PD_OK:
            return PD_ERR_ARGUMENT
    for j in range(1, m + 1):
        if p[j] == 0:
            continue
        if transposed:
            col_of_row[j - 1] = p[j] - 1
        else:
            col_of_row[p[j] - 1] = j - 1
    return PD_OK


@jit
def lsa_entry(cost):
    rows, cols = cost.shape
    col_of_row = np.full(rows, -1, np.int32)
    if rows == 0 or cols == 0:
        return PD_OK, col_of_row
    dense = np.empty(rows * cols, np.float64)
    for i in range(rows):
        for j in range(cols):
            dense[i * cols + j] = cost[i, j]
    u, v, minv, p, way, used, moved, moved_flag = lsa_work(rows, cols)
    none = np.empty(1, np.int32)
    rc = lsa(dense, rows, cols, cols, col_of_row, u, v, minv, p, way, used, moved, moved_flag,
             none, none, False)
    return rc, col_of_row


@jit
def sparse_work(rows, cols):
    """pd_sparse's scratch for up to rows x cols: int32 rows p, way, state, frontier,
    touched, col_of, stack_row, stack_edge; int64 rows u, v, dist; uint8 rows color,
    reach (three arrays, not thirteen: see _solve_component)."""
    c = rows + cols + 1
    return (np.empty((8, c), np.int32), np.empty((3, c), np.int64),
            np.empty((2, c), np.uint8))


@inline
def _sparse_edge(row_start, row_cols, row_cost, m, r, q):
    """pd_sparse_edge: row r's edge q as (column, cost); the last is column m + r."""
    if q < row_start[r]:
        return np.int64(row_cols[q]), row_cost[q]
    return np.int64(m + r), np.int64(0)


@inline
def _sparse_relax(row_start, row_cols, row_cost, m, r, base, source, u, v, dist, way, state,
                  frontier, touched, num_frontier, num_touched):
    """pd_sparse_relax: (num_frontier, num_touched) after relaxing row r's edges."""
    ur = u[r]
    for q in range(row_start[r - 1], row_start[r] + 1):
        j, c = _sparse_edge(row_start, row_cols, row_cost, m, r, q)
        if state[j] == 2:
            continue
        d = base + (c - ur - v[j])
        if state[j] == 0:
            state[j] = 1
            frontier[num_frontier] = j
            num_frontier += 1
            touched[num_touched] = j
            num_touched += 1
        elif d >= dist[j]:
            continue
        dist[j] = d
        way[j] = source
    return num_frontier, num_touched


@jit
def _sparse_augment(row_start, row_cols, row_cost, m, i, u, v, dist, p, way, state, frontier,
                    touched):
    """pd_sparse_augment: row i added along a shortest augmenting path."""
    p[0] = i
    num_frontier, num_touched = _sparse_relax(row_start, row_cols, row_cost, m, i,
                                              np.int64(0), 0, u, v, dist, way, state,
                                              frontier, touched, 0, 0)
    while True:
        best = 0
        for q in range(1, num_frontier):
            j = frontier[q]
            k = frontier[best]
            if dist[j] < dist[k] or (dist[j] == dist[k] and j < k):
                best = q
        end = frontier[best]
        num_frontier -= 1
        frontier[best] = frontier[num_frontier]
        state[end] = 2
        if p[end] == 0:
            break
        num_frontier, num_touched = _sparse_relax(row_start, row_cols, row_cost, m, p[end],
                                                  dist[end], end, u, v, dist, way, state,
                                                  frontier, touched, num_frontier,
                                                  num_touched)
    total = dist[end]
    u[i] += total
    for q in range(num_touched):
        j = touched[q]
        if state[j] == 2 and j != end:
            u[p[j]] += total - dist[j]
            v[j] -= total - dist[j]
        state[j] = 0
    j = end
    while j != 0:
        prev = way[j]
        p[j] = p[prev]
        j = prev


@jit
def _sparse_unique(row_start, row_cols, row_cost, n, m, u, v, p, col_of, stack_row,
                   stack_edge, color, reach):
    """pd_sparse_unique: whether the assignment found is the only optimal one (the
    argument is in assignment.c)."""
    for j in range(1, m + n + 1):
        if p[j] != 0:
            col_of[p[j]] = j
    color[:n + 1] = 0
    reach[:n + 1] = 0
    for root in range(1, n + 1):
        if color[root] != 0:
            continue
        top = 0
        color[root] = 1
        stack_row[top] = root
        stack_edge[top] = row_start[root - 1]
        top += 1
        while top > 0:
            r = stack_row[top - 1]
            q = stack_edge[top - 1]
            if q > row_start[r]:
                color[r] = 2
                top -= 1
                if top > 0 and reach[r] != 0:
                    reach[stack_row[top - 1]] = 1
                continue
            stack_edge[top - 1] = q + 1
            j, c = _sparse_edge(row_start, row_cols, row_cost, m, r, q)
            if j == col_of[r] or c - u[r] - v[j] != 0:
                continue
            following = p[j]
            if following == 0:
                reach[r] = 1
            elif color[following] == 1:
                return False
            elif color[following] == 2:
                reach[r] |= reach[following]
            else:
                color[following] = 1
                stack_row[top] = following
                stack_edge[top] = row_start[following - 1]
                top += 1
    for r in range(1, n + 1):
        if reach[r] != 0 and v[col_of[r]] == 0:
            return False
    return True


@jit
def _sparse_solve(row_start, row_cols, row_cost, n, m, ints, longs, flags):
    """pd_sparse_solve on the scratch of sparse_work: True with ints[0] (p) the row of
    each real column when the assignment is the only optimal one; False too when a
    row lists a column twice."""
    p, way, state, frontier, touched = ints[0], ints[1], ints[2], ints[3], ints[4]
    u, v, dist = longs[0], longs[1], longs[2]
    u[:n + 1] = 0
    v[:m + n + 1] = 0
    p[:m + n + 1] = 0
    state[:m + n + 1] = 0
    repeated = False
    for r in range(1, n + 1):
        for q in range(row_start[r - 1], row_start[r]):
            repeated |= state[row_cols[q]] == r
            state[row_cols[q]] = r
    state[:m + 1] = 0
    if repeated:
        return False
    for i in range(1, n + 1):
        _sparse_augment(row_start, row_cols, row_cost, m, i, u, v, dist, p, way, state,
                        frontier, touched)
    return _sparse_unique(row_start, row_cols, row_cost, n, m, u, v, p, ints[5], ints[6],
                          ints[7], flags[0], flags[1])


@jit
def _emit_sparse(c_s, c_a, c_b, row_start, row_cols, row_member, p, m, out_s, out_a, out_b,
                 count):
    """pd_sparse_component's flagging: the candidate of each matched real column
    (p, from _sparse_solve) appended to out; the new count."""
    for j in range(1, m + 1):
        r = p[j]
        if r == 0:
            continue
        for q in range(row_start[r - 1], row_start[r]):
            if row_cols[q] == j:
                c = row_member[q]
                count = _emit(out_s, out_a, out_b, count, c_s[c], c_a[c], c_b[c])
    return count


@jit
def _exact_unit(c_s, c0, next_of):
    """pd_exact_unit over the component chained from c0: the unit, or 0.0."""
    least = np.float32(np.inf)
    most = np.float32(0.0)
    c = c0
    while c >= 0:
        score = c_s[c]
        if not (score > 0.0 and score <= FMAX):
            return 0.0
        least = score if score < least else least
        most = score if score > most else most
        c = next_of[c]
    unit = math.ldexp(1.0, 24 - math.frexp(np.float64(least))[1])
    return unit if np.float64(most) * unit < 2.0 ** 50 else 0.0


@jit
def _find_root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@inline
def _emit(out_s, out_a, out_b, count, s, a, b):
    out_s[count] = s
    out_a[count] = a
    out_b[count] = b
    return count + 1


@jit
def _assign_greedy(c_s, c_a, c_b, num, na, nb, out_s, out_a, out_b, used_a, used_b):
    limit = na if na < nb else nb
    count = 0
    used_a[:na] = 0
    used_b[:nb] = 0
    for c in range(num):
        if count >= limit:
            break
        a = c_a[c]
        b = c_b[c]
        if used_a[a] != 0 or used_b[b] != 0:
            continue
        used_a[a] = 1
        used_b[b] = 1
        count = _emit(out_s, out_a, out_b, count, c_s[c], a, b)
    return count


@jit
def _components(c_a, c_b, num, na, nb, parent, member_of, head, root_of, next_of):
    """Union-find over the candidates' peaks; each candidate's root found once and
    the candidates of a component chained in increasing order from head[root]."""
    for i in range(na + nb):
        parent[i] = i
        member_of[i] = -1
        head[i] = -1
    for c in range(num):
        ra = _find_root(parent, np.int64(c_a[c]))
        rb = _find_root(parent, na + c_b[c])
        if ra != rb:
            parent[ra] = rb
    for c in range(num):
        root_of[c] = _find_root(parent, np.int64(c_a[c]))
    for c in range(num - 1, -1, -1):
        r = root_of[c]
        next_of[c] = head[r]
        head[r] = c


@inline
def _gather(c_a, c_b, c0, root, na, member_of, local, comp_rows, comp_cols, next_of):
    """The component's rows and columns in first-seen order: (rows, cols)."""
    rows = 0
    cols = 0
    c = c0
    while c >= 0:
        a = c_a[c]
        b = na + c_b[c]
        if member_of[a] != root:
            member_of[a] = root
            local[a] = rows
            comp_rows[rows] = c_a[c]
            rows += 1
        if member_of[b] != root:
            member_of[b] = root
            local[b] = cols
            comp_cols[cols] = c_b[c]
            cols += 1
        c = next_of[c]
    return rows, cols


@jit
def _solver_rows(c_s, c_a, c_b, c0, rows, cols, na, local, next_of, row_start, row_cols,
                 row_member, row_cost, unit):
    """pd_solver_rows: the component's candidates listed by the solver's rows (the
    shorter side), 1-based columns, their candidates and (with a unit > 0) costs."""
    transposed = rows > cols
    n = cols if transposed else rows
    row_start[:n + 1] = 0
    c = c0
    while c >= 0:
        r = local[c_a[c]]
        k = local[na + c_b[c]]
        row_start[(k if transposed else r) + 1] += 1
        c = next_of[c]
    for i in range(n):
        row_start[i + 1] += row_start[i]
    c = c0
    while c >= 0:
        r = local[c_a[c]]
        k = local[na + c_b[c]]
        row = k if transposed else r
        q = row_start[row]
        row_cols[q] = (r if transposed else k) + 1
        row_member[q] = c
        if unit > 0.0:
            row_cost[q] = -np.int64(np.float64(c_s[c]) * unit)
        row_start[row] += 1
        c = next_of[c]
    for i in range(n, 0, -1):
        row_start[i] = row_start[i - 1]
    row_start[0] = 0


@jit
def _solve_component(c_s, c_a, c_b, c0, rows, cols, na, out_s, out_a, out_b, count, block,
                     local, next_of, solution, comp_rows, comp_cols, u, v, minv, p, way,
                     used, moved, moved_flag, row_start, row_cols, row_member, row_cost,
                     ints, longs, flags):
    """The component's optimal connections appended to out: the new count, or a
    negative error; the sparse solver first where pd_solve_component takes it. It
    takes arrays, not the AssignWork and LsaWork tuples: a call counts a reference
    to every array of a tuple it is passed, which costs as much as a small
    component's solve."""
    short_side = min(rows, cols)
    long_side = max(rows, cols)
    unit = _exact_unit(c_s, c0, next_of) if short_side >= SPARSE_MIN_SIDE else 0.0
    _solver_rows(c_s, c_a, c_b, c0, rows, cols, na, local, next_of, row_start, row_cols,
                 row_member, row_cost, unit)
    if unit > 0.0 and _sparse_solve(row_start, row_cols, row_cost, short_side, long_side, ints,
                                    longs, flags):
        return _emit_sparse(c_s, c_a, c_b, row_start, row_cols, row_member, ints[0],
                            long_side, out_s, out_a, out_b, count)
    block[:rows * cols] = 0.0
    c = c0
    while c >= 0:
        block[local[c_a[c]] * cols + local[na + c_b[c]]] = -np.float64(c_s[c])
        c = next_of[c]
    rc = lsa(block, rows, cols, cols, solution, u, v, minv, p, way, used, moved, moved_flag,
             row_start, row_cols, True)
    if rc != PD_OK:
        return rc
    for r in range(rows):
        col = solution[r]
        if col < 0 or block[r * cols + col] == 0.0:
            continue
        count = _emit(out_s, out_a, out_b, count, np.float32(-block[r * cols + col]),
                      comp_rows[r], comp_cols[col])
    return count


@jit
def _assign_optimal(cands, num, na, nb, out, w):
    """pd_assign_optimal. The components, their order (by first candidate), the
    first-seen order of their rows and columns and their blocks are C's; only the
    gathering is linear, where C rescans the list from the component's first
    candidate. Returns (count or a negative error, the scratch, grown if it had to)."""
    w = _grown(w, na, nb, num)
    c_s, c_a, c_b = cands
    _components(c_a, c_b, num, na, nb, w.parent, w.member_of, w.head, w.root_of, w.next_of)
    root_of, head, member_of, local, next_of = w.root_of, w.head, w.member_of, w.local, \
        w.next_of
    comp_rows, comp_cols, block, solution = w.comp_rows, w.comp_cols, w.block, w.solution
    u, v, minv, p, way, used, moved, moved_flag = w.lsa
    row_start, row_cols, row_member, row_cost = w.row_start, w.row_cols, w.row_member, \
        w.row_cost
    ints, longs, flags = w.sparse
    out_s, out_a, out_b = out
    count = 0
    for c0 in range(num):
        root = root_of[c0]
        if head[root] != c0:
            continue  # not the component's first candidate: already solved
        rows, cols = _gather(c_a, c_b, c0, root, na, member_of, local, comp_rows, comp_cols,
                             next_of)
        if rows == 1 or cols == 1:
            count = _emit(out_s, out_a, out_b, count, c_s[c0], c_a[c0], c_b[c0])
            continue
        count = _solve_component(c_s, c_a, c_b, c0, rows, cols, na, out_s, out_a, out_b,
                                 count, block, local, next_of, solution, comp_rows,
                                 comp_cols, u, v, minv, p, way, used, moved, moved_flag,
                                 row_start, row_cols, row_member, row_cost, ints, longs,
                                 flags)
        if count < 0:
            return count, w
    sort_candidates(out_s, out_a, out_b, count)
    return count, w


@jit
def assign_limb(cands, num, na, nb, mode, out, w):
    """pd_assign_limb: connections among the sorted candidates into `out`; returns
    (count or a negative error, the scratch)."""
    if num == 0:
        return 0, w
    if mode == GREEDY:
        return _assign_greedy(cands.s, cands.a, cands.b, num, na, nb, out.s, out.a, out.b,
                              w.used_a, w.used_b), w
    return _assign_optimal(cands, num, na, nb, out, w)


@jit
def _sorted_cands(a, b, score):
    n = a.shape[0]
    c = Cands(np.empty(n, np.float32), np.empty(n, np.int32), np.empty(n, np.int32))
    for i in range(n):
        c.s[i] = score[i]
        c.a[i] = a[i]
        c.b[i] = b[i]
    sort_candidates(c.s, c.a, c.b, n)
    return c


@jit
def assign_entry(a, b, score, na, nb, mode):
    """The bare assign_limb kernel: (count or a negative error, (M, 3) a, b, score)."""
    n = a.shape[0]
    cands = _sorted_cands(a, b, score)
    out = Cands(np.empty(n, np.float32), np.empty(n, np.int32), np.empty(n, np.int32))
    m, _w = assign_limb(cands, n, na, nb, mode, out, assign_work(na, nb, n, mode == HUNGARIAN))
    if m < 0:
        return m, np.zeros((0, 3), np.float64)
    result = np.empty((m, 3), np.float64)
    for i in range(m):
        result[i, 0] = out.a[i]
        result[i, 1] = out.b[i]
        result[i, 2] = out.s[i]
    return m, result
