"""Post-processing of decoded people: functions from Poses to Poses."""

from __future__ import annotations

import numpy as np

from ._validate import real
from .decoder import Poses

__all__ = ["oks_nms"]

_EPS = np.spacing(1)


def oks_nms(poses, threshold):
    """Drop people who repeat a better one, by object keypoint similarity (OKS).

    Going best first, a person whose OKS with one already kept reaches `threshold` is
    dropped. The kept person is the truth: its found keypoints, its box's area
    (at least 1 square pixel) and the skeleton's OKS sigmas (``skeleton.sigmas``),
    as COCO computes OKS. Decoded people seldom repeat one another (on rendered
    crowds it changed AP by 0.000 at 0.9 and by up to -0.014 at 0.5 to 0.7;
    docs/options.md), so the decoder does not do this itself.

    Parameters
    ----------
    poses : Poses
        People ordered best first, as a Decoder returns them.
    threshold : float in [0, 1]
        OKS at which a person counts as a repeat.

    Returns
    -------
    Poses
        The people kept, in their order; ``stats["people"]`` counts them.

    Notes
    -----
    Memory is O(P * K) and time O(P^2 * K) for P people of K keypoints: each person
    is compared with the people kept before it, never as a P x P x K array.
    """
    if not isinstance(poses, Poses):
        raise TypeError(f"poses must be a pafdecode.Poses, got {type(poses).__name__}")
    threshold = real(threshold, "threshold", 0.0, 1.0)
    keypoints = np.asarray(poses.keypoints, dtype=np.float64)
    variances = (np.asarray(poses.skeleton.sigmas, dtype=np.float64) * 2) ** 2
    found = keypoints[:, :, 2] > 0
    kept = []
    kept_xy = np.empty((len(keypoints), keypoints.shape[1], 2))
    kept_found = np.empty(found.shape, bool)
    kept_area = np.empty(len(keypoints))
    for p in range(len(keypoints)):
        n = len(kept)
        if n:
            d2 = ((keypoints[p, None, :, :2] - kept_xy[:n]) ** 2).sum(axis=2)     # (n, K)
            e = d2 / variances / (kept_area[:n, None] + _EPS) / 2
            similarity = np.where(kept_found[:n], np.exp(-e), 0.0).sum(axis=1)
            counts = np.maximum(kept_found[:n].sum(axis=1), 1)
            if np.any(similarity / counts >= threshold):
                continue
        kept.append(p)
        kept_xy[n] = keypoints[p, :, :2]
        kept_found[n] = found[p]
        xy = keypoints[p, found[p], :2]
        kept_area[n] = max(float(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1])), 1.0) if len(xy) else 1.0
    keep = np.array(kept, np.intp)
    stats = dict(poses.stats, people=len(keep))
    return Poses(poses.keypoints[keep], poses.scores[keep], poses.skeleton, stats)
