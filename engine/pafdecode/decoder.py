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

    __slots__ = ("keypoints", "scores", "skeleton", "stats", "track_ids")

    def __init__(self, keypoints, scores, skeleton, stats=None, track_ids=None):
        self.keypoints = keypoints
        self.scores = scores
        self.skeleton = skeleton
        self.stats = dict(stats) if stats is not None else {}
        if track_ids is None:
            track_ids = np.full(len(scores), -1, np.int64)
        else:
            track_ids = np.asarray(track_ids, dtype=np.int64).reshape(-1)
            if len(track_ids) != len(scores):
                raise ValueError(f"track_ids must have one id per person ({len(scores)}), "
                                 f"got {len(track_ids)}")
        self.track_ids = track_ids

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
            to_record(self._config))
        # Scratch memory per thread, kept between calls: a decode then allocates only
        # its results, and threads never share a workspace.
        self._local = threading.local()

    config = property(lambda self: self._config, doc="The DecoderConfig (read-only).")
    skeleton = property(lambda self: self._skeleton, doc="The Skeleton (read-only).")
    layout = property(lambda self: self._layout, doc="'CHW' or 'HWC' (read-only).")
    backend = property(lambda self: self._backend, doc="'c' or 'numba' (read-only).")

    def _scratch(self, height, width, frames=1):
        need = self._core.workspace_bytes(height, width, frames)
        buf = getattr(self._local, "scratch", None)
        if buf is None or len(buf) < need:
            buf = np.empty(need, np.uint8)
            self._local.scratch = buf
        return buf

    def __repr__(self):
        return (f"Decoder({self._skeleton!r}, {self._config!r}, layout={self._layout!r}, "
                f"backend={self._backend!r})")

    def _poses(self, result):
        keypoints, scores, stats = result
        return Poses(keypoints, scores, self._skeleton, dict(zip(_STAT_NAMES, stats)))

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
        heat = as_fields(heatmaps, "heatmaps", 3, self._layout)
        paf = as_fields(pafs, "pafs", 3, self._layout)
        check_shapes(self._skeleton, heat, paf)
        scratch = self._scratch(heat.shape[1], heat.shape[2])
        return self._poses(self._core.decode(heat, paf, scratch))

    def decode_batch(self, heatmaps, pafs):
        """Decode a batch of frames: the arrays of ``__call__`` with a leading axis N.

        Returns
        -------
        list of Poses
            One per frame.
        """
        heat = as_fields(heatmaps, "heatmaps", 4, self._layout)
        paf = as_fields(pafs, "pafs", 4, self._layout)
        if heat.shape[0] != paf.shape[0]:
            raise ValueError(f"heatmaps hold {heat.shape[0]} frames but pafs hold {paf.shape[0]}")
        check_shapes(self._skeleton, heat, paf)
        scratch = self._scratch(heat.shape[2], heat.shape[3], heat.shape[0])
        return [self._poses(r) for r in self._core.decode_batch(heat, paf, scratch)]
