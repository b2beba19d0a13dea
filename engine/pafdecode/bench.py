"""The crowd benchmark behind ``pafdecode bench``: speed and accuracy as the crowd grows.

For each people count, seeded crowd scenes are rendered with :mod:`pafdecode.synth`
(people 80-300 px tall in a 368 x 656 image at every count by default, so the crowd
index grows with the count), decoded by each requested backend and assignment mode,
timed, and scored with COCO keypoint AP (on the COCO-17 keypoints the skeleton shares)
against the truth. Scoring follows COCO's rule: a person's OKS area is 0.53 times the
area of its visible keypoints' box, and every detection counts (no ``maxDets`` cap unless
asked). Scenes are also sliced by crowd level as CrowdPose defines it, and the AP of the
*ceiling* is shown beside the decoder's: the exact truth split into the pieces that
survive occlusion (each person's keypoints grouped by the limbs whose fields were
rendered), which is the best any decoder of these fields can do.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from . import io, metrics, synth
from .decoder import Decoder, Poses
from .reference import ReferenceDecoder, _clean, find_peaks
from .skeleton import COCO17_KEYPOINTS, KEYPOINT_ALIASES, Skeleton, keypoint_index_map
from .transforms import image_to_map

__all__ = ["crowd_index", "ceiling_people", "scenes_to_coco", "score_quality", "run_benchmark",
           "annotation_scenes", "run_annotation_benchmark", "format_table"]

DEFAULT_PEOPLE = (1, 5, 10, 20, 50, 100, 200)
CROWD_LEVELS = (("easy", 0.0, 0.1), ("medium", 0.1, 0.8), ("hard", 0.8, np.inf))

# CrowdPose's crowd index lives with the scenes that carry it.
crowd_index = synth.crowd_index


def crowd_level(index):
    for name, lo, hi in CROWD_LEVELS:
        if lo <= index < hi:
            return name
    return CROWD_LEVELS[-1][0]


def ceiling_people(people, skeleton):
    """The truth as a perfect decoder of these fields would return it: each person's
    visible keypoints split into the groups that rendered limbs connect (a hidden joint
    cuts its limbs out of the PAFs). Returns (P', K, 3) keypoints with score 1 on found
    keypoints, and a score per piece (its keypoint count) so whole people rank first."""
    pieces, scores = [], []
    for person in people:
        visible = person[:, 2] > 0
        parent = list(range(len(person)))

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for a, b in skeleton.limbs.tolist():
            if visible[a] and visible[b]:
                parent[root(a)] = root(b)
        groups = {}
        for k in np.flatnonzero(visible):
            groups.setdefault(root(k), []).append(k)
        for members in groups.values():
            if len(members) < 2:
                continue  # a lone peak has no limb: no PAF decoder can place it
            piece = np.zeros_like(person)
            piece[members, :2] = person[members, :2]
            piece[members, 2] = 1.0
            pieces.append(piece)
            scores.append(float(len(members)))
    k = people.shape[1] if len(people) else skeleton.num_keypoints
    return np.array(pieces, np.float32).reshape(-1, k, 3), np.array(scores, np.float32)


def peak_ceiling_people(scene, skeleton, stride=8, threshold=0.1, radius=1, max_peaks=128):
    """`ceiling_people` restricted to the keypoints that have a peak of their own.

    Each heatmap peak (found as the decoder finds them) goes to the nearest visible
    true keypoint of its type within one map pixel; a keypoint left without one (its
    Gaussian merged into a neighbour's, or too weak) is hidden, which can also split
    its person. This is the best a decoder that gives each peak to one person can do
    on these fields, so the gap from the decoder to it is what grouping loses, and
    the gap from it to the ceiling is what merged peaks lose."""
    people = np.array(scene.people, np.float32, copy=True)
    people[~keypoints_with_peaks(scene, stride, threshold, radius, max_peaks), 2] = 0
    return ceiling_people(people, skeleton)


def keypoints_with_peaks(scene, stride=8, threshold=0.1, radius=1, max_peaks=128):
    """(P, K) bool: the visible keypoints of `scene` that have a heatmap peak of their
    own, as :func:`peak_ceiling_people` assigns peaks."""
    people = np.asarray(scene.people, np.float32)
    heat = _clean(np.asarray(scene.heatmaps, np.float32))
    owned = np.zeros(people.shape[:2], bool)
    for k in range(people.shape[1]):
        peaks = find_peaks(heat[k], threshold, radius, max_peaks)
        visible = people[:, k, 2] > 0
        if not len(peaks) or not visible.any():
            continue
        truth = image_to_map(people[:, k, :2], stride)
        dist = np.hypot(truth[:, None, 0] - peaks[None, :, 0],
                        truth[:, None, 1] - peaks[None, :, 1])
        dist[~visible] = np.inf
        nearest = dist.argmin(axis=0)
        near = dist[nearest, np.arange(len(peaks))] <= 1.0
        owned[nearest[near], k] = True
    return owned


def visible_boxes(people):
    """(P, 4) COCO boxes ``x, y, w, h`` around each person's visible keypoints (zeros
    for a person with none)."""
    people = np.asarray(people, np.float64)
    visible = people[:, :, 2] > 0
    low = np.where(visible[..., None], people[:, :, :2], np.inf).min(axis=1)
    high = np.where(visible[..., None], people[:, :, :2], -np.inf).max(axis=1)
    seen = visible.any(axis=1)[:, None]
    return np.where(seen, np.concatenate([low, high - low], axis=1), 0.0)


def scenes_to_coco(scenes, index_map):
    """COCO ground truth for scenes: keypoints mapped to COCO-17, visibility 2 where
    visible, the box of all visible keypoints as bbox and 0.53 of its area as the
    person's area (COCO's rule, see ``metrics.PERSON_AREA_PER_BOX``); each image carries
    its scene's ``crowdIndex``."""
    images, annotations = [], []
    for image_id, scene in enumerate(scenes, start=1):
        h, w = scene.image_size
        images.append({"id": image_id, "height": h, "width": w,
                       "crowdIndex": float(scene.crowd_index)})
        converted = metrics.convert_keypoints(scene.people, index_map)
        for person, box in zip(converted, visible_boxes(scene.people)):
            visible = person[:, 2] > 0
            flat = np.concatenate([person[:, :2], np.where(visible, 2, 0)[:, None]], axis=1)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                "iscrowd": 0, "num_keypoints": int(visible.sum()),
                "keypoints": [float(v) for v in flat.reshape(-1)],
                "bbox": [float(v) for v in box],
                "area": float(metrics.PERSON_AREA_PER_BOX * box[2] * box[3])})
    return {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "person"}]}


