"""Skeleton presets against the published layouts."""

import numpy as np
import pytest

from pafdecode import Skeleton


def test_coco18_matches_tfpose_layout():
    skeleton = Skeleton.openpose_coco18()
    assert skeleton.num_keypoints == 18 and skeleton.num_limbs == 19
    assert skeleton.num_paf_channels == 38
    # ../shared/README.md: (1,2)->(12,13), (1,8)->(0,1), (5,17)->(26,27)
    pairs = {tuple(l): tuple(c) for l, c in zip(skeleton.limbs.tolist(),
                                                skeleton.paf_channels.tolist())}
    assert pairs[(1, 2)] == (12, 13) and pairs[(1, 8)] == (0, 1) and pairs[(5, 17)] == (26, 27)
    assert sorted(np.ravel(skeleton.paf_channels).tolist()) == list(range(38))
    # Only the shoulder-ear links close cycles.
    assert [tuple(l) for l in skeleton.limbs[skeleton.redundant].tolist()] == [(2, 16), (5, 17)]


def test_body25():
    skeleton = Skeleton.body25()
    assert skeleton.num_keypoints == 25 and skeleton.num_limbs == 26
    assert sorted(np.ravel(skeleton.paf_channels).tolist()) == list(range(52))
    assert [tuple(l) for l in skeleton.limbs[skeleton.redundant].tolist()] == [(2, 17), (5, 18)]


def test_default_paf_channels_and_equality():
    skeleton = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])
    assert skeleton.paf_channels.tolist() == [[0, 1], [2, 3]]
    assert skeleton == Skeleton(["a", "b", "c"], [(0, 1), (1, 2)], [(0, 1), (2, 3)])
    assert not skeleton.redundant.any()
    assert not skeleton.limbs.flags.writeable


def test_index_maps_between_skeletons():
    from pafdecode.metrics import COCO17_KEYPOINTS, CROWDPOSE14_KEYPOINTS, convert_keypoints

    coco18 = Skeleton.openpose_coco18()
    to17 = coco18.index_map(COCO17_KEYPOINTS)
    # COCO-17 nose, left eye, right shoulder from COCO-18 nose (0), l_eye (15), r_shoulder (2)
    assert to17[[0, 1, 6]].tolist() == [0, 15, 2]
    assert (to17 >= 0).all()
    body25 = Skeleton.body25()
    assert (body25.index_map(coco18)[:] >= 0).all()
    crowd = np.array(COCO17_KEYPOINTS).tolist()
    from pafdecode.metrics import keypoint_index_map
    to14 = keypoint_index_map(crowd, CROWDPOSE14_KEYPOINTS)
    assert to14.tolist()[:2] == [5, 6] and to14[12] == -1  # no head in COCO-17
    people = np.arange(18 * 3, dtype=np.float32).reshape(1, 18, 3)
    converted = convert_keypoints(people, to17)
    assert converted.shape == (1, 17, 3)
    np.testing.assert_array_equal(converted[0, 6], people[0, 2])


# -- keypoint sets: one definition ----------------------------------------------------

def test_keypoint_sets_are_defined_once_and_re_exported():
    from pafdecode import io, metrics, skeleton

    for name in ("COCO17_KEYPOINTS", "CROWDPOSE14_KEYPOINTS", "COCO_SIGMAS",
                 "CROWDPOSE_SIGMAS", "KEYPOINT_ALIASES", "keypoint_index_map"):
        assert getattr(metrics, name) is getattr(skeleton, name)
    for name in ("COCO17_KEYPOINTS", "COCO18_TO_COCO17", "BODY25_TO_COCO17"):
        assert getattr(io, name) is getattr(skeleton, name)


