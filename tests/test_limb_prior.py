"""The limb length prior (limb_length_prior): generic proportions by keypoint name, the
option's range, a candidate too long for its person losing to one that fits, and the
backends bit for bit with the reference agreeing on people."""

import numpy as np
import pytest

from pafdecode import Decoder, DecoderConfig, Skeleton, synth
from pafdecode._params import to_record
from pafdecode.backends import load_backend
from pafdecode.reference import ReferenceDecoder
from pafdecode.skeleton import limb_lengths_by_name

PRESETS = [Skeleton.openpose_coco18, Skeleton.body25, Skeleton.coco17, Skeleton.crowdpose14]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.__name__)
def test_every_preset_limb_has_a_proportion_below_half_the_stature(preset):
    skeleton = preset()
    lengths = skeleton.limb_lengths
    assert lengths.dtype == np.float32 and lengths.shape == (skeleton.num_limbs,)
    assert np.all(lengths > 0) and np.all(lengths < 0.5)
    assert not lengths.flags.writeable


def test_proportions_follow_the_names_not_the_indices():
    # The same body parts in another order and spelling give the same lengths.
    names = ["right_knee", "neck", "R-Hip", "r_ankle"]
    lengths = limb_lengths_by_name(names, [(1, 2), (2, 0), (0, 3)])
    coco = Skeleton.openpose_coco18()
    want = [coco.limb_lengths[i] for i, (a, b) in enumerate(coco.limbs.tolist())
            if (coco.keypoints[a], coco.keypoints[b]) in
            (("neck", "r_hip"), ("r_hip", "r_knee"), ("r_knee", "r_ankle"))]
    assert lengths.tolist() == want
    # Left and right: a part and its mirror image have a width, other crossings none.
    lengths = limb_lengths_by_name(["left_shoulder", "right_shoulder", "right_hip"],
                                   [(0, 1), (0, 2), (1, 2)])
    assert lengths[0] > 0 and lengths[1] == 0 and lengths[2] > 0


def test_unknown_names_get_no_proportion_and_lengths_can_be_given():
    skeleton = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])
    assert skeleton.limb_lengths.tolist() == [0.0, 0.0]
    given = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)], limb_lengths=[0.3, 0.25])
    assert given.limb_lengths.tolist() == pytest.approx([0.3, 0.25])
    assert given != skeleton


@pytest.mark.parametrize("bad, message", [([0.3], "shape"), ([0.3, -1.0], "limb_lengths\\[1\\]"),
                                          ([0.3, float("nan")], "limb_lengths\\[1\\]"),
                                          ("ab", "numbers")])
def test_bad_limb_lengths_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        Skeleton(["a", "b", "c"], [(0, 1), (1, 2)], limb_lengths=bad)


@pytest.mark.parametrize("value", [0.5, 0.999, -1.4, float("inf"), float("nan")])
def test_the_option_refuses_ratios_below_one_and_non_finite(value):
    with pytest.raises(ValueError, match="limb_length_prior"):
        DecoderConfig(limb_length_prior=value)


def test_the_option_is_on_by_default_and_takes_ratios_from_one():
    assert DecoderConfig().limb_length_prior == pytest.approx(1.2)
    assert DecoderConfig(limb_length_prior=None).limb_length_prior is None
    assert DecoderConfig.openpose().limb_length_prior is None
    assert DecoderConfig(limb_length_prior=1.0).limb_length_prior == 1.0
    assert DecoderConfig(limb_length_prior=1.4).limb_length_prior == pytest.approx(1.4)


# -- a candidate too long for its person ------------------------------------------------

HAND = Skeleton(["neck", "r_hip", "r_knee"], [(0, 1), (1, 2)])
TRUE_KNEE, FAR_KNEE = (200.0, 300.0), (380.0, 330.0)


def _hand_made_fields():
    """A person (neck, hip, knee: a 120 px trunk) whose thigh's PAF is weak (0.6),
    and a strong thigh PAF from the same hip to a knee 222 px away: 1.8 times the
    thigh that trunk predicts (0.245 / 0.303 of 120 px = 97 px)."""
    person = np.array([[[200, 80, 2], [200, 200, 2], [*TRUE_KNEE, 2]]], np.float64)
    stray = np.array([[[0, 0, 0], [200, 200, 2], [*FAR_KNEE, 2]]], np.float64)
    heat_p, paf_p = synth.render_fields(person, HAND, (480, 480))
    heat_s, paf_s = synth.render_fields(stray, HAND, (480, 480))
    thigh = list(HAND.paf_channels[1])
    paf = paf_p.copy()
    paf[thigh] = 0.6 * paf_p[thigh] + paf_s[thigh]
    return np.maximum(heat_p, heat_s), paf


def _knee(poses):
    assert len(poses) == 1
    return poses.keypoints[0, 2, :2]


