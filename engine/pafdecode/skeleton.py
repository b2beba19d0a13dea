"""Skeleton definitions: keypoint sets, their limbs, PAF channels, OKS sigmas and mirror pairs.

This module is the one place that knows the keypoint sets the package speaks: COCO-17,
OpenPose's COCO-18 and BODY_25, and CrowdPose-14 (their names in channel order, their
limbs, COCO's per-keypoint OKS sigmas), and how names are matched across conventions
(:func:`keypoint_index_map`). Other modules import these from here.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "Skeleton", "COCO17_KEYPOINTS", "COCO17_LIMBS", "COCO18_KEYPOINTS", "COCO18_LIMBS",
    "COCO18_PAF_CHANNELS", "BODY25_KEYPOINTS", "BODY25_LIMBS", "BODY25_PAF_CHANNELS",
    "CROWDPOSE14_KEYPOINTS", "CROWDPOSE14_LIMBS", "COCO_SIGMAS", "CROWDPOSE_SIGMAS",
    "KEYPOINT_ALIASES", "COCO18_TO_COCO17", "BODY25_TO_COCO17", "keypoint_index_map",
    "flip_pairs_from_names", "limb_lengths_by_name",
]

# -- keypoint sets -------------------------------------------------------------------

COCO17_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
# The 19 links of COCO's person category ("skeleton" in its annotation files, which
# count from 1), from 0 and in COCO's order.
COCO17_LIMBS = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)

CROWDPOSE14_KEYPOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "head", "neck",
)
# MMPose's CrowdPose links. CrowdPose's own annotation files carry COCO-17's skeleton,
# whose indices do not fit 14 keypoints, so they cannot serve.
CROWDPOSE14_LIMBS = (
    (10, 8), (8, 6), (11, 9), (9, 7), (6, 7), (0, 6), (1, 7), (0, 1), (0, 2), (1, 3),
    (2, 4), (3, 5), (12, 13), (1, 13), (0, 13),
)

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

# -- OKS sigmas ----------------------------------------------------------------------

# Per-keypoint OKS constants (the standard deviation of human labels, relative to the
# object scale), in COCO-17 order, as in pycocotools' Params.kpt_oks_sigmas.
COCO_SIGMAS = np.array(
    [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
) / 10.0
# CrowdPose-14 order, the values MMPose passes to xtcocotools for CrowdPose.
CROWDPOSE_SIGMAS = np.array(
    [.79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89, .79, .79]
) / 10.0
COCO_SIGMAS.setflags(write=False)
CROWDPOSE_SIGMAS.setflags(write=False)

# -- matching names across conventions -----------------------------------------------

# Names read as another name by keypoint_index_map, after the built-in normalisation
# (lower case, "-" and " " as "_", a leading "l_" / "r_" as "left_" / "right_").
# CrowdPose's and MPII's "head" is the top of the head; it is deliberately NOT an alias of
# "nose": pass {**KEYPOINT_ALIASES, "head": "nose"} to map one to the other.
KEYPOINT_ALIASES = {
    "head_top": "head",
    "top_head": "head",
    "pelvis": "mid_hip",
    "hip_center": "mid_hip",
}


def _canonical_name(name, aliases):
    text = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    if text.startswith("l_"):
        text = "left_" + text[2:]
    elif text.startswith("r_"):
        text = "right_" + text[2:]
    return aliases.get(text, text)


def keypoint_index_map(from_names, to_names, aliases=KEYPOINT_ALIASES):
    """Where each keypoint of one skeleton sits in another, by name.

    Names are compared after normalisation: lower case, runs of spaces and hyphens as
    ``_``, a leading ``l_`` / ``r_`` read as ``left_`` / ``right_`` (so OpenPose's
    ``"r_shoulder"`` and ``"l_eye"`` equal COCO's ``"right_shoulder"`` and
    ``"left_eye"``), then ``aliases`` applied once, to both sides.

    Parameters
    ----------
    from_names : sequence of str
        The source skeleton's keypoint names, in its order (length K).
    to_names : sequence of str
        The target skeleton's keypoint names, in its order (length M).
    aliases : mapping of str to str
        Name -> name it is read as (keys and values normalised as above). The default
        :data:`KEYPOINT_ALIASES` reads ``head_top`` as ``head`` and ``pelvis`` as
        ``mid_hip``. CrowdPose's ``head`` (top of head) has no COCO-17 equivalent and
        maps to -1; pass ``{**KEYPOINT_ALIASES, "head": "nose"}`` to take the nose for it.

    Returns
    -------
    ndarray of int64, shape (M,)
        For each target keypoint, the index of the source keypoint with the same name,
        or -1 if the source has none.

    Raises
    ------
    ValueError
        If two source names read as the same keypoint.

    Examples
    --------
    COCO-18 (OpenPose) to COCO-17 drops the neck; COCO-17 to CrowdPose-14 has no head
    or neck to give:

    >>> keypoint_index_map(COCO18_KEYPOINTS, COCO17_KEYPOINTS)[:6].tolist()
    [0, 15, 14, 17, 16, 5]
    >>> keypoint_index_map(COCO17_KEYPOINTS, CROWDPOSE14_KEYPOINTS)[-2:].tolist()
    [-1, -1]
    """
    normalised_aliases = {_canonical_name(k, {}): _canonical_name(v, {})
                          for k, v in dict(aliases or {}).items()}
    source = {}
    for i, name in enumerate(from_names):
        key = _canonical_name(name, normalised_aliases)
        if key in source:
            raise ValueError(f"from_names[{i}] = {name!r} reads as {key!r}, like "
                             f"from_names[{source[key]}] = {list(from_names)[source[key]]!r}")
        source[key] = i
    return np.array([source.get(_canonical_name(name, normalised_aliases), -1)
                     for name in to_names], dtype=np.int64)


#: For each COCO-17 keypoint, its index in OpenPose's COCO-18 order.
COCO18_TO_COCO17 = tuple(keypoint_index_map(COCO18_KEYPOINTS, COCO17_KEYPOINTS).tolist())
#: For each COCO-17 keypoint, its index in OpenPose's BODY_25 order.
BODY25_TO_COCO17 = tuple(keypoint_index_map(BODY25_KEYPOINTS, COCO17_KEYPOINTS).tolist())


def _coco_sigmas_by_name(names):
    """COCO's OKS sigma for each named keypoint; their mean for one COCO lacks (a neck,
    a mid-hip, feet), which treats it as a keypoint of average labelling spread."""
    coco_index = keypoint_index_map(COCO17_KEYPOINTS, names)
    sigmas = np.full(len(coco_index), float(np.mean(COCO_SIGMAS)))
    known = coco_index >= 0
    sigmas[known] = COCO_SIGMAS[coco_index[known]]
    return sigmas


# -- generic human proportions ---------------------------------------------------------

# Expected limb lengths as fractions of stature H, for the limb_length_prior option: the
# length an unforeshortened limb of an average adult has, so a longer candidate is
# suspect. From Drillis & Contini (1966), "Body segment parameters", as drawn in Winter,
# "Biomechanics and Motor Control of Human Movement" (4th ed., 2009, Fig. 4.1): heights
# of the shoulder 0.818 H, hip 0.530 H, knee 0.285 H, ankle 0.039 H, chin 0.870 H,
# eye 0.936 H; widths of the shoulders 0.259 H and hips 0.191 H; upper arm 0.186 H,
# forearm 0.146 H; foot length 0.152 H and breadth 0.055 H. The neck is the midpoint of
# the shoulders, the mid-hip that of the hips. The face is not in that figure: head
# breadth 0.087 H (ear to ear) and interpupillary distance 0.036 H are adult means of
# Pheasant & Haslegrave, "Bodyspace" (3rd ed., 2006), over a 1.75 m stature; the nose
# is taken halfway between eye and chin heights. Lengths are frontal-plane distances
# between those landmarks, except eye to ear, which is 3-D (the ear sits about 0.046 H
# behind the eye, so a profile shows it longer than a frontal view does). Keys are body
# parts without their side; "across" pairs join a part to its mirror image.
_SEGMENT_RATIOS = {
    ("neck", "shoulder"): 0.130,       # half the shoulder width
    ("elbow", "shoulder"): 0.186,      # upper arm
    ("elbow", "wrist"): 0.146,         # forearm
    ("mid_hip", "neck"): 0.288,        # shoulder height - hip height
    ("hip", "neck"): 0.303,            # trunk height and half the hip width
    ("hip", "mid_hip"): 0.096,         # half the hip width
    ("hip", "shoulder"): 0.290,        # trunk height, shoulder - hip half-widths
    ("hip", "knee"): 0.245,            # thigh: 0.530 - 0.285
    ("ankle", "knee"): 0.246,          # shank: 0.285 - 0.039
    ("neck", "nose"): 0.085,           # nose height 0.903 - shoulder height
    ("head", "neck"): 0.182,           # top of the head (CrowdPose's "head") to neck
    ("eye", "nose"): 0.038,            # 0.033 down, 0.018 across
    ("ear", "eye"): 0.053,             # 0.026 across, 0.046 deep
    ("ear", "shoulder"): 0.146,        # 0.118 down, 0.086 across
    ("ankle", "big_toe"): 0.128,       # foot length less the heel behind the ankle
    ("ankle", "heel"): 0.049,          # ankle height, heel 0.030 behind
    ("big_toe", "small_toe"): 0.055,   # foot breadth
}
_ACROSS_RATIOS = {"shoulder": 0.259, "hip": 0.191, "eye": 0.036, "ear": 0.087}


def _side_and_part(name):
    text = _canonical_name(name, KEYPOINT_ALIASES)
    for side in ("left", "right"):
        if text.startswith(side + "_"):
            return side, text[len(side) + 1:]
    return None, text


def limb_lengths_by_name(names, limbs):
    """Each limb's expected length as a fraction of stature (the generic proportions
    above), 0 where the names are not known body parts or join parts of opposite sides
    other than a part and its mirror image.

    Parameters
    ----------
    names : sequence of str
        Keypoint names (matched as :func:`keypoint_index_map` matches them).
    limbs : sequence of (int, int)
        Keypoint index pairs.

    Returns
    -------
    ndarray of float32, shape (L,)
    """
    out = np.zeros(len(limbs), np.float32)
    for i, (a, b) in enumerate(limbs):
        (side_a, part_a), (side_b, part_b) = _side_and_part(names[a]), _side_and_part(names[b])
        if side_a and side_b and side_a != side_b:
            out[i] = _ACROSS_RATIOS.get(part_a, 0.0) if part_a == part_b else 0.0
        else:
            out[i] = _SEGMENT_RATIOS.get(tuple(sorted((part_a, part_b))), 0.0)
    return out


def flip_pairs_from_names(names):
    """The (left, right) keypoint index pairs of a skeleton, found by name.

    A keypoint whose name reads as ``left_<part>`` (``l_<part>`` included, see
    :func:`keypoint_index_map`) pairs with the one reading as ``right_<part>``; a side
    without its mirror, and a keypoint on the midline (nose, neck), stays unpaired.

    Returns
    -------
    ndarray of int64, shape (F, 2)
        ``(left index, right index)`` per pair, in the order of the left keypoints.
    """
    index = {}
    for i, name in enumerate(names):
        index.setdefault(_canonical_name(name, {}), i)
    pairs = [(i, index["right_" + key[len("left_"):]])
             for key, i in sorted(index.items(), key=lambda item: item[1])
             if key.startswith("left_") and "right_" + key[len("left_"):] in index]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


# The largest PAF channel index: the C core counts channels in int32, and the count
# (the largest index + 1) must fit too.
MAX_PAF_CHANNEL = 2**31 - 2


def _index(value):
    """`value` as a Python int if it is an integer (3.0 too), else None. Bools and
    strings are not integers here, and nothing is truncated or wrapped."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


