"""pafdecode.metrics: OKS, COCO / CrowdPose AP and AR, PCK and keypoint conversions.

The evaluator is checked to the digit against the eval fixtures in ../shared and against
pycocotools (and xtcocotools' CrowdPose rules through xthotcoco) on random result sets.
"""

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pafdecode.metrics import (
    COCO17_KEYPOINTS, COCO_SIGMAS, CROWDPOSE14_KEYPOINTS, CROWDPOSE_SIGMAS, KEYPOINT_ALIASES,
    coco_eval, convert_keypoints, keypoint_index_map, oks, pck,
)
from pafdecode.skeleton import COCO18_KEYPOINTS

# A modest number of random result sets: 25 under the default profile (60 examples),
# ten times more under PAFDECODE_HYPOTHESIS=thorough.
RANDOM_SETS = max(10, settings().max_examples * 5 // 12)


def _shared_dir():
    env = os.environ.get("PAFDECODE_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return path if path.is_dir() else None


def _fixture(name):
    shared = _shared_dir()
    if shared is None:
        pytest.skip("the shared data folder (../shared or $PAFDECODE_SHARED) is absent")
    path = shared / "data" / "eval-fixtures" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def _load(name):
    return json.loads(_fixture(name).read_text())


def _pycocotools():
    coco = pytest.importorskip("pycocotools.coco", reason="pycocotools is a test-only "
                               "dependency: pip install pycocotools")
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    return coco.COCO, cocoeval.COCOeval


def _xtcocotools():
    """xthotcoco: xtcocotools' CrowdPose evaluation on hotcoco. xtcocotools itself ships
    wheels built against NumPy 1, which do not import on NumPy 2."""
    try:
        from xthotcoco import COCO, COCOeval
    except ImportError as exc:
        pytest.skip(f"xthotcoco is not installed ({exc}); it is in the [test] extra")
    return COCO, COCOeval


def _crowd_stats(evaluator, gt):
    """The reference's CrowdPose summary, a level without images given as xtcocotools
    gives it (-1): hotcoco reads an empty imgIds as every image."""
    stats = np.array(evaluator.stats, dtype=float)
    index = [image.get("crowdIndex", 0.0) for image in gt["images"]]
    present = np.array([(i < 0.2, 0.2 <= i < 0.8, i >= 0.8) for i in index]).any(axis=0)
    stats[6:9][~present] = -1.0
    return stats


# -- the fixtures, to the digit ---------------------------------------------------------


@pytest.mark.shared
def test_coco_fixture_figures():
    result = coco_eval(_fixture("example_coco_val.json"), _fixture("example_coco_preds.json"))
    expected = {"AP": 0.8609, "AP50": 0.9931, "AP75": 0.9109, "APm": 0.7756, "APl": 0.9373,
                "AR": 0.8750}
    assert {k: round(result[k], 4) for k in expected} == expected
    assert list(result) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75",
                            "ARm", "ARl"]


@pytest.mark.shared
def test_coco_fixture_from_loaded_json_leaves_inputs_untouched():
    gt, preds = _load("example_coco_val.json"), _load("example_coco_preds.json")
    gt_before, preds_before = copy.deepcopy(gt), copy.deepcopy(preds)
    result = coco_eval(gt, preds)
    assert round(result["AP"], 4) == 0.8609
    assert gt == gt_before and preds == preds_before


@pytest.mark.shared
def test_crowdpose_fixture_figures():
    result = coco_eval(_fixture("example_crowdpose_val.json"),
                       _fixture("example_crowdpose_preds.json"), mode="crowdpose")
    assert list(result) == ["AP", "AP50", "AP75", "AR", "AR50", "AR75", "AP_easy",
                            "AP_medium", "AP_hard"]
    assert round(result["AP"], 3) == 0.788
    assert (round(result["AP_easy"], 3), round(result["AP_medium"], 3),
            round(result["AP_hard"], 3)) == (1.000, 0.980, 0.412)


# -- random result sets against pycocotools / xtcocotools -------------------------------


def _random_results(gt, rng, *, num_keypoints, tie_scores, with_bbox, crowded_image,
                    zero_score_dets):
    """Detections made from the ground truth: jittered, dropped, doubled, plus noise."""
    sizes = {img["id"]: (img.get("width", 640), img.get("height", 480))
             for img in gt["images"]}
    score_choices = np.array([0.3, 0.5, 0.5, 0.9])

    def score():
        return float(rng.choice(score_choices) if tie_scores else rng.uniform(0.01, 1))

    def person(image_id, kps):
        kps = np.asarray(kps, dtype=np.float64).reshape(num_keypoints, 3)
        entry = {"image_id": image_id, "category_id": 1,
                 "keypoints": [float(v) for v in kps.ravel()], "score": score()}
        if with_bbox:
            x0, y0 = kps[:, :2].min(axis=0) - rng.uniform(0, 20, 2)
            w, h = np.ptp(kps[:, :2], axis=0) + rng.uniform(0, 40, 2)
            entry["bbox"] = [float(x0), float(y0), float(w), float(h)]
        return entry

    results = []
    for ann in gt["annotations"]:
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            kps = np.array(ann["keypoints"], dtype=np.float64).reshape(num_keypoints, 3)
            box = ann["bbox"]
            scale = np.sqrt(max(box[2] * box[3], 1.0))
            unlabelled = kps[:, 2] == 0
            kps[unlabelled, 0] = box[0] + rng.uniform(0, 1, unlabelled.sum()) * box[2]
            kps[unlabelled, 1] = box[1] + rng.uniform(0, 1, unlabelled.sum()) * box[3]
            # Relative jitter 0.2% .. 6%: OKS from about 1 down to about 0.3.
            jitter = 10 ** rng.uniform(-2.7, -1.2) * scale
            kps[:, :2] += rng.normal(0, jitter, (num_keypoints, 2))
            kps[:, 2] = rng.uniform(0.05, 1, num_keypoints)
            dropped = rng.random(num_keypoints) < 0.05
            kps[dropped] = 0
            if zero_score_dets and rng.random() < 0.2:
                kps[:, 2] = 0
            results.append(person(ann["image_id"], kps))
    image_ids = list(sizes)
    for _ in range(rng.integers(1, 8)):
        image_id = image_ids[rng.integers(len(image_ids))]
        width, height = sizes[image_id]
        centre = rng.uniform(0, 1, 2) * (width, height)
        spread = rng.uniform(5, 150)
        kps = np.column_stack([centre + rng.normal(0, spread, (num_keypoints, 2)),
                               rng.uniform(0, 1, num_keypoints)])
        results.append(person(image_id, kps))
    if crowded_image:  # more detections than max_dets in one image
        ann = gt["annotations"][rng.integers(len(gt["annotations"]))]
        base = np.array(ann["keypoints"], dtype=np.float64).reshape(num_keypoints, 3)
        for _ in range(25):
            kps = base.copy()
            kps[:, :2] += rng.normal(0, 4, (num_keypoints, 2))
            kps[:, 2] = rng.uniform(0.1, 1, num_keypoints)
            results.append(person(ann["image_id"], kps))
    order = rng.permutation(len(results))
    return [results[i] for i in order]


def _random_gt(gt, rng, *, crowd_flags, zero_id, empty_image):
    gt = copy.deepcopy(gt)
    for ann in gt["annotations"]:
        ann.pop("segmentation", None)
        if crowd_flags and rng.random() < 0.15:
            ann["iscrowd"] = 1
    if zero_id:
        gt["annotations"][rng.integers(len(gt["annotations"]))]["id"] = 0
    if empty_image:
        gt["images"].append({"id": 1, "width": 320, "height": 240, "crowdIndex": 0.5})
    return gt


def _summaries_of(evaluator_cls, gt_coco, results, *args, kpt_oks_sigmas=None, **kwargs):
    """Run a COCOeval (silenced) with maxDets [20]; pycocotools takes sigmas as a param."""
    with contextlib.redirect_stdout(io.StringIO()):
        dt_coco = gt_coco.loadRes(copy.deepcopy(results))
        evaluator = evaluator_cls(gt_coco, dt_coco, *args, **kwargs)
        evaluator.params.maxDets = [20]
        if kpt_oks_sigmas is not None:
            evaluator.params.kpt_oks_sigmas = np.asarray(kpt_oks_sigmas)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def _pycoco_gt(COCO, gt):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
    return coco


@settings(max_examples=RANDOM_SETS)
@given(seed=st.integers(0, 2 ** 32 - 1), tie_scores=st.booleans(), with_bbox=st.booleans(),
       crowded_image=st.booleans(), crowd_flags=st.booleans(), zero_id=st.booleans(),
       empty_image=st.booleans())
@pytest.mark.shared
def test_coco_eval_matches_pycocotools(seed, tie_scores, with_bbox, crowded_image,
                                       crowd_flags, zero_id, empty_image):
    COCO, COCOeval = _pycocotools()
    rng = np.random.default_rng(seed)
    gt = _random_gt(_load("example_coco_val.json"), rng, crowd_flags=crowd_flags,
                    zero_id=zero_id, empty_image=empty_image)
    results = _random_results(gt, rng, num_keypoints=17, tie_scores=tie_scores,
                              with_bbox=with_bbox, crowded_image=crowded_image,
                              zero_score_dets=False)
    gt_coco = _pycoco_gt(COCO, gt)
    reference = _summaries_of(COCOeval, gt_coco, results, "keypoints")
    ours = coco_eval(gt, results)
    np.testing.assert_allclose(list(ours.values()), reference.stats, rtol=0, atol=1e-6)

    # OKS per image, detections best first and cut at 20, as computeOks orders them.
    for (image_id, _), expected in reference.ious.items():
        if len(expected) == 0:
            continue
        gts = gt_coco.loadAnns(gt_coco.getAnnIds(imgIds=[image_id]))
        dets = [r for r in results if r["image_id"] == image_id]
        dets = [dets[i] for i in np.argsort([-d["score"] for d in dets],
                                            kind="mergesort")[:20]]
        similarity = oks(np.array([d["keypoints"] for d in dets]).reshape(len(dets), 17, 3),
                         np.array([g["keypoints"] for g in gts]).reshape(len(gts), 17, 3),
                         [g["area"] for g in gts], COCO_SIGMAS,
                         gt_bbox=[g["bbox"] for g in gts])
        np.testing.assert_allclose(similarity, expected, rtol=0, atol=1e-12)


@settings(max_examples=RANDOM_SETS)
@given(seed=st.integers(0, 2 ** 32 - 1), tie_scores=st.booleans(), with_bbox=st.booleans(),
       crowded_image=st.booleans(), crowd_flags=st.booleans(),
       zero_score_dets=st.booleans(), empty_image=st.booleans(),
       crowd_index=st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.19, 0.2, 0.5, 0.79, 0.8, 0.95]),
                            min_size=5, max_size=5))
