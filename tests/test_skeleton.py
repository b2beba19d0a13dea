"""Skeleton presets against the published layouts."""

import numpy as np

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
