"""Parity of the two cores: the compiled C core (_kernels) and its Numba twin (_numba)
must find the same peaks, candidates and people, in the same order.

The scene sweep decodes generated crowds (1..100 people, COCO-18 and BODY_25, clean and
degraded) with both assignment modes: ``PAFDECODE_PARITY_SCENES`` (default 40) is the
number of scenes, each decoded in both modes, and also the number of random-field cases
per seed (at least 25). Then batches, HWC strides, decoder options, and the kernels
(find_peaks, linear_sum_assignment, assign_limb) on random inputs. Divergences found
while writing the twin are kept as named regression tests (two of them found a C support
mask that overflowed or flushed to zero at extreme PAF thresholds; fixed).
"""

import functools
import os

import numpy as np
import pytest

numba = pytest.importorskip(
    "numba", reason="the Numba backend needs numba (pip install numba); nothing to compare")

from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from pafdecode import Decoder, DecoderConfig, Skeleton, _kernels, _numba, synth  # noqa: E402
from pafdecode._params import to_record  # noqa: E402

SKELETONS = {"coco18": Skeleton.openpose_coco18(), "body25": Skeleton.body25()}
QUALITIES = {
    "clean": {},
    "noisy": {"noise": 0.05, "peak_variation": 0.3, "occlusion": 0.08},
}
MODES = ("greedy", "hungarian")
KP_TOL = 1e-4     # pixels
SCORE_TOL = 1e-5

SCENES = max(1, int(os.environ.get("PAFDECODE_PARITY_SCENES", "40")))


# -- helpers ----------------------------------------------------------------------------

def _cores(skeleton, **options):
    """The C and Numba cores for one Decoder configuration."""
    record = to_record(Decoder(skeleton, **options).config)
    args = (skeleton.limbs, skeleton.paf_channels, skeleton.redundant, skeleton.num_keypoints,
            record)
    return _kernels.CoreDecoder(*args), _numba.CoreDecoder(*args)


def decode_both(skeleton, heatmaps, pafs, **options):
    c_core, n_core = _cores(skeleton, **options)
    h, w = heatmaps.shape[-2:]
    c = c_core.decode(heatmaps, pafs, np.empty(c_core.workspace_bytes(h, w), np.uint8))
    n = n_core.decode(heatmaps, pafs, np.empty(n_core.workspace_bytes(h, w), np.uint8))
    return c, n


def decode_batch_both(skeleton, heatmaps, pafs, **options):
    c_core, n_core = _cores(skeleton, **options)
    f, h, w = heatmaps.shape[0], heatmaps.shape[-2], heatmaps.shape[-1]
    c = c_core.decode_batch(heatmaps, pafs, np.empty(c_core.workspace_bytes(h, w, f), np.uint8))
    n = n_core.decode_batch(heatmaps, pafs, np.empty(n_core.workspace_bytes(h, w, f), np.uint8))
    return c, n


def assert_same(c, n, where=""):
    """Same stats, the same people in the same order, keypoints within KP_TOL pixels
    and scores within SCORE_TOL."""
    (ck, cs, cstats), (nk, ns, nstats) = c, n
    assert tuple(nstats) == tuple(cstats), f"{where}: stats C {cstats} vs Numba {nstats}"
    assert nk.shape == ck.shape and ns.shape == cs.shape, \
        f"{where}: {len(cs)} people from C, {len(ns)} from Numba"
    assert nk.dtype == np.float32 and ns.dtype == np.float32
    # The same keypoints present, person by person.
    np.testing.assert_array_equal(nk[..., 2] > 0, ck[..., 2] > 0, err_msg=where)
    if len(cs):
        kp_err = float(np.max(np.abs(nk.astype(np.float64) - ck)))
        sc_err = float(np.max(np.abs(ns.astype(np.float64) - cs)))
        assert kp_err <= KP_TOL, f"{where}: keypoints differ by {kp_err}"
        assert sc_err <= SCORE_TOL, f"{where}: scores differ by {sc_err}"


def scene_people(kind_index, i):
    """People counts that cover 1..100, both ends included."""
    if i == 0:
        return 1
    if i == 1:
        return 100
    return int(np.random.default_rng((kind_index, i)).integers(1, 101))


