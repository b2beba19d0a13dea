"""Peak finding against a plain NumPy reference, and sub-pixel refinement against
rendered Gaussians."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays



def reference_peaks(heatmap, threshold, radius, max_peaks):
    """The documented definition, written plainly: a cell above threshold with no
    strictly higher cell within `radius`; cells of equal value connected through
    such windows form a plateau, which is a peak when none of its cells has a higher
    neighbour, reported at its first cell in raster order. Strongest first, ties in
    raster order. Returns (row, col, value) triples."""
    h, w = heatmap.shape
    padded = np.pad(heatmap, radius, constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * radius + 1,) * 2)
    window_max = windows.max(axis=(2, 3))
    candidate = (heatmap > threshold) & (heatmap >= window_max)
    seen = np.zeros_like(candidate)
    peaks = []
    for y in range(h):
        for x in range(w):
            if not candidate[y, x] or seen[y, x]:
                continue
            v = heatmap[y, x]
            plateau, stack, is_max = [], [(y, x)], True
            seen[y, x] = True
            while stack:
                cy, cx = stack.pop()
                plateau.append((cy, cx))
                if window_max[cy, cx] > v:
                    is_max = False
                for ny in range(max(0, cy - radius), min(h, cy + radius + 1)):
                    for nx in range(max(0, cx - radius), min(w, cx + radius + 1)):
                        if heatmap[ny, nx] == v and not seen[ny, nx]:
                            seen[ny, nx] = True
                            stack.append((ny, nx))
            if is_max:
                first = min(plateau)
                peaks.append((first[0], first[1], float(v)))
    peaks.sort(key=lambda p: (-p[2], p[0], p[1]))
    return peaks[:max_peaks]


# A few distinct levels make plateaus and ties common; free floats make the rest.
levels = st.sampled_from([0.0, 0.05, 0.3, 0.5, 0.5, 0.9, 1.0])
free = st.floats(0.0, 1.0, width=32, allow_subnormal=False)
maps = st.tuples(st.integers(1, 14), st.integers(1, 14), st.booleans()).flatmap(
    lambda t: arrays(np.float32, (t[0], t[1]), elements=levels if t[2] else free))


@given(heatmap=maps, threshold=st.sampled_from([0.0, 0.1, 0.4]),
       radius=st.integers(1, 3), max_peaks=st.integers(1, 12))
def test_peaks_match_numpy_reference(kernels, heatmap, threshold, radius, max_peaks):
    got = kernels.find_peaks(heatmap, threshold, radius, max_peaks)
    want = reference_peaks(heatmap, threshold, radius, max_peaks)
    assert len(got) == len(want)
    for (x, y, value), (ry, rx, rvalue) in zip(got, want):
        assert value == rvalue
        # Refinement moves a peak by at most half a cell from its integer position.
        assert abs(x - rx) <= 0.5 and abs(y - ry) <= 0.5


def test_plateau_gives_one_peak_at_its_first_cell(kernels):
    heatmap = np.zeros((9, 9), np.float32)
    # A V-shaped plateau: its right arm has no equal neighbour before it in raster
    # order, so a window rule alone would report two peaks.
    for y, x in [(2, 2), (3, 3), (4, 4), (3, 5), (2, 6)]:
        heatmap[y, x] = 0.7
    peaks = kernels.find_peaks(heatmap, 0.1, 1, 10)
    assert len(peaks) == 1
    assert abs(peaks[0, 0] - 2) <= 0.5 and abs(peaks[0, 1] - 2) <= 0.5


def test_plateau_touching_a_higher_cell_is_not_a_peak(kernels):
    heatmap = np.zeros((5, 12), np.float32)
    heatmap[2, 1:10] = 0.5
    heatmap[2, 10] = 0.6
    peaks = kernels.find_peaks(heatmap, 0.1, 1, 10)
    assert peaks[:, :2].round().tolist() == [[10.0, 2.0]]


def test_strongest_peaks_are_kept(kernels):
    heatmap = np.zeros((3, 20), np.float32)
    heatmap[1, 1::3] = np.arange(1, 8, dtype=np.float32) / 10
    peaks = kernels.find_peaks(heatmap, 0.0, 1, 3)
    assert peaks[:, 2].tolist() == pytest.approx([0.7, 0.6, 0.5])


def gaussian(shape, cx, cy, sigma):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


@given(cx=st.floats(2.0, 17.0), cy=st.floats(2.0, 12.0), sigma=st.floats(0.7, 3.0))
def test_refinement_finds_gaussian_centre(kernels, cx, cy, sigma):
    peaks = kernels.find_peaks(gaussian((15, 20), cx, cy, sigma), 0.1, 1, 4)
    assert len(peaks) == 1
    assert abs(peaks[0, 0] - cx) < 0.05 and abs(peaks[0, 1] - cy) < 0.05


def test_refinement_between_two_cells(kernels):
    # A centre exactly between two cells makes a two-cell plateau.
    peaks = kernels.find_peaks(gaussian((9, 9), 4.5, 4.0, 1.0), 0.1, 1, 4)
    assert len(peaks) == 1
    assert peaks[0, 0] == pytest.approx(4.5, abs=1e-4)
    assert peaks[0, 1] == pytest.approx(4.0, abs=1e-4)


LONE_KEYPOINTS = [(3.3, 3.6), (24.7, 4.2), (4.1, 15.8), (25.2, 16.4)]


def crowd_with_a_pair(first, second, sigma=1.0):
    """Four lone keypoints of one type (they set the channel's Gaussian width) and two
    a cell or so apart, rendered as a max of Gaussians as synth does."""
    centres = LONE_KEYPOINTS + [first, second]
    return np.max([gaussian((20, 30), cx, cy, sigma) for cx, cy in centres], axis=0)


def split_finders(kernels):
    """The backend's find_peaks and the NumPy reference's, which must agree with it."""
    from pafdecode import reference
    return {"backend": kernels.find_peaks, "reference": reference.find_peaks}


# Pairs of one type about a cell apart, along each axis and diagonal, the first
# keypoint winning NMS. The pair's neighbours toward each other mix the two
# Gaussians: the split keypoint fitted from its far side and the first refitted
# from its own are exact on these maps (a max of Gaussians), while a two-sided fit
# of the first read the second's slope as its own (0.27-0.64 cells off).
PAIRS = [((14.9, 10.0), (16.2, 10.0)), ((14.9, 10.0), (15.0, 11.1)),
         ((14.9, 10.0), (16.0, 11.1)), ((14.9, 10.0), (13.8, 8.9)),
         ((15.1, 9.8), (15.3, 11.0)), ((14.8, 10.2), (13.7, 11.1)),
         ((15.3, 10.0), (14.1, 10.2)), ((15.0, 10.25), (15.2, 9.0))]


@pytest.mark.parametrize("first, second", PAIRS)
def test_split_recovers_a_keypoint_merged_into_a_neighbour(kernels, first, second):
    heatmap = crowd_with_a_pair(first, second)
    # The second keypoint of the pair loses NMS to the first...
    assert len(kernels.find_peaks(heatmap, 0.1, 1, 16)) == 5
    # ...and the split finds it, adding nothing else: each of the six keypoints
    # has its own peak within 0.02 cells of it, in every implementation alike.
    found = {name: find(heatmap, 0.1, 1, 16, 0.3)
             for name, find in split_finders(kernels).items()}
    np.testing.assert_array_equal(found["backend"], found["reference"])
    peaks = found["backend"]
    assert len(peaks) == 6
    for cx, cy in LONE_KEYPOINTS + [first, second]:
        assert np.min(np.hypot(peaks[:, 0] - cx, peaks[:, 1] - cy)) < 0.02, (cx, cy)


def test_split_on_both_sides_keeps_the_two_sided_fit(kernels):
    # A keypoint with one of its type a cell or so away on either side: both are
    # split off, and neither of the middle one's x neighbours is clean, so along x
    # it keeps the two-sided fit (exact here by symmetry; a one-sided fit from
    # either raised side would put it about half a cell toward that side).
    trio = [(13.9, 10.0), (15.0, 10.0), (16.1, 10.0)]
    heatmap = np.max([gaussian((20, 30), x, y, 1.0) for x, y in LONE_KEYPOINTS + trio], axis=0)
    found = {name: find(heatmap, 0.1, 1, 16, 0.3)
             for name, find in split_finders(kernels).items()}
    np.testing.assert_array_equal(found["backend"], found["reference"])
    peaks = found["backend"]
    assert len(peaks) == 7
    for cx, cy in LONE_KEYPOINTS + trio:
        assert np.min(np.hypot(peaks[:, 0] - cx, peaks[:, 1] - cy)) < 0.02, (cx, cy)


@pytest.mark.parametrize("centre, sigmas", [((15.0, 10.0), (1.21, 1.0)),
                                            ((15.01, 10.0), (1.21, 1.0)),
                                            ((14.99, 10.0), (1.2, 1.0)),
                                            ((15.0, 10.01), (1.0, 1.21))])
def test_split_gate_leaves_an_elongated_gaussian_alone(kernels, centre, sigmas):
    # A keypoint a little longer along one axis than the channel's width (set by
    # the four lone ones): through its peak the log values curve less than the
    # channel's by more than the margin, so the curvature test alone split its
    # higher neighbour (or both) off as a second keypoint. Fitted from the far
    # side, that neighbour's Gaussian lies over half a cell back toward the peak:
    # no centre of its own, and the gate rejects it.
    (cx, cy), (sx, sy) = centre, sigmas
    yy, xx = np.mgrid[:20, :30]
    long = np.exp(-(xx - cx) ** 2 / (2 * sx**2) - (yy - cy) ** 2 / (2 * sy**2))
    heatmap = np.max([gaussian((20, 30), x, y, 1.0) for x, y in LONE_KEYPOINTS]
                     + [long.astype(np.float32)], axis=0)
    for find in split_finders(kernels).values():
        peaks = find(heatmap, 0.1, 1, 16, 0.3)
        assert len(peaks) == 5
        assert np.min(np.hypot(peaks[:, 0] - cx, peaks[:, 1] - cy)) < 0.1


@given(cx=st.floats(2.0, 17.0), cy=st.floats(2.0, 12.0), sigma=st.floats(0.7, 3.0))
def test_split_leaves_a_lone_gaussian_alone(kernels, cx, cy, sigma):
    assert len(kernels.find_peaks(gaussian((15, 20), cx, cy, sigma), 0.1, 1, 4, 0.3)) == 1


def test_strided_and_transposed_views_agree(kernels):
    rng = np.random.default_rng(3)
    heatmap = rng.random((17, 23), dtype=np.float32)
    base = kernels.find_peaks(heatmap, 0.2, 1, 50)
    wide = np.zeros((17, 46), np.float32)
    wide[:, ::2] = heatmap
    np.testing.assert_array_equal(kernels.find_peaks(wide[:, ::2], 0.2, 1, 50), base)
    transposed = kernels.find_peaks(np.ascontiguousarray(heatmap.T).T, 0.2, 1, 50)
    np.testing.assert_array_equal(transposed, base)


def test_non_finite_values_read_as_zero(kernels):
    heatmap = gaussian((11, 11), 5.2, 4.9, 1.2)
    heatmap[0, 0] = np.nan
    heatmap[10, 10] = np.inf
    heatmap[0, 10] = -np.inf
    heatmap[5, 6] = np.nan  # beside the peak: read as 0, it must not stop the peak
    peaks = kernels.find_peaks(heatmap, 0.1, 1, 10)
    assert len(peaks) == 1 and round(peaks[0, 0]) == 5 and round(peaks[0, 1]) == 5
    assert len(kernels.find_peaks(np.full((6, 6), np.nan, np.float32), 0.1, 1, 10)) == 0


SPIKES = [(2, 3, 0.4), (9, 1, 0.35), (14, 17, 0.25), (1, 25, 0.4), (17, 8, 0.3)]


@pytest.mark.parametrize("sigma", [1.0, 1.25, 1.5])
def test_support_drops_lone_spikes_and_keeps_gaussians(kernels, sigma):
    # Gaussians as low as 0.3 keep 0.65 of their height or more under the 1-2-1
    # weights; a lone spike keeps a quarter of its height (0.1 at most here).
    centres = [(6.3, 12.4, 0.3), (22.8, 5.1, 1.0), (20.2, 14.7, 0.6)]
    heatmap = np.max([a * gaussian((20, 30), cx, cy, sigma) for cx, cy, a in centres], axis=0)
    for y, x, v in SPIKES:
        heatmap[y, x] = v
    plain = kernels.find_peaks(heatmap, 0.1, 1, 32)
    assert len(plain) == len(centres) + len(SPIKES)
    supported = kernels.find_peaks(heatmap, 0.1, 1, 32, 0.0, 0.15)
    # The Gaussians' peaks, with their refinement untouched, and nothing else.
    near = [np.min(np.hypot(p[0] - np.array(centres)[:, 0], p[1] - np.array(centres)[:, 1]))
            < 0.05 for p in plain]
    assert sum(near) == len(centres)
    np.testing.assert_array_equal(supported, plain[near])


@pytest.mark.parametrize("value, kept", [(0.3, False), (0.35, True)])
def test_support_renormalises_at_the_edge(kernels, value, kept):
    # A spike in a corner has weights 4, 2, 2, 1 in the map: a mean of 4/9 of it.
    heatmap = np.zeros((6, 7), np.float32)
    heatmap[0, 0] = value
    assert len(kernels.find_peaks(heatmap, 0.1, 1, 4, 0.0, 0.15)) == int(kept)