@pytest.mark.shared
def test_crowdpose_mode_matches_xtcocotools(seed, tie_scores, with_bbox, crowded_image,
                                            crowd_flags, zero_score_dets, empty_image,
                                            crowd_index):
    COCO, COCOeval = _xtcocotools()
    rng = np.random.default_rng(seed)
    gt = _random_gt(_load("example_crowdpose_val.json"), rng, crowd_flags=crowd_flags,
                    zero_id=False, empty_image=empty_image)
    for image, index in zip(gt["images"], crowd_index):
        image["crowdIndex"] = index
    results = _random_results(gt, rng, num_keypoints=14, tie_scores=tie_scores,
                              with_bbox=with_bbox, crowded_image=crowded_image,
                              zero_score_dets=zero_score_dets)
    with tempfile.TemporaryDirectory() as folder:
        gt_path = Path(folder) / "gt.json"  # xtcocotools re-reads it for the crowd levels
        gt_path.write_text(json.dumps(gt))
        with contextlib.redirect_stdout(io.StringIO()):
            gt_coco = COCO(str(gt_path))
        reference = _summaries_of(COCOeval, gt_coco, results, "keypoints_crowd",
                                  CROWDPOSE_SIGMAS, use_area=False)
    ours = coco_eval(gt, results, mode="crowdpose")
    np.testing.assert_allclose(list(ours.values()), _crowd_stats(reference, gt), rtol=0,
                               atol=1e-6)