def _as_index_pairs(pairs: Iterable[Sequence[int]], what: str) -> list:
    """`pairs` as a list of (int, int) of Python ints, so that no value is truncated,
    wrapped or overflows before the caller checks its range."""
    if isinstance(pairs, (str, bytes)):
        raise ValueError(f"{what} must be a sequence of integer pairs, got {pairs!r}")
    if isinstance(pairs, np.ndarray):
        pairs = pairs.tolist()
    try:
        items = [tuple(p) for p in pairs]
    except TypeError:
        raise ValueError(f"{what} must be a sequence of integer pairs, got {pairs!r}") from None
    out = []
    for i, pair in enumerate(items):
        if len(pair) != 2:
            raise ValueError(f"{what}[{i}] = {pair!r} is not a pair of integers")
        ints = tuple(_index(v) for v in pair)
        if None in ints:
            bad = pair[ints.index(None)]
            raise ValueError(f"{what}[{i}] = {pair!r} holds {bad!r}, which is not an "
                             f"integer (indices are never rounded)")
        out.append(ints)
    return out


def _pair_array(pairs):
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _check_limbs(limbs, num_keypoints):
    for i, (a, b) in enumerate(limbs):
        if not (0 <= a < num_keypoints and 0 <= b < num_keypoints):
            raise ValueError(f"limbs[{i}] = ({a}, {b}) has a keypoint index outside "
                             f"0..{num_keypoints - 1}")
        if a == b:
            raise ValueError(f"limbs[{i}] = ({a}, {b}) joins a keypoint to itself")
    seen = {}
    for i, (a, b) in enumerate(limbs):
        key = (min(a, b), max(a, b))
        if key in seen:
            raise ValueError(f"limbs[{i}] = ({a}, {b}) repeats limbs[{seen[key]}]")
        seen[key] = i
    return _pair_array(limbs)


