"""Skeleton definitions: keypoint names, limbs and the PAF channels of each limb."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

__all__ = ["Skeleton"]

COCO18_KEYPOINTS = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye",
    "l_eye", "r_ear", "l_ear",
)
# CMU's limb order; the last two (shoulder to ear) are the redundant links.
COCO18_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
    (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17),
)
# PAF channel pairs of CMU's published COCO model, counted from the first PAF channel.
COCO18_PAF_CHANNELS = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5),
    (6, 7), (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19),
    (26, 27),
)

BODY25_KEYPOINTS = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel",
    "r_big_toe", "r_small_toe", "r_heel",
)
# OpenPose's BODY_25 network pairs and PAF map indices (poseParameters.cpp).
BODY25_LIMBS = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11),
    (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (2, 17),
    (5, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
)
BODY25_PAF_CHANNELS = (
    (0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7), (2, 3),
    (4, 5), (8, 9), (10, 11), (12, 13), (30, 31), (32, 33), (36, 37), (34, 35), (38, 39),
    (20, 21), (28, 29), (40, 41), (42, 43), (44, 45), (46, 47), (48, 49), (50, 51),
)


def _as_index_pairs(pairs: Iterable[Sequence[int]], what: str) -> np.ndarray:
    try:
        arr = np.array([tuple(p) for p in pairs], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a sequence of integer pairs") from exc
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{what} must be a sequence of integer pairs, got shape {arr.shape}")
    return arr


class Skeleton:
    """A pose skeleton: keypoints, the limbs joining them and their PAF channels.

    Parameters
    ----------
    keypoints : list of str
        Keypoint names, in heatmap channel order. ``K = len(keypoints)``.
    limbs : list of (int, int)
        Each limb as a pair ``(a, b)`` of keypoint indices; the PAF of a limb points
        from ``a`` to ``b``. The order is the order of assembly: a limb should touch a
        keypoint reached by an earlier limb where it can (as OpenPose's orders do).
    paf_channels : list of (int, int), optional
        For each limb, the PAF channels holding its x and y components, counted from
        the first PAF channel. By default limb ``i`` uses channels ``(2i, 2i + 1)``.

    Attributes
    ----------
    redundant : ndarray of bool, shape (L,)
        True for a limb that closes a cycle over the limbs before it (OpenPose's
        shoulder-ear links): such a limb may fill a missing keypoint of a person or
        join two people that share no keypoint type, but never starts a new person.

    Raises
    ------
    ValueError
        On an out-of-range or repeated keypoint index, a repeated limb, a limb from a
        keypoint to itself, or a PAF channel used twice.
    """

    def __init__(self, keypoints, limbs, paf_channels=None):
        names = [str(k) for k in keypoints]
        if not names:
            raise ValueError("keypoints must name at least one keypoint")
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"keypoints has repeated names: {dup}")
        limb_arr = _as_index_pairs(limbs, "limbs")
        k = len(names)
        for i, (a, b) in enumerate(limb_arr.tolist()):
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(
                    f"limbs[{i}] = ({a}, {b}) has a keypoint index outside 0..{k - 1}")
            if a == b:
                raise ValueError(f"limbs[{i}] = ({a}, {b}) joins a keypoint to itself")
        seen = {}
        for i, (a, b) in enumerate(limb_arr.tolist()):
            key = (min(a, b), max(a, b))
            if key in seen:
                raise ValueError(f"limbs[{i}] = ({a}, {b}) repeats limbs[{seen[key]}]")
            seen[key] = i
        n_limbs = len(limb_arr)
        if paf_channels is None:
            paf_arr = np.arange(2 * n_limbs, dtype=np.int64).reshape(n_limbs, 2)
        else:
            paf_arr = _as_index_pairs(paf_channels, "paf_channels")
            if len(paf_arr) != n_limbs:
                raise ValueError(
                    f"paf_channels has {len(paf_arr)} pairs but there are {n_limbs} limbs")
            if (paf_arr < 0).any():
                i = int(np.argwhere(paf_arr < 0)[0, 0])
                raise ValueError(f"paf_channels[{i}] has a negative channel index")
            flat = paf_arr.ravel().tolist()
            if len(set(flat)) != len(flat):
                dup = sorted({c for c in flat if flat.count(c) > 1})
                raise ValueError(f"paf_channels uses channels {dup} more than once")
        self._keypoints = tuple(names)
        self._limbs = limb_arr.astype(np.int32)
        self._paf_channels = paf_arr.astype(np.int32)
        self._limbs.setflags(write=False)
        self._paf_channels.setflags(write=False)
        self._redundant = self._find_redundant(k, limb_arr)
        self._redundant.setflags(write=False)

    @staticmethod
    def _find_redundant(num_keypoints, limbs):
        parent = list(range(num_keypoints))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        redundant = np.zeros(len(limbs), dtype=bool)
        for i, (a, b) in enumerate(limbs.tolist()):
            ra, rb = find(a), find(b)
            if ra == rb:
                redundant[i] = True
            else:
                parent[ra] = rb
        return redundant

    # -- presets ---------------------------------------------------------------------
    @classmethod
    def openpose_coco18(cls) -> "Skeleton":
        """OpenPose's COCO-18 skeleton: 18 keypoints (with a neck) and CMU's 19 limbs.

        The PAF channel pairs are those of CMU's published COCO model, shared by the
        tf-pose-estimation networks (PAF channels counted from the first PAF channel).
        """
        return cls(COCO18_KEYPOINTS, COCO18_LIMBS, COCO18_PAF_CHANNELS)

    @classmethod
    def body25(cls) -> "Skeleton":
        """OpenPose's BODY_25 skeleton: 25 keypoints, 26 limbs, OpenPose's PAF order."""
        return cls(BODY25_KEYPOINTS, BODY25_LIMBS, BODY25_PAF_CHANNELS)

    # -- properties ------------------------------------------------------------------
    @property
    def keypoints(self) -> tuple:
        """Keypoint names, in heatmap channel order."""
        return self._keypoints

    @property
    def limbs(self) -> np.ndarray:
        """int32 array (L, 2) of keypoint index pairs (read-only)."""
        return self._limbs

    @property
    def paf_channels(self) -> np.ndarray:
        """int32 array (L, 2) of each limb's (x, y) PAF channel (read-only)."""
        return self._paf_channels

    @property
    def redundant(self) -> np.ndarray:
        """bool array (L,): True for limbs beyond the spanning tree (read-only)."""
        return self._redundant

    @property
    def num_keypoints(self) -> int:
        return len(self._keypoints)

    @property
    def num_limbs(self) -> int:
        return len(self._limbs)

    @property
    def num_paf_channels(self) -> int:
        """How many PAF channels the skeleton reads: one more than the largest index."""
        return int(self._paf_channels.max()) + 1 if len(self._paf_channels) else 0

    def index_map(self, to_keypoints):
        """Where each of `to_keypoints` sits in this skeleton, for converting results.

        Parameters
        ----------
        to_keypoints : Skeleton or sequence of str
            The target keypoints, e.g. ``pafdecode.metrics.COCO17_KEYPOINTS``. Names
            match across conventions ("r_shoulder" is "right_shoulder").

        Returns
        -------
        ndarray of int64, shape (M,)
            This skeleton's index of each target keypoint, -1 where it has none; use
            with :func:`pafdecode.metrics.convert_keypoints`.
        """
        from .metrics import keypoint_index_map

        names = to_keypoints.keypoints if isinstance(to_keypoints, Skeleton) else to_keypoints
        return keypoint_index_map(self._keypoints, names)

    def __eq__(self, other):
        return (isinstance(other, Skeleton) and self._keypoints == other._keypoints
                and np.array_equal(self._limbs, other._limbs)
                and np.array_equal(self._paf_channels, other._paf_channels))

    def __hash__(self):
        return hash((self._keypoints, self._limbs.tobytes(), self._paf_channels.tobytes()))

    def __repr__(self):
        return (f"Skeleton({self.num_keypoints} keypoints, {self.num_limbs} limbs, "
                f"{int(self._redundant.sum())} redundant)")