def _scene_person(ann_id, offset, *, area=5000.0, iscrowd=0, num_keypoints=None,
                  labelled=True, image_id=7):
    """A 3-keypoint ground truth, shifted by ``offset`` pixels in x."""
    xy = np.array([[100.0, 100.0], [140.0, 100.0], [120.0, 150.0]]) + [offset, 0]
    flags = np.full(3, 2.0 if labelled else 0.0)
    kps = np.column_stack([xy, flags])
    if not labelled:
        kps[:, :2] = 0
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": iscrowd,
            "num_keypoints": int((flags > 0).sum()) if num_keypoints is None
            else num_keypoints, "area": area, "bbox": [90.0 + offset, 90.0, 60.0, 70.0],
            "keypoints": kps.ravel().tolist()}


def _scene_detection(offset, score, image_id=7):
    xy = np.array([[100.0, 100.0], [140.0, 100.0], [120.0, 150.0]]) + [offset, 0]
    return {"image_id": image_id, "category_id": 1, "score": score,
            "keypoints": np.column_stack([xy, np.ones(3)]).ravel().tolist()}


# Hand-made corners of COCOeval that random sets seldom reach.
SCENES = {
    # Two identical ground truths: a tie goes to the later one, and pycocotools reads a
    # match to id 0 as none.
    "tie, id 0 last": ([_scene_person(5, 0), _scene_person(0, 0)],
                       [_scene_detection(1, 0.9)]),
    "tie, id 0 first": ([_scene_person(0, 0), _scene_person(5, 0)],
                        [_scene_detection(1, 0.9)]),
    # A detection nearer a crowd region than the person it overlaps: the counted person
    # wins while it fits; crowd regions absorb any number of detections.
    "crowd beside a person": (
        [_scene_person(1, 6, iscrowd=1), _scene_person(2, 0)],
        [_scene_detection(5, 0.9), _scene_detection(6, 0.8), _scene_detection(7, 0.7),
         _scene_detection(60, 0.6)]),
    # num_keypoints, not the labelled count, decides what is ignored; a ground truth with
    # no labelled keypoints is measured to its box.
    "num_keypoints disagrees": (
        [_scene_person(1, 0, num_keypoints=0), _scene_person(2, 80, labelled=False,
                                                             num_keypoints=3),
         _scene_person(3, 200)],
        [_scene_detection(2, 0.9), _scene_detection(80, 0.8), _scene_detection(203, 0.7),
         _scene_detection(400, 0.95)]),
    # Medium and large people overlapping: in each area range the other is ignored.
    "medium and large overlap": (
        [_scene_person(1, 0, area=3000.0), _scene_person(2, 4, area=20000.0)],
        [_scene_detection(3, 0.9), _scene_detection(1, 0.5), _scene_detection(30, 0.4)]),
}


