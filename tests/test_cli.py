import json

import pytest

from pafdecode import cli


def test_demo_decodes_and_draws_a_crowd(tmp_path, capsys, monkeypatch):
    pytest.importorskip("PIL", reason="drawing to PNG needs Pillow (pafdecode[image])")
    monkeypatch.delenv("PAFDECODE_MODEL", raising=False)
    monkeypatch.setattr(cli, "_find_model", lambda given=None: None)  # synthetic part only
    assert cli.main(["demo", "--people", "4", "--repeat", "2", "--seed", "3",
                     "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "4 synthetic people" in out and "skipping the real photo" in out
    lines = [line.split() for line in out.splitlines() if line.startswith(("greedy", "hungarian"))]
    assert [line[0] for line in lines] == ["greedy", "hungarian"]
    for line in lines:
        people, recovered, visible = int(line[2]), int(line[5]), int(line[7])
        assert people >= 1 and 0 < recovered <= visible
    assert (tmp_path / "out" / "demo-synthetic.png").stat().st_size > 1000


def test_predict_on_real_photos(tmp_path, capsys, shared):
    pytest.importorskip("PIL", reason="reading photos needs Pillow (pafdecode[image])")
    images = sorted((shared / "data" / "coco-mini").glob("*.jpg"))[:2]
    model = shared / "models" / "tfpose-mobilenet-thin.onnx"
    assert cli.main(["predict", *map(str, images), "--model", str(model), "--quiet",
                     "--json", str(tmp_path / "r.json"), "--draw", str(tmp_path / "d"),
                     "--openpose-json", str(tmp_path / "o")]) == 0
    assert "2 images" in capsys.readouterr().out
    results = json.loads((tmp_path / "r.json").read_text())
    assert results and all(len(r["keypoints"]) == 51 for r in results)
    assert len(list((tmp_path / "d").glob("*.png"))) == 2
    assert len(list((tmp_path / "o").glob("*_keypoints.json"))) == 2


def test_predict_needs_a_model(monkeypatch, tmp_path):
    monkeypatch.delenv("PAFDECODE_MODEL", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["predict", str(tmp_path / "x.jpg"), "--model", str(tmp_path / "none.onnx")])
