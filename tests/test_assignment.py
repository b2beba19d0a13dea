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
