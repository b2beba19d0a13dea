"""The lean call path: a layout validated once may skip only what is identical, the
lazily built parts of Poses, and the C core's refusals said in words."""

import numpy as np
import pytest

from pafdecode import Decoder, Skeleton, synth

COCO = Skeleton.openpose_coco18()


@pytest.fixture(scope="module")
def scene():
    return synth.crowd_scene(3, 11, image_size=(96, 128))


def same_people(a, b):
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.stats == b.stats


def misaligned(array):
    """A copy of `array` whose data starts one byte off a float32 boundary."""
    raw = np.empty(array.nbytes + 1, np.uint8)
    out = np.frombuffer(raw.data, array.dtype, array.size, offset=1).reshape(array.shape)
    out[...] = array
    assert not out.flags.aligned
    return out


def test_a_remembered_layout_still_refuses_bad_input(make_decoder, scene):
    decoder = make_decoder(COCO)
    heat, paf = scene.heatmaps, scene.pafs
    decoder(heat, paf)                      # the layout is now remembered
    bad = [
        ((heat[:17], paf), "heatmaps has 17 channels"),
        ((heat, paf[:36]), "pafs has 36 channels"),
        ((heat, paf[:, :, :-1]), "but pafs are"),
        ((heat.astype(np.int32), paf), "heatmaps must be float16, float32 or float64"),
        ((heat[None], paf[None]), "heatmaps must have 3 dimensions"),
        ((heat[:, :0], paf[:, :0]), "empty"),
    ]
    for args, message in bad:
        with pytest.raises(ValueError, match=message):
            decoder(*args)
    with pytest.raises(ValueError, match="heatmaps must have 4 dimensions"):
        decoder.decode_batch(heat, paf)
    decoder.decode_batch(heat[None], paf[None])
    with pytest.raises(ValueError, match="heatmaps hold 1 frames but pafs hold 2"):
        decoder.decode_batch(heat[None], np.stack([paf, paf]))


def test_inputs_of_a_remembered_shape_that_need_conversion_are_converted(make_decoder, scene,
                                                                          rng):
    decoder = make_decoder(COCO)
    heat, paf = scene.heatmaps, scene.pafs
    expected = decoder(heat, paf)
    same_people(decoder(heat, paf), expected)                     # the remembered path
    same_people(decoder(misaligned(heat), misaligned(paf)), expected)
    same_people(decoder(heat.astype(">f4"), paf.astype(">f4")), expected)
    mask = rng.random(heat.shape) < 0.2
    masked = decoder(np.ma.masked_array(heat, mask=mask), paf)
    same_people(masked, decoder(np.where(mask, 0, heat).astype(np.float32), paf))
    # A mask of the same shape after it: the remembered layout does not apply to it.
    assert not np.array_equal(masked.keypoints, expected.keypoints)


def test_strided_and_hwc_layouts_agree_with_a_fresh_decoder(make_decoder, scene):
    heat, paf = scene.heatmaps, scene.pafs
    hwc = make_decoder(COCO, layout="HWC")
    heat_hwc = np.ascontiguousarray(heat.transpose(1, 2, 0))
    paf_hwc = np.ascontiguousarray(paf.transpose(1, 2, 0))
    expected = make_decoder(COCO)(heat, paf)
    for _ in range(2):
        same_people(hwc(heat_hwc, paf_hwc), expected)
        for got in hwc.decode_batch(heat_hwc[None], paf_hwc[None]):
            same_people(got, expected)
    # Every other column: other strides, another remembered layout.
    chw = make_decoder(COCO)
    wide_heat = np.repeat(heat, 2, axis=2)[:, :, ::2]
    wide_paf = np.repeat(paf, 2, axis=2)[:, :, ::2]
    for _ in range(2):
        same_people(chw(wide_heat, wide_paf), expected)


def test_batches_give_each_frame_its_own_people(make_decoder, scene):
    decoder = make_decoder(COCO)
    other = synth.crowd_scene(2, 12, image_size=(96, 128))
    heats = np.stack([scene.heatmaps, np.zeros_like(scene.heatmaps), other.heatmaps])
    pafs = np.stack([scene.pafs, np.zeros_like(scene.pafs), other.pafs])
    for _ in range(2):
        batch = decoder.decode_batch(heats, pafs)
        assert len(batch[1]) == 0 and batch[1].keypoints.shape == (0, 18, 3)
        for poses, heat, paf in zip(batch, heats, pafs):
            same_people(poses, decoder(heat, paf))
            assert list(poses.track_ids) == [-1] * len(poses)


