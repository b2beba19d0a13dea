"""COCO keypoint results and OpenPose JSON: writers, readers, keypoint maps."""

import json

import numpy as np
import pytest

from pafdecode import Poses, Skeleton
from pafdecode.io import (
    BODY25_TO_COCO17, COCO17_KEYPOINTS, COCO18_TO_COCO17, coco17_index_map,
    coco_results, coco_results_to_poses, openpose_json, openpose_json_name,
    read_coco_results, read_openpose_json, remap_keypoints, write_coco_results,
    write_openpose_json,
)

COCO18 = Skeleton.openpose_coco18()
COCO17 = Skeleton(COCO17_KEYPOINTS, [(0, 1), (0, 2), (1, 3), (2, 4)])


def random_poses(rng, n=3, skeleton=COCO18):
    k = skeleton.num_keypoints
    kp = np.zeros((n, k, 3), np.float32)
    kp[..., :2] = rng.uniform(0, 640, (n, k, 2))
    kp[..., 2] = rng.uniform(0.1, 1.0, (n, k))
    kp[rng.random((n, k)) < 0.3] = 0  # missing keypoints
    scores = np.sort(rng.uniform(0.2, 1, n))[::-1].astype(np.float32)
    return Poses(kp, scores, skeleton, {"people": n})


def test_index_maps_match_the_names():
    assert coco17_index_map(COCO18) == COCO18_TO_COCO17
    assert coco17_index_map(Skeleton.body25()) == BODY25_TO_COCO17
    assert coco17_index_map(COCO17) == tuple(range(17))
    for coco_name, i in zip(COCO17_KEYPOINTS, COCO18_TO_COCO17):
        assert COCO18.keypoints[i].replace("l_", "left_").replace("r_", "right_") == coco_name
    partial = Skeleton(["nose", "l_eye", "tail"], [(0, 1), (1, 2)])
    assert coco17_index_map(partial)[:3] == (0, 1, -1)


def test_remap_keypoints(rng):
    poses = random_poses(rng)
    out = remap_keypoints(poses.keypoints, COCO18_TO_COCO17)
    assert out.shape == (3, 17, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 1], poses.keypoints[:, 15])  # left eye
    np.testing.assert_array_equal(out[:, 16], poses.keypoints[:, 10])  # right ankle
    gaps = remap_keypoints(poses.keypoints, [0, -1, None, 1])
    np.testing.assert_array_equal(gaps[:, 1:3], 0)
    np.testing.assert_array_equal(gaps[:, 3], poses.keypoints[:, 1])
    np.testing.assert_array_equal(remap_keypoints(poses.keypoints, "coco17", COCO18), out)
    with pytest.raises(ValueError, match="outside"):
        remap_keypoints(poses.keypoints, [18])
    with pytest.raises(ValueError, match="needs a skeleton"):
        remap_keypoints(poses.keypoints, "coco17")
    with pytest.raises(ValueError, match="'coco17'"):
        remap_keypoints(poses.keypoints, "coco18")


def test_coco_results(rng):
    poses = random_poses(rng)
    native = coco_results(poses, 785, keypoints="native")
    assert native == poses.to_coco(785, keypoints="native")
    assert poses.to_coco(785) == coco_results(poses, 785)
    mapped = coco_results(poses, 785, keypoint_map="coco17", category_id=1)
    assert coco_results(poses, 785) == mapped  # COCO-18 is written as COCO-17 by default
    assert [r["image_id"] for r in mapped] == [785] * 3
    assert all(len(r["keypoints"]) == 51 for r in mapped)
    np.testing.assert_allclose(np.array(mapped[1]["keypoints"]).reshape(17, 3),
                               poses.keypoints[1, list(COCO18_TO_COCO17)])
    assert [r["score"] for r in mapped] == pytest.approx(poses.scores.tolist())


def test_coco_results_file_round_trip(rng, tmp_path):
    per_image = {785: random_poses(rng, 2), 40083: random_poses(rng, 0),
                 196141: random_poses(rng, 4)}
    path = tmp_path / "results.json"
    written = write_coco_results(path, per_image, keypoint_map=COCO18_TO_COCO17)
    assert len(written) == 6
    assert read_coco_results(path) == json.loads(path.read_text()) == written
    back = coco_results_to_poses(read_coco_results(path), COCO17)
    assert sorted(back) == [785, 196141]
    for image_id, poses in back.items():
        np.testing.assert_array_equal(
            poses.keypoints, remap_keypoints(per_image[image_id].keypoints,
                                             COCO18_TO_COCO17))
        np.testing.assert_array_equal(poses.scores, per_image[image_id].scores)
    # a list of ready results is written as is
    again = write_coco_results(tmp_path / "again.json", written)
    assert again == written
    with pytest.raises(ValueError, match="skeleton has 18"):
        coco_results_to_poses(written, COCO18)


