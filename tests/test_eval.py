"""``pafdecode eval`` through the installed command: its AP is pycocotools' on the
results it writes."""

import contextlib
import io
import json
import re

import pytest

pytest.importorskip("PIL", reason="reading photos needs Pillow (pafdecode[image])")

def no_traceback(err):
    assert "Traceback" not in err, err


def _printed(stdout):
    return {k: float(v) for k, v in re.findall(r"\b(AP\w*|AR) (-?\d+\.\d+)", stdout)}


def test_eval_prints_pycocotools_ap(run_cli, tmp_path, shared):
    coco_api = pytest.importorskip("pycocotools.coco")
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    data = shared / "data" / "coco-mini"
    model = shared / "models" / "tfpose-mobilenet-thin.onnx"
    out = tmp_path / "r.json"
    status, stdout, err = run_cli("eval", "--annotations", data / "test_coco.json",
                                    "--images", data, "--model", model, "--json", out,
                                    "--quiet")
    assert status == 0, err
    printed = _printed(stdout)
    assert set(printed) == {"AP", "AP50", "AP75", "APm", "APl", "AR"}
    assert re.search(r"network \d+\.\d ms, decoder \d+\.\d\d ms", stdout)
    gt = coco_api.COCO(str(data / "test_coco.json"))
    with contextlib.redirect_stdout(io.StringIO()):
        e = cocoeval.COCOeval(gt, gt.loadRes(str(out)), "keypoints")
        e.evaluate()
        e.accumulate()
        e.summarize()
    # pycocotools' stats: AP, AP50, AP75, APm, APl, AR, ...
    for key, value in zip(["AP", "AP50", "AP75", "APm", "APl", "AR"], e.stats[:6]):
        assert printed[key] == pytest.approx(round(float(value), 3), abs=1e-9), key
    assert printed["AP"] > 0.3


def test_eval_on_crowdpose_reports_crowd_levels(run_cli, tmp_path, shared):
    data = shared / "data" / "crowdpose-mini"
    model = shared / "models" / "tfpose-mobilenet-v2-small.onnx"
    status, stdout, err = run_cli("eval", "--annotations", data / "test_crowdpose.json",
                                    "--images", data, "--model", model, "--json", "-",
                                    "--quiet")
    assert status == 0, err
    printed = _printed(err)  # --json - keeps stdout for the results
    assert {"AP", "AP_easy", "AP_medium", "AP_hard"} <= set(printed)
    results = json.loads(stdout)
    assert results and all(len(r["keypoints"]) == 14 * 3 for r in results)
    from pafdecode.metrics import coco_eval
    assert coco_eval(str(data / "test_crowdpose.json"), results,
                     mode="crowdpose")["AP"] == pytest.approx(printed["AP"], abs=5e-4)


def test_eval_errors_are_one_line(run_cli, tmp_path, shared):
    data = shared / "data" / "coco-mini"
    (tmp_path / "gt.json").write_text("{not json")
    status, _, err = run_cli("eval", "--annotations", tmp_path / "gt.json", "--images", data,
                               "--model", shared / "models" / "tfpose-mobilenet-v2-small.onnx")
    no_traceback(err)
    assert status == 1 and "is not JSON" in err and len(err.strip().splitlines()) == 1
    status, _, err = run_cli("eval", "--images", data)
    assert status == 2 and "usage: pafdecode eval" in err and "--annotations" in err
