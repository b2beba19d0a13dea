"""Assignment against SciPy's linear_sum_assignment."""

import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
matrices = st.tuples(st.integers(0, 9), st.integers(0, 9)).flatmap(
    lambda s: arrays(np.float64, s, elements=finite))


@given(cost=matrices)
def test_linear_sum_assignment_matches_scipy(kernels, cost):
    col_of_row = kernels.linear_sum_assignment(cost)
    rows = np.flatnonzero(col_of_row >= 0)
    cols = col_of_row[rows]
    assert len(rows) == min(cost.shape)
    assert len(set(cols.tolist())) == len(cols)
    ref_rows, ref_cols = linear_sum_assignment(cost)
    want = cost[ref_rows, ref_cols].sum()
    assert abs(cost[rows, cols].sum() - want) <= 1e-9 * max(1.0, abs(want))


def test_one_by_n_and_n_by_one(kernels):
    row = np.array([[3.0, 1.0, 2.0, 5.0]])
    assert kernels.linear_sum_assignment(row).tolist() == [1]
    assert kernels.linear_sum_assignment(row.T).tolist() == [-1, 0, -1, -1]


candidate_graphs = st.tuples(st.integers(1, 12), st.integers(1, 12)).flatmap(
    lambda s: st.tuples(
        st.just(s),
        arrays(np.float32, s, elements=st.floats(0.0625, 1.0, width=32)),
        arrays(np.bool_, s)))


@given(graph=candidate_graphs)
def test_optimal_limb_assignment_is_maximum_weight_matching(kernels, graph):
    (na, nb), weights, is_candidate = graph
    a, b = np.nonzero(is_candidate)
    score = weights[a, b]
    chosen = kernels.assign_limb(a.astype(np.int32), b.astype(np.int32), score, na, nb,
                                  "hungarian")
    # Each peak at most once, and only candidate pairs.
    assert len(set(chosen[:, 0].tolist())) == len(chosen)
    assert len(set(chosen[:, 1].tolist())) == len(chosen)
    assert all(is_candidate[int(i), int(j)] for i, j in chosen[:, :2])
    dense = np.where(is_candidate, weights, 0.0).astype(np.float64)
    want = dense[linear_sum_assignment(dense, maximize=True)].sum()
    assert abs(chosen[:, 2].sum() - want) <= 1e-4


@given(graph=candidate_graphs)
def test_greedy_limb_assignment_takes_best_free_pairs(kernels, graph):
    (na, nb), weights, is_candidate = graph
    a, b = np.nonzero(is_candidate)
    score = weights[a, b]
    chosen = kernels.assign_limb(a.astype(np.int32), b.astype(np.int32), score, na, nb,
                                  "greedy")
    # The same greedy pass written plainly: descending score, ties by (a, b).
    order = sorted(range(len(a)), key=lambda i: (-score[i], a[i], b[i]))
    used_a, used_b, want = set(), set(), []
    for i in order:
        if a[i] not in used_a and b[i] not in used_b:
            used_a.add(a[i])
            used_b.add(b[i])
            want.append((a[i], b[i]))
    assert [tuple(map(int, row[:2])) for row in chosen] == [tuple(map(int, p)) for p in want]


def _dense_per_component(kernels, a, b, score):
    """The optimal assignment as pd_assign_optimal defines it, written plainly with the
    dense solver (kernels.linear_sum_assignment, which takes no shortcut): candidates
    sorted by (-score, a, b), their connected components, each component's rows and
    columns in first-seen order, a star's best edge, else the dense block of -score.
    Returns the chosen (a, b) pairs as a set."""
    order = sorted(range(len(a)), key=lambda i: (-score[i], a[i], b[i]))
    parent = {}

    def root(node):
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for i in order:
        ra, rb = root(("a", a[i])), root(("b", b[i]))
        if ra != rb:
            parent[ra] = rb
    members = {}
    for i in order:
        members.setdefault(root(("a", a[i])), []).append(i)
    chosen = set()
    for group in members.values():
        rows = list(dict.fromkeys(int(a[i]) for i in group))
        cols = list(dict.fromkeys(int(b[i]) for i in group))
        if len(rows) == 1 or len(cols) == 1:
            chosen.add((int(a[group[0]]), int(b[group[0]])))
            continue
        block = np.zeros((len(rows), len(cols)))
        for i in group:
            block[rows.index(int(a[i])), cols.index(int(b[i]))] = -np.float64(score[i])
        col_of_row = kernels.linear_sum_assignment(block)
        for r, c in enumerate(col_of_row):
            if c >= 0 and block[r, c] != 0.0:
                chosen.add((rows[r], cols[c]))
    return chosen


def _tie_heavy_graphs():
    """Candidate graphs whose matchings tie: scores from four values, random graphs up
    to 40 x 40 (large components), and chains where every peak has two equal edges."""
    rng = np.random.default_rng(20261203)
    levels = np.array([0.25, 0.5, 0.75, 1.0], np.float32)
    graphs = []
    for _ in range(40):
        na, nb = rng.integers(2, 41, size=2)
        is_candidate = rng.random((na, nb)) < rng.uniform(0.05, 0.5)
        a, b = np.nonzero(is_candidate)
        graphs.append((int(na), int(nb), a, b, rng.choice(levels, size=len(a))))
    for n in (3, 8, 25, 40):
        a = np.concatenate([np.arange(n), np.arange(n - 1)])
        b = np.concatenate([np.arange(n), np.arange(1, n)])
        graphs.append((n, n, a, b, np.full(len(a), 0.5, np.float32)))
    return graphs