def _results(image_id, keypoints, scores, skeleton, index_map):
    """COCO results of people given as arrays (truth pieces or decoded people)."""
    return io.coco_results(Poses(keypoints, scores, skeleton), image_id,
                           keypoint_map=index_map)


def _evaluate(gt, results, image_ids, max_dets):
    """AP, AP50 and AR on a subset of images (None where it has no people); `max_dets`
    None counts every detection."""
    ids = set(image_ids)
    sub = {"images": [im for im in gt["images"] if im["id"] in ids],
           "annotations": [a for a in gt["annotations"] if a["image_id"] in ids],
           "categories": gt["categories"]}
    if not sub["annotations"]:
        return None
    res = [r for r in results if r["image_id"] in ids]
    if max_dets is None:
        per_image = np.bincount([r["image_id"] for r in res]) if res else [1]
        max_dets = max(1, int(np.max(per_image)))
    stats = metrics.coco_eval(sub, res, max_dets=max_dets)
    return {key: float(stats[key]) for key in ("AP", "AP50", "AR")}


def _gt_by_image(gt, use_area=True):
    """Per image id: its ground truth that counts (not crowd, with labelled keypoints) as
    (keypoints (G, K, 3), areas (G,)), the area COCO's ``area`` (when `use_area` and
    present) or 0.53 of the box, as :func:`pafdecode.metrics.coco_eval` takes them."""
    grouped = {}
    for ann in gt["annotations"]:
        kp = np.asarray(ann["keypoints"], np.float64).reshape(-1, 3)
        if ann.get("iscrowd", 0) or not (kp[:, 2] > 0).any():
            continue
        box = ann.get("bbox", [0, 0, 0, 0])
        area = ann["area"] if use_area and "area" in ann else \
            metrics.PERSON_AREA_PER_BOX * box[2] * box[3]
        grouped.setdefault(ann["image_id"], []).append((kp, float(area)))
    return {image: (np.stack([kp for kp, _ in anns]), np.array([a for _, a in anns]))
            for image, anns in grouped.items()}