def test_coco_results_non_finite_and_bad_files(tmp_path):
    bad = [{"image_id": 1, "category_id": 1, "keypoints": [np.nan, 1.0, 0.5],
            "score": np.float32(0.5)}]
    out = write_coco_results(tmp_path / "r.json", bad)
    assert out[0]["keypoints"] == [0.0, 1.0, 0.5] and isinstance(out[0]["score"], float)
    (tmp_path / "d.json").write_text('{"annotations": []}')
    with pytest.raises(ValueError, match="list"):
        read_coco_results(tmp_path / "d.json")
    (tmp_path / "e.json").write_text('[{"image_id": 1, "keypoints": [1, 2, 3]}]')
    with pytest.raises(ValueError, match="lacks"):
        read_coco_results(tmp_path / "e.json")
    (tmp_path / "f.json").write_text(
        '[{"image_id": 1, "category_id": 1, "keypoints": [1, 2], "score": 1}]')
    with pytest.raises(ValueError, match="multiple of 3"):
        read_coco_results(tmp_path / "f.json")


def test_coco_results_load_in_pycocotools(rng, tmp_path, shared):
    """The results file is what pycocotools' loadRes expects (no scoring here)."""
    coco_api = pytest.importorskip("pycocotools.coco", reason="needs pycocotools")
    gt_path = shared / "data" / "coco-mini" / "test_coco.json"
    import contextlib
    import io as std_io

    with contextlib.redirect_stdout(std_io.StringIO()):
        gt = coco_api.COCO(str(gt_path))
        per_image = {i: random_poses(rng, 2) for i in gt.getImgIds()}
        write_coco_results(tmp_path / "res.json", per_image, keypoint_map="coco17")
        dt = gt.loadRes(str(tmp_path / "res.json"))
    assert len(dt.getAnnIds()) == 2 * len(per_image)
    ann = dt.loadAnns(dt.getAnnIds())[0]
    assert len(ann["keypoints"]) == 51 and ann["area"] > 0


def test_openpose_json_format(rng):
    poses = random_poses(rng, 2)
    data = openpose_json(poses)
    assert data["version"] == 1.3 and len(data["people"]) == 2
    person = data["people"][0]
    assert person["person_id"] == [-1]
    assert len(person["pose_keypoints_2d"]) == 54
    for field in ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
                  "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
                  "hand_right_keypoints_3d"):
        assert person[field] == []
    np.testing.assert_array_equal(np.array(person["pose_keypoints_2d"], np.float32),
                                  poses.keypoints[0].reshape(-1))
    json.dumps(data)  # plain Python types only
    assert len(openpose_json(poses, keypoint_map="coco17")["people"][1]
               ["pose_keypoints_2d"]) == 51
    assert openpose_json(np.zeros((0, 18, 3)))["people"] == []


def test_openpose_json_round_trip(rng, tmp_path):
    poses = random_poses(rng, 3)
    path = tmp_path / openpose_json_name("/data/images/p3_dance.png")
    assert path.name == "p3_dance_keypoints.json"
    write_openpose_json(path, poses)
    back = read_openpose_json(path, COCO18)
    np.testing.assert_array_equal(back.keypoints, poses.keypoints)
    present = (poses.keypoints != 0).any(-1)
    expect = (poses.keypoints[..., 2] * present).sum(1) / np.maximum(present.sum(1), 1)
    np.testing.assert_allclose(back.scores, expect, rtol=1e-6)
    arr = read_openpose_json(path)
    assert isinstance(arr, np.ndarray) and arr.shape == (3, 18, 3)
    write_openpose_json(tmp_path / "empty.json", Poses(
        np.zeros((0, 18, 3), np.float32), np.zeros(0, np.float32), COCO18, {}))
    assert len(read_openpose_json(tmp_path / "empty.json", COCO18)) == 0
    assert read_openpose_json(tmp_path / "empty.json").shape == (0, 0, 3)
    with pytest.raises(ValueError, match="skeleton has 25"):
        read_openpose_json(path, Skeleton.body25())