@pytest.mark.parametrize("scene", list(SCENES))
def test_coco_eval_matches_the_reference_tools_on_made_up_scenes(scene):
    annotations, results = SCENES[scene]
    sigmas = np.array([0.1, 0.1, 0.1])
    gt = {"images": [{"id": 7, "crowdIndex": 0.5}],
          "categories": [{"id": 1, "name": "person"}], "annotations": annotations}
    COCO, COCOeval = _pycocotools()
    reference = _summaries_of(COCOeval, _pycoco_gt(COCO, gt), results, "keypoints",
                              kpt_oks_sigmas=sigmas)
    ours = coco_eval(gt, results, sigmas=sigmas)
    np.testing.assert_allclose(list(ours.values()), reference.stats, rtol=0, atol=1e-12)
    try:
        XCOCO, XCOCOeval = _xtcocotools()
    except pytest.skip.Exception:
        return
    with tempfile.TemporaryDirectory() as folder:
        gt_path = Path(folder) / "gt.json"
        gt_path.write_text(json.dumps(gt))
        with contextlib.redirect_stdout(io.StringIO()):
            gt_coco = XCOCO(str(gt_path))
        crowd_reference = _summaries_of(XCOCOeval, gt_coco, results, "keypoints_crowd",
                                        sigmas, use_area=False)
    crowd = coco_eval(gt, results, sigmas=sigmas, mode="crowdpose")
    np.testing.assert_allclose(list(crowd.values()), _crowd_stats(crowd_reference, gt),
                               rtol=0, atol=1e-12)


# -- OKS ---------------------------------------------------------------------------------