def _detection_oks(gt, results, sigmas, use_area):
    """Per result (in order): its score, its OKS with its best-matching ground truth of
    the same image (the highest OKS, 0 when the image has none), and whether COCO's
    matching at OKS 0.5 matches it (per image, detections by descending score, stable,
    each taking the free ground truth it overlaps most)."""
    truth = _gt_by_image(gt, use_area)
    scores = np.array([float(r["score"]) for r in results], np.float64)
    best = np.zeros(len(results))
    matched = np.zeros(len(results), bool)
    by_image = {}
    for i, r in enumerate(results):
        by_image.setdefault(r["image_id"], []).append(i)
    for image, indices in by_image.items():
        if image not in truth:
            continue
        indices = sorted(indices, key=lambda i: -scores[i])
        pred = np.array([np.reshape(results[i]["keypoints"], (-1, 3)) for i in indices])
        sim = metrics.oks(pred, truth[image][0], truth[image][1], sigmas)
        best[indices] = sim.max(axis=1)
        free = np.ones(sim.shape[1], bool)
        for row, i in enumerate(indices):
            overlap = np.where(free, sim[row], -1.0)
            j = int(np.argmax(overlap))
            if overlap[j] >= 0.5:
                free[j], matched[i] = False, True
    return scores, best, matched


def score_quality(gt, results, sigmas=None, use_area=True):
    """How well the person score predicts OKS, over every result of every image:
    ``score_oks_r``, the Pearson correlation of each detection's score with its OKS to
    its best-matching ground truth (0 when none; None with fewer than two detections or
    a constant side), and ``unmatched_above``, the share of (unmatched, matched) pairs
    of detections (COCO's matching at OKS 0.5) where the unmatched one scores higher
    (ties are not higher; None without both kinds). Also the counts. `sigmas` default
    to COCO's; CrowdPose files take :data:`pafdecode.metrics.CROWDPOSE_SIGMAS` and
    ``use_area=False`` (the box's area, as CrowdPose scores)."""
    sigmas = metrics.COCO_SIGMAS if sigmas is None else sigmas
    scores, best, matched = _detection_oks(gt, results, sigmas, use_area)
    r = None
    if len(scores) > 1 and np.ptp(scores) > 0 and np.ptp(best) > 0:
        r = float(np.corrcoef(scores, best)[0, 1])
    hits, misses = np.sort(scores[matched]), scores[~matched]
    above = None
    if len(hits) and len(misses):
        # For each unmatched detection, the matched ones scoring strictly below it.
        below = np.searchsorted(hits, misses, side="left")
        above = float(below.sum()) / (len(hits) * len(misses))
    return {"score_oks_r": r, "unmatched_above": above, "matched": int(matched.sum()),
            "unmatched": int((~matched).sum())}