@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
def test_a_candidate_too_long_for_its_person_loses_to_one_that_fits(make_decoder, assignment):
    heat, paf = _hand_made_fields()
    plain = make_decoder(HAND, assignment=assignment, limb_length_prior=None)(heat, paf)
    prior = make_decoder(HAND, assignment=assignment, limb_length_prior=1.4)(heat, paf)
    reference = ReferenceDecoder(HAND, assignment=assignment, limb_length_prior=1.4)(heat, paf)
    np.testing.assert_allclose(_knee(plain), FAR_KNEE, atol=2.0)
    np.testing.assert_allclose(_knee(prior), TRUE_KNEE, atol=2.0)
    np.testing.assert_allclose(_knee(reference), TRUE_KNEE, atol=2.0)
    # A bound loose enough to hold the far knee (1.8x) changes nothing.
    loose = make_decoder(HAND, assignment=assignment, limb_length_prior=2.0)(heat, paf)
    np.testing.assert_allclose(_knee(loose), FAR_KNEE, atol=2.0)


def test_the_same_figure_under_unknown_names_ignores_the_option(make_decoder):
    heat, paf = _hand_made_fields()
    unnamed = Skeleton(["p", "q", "r"], HAND.limbs)
    got = make_decoder(unnamed, limb_length_prior=1.4)(heat, paf)
    np.testing.assert_allclose(_knee(got), FAR_KNEE, atol=2.0)


def test_unknown_names_leave_a_crowd_decode_unchanged(make_decoder):
    coco = Skeleton.openpose_coco18()
    unnamed = Skeleton([f"k{i}" for i in range(coco.num_keypoints)], coco.limbs,
                       coco.paf_channels)
    scene = synth.crowd_scene(40, 11, skeleton=coco, occlusion=0.08)
    off = make_decoder(unnamed, split_merged_peaks=0.3, limb_length_prior=None)(
        scene.heatmaps, scene.pafs)
    on = make_decoder(unnamed, split_merged_peaks=0.3, limb_length_prior=1.2)(
        scene.heatmaps, scene.pafs)
    named = make_decoder(coco, split_merged_peaks=0.3, limb_length_prior=1.2)(
        scene.heatmaps, scene.pafs)
    assert np.array_equal(on.keypoints, off.keypoints) and np.array_equal(on.scores, off.scores)
    assert not np.array_equal(named.keypoints, off.keypoints)  # the scene is one it changes


def test_a_core_without_limb_lengths_ignores_the_option(backend):
    """pd_skeleton.limb_length NULL (the core built without lengths): no prior."""
    coco = Skeleton.openpose_coco18()
    scene = synth.crowd_scene(40, 12, skeleton=coco)
    core_module = load_backend(backend)

    def decode(config, **lengths):
        core = core_module.CoreDecoder(coco.limbs, coco.paf_channels, coco.redundant,
                                       coco.num_keypoints, to_record(config), **lengths)
        heat = np.ascontiguousarray(scene.heatmaps[: coco.num_keypoints], np.float32)
        paf = np.ascontiguousarray(scene.pafs, np.float32)
        scratch = np.empty(core.workspace_bytes(*heat.shape[1:]), np.uint8)
        return core.decode(heat, paf, scratch)[:2]

    on = DecoderConfig(limb_length_prior=1.2)
    without = decode(on)
    plain = decode(DecoderConfig(limb_length_prior=None))
    with_lengths = decode(on, limb_lengths=coco.limb_lengths)
    assert all(np.array_equal(x, y) for x, y in zip(without, plain))
    assert not np.array_equal(with_lengths[0], plain[0])


# -- parity ----------------------------------------------------------------------------

SCENES = [  # skeleton, people, seed, occlusion, noise
    ("coco18", 20, 21, 0.0, 0.0), ("coco18", 50, 22, 0.08, 0.0), ("coco18", 80, 23, 0.0, 0.05),
    ("body25", 30, 24, 0.08, 0.0), ("body25", 60, 25, 0.0, 0.0),
]


@pytest.mark.parametrize("prior", [1.2, 1.6])
@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("skeleton_name, n, seed, occlusion, noise", SCENES)
def test_c_equals_numba_and_the_reference_agrees(skeleton_name, n, seed, occlusion, noise,
                                                 assignment, prior):
    pytest.importorskip("numba", reason="the Numba twin needs numba (pafdecode[numba])")
    skeleton = Skeleton.body25() if skeleton_name == "body25" else Skeleton.openpose_coco18()
    scene = synth.crowd_scene(n, seed, skeleton=skeleton, occlusion=occlusion, noise=noise)
    options = dict(assignment=assignment, limb_length_prior=prior, split_merged_peaks=0.3)
    c = Decoder(skeleton, backend="c", **options)(scene.heatmaps, scene.pafs)
    twin = Decoder(skeleton, backend="numba", **options)(scene.heatmaps, scene.pafs)
    assert np.array_equal(c.keypoints, twin.keypoints) and np.array_equal(c.scores, twin.scores)
    assert c.stats == twin.stats
    if n <= 50:  # the reference is slow on bigger crowds
        want = ReferenceDecoder(skeleton, **options)(scene.heatmaps, scene.pafs)
        assert c.stats == want.stats
        np.testing.assert_allclose(c.keypoints, want.keypoints, atol=1e-4, rtol=0)
        np.testing.assert_allclose(c.scores, want.scores, atol=1e-5, rtol=0)
