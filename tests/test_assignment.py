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
