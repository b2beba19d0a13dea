"""Pose metrics: OKS, COCO / CrowdPose keypoint AP and AR, PCK, and keypoint conversions.

Everything here is plain NumPy. :func:`coco_eval` reproduces pycocotools' ``COCOeval``
with ``iouType="keypoints"`` (mode ``"coco"``) and xtcocotools' ``COCOeval`` with
``iouType="keypoints_crowd"`` (mode ``"crowdpose"``) number for number, without
importing either.

Keypoints are always arrays ``(..., K, 3)`` of ``x, y`` in image pixels and a third
value: the visibility flag for ground truth (0 = not labelled, 1 = labelled but hidden,
2 = visible; anything > 0 counts as labelled) and the confidence for predictions.

Evaluation rules
----------------
Mode ``"coco"`` follows pycocotools' ``COCOeval(iouType="keypoints")``: per image and
category, detections best score first (stable sort) and at most ``max_dets`` of them;
ground truth that is a crowd or has ``num_keypoints == 0`` is ignored (a detection
matched to it neither helps nor hurts); at each OKS threshold, greedy matching of each
detection to the most similar free ground truth; AP is the 101-point interpolated
precision (precision made monotone from the right, read at recall 0, 0.01 ... 1) and
AR the final recall, averaged over thresholds and categories, per area range ("all",
medium 32²..96², large > 96²: ground truth outside the range is ignored, and so are
unmatched detections outside it). A figure with no ground truth to count is -1. As in
pycocotools, a detection's area (for the area ranges) is its box's when the first
result carries a ``bbox``, else the area of its keypoints' bounding box.

Mode ``"crowdpose"`` follows xtcocotools' ``COCOeval(iouType="keypoints_crowd",
use_area=False)``: 14 keypoints with :data:`CROWDPOSE_SIGMAS`, the object area taken
as ``0.53 * w * h`` of the ground-truth box, detections without any keypoint scoring
above 0 dropped, area range "all" only; and AP per crowd level from each image's
``crowdIndex``: easy below ``crowd_levels[0]``, medium from there to below
``crowd_levels[1]``, hard from ``crowd_levels[1]`` up. The defaults 0.2 and 0.8 are
xtcocotools' (and the CrowdPose toolkit's) in code; the CrowdPose paper describes
0.1 and 0.8. As xtcocotools does, a level's AP is the mean over thresholds, recall
points and categories of its precision (-1 where it has no ground truth), rounded to 4
decimals.

pycocotools quirks reproduced in mode "coco": a match to a ground truth whose ``id``
is 0 counts as a false positive (pycocotools stores matched ids and reads 0 as
"none"); the ``ignore`` field of annotations is disregarded. xtcocotools uses -1 for
"none", so mode "crowdpose" has no such quirk. Ground-truth ids are otherwise assumed
unique.
"""

from __future__ import annotations

import json
import os
from typing import Mapping

import numpy as np

# The keypoint sets, their sigmas and name matching are defined in skeleton.py; they
# are imported here for the functions below and for code that reads them from metrics.
from .skeleton import (  # noqa: F401
    COCO17_KEYPOINTS, COCO_SIGMAS, CROWDPOSE14_KEYPOINTS, CROWDPOSE_SIGMAS,
    KEYPOINT_ALIASES, _canonical_name, keypoint_index_map,
)

__all__ = [
    "COCO17_KEYPOINTS",
    "CROWDPOSE14_KEYPOINTS",
    "COCO_SIGMAS",
    "CROWDPOSE_SIGMAS",
    "KEYPOINT_ALIASES",
    "oks",
    "coco_eval",
    "pck",
    "keypoint_index_map",
    "convert_keypoints",
    "PERSON_AREA_PER_BOX",
]

_EPS = np.spacing(1)  # pycocotools' guard against a zero area
_COCO_AREA_RANGES = {"all": (0.0, 1e5 ** 2), "medium": (32.0 ** 2, 96.0 ** 2),
                     "large": (96.0 ** 2, 1e5 ** 2)}
# A COCO person's segment area over its box's area: xtcocotools (and the CrowdPose
# toolkit) take 0.53 w h for a ground truth without an area. On the shared
# coco-train-mini annotations the ratio of "area" to bbox w * h averages 0.52 over the 86
# people with keypoints (0.54 over all 167): the factor holds for COCO's own people.
PERSON_AREA_PER_BOX = 0.53
_BBOX_AREA_FACTOR = PERSON_AREA_PER_BOX
# coco_eval's figures in the order of pycocotools' / xtcocotools' summaries.
_COCO_FIGURES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
_CROWDPOSE_FIGURES = ("AP", "AP50", "AP75", "AR", "AR50", "AR75")


# -- OKS ------------------------------------------------------------------------------