def _check_paf_channels(paf_channels, num_limbs):
    if paf_channels is None:
        return np.arange(2 * num_limbs, dtype=np.int64).reshape(num_limbs, 2)
    pairs = _as_index_pairs(paf_channels, "paf_channels")
    if len(pairs) != num_limbs:
        raise ValueError(
            f"paf_channels has {len(pairs)} pairs but there are {num_limbs} limbs")
    for i, (cx, cy) in enumerate(pairs):
        if not (0 <= cx <= MAX_PAF_CHANNEL and 0 <= cy <= MAX_PAF_CHANNEL):
            raise ValueError(f"paf_channels[{i}] = ({cx}, {cy}) has a channel index "
                             f"outside 0..{MAX_PAF_CHANNEL}")
    flat = [c for pair in pairs for c in pair]
    if len(set(flat)) != len(flat):
        dup = sorted({c for c in flat if flat.count(c) > 1})
        raise ValueError(f"paf_channels uses channels {dup} more than once")
    return _pair_array(pairs)


def _float_vector(values, what, length, each):
    """`values` as float64 of shape (length,), or ValueError naming `what`."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a sequence of numbers") from None
    if arr.shape != (length,):
        raise ValueError(f"{what} must have shape ({length},), one per {each}, got {arr.shape}")
    return arr


def _check_sigmas(sigmas, names):
    if sigmas is None:
        return _coco_sigmas_by_name(names)
    arr = _float_vector(sigmas, "sigmas", len(names), "keypoint")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        raise ValueError(f"sigmas[{bad[0]}] = {arr[bad[0]]!r} is not a finite positive number")
    return arr


def _check_flip_pairs(flip_pairs, num_keypoints):
    if flip_pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = _as_index_pairs(flip_pairs, "flip_pairs")
    used = {}
    for i, (left, right) in enumerate(pairs):
        if not (0 <= left < num_keypoints and 0 <= right < num_keypoints):
            raise ValueError(f"flip_pairs[{i}] = ({left}, {right}) has a keypoint index "
                             f"outside 0..{num_keypoints - 1}")
        if left == right:
            raise ValueError(f"flip_pairs[{i}] = ({left}, {right}) pairs a keypoint with "
                             "itself (a midline keypoint is simply left out)")
        for k in (left, right):
            if k in used:
                raise ValueError(f"flip_pairs[{i}] = ({left}, {right}) uses keypoint {k}, "
                                 f"already in flip_pairs[{used[k]}]")
            used[k] = i
    return _pair_array(pairs)


def _check_limb_lengths(limb_lengths, names, limbs):
    if limb_lengths is None:
        return limb_lengths_by_name(names, limbs.tolist())
    arr = _float_vector(limb_lengths, "limb_lengths", len(limbs), "limb")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0) & (arr <= 1e30)))
    if bad.size:
        raise ValueError(f"limb_lengths[{bad[0]}] = {arr[bad[0]]!r} is not a finite number "
                         ">= 0 (0: no expected length)")
    return arr.astype(np.float32)


def _read_only(array, dtype):
    out = np.array(array, dtype=dtype)
    out.setflags(write=False)
    return out


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
    sigmas : sequence of K floats, optional
        Each keypoint's OKS sigma. By default COCO's sigma of the keypoint with the same
        name (matched as :func:`keypoint_index_map` does), and the mean of COCO's sigmas
        for a keypoint COCO lacks.
    flip_pairs : list of (int, int), optional
        ``(left, right)`` keypoint index pairs that trade places when the image is
        mirrored. None (the default) leaves the skeleton without any; the presets find
        theirs by name (:func:`flip_pairs_from_names`).
    name : str, optional
        A label for messages and ``repr`` (the presets have one); not part of equality.
    limb_lengths : sequence of L floats, optional
        Each limb's expected length relative to a body scale, read by the
        ``limb_length_prior`` option; 0 for a limb with no expectation. By default the
        generic human proportions of :func:`limb_lengths_by_name` (fractions of stature,
        found from the keypoint names; 0 where the names are unknown).

    Attributes
    ----------
    redundant : ndarray of bool, shape (L,)
        True for a limb that closes a cycle over the limbs before it (OpenPose's
        shoulder-ear links): such a limb may fill a missing keypoint of a person or
        join two people that share no keypoint type, but never starts a new person.
    sigmas : ndarray of float64, shape (K,)
        Each keypoint's OKS sigma (read-only).
    flip_pairs : ndarray of int64, shape (F, 2)
        The ``(left, right)`` mirror pairs, (0, 2) when none are known (read-only).
    limb_lengths : ndarray of float32, shape (L,)
        Each limb's expected length relative to the body scale, 0 if unknown (read-only).

    Raises
    ------
    ValueError
        On an index that is not an integer (0.5, a string or a bool; 1.0 is 1), an
        out-of-range or repeated keypoint index, a repeated limb, a limb from a
        keypoint to itself, a PAF channel outside 0..2**31 - 2 or used twice, sigmas
        that are not K finite positive numbers, or flip pairs out of range, repeating
        a keypoint or pairing one with itself, or limb lengths that are not L finite
        numbers >= 0.
    """

    def __init__(self, keypoints, limbs, paf_channels=None, *, sigmas=None,
                 flip_pairs=None, name=None, limb_lengths=None):
        names = [str(k) for k in keypoints]
        if not names:
            raise ValueError("keypoints must name at least one keypoint")
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"keypoints has repeated names: {dup}")
        limb_arr = _check_limbs(_as_index_pairs(limbs, "limbs"), len(names))
        paf_arr = _check_paf_channels(paf_channels, len(limb_arr))
        self._keypoints = tuple(names)
        self._name = None if name is None else str(name)
        self._limbs = _read_only(limb_arr, np.int32)
        self._paf_channels = _read_only(paf_arr, np.int32)
        self._redundant = _read_only(self._find_redundant(len(names), limb_arr), bool)
        self._sigmas = _read_only(_check_sigmas(sigmas, names), np.float64)
        self._flip_pairs = _read_only(_check_flip_pairs(flip_pairs, len(names)), np.int64)
        self._limb_lengths = _read_only(_check_limb_lengths(limb_lengths, names, limb_arr),
                                        np.float32)

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
    def _preset(cls, name, keypoints, limbs, paf_channels=None, sigmas=None):
        return cls(keypoints, limbs, paf_channels, sigmas=sigmas,
                   flip_pairs=flip_pairs_from_names(keypoints), name=name)

    @classmethod
    def openpose_coco18(cls) -> "Skeleton":
        """OpenPose's COCO-18 skeleton: 18 keypoints (with a neck) and CMU's 19 limbs.

        The PAF channel pairs are those of CMU's published COCO model, shared by the
        tf-pose-estimation networks (PAF channels counted from the first PAF channel).
        """
        return cls._preset("COCO-18", COCO18_KEYPOINTS, COCO18_LIMBS, COCO18_PAF_CHANNELS)

    @classmethod
    def body25(cls) -> "Skeleton":
        """OpenPose's BODY_25 skeleton: 25 keypoints, 26 limbs, OpenPose's PAF order."""
        return cls._preset("BODY_25", BODY25_KEYPOINTS, BODY25_LIMBS, BODY25_PAF_CHANNELS)

    @classmethod
    def coco17(cls) -> "Skeleton":
        """COCO's 17 person keypoints with the 19 links of COCO's person category.

        The links keep COCO's order (legs, hips, torso, arms, face), in which three of
        them close cycles and so are redundant: shoulder to shoulder, nose to right eye
        and right ear to right shoulder. PAF channels are the default ``(2i, 2i + 1)``.
        """
        return cls._preset("COCO-17", COCO17_KEYPOINTS, COCO17_LIMBS)

    @classmethod
    def crowdpose14(cls) -> "Skeleton":
        """CrowdPose's 14 keypoints (top of head and neck instead of COCO's face) with
        MMPose's 15 CrowdPose links, and CrowdPose's OKS sigmas
        (:data:`CROWDPOSE_SIGMAS`: 0.079 for the head and the neck)."""
        return cls._preset("CrowdPose-14", CROWDPOSE14_KEYPOINTS, CROWDPOSE14_LIMBS,
                           sigmas=CROWDPOSE_SIGMAS)

    # -- properties ------------------------------------------------------------------
    @property
    def keypoints(self) -> tuple:
        """Keypoint names, in heatmap channel order."""
        return self._keypoints

    @property
    def name(self):
        """The skeleton's label (e.g. ``"COCO-18"``), or None."""
        return self._name

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
    def sigmas(self) -> np.ndarray:
        """float64 array (K,): each keypoint's OKS sigma (read-only)."""
        return self._sigmas

    @property
    def flip_pairs(self) -> np.ndarray:
        """int64 array (F, 2) of (left, right) mirror pairs; (0, 2) if none (read-only)."""
        return self._flip_pairs

    @property
    def limb_lengths(self) -> np.ndarray:
        """float32 array (L,): each limb's expected length relative to the body scale
        (a fraction of stature by default), 0 where unknown (read-only)."""
        return self._limb_lengths

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
            The target keypoints, e.g. :data:`COCO17_KEYPOINTS`. Names match across
            conventions ("r_shoulder" is "right_shoulder").

        Returns
        -------
        ndarray of int64, shape (M,)
            This skeleton's index of each target keypoint, -1 where it has none; use
            with :func:`pafdecode.metrics.convert_keypoints`.
        """
        names = to_keypoints.keypoints if isinstance(to_keypoints, Skeleton) else to_keypoints
        return keypoint_index_map(self._keypoints, names)

    # -- mirroring -------------------------------------------------------------------
    def flip_permutation(self):
        """The keypoint order of the mirrored image.

        Returns
        -------
        ndarray of intp, shape (K,)
            ``perm[k]`` is the keypoint that ``k`` becomes when the image is mirrored
            left to right: its flip partner, or ``k`` itself on the midline. It is its
            own inverse, so mirrored keypoints are ``keypoints[..., perm, :]`` with ``x``
            reflected.

        Raises
        ------
        ValueError
            If the skeleton has no flip pairs.
        """
        if not len(self._flip_pairs):
            raise ValueError(f"{self._label()} has no flip pairs, so it cannot be mirrored: "
                             "pass flip_pairs= (e.g. flip_pairs_from_names(keypoints))")
        perm = np.arange(self.num_keypoints, dtype=np.intp)
        perm[self._flip_pairs[:, 0]] = self._flip_pairs[:, 1]
        perm[self._flip_pairs[:, 1]] = self._flip_pairs[:, 0]
        return perm

    def limb_flip_permutation(self):
        """The limb each limb becomes when the image is mirrored left to right.

        Returns
        -------
        ndarray of intp, shape (L,)
            ``m[l]`` is the limb joining the mirror images of limb ``l``'s keypoints
            (``l`` itself for a limb on the midline). A limb may be stored the other
            way round from its mirror (``limbs[m[l]]`` reversed): its PAF then also
            changes sign.

        Raises
        ------
        ValueError
            If the skeleton has no flip pairs, or a limb's mirror image is not one of
            its limbs.
        """
        perm = self.flip_permutation()
        where = {frozenset(limb): i for i, limb in enumerate(self._limbs.tolist())}
        out = np.empty(self.num_limbs, dtype=np.intp)
        for i, (a, b) in enumerate(self._limbs.tolist()):
            mirror = where.get(frozenset((int(perm[a]), int(perm[b]))))
            if mirror is None:
                raise ValueError(
                    f"limbs[{i}] = ({a}, {b}) of {self._label()} mirrors to "
                    f"({perm[a]}, {perm[b]}), which is not one of its limbs")
            out[i] = mirror
        return out

    def _label(self):
        return f"skeleton {self._name!r}" if self._name else repr(self)

    def __eq__(self, other):
        return (isinstance(other, Skeleton) and self._keypoints == other._keypoints
                and np.array_equal(self._limbs, other._limbs)
                and np.array_equal(self._paf_channels, other._paf_channels)
                and np.array_equal(self._sigmas, other._sigmas)
                and np.array_equal(self._flip_pairs, other._flip_pairs)
                and np.array_equal(self._limb_lengths, other._limb_lengths))

    def __hash__(self):
        return hash((self._keypoints, self._limbs.tobytes(), self._paf_channels.tobytes()))

    def __repr__(self):
        name = f"{self._name!r}, " if self._name else ""
        return (f"Skeleton({name}{self.num_keypoints} keypoints, {self.num_limbs} limbs, "
                f"{int(self._redundant.sum())} redundant)")
