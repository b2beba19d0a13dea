"""Bad input: a ValueError that names the problem, or a documented treatment."""

import numpy as np
import pytest

from pafdecode import Decoder, DecoderConfig, Skeleton

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
    ("assignment", "optimal", r"assignment must be 'greedy' or 'hungarian', got 'optimal'"),
    ("stride", 0, r"stride must be a number in \[0.001, 4096\], got 0"),
    ("stride", float("nan"), "stride must be .*, got nan"),
    ("stride", 1e39, r"stride must be .*, got 1e\+39"),
    ("stride", 1e-50, "stride must be .*, got 1e-50"),
    ("peak_threshold", float("inf"), "peak_threshold must be a number >= 0, got inf"),
    ("peak_threshold", -0.1, "peak_threshold must be a number >= 0, got -0.1"),
    ("paf_threshold", -0.5, "paf_threshold must be a number >= 0, got -0.5"),
    ("peak_radius", 0, r"peak_radius must be an integer in 1..64, got 0"),
    ("max_peaks", 0, r"max_peaks must be an integer in 1..4096, got 0"),
    ("max_peaks", 2.5, "max_peaks must be an integer in 1..4096, got 2.5"),
    ("paf_samples", 1, r"paf_samples must be an integer in 2..4096, got 1"),
    ("min_inlier_ratio", 1.5, r"min_inlier_ratio must be a number in \[0, 1\], got 1.5"),
    ("max_limb_length", -3, "max_limb_length must be a number >= 0.001 or None"),
    ("max_limb_length", 1e-300, "max_limb_length must be .*, got 1e-300"),
    ("max_candidates", 0, r"max_candidates must be an integer in 1..16777216, got 0"),
    ("max_candidates", 2**31, r"max_candidates must be an integer in 1..16777216, got 2147483648"),
    ("min_keypoints", 0, r"min_keypoints must be an integer in 1..4096, got 0"),
    ("min_keypoints", 2**31, r"min_keypoints must be .*, got 2147483648"),
    ("min_person_score", -1.0, "min_person_score must be a number >= 0, got -1.0"),
    ("shared_peak_score", 0, "shared_peak_score must be a number > 0 or None"),
    ("shared_peak_score", float("nan"), "shared_peak_score must be .*, got nan"),
    ("peak_support", 0, "peak_support must be a number > 0 or None"),
    ("peak_support", float("inf"), "peak_support must be"),
    ("peak_support", 1e39, "peak_support must be .* as a float32"),
    ("peak_support", 1e-40, "peak_support must be .* as a float32"),
    ("join_fragments", 0, r"join_fragments must be a number in \(0, 1\] or None"),
    ("join_fragments", 1.5, "join_fragments must be"),
    ("join_fragments", 1.0000001, "join_fragments must be .*, got 1.0000001"),
    ("join_fragments", float("nan"), "join_fragments must be"),
])
def test_bad_options_name_the_option_the_value_and_the_range(option, value, message):
    with pytest.raises(ValueError, match=message):
        Decoder(COCO, **{option: value})
    with pytest.raises(ValueError, match=message):
        DecoderConfig(**{option: value})


@pytest.mark.parametrize("option, value", [
    ("min_person_score", "high"), ("peak_radius", True), ("stride", None.__class__),
])
def test_options_of_the_wrong_kind_are_type_errors(option, value):
    with pytest.raises(TypeError, match=option):
        Decoder(COCO, **{option: value})


@pytest.mark.parametrize("removed", ["repair_score", "redundant_veto", "assembly", "oks_nms",
                                     "no_such_option"])
def test_removed_and_unknown_options_are_type_errors(removed):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{removed}'"):
        Decoder(COCO, **{removed: 0.5})


def test_layout_is_checked():
    with pytest.raises(ValueError, match="layout must be 'CHW' or 'HWC', got 'NCHW'"):
        Decoder(COCO, layout="NCHW")


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
    ([(0, 1)], [(-2, 1)], r"paf_channels\[0\] = \(-2, 1\) has a channel index outside"),
    ([(0, 1, 2)], None, "not a pair of integers"),
    ([(0.5, 1.9)], None, r"limbs\[0\] = \(0.5, 1.9\) holds 0.5, which is not an integer"),
    ([(0, 1.5)], None, "holds 1.5, which is not an integer"),
    ([("0", "1")], None, "holds '0', which is not an integer"),
    ([(True, 2)], None, "holds True, which is not an integer"),
    ([(0, float("nan"))], None, "holds nan, which is not an integer"),
    ([(0, 2**63)], None, r"limbs\[0\] = \(0, 9223372036854775808\) has a keypoint index"),
    ([(0, 2**32 + 1)], None, r"\(0, 4294967297\) has a keypoint index outside 0..2"),
    ([(0, 1)], [(0, 2**63)], r"\(0, 9223372036854775808\) has a channel index outside "
                             r"0..2147483646"),
    ([(0, 1)], [(0, 2**31)], r"\(0, 2147483648\) has a channel index outside"),
    ([(0, 1)], [(0, 2**31 - 1)], r"\(0, 2147483647\) has a channel index outside"),
    ([(0, 1)], [(0, 2**32 + 1)], r"\(0, 4294967297\) has a channel index outside"),
    ([(0, 1)], [(0.0, 1.5)], r"paf_channels\[0\] = \(0.0, 1.5\) holds 1.5"),
    ("01", None, "sequence of integer pairs"),
    (5, None, "sequence of integer pairs"),
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


def test_integral_floats_and_numpy_integers_are_indices():
    by_float = Skeleton(["a", "b", "c"], [(0.0, 1.0), (np.int64(1), np.uint8(2))],
                        np.array([[2, 3], [0, 1]], np.int64))
    assert by_float == Skeleton(["a", "b", "c"], [(0, 1), (1, 2)], [(2, 3), (0, 1)])
    assert Skeleton(["a", "b"], [(0, 1)], [(0, 2**31 - 2)]).num_paf_channels == 2**31 - 1


def test_flip_pairs_are_not_truncated():
    with pytest.raises(ValueError, match=r"flip_pairs\[0\] = \(0.5, 1.9\) holds 0.5"):
        Skeleton(["a", "b"], [(0, 1)], flip_pairs=[(0.5, 1.9)])
    with pytest.raises(ValueError, match="flip_pairs.*outside 0..1"):
        Skeleton(["a", "b"], [(0, 1)], flip_pairs=[(0, 2**64)])


def test_more_keypoints_than_the_core_takes(backend):
    skeleton = Skeleton([f"k{i}" for i in range(4097)], [(0, 1)])
    with pytest.raises(ValueError, match="skeleton has 4097 keypoints; the decoder takes "
                                         "1..4096"):
        Decoder(skeleton, backend=backend)
    Decoder(Skeleton([f"k{i}" for i in range(4096)], [(0, 1)]), backend=backend)


@pytest.mark.parametrize("shape", [(3, 2**31 + 5), (2**16, 2**16), (8193, 8192)])
def test_maps_beyond_the_cell_limit_are_refused_before_any_work(make_decoder, shape):
    # Zero-stride views cost no memory to pass; decoding them would take gigabytes.
    sk = Skeleton(["a", "b"], [(0, 1)])
    heat = np.broadcast_to(np.float32(0), (2,) + shape)
    with pytest.raises(ValueError, match=f"{shape[0]}x{shape[1]} map cells, more than the "
                                         "decoder's limit of 67108864"):
        make_decoder(sk)(heat, heat)
    with pytest.raises(ValueError, match="more than the decoder's limit"):
        make_decoder(sk).decode_batch(heat[None], heat[None])