def _as_people(array, name, num_keypoints=None):
    """``array`` as float64 (N, K, 3); a single (K, 3) person becomes (1, K, 3)."""
    arr = np.asarray(array, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"{name} must have shape (K, 3) or (N, K, 3), got {np.shape(array)}")
    if num_keypoints is not None and arr.shape[1] != num_keypoints:
        raise ValueError(
            f"{name} has {arr.shape[1]} keypoints per person, expected {num_keypoints}")
    return arr


def oks(pred, gt, area, sigmas, *, gt_bbox=None):
    """Object keypoint similarity between predictions and ground truth, as COCO computes it.

    For a ground truth with labelled keypoints (visibility > 0), with ``d`` the distance
    between a predicted keypoint and its labelled position::

        e = d**2 / (2 * sigma)**2 / (area + eps) / 2
        OKS = mean of exp(-e) over the labelled keypoints

    (``eps = np.spacing(1)``). For a ground truth with no labelled keypoint, ``d`` is the
    distance from each predicted keypoint to the ground truth's box enlarged to three times
    its width and height about its centre (``[x - w, x + 2w] x [y - h, y + 2h]``; 0 inside),
    averaged over all K keypoints: pycocotools' ``COCOeval.computeOks``. The predictions'
    own scores play no part.

    Parameters
    ----------
    pred : array_like, shape (P, K, 3) or (K, 3)
        Predicted keypoints: x, y in pixels and a score (unused).
    gt : array_like, shape (G, K, 3) or (K, 3)
        Ground-truth keypoints: x, y in pixels and the visibility flag.
    area : array_like, shape (G,) or scalar
        Each ground truth's object area in square pixels (COCO's segment area).
    sigmas : array_like, shape (K,)
        Per-keypoint constants, e.g. :data:`COCO_SIGMAS` or :data:`CROWDPOSE_SIGMAS`.
    gt_bbox : array_like, shape (G, 4) or (4,), optional
        Each ground truth's box ``x, y, width, height`` in pixels. Needed only for a
        ground truth without labelled keypoints.

    Returns
    -------
    ndarray of float64, shape (P, G)
        OKS in [0, 1] of every prediction against every ground truth (2-D even for single
        people).

    Raises
    ------
    ValueError
        On shapes that do not agree, or a ground truth without labelled keypoints and
        without ``gt_bbox``.
    """
    sigmas = _as_sigmas(sigmas)
    pred = _as_people(pred, "pred", len(sigmas))
    gt = _as_people(gt, "gt", len(sigmas))
    area = np.broadcast_to(np.asarray(area, dtype=np.float64), (len(gt),))
    labelled = gt[:, :, 2] > 0                                          # (G, K)
    has_labels = labelled.any(axis=1)                                   # (G,)
    dx = pred[:, None, :, 0] - gt[None, :, :, 0]                        # (P, G, K)
    dy = pred[:, None, :, 1] - gt[None, :, :, 1]
    if not has_labels.all():
        box_dx, box_dy = _offsets_to_enlarged_boxes(pred, gt_bbox, len(gt))
        unlabelled = ~has_labels[None, :, None]
        dx = np.where(unlabelled, box_dx, dx)
        dy = np.where(unlabelled, box_dy, dy)
    e = (dx ** 2 + dy ** 2) / (sigmas * 2) ** 2 / (area[None, :, None] + _EPS) / 2
    counted = np.where(has_labels[:, None], labelled, True)             # (G, K)
    similarity = np.where(counted[None], np.exp(-e), 0.0).sum(axis=2)
    return similarity / counted.sum(axis=1)[None, :]


def _as_sigmas(sigmas, allow_empty=True):
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.ndim != 1 or (sigmas.size == 0 and not allow_empty):
        raise ValueError(f"sigmas must have shape (K,), got {sigmas.shape}")
    return sigmas


def _offsets_to_enlarged_boxes(pred, gt_bbox, num_gt):
    """Per axis, how far each predicted keypoint lies outside each ground truth's box
    grown to ``[x - w, x + 2w] x [y - h, y + 2h]`` (0 inside): shapes (P, G, K)."""
    if gt_bbox is None:
        raise ValueError(
            "gt_bbox is needed: a ground truth has no labelled keypoints, so its OKS "
            "is measured to its box")
    boxes = np.asarray(gt_bbox, dtype=np.float64).reshape(-1, 4)
    if len(boxes) != num_gt:
        raise ValueError(f"gt_bbox has {len(boxes)} boxes for {num_gt} ground truths")
    x0 = boxes[:, 0] - boxes[:, 2]
    x1 = boxes[:, 0] + boxes[:, 2] * 2
    y0 = boxes[:, 1] - boxes[:, 3]
    y1 = boxes[:, 1] + boxes[:, 3] * 2
    px = pred[:, None, :, 0]
    py = pred[:, None, :, 1]
    box_dx = (np.maximum(0.0, x0[None, :, None] - px)
              + np.maximum(0.0, px - x1[None, :, None]))
    box_dy = (np.maximum(0.0, y0[None, :, None] - py)
              + np.maximum(0.0, py - y1[None, :, None]))
    return box_dx, box_dy


