"""``pafdecode predict`` through the installed command, on real photos and on files made
here (corrupt, truncated, EXIF-rotated, duplicate names, a decompression bomb)."""

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

PIL = pytest.importorskip("PIL", reason="reading photos needs Pillow (pafdecode[image])")
from PIL import Image  # noqa: E402
from pafdecode.draw import draw_text  # noqa: E402

def no_traceback(err):
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def model(shared):
    return shared / "models" / "tfpose-mobilenet-v2-small.onnx"


@pytest.fixture(scope="module")
def coco(shared):
    return shared / "data" / "coco-mini"


def people_of(results):
    by_image = {}
    for r in results:
        by_image.setdefault(r["image_id"], []).append(np.reshape(r["keypoints"], (-1, 3)))
    return by_image


def test_annotations_give_coco_ids_that_pycocotools_accepts(run_cli, tmp_path, model, coco):
    coco_api = pytest.importorskip("pycocotools.coco")
    gt_path = coco / "test_coco.json"
    out = tmp_path / "missing" / "folder" / "r.json"  # created before any work
    status, stdout, err = run_cli("predict", str(coco / "*.jpg"), "--model", model,
                                    "--annotations", gt_path, "--json", out, "--quiet")
    assert status == 0, err
    assert "4 images" in stdout
    results = json.loads(out.read_text())
    gt = json.loads(gt_path.read_text())
    ids = {im["file_name"]: im["id"] for im in gt["images"]}
    assert {r["image_id"] for r in results} <= set(ids.values())
    assert all(len(r["keypoints"]) == 51 and "file_name" not in r for r in results)
    truth = coco_api.COCO(str(gt_path))
    loaded = truth.loadRes(str(out))  # crashed before: ids by position, 18 keypoints
    assert len(loaded.getAnnIds()) == len(results)
    from pafdecode.metrics import coco_eval
    assert coco_eval(gt, results)["AP"] > 0.15  # v2-small on 4 photos: about 0.27


def test_photos_not_in_the_annotations_are_reported_and_skipped(run_cli, tmp_path, model, coco,
                                                                shared):
    extra = shared / "data" / "images" / "p3.jpg"
    status, stdout, err = run_cli("predict", coco / "000000000785.jpg", extra, "--model",
                                    model, "--annotations", coco / "test_coco.json",
                                    "--json", tmp_path / "r.json", "--quiet")
    assert status == 0 and "1 image," in stdout
    assert f"pafdecode: skipped {extra}: not in" in err
    assert {r["image_id"] for r in json.loads((tmp_path / "r.json").read_text())} == {785}


def test_ids_without_annotations_are_positions_with_file_names(run_cli, tmp_path, model, coco):
    photos = sorted(coco.glob("*.jpg"))[:2]
    status, stdout, err = run_cli("predict", *photos, "--model", model, "--json", "-",
                                    "--quiet")
    assert status == 0, err
    results = json.loads(stdout)  # stdout holds only the JSON; the summary is on stderr
    assert "2 images" in err
    names = {r["image_id"]: r["file_name"] for r in results}
    assert names == {1: photos[0].name, 2: photos[1].name}


def test_native_keypoints_on_request(run_cli, tmp_path, model, coco):
    status, stdout, _ = run_cli("predict", coco / "000000000785.jpg", "--model", model,
                                  "--json", "-", "--keypoints", "native", "--quiet")
    assert status == 0
    assert all(len(r["keypoints"]) == 54 for r in json.loads(stdout))


def test_folders_globs_and_stdin_in_any_mix(run_cli, tmp_path, model, coco, shared):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.jpg", "a.jpg"):
        shutil.copy(coco / "000000000785.jpg", folder / name)
    (folder / "notes.txt").write_text("not an image")
    listing = f"{shared / 'data' / 'images' / 'p3.jpg'}\n"
    status, stdout, err = run_cli("predict", folder, str(coco / "00000004008*.jpg"), "-",
                                    "--model", model, "--json", "-", "--quiet", stdin=listing)
    assert status == 0, err
    names = [r["file_name"] for r in json.loads(stdout)]
    order = list(dict.fromkeys(names))
    # folder sorted, then the glob, then stdin; names relative to the common folder
    assert [Path(n).name for n in order] == ["a.jpg", "b.jpg", "000000040083.jpg", "p3.jpg"]
    assert "4 images" in err


