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
