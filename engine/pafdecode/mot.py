"""Moving synthetic crowds with true identities, and tracking scores against them.

:func:`walking_crowd` animates the stick figures of :func:`pafdecode.synth.crowd_scene`:
each person walks across the frame at a steady velocity (turning back at the image's
edges) or stands swaying, swings arms and legs in opposite phase, and loses each
keypoint in each frame with probability `occlusion`. :meth:`WalkingCrowd.fields`
renders a frame into heatmaps and PAFs. :func:`score_tracking` scores tracked people
against the true identities with CLEAR-MOT and identity measures (MOTA, IDF1, identity
switches), computed by the ``motmetrics`` package (an optional dependency: the
``video`` and ``test`` extras install it); :func:`identity_errors` says where the identity
measure loses its credit (needs no ``motmetrics``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import metrics, synth
from .backends import load_backend, resolve_backend
from .skeleton import Skeleton
from ._validate import integer, real

__all__ = ["WalkingCrowd", "walking_crowd", "score_tracking", "identity_errors",
           "track_scenes"]

_ARM = ("elbow", "wrist")
_LEG = ("knee", "ankle", "big_toe", "small_toe", "heel")


@dataclass(frozen=True, eq=False)
class WalkingCrowd:
    """A moving crowd: every frame's true keypoints, person ``p`` always identity ``p``.

    Attributes
    ----------
    people : ndarray of float64, shape (F, P, K, 3)
        Frame ``f``'s keypoints of person ``p``: x, y in image pixels and visibility
        (2 rendered, 0 hidden or outside the image; hidden keypoints keep their true
        position).
    skeleton : Skeleton
    image_size : tuple of int
        ``(height, width)``.
    fps : float
        Frames per second the motion was drawn for.
    """

    people: np.ndarray
    skeleton: Skeleton
    image_size: tuple
    fps: float

    @property
    def num_frames(self):
        return self.people.shape[0]

    def fields(self, frame, stride=8, sigma=1.0, paf_width=1.0):
        """Frame `frame`'s visible people rendered into (heatmaps, pafs); see
        :func:`pafdecode.synth.render_fields`."""
        frame = integer(frame, "frame", 0, self.num_frames - 1)
        return synth.render_fields(self.people[frame], self.skeleton, self.image_size,
                                   stride=stride, sigma=sigma, paf_width=paf_width)


def _fold(x, low, high):
    """x reflected into [low, high] at both ends (a walk that turns back at walls)."""
    span = np.maximum(high - low, 1e-9)
    u = np.mod(x - low, 2.0 * span)
    return low + np.where(u > span, 2.0 * span - u, u)


def _rotate(points, centre, angle):
    """Points (..., 2) turned by `angle` radians (broadcast) about `centre` (..., 2)."""
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    d = points - centre
    return centre + np.concatenate([c * d[..., :1] - s * d[..., 1:],
                                    s * d[..., :1] + c * d[..., 1:]], axis=-1)


def _swung(base, names, angle):
    """`base` (P, K, 2) posed per frame: each side's arm and leg chains turned about
    shoulder and hip by `angle` (F, P) radians, arms against legs, left against right."""
    pose = np.broadcast_to(base, angle.shape[:1] + base.shape).copy()
    for side, sign in (("l", 1.0), ("r", -1.0)):
        for root, chain, direction in ((f"{side}_shoulder", _ARM, 1.0),
                                       (f"{side}_hip", _LEG, -1.0)):
            if root not in names:
                continue
            members = [names[f"{side}_{j}"] for j in chain if f"{side}_{j}" in names]
            if not members:
                continue
            centre = pose[:, :, names[root]][:, :, None, :]
            turn = (sign * direction * angle)[:, :, None]
            pose[:, :, members] = _rotate(pose[:, :, members], centre, turn)
    return pose


def _speed_range(speed):
    try:
        low_speed, high_speed = (real(v, "speed", minimum=0.0) for v in speed)
    except TypeError:
        raise ValueError(f"speed must be a (low, high) pair, got {speed!r}") from None
    if low_speed > high_speed:
        raise ValueError(f"speed must be (low, high) with low <= high, got {speed!r}")
    return low_speed, high_speed


def _walk_offsets(base, travel, sway, width, height):
    """(F, P, 1, 2) shifts of each figure: `travel` (F, P, 2) plus `sway` (F, P) in x,
    folded back at the image's edges (a figure's box may stick out by 20 %)."""
    box_low = base.min(axis=1)
    box_high = base.max(axis=1)
    centre0 = (box_low + box_high) / 2.0
    half = (box_high - box_low) / 2.0
    limits_low = np.minimum(half * 0.8, np.array([width, height]) / 2.0)
    limits_high = np.maximum(np.array([width, height]) - half * 0.8, limits_low)
    travelled = centre0[None] + travel
    travelled[:, :, 0] += sway
    centre = _fold(travelled, limits_low[None], limits_high[None])
    return (centre - centre0[None])[:, :, None, :]


def walking_crowd(n_people, frames, rng, image_size=(368, 656), skeleton=None,
                  occlusion=0.05, speed=(1.0, 4.0), still=0.2, swing=25.0, fps=30.0):
    """A crowd walking about for `frames` frames.

    Parameters
    ----------
    n_people : int
        People (>= 0), posed and placed as :func:`pafdecode.synth.crowd_scene` does
        with ``size_model="shrinking"``.
    frames : int
        Frames (>= 1).
    rng : numpy.random.Generator or int
    image_size : (int, int), default (368, 656)
    skeleton : Skeleton, optional
        Default ``Skeleton.openpose_coco18()``.
    occlusion : float, default 0.05
        Probability that a keypoint is hidden, independently per keypoint and frame.
    speed : (float, float), default (1, 4)
        A walker's speed, uniform in this range, in pixels per frame; it heads left or
        right (up to 20 degrees off the horizontal) and turns back where it would
        leave the image.
    still : float, default 0.2
        Share of people who stand, swaying by up to 2 pixels.
    swing : float, default 25
        Amplitude in degrees of the arms' and legs' swing about shoulders and hips
        (arms against legs, left against right), one cycle per 40 pixels walked.
    fps : float, default 30

    Returns
    -------
    WalkingCrowd
    """
    n_people = integer(n_people, "n_people", minimum=0)
    frames = integer(frames, "frames", minimum=1)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(
        integer(rng, "rng", minimum=0))
    skeleton = Skeleton.openpose_coco18() if skeleton is None else skeleton
    occlusion = real(occlusion, "occlusion", 0.0, 1.0)
    still = real(still, "still", 0.0, 1.0)
    swing = np.deg2rad(real(swing, "swing", 0.0, 90.0))
    fps = real(fps, "fps", minimum=0.0, min_inclusive=False)
    low_speed, high_speed = _speed_range(speed)
    height, width = synth._check_image_size(image_size)

    # The shrinking size model keeps walking crowds (and the tracking figures measured
    # on them) as they were before crowd_scene's people kept their size.
    base = synth.crowd_scene(n_people, rng, image_size=(height, width), skeleton=skeleton,
                             size_model="shrinking").people[..., :2]     # (P, K, 2)
    names = {name: i for i, name in enumerate(skeleton.keypoints)}
    t = np.arange(frames, dtype=np.float64)[:, None]                      # (F, 1)
    heading = np.deg2rad(rng.uniform(-20, 20, n_people)) + np.pi * (rng.random(n_people) < 0.5)
    walks = rng.random(n_people) >= still
    pace = np.where(walks, rng.uniform(low_speed, high_speed, n_people), 0.0)
    velocity = pace[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    phase = rng.uniform(0, 2 * np.pi, n_people)
    sway = np.where(walks, 0.0, rng.uniform(0.5, 2.0, n_people))

    # Swing: arm and leg chains turn about their root joint.
    cycle = 2 * np.pi * np.maximum(pace, 0.5) / 40.0                    # radians per frame
    pose = _swung(base, names, swing * np.sin(cycle * t + phase))        # (F, P, K, 2)

    # Walk: move the whole figure, turning back where its box would leave the image.
    pose += _walk_offsets(base, velocity[None] * t[:, :, None],
                          sway * np.sin(2 * np.pi * t / 45.0 + phase), width, height)

    inside = ((pose[..., 0] >= -0.5) & (pose[..., 0] < width - 0.5)
              & (pose[..., 1] >= -0.5) & (pose[..., 1] < height - 0.5))
    hidden = rng.random(inside.shape) < occlusion
    people = np.concatenate([pose, np.where(inside & ~hidden, 2.0, 0.0)[..., None]], axis=-1)
    return WalkingCrowd(people=people, skeleton=skeleton, image_size=(height, width),
                        fps=fps)


def _import_motmetrics():
    try:
        import motmetrics
    except ImportError as exc:
        raise ImportError("tracking scores need motmetrics: pip install 'pafdecode[video]' "
                          "(or pip install motmetrics)") from exc
    return motmetrics


def _true_areas(truth):
    """(F, P) area of each true person's box over all its keypoints, at least 1."""
    all_xy = truth[..., :2]
    span = all_xy.max(axis=2) - all_xy.min(axis=2)                      # (F, P, 2)
    return np.maximum(span[..., 0] * span[..., 1], 1.0)