@functools.lru_cache(maxsize=4)
def make_scene(skeleton_name, quality, i):
    kind_index = list(SKELETONS).index(skeleton_name) * 2 + list(QUALITIES).index(quality)
    n = scene_people(kind_index, i)
    seed = 1000 * kind_index + i
    return n, seed, synth.crowd_scene(n, seed, skeleton=SKELETONS[skeleton_name],
                                      **QUALITIES[quality])


def _sweep():
    """SCENES scenes spread over the four kinds, each decoded in both modes (the modes
    of one scene are adjacent, so the scene is rendered once)."""
    kinds = [(s, q) for s in SKELETONS for q in QUALITIES]
    items = []
    for i in range(-(-SCENES // len(kinds))):
        for s, q in kinds:
            if len(items) // len(MODES) >= SCENES:
                break
            for mode in MODES:
                items.append(pytest.param(s, q, i, mode, id=f"{s}-{q}-{i}-{mode}"))
    return items


# -- the scene sweep ----------------------------------------------------------------------

@pytest.mark.parametrize("skeleton_name, quality, i, mode", _sweep())
def test_scene_parity(skeleton_name, quality, i, mode):
    n, seed, scene = make_scene(skeleton_name, quality, i)
    c, nb = decode_both(scene.skeleton, scene.heatmaps, scene.pafs, assignment=mode)
    assert_same(c, nb, f"{skeleton_name} {quality} {n} people seed {seed} {mode}")
    assert c[2][3] > 0


@pytest.mark.parametrize("mode", MODES)
def test_batch_and_hwc_parity(mode):
    """decode_batch, and fields read through HWC strides (np.moveaxis views)."""
    sk = SKELETONS["coco18"]
    scenes = [synth.crowd_scene(n, 70 + n, skeleton=sk, **QUALITIES["noisy"])
              for n in (1, 7, 30, 64)]
    heat = np.stack([s.heatmaps for s in scenes])
    paf = np.stack([s.pafs for s in scenes])
    c, nb = decode_batch_both(sk, heat, paf, assignment=mode)
    assert len(c) == len(nb) == len(scenes)
    for f, (cf, nf) in enumerate(zip(c, nb)):
        assert_same(cf, nf, f"batch frame {f}")
    # Channels last, viewed as channels first: every stride differs from CHW.
    heat_hwc = np.moveaxis(np.ascontiguousarray(np.moveaxis(heat, 1, -1)), -1, 1)
    paf_hwc = np.moveaxis(np.ascontiguousarray(np.moveaxis(paf, 1, -1)), -1, 1)
    assert not heat_hwc.flags.c_contiguous
    c_hwc, n_hwc = decode_batch_both(sk, heat_hwc, paf_hwc, assignment=mode)
    for f in range(len(scenes)):
        assert_same(c_hwc[f], n_hwc[f], f"HWC batch frame {f}")
        assert_same(c[f], n_hwc[f], f"HWC vs CHW frame {f}")
        one_c, one_n = decode_both(sk, heat_hwc[f], paf_hwc[f], assignment=mode)
        assert_same(one_c, one_n, f"HWC frame {f}")


@pytest.mark.parametrize("mode", MODES)
def test_read_only_and_background_channel(mode):
    scene = synth.crowd_scene(12, 5, background=True, **QUALITIES["noisy"])
    heat, paf = scene.heatmaps.copy(), scene.pafs.copy()
    heat.flags.writeable = False
    paf.flags.writeable = False
    c, nb = decode_both(scene.skeleton, heat, paf, assignment=mode)
    assert_same(c, nb, "read-only fields with a background channel")


# Decoder options: thresholds, windows, sample counts and the truncations (max_peaks,
# max_candidates) that clean defaults never reach.
@functools.lru_cache(maxsize=None)
def option_scene(index):
    sk = SKELETONS["coco18" if index % 2 == 0 else "body25"]
    return synth.crowd_scene((3, 25, 60)[index], 40 + index, skeleton=sk,
                             **QUALITIES["noisy" if index else "clean"])


@settings(max_examples=30)
@given(index=st.integers(0, 2), mode=st.sampled_from(MODES),
       peak_threshold=st.sampled_from([0.0, 0.05, 0.1, 0.3]),
       peak_radius=st.integers(1, 3), max_peaks=st.sampled_from([1, 5, 20, 128]),
       paf_threshold=st.sampled_from([0.0, 0.05, 0.2]),
       paf_samples=st.sampled_from([2, 3, 7, 10, 16]),
       min_inlier_ratio=st.sampled_from([0.0, 0.5, 0.8, 1.0]),
       max_limb_length=st.sampled_from([None, 40.0, 150.0]),
       max_candidates=st.sampled_from([1, 10, 4096]),
       min_keypoints=st.sampled_from([1, 3, 8]),
       min_person_score=st.sampled_from([0.0, 0.2, 0.6]),
       stride=st.sampled_from([1, 4, 8]),
       shared_peak_score=st.sampled_from([None, 0.05, 0.3, 0.9]),
       split_merged_peaks=st.sampled_from([None, 0.05, 0.6, 2.0]),
       peak_support=st.sampled_from([None, 0.05, 0.15, 0.6]),
       join_fragments=st.sampled_from([None, 0.3, 0.6, 1.0]))
def test_option_parity(index, mode, **options):
    scene = option_scene(index)
    c, nb = decode_both(scene.skeleton, scene.heatmaps, scene.pafs, assignment=mode,
                        **options)
    assert_same(c, nb, f"scene {index} {mode} {options}")


# -- named regression scenes ----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_denormal_heatmap_reads_as_zero(mode):
    """Found while writing the twin: C decodes with FTZ/DAZ set, so a denormal cell is 0
    and joins the zero plateau instead of being a peak above a negative threshold."""
    scene = synth.crowd_scene(20, 3)
    heat = scene.heatmaps.copy()
    heat[0, 5, 5] = 1e-39
    heat[0, 5, 6] = 0.0
    c, nb = decode_both(scene.skeleton, heat, scene.pafs, assignment=mode,
                        peak_threshold=0.0)
    assert_same(c, nb, "denormal heatmap cell")


@pytest.mark.parametrize("mode", MODES)
def test_denormal_pafs_read_as_zero(mode):
    """Found while writing the twin: PAFs scaled into denormals are 0 under DAZ, so with
    paf_threshold=0 no sample is an inlier and there is no candidate."""
    scene = synth.crowd_scene(20, 3)
    c, nb = decode_both(scene.skeleton, scene.heatmaps, scene.pafs * np.float32(1e-39),
                        assignment=mode, paf_threshold=0.0)
    assert_same(c, nb, "denormal PAFs")
    assert c[2][1] == 0


@pytest.mark.parametrize("mode", MODES)
def test_non_finite_fields(mode):
    scene = synth.crowd_scene(15, 8, **QUALITIES["noisy"])
    rng = np.random.default_rng(8)
    heat, paf = scene.heatmaps.copy(), scene.pafs.copy()
    for arr in (heat, paf):
        flat = arr.reshape(-1)
        idx = rng.choice(flat.size, flat.size // 50, replace=False)
        flat[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf], np.float32), idx.size)
    c, nb = decode_both(scene.skeleton, heat, paf, assignment=mode)
    assert_same(c, nb, "NaN and Inf in the fields")


@pytest.mark.parametrize("mode", MODES)
def test_quantised_fields_plateaus_and_ties(mode):
    """Heatmaps rounded to tenths: plateaus everywhere, and many tied peak values and
    limb scores, so every order-breaking rule is exercised."""
    scene = synth.crowd_scene(40, 9, **QUALITIES["noisy"])
    heat = np.round(scene.heatmaps * 10) / 10
    paf = np.round(scene.pafs * 4) / 4
    c, nb = decode_both(scene.skeleton, heat.astype(np.float32), paf.astype(np.float32),
                        assignment=mode)
    assert_same(c, nb, "quantised fields")


def _huge_paf_scene():
    scene = synth.crowd_scene(20, 3)
    return scene, scene.pafs * np.float32(1e21)


def _tiny_paf_scene():
    scene = synth.crowd_scene(20, 3)
    return scene, scene.pafs * np.float32(1e-20)


@pytest.mark.parametrize("mode", MODES)
def test_one_person_huge_paf_threshold_agrees(mode):
    """The same fields as the regression below, but one person: C does not use its support
    mask for so few pairs, and the cores agree."""
    scene = synth.crowd_scene(1, 3)
    c, nb = decode_both(scene.skeleton, scene.heatmaps, scene.pafs * np.float32(1e21),
                        assignment=mode, paf_threshold=5e19)
    assert_same(c, nb, "one person, huge PAFs")
    assert c[2][3] == 1


@pytest.mark.parametrize("mode", MODES)
def test_support_mask_exact_for_huge_paf_threshold(mode):
    """Regression: C's float32 support mask overflowed here and dropped real limbs."""
    scene, paf = _huge_paf_scene()
    c, nb = decode_both(scene.skeleton, scene.heatmaps, paf, assignment=mode,
                        paf_threshold=5e19)
    assert nb[2][1] > 0  # the Numba core finds the candidates
    assert_same(c, nb, "huge PAFs and paf_threshold")


@pytest.mark.parametrize("mode", MODES)
def test_support_mask_exact_for_tiny_paf_threshold(mode):
    """Regression: C's support mask flushed to zero here and dropped real limbs."""
    scene, paf = _tiny_paf_scene()
    c, nb = decode_both(scene.skeleton, scene.heatmaps, paf, assignment=mode,
                        paf_threshold=5e-22)
    assert nb[2][1] > 0
    assert_same(c, nb, "tiny PAFs and paf_threshold")


def _three_by_three_limb(scale):
    """The smallest case: one limb type, three peaks a side on a 16 x 8 map (so C
    uses its support mask: 3 * 3 * 32 > 128 cells), PAFs pointing from a to b."""
    sk = Skeleton(["top", "bottom"], [(0, 1)])
    heat = np.zeros((2, 16, 8), np.float32)
    heat[0, 1, [1, 4, 6]] = 1.0
    heat[1, 6, [1, 4, 6]] = 1.0
    paf = np.zeros((2, 16, 8), np.float32)
    paf[1] = scale
    return sk, heat, paf


def test_minimal_limb_agrees_at_ordinary_scale():
    sk, heat, paf = _three_by_three_limb(1.0)
    c, nb = decode_both(sk, heat, paf, stride=1, min_keypoints=2)
    assert_same(c, nb, "3 x 3 peaks, unit PAFs")
    assert c[2] == (6, 9, 3, 3)


@pytest.mark.parametrize("scale, threshold", [(1e21, 5e19), (1e-20, 5e-22)],
                         ids=["overflow", "underflow"])
def test_minimal_support_mask_regression(scale, threshold):
    sk, heat, paf = _three_by_three_limb(scale)
    c, nb = decode_both(sk, heat, paf, stride=1, min_keypoints=2, paf_threshold=threshold)
    assert nb[2] == (6, 9, 3, 3)
    assert_same(c, nb, f"3 x 3 peaks, PAFs x {scale:g}")


# -- random fields ------------------------------------------------------------------------

FUZZ_SKELETON = Skeleton(["a", "b", "c", "d"], [(0, 1), (1, 2), (2, 3), (0, 2), (3, 0)])
SPECIAL_VALUES = np.array([np.nan, np.inf, -np.inf, 1e-40, -1e-40], np.float32)


def random_case(rng):
    """Small random maps and decoder options: plateaus, ties, negative values,
    non-finite and denormal cells, truncations, tiny maps."""
    h, w = (int(v) for v in rng.integers(1, 14, 2))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        heat = rng.choice(np.float32([0, 0.2, 0.5, 0.5, 1.0]), (4, h, w))
    else:
        heat = rng.uniform(-0.2, 1.2, (4, h, w))
    paf = rng.uniform(-1.5, 1.5, (10, h, w))
    if kind == 2:
        paf = np.round(paf * 2) / 2
    heat, paf = heat.astype(np.float32), paf.astype(np.float32)
    if kind == 3:
        for arr in (heat, paf):
            hit = rng.random(arr.shape) < 0.05
            arr[hit] = rng.choice(SPECIAL_VALUES, int(hit.sum()))
    options = dict(
        peak_threshold=float(rng.choice([0.0, 0.1, 0.3])),
        peak_radius=int(rng.integers(1, 3)),
        max_peaks=int(rng.choice([1, 3, 8, 128])),
        paf_threshold=float(rng.choice([0.0, 0.05, 0.3])),
        paf_samples=int(rng.choice([2, 3, 5, 10])),
        min_inlier_ratio=float(rng.choice([0.0, 0.5, 0.8, 1.0])),
        max_limb_length=[None, 4.0, 40.0][int(rng.integers(0, 3))],
        max_candidates=int(rng.choice([1, 5, 4096])),
        assignment=str(rng.choice(MODES)),
        min_keypoints=int(rng.choice([1, 2, 3])),
        min_person_score=float(rng.choice([0.0, 0.3])),
        stride=float(rng.choice([1, 4, 8])))
    return heat, paf, options


@pytest.mark.parametrize("seed", range(4))
def test_random_fields_parity(seed):
    """Bit-identical results on random fields; PAFDECODE_PARITY_SCENES scales the count."""
    rng = np.random.default_rng(seed)
    for case in range(max(25, SCENES)):
        heat, paf, options = random_case(rng)
        c, nb = decode_both(FUZZ_SKELETON, heat, paf, **options)
        where = f"seed {seed} case {case} {heat.shape} {options}"
        assert_same(c, nb, where)
        np.testing.assert_array_equal(nb[0], c[0], err_msg=where)
        np.testing.assert_array_equal(nb[1], c[1], err_msg=where)


# -- kernels on random inputs ---------------------------------------------------------------

levels = st.sampled_from([0.0, 0.0, 0.05, 0.3, 0.5, 0.5, 0.9, 1.0, -0.2])
free = st.floats(-1.0, 2.0, width=32)
specials = st.sampled_from([np.nan, np.inf, -np.inf, 1e-40, -1e-40, 1e-38, 0.0, -0.0])
cell = st.one_of(free, levels, specials)
maps = st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2)).flatmap(
    lambda t: arrays(np.float32, (t[0], t[1]),
                     elements=(levels, free, cell)[t[2]]))


