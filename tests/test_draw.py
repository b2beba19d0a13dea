"""Drawing people in NumPy, and image files through Pillow."""

import builtins

import numpy as np
import pytest

from pafdecode import Poses, Skeleton
from pafdecode.draw import draw, limb_colors
from pafdecode.io import load_image, save_image

TWO = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])


def one_person(points, conf=0.9):
    kp = np.zeros((1, len(points), 3), np.float32)
    kp[0, :, :2] = points
    kp[0, :, 2] = conf
    return Poses(kp, np.array([0.8], np.float32), TWO, {})


def test_limbs_and_keypoints_are_painted():
    image = np.full((60, 100, 3), 255, np.uint8)
    poses = one_person([(10, 30), (50, 30), (50, 50)])
    out = draw(image, poses, thickness=3, radius=2)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert (image == 255).all(), "the input must not be modified"
    lc, kc = limb_colors(2), limb_colors(3)
    # limb 0 runs along row 30 from x=10 to 50: 3 rows thick (29, 30, 31)
    np.testing.assert_array_equal(out[29:32, 20:45], np.broadcast_to(lc[0], (3, 25, 3)))
    assert (out[27, 20:45] == 255).all() and (out[33, 20:45] == 255).all()
    # limb 1 runs down column 50 from y=30 to 50
    np.testing.assert_array_equal(out[38:45, 49:52], np.broadcast_to(lc[1], (7, 3, 3)))
    # keypoints are discs of radius 2 on top of the limbs, in their own colours
    np.testing.assert_array_equal(out[30, 8:13], np.broadcast_to(kc[0], (5, 3)))
    np.testing.assert_array_equal(out[28:33, 10], np.broadcast_to(kc[0], (5, 3)))
    np.testing.assert_array_equal(out[50, 50], kc[2])
    assert (out[:, 60:] == 255).all() and (out[:20] == 255).all()


def test_score_threshold_hides_keypoints_and_their_limbs():
    image = np.zeros((60, 100, 3), np.uint8)
    poses = one_person([(10, 30), (50, 30), (50, 50)])
    poses.keypoints[0, 2, 2] = 0.05
    out = draw(image, poses, score_threshold=0.1, thickness=3, radius=2)
    assert (out[35:, :] == 0).all()  # limb 1 and keypoint 2 are not drawn
    assert (out[30, 20:45] != 0).any()
    assert (draw(image, poses, score_threshold=0.95) == 0).all()


def test_missing_keypoints_and_out_of_image_points():
    image = np.zeros((40, 40, 3), np.uint8)
    kp = np.array([[[0, 0, 0], [20, 20, 0.9], [500, -300, 0.9]]], np.float32)
    out = draw(image, kp, TWO, thickness=2, radius=3)
    assert (out[20, 20] == limb_colors(3)[1]).all()
    assert (out[0:3, 0:3] == 0).all()  # the missing keypoint at (0, 0) is not drawn
    # the limb towards a far-off point is drawn up to the border, clipped
    assert (out != 0).any(axis=-1)[:20, 20:].sum() > 20


def test_defaults_and_arguments():
    grey = np.zeros((400, 800), np.uint8)
    poses = one_person([(100, 100), (300, 100), (300, 300)])
    out = draw(grey, poses)  # thickness max(2, round(800 / 200)) = 4
    assert out.shape == (400, 800, 3)
    # pixel centres within 2 of row 100: rows 98..102
    np.testing.assert_array_equal(np.flatnonzero((out[:, 200] != 0).any(axis=-1)),
                                  [98, 99, 100, 101, 102])
    empty = Poses(np.zeros((0, 3, 3), np.float32), np.zeros(0, np.float32), TWO, {})
    np.testing.assert_array_equal(draw(grey, empty)[..., 0], grey)
    with pytest.raises(ValueError, match="skeleton"):
        draw(grey, poses.keypoints)
    with pytest.raises(ValueError, match="uint8"):
        draw(grey.astype(float), poses)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        draw(np.zeros((4, 4, 4), np.uint8), poses)
    with pytest.raises(ValueError, match=r"\(P, 3, 3\)"):
        draw(grey, np.zeros((1, 5, 3)), TWO)
    with pytest.raises(ValueError, match="limb_color"):
        draw(grey, poses, limb_color=[(1, 2, 3)])
    custom = draw(grey, poses, limb_color=[(9, 9, 9), (7, 7, 7)], radius=0, thickness=2)
    assert set(np.unique(custom)) == {0, 7, 9}


def test_limb_colors():
    colors = limb_colors(19)
    assert colors.shape == (19, 3) and colors.dtype == np.uint8
    assert len({tuple(c) for c in colors}) == 19
    np.testing.assert_array_equal(colors[0], (255, 0, 0))
    np.testing.assert_array_equal(limb_colors(3), [(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    assert limb_colors(0).shape == (0, 3)


def test_save_and_load_round_trip(tmp_path):
    pytest.importorskip("PIL", reason="image files need Pillow (the image extra)")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (31, 47, 3), dtype=np.uint8)
    save_image(tmp_path / "a.png", image)
    np.testing.assert_array_equal(load_image(tmp_path / "a.png"), image)
    np.testing.assert_array_equal(load_image(tmp_path / "a.png", "BGR"), image[:, :, ::-1])
    save_image(tmp_path / "b.png", image, color="BGR")
    np.testing.assert_array_equal(load_image(tmp_path / "b.png", "BGR"), image)
    save_image(str(tmp_path / "c.jpg"), np.full((16, 16, 3), 128, np.uint8), quality=95)
    assert np.abs(load_image(tmp_path / "c.jpg").astype(int) - 128).max() <= 2
    save_image(tmp_path / "g.png", image[:, :, 0])
    assert load_image(tmp_path / "g.png").shape == (31, 47, 3)
    with pytest.raises(ValueError, match="uint8"):
        save_image(tmp_path / "d.png", image.astype(float))


def test_missing_pillow_names_the_extra(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"pip install 'pafdecode\[image\]'"):
        load_image(tmp_path / "x.png")
    with pytest.raises(ImportError, match=r"pip install 'pafdecode\[image\]'"):
        save_image(tmp_path / "x.png", np.zeros((2, 2, 3), np.uint8))


def test_draw_on_a_real_photo(tmp_path, shared):
    pytest.importorskip("PIL", reason="image files need Pillow (the image extra)")
    photo = shared / "data" / "images" / "p3.jpg"
    image = load_image(photo)
    coco = Skeleton.openpose_coco18()
    kp = np.zeros((1, 18, 3), np.float32)
    kp[0, :, 0] = np.linspace(50, image.shape[1] - 50, 18)
    kp[0, :, 1] = np.linspace(50, image.shape[0] - 50, 18)
    kp[0, :, 2] = 1.0
    out = draw(image, Poses(kp, np.ones(1, np.float32), coco, {}))
    assert (out != image).any(axis=-1).sum() > 1000
    save_image(tmp_path / "drawn.jpg", out)
    assert load_image(tmp_path / "drawn.jpg").shape == image.shape
