"""The crowd benchmark: its pieces against hand-made truth, and a small full run."""

import json

import numpy as np
import pytest

from pafdecode import Skeleton, bench, cli, synth
from pafdecode.skeleton import COCO17_KEYPOINTS, keypoint_index_map

COCO = Skeleton.openpose_coco18()


def person(x0, y0, visible=True):
    kp = np.zeros((18, 3), np.float32)
    kp[:, 0] = x0 + np.arange(18) * 2
    kp[:, 1] = y0 + np.arange(18) * 5
    kp[:, 2] = 2 if visible else 0
    return kp


def test_crowd_index():
    apart = np.stack([person(0, 0), person(500, 0)])
    assert bench.crowd_index(apart) == 0.0
    on_top = np.stack([person(0, 0), person(1, 1)])
    # Each person's box holds all 18 of the other's keypoints: index 1.
    assert bench.crowd_index(on_top) == 1.0
    assert bench.crowd_level(0.05) == "easy" and bench.crowd_level(0.5) == "medium"
    assert bench.crowd_level(1.0) == "hard"


def test_ground_truth_takes_cocos_area_from_the_visible_keypoints_box():
    p = person(100, 50)
    p[0, :2] = [40, 20]     # the nose far up and left...
    p[0, 2] = 0             # ...but hidden: it does not stretch the box
    far = person(300, 0, visible=False)  # nothing visible: no box, ignored by COCO
    scene = type("Scene", (), {"people": np.stack([p, far]), "image_size": (368, 656),
                               "crowd_index": 0.25})
    index_map = keypoint_index_map(COCO.keypoints, COCO17_KEYPOINTS)
    gt = bench.scenes_to_coco([scene], index_map)
    # Visible keypoints 1..17 span x 102..134, y 55..135 (all 18 keypoints drawn as
    # x0 + 2k, y0 + 5k), whatever COCO-17 keeps of them.
    first, second = gt["annotations"]
    assert first["bbox"] == pytest.approx([102, 55, 32, 80])
    assert first["area"] == pytest.approx(0.53 * 32 * 80)
    assert second["num_keypoints"] == 0 and second["area"] == 0
    assert gt["images"][0]["crowdIndex"] == 0.25


def test_every_detection_counts_unless_a_cap_is_asked():
    # 30 people, each found exactly by the ceiling: with COCO's 20 recall stops at 2/3.
    uncapped = bench.run_benchmark([30], scenes=1, repeat=1, assignments=("greedy",),
                                   progress=False)["rows"][0]
    capped = bench.run_benchmark([30], scenes=1, repeat=1, assignments=("greedy",),
                                 max_dets=20, progress=False)["rows"][0]
    assert uncapped["ceiling"]["AR"] > 0.95
    assert capped["ceiling"]["AR"] <= 20 / 30 + 1e-9
    assert uncapped["crowd_index"] == uncapped["crowd_indices"][0] > 0.5


def test_ceiling_splits_people_at_hidden_joints():
    p = person(0, 0)
    p[1, 2] = 0  # a hidden neck cuts COCO-18's tree into its branches...
    pieces, scores = bench.ceiling_people(p[None], COCO)
    # ...but the shoulder-ear links keep both arms on the head: legs apart, 3 + 3.
    assert sorted(scores.tolist()) == [3.0, 3.0, 11.0]
    assert (pieces[:, :, 2].sum(0) == np.where(p[:, 2] > 0, 1, 0)).all()


def test_peak_ceiling_hides_keypoints_whose_peaks_merged():
    a = np.array(synth.crowd_scene(1, 3).people[0])
    b = a.copy()
    b[:, 0] += 200.0  # far apart: every keypoint keeps its own peak
    b[9, :2] = a[9, :2] + 2.0  # ...but b's right knee sits on a's: one peak for both
    people = np.stack([a, b])
    fields = synth.render_fields(people, COCO, (368, 656), stride=8)
    scene = type("Scene", (), {"people": people, "heatmaps": fields[0]})
    full, _ = bench.ceiling_people(people, COCO)
    peak, _ = bench.peak_ceiling_people(scene, COCO)
    visible = (people[:, :, 2] > 0).sum()
    assert full[:, :, 2].sum() == visible
    # One of the two knees lost its peak (which one depends on sub-pixel heights), and
    # with it the link to its ankle, left alone: no limb, no piece.
    assert peak[:, 9, 2].sum() == 1 and peak[:, 10, 2].sum() == 1
    assert peak[:, :, 2].sum() == visible - 2