def test_openpose_to_coco17_tables_by_hand():
    from pafdecode.skeleton import BODY25_TO_COCO17, COCO18_TO_COCO17

    # COCO-17: nose, l/r eye, l/r ear, l/r shoulder, elbow, wrist, hip, knee, ankle.
    assert COCO18_TO_COCO17 == (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
    assert BODY25_TO_COCO17 == (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)


# -- OKS sigmas -----------------------------------------------------------------------

# pycocotools' kpt_oks_sigmas (COCO keypoint paper) by body part.
PAPER_SIGMAS = {"nose": 0.026, "eye": 0.025, "ear": 0.035, "shoulder": 0.079,
                "elbow": 0.072, "wrist": 0.062, "hip": 0.107, "knee": 0.087, "ankle": 0.089}
PAPER_MEAN = (0.026 + 2 * (0.025 + 0.035 + 0.079 + 0.072 + 0.062 + 0.107 + 0.087 + 0.089)) / 17


def _paper_sigma(name):
    """The paper's sigma of a COCO body part: a sided part ("l_knee", "right_eye") or
    the nose; the mean for anything else (neck, mid_hip, toes)."""
    side, _, part = name.partition("_")
    if name == "nose":
        return PAPER_SIGMAS["nose"]
    if side in ("l", "r", "left", "right") and part in PAPER_SIGMAS:
        return PAPER_SIGMAS[part]
    return PAPER_MEAN


def test_sigmas_of_the_presets_follow_the_coco_paper():
    for skeleton in (Skeleton.coco17(), Skeleton.openpose_coco18(), Skeleton.body25()):
        assert skeleton.sigmas.dtype == np.float64
        assert skeleton.sigmas.shape == (skeleton.num_keypoints,)
        expected = [_paper_sigma(n) for n in skeleton.keypoints]
        np.testing.assert_allclose(skeleton.sigmas, expected, rtol=0, atol=1e-12)
        assert not skeleton.sigmas.flags.writeable
    body25 = Skeleton.body25()
    for name in ("neck", "mid_hip", "l_big_toe", "r_heel"):  # not in COCO: the mean
        assert body25.sigmas[body25.keypoints.index(name)] == pytest.approx(PAPER_MEAN)
    # CrowdPose's own constants: COCO's for the limbs, 0.079 for head and neck.
    crowd = Skeleton.crowdpose14()
    np.testing.assert_allclose(crowd.sigmas[:12], [0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                                                   0.107, 0.107, 0.087, 0.087, 0.089, 0.089])
    np.testing.assert_allclose(crowd.sigmas[12:], [0.079, 0.079])


def test_default_sigmas_are_the_decoders_rule_bit_for_bit():
    from pafdecode.metrics import COCO17_KEYPOINTS, COCO_SIGMAS, keypoint_index_map

    for keypoints in (Skeleton.openpose_coco18().keypoints, Skeleton.body25().keypoints,
                      ["Head Top", "L-Wrist", "tail"]):
        skeleton = Skeleton(keypoints, [(0, 1)])
        index = keypoint_index_map(COCO17_KEYPOINTS, skeleton.keypoints)
        rule = np.full(len(keypoints), float(np.mean(COCO_SIGMAS)))
        rule[index >= 0] = COCO_SIGMAS[index[index >= 0]]
        assert skeleton.sigmas.tobytes() == rule.tobytes()


def test_explicit_sigmas_are_checked():
    skeleton = Skeleton(["a", "b"], [(0, 1)], sigmas=[0.05, 0.1])
    np.testing.assert_array_equal(skeleton.sigmas, [0.05, 0.1])
    assert skeleton != Skeleton(["a", "b"], [(0, 1)])
    for bad in ([0.05], [0.05, 0.0], [0.05, -1.0], [0.05, np.nan], [0.05, np.inf], "ab"):
        with pytest.raises(ValueError, match="sigmas"):
            Skeleton(["a", "b"], [(0, 1)], sigmas=bad)


# -- mirroring ------------------------------------------------------------------------

def test_coco18_flip_by_hand():
    skeleton = Skeleton.openpose_coco18()
    # (l_shoulder, r_shoulder), elbows, wrists, hips, knees, ankles, eyes, ears
    assert skeleton.flip_pairs.tolist() == [[5, 2], [6, 3], [7, 4], [11, 8], [12, 9],
                                            [13, 10], [15, 14], [17, 16]]
    assert skeleton.flip_permutation().tolist() == [
        0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16]
    # neck-r_shoulder <-> neck-l_shoulder, ..., nose-neck stays, r/l shoulder-ear swap
    assert skeleton.limb_flip_permutation().tolist() == [
        1, 0, 4, 5, 2, 3, 9, 10, 11, 6, 7, 8, 12, 15, 16, 13, 14, 18, 17]


def test_body25_flip_by_hand():
    skeleton = Skeleton.body25()
    assert skeleton.flip_permutation().tolist() == [
        0, 1, 5, 6, 7, 2, 3, 4, 8, 12, 13, 14, 9, 10, 11, 16, 15, 18, 17, 22, 23, 24,
        19, 20, 21]
    assert skeleton.limb_flip_permutation().tolist() == [
        0, 2, 1, 5, 6, 3, 4, 10, 11, 12, 7, 8, 9, 13, 16, 17, 14, 15, 19, 18, 23, 24, 25,
        20, 21, 22]


def _mirror_name(name):
    for side, other in (("left_", "right_"), ("right_", "left_"), ("l_", "r_"), ("r_", "l_")):
        if name.startswith(side):
            return other + name[len(side):]
    return name


def test_flip_permutations_are_involutions_that_swap_sides():
    for skeleton in (Skeleton.coco17(), Skeleton.crowdpose14(), Skeleton.openpose_coco18(),
                     Skeleton.body25()):
        perm = skeleton.flip_permutation()
        np.testing.assert_array_equal(perm[perm], np.arange(skeleton.num_keypoints))
        for k, name in enumerate(skeleton.keypoints):
            assert skeleton.keypoints[perm[k]] == _mirror_name(name), (skeleton, name)
        limb_perm = skeleton.limb_flip_permutation()
        np.testing.assert_array_equal(limb_perm[limb_perm], np.arange(skeleton.num_limbs))


def test_custom_flip_pairs():
    skeleton = Skeleton(["head", "l_hand", "r_hand"], [(0, 1), (0, 2)], flip_pairs=[(1, 2)])
    assert skeleton.flip_permutation().tolist() == [0, 2, 1]
    assert skeleton.limb_flip_permutation().tolist() == [1, 0]
    plain = Skeleton(["head", "l_hand", "r_hand"], [(0, 1), (0, 2)], name="arms")
    assert plain.flip_pairs.shape == (0, 2)
    with pytest.raises(ValueError, match="'arms' has no flip pairs"):
        plain.flip_permutation()
    with pytest.raises(ValueError, match="no flip pairs"):
        Skeleton(["a", "b"], [(0, 1)]).limb_flip_permutation()
    for bad, message in (([(1, 3)], "outside"), ([(1, 1)], "itself"),
                         ([(1, 2), (2, 0)], "already"), ([(1, 2, 0)], "pairs")):
        with pytest.raises(ValueError, match=message):
            Skeleton(["head", "l_hand", "r_hand"], [(0, 1)], flip_pairs=bad)
    lopsided = Skeleton(["head", "l_hand", "r_hand"], [(0, 1)], flip_pairs=[(1, 2)])
    with pytest.raises(ValueError, match=r"limbs\[0\] = \(0, 1\).*not one of its limbs"):
        lopsided.limb_flip_permutation()


def test_flip_pairs_from_names():
    from pafdecode.skeleton import flip_pairs_from_names

    pairs = flip_pairs_from_names(["Left Eye", "nose", "right-eye", "l_tail", "left_paw"])
    assert pairs.tolist() == [[0, 2]]
    assert flip_pairs_from_names(["a"]).shape == (0, 2)


# -- COCO-17 and CrowdPose-14 presets ---------------------------------------------------

def test_coco17_preset_matches_the_coco_annotation_file(shared):
    import json

    path = shared / "data" / "coco-train-mini" / "person_keypoints.json"
    category = json.loads(path.read_text())["categories"][0]
    skeleton = Skeleton.coco17()
    assert list(skeleton.keypoints) == category["keypoints"]
    assert (skeleton.limbs + 1).tolist() == category["skeleton"]  # the file counts from 1
    assert skeleton.num_limbs == 19 and skeleton.name == "COCO-17"
    assert [tuple(l) for l in skeleton.limbs[skeleton.redundant].tolist()] == [
        (5, 6), (0, 2), (4, 6)]


def test_crowdpose14_preset(shared):
    import json

    path = shared / "data" / "crowdpose-mini" / "test_crowdpose.json"
    names = json.loads(path.read_text())["categories"][0]["keypoints"]
    skeleton = Skeleton.crowdpose14()
    assert list(skeleton.keypoints) == names
    named = {tuple(sorted((names[a], names[b]))) for a, b in skeleton.limbs.tolist()}
    expected = {("left_ankle", "left_knee"), ("left_hip", "left_knee"),
                ("right_ankle", "right_knee"), ("right_hip", "right_knee"),
                ("left_hip", "right_hip"), ("left_hip", "left_shoulder"),
                ("right_hip", "right_shoulder"), ("left_shoulder", "right_shoulder"),
                ("left_elbow", "left_shoulder"), ("right_elbow", "right_shoulder"),
                ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
                ("head", "neck"), ("neck", "right_shoulder"), ("left_shoulder", "neck")}
    assert named == expected
    assert skeleton.flip_pairs.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