def score_tracking(truth, tracked, sigmas, min_oks=0.5):
    """CLEAR-MOT and identity scores of tracked people against the true identities.

    In each frame a tracked person (``track_id >= 0``) may stand for a true person
    when their COCO OKS (:func:`pafdecode.metrics.oks`, the true person's visible
    keypoints as the truth and the box of all its keypoints as the area) is at least
    `min_oks`; distance ``1 - OKS``. A true person with no visible keypoint is absent
    from that frame.

    Parameters
    ----------
    truth : array_like, shape (F, P, K, 3)
        True keypoints per frame; person ``p``'s identity is ``p``.
    tracked : sequence of Poses (or of (keypoints, track_ids) pairs), length F
    sigmas : array_like, shape (K,)
    min_oks : float, default 0.5

    Returns
    -------
    dict
        ``mota``, ``motp`` (mean ``1 - OKS`` of the matches), ``idf1``, ``idp``,
        ``idr``, ``switches``, ``fragments``, ``misses``, ``false_positives``,
        ``matches``, ``objects`` (true person-frames) and ``tracks`` (distinct ids),
        as motmetrics computes them.
    """
    mm = _import_motmetrics()
    truth = np.asarray(truth, dtype=np.float64)
    min_oks = real(min_oks, "min_oks", 0.0, 1.0, min_inclusive=False)
    if truth.ndim != 4 or truth.shape[-1] != 3:
        raise ValueError(f"truth must have shape (F, P, K, 3), got {truth.shape}")
    if len(tracked) != len(truth):
        raise ValueError(f"tracked has {len(tracked)} frames but truth has {len(truth)}")
    acc = mm.MOTAccumulator(auto_id=True)
    areas = _true_areas(truth)
    for f, frame in enumerate(tracked):
        if hasattr(frame, "track_ids"):
            kp, ids = np.asarray(frame.keypoints), np.asarray(frame.track_ids)
        else:
            kp, ids = (np.asarray(a) for a in frame)
        keep = ids >= 0
        kp = kp[keep].reshape(-1, truth.shape[2], 3)
        ids = ids[keep]
        present = np.flatnonzero((truth[f, :, :, 2] > 0).any(axis=1))
        if len(present) and len(kp):
            similarity = metrics.oks(kp, truth[f, present], areas[f, present], sigmas)
            distance = np.where(similarity >= min_oks, 1.0 - similarity, np.nan).T
        else:
            distance = np.empty((len(present), len(kp)))
        acc.update(present.tolist(), ids.tolist(), distance)
    names = {"mota": "mota", "motp": "motp", "idf1": "idf1", "idp": "idp", "idr": "idr",
             "num_switches": "switches", "num_fragmentations": "fragments",
             "num_misses": "misses", "num_false_positives": "false_positives",
             "num_matches": "matches", "num_objects": "objects",
             "num_unique_objects": "people"}
    summary = mm.metrics.create().compute(acc, metrics=list(names), name="run")
    result = {out: float(summary[name].iloc[0]) for name, out in names.items()}
    for key in ("switches", "fragments", "misses", "false_positives", "matches", "objects",
                "people"):
        result[key] = int(result[key])
    result["tracks"] = len({int(i) for frame in tracked
                            for i in (frame.track_ids if hasattr(frame, "track_ids")
                                      else frame[1]) if i >= 0})
    return result