# -- COCO / CrowdPose evaluation -----------------------------------------------------


def _load_json(source):
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8") as handle:
            return json.load(handle)
    return source


def _keypoint_array(annotation, num_keypoints, what):
    flat = np.asarray(annotation["keypoints"], dtype=np.float64)
    if flat.size != 3 * num_keypoints:
        raise ValueError(
            f"{what} id {annotation.get('id')} has {flat.size} keypoint values, expected "
            f"{3 * num_keypoints} ({num_keypoints} keypoints, as many as the sigmas)")
    return flat.reshape(num_keypoints, 3)


def _require(annotation, keys, what, index):
    missing = [k for k in keys if k not in annotation]
    if missing:
        raise ValueError(f"{what}[{index}] lacks {missing}")


def _has_box(annotation):
    box = annotation.get("bbox")
    return box is not None and len(box) > 0


class _ImageGroup:
    """Ground truth (G) and detections (D, best first, at most max_dets) of one
    (image, category), ready for matching.

    ``gt_ids, gt_ignore, gt_crowd, gt_areas`` are (G,) arrays, ``gt_ignore`` before any
    area range; ``det_scores, det_areas, det_ids`` are (D,); ``similarity`` is the (D, G)
    OKS. Areas in square pixels.
    """

    __slots__ = ("gt_ids", "gt_ignore", "gt_crowd", "gt_areas", "det_scores",
                 "det_areas", "det_ids", "similarity")


def _prepare_groups(gt, results, settings):
    """Per (image, category), the arrays evaluateImg needs, with OKS computed once."""
    sigmas = settings.sigmas
    for key in ("images", "annotations", "categories"):
        if key not in gt:
            raise ValueError(f"gt lacks {key!r}: it must be a COCO-format dict or JSON file")
    image_ids = sorted({img["id"] for img in gt["images"]})
    category_ids = sorted({cat["id"] for cat in gt["categories"]})
    unknown = {r["image_id"] for r in results if "image_id" in r} - set(image_ids)
    if unknown:
        raise ValueError(
            f"results name images that the ground truth lacks: {sorted(unknown)[:10]}")
    gts_by_group = _group_ground_truth(gt["annotations"], set(image_ids), set(category_ids))
    dets_by_group = _group_detections(results, len(sigmas), set(category_ids),
                                      settings.crowd_mode)
    groups = {}
    for image_id in image_ids:
        for category_id in category_ids:
            key = (image_id, category_id)
            gts = gts_by_group.get(key, [])
            dets = dets_by_group.get(key, [])
            if gts or dets:
                groups[key] = _make_group(gts, dets, sigmas, settings.max_dets,
                                          settings.use_area)
    return image_ids, category_ids, groups


def _group_ground_truth(annotations, image_set, category_set):
    """Ground-truth annotations by (image, category), for known images and categories."""
    grouped: dict = {}
    for index, ann in enumerate(annotations):
        _require(ann, ("image_id", "category_id", "keypoints"), "gt annotations", index)
        if ann["image_id"] in image_set and ann["category_id"] in category_set:
            grouped.setdefault((ann["image_id"], ann["category_id"]), []).append(ann)
    return grouped


def _group_detections(results, num_keypoints, category_set, crowd_mode):
    """Detections by (image, category) as ``(score, area, id, keypoints)``; ids count
    from 1 in file order, as loadRes numbers them."""
    # pycocotools' loadRes: a results list whose first entry has a non-empty box takes
    # every detection's area from its box; otherwise from its keypoints' extent.
    area_from_box = bool(results) and _has_box(results[0])
    grouped: dict = {}
    for index, res in enumerate(results):
        _require(res, ("image_id", "category_id", "keypoints", "score"), "results", index)
        kps = _keypoint_array(res, num_keypoints, "result")
        if crowd_mode and not (kps[:, 2] > 0).any():
            continue  # xtcocotools drops detections without a single scored keypoint
        if area_from_box:
            if not _has_box(res):
                raise ValueError(
                    f"results[{index}] has no 'bbox' but results[0] does: pycocotools then "
                    "takes every detection's area from its box")
            box = res["bbox"]
            det_area = box[2] * box[3]
        else:
            xs, ys = kps[:, 0], kps[:, 1]
            det_area = (xs.max() - xs.min()) * (ys.max() - ys.min())
        if res["category_id"] in category_set:
            grouped.setdefault((res["image_id"], res["category_id"]), []).append(
                (float(res["score"]), float(det_area), index + 1, kps))
    return grouped