def test_a_folder_without_images_fails_before_any_work(run_cli, tmp_path, model, coco):
    (tmp_path / "empty").mkdir()
    status, _, err = run_cli("predict", coco / "000000000785.jpg", tmp_path / "empty",
                               "--model", model, "--json", tmp_path / "r.json")
    assert status == 1 and err.startswith("pafdecode: folder") and "no images" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def _bomb_png(path, width, height):
    """A valid tiny PNG whose header claims width x height pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\0" * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body)
                     + chunk(b"IEND", b""))


def test_unreadable_photos_are_skipped_and_the_rest_written(run_cli, tmp_path, model, coco):
    folder = tmp_path / "in"
    folder.mkdir()
    good = coco / "000000000785.jpg"
    shutil.copy(good, folder / "a_good.jpg")
    (folder / "b_corrupt.jpg").write_bytes(os.urandom(3000))
    data = good.read_bytes()
    (folder / "c_truncated.jpg").write_bytes(data[:len(data) // 3])
    _bomb_png(folder / "d_bomb.png", 100_000, 100_000)
    status, stdout, err = run_cli("predict", str(folder / "*"), "--model", model,
                                    "--json", tmp_path / "r.json", "--quiet",
                                    "--draw", tmp_path / "d")
    no_traceback(err)
    assert status == 1
    skipped = [line for line in err.splitlines() if line.startswith("pafdecode: skipped")]
    assert len(skipped) == 3, err
    for name in ("b_corrupt.jpg", "c_truncated.jpg", "d_bomb.png"):
        assert any(str(folder / name) + ":" in line for line in skipped), (name, err)
    assert any("over the limit" in line for line in skipped)
    assert "1 image, " in stdout and "3 skipped" in stdout
    results = json.loads((tmp_path / "r.json").read_text())
    assert results and {r["file_name"] for r in results} == {"a_good.jpg"}
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["a_good.png"]


def test_the_pixel_limit_is_a_flag(run_cli, tmp_path, model, coco):
    status, _, err = run_cli("predict", coco / "000000000785.jpg", "--model", model,
                               "--max-pixels", 1000, "--quiet")
    assert status == 1
    assert "over the limit of 1000" in err and "425" in err
    no_traceback(err)


def test_exif_orientation_is_applied_unless_no_exif(run_cli, tmp_path, model, shared):
    photo = shared / "data" / "images" / "p3.jpg"
    upright = Image.open(photo).convert("RGB")
    upright.save(tmp_path / "upright.png")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a sideways camera stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    stored.save(tmp_path / "sideways.png", exif=exif.tobytes())

    def run(path, *flags):
        status, stdout, err = run_cli("predict", path, "--model", model, "--json", "-",
                                        "--quiet", "--draw", tmp_path / ("d" + "".join(flags)),
                                        *flags)
        assert status == 0, err
        return json.loads(stdout)

    base = run(tmp_path / "upright.png")
    turned = run(tmp_path / "sideways.png")
    assert len(base) == len(turned) >= 1
    np.testing.assert_allclose([r["keypoints"] for r in turned],
                               [r["keypoints"] for r in base], atol=1e-3)
    raw = run(tmp_path / "sideways.png", "--no-exif")
    assert [r["keypoints"] for r in raw] != [r["keypoints"] for r in base]
    with Image.open(tmp_path / "d" / "sideways.png") as im:
        assert im.size == upright.size
    with Image.open(tmp_path / "d--no-exif" / "sideways.png") as im:
        assert im.size == stored.size != upright.size


def test_duplicate_names_never_overwrite(run_cli, tmp_path, model, coco):
    for folder, photo in (("x", "000000000785.jpg"), ("y", "000000040083.jpg")):
        (tmp_path / folder).mkdir()
        shutil.copy(coco / photo, tmp_path / folder / "same.jpg")
    shutil.copy(coco / "000000196141.jpg", tmp_path / "x" / "same.png")  # same stem too
    status, _, err = run_cli("predict", tmp_path / "x", tmp_path / "y", "--model", model,
                               "--quiet", "--draw", tmp_path / "d", "--openpose-json",
                               tmp_path / "o")
    assert status == 0, err
    drawn = sorted(p.relative_to(tmp_path / "d").as_posix()
                   for p in (tmp_path / "d").rglob("*.png"))
    assert drawn == ["x/same-2.png", "x/same.png", "y/same.png"]
    sizes = set()
    for name in drawn:
        with Image.open(tmp_path / "d" / name) as im:
            sizes.add(im.size)
    assert len(sizes) == 3  # three different photos, none overwritten
    written = sorted(p.relative_to(tmp_path / "o").as_posix()
                     for p in (tmp_path / "o").rglob("*.json"))
    assert written == ["x/same-2_keypoints.json", "x/same_keypoints.json",
                       "y/same_keypoints.json"]


@pytest.mark.parametrize("kind", ["text", "truncated", "missing"])
def test_bad_models_are_one_line_before_any_work(run_cli, tmp_path, model, coco, kind):
    bad = tmp_path / "bad.onnx"
    if kind == "text":
        bad.write_text("this is not a network\n")
    elif kind == "truncated":
        bad.write_bytes(model.read_bytes()[:50_000])
    status, stdout, err = run_cli("predict", coco / "000000000785.jpg", "--model", bad,
                                    "--draw", tmp_path / "d")
    no_traceback(err)
    assert status == 1 and len(err.strip().splitlines()) == 1 and err.startswith("pafdecode: ")
    assert str(bad) in err
    assert not list((tmp_path / "d").iterdir())  # created and checked, nothing written


def test_debug_shows_the_traceback(run_cli, tmp_path, coco):
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a network")
    status, _, err = run_cli("predict", coco / "000000000785.jpg", "--model", bad, "--debug")
    assert status == 1 and "Traceback" in err


def test_a_json_target_that_cannot_be_made_fails_first(run_cli, tmp_path, model, coco):
    (tmp_path / "file").write_text("")
    status, stdout, err = run_cli("predict", coco / "000000000785.jpg", "--model", model,
                                    "--json", tmp_path / "file" / "r.json",
                                    "--draw", tmp_path / "d")
    no_traceback(err)
    assert status == 1 and "--json folder" in err and stdout == ""
    assert not list((tmp_path / "d").iterdir())


def test_decoder_flags_config_and_backend(run_cli, tmp_path, model, coco):
    photo = coco / "000000196141.jpg"

    def results(*flags):
        status, stdout, err = run_cli("predict", photo, "--model", model, "--json", "-",
                                        "--quiet", *flags)
        assert status == 0, err
        return json.loads(stdout)

    base = results()
    assert len(results("--min-person-score", "5")) == 0 < len(base)
    assert results("--config", "default") == base
    # OpenPose's rules (no shared peaks, no fragment joining, no limb length prior, no
    # rival margin) are the flags' sum too
    assert results("--config", "openpose") == results(
        "--shared-peak-score", "none", "--join-fragments", "none", "--limb-length-prior", "none",
        "--rival-margin", "none")
    from pafdecode import available_backends
    for backend in available_backends():
        assert results("--backend", backend) == base
    status, _, err = run_cli("predict", photo, "--model", model, "--peak-threshold", "-1")
    assert status == 1 and "peak_threshold" in err and "-1" in err
    no_traceback(err)
    status, _, err = run_cli("predict", photo, "--model", model, "--assignment", "best")
    assert status == 2 and "usage: pafdecode predict" in err


def test_batches_give_the_same_people(run_cli, tmp_path, model, coco):
    photo = coco / "000000196141.jpg"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        shutil.copy(photo, tmp_path / name)

    def results(n):
        status, stdout, err = run_cli("predict", tmp_path / "*.jpg", "--model", model,
                                        "--json", "-", "--quiet", "--batch-size", n)
        assert status == 0, err
        return json.loads(stdout)

    one, two = results(1), results(2)
    assert [r["image_id"] for r in one] == [r["image_id"] for r in two]
    np.testing.assert_allclose([r["keypoints"] for r in two], [r["keypoints"] for r in one],
                               atol=0.05)


def test_verbose_lines_and_drawing_options(run_cli, tmp_path, model, coco):
    photo = coco / "000000196141.jpg"
    status, stdout, err = run_cli("predict", photo, photo, "--model", model, "--verbose",
                                    "--draw", tmp_path / "plain", "--quiet")
    assert status == 0
    assert err.count(f"{photo}: ") == 2 and "people" in err

    def drawn(folder, *flags):
        status, _, err = run_cli("predict", photo, "--model", model, "--quiet",
                                   "--draw", tmp_path / folder, *flags)
        assert status == 0, err
        return np.asarray(Image.open(tmp_path / folder / (photo.stem + ".png")))

    plain = drawn("p")
    original = np.asarray(Image.open(photo).convert("RGB"))
    nobody = drawn("n", "--min-score", "100")
    changed = (nobody != original).any(axis=2)
    assert changed.any() and changed[60:].sum() == 0  # only the count label, top left
    labelled = draw_text(original.copy(), "0 PEOPLE", (4, 4),
                         scale=max(2, round(max(original.shape[:2]) / 300)) + 1)
    np.testing.assert_array_equal(nobody, labelled)  # the label says how many were drawn
    assert (drawn("s", "--draw-scores") != plain).any()
    assert (drawn("i", "--draw-ids") != plain).any()
    assert (drawn("w", "--line-width", "9") != plain).sum() > (plain != original).sum() * 0.2


def test_input_size_and_providers(run_cli, tmp_path, model, coco):
    photo = coco / "000000196141.jpg"

    def results(*flags):
        status, stdout, err = run_cli("predict", photo, "--model", model, "--json", "-",
                                        "--quiet", *flags)
        assert status == 0, err
        return json.loads(stdout)

    base = results()
    assert results("--providers", "CUDAExecutionProvider,CPUExecutionProvider") == base
    small = results("--input-size", "184", "216")
    assert small != base  # a smaller network input finds other keypoints
    status, _, err = run_cli("predict", photo, "--model", model, "--providers", "Bogus")
    assert status == 1 and err.startswith("pafdecode: --providers: unknown") and "Bogus" in err
    assert len(err.strip().splitlines()) == 1


def test_the_network_of_the_next_image_runs_while_this_one_decodes(tmp_path):
    """Decoding image 1 waits until the worker has started the network on image 2: the
    pipeline only gets through when the two overlap."""
    import argparse
    import threading

    from pafdecode import predict

    for name in ("a", "b", "c"):
        Image.new("RGB", (16, 12), (10, 20, 30)).save(tmp_path / f"{name}.png")
    items = predict.collect_inputs([str(tmp_path)])
    second_started = threading.Event()
    calls = []

    class Model:
        def run_batch(self, images, batch_size=None):
            calls.append(("network", len(calls)))
            if len([c for c in calls if c[0] == "network"]) == 2:
                second_started.set()
            return [({"n": len(images)}, [None] * len(images), (1,))], {
                "preprocess_ms": 0.0, "inference_ms": 0.0}

        def decode_outputs(self, outputs, transforms, shape):
            overlapped = second_started.wait(timeout=30)
            calls.append(("decode", overlapped))
            return [object()] * outputs["n"]

    args = argparse.Namespace(batch_size=1, no_exif=False, max_pixels=None)
    done = [m[1].path.name for m in predict.pipeline(Model(), items, args)]
    assert done == ["a.png", "b.png", "c.png"]
    first_decode = next(c for c in calls if c[0] == "decode")
    assert first_decode == ("decode", True)