def test_oks_of_a_perfect_match_is_one_and_falls_with_distance():
    gt = np.array([[10.0, 20.0, 2], [30.0, 40.0, 2], [0.0, 0.0, 0]])
    sigmas = np.array([0.1, 0.2, 0.3])
    pred = np.array([gt, gt + [[3.0, 4.0, 0]] * 3])
    value = oks(pred, gt, 100.0, sigmas)
    assert value.shape == (2, 1)
    assert value[0, 0] == pytest.approx(1.0)
    # Only the two labelled keypoints count: d^2 = 25 each.
    expected = np.mean(np.exp(-25 / (2 * sigmas[:2]) ** 2 / (100 + np.spacing(1)) / 2))
    assert value[1, 0] == pytest.approx(expected, rel=1e-14)


def test_oks_to_a_ground_truth_without_labels_uses_its_enlarged_box():
    gt = np.zeros((1, 2, 3))
    box = [100.0, 100.0, 10.0, 20.0]     # enlarged: x 90..120, y 80..140
    sigmas = np.array([0.5, 0.5])
    inside = np.array([[95.0, 90.0, 1], [119.0, 139.0, 1]])
    outside = np.array([[87.0, 144.0, 1], [125.0, 80.0, 1]])  # d^2 = 9 + 16 and 25
    value = oks([inside, outside], gt, 50.0, sigmas, gt_bbox=[box])
    assert value[0, 0] == pytest.approx(1.0)
    assert value[1, 0] == pytest.approx(np.exp(-25 / 1.0 / (50 + np.spacing(1)) / 2))
    with pytest.raises(ValueError, match="gt_bbox"):
        oks(inside, gt, 50.0, sigmas)


def test_oks_rejects_mismatched_keypoint_counts():
    with pytest.raises(ValueError, match="keypoints"):
        oks(np.zeros((2, 17, 3)), np.zeros((1, 14, 3)), 1.0, COCO_SIGMAS)


def test_sigma_constants():
    assert COCO_SIGMAS.shape == (17,) and CROWDPOSE_SIGMAS.shape == (14,)
    assert COCO_SIGMAS[0] == pytest.approx(0.026) and CROWDPOSE_SIGMAS[6] == pytest.approx(0.107)
    # The CrowdPose limbs share COCO's sigmas for the same keypoints.
    shared = keypoint_index_map(COCO17_KEYPOINTS, CROWDPOSE14_KEYPOINTS)
    np.testing.assert_array_equal(CROWDPOSE_SIGMAS[:12], COCO_SIGMAS[shared[:12]])


# -- coco_eval edge cases -----------------------------------------------------------------


def _tiny_gt(**annotation):
    ann = {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "num_keypoints": 2,
           "area": 5000.0, "bbox": [0, 0, 100, 50],
           "keypoints": [10, 10, 2, 50, 40, 2, 0, 0, 0]}
    ann.update(annotation)
    return {"images": [{"id": 7}], "categories": [{"id": 1, "name": "person"}],
            "annotations": [ann]}


def test_coco_eval_perfect_and_absent_figures():
    gt = _tiny_gt()
    perfect = [{"image_id": 7, "category_id": 1, "score": 0.9,
                "keypoints": [10, 10, 1, 50, 40, 1, 0, 0, 0]}]
    result = coco_eval(gt, perfect, sigmas=[0.1, 0.1, 0.1])
    assert result["AP"] == pytest.approx(1.0) and result["AR"] == pytest.approx(1.0)
    assert result["APm"] == pytest.approx(1.0)
    assert result["APl"] == -1 and result["ARl"] == -1   # no large ground truth
    crowd = coco_eval(_tiny_gt(iscrowd=1), perfect, sigmas=[0.1, 0.1, 0.1])
    assert all(v == -1 for v in crowd.values())
    nothing = coco_eval(gt, [], sigmas=[0.1, 0.1, 0.1])
    assert nothing["AP"] == 0 and nothing["AR"] == 0