def test_optimal_limb_assignment_is_the_dense_solvers_in_ties(kernels):
    """The solver's shortcut for rows whose first step ends their search
    (pd_lsa_shortcut) picks what the dense solver picks, ties included."""
    for na, nb, a, b, score in _tie_heavy_graphs():
        chosen = kernels.assign_limb(a.astype(np.int32), b.astype(np.int32),
                                      score.astype(np.float32), na, nb, "hungarian")
        got = {(int(i), int(j)) for i, j in chosen[:, :2]}
        assert got == _dense_per_component(kernels, a, b, score)
        dense = np.zeros((na, nb))
        dense[a, b] = score
        want = dense[linear_sum_assignment(dense, maximize=True)].sum()
        assert abs(chosen[:, 2].sum() - want) <= 1e-4


def _large_graphs():
    """Components past the sparse solver's threshold (24 a side), as crowds make them:
    a band of neighbours and random extra candidates; continuous scores (one optimum),
    four score values (ties: the dense solver decides), repeated pairs, and scores
    from 1e-30 to 1e30 (beyond exact integers: the dense solver decides)."""
    rng = np.random.default_rng(20261206)
    graphs = []
    for kind in ["continuous"] * 12 + ["levels"] * 6 + ["repeats"] * 3 + ["extreme"] * 3:
        na, nb = (int(x) for x in rng.integers(24, 90, size=2))
        is_candidate = rng.random((na, nb)) < rng.uniform(0.02, 0.12)
        diagonal = np.arange(min(na, nb))
        is_candidate[diagonal, diagonal] = True
        is_candidate[diagonal[:-1], diagonal[1:]] = True
        a, b = np.nonzero(is_candidate)
        if kind == "levels":
            score = rng.choice(np.array([0.25, 0.5, 0.75, 1.0], np.float32), size=len(a))
        elif kind == "extreme":
            score = (10.0 ** rng.uniform(-30, 30, size=len(a))).astype(np.float32)
        else:
            score = rng.uniform(0.05, 1.2, size=len(a)).astype(np.float32)
        if kind == "repeats":
            again = rng.choice(len(a), size=len(a) // 4)
            a, b = np.concatenate([a, a[again]]), np.concatenate([b, b[again]])
            score = np.concatenate([score, rng.uniform(0.05, 1.2, len(again)).astype(np.float32)])
        graphs.append((kind, na, nb, a, b, score))
    return graphs


def test_large_components_get_the_dense_solvers_assignment(kernels):
    """Large components go to the sparse solver (pd_sparse_solve) where its answer is
    provably the dense solver's; either way the result is the dense solver's."""
    for kind, na, nb, a, b, score in _large_graphs():
        chosen = kernels.assign_limb(a.astype(np.int32), b.astype(np.int32), score, na, nb,
                                      "hungarian")
        got = {(int(i), int(j)) for i, j in chosen[:, :2]}
        assert got == _dense_per_component(kernels, a, b, score), kind
        if kind in ("continuous", "levels"):
            dense = np.zeros((na, nb))
            dense[a, b] = score
            want = dense[linear_sum_assignment(dense, maximize=True)].sum()
            assert abs(chosen[:, 2].sum() - want) <= 1e-4 * max(1.0, want), kind


def _optimal_matchings(n, m, row_start, row_cols, row_cost):
    """Every minimum-cost matching of the listed graph, by brute force: (cost, set of
    frozensets of (row, column)), rows 1..n, columns 1..m."""
    best, found = [0], set()

    def visit(row, used, cost, pairs):
        if row > n:
            if cost < best[0]:
                best[0] = cost
                found.clear()
            if cost == best[0]:
                found.add(frozenset(pairs))
            return
        visit(row + 1, used, cost, pairs)  # row left unmatched
        for q in range(row_start[row - 1], row_start[row]):
            j = int(row_cols[q])
            if j not in used:
                visit(row + 1, used | {j}, cost + int(row_cost[q]), pairs + [(row, j)])

    visit(1, frozenset(), 0, [])
    return best[0], found


def test_sparse_solver_knows_when_its_optimum_is_unique():
    """The twin's sparse solver (C's is the same and meets the dense solver above)
    against brute force on small graphs with few cost values: it claims uniqueness
    exactly when one matching is optimal, and then returns it."""
    from pafdecode._numba import assignment

    rng = np.random.default_rng(7)
    claims = {True: 0, False: 0}
    for _ in range(150):
        n, m = (int(x) for x in rng.integers(1, 6, size=2))
        lists = [sorted(set(rng.choice(m, size=rng.integers(0, m + 1)) + 1)) for _ in range(n)]
        row_start = np.cumsum([0] + [len(cols) for cols in lists]).astype(np.int32)
        row_cols = np.array([j for cols in lists for j in cols], np.int32)
        row_cost = -rng.choice([2, 3, 4, 5], size=len(row_cols)).astype(np.int64)
        ints, longs, flags = assignment.sparse_work(n, m)
        unique = assignment._sparse_solve(row_start, row_cols, row_cost, n, m, ints, longs,
                                          flags)
        cost, optima = _optimal_matchings(n, m, row_start, row_cols, row_cost)
        assert unique == (len(optima) == 1)
        claims[bool(unique)] += 1
        if unique:
            got = frozenset((int(ints[0][j]), j) for j in range(1, m + 1) if ints[0][j])
            assert got == next(iter(optima))
    assert min(claims.values()) >= 20  # both answers were put to the test
