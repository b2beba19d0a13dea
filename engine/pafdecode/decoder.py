"""The public decoder: validates and converts fields, then runs the compiled core."""

from __future__ import annotations

import threading

import numpy as np

from .backends import load_backend, resolve_backend
from ._params import PARAMS, to_record
from .config import DecoderConfig
from .skeleton import Skeleton

__all__ = ["Decoder", "DecoderConfig", "Poses"]

# The decoder's workspace grows with the map (tens of bytes a cell): a map larger
# than this (8192 x 8192; a network at stride 8 would need a 65536-pixel-wide photo)
# is refused rather than allowed to exhaust memory. Strided views such as
# np.broadcast_to make such maps cost nothing to pass in.
MAX_MAP_CELLS = 2**26
# pd_check_skeleton's limit.
MAX_KEYPOINTS = 4096
_STAT_NAMES = ("peaks", "candidates", "connections", "people")


class Poses:
    """The people found in one frame.

    Attributes
    ----------
    keypoints : ndarray of float32, shape (P, K, 3)
        x, y in input-image pixels and the keypoint's heatmap peak value. A missing
        keypoint is (0, 0, 0). People are ordered by score, best first.
    scores : ndarray of float32, shape (P,)
        One score per person: the mean of its evidence (its keypoints' peak values and
        its connections' limb scores together) times the share of the skeleton's
        keypoints it has, so whole people rank above confident fragments.
    skeleton : Skeleton
    stats : dict
        What the decoder saw: ``peaks`` kept, candidate limbs (``candidates``),
        ``connections`` chosen, ``people`` returned.
    track_ids : ndarray of int64, shape (P,)
        Each person's identity across frames, as :class:`pafdecode.Tracker` gives it,
        in the order of `keypoints`; -1 for a person not tracked (the decoder's own
        output is all -1).
    """

    __slots__ = ("keypoints", "scores", "skeleton", "_stats", "_counts", "_track_ids")

    def __init__(self, keypoints, scores, skeleton, stats=None, track_ids=None):
        self.keypoints = keypoints
        self.scores = scores
        self.skeleton = skeleton
        self._stats = dict(stats) if stats is not None else {}
        self._track_ids = None
        if track_ids is not None:
            self.track_ids = track_ids

    @classmethod
    def _decoded(cls, keypoints, scores, skeleton, counts):
        """The decoder's result without the constructor's copies and checks: `counts`
        (the core's stats in ``_STAT_NAMES`` order) become the dict, and the untracked
        ids their array, only when read."""
        poses = cls.__new__(cls)
        poses.keypoints = keypoints
        poses.scores = scores
        poses.skeleton = skeleton
        poses._stats = None
        poses._counts = counts
        poses._track_ids = None
        return poses

    @property
    def stats(self):
        if self._stats is None:
            self._stats = dict(zip(_STAT_NAMES, self._counts))
        return self._stats

    @stats.setter
    def stats(self, value):
        self._stats = value

    @property
    def track_ids(self):
        if self._track_ids is None:
            self._track_ids = np.full(len(self.scores), -1, np.int64)
        return self._track_ids

    @track_ids.setter
    def track_ids(self, value):
        ids = np.asarray(value, dtype=np.int64).reshape(-1)
        if len(ids) != len(self.scores):
            raise ValueError(f"track_ids must have one id per person ({len(self.scores)}), "
                             f"got {len(ids)}")
        self._track_ids = ids

    def __len__(self):
        return len(self.scores)

    def __repr__(self):
        return f"Poses({len(self)} people, {self.skeleton.num_keypoints} keypoints)"

    def to_coco(self, image_id, category_id=1, keypoints="coco17"):
        """The people as COCO keypoint results: :func:`pafdecode.io.coco_results`
        (COCO's 17 keypoints for COCO-18 and BODY_25 skeletons unless `keypoints` is
        ``"native"``)."""
        from .io import coco_results  # io imports this module

        return coco_results(self, image_id, keypoints=keypoints, category_id=category_id)