def test_variants_run_beside_the_defaults():
    report = bench.run_benchmark([6], scenes=1, repeat=1, assignments=("greedy",),
                                 variants={"unshared": {"shared_peak_score": None}},
                                 progress=False)
    rows = {r["variant"]: r for r in report["rows"]}
    assert set(rows) == {"default", "unshared"}
    assert rows["unshared"]["options"] == {"shared_peak_score": None}
    assert "c/greedy+unshared" in bench.format_table(report)
    assert bench.parse_variants([["loose", "paf_threshold=0.01", "max-peaks=64"],
                                 ["solo", "shared_peak_score=none"]]) == {
        "loose": {"paf_threshold": 0.01, "max_peaks": 64},
        "solo": {"shared_peak_score": None}}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        bench.parse_variants([["loose", "paf_threshold"]])
    with pytest.raises(ValueError, match="label"):
        bench.parse_variants([["paf_threshold=0.01"]])


def test_shared_and_split_peaks_lift_crowd_ap_above_one_peak_per_person():
    # Seeded crowds of 50 people: merged Gaussians cost the OpenPose rule dearly
    # (measured: 0.768 one peak per person, 0.823 shared, 0.897 split, 5 scenes).
    report = bench.run_benchmark([50], scenes=2, repeat=1, assignments=("greedy",),
                                 variants={"unshared": {"shared_peak_score": None},
                                           "split": {"split_merged_peaks": 0.3}},
                                 progress=False)
    ap = {r["variant"]: r["accuracy"]["AP"] for r in report["rows"]}
    assert ap["default"] >= ap["unshared"] + 0.02
    assert ap["split"] >= ap["default"] + 0.02


def test_small_run_scores_a_lone_person_perfectly(tmp_path):
    report = bench.run_benchmark([1, 4], scenes=1, repeat=2, baseline=True, progress=False)
    rows = {(r["people"], r["backend"], r["assignment"]): r for r in report["rows"]}
    assert set(rows) == {(n, b, a) for n in (1, 4) for b, a in
                         [("c", "greedy"), ("c", "hungarian"), ("reference", "greedy")]}
    lone = rows[(1, "c", "greedy")]
    assert lone["accuracy"]["AP"] == pytest.approx(1.0)
    assert lone["ceiling"]["AP"] == pytest.approx(1.0)
    assert lone["peak_ceiling"]["AP"] == pytest.approx(1.0)
    assert lone["crowd_index"] == 0.0 and lone["without_peak"] == 0.0
    assert lone["cpu_ms_median"] > 0
    # The reference decoder is the same algorithm: the same accuracy.
    for n in (1, 4):
        assert rows[(n, "reference", "greedy")]["accuracy"] == rows[(n, "c", "greedy")]["accuracy"]
    assert "crowd" in bench.format_table(report) and "cpu ms" in bench.format_table(report)
    # How well the score predicts OKS, per row: a lone person found exactly is one matched
    # detection (no correlation of one value), four people all matched (no pairs).
    assert lone["score_quality"] == {"score_oks_r": None, "unmatched_above": None,
                                     "matched": 1, "unmatched": 0}
    four = rows[(4, "c", "greedy")]["score_quality"]
    assert four["matched"] == 4 and -1 <= four["score_oks_r"] <= 1
    assert "r_oks" in bench.format_table(report) and "unm>m" in bench.format_table(report)


def test_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "crowd.json"
    assert cli.main(["bench", "--people", "2", "--scenes", "1", "--repeat", "1", "--quiet",
                     "--assignments", "greedy", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["rows"][0]["people"] == 2
    assert "c/greedy" in capsys.readouterr().out


def test_cli_plots(tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib (pafdecode[bench])")
    out = tmp_path / "crowd.png"
    assert cli.main(["bench", "--people", "1", "3", "--scenes", "1", "--repeat", "1",
                     "--quiet", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.shared
def test_real_annotations_rendered_and_decoded(shared):
    """Real people and overlaps (COCO, CrowdPose, OCHuman annotations) rendered into
    fields decode back close to the annotations themselves. Measured on 2026-11-25:
    AP 0.990 (coco-mini), 0.950 (crowdpose-mini), 0.911 (ochuman-mini, heavy occlusion;
    0.822 before shared peaks); the guards sit 0.05 below."""
    data = shared / "data"
    rows = bench.run_annotation_benchmark(
        [data / "coco-mini" / "test_coco.json", data / "crowdpose-mini" / "test_crowdpose.json",
         data / "ochuman-mini" / "test_ochuman.json"], assignments=("greedy",), repeat=1)
    ap = {r["annotations"].split("/")[-1]: r["accuracy"]["AP"] for r in rows}
    assert ap["test_coco.json"] >= 0.94
    assert ap["test_crowdpose.json"] >= 0.90
    assert ap["test_ochuman.json"] >= 0.86
    assert "AP_medium" in rows[1]["accuracy"]  # CrowdPose files are scored by crowd level