def _gt_areas(gts, boxes, use_area):
    areas = []
    for g, box in zip(gts, boxes):
        if use_area and "area" in g:
            areas.append(float(g["area"]))
        elif box is None:
            raise ValueError(f"gt annotation id {g.get('id')} has neither the "
                             "'area' in use nor a 'bbox' to estimate it from")
        else:  # xtcocotools: h * w * 0.53 when the area is not used
            areas.append(box[3] * box[2] * _BBOX_AREA_FACTOR)
    return np.array(areas, dtype=np.float64)


def _make_group(gts, dets, sigmas, max_dets, use_area):
    """One (image, category)'s _ImageGroup: detections best first (stable), at most
    `max_dets` of them, and their OKS against the ground truth."""
    num_keypoints = len(sigmas)
    dets_order = np.argsort([-d[0] for d in dets], kind="mergesort")[:max_dets]
    dets = [dets[i] for i in dets_order]
    group = _ImageGroup()
    group.gt_ids = np.array([g.get("id", 0) for g in gts])
    group.gt_crowd = np.array([bool(g.get("iscrowd", 0)) for g in gts], dtype=bool)
    gt_kps = np.array([_keypoint_array(g, num_keypoints, "gt annotation")
                       for g in gts]).reshape(len(gts), num_keypoints, 3)
    num_labelled = [g["num_keypoints"] if "num_keypoints" in g
                    else int((kps[:, 2] > 0).sum()) for g, kps in zip(gts, gt_kps)]
    group.gt_ignore = group.gt_crowd | (np.array(num_labelled) == 0)
    boxes = [g.get("bbox") for g in gts]
    group.gt_areas = _gt_areas(gts, boxes, use_area)
    group.det_scores = np.array([d[0] for d in dets], dtype=np.float64)
    group.det_areas = np.array([d[1] for d in dets], dtype=np.float64)
    group.det_ids = np.array([d[2] for d in dets], dtype=np.int64)
    if not (gts and dets):
        group.similarity = np.zeros((len(dets), len(gts)))
        return group
    no_labels = ~(gt_kps[:, :, 2] > 0).any(axis=1)
    box_array = None
    if no_labels.any():
        if any(boxes[i] is None for i in np.flatnonzero(no_labels)):
            raise ValueError("a gt annotation without labelled keypoints has no "
                             "'bbox' to measure OKS to")
        box_array = np.array([b if b is not None else [0, 0, 0, 0] for b in boxes],
                             dtype=np.float64)
    group.similarity = oks(np.array([d[3] for d in dets]), gt_kps, group.gt_areas, sigmas,
                           gt_bbox=box_array)
    return group


def _evaluate_image(group, area_range, thresholds, crowd_mode):
    """COCOeval.evaluateImg: greedy matching at each OKS threshold.

    Returns ``(scores (D,), matched (T, D) bool, ignored (T, D) bool, n_counted_gt)``.
    """
    lo, hi = area_range
    gt_ignore = group.gt_ignore | (group.gt_areas < lo) | (group.gt_areas > hi)
    order = np.argsort(gt_ignore, kind="mergesort")  # counted ground truth first
    gt_ignore = gt_ignore[order]
    gt_crowd = group.gt_crowd[order]
    gt_ids = group.gt_ids[order]
    similarity = group.similarity[:, order]
    num_thresholds = len(thresholds)
    num_dets, num_gt = similarity.shape
    match = np.full((num_thresholds, num_dets), -1, dtype=np.int64)  # gt index or -1
    det_ignore = np.zeros((num_thresholds, num_dets), dtype=bool)
    if num_dets and num_gt:
        gt_taken = np.zeros((num_thresholds, num_gt), dtype=bool)
        floor = np.minimum(thresholds, 1 - 1e-10)[:, None]
        rows = np.arange(num_thresholds)
        for d in range(num_dets):
            values = similarity[d][None, :]
            # A ground truth can take this detection when free (or a crowd) and similar
            # enough; counted ones come first and, once one fits, ignored ones are never
            # looked at. Among the fitting ones the most similar wins, the last on a tie.
            candidate = (~gt_taken | gt_crowd[None, :]) & (values >= floor)
            counted = candidate & ~gt_ignore[None, :]
            pool = np.where(counted.any(axis=1, keepdims=True), counted, candidate)
            scored = np.where(pool, values, -np.inf)
            best = scored.max(axis=1, keepdims=True)
            last_best = num_gt - 1 - np.argmax((scored == best)[:, ::-1], axis=1)
            found = pool.any(axis=1)
            chosen = np.where(found, last_best, -1)
            match[:, d] = chosen
            hit = rows[found]
            det_ignore[hit, d] = gt_ignore[chosen[found]]
            gt_taken[hit, chosen[found]] = True
    matched = match >= 0
    if not crowd_mode and num_gt:
        # pycocotools stores the matched gt's id and reads 0 as "unmatched".
        matched &= gt_ids[np.maximum(match, 0)] != 0
    outside = (group.det_areas < lo) | (group.det_areas > hi)
    det_ignore |= ~matched & outside[None, :]
    return group.det_scores, matched, det_ignore, int(np.count_nonzero(~gt_ignore))


