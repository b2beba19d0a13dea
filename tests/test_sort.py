"""The core's candidate sorts against Python's sort on the decoder's order."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

# Few distinct scores so that ties are common. The heap and "any" sorts follow
# pd_before, where -0.0 equals 0.0 (as in Python); the stable sort keys the raw bits,
# so its callers sort no -0.0 (candidate, peak and person scores are >= +0).
SCORES = [-2.5, -1e-30, 0.0, 1e-30, 0.25, 0.5, 3.0e38, 7.0]


@st.composite
def candidate_lists(draw, scores=SCORES + [-0.0]):
    side = draw(st.sampled_from([3, 40, 300, 70000]))  # indices of one to three bytes
    codes = draw(st.lists(st.integers(0, side * side - 1), max_size=400, unique=True))
    cells = [divmod(code, side) for code in codes]
    return cells, draw(st.lists(st.sampled_from(scores), min_size=len(cells),
                                max_size=len(cells)))


def expected_order(cells, score):
    return sorted(zip(score, cells), key=lambda item: (-item[0], item[1][0], item[1][1]))


def check_sorted(kernels, cells, score, method):
    a = np.array([c[0] for c in cells], np.int32)
    b = np.array([c[1] for c in cells], np.int32)
    out_a, out_b, out_score = kernels.sort_candidates(a, b, np.array(score, np.float32), method)
    want = expected_order(cells, np.array(score, np.float32).tolist())
    assert list(zip(out_a.tolist(), out_b.tolist())) == [cell for _, cell in want]
    assert out_score.tolist() == [s for s, _ in want]


@pytest.mark.parametrize("method", ["heap", "any"])
@given(data=candidate_lists())
def test_sorts_in_any_input_order(kernels, method, data):
    check_sorted(kernels, *data, method)


@given(data=candidate_lists(scores=SCORES))
def test_stable_sort_of_items_in_cell_order(kernels, data):
    cells, score = data
    order = sorted(range(len(cells)), key=lambda i: cells[i])
    check_sorted(kernels, [cells[i] for i in order], [score[i] for i in order], "stable")


def test_radix_sort_treats_negative_zero_as_zero(kernels):
    # 60 items take the radix path; with -0 keyed apart from +0 the ties would split.
    n = 60
    a = np.arange(n, dtype=np.int32)[::-1].copy()
    b = np.zeros(n, np.int32)
    score = np.where(np.arange(n) % 2 == 0, -0.0, 0.0).astype(np.float32)
    out_a, _, _ = kernels.sort_candidates(a, b, score, "any")
    assert out_a.tolist() == list(range(n))


def test_sort_refuses_an_unknown_method(kernels):
    empty = np.zeros(0, np.int32)
    with pytest.raises(ValueError, match="method='quick'"):
        kernels.sort_candidates(empty, empty, np.zeros(0, np.float32), "quick")