def _frame_of(frame):
    """(keypoints, track ids) of a tracked frame (Poses or a pair)."""
    if hasattr(frame, "track_ids"):
        return np.asarray(frame.keypoints), np.asarray(frame.track_ids)
    kp, ids = frame
    return np.asarray(kp), np.asarray(ids)


def _covers(truth, tracked, sigmas, min_oks):
    """Per frame: (track ids of every tracked person, indices of the present true
    people, bool (people, present) OKS >= min_oks), as score_tracking pairs them."""
    areas = _true_areas(truth)
    out = []
    for f, frame in enumerate(tracked):
        kp, ids = _frame_of(frame)
        kp = kp.reshape(-1, truth.shape[2], 3)
        present = np.flatnonzero((truth[f, :, :, 2] > 0).any(axis=1))
        cover = np.zeros((len(kp), len(present)), bool)
        if len(kp) and len(present):
            cover = metrics.oks(kp, truth[f, present], areas[f, present], sigmas) >= min_oks
        out.append((ids.astype(np.int64), present, cover))
    return out


def _identity_map(frames, n_true):
    """The one-to-one map of track ids to true people with the most frames in which
    the id's person covers the true one (IDF1's): {id: true person}."""
    hyp = sorted({int(i) for ids, _, _ in frames for i in ids if i >= 0})
    column = {h: j for j, h in enumerate(hyp)}
    together = np.zeros((n_true, len(hyp)))
    for ids, present, cover in frames:
        for d in np.flatnonzero(ids >= 0):
            together[present[cover[d]], column[int(ids[d])]] += 1
    if not hyp or n_true == 0:
        return {}
    lsa = load_backend(resolve_backend("auto")).linear_sum_assignment
    col = np.asarray(lsa(np.ascontiguousarray(-together)), np.intp)
    return {hyp[c]: o for o, c in enumerate(col) if c >= 0 and together[o, c] > 0}