def _accumulate(per_image, thresholds, recall_thresholds, max_dets):
    """COCOeval.accumulate for one category and area range.

    Returns ``precision (T, R)`` and ``recall (T,)``, -1 where no ground truth counts.
    """
    num_thresholds, num_recall = len(thresholds), len(recall_thresholds)
    precision = -np.ones((num_thresholds, num_recall))
    recall = -np.ones(num_thresholds)
    counted_gt = sum(item[3] for item in per_image)
    if counted_gt == 0:
        return precision, recall
    scores = np.concatenate([item[0][:max_dets] for item in per_image] + [np.zeros(0)])
    matched = np.concatenate([item[1][:, :max_dets] for item in per_image]
                             + [np.zeros((num_thresholds, 0), dtype=bool)], axis=1)
    ignored = np.concatenate([item[2][:, :max_dets] for item in per_image]
                             + [np.zeros((num_thresholds, 0), dtype=bool)], axis=1)
    order = np.argsort(-scores, kind="mergesort")
    matched, ignored = matched[:, order], ignored[:, order]
    tp_sum = np.cumsum(matched & ~ignored, axis=1).astype(np.float64)
    fp_sum = np.cumsum(~matched & ~ignored, axis=1).astype(np.float64)
    num_dets = len(scores)
    if num_dets == 0:
        recall[:] = 0
        precision[:] = 0
        return precision, recall
    rc = tp_sum / counted_gt
    pr = tp_sum / (fp_sum + tp_sum + _EPS)
    recall[:] = rc[:, -1]
    envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    for t in range(num_thresholds):
        at = np.searchsorted(rc[t], recall_thresholds, side="left")
        inside = at < num_dets
        precision[t] = np.where(inside, envelope[t, np.minimum(at, num_dets - 1)], 0.0)
    return precision, recall


def _mean_of_present(values):
    present = values[values > -1]
    return float(np.mean(present)) if present.size else -1.0


class _EvalSettings:
    """coco_eval's arguments, checked: ``crowd_mode``, ``sigmas`` (K,), ``max_dets``,
    ``use_area``, ``thresholds`` (T,), ``recall_thresholds`` (R,) and ``area_names``."""

    def __init__(self, mode, sigmas, max_dets, use_area, iou_thresholds):
        if mode not in ("coco", "crowdpose"):
            raise ValueError(f"mode must be 'coco' or 'crowdpose', got {mode!r}")
        self.crowd_mode = mode == "crowdpose"
        if sigmas is None:
            sigmas = CROWDPOSE_SIGMAS if self.crowd_mode else COCO_SIGMAS
        self.sigmas = _as_sigmas(sigmas, allow_empty=False)
        if isinstance(max_dets, bool) or not isinstance(max_dets, (int, np.integer)) \
                or max_dets < 1:
            raise ValueError(f"max_dets must be a positive integer, got {max_dets!r}")
        self.max_dets = int(max_dets)
        self.use_area = (not self.crowd_mode) if use_area is None else bool(use_area)
        if iou_thresholds is None:
            self.thresholds = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1,
                                          endpoint=True)
        else:
            self.thresholds = np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64))
            if self.thresholds.ndim != 1 or self.thresholds.size == 0:
                raise ValueError("iou_thresholds must be a non-empty 1-D sequence")
        self.recall_thresholds = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1,
                                             endpoint=True)
        self.area_names = ("all",) if self.crowd_mode else ("all", "medium", "large")


def _load_eval_inputs(gt, results):
    gt = _load_json(gt)
    results = _load_json(results)
    if not isinstance(gt, Mapping):
        raise ValueError("gt must be a COCO-format dict or the path of one")
    if not isinstance(results, list):
        raise ValueError("results must be a list of COCO result dicts or the path of one")
    return gt, results


def _evaluate_all_images(settings, image_ids, category_ids, groups):
    """(category, area name) -> list of (image id, evaluateImg output)."""
    per_image = {}
    for category_id in category_ids:
        for area_name in settings.area_names:
            per_image[category_id, area_name] = [
                (image_id, _evaluate_image(groups[image_id, category_id],
                                           _COCO_AREA_RANGES[area_name], settings.thresholds,
                                           settings.crowd_mode))
                for image_id in image_ids if (image_id, category_id) in groups]
    return per_image