def test_openpose_json_reads_openpose_output(tmp_path):
    """A file as OpenPose 1.7 writes it (BODY_25, extra fields, ints and floats)."""
    person = {"person_id": [-1],
              "pose_keypoints_2d": [v for i in range(25) for v in (10.0 + i, 20, 0.5)],
              "face_keypoints_2d": [], "hand_left_keypoints_2d": [],
              "hand_right_keypoints_2d": [], "pose_keypoints_3d": [],
              "face_keypoints_3d": [], "hand_left_keypoints_3d": [],
              "hand_right_keypoints_3d": []}
    (tmp_path / "x_keypoints.json").write_text(json.dumps(
        {"version": 1.3, "people": [person, person]}))
    poses = read_openpose_json(tmp_path / "x_keypoints.json", Skeleton.body25())
    assert len(poses) == 2 and poses.keypoints[1, 24, 0] == 34.0
    np.testing.assert_allclose(poses.scores, 0.5)
    (tmp_path / "bad.json").write_text('{"version": 1.3}')
    with pytest.raises(ValueError, match="people"):
        read_openpose_json(tmp_path / "bad.json")
    (tmp_path / "mixed.json").write_text(json.dumps({"people": [
        {"pose_keypoints_2d": [1, 2, 3]}, {"pose_keypoints_2d": [1, 2, 3, 4, 5, 6]}]}))
    with pytest.raises(ValueError, match="different keypoint counts"):
        read_openpose_json(tmp_path / "mixed.json")


def test_coco_results_default_keypoints_by_skeleton(rng):
    body25 = random_poses(rng, 2, Skeleton.body25())
    written = coco_results(body25, 9)
    assert all(len(r["keypoints"]) == 51 for r in written)
    np.testing.assert_array_equal(np.array(written[0]["keypoints"], np.float32).reshape(17, 3),
                                  body25.keypoints[0, list(BODY25_TO_COCO17)])
    assert len(coco_results(body25, 9, keypoints="native")[0]["keypoints"]) == 75
    coco17 = random_poses(rng, 2, Skeleton.coco17())
    assert coco_results(coco17, 9) == coco_results(coco17, 9, keypoints="native")
    # CrowdPose-14 lacks COCO's face: written in its own 14 keypoints, not padded to 17
    crowd = random_poses(rng, 2, Skeleton.crowdpose14())
    assert [len(r["keypoints"]) for r in coco_results(crowd, 9)] == [42, 42]
    custom = random_poses(rng, 1, Skeleton(["a", "b"], [(0, 1)]))
    assert len(coco_results(custom, 9)[0]["keypoints"]) == 6
    empty = random_poses(rng, 0)
    assert coco_results(empty, 9) == []


def test_coco_results_keypoint_arguments_are_checked(rng):
    poses = random_poses(rng, 1)
    with pytest.raises(ValueError, match="'coco17' or 'native'"):
        coco_results(poses, 1, keypoints="coco18")
    with pytest.raises(ValueError, match="not both"):
        coco_results(poses, 1, keypoints="native", keypoint_map=COCO18_TO_COCO17)


def test_write_coco_results_passes_keypoints_on(rng, tmp_path):
    per_image = {1: random_poses(rng, 2)}
    coco17 = write_coco_results(tmp_path / "a.json", per_image)
    native = write_coco_results(tmp_path / "b.json", per_image, keypoints="native")
    assert [len(r["keypoints"]) for r in coco17] == [51, 51]
    assert [len(r["keypoints"]) for r in native] == [54, 54]


def test_image_files_live_in_io(tmp_path):
    pytest.importorskip("PIL", reason="image files need Pillow (the image extra)")
    import importlib

    import pafdecode
    from pafdecode import io

    draw_module = importlib.import_module("pafdecode.draw")  # pafdecode.draw is the function
    assert pafdecode.load_image is io.load_image and pafdecode.save_image is io.save_image
    assert not hasattr(draw_module, "load_image")  # one home: io
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    io.save_image(tmp_path / "x.png", image)
    np.testing.assert_array_equal(io.load_image(tmp_path / "x.png"), image)


def test_importing_pafdecode_leaves_pillow_unimported():
    import subprocess
    import sys

    code = ("import sys, pafdecode, pafdecode.io, pafdecode.draw; "
            "assert not [m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')]")
    subprocess.run([sys.executable, "-c", code], check=True)