def test_coco_eval_rejects_bad_input():
    gt = _tiny_gt()
    result = [{"image_id": 7, "category_id": 1, "score": 0.9,
               "keypoints": [10, 10, 1, 50, 40, 1, 0, 0, 0]}]
    with pytest.raises(ValueError, match="mode"):
        coco_eval(gt, result, sigmas=[0.1] * 3, mode="mpii")
    with pytest.raises(ValueError, match="keypoint values"):
        coco_eval(gt, result)                           # 17 sigmas, 3 keypoints
    with pytest.raises(ValueError, match="images"):
        coco_eval(gt, [dict(result[0], image_id=8)], sigmas=[0.1] * 3)
    with pytest.raises(ValueError, match="crowdIndex"):
        coco_eval(gt, result, sigmas=[0.1] * 3, mode="crowdpose")
    with pytest.raises(ValueError, match="max_dets"):
        coco_eval(gt, result, sigmas=[0.1] * 3, max_dets=0)


def test_metrics_does_not_import_the_coco_tools():
    code = ("import sys, pafdecode.metrics; "
            "assert not [m for m in sys.modules if 'cocotools' in m], sys.modules.keys()")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tempfile.gettempdir())


# -- PCK ---------------------------------------------------------------------------------


def test_pck_bbox_by_hand():
    gt = np.array([
        # box of the labelled keypoints: 100 x 50 -> size 100, limit 0.2 * 100 = 20
        [[0, 0, 2], [100, 0, 2], [100, 50, 2], [0, 50, 0]],
        # labelled xs 10, 40, 20 and ys 10, 50, 30: 30 x 40 -> size 40, limit 8
        [[10, 10, 2], [10, 10, 0], [40, 50, 2], [20, 30, 1]],
    ], dtype=float)
    pred = np.array([
        [[0, 0, .9], [112, 16, .9], [100, 70.5, .9], [0, 50, .9]],  # 0, 20 (edge), 20.5
        [[10, 18, 0], [99, 99, .9], [40, 50, .5], [26, 30, .5]],    # score 0 -> missed
    ], dtype=float)
    mean, per_keypoint = pck(pred, gt, alpha=0.2)
    np.testing.assert_allclose(per_keypoint, [0.5, 1.0, 0.5, 1.0])
    assert mean == pytest.approx(0.75)
    # The same sizes given explicitly.
    mean_given, per_given = pck(pred, gt, alpha=0.2, reference=[100.0, 40.0])
    np.testing.assert_array_equal(per_given, per_keypoint)


def test_pck_torso_and_head_coco17():
    index = {name: i for i, name in enumerate(COCO17_KEYPOINTS)}
    gt = np.zeros((2, 17, 3))
    pred = np.zeros((2, 17, 3))
    # Person 0: left shoulder (0, 0) to right hip (30, 40): torso 50; ears 20 apart.
    gt[0, index["left_shoulder"]] = [0, 0, 2]
    gt[0, index["right_hip"]] = [30, 40, 2]
    gt[0, index["left_ear"]] = [0, -30, 2]
    gt[0, index["right_ear"]] = [20, -30, 2]
    # Person 1: no left shoulder, so right shoulder (0, 0) to left hip (0, 10); one ear.
    gt[1, index["right_shoulder"]] = [0, 0, 2]
    gt[1, index["left_hip"]] = [0, 10, 2]
    gt[1, index["left_ear"]] = [5, -5, 2]
    pred[...] = gt
    pred[..., 2] = 1
    pred[0, index["right_hip"], 0] += 4      # 4 px off
    pred[1, index["left_hip"], 0] += 1.5     # 1.5 px off
    _, torso = pck(pred, gt, alpha=0.1, reference="torso")     # limits 5 and 1
    assert torso[index["right_hip"]] == 1.0 and torso[index["left_hip"]] == 0.0
    assert np.isnan(torso[index["nose"]])
    _, head = pck(pred, gt, alpha=0.1, reference="head")       # limit 2; person 1 left out
    assert head[index["right_hip"]] == 0.0 and np.isnan(head[index["left_hip"]])
    # OpenPose's COCO-18 names work too.
    to18 = keypoint_index_map(COCO17_KEYPOINTS, COCO18_KEYPOINTS)
    _, torso18 = pck(convert_keypoints(pred, to18), convert_keypoints(gt, to18), alpha=0.1,
                     reference="torso", keypoint_names=COCO18_KEYPOINTS)
    np.testing.assert_array_equal(torso18[to18 >= 0], torso[to18[to18 >= 0]])