def _accumulate_all(settings, category_ids, per_image, area_name, keep_image=None):
    """Precision (T, R, categories) and recall (T, categories) over the images kept."""
    shape = (len(settings.thresholds), len(settings.recall_thresholds), len(category_ids))
    precision = np.empty(shape)
    recall = np.empty((len(settings.thresholds), len(category_ids)))
    for k, category_id in enumerate(category_ids):
        items = [item for image_id, item in per_image[category_id, area_name]
                 if keep_image is None or keep_image(image_id)]
        precision[:, :, k], recall[:, k] = _accumulate(
            items, settings.thresholds, settings.recall_thresholds, settings.max_dets)
    return precision, recall


def _summarise(settings, category_ids, per_image):
    """AP / AR per area range, and AP / AR at OKS 0.5 and 0.75 over all areas."""
    at_50 = np.flatnonzero(np.isclose(settings.thresholds, 0.5, rtol=0, atol=1e-9))
    at_75 = np.flatnonzero(np.isclose(settings.thresholds, 0.75, rtol=0, atol=1e-9))
    summary = {}
    for area_name in settings.area_names:
        precision, recall = _accumulate_all(settings, category_ids, per_image, area_name)
        suffix = {"all": "", "medium": "m", "large": "l"}[area_name]
        summary["AP" + suffix] = _mean_of_present(precision)
        summary["AR" + suffix] = _mean_of_present(recall)
        if area_name == "all":
            summary["AP50"] = _mean_of_present(precision[at_50])
            summary["AP75"] = _mean_of_present(precision[at_75])
            summary["AR50"] = _mean_of_present(recall[at_50])
            summary["AR75"] = _mean_of_present(recall[at_75])
    return summary


def _crowd_level_figures(settings, category_ids, per_image, images, crowd_levels):
    """xtcocotools' AP_easy / AP_medium / AP_hard from each image's crowdIndex."""
    first, second = (float(v) for v in crowd_levels)
    crowd_level = {}
    for img in images:
        if "crowdIndex" not in img:
            raise ValueError(f"image {img.get('id')} has no 'crowdIndex', which mode "
                             "'crowdpose' needs for AP by crowd level")
        if img["crowdIndex"] < first:
            crowd_level[img["id"]] = "easy"
        elif img["crowdIndex"] < second:
            crowd_level[img["id"]] = "medium"
        else:
            crowd_level[img["id"]] = "hard"
    out = {}
    for level in ("easy", "medium", "hard"):
        precision, _ = _accumulate_all(settings, category_ids, per_image, "all",
                                       lambda image_id: crowd_level[image_id] == level)
        out["AP_" + level] = float(round(float(np.mean(precision)), 4))
    return out


def coco_eval(gt, results, *, sigmas=None, max_dets=20, mode="coco", iou_thresholds=None,
              use_area=None, crowd_levels=(0.2, 0.8)):
    """COCO keypoint AP / AR, or CrowdPose's, exactly as pycocotools / xtcocotools give them.

    What each mode matches, ignores and averages is set out in this module's
    *Evaluation rules*.

    Parameters
    ----------
    gt : dict or path
        COCO-format ground truth (``images``, ``annotations``, ``categories``), or its JSON
        file. Annotations need ``image_id``, ``category_id``, ``keypoints`` (flat
        ``x, y, v`` triples); also ``id``, ``iscrowd`` (0 if absent), ``num_keypoints``
        (counted from ``v > 0`` if absent), ``area`` (if ``use_area``) and ``bbox``
        (``x, y, w, h``; needed without an area and for ground truth without labelled
        keypoints). Mode "crowdpose" needs each image's ``crowdIndex``.
    results : list of dict or path
        COCO keypoint results (``image_id``, ``category_id``, ``keypoints``, ``score``),
        e.g. :func:`pafdecode.io.coco_results`, or their JSON file.
    sigmas : array_like, shape (K,), optional
        OKS constants; :data:`COCO_SIGMAS` in mode "coco", :data:`CROWDPOSE_SIGMAS` in
        mode "crowdpose". K must match the annotations' keypoint count.
    max_dets : int
        Detections kept per image and category, best first. pycocotools' summary reports
        only ``maxDets=20``; here the figures are those at ``max_dets``.
    mode : {"coco", "crowdpose"}
    iou_thresholds : array_like, optional
        OKS thresholds; default 0.50, 0.55, ... 0.95. AP50 / AP75 (and AR50 / AR75) are
        read at the thresholds within 1e-9 of 0.5 / 0.75, and are -1 if there is none.
    use_area : bool, optional
        Use each ground truth's ``area`` (True, the default in mode "coco") or
        ``0.53 * w * h`` of its box (False, the default in mode "crowdpose").
    crowd_levels : (float, float)
        Crowd-index boundaries easy / medium / hard (mode "crowdpose" only).

    Returns
    -------
    dict of str to float
        Mode "coco": ``AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl``.
        Mode "crowdpose": ``AP, AP50, AP75, AR, AR50, AR75, AP_easy, AP_medium, AP_hard``.
        All in [0, 1], or -1 where there is nothing to measure.

    Raises
    ------
    ValueError
        On an unknown mode, keypoint counts that do not match the sigmas, results for
        images the ground truth lacks, missing fields, or (mode "crowdpose") an image
        without ``crowdIndex``.
    """
    settings = _EvalSettings(mode, sigmas, max_dets, use_area, iou_thresholds)
    gt, results = _load_eval_inputs(gt, results)
    image_ids, category_ids, groups = _prepare_groups(gt, results, settings)
    per_image = _evaluate_all_images(settings, image_ids, category_ids, groups)
    summary = _summarise(settings, category_ids, per_image)
    if not settings.crowd_mode:
        return {key: summary[key] for key in _COCO_FIGURES}
    out = {key: summary[key] for key in _CROWDPOSE_FIGURES}
    out.update(_crowd_level_figures(settings, category_ids, per_image, gt["images"],
                                    crowd_levels))
    return out