def _progress(total, enabled):
    """A progress bar: tqdm when installed, else a counter on stderr."""
    if not enabled:
        return lambda: None
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, unit="decode", file=sys.stderr, leave=False)
        return lambda: bar.update(1)
    state = {"done": 0}

    def step():
        state["done"] += 1
        if state["done"] % max(1, total // 20) == 0 or state["done"] == total:
            print(f"\r{state['done']}/{total} decodes", end="", file=sys.stderr, flush=True)
    return step


def run_benchmark(people_counts=DEFAULT_PEOPLE, *, scenes=3, repeat=5, seed=0,
                  backends=("c",), assignments=("greedy", "hungarian"), skeleton=None,
                  occlusion=0.0, noise=0.0, peak_variation=0.0, image_size=(368, 656),
                  baseline=False, max_dets=None, variants=None, progress=True,
                  size_model="constant"):
    """Runs the benchmark and returns its figures as a JSON-ready dict.

    Parameters
    ----------
    people_counts : sequence of int
        Crowd sizes; ``scenes`` seeded scenes are drawn for each.
    repeat : int
        Timed decodes per scene (the median and p90 are over all of them).
    backends, assignments : sequences of str
        Decoders to compare: every backend with every assignment mode.
    baseline : bool
        Also time the plain NumPy/Python reference decoder (once per scene), so the
        speed-up is a ratio measured in the same run.
    variants : dict of str to dict, optional
        More decoders to compare, by label: Decoder options on top of the defaults,
        e.g. ``{"unshared": {"shared_peak_score": None}}``. Each runs with every
        backend and assignment mode; its rows carry the label in ``"variant"``.
    max_dets : int, optional
        COCO's maxDets; by default none: every detection counts, as a crowd larger
        than COCO's 20 needs.
    size_model : {"constant", "shrinking"}
        How people's heights are drawn (:func:`pafdecode.synth.crowd_scene`): 80-300 px
        in a 368 x 656 image at every count, or the older benchmark's shrinking people.

    Decoders use their defaults except ``max_peaks``, raised to twice the crowd (at
    least 128) so that the cap on peaks per channel never hides people.
    """
    skeleton = skeleton or Skeleton.openpose_coco18()
    index_map = keypoint_index_map(skeleton.keypoints, COCO17_KEYPOINTS)
    variants = {"default": {}, **(variants or {})}
    runs = [(b, a, label) for label in variants for b in backends for a in assignments]
    if baseline:
        runs.append(("reference", "greedy", "default"))
    total = len(people_counts) * scenes * sum(1 if r[0] == "reference" else repeat for r in runs)
    step = _progress(total, progress)
    scene_options = dict(image_size=image_size, skeleton=skeleton, occlusion=occlusion,
                         noise=noise, peak_variation=peak_variation, size_model=size_model)
    rows = []
    for n in people_counts:
        drawn = [synth.crowd_scene(n, seed * 100003 + n * 101 + s, **scene_options)
                 for s in range(scenes)]
        rows += _crowd_rows(n, drawn, runs, variants, skeleton, index_map, repeat, max_dets,
                            step)
    if progress:
        print(file=sys.stderr)
    return {"settings": {"people": list(people_counts), "scenes": scenes, "repeat": repeat,
                         "seed": seed, "backends": list(backends),
                         "assignments": list(assignments), "skeleton": len(skeleton.keypoints),
                         "occlusion": occlusion, "noise": noise,
                         "peak_variation": peak_variation, "image_size": list(image_size),
                         "size_model": size_model, "max_dets": max_dets,
                         "variants": variants},
            "rows": rows}


def _crowd_rows(n, drawn, runs, variants, skeleton, index_map, repeat, max_dets, step):
    """run_benchmark's rows for one crowd size: each decoder of `runs` on the scenes
    `drawn`, beside the two ceilings, overall and by crowd level."""
    # Enough peaks per channel that the cap never hides people: twice the crowd.
    max_peaks = max(128, 2 * n)
    gt = scenes_to_coco(drawn, index_map)
    levels = {name: [im["id"] for im in gt["images"]
                     if crowd_level(im["crowdIndex"]) == name] for name, _, _ in CROWD_LEVELS}
    ceiling, peak_ceiling = [], []
    visible_keypoints, without_peak = 0, 0
    for image_id, scene in enumerate(drawn, start=1):
        kp, sc = ceiling_people(scene.people, skeleton)
        ceiling += _results(image_id, kp, sc, skeleton, index_map)
        owned = keypoints_with_peaks(scene, max_peaks=max_peaks)
        kp, sc = ceiling_people(np.where(owned[..., None], scene.people, 0.0), skeleton)
        peak_ceiling += _results(image_id, kp, sc, skeleton, index_map)
        visible_keypoints += int((scene.people[:, :, 2] > 0).sum())
        without_peak += int(((scene.people[:, :, 2] > 0) & ~owned).sum())
    all_ids = [im["id"] for im in gt["images"]]
    ceiling_eval = _evaluate(gt, ceiling, all_ids, max_dets)
    peak_ceiling_eval = _evaluate(gt, peak_ceiling, all_ids, max_dets)
    rows = []
    for backend, mode, label in runs:
        decoder = (ReferenceDecoder(skeleton, max_peaks=max_peaks) if backend == "reference"
                   else Decoder(skeleton, assignment=mode, backend=backend,
                                **{"max_peaks": max_peaks, **variants[label]}))
        (times, cpu_times), results, stats = _time_decoder(
            decoder, drawn, 1 if backend == "reference" else repeat, skeleton, index_map, step)
        rows.append({
            "people": n, "backend": backend, "assignment": mode, "variant": label,
            "options": dict(variants[label]), "scenes": len(drawn),
            "crowd_index": float(np.mean([scene.crowd_index for scene in drawn])),
            "crowd_indices": [float(scene.crowd_index) for scene in drawn],
            "without_peak": without_peak / max(1, visible_keypoints),
            "ms_median": float(np.median(times)), "ms_p90": float(np.percentile(times, 90)),
            # CPU time: on a shared, oversubscribed machine a long decode is preempted
            # and its wall time inflated; the process's CPU time is not.
            "cpu_ms_median": float(np.median(cpu_times)),
            **{f"{k}_per_frame": v / len(drawn) for k, v in stats.items()},
            "accuracy": _evaluate(gt, results, all_ids, max_dets),
            "score_quality": score_quality(gt, results),
            "ceiling": ceiling_eval, "peak_ceiling": peak_ceiling_eval,
            "crowd_levels": {name: {"images": len(ids),
                                    "accuracy": _evaluate(gt, results, ids, max_dets),
                                    "ceiling": _evaluate(gt, ceiling, ids, max_dets)}
                             for name, ids in levels.items() if ids}})
    return rows


def _time_decoder(decoder, drawn, repeat, skeleton, index_map, step):
    """Decode each scene `repeat` times: the wall and CPU times in ms, the last decode's
    results and the decoder's counts summed over scenes."""
    times, cpu_times, results = [], [], []
    stats = {"peaks": 0, "candidates": 0, "people": 0}
    for image_id, scene in enumerate(drawn, start=1):
        for _ in range(repeat):
            start, cpu_start = time.perf_counter(), time.process_time()
            poses = decoder(scene.heatmaps, scene.pafs)
            times.append(1e3 * (time.perf_counter() - start))
            cpu_times.append(1e3 * (time.process_time() - cpu_start))
            step()
        for key in stats:
            stats[key] += poses.stats[key]
        results += _results(image_id, poses.keypoints, poses.scores, skeleton, index_map)
    return (times, cpu_times), results, stats


def annotation_scenes(annotations, skeleton, stride=8):
    """Real annotated people rendered into fields: each image of a COCO-format keypoint
    file (COCO-17 or CrowdPose-14) becomes a scene of its own people and overlaps.

    Keypoints map to the skeleton by name; CrowdPose's "head" is drawn as the nose, and
    a COCO-18 neck missing from COCO-17 is the midpoint of the shoulders when both are
    labelled. Labelled keypoints (visibility > 0) are drawn.

    Returns
    -------
    gt : dict
        The annotations as loaded (the ground truth to score against).
    scenes : list of (image_id, CrowdScene-like namespace with heatmaps, pafs, people)
    to_gt : ndarray of int
        Index map from the skeleton's keypoints to the file's, for the results.
    """
    gt = metrics._load_json(annotations)
    names = list(gt["categories"][0]["keypoints"])
    aliases = {**KEYPOINT_ALIASES, "head": "nose"}
    from_file = keypoint_index_map(names, skeleton.keypoints, aliases)
    to_file = keypoint_index_map(skeleton.keypoints, names, aliases)
    neck = skeleton.keypoints.index("neck") if "neck" in skeleton.keypoints else -1
    shoulders = [names.index(n) for n in ("left_shoulder", "right_shoulder") if n in names]
    scenes = []
    for image in gt["images"]:
        anns = [a for a in gt["annotations"] if a["image_id"] == image["id"]
                and not a.get("iscrowd", 0) and a.get("num_keypoints", 1) > 0]
        people = np.zeros((len(anns), skeleton.num_keypoints, 3))
        for i, ann in enumerate(anns):
            kp = np.asarray(ann["keypoints"], float).reshape(-1, 3)
            people[i] = metrics.convert_keypoints(kp, from_file)
            if neck >= 0 and from_file[neck] < 0 and len(shoulders) == 2 and \
                    (kp[shoulders, 2] > 0).all():
                people[i, neck] = [*kp[shoulders, :2].mean(axis=0), 2]
        heat, paf = synth.render_fields(people, skeleton, (image["height"], image["width"]),
                                        stride=stride)
        scenes.append((image["id"], heat, paf, people))
    return gt, scenes, to_file


def run_annotation_benchmark(paths, *, backends=("c",), assignments=("greedy", "hungarian"),
                             skeleton=None, repeat=5, variants=None):
    """Decodes real annotations rendered into fields and scores them against the same
    annotations: COCO AP for COCO-17 files, CrowdPose AP (with crowd levels) for
    CrowdPose-14 files. Returns rows like :func:`run_benchmark`'s."""
    skeleton = skeleton or Skeleton.openpose_coco18()
    rows = []
    for path in paths:
        gt, scenes, to_file = annotation_scenes(path, skeleton)
        crowdpose = len(gt["categories"][0]["keypoints"]) == 14
        people = sum(len(s[3]) for s in scenes)
        runs = [(label, options, backend, mode)
                for label, options in {"default": {}, **(variants or {})}.items()
                for backend in backends for mode in assignments]
        for label, options, backend, mode in runs:
            decoder = Decoder(skeleton, assignment=mode, backend=backend,
                              **{"max_peaks": max(128, 2 * people), **options})
            times, results = [], []
            for image_id, heat, paf, _ in scenes:
                for _ in range(repeat):
                    start = time.perf_counter()
                    poses = decoder(heat, paf)
                    times.append(1e3 * (time.perf_counter() - start))
                results += _results(image_id, poses.keypoints, poses.scores, skeleton, to_file)
            stats = metrics.coco_eval(gt, results, max_dets=max(20, people),
                                      mode="crowdpose" if crowdpose else "coco")
            quality = score_quality(gt, results, metrics.CROWDPOSE_SIGMAS, False) \
                if crowdpose else score_quality(gt, results)
            rows.append({"annotations": str(path), "images": len(scenes), "people": people,
                         "backend": backend, "assignment": mode, "variant": label,
                         "ms_median": float(np.median(times)), "score_quality": quality,
                         "accuracy": {k: float(v) for k, v in stats.items()}})
    return rows


def _fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def _decoder_name(row):
    """backend/assignment, and +variant for a variant's rows."""
    variant = row.get("variant", "default")
    name = f"{row['backend']}/{row['assignment']}"
    return name if variant == "default" else f"{name}+{variant}"


def format_table(report):
    """The benchmark as a text table: per people count and decoder, the scenes' mean
    crowd index, wall and CPU times, counts, AP, the two ceilings' AP and the share of
    visible keypoints without a peak of their own ("nopeak"), then how well the person
    score predicts OKS (:func:`score_quality`): "r_oks", the Pearson correlation of score
    and OKS, and "unm>m", the share of (unmatched, matched) pairs ranked wrongly."""
    lines = [f"{'people':>6} {'crowd':>5} {'decoder':<22} {'ms med':>8} {'ms p90':>8} "
             f"{'cpu ms':>8} {'peaks':>6} {'limbs':>6} {'found':>6} {'AP':>6} {'AP50':>6} "
             f"{'AR':>6} {'peakAP':>6} {'ceilAP':>6} {'nopeak':>6} {'r_oks':>6} {'unm>m':>6}  "
             f"by crowd level: AP (ceiling)"]
    for row in report["rows"]:
        acc, ceil = row["accuracy"] or {}, row["ceiling"] or {}
        peak_ceil = row.get("peak_ceiling") or {}
        quality = row.get("score_quality") or {}
        levels = "  ".join(
            f"{name} {_fmt((v['accuracy'] or {}).get('AP'))} ({_fmt((v['ceiling'] or {}).get('AP'))})"
            f" n={v['images']}" for name, v in row["crowd_levels"].items())
        lines.append(
            f"{row['people']:>6} {row['crowd_index']:5.2f} {_decoder_name(row):<22} "
            f"{row['ms_median']:8.3f} {row['ms_p90']:8.3f} {row['cpu_ms_median']:8.3f} "
            f"{row['peaks_per_frame']:6.0f} {row['candidates_per_frame']:6.0f} "
            f"{row['people_per_frame']:6.1f} "
            f"{_fmt(acc.get('AP'))} {_fmt(acc.get('AP50'))} {_fmt(acc.get('AR'))} "
            f"{_fmt(peak_ceil.get('AP'))} {_fmt(ceil.get('AP'))} "
            f"{100 * row['without_peak']:5.1f}% {_fmt(quality.get('score_oks_r')):>6} "
            f"{_percent(quality.get('unmatched_above')):>6}  {levels}")
    return "\n".join(lines)


def plot(report, path):
    """Time against people (log-log) and AP against people, one line per decoder."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("--plot needs matplotlib: pip install matplotlib") from exc
    fig, (ax_time, ax_ap) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = list(dict.fromkeys(_decoder_name(r) for r in report["rows"]))
    for name in names:
        rows = [r for r in report["rows"] if _decoder_name(r) == name]
        people = [r["people"] for r in rows]
        ax_time.loglog(people, [r["ms_median"] for r in rows], "o-", label=name)
        ax_ap.plot(people, [(r["accuracy"] or {}).get("AP", np.nan) for r in rows], "o-",
                   label=name)
    rows = [r for r in report["rows"] if _decoder_name(r) == names[0]]
    ax_ap.plot([r["people"] for r in rows], [(r["ceiling"] or {}).get("AP", np.nan) for r in rows],
               "k--", label="ceiling")
    ax_ap.set_xscale("log")
    ax_time.set(xlabel="people", ylabel="ms per frame (median)", title="decode time")
    ax_ap.set(xlabel="people", ylabel="COCO AP", title="accuracy", ylim=(0, 1.02))
    for ax in (ax_time, ax_ap):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _option_value(text):
    if text.lower() == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_variants(specs):
    """``--variant LABEL KEY=VALUE ...`` arguments as {label: {option: value}}; "none"
    is None, numbers are numbers. Options are checked by Decoder itself."""
    variants = {}
    for spec in specs:
        label, *pairs = spec
        if label == "default" or "=" in label:
            raise ValueError(f"--variant needs a label first (not 'default'), got {label!r}")
        options = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ValueError(f"--variant {label}: expected KEY=VALUE, got {pair!r}")
            options[key.replace("-", "_")] = _option_value(value)
        variants[label] = options
    return variants


def main(args):
    """The ``pafdecode bench`` command."""
    skeleton = Skeleton.body25() if args.skeleton == "body25" else Skeleton.openpose_coco18()
    variants = parse_variants(args.variant or [])
    if args.annotations:
        rows = run_annotation_benchmark(args.annotations, backends=args.backends,
                                        assignments=args.assignments, skeleton=skeleton,
                                        repeat=args.repeat, variants=variants)
        print(f"{'annotations':<40} {'people':>6} {'decoder':<22} {'ms med':>7}  AP    AP50  AR"
              f"    r_oks  unm>m")
        for row in rows:
            acc = row["accuracy"]
            levels = "".join(f"  {k} {acc[k]:.3f}" for k in ("AP_easy", "AP_medium", "AP_hard")
                             if k in acc)
            quality = row["score_quality"]
            print(f"{row['annotations'][-40:]:<40} {row['people']:>6} "
                  f"{_decoder_name(row):<22} {row['ms_median']:7.3f}  "
                  f"{acc['AP']:.3f} {acc['AP50']:.3f} {acc['AR']:.3f} "
                  f"{_fmt(quality['score_oks_r']):>6} {_percent(quality['unmatched_above']):>6}"
                  f"{levels}")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"rows": rows}, fh, indent=1)
        return 0
    report = run_benchmark(args.people, scenes=args.scenes, repeat=args.repeat, seed=args.seed,
                           backends=args.backends, assignments=args.assignments,
                           skeleton=skeleton, occlusion=args.occlusion, noise=args.noise,
                           peak_variation=args.peak_variation,
                           image_size=tuple(args.image_size), baseline=args.baseline,
                           max_dets=args.max_dets, variants=variants,
                           progress=not args.quiet, size_model=args.size_model)
    print(format_table(report))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
    if args.plot:
        plot(report, args.plot)
    return 0
