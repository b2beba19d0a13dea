"""Bad input: a ValueError that names the problem, or a documented treatment."""

import numpy as np
import pytest

from pafdecode import Decoder, Skeleton

COCO = Skeleton.openpose_coco18()


def fields(k=18, paf=38, h=12, w=16, dtype=np.float32):
    return np.zeros((k, h, w), dtype), np.zeros((paf, h, w), dtype)


@pytest.mark.parametrize("heat_shape, paf_shape, message", [
    ((18, 12), (38, 12, 16), "heatmaps must have 3 dimensions"),
    ((1, 18, 12, 16), (38, 12, 16), "heatmaps must have 3 dimensions"),
    ((18, 12, 16), (38, 12), "pafs must have 3 dimensions"),
    ((17, 12, 16), (38, 12, 16), "heatmaps has 17 channels"),
    ((20, 12, 16), (38, 12, 16), "heatmaps has 20 channels"),
    ((18, 12, 16), (36, 12, 16), "pafs has 36 channels"),
    ((19, 12, 16), (38, 12, 15), "heatmaps are 12x16 but pafs are 12x15"),
    ((18, 0, 16), (38, 0, 16), "empty"),
    ((18, 12, 0), (38, 12, 0), "empty"),
])
def test_shape_errors_name_the_problem(make_decoder, heat_shape, paf_shape, message):
    decoder = make_decoder(COCO)
    with pytest.raises(ValueError, match=message):
        decoder(np.zeros(heat_shape, np.float32), np.zeros(paf_shape, np.float32))


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_, np.complex64, object])
def test_non_float_dtypes_are_refused(make_decoder, dtype):
    heat, paf = fields()
    with pytest.raises(ValueError, match="heatmaps must be float16, float32 or float64"):
        make_decoder(COCO)(heat.astype(dtype), paf)


def test_batch_frame_counts_must_match(make_decoder):
    heat, paf = fields()
    with pytest.raises(ValueError, match="heatmaps hold 2 frames but pafs hold 3"):
        make_decoder(COCO).decode_batch(np.stack([heat] * 2), np.stack([paf] * 3))
    with pytest.raises(ValueError, match="heatmaps must have 4 dimensions"):
        make_decoder(COCO).decode_batch(heat, paf)


@pytest.mark.parametrize("option, value, message", [
    ("assignment", "optimal", "assignment must be"),
    ("assembly", "greedy", "assembly must be 'tree' or 'global'"),
    ("layout", "NCHW", "layout must be"),
    ("stride", 0, "stride must be > 0"),
    ("stride", float("nan"), "stride must be finite"),
    ("peak_threshold", float("inf"), "peak_threshold must be finite"),
    ("peak_radius", 0, "peak_radius must be in 1..64"),
    ("max_peaks", 0, "max_peaks must be in 1..4096"),
    ("max_peaks", 2.5, "max_peaks must be an integer"),
    ("paf_samples", 1, "paf_samples must be in 2..4096"),
    ("min_inlier_ratio", 1.5, "min_inlier_ratio must be <= 1"),
    ("max_limb_length", -3, "max_limb_length must be > 0"),
    ("max_candidates", 0, "max_candidates must be >= 1"),
    ("min_keypoints", -1, "min_keypoints must be >= 0"),
    ("min_person_score", "high", "min_person_score must be a number"),
    ("shared_peak_score", 0, "shared_peak_score must be > 0"),
    ("shared_peak_score", float("nan"), "shared_peak_score must be finite"),
    ("oks_nms", 1.5, "oks_nms must be <= 1"),
    ("repair_score", -0.1, "repair_score must be > 0"),
    ("redundant_veto", 0, "redundant_veto must be > 0"),
    ("peak_support", 0, "peak_support must be > 0"),
    ("peak_support", float("inf"), "peak_support must be finite"),
    ("join_fragments", 0, "join_fragments must be > 0"),
    ("join_fragments", 1.5, "join_fragments must be <= 1"),
    ("join_fragments", float("nan"), "join_fragments must be finite"),
])
def test_bad_options_name_the_option(option, value, message):
    with pytest.raises(ValueError, match=message):
        Decoder(COCO, **{option: value})


def test_skeleton_is_required():
    with pytest.raises(ValueError, match="skeleton must be a pafdecode.Skeleton"):
        Decoder([(0, 1)])


@pytest.mark.parametrize("limbs, paf, message", [
    ([(0, 5)], None, r"limbs\[0\] = \(0, 5\) has a keypoint index outside 0..2"),
    ([(-1, 1)], None, "outside"),
    ([(1, 1)], None, "joins a keypoint to itself"),
    ([(0, 1), (1, 0)], None, r"limbs\[1\] = \(1, 0\) repeats limbs\[0\]"),
    ([(0, 1), (1, 2)], [(0, 1)], "paf_channels has 1 pairs but there are 2 limbs"),
    ([(0, 1), (1, 2)], [(0, 1), (1, 2)], r"paf_channels uses channels \[1\] more than once"),
    ([(0, 1)], [(-2, 1)], "negative channel"),
    ([(0, 1, 2)], None, "integer pairs"),
])
def test_skeleton_errors_say_which(limbs, paf, message):
    with pytest.raises(ValueError, match=message):
        Skeleton(["a", "b", "c"], limbs, paf)


def test_skeleton_repeated_names():
    with pytest.raises(ValueError, match=r"repeated names: \['a'\]"):
        Skeleton(["a", "b", "a"], [(0, 1)])


def test_all_nan_and_inf_fields_give_no_people(make_decoder):
    heat, paf = fields()
    for bad in (np.nan, np.inf, -np.inf):
        heat[:] = bad
        paf[:] = bad
        poses = make_decoder(COCO)(heat, paf)
        assert poses.keypoints.shape == (0, 18, 3) and poses.scores.shape == (0,)


def test_empty_result_keeps_its_shape(make_decoder):
    poses = make_decoder(COCO)(*fields())
    assert len(poses) == 0
    assert poses.keypoints.shape == (0, 18, 3) and poses.keypoints.dtype == np.float32
    assert poses.scores.shape == (0,) and poses.scores.dtype == np.float32
    assert poses.to_coco(7) == []


def test_single_pixel_maps(make_decoder):
    heat, paf = fields(h=1, w=1)
    heat[:] = 1.0
    poses = make_decoder(COCO)(heat, paf)
    assert poses.keypoints.shape[1:] == (18, 3)