# -- PCK ------------------------------------------------------------------------------


def _name_index(names, aliases=None):
    """Normalised keypoint name -> its first index in ``names``."""
    aliases = KEYPOINT_ALIASES if aliases is None else aliases
    index = {}
    for i, name in enumerate(names):
        index.setdefault(_canonical_name(name, aliases), i)
    return index


def _pair_length(gt, index, first, second):
    """Per person, the distance between two labelled keypoints (NaN if either is not)."""
    a, b = gt[:, index[first]], gt[:, index[second]]
    both = (a[:, 2] > 0) & (b[:, 2] > 0)
    return np.where(both, np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1]), np.nan)


def pck(pred, gt, alpha=0.2, reference="bbox", keypoint_names=None):
    """Percentage of Correct Keypoints over matched prediction / ground-truth pairs.

    A predicted keypoint is correct when it lies within ``alpha * size`` pixels
    (inclusive) of its ground truth, ``size`` being the person's reference size. Only
    labelled ground-truth keypoints (visibility > 0) count; a predicted keypoint whose
    score is 0 (the decoder's "missing", ``0, 0, 0``) counts as wrong. People whose
    reference size is missing or 0 are left out.

    Parameters
    ----------
    pred, gt : array_like, shape (N, K, 3) or (K, 3)
        Predictions (x, y in pixels, score) and ground truth (x, y, visibility), pair
        ``n`` of one matched to pair ``n`` of the other.
    alpha : float
        Threshold as a fraction of the reference size.
    reference : {"bbox", "torso", "head"} or array_like of shape (N,)
        The reference size of each person, in pixels:

        - ``"bbox"``: ``max(width, height)`` of the box around the person's labelled
          ground-truth keypoints (MMPose's convention).
        - ``"torso"``: the distance from the left shoulder to the right hip, or, where
          either is unlabelled, from the right shoulder to the left hip.
        - ``"head"``: the head segment. With keypoints named ``head`` and ``neck``
          (CrowdPose: top of head to neck) their distance; otherwise (COCO-17 / COCO-18)
          the distance between the ears. People without both ends labelled are left out
          (no fall-back to the eyes, which would mix scales).
        - an array: the sizes themselves.
    keypoint_names : sequence of str, optional
        Names of the K keypoints, needed for "torso" and "head"; default
        :data:`COCO17_KEYPOINTS`. Names are read as by :func:`keypoint_index_map`, so
        OpenPose's ``"r_shoulder"`` works as ``"right_shoulder"``.

    Returns
    -------
    mean_pck : float
        The mean of the per-keypoint PCKs that are defined (MMPose's average), NaN if
        none is.
    per_keypoint_pck : ndarray of float64, shape (K,)
        The fraction of counted keypoints of each type that are correct, NaN where no
        keypoint of that type counted.

    Raises
    ------
    ValueError
        On shapes that do not agree, an unknown reference, or names lacking the
        keypoints the reference needs.
    """
    pred, gt, alpha = _check_pck_inputs(pred, gt, alpha)
    size = _reference_sizes(reference, gt, keypoint_names)
    per_keypoint = _pck_per_keypoint(pred, gt, size, alpha)
    defined = per_keypoint[~np.isnan(per_keypoint)]
    mean_pck = float(defined.mean()) if defined.size else float("nan")
    return mean_pck, per_keypoint


def _check_pck_inputs(pred, gt, alpha):
    pred = _as_people(pred, "pred")
    gt = _as_people(gt, "gt")
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and "
                         f"{gt.shape}")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha}")
    return pred, gt, alpha


