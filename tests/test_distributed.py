"""Ray Data jobs (pafdecode.distributed) against one OnnxPoseModel in one process."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pafdecode import OnnxPoseModel, load_image
from pafdecode.io import coco_results

pytestmark = pytest.mark.ray

MODEL = "tfpose-mobilenet-v2-small.onnx"
TOL = 1e-4


def test_importing_pafdecode_does_not_import_ray():
    code = ("import sys, pafdecode, pafdecode.distributed; "
            "sys.exit('ray' in sys.modules or 'pyarrow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray for the module: starting it costs seconds."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'pafdecode[ray]')")
    pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'ray[data]')")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def photos(shared):
    data = shared / "data"
    paths = sorted((data / "coco-mini").glob("*.jpg")) + sorted((data / "images").iterdir())
    assert len(paths) == 12
    return [str(p) for p in paths]


@pytest.fixture(scope="module")
def model_path(shared):
    return str(shared / "models" / MODEL)


@pytest.fixture(scope="module")
def one_process(photos, model_path):
    """The truth: {path: Poses} from one model in this process, BGR as cv2 reads."""
    model = OnnxPoseModel.tfpose(model_path)
    return {p: model(load_image(p, "BGR")) for p in photos}


def assert_same_people(poses, keypoints, scores, where):
    keypoints = np.asarray([np.asarray(p, np.float32) for p in keypoints], np.float32)
    keypoints = keypoints.reshape(-1, poses.skeleton.num_keypoints, 3)
    assert len(keypoints) == len(poses), where
    assert len(poses) > 0 or "handsup" not in where
    np.testing.assert_allclose(keypoints, poses.keypoints, atol=TOL, rtol=0, err_msg=where)
    np.testing.assert_allclose(np.asarray(scores, np.float32), poses.scores, atol=TOL,
                               rtol=0, err_msg=where)


def test_pose_predictor_on_read_images(ray_local, photos, model_path, one_process):
    from pafdecode.distributed import PosePredictor

    ds = ray_local.data.read_images(photos, include_paths=True, mode="RGB")
    ds = ds.map_batches(PosePredictor, fn_constructor_args=(model_path,),
                        fn_constructor_kwargs={"intra_op_threads": 1}, concurrency=2,
                        num_cpus=0.5, batch_size=4, batch_format="numpy")
    rows = ds.take_all()
    assert sorted(os.path.basename(r["path"]) for r in rows) == sorted(
        os.path.basename(p) for p in photos)
    by_name = {os.path.basename(p): poses for p, poses in one_process.items()}
    assert sum(len(p) for p in by_name.values()) >= 12  # the photos do hold people
    for row in rows:
        name = os.path.basename(row["path"])
        poses = by_name[name]
        assert row["error"] == ""
        assert row["num_people"] == len(poses)
        assert "image" not in row
        assert_same_people(poses, row["keypoints"], row["scores"], name)


@pytest.fixture(scope="module")
def with_broken(tmp_path_factory, photos):
    """Links to three photos, a corrupt JPEG, a text file and a path that is not there."""
    folder = tmp_path_factory.mktemp("ray-photos")
    paths = []
    for p in photos[:2] + photos[-1:]:
        link = folder / os.path.basename(p)
        link.symlink_to(p)
        paths.append(str(link))
    broken = folder / "broken.jpg"
    broken.write_bytes(open(photos[0], "rb").read()[:200])
    text = folder / "notes.png"
    text.write_text("not an image")
    paths[1:1] = [str(broken), str(text), str(folder / "missing.jpg")]
    return paths


def test_run_predict_skips_unreadable_images(ray_local, with_broken, model_path,
                                             one_process):
    from pafdecode.distributed import run_predict

    skipped = []
    results = run_predict(with_broken, model_path, concurrency=2, batch_size=2,
                          on_skip=lambda p, why: skipped.append((p, why)))
    assert [p for p, _ in results] == with_broken
    bad = {os.path.basename(p): why for p, why in skipped}
    assert sorted(bad) == ["broken.jpg", "missing.jpg", "notes.png"]
    assert "FileNotFoundError" in bad["missing.jpg"]
    assert all(why.startswith("cannot read the image") for why in bad.values())
    for p, result in results:
        if os.path.basename(p) in bad:
            assert result == bad[os.path.basename(p)]
            continue
        truth = one_process[os.path.realpath(p)]
        assert_same_people(truth, result.keypoints, result.scores, p)
        assert result.skeleton.num_keypoints == 18
        assert result.stats["inference_ms"] > 0


def test_predict_images_writes_parquet_and_coco(ray_local, photos, model_path, one_process,
                                                tmp_path):
    from pafdecode.distributed import predict_images, read_results, write_coco_results
    from pafdecode.distributed import write_parquet

    ds = predict_images(photos, model_path, concurrency=1, batch_size=6).materialize()
    skeleton = OnnxPoseModel.tfpose(model_path).skeleton
    write_parquet(ds, tmp_path / "people")
    found = read_results(tmp_path / "people", skeleton)
    assert sorted(found) == sorted(photos)
    for p, poses in found.items():
        assert_same_people(one_process[p], poses.keypoints, poses.scores, p)

    written = write_coco_results(ds, tmp_path / "people.json", skeleton)
    expected = []
    for image_id, p in enumerate(photos, start=1):
        expected += coco_results(one_process[p], image_id)
    with open(tmp_path / "people.json") as f:
        on_disk = json.load(f)
    assert len(on_disk) == len(written) == len(expected)
    for got, want in zip(on_disk, expected):
        assert (got["image_id"], got["category_id"]) == (want["image_id"], 1)
        assert len(got["keypoints"]) == 17 * 3
        np.testing.assert_allclose(got["keypoints"], want["keypoints"], atol=TOL, rtol=0)
        assert got["score"] == pytest.approx(want["score"], abs=TOL)


def test_pose_predictor_on_binary_files(ray_local, with_broken, model_path, one_process):
    from pafdecode.distributed import PosePredictor

    present = [p for p in with_broken if os.path.exists(p)]
    ds = ray_local.data.read_binary_files(present, include_paths=True)
    ds = ds.map_batches(PosePredictor, fn_constructor_args=(model_path,), concurrency=1,
                        batch_size=8, batch_format="numpy")
    rows = {os.path.basename(r["path"]): r for r in ds.take_all()}
    assert len(rows) == len(present)
    for name, row in rows.items():
        if name in ("broken.jpg", "notes.png"):
            assert row["error"].startswith("cannot read the image")
            assert row["num_people"] == 0 and len(row["keypoints"]) == 0
            continue
        truth = next(v for k, v in one_process.items() if os.path.basename(k) == name)
        assert row["error"] == ""
        assert_same_people(truth, row["keypoints"], row["scores"], name)


def test_bad_arguments_name_themselves(ray_local, photos, model_path):
    from pafdecode.distributed import PosePredictor, make_model, predict_images, run_predict

    with pytest.raises(ValueError, match="concurrency must be an integer >= 1, got 0"):
        predict_images(photos, model_path, concurrency=0)
    with pytest.raises(ValueError, match="preset must be one of .*'nope'"):
        predict_images(photos, model_path, preset="nope")
    with pytest.raises(ValueError, match="intra_op_threads must be an integer >= 1"):
        make_model(model_path, intra_op_threads=0)
    with pytest.raises(ValueError, match="not an OnnxPoseModel"):
        make_model(OnnxPoseModel.tfpose(model_path))
    with pytest.raises(ValueError, match="paths_or_dataset is an empty list"):
        predict_images([], model_path)
    with pytest.raises(ValueError, match="peak_threshold"):
        predict_images(photos, model_path, peak_threshold=-1.0)
    with pytest.raises(ValueError, match=r"concurrency=3 actors of 1 CPU need 3 CPUs; the "
                                         r"Ray cluster has 2"):
        run_predict(photos, model_path, concurrency=3)
    predictor = PosePredictor(model_path)
    with pytest.raises(ValueError, match="needs a 'path' column"):
        predictor({"image": np.zeros((1, 8, 8, 3), np.uint8)})


def _cli(*argv):
    """`pafdecode` run in this process (so it joins the module's Ray): status, stderr."""
    import contextlib
    import io

    from pafdecode.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, err.getvalue()


def test_cli_predict_on_ray_writes_what_predict_writes(ray_local, photos, model_path,
                                                       tmp_path):
    common = ["predict", *photos, "--model", model_path, "--quiet"]
    for name, extra in (("one", []), ("ray", ["--ray", "--concurrency", "2"])):
        status, err = _cli(*common, *extra, "--json", tmp_path / f"{name}.json",
                           "--draw", tmp_path / f"{name}-drawn",
                           "--openpose-json", tmp_path / f"{name}-openpose")
        assert status == 0, err
    with open(tmp_path / "one.json") as f:
        one = json.load(f)
    with open(tmp_path / "ray.json") as f:
        on_ray = json.load(f)
    assert len(one) == len(on_ray) > 0
    for a, b in zip(one, on_ray):
        assert (a["image_id"], a["file_name"]) == (b["image_id"], b["file_name"])
        np.testing.assert_allclose(b["keypoints"], a["keypoints"], atol=TOL, rtol=0)
        assert b["score"] == pytest.approx(a["score"], abs=TOL)
    def files(folder):
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())

    assert len(files(tmp_path / "one-drawn")) == len(photos)
    for kind in ("drawn", "openpose"):
        assert files(tmp_path / f"ray-{kind}") == files(tmp_path / f"one-{kind}")
    for name in files(tmp_path / "one-openpose"):
        with open(tmp_path / "one-openpose" / name) as f, \
                open(tmp_path / "ray-openpose" / name) as g:
            a, b = json.load(f)["people"], json.load(g)["people"]
        assert len(a) == len(b)
        for pa, pb in zip(a, b):
            np.testing.assert_allclose(pb["pose_keypoints_2d"], pa["pose_keypoints_2d"],
                                       atol=TOL, rtol=0)