def assert_peaks_equal(heatmap, threshold, radius, max_peaks, split_margin=0.0,
                       peak_support=0.0):
    want = _kernels.find_peaks(heatmap, threshold, radius, max_peaks, split_margin,
                               peak_support)
    got = _numba.find_peaks(heatmap, threshold, radius, max_peaks, split_margin, peak_support)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@given(heatmap=maps, threshold=st.sampled_from([-1.0, 0.0, 0.1, 0.4]),
       radius=st.integers(1, 3), max_peaks=st.integers(0, 12),
       split_margin=st.sampled_from([0.0, 0.01, 0.6]),
       peak_support=st.sampled_from([0.0, 0.0, 0.05, 0.3, 0.5625]))
def test_find_peaks_parity(heatmap, threshold, radius, max_peaks, split_margin, peak_support):
    assert_peaks_equal(heatmap, threshold, radius, max_peaks, split_margin, peak_support)


@pytest.mark.parametrize("i", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_split_merged_peaks_parity_in_crowds(i, mode):
    n, seed, scene = make_scene("coco18" if i % 2 == 0 else "body25",
                                "clean" if i < 3 else "noisy", 100 + i)
    c, nb = decode_both(scene.skeleton, scene.heatmaps, scene.pafs, assignment=mode,
                        split_merged_peaks=0.6, join_fragments=(None, 0.6, 1.0)[i % 3])
    assert_same(c, nb, f"split, {n} people seed {seed} {mode}")


@given(heatmap=maps, channel=st.integers(0, 2), radius=st.integers(1, 2))
def test_find_peaks_parity_on_strided_views(heatmap, channel, radius):
    h, w = heatmap.shape
    hwc = np.zeros((h, w, 3), np.float32)
    hwc[..., channel] = heatmap
    view = hwc[..., channel]                          # HWC: x stride of 3 elements
    assert_peaks_equal(view, 0.0, radius, 10)
    assert_peaks_equal(np.asfortranarray(heatmap), 0.0, radius, 10)
    assert_peaks_equal(heatmap[::-1, ::2], 0.0, radius, 10)


def test_find_peaks_rejects_the_same_arguments():
    heatmap = np.ones((4, 4), np.float32)
    for args in ((0.1, 0, 3), (np.nan, 1, 3), (0.1, 1, 3, 0.0, -0.5),
                 (0.1, 1, 3, 0.0, np.inf)):
        with pytest.raises(ValueError):
            _kernels.find_peaks(heatmap, *args)
        with pytest.raises(ValueError):
            _numba.find_peaks(heatmap, *args)
    assert _numba.find_peaks(heatmap[:0], 0.1, 1, 3).shape == (0, 3)


int_costs = st.tuples(st.integers(0, 8), st.integers(0, 8)).flatmap(
    lambda s: arrays(np.float64, s, elements=st.integers(-3, 3).map(float)))
float_costs = st.tuples(st.integers(0, 8), st.integers(0, 8)).flatmap(
    lambda s: arrays(np.float64, s, elements=st.floats(-1e3, 1e3)))


@given(cost=st.one_of(int_costs, float_costs))
def test_linear_sum_assignment_parity(cost):
    """Integer costs tie often: the solvers must break ties the same way."""
    np.testing.assert_array_equal(_numba.linear_sum_assignment(cost),
                                  _kernels.linear_sum_assignment(cost))


def test_linear_sum_assignment_non_finite():
    cost = np.array([[np.inf, np.inf], [1.0, np.inf]])
    for module in (_kernels, _numba):
        with pytest.raises(ValueError):
            module.linear_sum_assignment(cost)
    partial = np.array([[np.nan, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(_numba.linear_sum_assignment(partial),
                                  _kernels.linear_sum_assignment(partial))


candidate_sets = st.tuples(st.integers(1, 10), st.integers(1, 10)).flatmap(
    lambda s: st.tuples(
        st.just(s),
        st.lists(st.tuples(st.integers(0, s[0] - 1), st.integers(0, s[1] - 1),
                           st.sampled_from([0.25, 0.5, 0.5, 0.75, 1.0, 1.5])
                           | st.floats(2.0 ** -10, 2.0, width=32)),
                 max_size=40)))


@given(data=candidate_sets, mode=st.sampled_from(MODES))
def test_assign_limb_parity(data, mode):
    """Random candidate graphs, with repeated pairs and tied scores."""
    (na, nb), cands = data
    a = np.array([c[0] for c in cands], np.int32)
    b = np.array([c[1] for c in cands], np.int32)
    score = np.array([c[2] for c in cands], np.float32)
    want = _kernels.assign_limb(a, b, score, na, nb, mode)
    got = _numba.assign_limb(a, b, score, na, nb, mode)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


large_candidate_sets = st.tuples(st.integers(24, 40), st.integers(24, 40)).flatmap(
    lambda s: st.tuples(
        st.just(s),
        st.lists(st.tuples(st.integers(0, s[0] - 1), st.integers(0, s[1] - 1),
                           st.sampled_from([0.25, 0.5, 0.75, 1.0])
                           | st.floats(2.0 ** -10, 2.0, width=32)),
                 min_size=3 * min(s), max_size=240)))


@given(data=large_candidate_sets)
def test_assign_limb_parity_large_components(data):
    """Components past the sparse solver's threshold (24 a side): the same choice,
    whether the sparse solver or the dense fallback makes it."""
    (na, nb), cands = data
    a = np.array([c[0] for c in cands], np.int32)
    b = np.array([c[1] for c in cands], np.int32)
    score = np.array([c[2] for c in cands], np.float32)
    np.testing.assert_array_equal(_numba.assign_limb(a, b, score, na, nb, "hungarian"),
                                  _kernels.assign_limb(a, b, score, na, nb, "hungarian"))


def test_core_decoder_interface():
    sk = SKELETONS["coco18"]
    c_core, n_core = _cores(sk, max_peaks=64, min_keypoints=4)
    assert n_core.max_people == c_core.max_people
    assert n_core.workspace_bytes(46, 82) > 0 and n_core.workspace_bytes(0, 82) == 0
    empty_heat = np.zeros((0, 18, 46, 82), np.float32)
    empty_paf = np.zeros((0, 38, 46, 82), np.float32)
    assert n_core.decode_batch(empty_heat, empty_paf, np.empty(64, np.uint8)) == []
    assert c_core.decode_batch(empty_heat, empty_paf, np.empty(64, np.uint8)) == []
    with pytest.raises(ValueError):
        _numba.CoreDecoder(sk.limbs, sk.paf_channels, sk.redundant, sk.num_keypoints,
                           to_record(dict(DecoderConfig().as_dict(), paf_samples=1)))