def _reference_sizes(reference, gt, keypoint_names):
    """pck's reference size of each person (N,), NaN where it has none."""
    num_people = len(gt)
    if isinstance(reference, str):
        if reference == "bbox":
            return _labelled_box_sizes(gt)
        if reference in ("torso", "head"):
            return _segment_sizes(gt, reference, keypoint_names)
        raise ValueError(
            f"reference must be 'bbox', 'torso', 'head' or an array of sizes, got "
            f"{reference!r}")
    size = np.asarray(reference, dtype=np.float64).reshape(-1)
    if size.shape != (num_people,):
        raise ValueError(f"reference sizes must have shape ({num_people},), got "
                         f"{np.shape(reference)}")
    return size


def _labelled_box_sizes(gt):
    """max(width, height) of the box around each person's labelled keypoints."""
    labelled = gt[:, :, 2] > 0
    xs = np.where(labelled, gt[:, :, 0], np.nan)
    ys = np.where(labelled, gt[:, :, 1], np.nan)
    size = np.full(len(gt), np.nan)
    some = labelled.any(axis=1)
    size[some] = np.maximum(
        np.nanmax(xs[some], axis=1) - np.nanmin(xs[some], axis=1),
        np.nanmax(ys[some], axis=1) - np.nanmin(ys[some], axis=1))
    return size


def _segment_sizes(gt, reference, keypoint_names):
    """The torso diagonal or the head segment of each person; see pck."""
    names = COCO17_KEYPOINTS if keypoint_names is None else tuple(keypoint_names)
    if len(names) != gt.shape[1]:
        raise ValueError(f"keypoint_names has {len(names)} names for "
                         f"{gt.shape[1]} keypoints")
    index = _name_index(names)
    if reference == "torso":
        needed = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
        pairs = [("left_shoulder", "right_hip"), ("right_shoulder", "left_hip")]
    elif "head" in index and "neck" in index:
        needed, pairs = ("head", "neck"), [("head", "neck")]
    else:
        needed, pairs = ("left_ear", "right_ear"), [("left_ear", "right_ear")]
    lacking = [n for n in needed if n not in index]
    if lacking:
        raise ValueError(f"reference {reference!r} needs keypoints {lacking}, "
                         "which keypoint_names lacks")
    size = _pair_length(gt, index, *pairs[0])
    for pair in pairs[1:]:
        size = np.where(np.isnan(size), _pair_length(gt, index, *pair), size)
    return size


def _pck_per_keypoint(pred, gt, size, alpha):
    """Per keypoint type, the fraction of counted keypoints within alpha * size."""
    labelled = gt[:, :, 2] > 0
    usable = np.isfinite(size) & (size > 0)
    counted = labelled & usable[:, None]
    distance = np.hypot(pred[:, :, 0] - gt[:, :, 0], pred[:, :, 1] - gt[:, :, 1])
    limit = alpha * np.where(usable, size, 0.0)
    correct = counted & (pred[:, :, 2] != 0) & (distance <= limit[:, None])
    n_counted = counted.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_counted > 0, correct.sum(axis=0) / n_counted, np.nan)


# -- keypoint conversions -------------------------------------------------------------


def convert_keypoints(keypoints, index_map):
    """Re-order keypoints into another skeleton, zeros where the source lacks one.

    Parameters
    ----------
    keypoints : array_like, shape (P, K, 3) or (K, 3)
        x, y and score / visibility per keypoint.
    index_map : array_like of int, shape (M,)
        From :func:`keypoint_index_map`: source index per target keypoint, -1 for none.

    Returns
    -------
    ndarray, shape (P, M, 3) or (M, 3)
        The same dtype as ``keypoints`` (float64 for lists); target keypoints without a
        source are ``0, 0, 0`` (missing / unlabelled).

    Raises
    ------
    ValueError
        On a keypoints array that is not (..., K, 3) or an index outside -1..K-1.
    """
    array = np.asarray(keypoints)
    if not np.issubdtype(array.dtype, np.number):
        array = array.astype(np.float64)
    if array.ndim not in (2, 3) or array.shape[-1] != 3:
        raise ValueError(f"keypoints must have shape (K, 3) or (P, K, 3), got {array.shape}")
    index_map = np.asarray(index_map)
    if index_map.ndim != 1 or not np.issubdtype(index_map.dtype, np.integer):
        raise ValueError("index_map must be a 1-D integer array")
    num_keypoints = array.shape[-2]
    if index_map.size and (index_map.min() < -1 or index_map.max() >= num_keypoints):
        raise ValueError(f"index_map holds indices outside -1..{num_keypoints - 1}")
    present = index_map >= 0
    out = np.zeros(array.shape[:-2] + (len(index_map), 3), dtype=array.dtype)
    out[..., present, :] = array[..., index_map[present], :]
    return out