def test_poses_build_stats_and_ids_once(make_decoder, scene):
    poses = make_decoder(COCO)(scene.heatmaps, scene.pafs)
    assert set(poses.stats) == {"peaks", "candidates", "connections", "people"}
    assert poses.stats["people"] == len(poses) > 0
    poses.stats["decode_ms"] = 1.5
    assert poses.stats["decode_ms"] == 1.5
    ids = poses.track_ids
    assert ids.dtype == np.int64 and ids.shape == (len(poses),) and (ids == -1).all()
    assert poses.track_ids is ids
    poses.track_ids = np.arange(len(poses))
    assert list(poses.track_ids) == list(range(len(poses)))
    with pytest.raises(ValueError, match="track_ids must have one id per person"):
        poses.track_ids = [1]


# -- the core's refusals, in words ----------------------------------------------------

@pytest.mark.parametrize("num_keypoints, limbs, paf, message", [
    (2, [(0, 0)], [(0, 1)], r"limb 0 joins keypoints \(0, 0\); expected two different "
                            r"keypoints in 0..1"),
    (2, [(0, 2)], [(0, 1)], r"limb 0 joins keypoints \(0, 2\)"),
    (3, [(0, 1), (1, 2)], [(0, 1), (2, -3)], r"limb 1 reads PAF channels \(2, -3\); "
                                             r"expected channels >= 0"),
    (0, [], [], "the skeleton has 0 keypoints; expected 1..4096"),
    (5000, [(0, 1)], [(0, 1)], "the skeleton has 5000 keypoints; expected 1..4096"),
])
def test_skeleton_refusals_name_the_limb_and_the_rule(kernels, num_keypoints, limbs, paf,
                                                      message):
    from pafdecode._params import to_record
    from pafdecode import DecoderConfig

    with pytest.raises(ValueError, match=message) as info:
        kernels.CoreDecoder(limbs, paf, [0] * len(limbs), num_keypoints,
                            to_record(DecoderConfig()))
    assert "code -1" not in str(info.value)


def test_field_refusals_of_the_core_say_what_was_expected(kernels):
    from pafdecode._params import to_record
    from pafdecode import DecoderConfig

    core = kernels.CoreDecoder(COCO.limbs, COCO.paf_channels, COCO.redundant, 18,
                               to_record(DecoderConfig()))
    scratch = np.empty(core.workspace_bytes(4, 4), np.uint8)
    heat, paf = np.zeros((18, 4, 4), np.float32), np.zeros((38, 4, 4), np.float32)
    cases = [
        ((heat[:17], paf), "heatmaps has 17 channels; expected at least the skeleton's 18"),
        ((heat, paf[:30]), "the skeleton reads PAF channels up to 37, but pafs has 30"),
        ((heat, paf[:, :, :3]), "heatmaps are 4x4 but pafs are 4x3; expected the same size"),
        ((heat[:, :0], paf[:, :0]), r"the maps are empty \(0x4\); expected at least 1x1"),
    ]
    for (h, p), message in cases:
        with pytest.raises(ValueError, match=message) as info:
            core.decode(h, p, scratch)
        assert "code -1" not in str(info.value)


def test_c_binding_refusals_name_the_argument():
    kernels = pytest.importorskip("pafdecode._kernels")
    with pytest.raises(ValueError, match="find_peaks: radius is 0; expected 1 or more"):
        kernels.find_peaks(np.zeros((3, 3), np.float32), 0.1, 0, 4)
    with pytest.raises(ValueError, match="find_peaks: threshold is nan"):
        kernels.find_peaks(np.zeros((3, 3), np.float32), np.nan, 1, 4)
    with pytest.raises(ValueError, match="peak_support is -1.0; expected a finite number"):
        kernels.find_peaks(np.zeros((3, 3), np.float32), 0.1, 1, 4, peak_support=-1.0)
    with pytest.raises(ValueError, match="linear_sum_assignment: cost leaves a row"):
        kernels.linear_sum_assignment(np.full((2, 2), np.nan))
    core = kernels.CoreDecoder(COCO.limbs, COCO.paf_channels, COCO.redundant, 18,
                               kernels.default_record())
    heat = np.zeros((18, 4, 4), np.float32)
    with pytest.raises(ValueError, match="scratch holds 8 bytes; expected at least"):
        core.decode(heat, np.zeros((38, 4, 4), np.float32), np.empty(8, np.uint8))
    with pytest.raises(ValueError, match="heatmaps must be a 3-D array of native float32"):
        core.decode(heat.astype(np.float64), heat, np.empty(8, np.uint8))