def test_cli_predict_on_ray_skips_unreadable_images(ray_local, with_broken, model_path,
                                                    tmp_path, one_process):
    bad = {"broken.jpg", "notes.png"}  # a missing input is refused before any work
    present = [p for p in with_broken if os.path.exists(p)]
    status, err = _cli("predict", *present, "--model", model_path, "--quiet", "--ray",
                       "local", "--json", tmp_path / "r.json")
    assert status == 1
    skipped = [line for line in err.splitlines() if line.startswith("pafdecode: skipped")]
    assert len(skipped) == 2, err
    assert sorted(os.path.basename(line.split(":")[1].strip()) for line in skipped) == sorted(
        bad)
    assert "Traceback" not in err
    with open(tmp_path / "r.json") as f:
        results = json.load(f)
    good = [p for p in present if os.path.basename(p) not in bad]
    expected = sum(len(one_process[os.path.realpath(p)]) for p in good)
    assert len(results) == expected > 0
    assert {r["file_name"] for r in results} <= {os.path.basename(p) for p in good}


def test_cli_ray_options_are_checked_before_any_work(ray_local, photos, model_path):
    status, err = _cli("predict", photos[0], "--model", model_path, "--ray",
                       "--concurrency", "0")
    assert status == 1 and "--concurrency must be >= 1, got 0" in err
    status, err = _cli("predict", "--ray", photos[0], "--model", model_path, "--quiet",
                       "--concurrency", "1", "--json", os.devnull)
    assert status == 0, err  # the input argparse gave to --ray is read as an input


def test_pose_predictor_applies_exif_orientation_like_predict(ray_local, model_path,
                                                              one_process, photos, tmp_path):
    from PIL import Image

    from pafdecode.distributed import PosePredictor

    upright = photos[-1]
    stored = Image.open(upright).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    stored.save(tmp_path / "sideways.png", exif=exif.tobytes())
    batch = {"path": np.array([str(tmp_path / "sideways.png")], dtype=object)}
    turned = PosePredictor(model_path, exif_transpose=True)(batch)
    assert turned["error"][0] == ""
    truth = one_process[upright]
    assert_same_people(truth, turned["keypoints"][0], turned["scores"][0], upright)
    raw = PosePredictor(model_path)(batch)
    assert raw["keypoints"][0].shape != truth.keypoints.shape or not np.allclose(
        raw["keypoints"][0], truth.keypoints, atol=1)