def _float_array(array, name):
    """`array` as an ndarray of float16, float32 or float64 in any byte order, masked
    cells as 0."""
    if np.ma.isMaskedArray(array):
        # A masked cell holds no evidence: 0 is what the decoder reads as "nothing".
        data = np.ma.getdata(array)
        if data.dtype.kind == "f":
            array = np.where(np.ma.getmaskarray(array), data.dtype.type(0), data)
        else:
            array = data
    arr = np.asarray(array)
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (2, 4, 8):
        raise ValueError(f"{name} must be float16, float32 or float64 (any byte order), "
                         f"got dtype {arr.dtype}")
    return arr


def as_fields(array, name, frame_ndim, layout):
    """`array` as a float32 (C, H, W) view (a leading N when `frame_ndim` is 4), read
    in place where it can be: the core reads any element-aligned strides. Masked
    cells read as 0; other byte orders are converted (losslessly for float32)."""
    arr = _float_array(array, name)
    if arr.ndim != frame_ndim:
        what = "(C, H, W)" if layout == "CHW" else "(H, W, C)"
        if frame_ndim == 4:
            what = "(N, " + what[1:]
        raise ValueError(f"{name} must have {frame_ndim} dimensions {what}, got shape {arr.shape}")
    if layout == "HWC":
        arr = np.moveaxis(arr, -1, -3)
    return np.require(arr, dtype=np.float32, requirements=["ALIGNED"])


def check_shapes(skeleton, heat, paf):
    """Channel counts that fit `skeleton`, and maps of one non-zero size within
    :data:`MAX_MAP_CELLS`."""
    k = skeleton.num_keypoints
    channels, height, width = heat.shape[-3:]
    if channels not in (k, k + 1):
        raise ValueError(
            f"heatmaps has {channels} channels; the skeleton has {k} keypoints, so "
            f"expected {k} (or {k + 1} with a trailing background channel)")
    need = skeleton.num_paf_channels
    if paf.shape[-3] != need:
        raise ValueError(f"pafs has {paf.shape[-3]} channels; the skeleton's "
                         f"{skeleton.num_limbs} limbs need {need}")
    if paf.shape[-2:] != (height, width):
        raise ValueError(f"heatmaps are {height}x{width} but pafs are "
                         f"{paf.shape[-2]}x{paf.shape[-1]} (H x W); they must match")
    if height == 0 or width == 0:
        raise ValueError(f"heatmaps and pafs are empty ({height}x{width} maps)")
    if height * width > MAX_MAP_CELLS:
        raise ValueError(f"heatmaps and pafs are {height}x{width} map cells, more than "
                         f"the decoder's limit of {MAX_MAP_CELLS} cells per map")


def make_config(config, overrides, who="Decoder"):
    """`config` (None: the defaults) with `overrides` applied, validated."""
    if config is None:
        config = DecoderConfig()
    elif not isinstance(config, DecoderConfig):
        raise TypeError(f"config must be a pafdecode.DecoderConfig or None, got "
                        f"{type(config).__name__}")
    unknown = sorted(set(overrides) - {p.name for p in PARAMS})
    if unknown:
        raise TypeError(f"{who} got an unexpected keyword argument {unknown[0]!r}; its "
                        f"options are {', '.join(p.name for p in PARAMS)}")
    return config.replace(**overrides) if overrides else config