def identity_errors(truth, tracked, sigmas, min_oks=0.5):
    """Where IDF1 loses its credit: the true and tracked person-frames it does not
    count, by cause.

    A tracked person (``track_id >= 0``) covers a true one in a frame when their OKS is
    at least `min_oks` (as in :func:`score_tracking`); each id stands for the true
    person it covers most often (one id per person, IDF1's one-to-one map), and a
    frame counts (an identity true positive) where the id's person covers it.

    Returns
    -------
    dict
        ``idf1``, ``idtp`` and the ``objects`` (true person-frames) and
        ``detections`` (tracked person-frames with an id) it did not count: of the
        true ones ``fn_undecoded`` (no decoded person, with or without an id, covers
        it: the decoder's loss), ``fn_withheld`` (covered only by people with
        ``track_id`` -1) and ``fn_other_id`` (covered by an id standing for another
        person or for none); of the tracked ones ``fp_no_person`` (covering no
        true person: a fragment or a merge) and ``fp_other_person`` (covering true
        people, but not the one its id stands for).
    """
    truth = np.asarray(truth, dtype=np.float64)
    if truth.ndim != 4 or truth.shape[-1] != 3:
        raise ValueError(f"truth must have shape (F, P, K, 3), got {truth.shape}")
    if len(tracked) != len(truth):
        raise ValueError(f"tracked has {len(tracked)} frames but truth has {len(truth)}")
    min_oks = real(min_oks, "min_oks", 0.0, 1.0, min_inclusive=False)
    frames = _covers(truth, tracked, sigmas, min_oks)
    owner = _identity_map(frames, truth.shape[1])
    keys = ("fn_undecoded", "fn_withheld", "fn_other_id", "fp_no_person", "fp_other_person")
    out = dict.fromkeys(("idtp", "objects", "detections") + keys, 0)
    for ids, present, cover in frames:
        mapped = np.array([owner.get(int(i), -1) for i in ids], np.int64)
        credit = cover & (mapped[:, None] == present[None])          # (people, present)
        named = ids >= 0
        out["idtp"] += int(credit.sum())
        out["objects"] += len(present)
        out["detections"] += int(named.sum())
        got = credit.any(axis=0)
        out["fn_undecoded"] += int((~cover.any(axis=0)).sum())
        out["fn_withheld"] += int((cover.any(axis=0) & ~cover[named].any(axis=0)).sum())
        out["fn_other_id"] += int((cover[named].any(axis=0) & ~got).sum())
        lost = named & ~credit.any(axis=1)
        out["fp_no_person"] += int((lost & ~cover.any(axis=1)).sum())
        out["fp_other_person"] += int((lost & cover.any(axis=1)).sum())
    total = out["objects"] + out["detections"]
    out["idf1"] = 2.0 * out["idtp"] / total if total else 1.0
    return out


def track_scenes(crowd, tracker, decoder):
    """Render, decode and track every frame of `crowd`: the list of tracked Poses.

    Each frame's timestamp is ``frame / crowd.fps``.
    """
    out = []
    for f in range(crowd.num_frames):
        heatmaps, pafs = crowd.fields(f, stride=int(decoder.config.stride))
        out.append(tracker.update(decoder(heatmaps, pafs), timestamp=f / crowd.fps))
    return out