def test_pck_head_crowdpose_uses_head_to_neck():
    gt = np.zeros((1, 14, 3))
    gt[0, 12] = [50, 0, 2]      # head (top)
    gt[0, 13] = [50, 30, 2]     # neck: head segment 30
    gt[0, 0] = [40, 40, 2]
    pred = gt.copy()
    pred[0, 0, :2] += [0, 15]   # 15 <= 0.5 * 30
    mean, per_keypoint = pck(pred, gt, alpha=0.5, reference="head",
                             keypoint_names=CROWDPOSE14_KEYPOINTS)
    assert per_keypoint[0] == 1.0 and mean == 1.0


def test_pck_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        pck(np.zeros((2, 17, 3)), np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match="reference"):
        pck(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)), reference="arm")
    with pytest.raises(ValueError, match="lacks"):
        pck(np.zeros((1, 3, 3)), np.zeros((1, 3, 3)), reference="torso",
            keypoint_names=["nose", "neck", "tail"])


# -- conversions ---------------------------------------------------------------------------


def test_coco18_to_coco17_map():
    mapping = keypoint_index_map(COCO18_KEYPOINTS, COCO17_KEYPOINTS)
    assert mapping.dtype == np.int64
    assert mapping.tolist() == [0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10]
    for target, source in zip(COCO17_KEYPOINTS, mapping):
        short = COCO18_KEYPOINTS[source]
        assert short == target or short == target.replace("left_", "l_").replace("right_", "r_")
    back = keypoint_index_map(COCO17_KEYPOINTS, COCO18_KEYPOINTS)
    assert back[COCO18_KEYPOINTS.index("neck")] == -1
    assert back[COCO18_KEYPOINTS.index("r_shoulder")] == COCO17_KEYPOINTS.index(
        "right_shoulder")


def test_coco17_to_crowdpose14_map():
    mapping = keypoint_index_map(COCO17_KEYPOINTS, CROWDPOSE14_KEYPOINTS)
    assert mapping.tolist() == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -1]
    with_nose = keypoint_index_map(COCO17_KEYPOINTS, CROWDPOSE14_KEYPOINTS,
                                   aliases={**KEYPOINT_ALIASES, "head": "nose"})
    assert with_nose[12] == COCO17_KEYPOINTS.index("nose") and with_nose[13] == -1
    from18 = keypoint_index_map(COCO18_KEYPOINTS, CROWDPOSE14_KEYPOINTS)
    assert from18[13] == COCO18_KEYPOINTS.index("neck") and from18[12] == -1
    assert from18[0] == COCO18_KEYPOINTS.index("l_shoulder")


def test_index_map_normalises_and_rejects_ambiguous_sources():
    assert keypoint_index_map(["L-Shoulder", "Head Top"], ["left_shoulder", "head"]).tolist() \
        == [0, 1]
    with pytest.raises(ValueError, match="reads as"):
        keypoint_index_map(["l_eye", "left_eye"], ["left_eye"])


def test_convert_keypoints_fills_missing_with_zeros():
    rng = np.random.default_rng(3)
    people = rng.uniform(1, 100, (4, 18, 3)).astype(np.float32)
    to17 = keypoint_index_map(COCO18_KEYPOINTS, COCO17_KEYPOINTS)
    coco17 = convert_keypoints(people, to17)
    assert coco17.shape == (4, 17, 3) and coco17.dtype == np.float32
    np.testing.assert_array_equal(coco17[:, 1], people[:, COCO18_KEYPOINTS.index("l_eye")])
    to14 = keypoint_index_map(COCO17_KEYPOINTS, CROWDPOSE14_KEYPOINTS)
    crowd = convert_keypoints(coco17, to14)
    assert crowd.shape == (4, 14, 3)
    assert not crowd[:, 12:].any()                        # head and neck missing
    np.testing.assert_array_equal(crowd[:, 1], people[:, COCO18_KEYPOINTS.index("r_shoulder")])
    # COCO-17 -> COCO-18 -> COCO-17 is the identity; a single person keeps its rank.
    round_trip = convert_keypoints(
        convert_keypoints(coco17[0], keypoint_index_map(COCO17_KEYPOINTS, COCO18_KEYPOINTS)),
        to17)
    np.testing.assert_array_equal(round_trip, coco17[0])
    with pytest.raises(ValueError, match="outside"):
        convert_keypoints(people, np.array([0, 18]))
