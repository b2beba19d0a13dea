import json
import subprocess
import sys

import pytest

from pafdecode import cli

def no_traceback(err):
    assert "Traceback" not in err, err


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


def test_predict_needs_a_model(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("PAFDECODE_MODEL", raising=False)
    (tmp_path / "x.jpg").write_bytes(b"")
    assert cli.main(["predict", str(tmp_path / "x.jpg"), "--model",
                     str(tmp_path / "none.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pafdecode: model ") and "does not exist" in err


def test_version(run_cli):
    import pafdecode as package
    status, out, _ = run_cli("--version")
    assert status == 0 and out.strip() == f"pafdecode {package.__version__}"


def _actions(parser):
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((name, a) for a in sub._actions)
        else:
            yield "", action


def test_every_option_has_help_and_shows_its_default():
    import argparse
    parser = cli.build_parser()
    formatter = cli._Formatter("pafdecode")
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == {"demo", "predict", "eval", "bench", "video"}
    assert all(sub.formatter_class is cli._Formatter for sub in commands.values())
    for command, action in _actions(parser):
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction,
                               argparse._VersionAction)):
            continue
        assert action.help, (command, action.dest)
        text = formatter._get_help_string(action)
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in text, (command, action.dest, text)


def test_decoder_flags_come_from_the_parameter_table():
    from pafdecode._params import PARAMS
    parser = cli.build_parser()
    predict = next(a for a in parser._actions if a.dest == "command").choices["predict"]
    flags = {a.dest: a for a in predict._actions}
    for p in PARAMS:
        if p.name == "stride":
            continue
        assert p.name in flags and p.range_text() in flags[p.name].help
        assert flags[p.name].option_strings == ["--" + p.name.replace("_", "-")]


def test_help_has_no_markup_and_counts_are_singular(run_cli, tmp_path, shared):
    status, out, _ = run_cli("--help")
    assert status == 0 and "``" not in out and "pafdecode: a bottom-up pose decoder" in out
    status, out, err = run_cli("predict", shared / "data" / "coco-mini" / "000000000785.jpg",
                                 "--model", shared / "models" / "tfpose-mobilenet-v2-small.onnx",
                                 "--quiet")
    assert status == 0 and out.startswith("1 image, 1 person;"), out + err


def test_shown_defaults_are_in_the_help_text(run_cli):
    status, out, _ = run_cli("video", "--help")
    assert status == 0 and "keep every K-th frame (default: 1)" in " ".join(out.split())
    status, out, _ = run_cli("predict", "--help")
    text = " ".join(out.split())
    assert "(default: 0.1)" in text and "(default: tfpose)" in text


def test_a_subcommand_error_prints_its_usage(run_cli):
    status, _, err = run_cli("demo", "--people", "many")
    assert status == 2 and err.startswith("usage: pafdecode demo")
    status, _, err = run_cli("bench", "--backends", "fortran")
    assert status == 2 and err.startswith("usage: pafdecode bench")


@pytest.mark.parametrize("argv, words", [
    (["demo", "--repeat", "0"], "--repeat must be >= 1, got 0"),
    (["bench", "--people", "1", "--variant", "v", "bad_option=1"], "bad_option"),
])
def test_one_line_errors(run_cli, argv, words):
    status, out, err = run_cli(*argv)
    no_traceback(err)
    assert status == 1 and err.startswith("pafdecode: ") and words in err
    assert len(err.strip().splitlines()) == 1 and out == ""


def test_bench_plot_names_the_extra_before_running(tmp_path):
    script = ("import sys; sys.modules['matplotlib'] = None\n"
              "from pafdecode.cli import main\n"
              "sys.exit(main(['bench', '--people', '1', '--plot', sys.argv[1]]))\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "p.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == ('pafdecode: bench --plot needs matplotlib: '
                                   'pip install "pafdecode[bench]"')