class Decoder:
    """Decodes keypoint heatmaps and Part Affinity Fields into people.

    Parameters
    ----------
    skeleton : Skeleton
        Keypoints, limbs and PAF channels, e.g. ``Skeleton.openpose_coco18()``.
    config : DecoderConfig, optional
        Every decoding option (:class:`pafdecode.DecoderConfig`; its presets are
        ``openpose()``, ``default()``, ``crowd()`` and ``noisy()``). Default: the
        defaults.
    layout : {"CHW", "HWC"}, default "CHW"
        Axis order of one frame's fields (a batch adds a leading axis).
    backend : {"auto", "c", "numba"}, default "auto"
        The compiled C core or its Numba twin; both give the same people. "auto" takes
        ``$PAFDECODE_BACKEND`` when set, else C, else Numba (with a warning).
    **overrides
        Options that replace the config's, by name (``assignment="hungarian"``). An
        unknown name is a TypeError, a value out of range a ValueError.

    Notes
    -----
    Map cell (gx, gy) is the image point ((gx + 0.5) * stride - 0.5, (gy + 0.5) *
    stride - 0.5). Non-finite field values (NaN, +-Inf) are read as 0, and float32
    values below the smallest normal (1.2e-38) as 0. The cells a masked array
    (``numpy.ma``) masks read as 0 too. Fields may be float16, float32 or float64 in
    any byte order (big-endian float32 converts without loss); other dtypes are
    refused. A map holds at most ``MAX_MAP_CELLS`` (2**26) cells, a skeleton at most
    4096 keypoints. The README's "How it decodes"
    gives the rules; ``docs/options.md`` every option and its measured effect.
    A Decoder keeps one scratch buffer per thread and may be shared between threads.
    It remembers the shapes and strides of the aligned native float32 arrays it has
    checked (up to 64 layouts), so a call with one of them goes straight to the core;
    any other input is checked and converted as usual.
    """

    def __init__(self, skeleton, config=None, *, layout="CHW", backend="auto", **overrides):
        if not isinstance(skeleton, Skeleton):
            raise ValueError(f"skeleton must be a pafdecode.Skeleton, got {type(skeleton).__name__}")
        if skeleton.num_keypoints > MAX_KEYPOINTS:
            raise ValueError(f"skeleton has {skeleton.num_keypoints} keypoints; the decoder "
                             f"takes 1..{MAX_KEYPOINTS}")
        if layout not in ("CHW", "HWC"):
            raise ValueError(f"layout must be 'CHW' or 'HWC', got {layout!r}")
        self._config = make_config(config, overrides)
        self._skeleton = skeleton
        self._layout = layout
        self._backend = resolve_backend(backend)
        self._core = load_backend(self._backend).CoreDecoder(
            skeleton.limbs, skeleton.paf_channels, skeleton.redundant, skeleton.num_keypoints,
            to_record(self._config), limb_lengths=skeleton.limb_lengths)
        # Scratch memory per thread, kept between calls: a decode then allocates only
        # its results, and threads never share a workspace.
        self._local = threading.local()
        # Layouts already validated, by (heatmaps shape, strides, pafs shape, strides)
        # of aligned native float32 ndarrays (the only arrays passed to the core as
        # they are): the scratch bytes a frame (or batch) of that layout needs.
        self._frame_plans = {}
        self._batch_plans = {}

    config = property(lambda self: self._config, doc="The DecoderConfig (read-only).")
    skeleton = property(lambda self: self._skeleton, doc="The Skeleton (read-only).")
    layout = property(lambda self: self._layout, doc="'CHW' or 'HWC' (read-only).")
    backend = property(lambda self: self._backend, doc="'c' or 'numba' (read-only).")

    def _scratch(self, need):
        buf = getattr(self._local, "scratch", None)
        if buf is None or len(buf) < need:
            buf = np.empty(need, np.uint8)
            self._local.scratch = buf
        return buf

    def __repr__(self):
        return (f"Decoder({self._skeleton!r}, {self._config!r}, layout={self._layout!r}, "
                f"backend={self._backend!r})")

    # -- decoding --------------------------------------------------------------------
    def __call__(self, heatmaps, pafs):
        """Decode one frame.

        Parameters
        ----------
        heatmaps : array_like, shape (K or K+1, H, W), or (H, W, K or K+1) for "HWC"
            Keypoint heatmaps in the skeleton's keypoint order; a trailing background
            channel is ignored. float16, float32 or float64, any byte order and
            strides; a masked array's masked cells read as 0.
        pafs : array_like, shape (2L, H, W), or (H, W, 2L) for "HWC"
            Part Affinity Fields; limb ``i`` reads ``skeleton.paf_channels[i]``.

        Returns
        -------
        Poses
            Keypoints in input-image pixels (map pixels times ``stride``, per the
            convention above).

        Raises
        ------
        ValueError
            On a wrong number of dimensions, a dtype that is not floating point,
            channel counts that do not fit the skeleton, maps of different or zero size
            or of more than ``MAX_MAP_CELLS`` cells.
        """
        need = _plan_of(self._frame_plans, heatmaps, pafs)
        if need is None:
            heatmaps, pafs, need = self._validate(heatmaps, pafs, 3, self._frame_plans)
        elif self._layout == "HWC":
            heatmaps, pafs = heatmaps.transpose(2, 0, 1), pafs.transpose(2, 0, 1)
        keypoints, scores, stats = self._core.decode(heatmaps, pafs, self._scratch(need))
        return Poses._decoded(keypoints, scores, self._skeleton, stats)

    def decode_batch(self, heatmaps, pafs):
        """Decode a batch of frames: the arrays of ``__call__`` with a leading axis N.

        Returns
        -------
        list of Poses
            One per frame.
        """
        need = _plan_of(self._batch_plans, heatmaps, pafs)
        if need is None:
            heatmaps, pafs, need = self._validate(heatmaps, pafs, 4, self._batch_plans)
        elif self._layout == "HWC":
            heatmaps, pafs = heatmaps.transpose(0, 3, 1, 2), pafs.transpose(0, 3, 1, 2)
        skeleton = self._skeleton
        return [Poses._decoded(keypoints, scores, skeleton, stats) for keypoints, scores, stats
                in self._core.decode_batch(heatmaps, pafs, self._scratch(need))]

    def _validate(self, heatmaps, pafs, frame_ndim, plans):
        """Every check and conversion of the fields, giving them in ([N,] C, H, W)
        order and the scratch bytes they need. An input the core reads as it is
        records its layout in `plans`, so that later calls of that layout skip this."""
        heat = as_fields(heatmaps, "heatmaps", frame_ndim, self._layout)
        paf = as_fields(pafs, "pafs", frame_ndim, self._layout)
        if frame_ndim == 4 and heat.shape[0] != paf.shape[0]:
            raise ValueError(f"heatmaps hold {heat.shape[0]} frames but pafs hold {paf.shape[0]}")
        check_shapes(self._skeleton, heat, paf)
        frames = heat.shape[0] if frame_ndim == 4 else 1
        need = self._core.workspace_bytes(heat.shape[-2], heat.shape[-1], frames)
        key = _layout_key(heatmaps, pafs)
        if key is not None and len(plans) < _MAX_PLANS:
            plans[key] = need
        return heat, paf, need


# Layouts remembered per Decoder and kind of call (a video has one; a service a few).
_MAX_PLANS = 64
_F32 = np.dtype(np.float32)


def _layout_key(heatmaps, pafs):
    """All that the checks of the fields depend on, for arrays the core reads in
    place (ndarrays of native float32, aligned); None for any other input."""
    if (type(heatmaps) is np.ndarray and type(pafs) is np.ndarray
            and heatmaps.dtype is _F32 and pafs.dtype is _F32
            and heatmaps.flags.aligned and pafs.flags.aligned):
        return heatmaps.shape, heatmaps.strides, pafs.shape, pafs.strides
    return None


def _plan_of(plans, heatmaps, pafs):
    """The scratch bytes of a layout validated before, or None."""
    key = _layout_key(heatmaps, pafs)
    return None if key is None else plans.get(key)
