"""Pre-processing and back-projection: affines, resampling, policies, round trips."""

import numpy as np
import pytest

from pafdecode import Decoder, Skeleton, synth
from pafdecode.transforms import (
    InputTransform, apply_affine, back_project, compose_affine, fixed_transform,
    invert_affine, make_transform, pad_transform, scale_affine, translate_affine,
    warp_affine,
)

COCO = Skeleton.openpose_coco18()
STRIDE = 8


def random_affine(rng, separable=False):
    """A well-conditioned random affine (scales 0.3..3, any rotation, shear)."""
    if separable:
        lin = np.diag(rng.uniform(0.3, 3.0, 2) * rng.choice([-1, 1], 2))
    else:
        angle = rng.uniform(-np.pi, np.pi)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        lin = rot @ np.diag(rng.uniform(0.3, 3.0, 2)) @ np.array(
            [[1.0, rng.uniform(-0.5, 0.5)], [0.0, 1.0]])
    return np.concatenate([lin, rng.uniform(-50, 50, (2, 1))], axis=1)


# -- affines -------------------------------------------------------------------------

def test_affine_round_trip_on_random_affines(rng):
    for _ in range(200):
        A = random_affine(rng)
        B = invert_affine(A)
        pts = rng.uniform(-500, 500, (7, 5, 2))
        np.testing.assert_allclose(apply_affine(apply_affine(pts, A), B), pts, atol=1e-9)
        np.testing.assert_allclose(invert_affine(B), A, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(compose_affine(A, B), [[1, 0, 0], [0, 1, 0]], atol=1e-12)
        C = random_affine(rng)
        np.testing.assert_allclose(apply_affine(pts, compose_affine(C, A)),
                                   apply_affine(apply_affine(pts, A), C), atol=1e-9)


def test_scale_affine_is_the_pixel_centre_convention():
    A = scale_affine(0.25, 2.0)
    # The image's edges map to the resized image's edges, and pixel centres as
    # x -> (x + 0.5) s - 0.5: an 8x4 block of pixels becomes one pixel centred at 3.5.
    np.testing.assert_allclose(apply_affine([[-0.5, -0.5], [99.5, 49.5]], A),
                               [[-0.5, -0.5], [24.5, 99.5]])
    np.testing.assert_allclose(apply_affine([[1.5, 0.0]], A), [[0.0, 0.5]])
    np.testing.assert_allclose(apply_affine([[3.0, 4.0]], translate_affine(1, -2)),
                               [[4.0, 2.0]])
    # 3x3 homogeneous form is accepted
    np.testing.assert_allclose(invert_affine(np.vstack([A, [0, 0, 1]])), invert_affine(A))


def test_bad_affines():
    with pytest.raises(ValueError, match="singular"):
        invert_affine([[1, 2, 0], [2, 4, 0]])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        apply_affine([[0, 0]], np.eye(2))
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        apply_affine([1, 2, 3], scale_affine(2))
    with pytest.raises(ValueError, match="sx"):
        scale_affine(0)


# -- resampling ----------------------------------------------------------------------

def ramp(h, w, channels=3):
    """An image linear in x and y (different per channel): bilinear is exact on it."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    coef = np.array([[10.0, 0.7, 0.3], [200.0, -0.2, 0.5], [50.0, 0.1, -0.05]])[:channels]
    return np.stack([a + b * x + c * y for a, b, c in coef], axis=-1), coef


@pytest.mark.parametrize("separable", [True, False])
def test_warp_is_exact_on_linear_images(rng, separable):
    h, w = 60, 80
    image, coef = ramp(h, w)
    for _ in range(10):
        A = random_affine(rng, separable)
        # Aim the output at the image: put the image centre at the output centre.
        centre = apply_affine([(w - 1) / 2, (h - 1) / 2], A)
        A[:, 2] += np.array([50.0, 40.0]) - centre
        out = warp_affine(image, A, (80, 100), fill=-1.0, antialias=False,
                          dtype=np.float64)
        v, u = np.mgrid[0:80, 0:100]
        src = apply_affine(np.stack([u, v], -1), invert_affine(A))
        interior = ((src[..., 0] >= 0) & (src[..., 0] <= w - 1)
                    & (src[..., 1] >= 0) & (src[..., 1] <= h - 1))
        outside = ((src[..., 0] < -0.5 - 1e-3) | (src[..., 0] > w - 0.5 + 1e-3)
                   | (src[..., 1] < -0.5 - 1e-3) | (src[..., 1] > h - 0.5 + 1e-3))
        assert interior.sum() > 100
        expect = coef[:, 0] + src[..., :1] * coef[:, 1] + src[..., 1:] * coef[:, 2]
        np.testing.assert_allclose(out[interior], expect[interior], atol=1e-9)
        assert (out[outside] == -1.0).all()


def test_warp_separable_and_general_paths_agree(rng):
    image = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    A = np.array([[0.6, 0.0, 3.2], [0.0, 1.7, -4.1]])
    fast = warp_affine(image, A, (90, 60))
    tilt = A.copy()
    tilt[0, 1] = 1e-13  # not separable any more, same map to 1e-11 px
    slow = warp_affine(image, tilt, (90, 60))
    np.testing.assert_allclose(fast, slow, atol=1e-3)


def test_antialias_box_reduction_keeps_the_affine():
    # Shrinking by 1/3: blocks of 3x3 are averaged first; on a linear image the block
    # mean is the value at the block centre, so the result stays exact.
    h, w = 240, 360
    image, coef = ramp(h, w)
    A = scale_affine(1 / 3.2)
    out = warp_affine(image, A, (75, 112), antialias=True, dtype=np.float64)
    v, u = np.mgrid[0:75, 0:112]
    src = apply_affine(np.stack([u, v], -1), invert_affine(A))
    interior = ((src[..., 0] >= 1) & (src[..., 0] <= w - 2)
                & (src[..., 1] >= 1) & (src[..., 1] <= h - 2))
    expect = coef[:, 0] + src[..., :1] * coef[:, 1] + src[..., 1:] * coef[:, 2]
    np.testing.assert_allclose(out[interior], expect[interior], atol=1e-6)


@pytest.mark.parametrize("antialias", [False, True])
def test_warp_honours_the_affine_on_a_blob(antialias):
    """A Gaussian blob lands where the affine says, through resize and padding."""
    h, w = 301, 517
    x0, y0 = 205.3, 131.8
    y, x = np.mgrid[0:h, 0:w]
    blob = 255 * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * 9.0 ** 2))
    for t in (pad_transform((h, w), (368, 432)), pad_transform((h, w), (160, None)),
              fixed_transform((h, w), (368, 432), keep_aspect=True, center=True),
              fixed_transform((h, w), (200, 700))):
        out = t.warp(blob.astype(np.uint8) if antialias else blob, antialias=antialias)
        cx, cy = t.to_input([x0, y0])
        v, u = np.mgrid[0:out.shape[0], 0:out.shape[1]]
        sx, sy = t.scale
        near = (np.abs(u - cx) < 45 * sx) & (np.abs(v - cy) < 45 * sy)  # 5 sigma
        wgt = out * near
        got = np.array([(wgt * u).sum(), (wgt * v).sum()]) / wgt.sum()
        np.testing.assert_allclose(got, [cx, cy], atol=0.05)


@pytest.mark.parametrize("antialias", [False, True])
def test_content_fills_exactly_its_box(rng, antialias):
    for _ in range(20):
        h, w = rng.integers(20, 900, 2)
        image = np.full((h, w, 3), 200, np.uint8)
        t = pad_transform((h, w), (rng.integers(50, 500), rng.integers(50, 500)))
        out = t.warp(image, fill=7, antialias=antialias)
        ch, cw = t.content_size
        assert out.shape == t.input_size + (3,)
        np.testing.assert_array_equal(out[:ch, :cw], 200)
        assert (out[ch:] == 7).all() and (out[:, cw:] == 7).all()


def test_warp_accepts_grey_and_checks_arguments():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = warp_affine(grey, scale_affine(1.0), (3, 4))
    assert out.shape == (3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out, grey)
    with pytest.raises(ValueError, match="image must have shape"):
        warp_affine(np.zeros((0, 4)), scale_affine(1.0), (3, 4))
    with pytest.raises(ValueError, match="fill"):
        warp_affine(np.zeros((3, 4, 3)), scale_affine(1.0), (3, 4), fill=[1, 2])
    t = pad_transform((10, 10))
    with pytest.raises(ValueError, match="built for 10x10"):
        t.warp(np.zeros((11, 10, 3)))


# -- policies ------------------------------------------------------------------------

def test_pad_policy_sizes(rng):
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(10, 2000, 2))
        th, tw = (int(v) for v in rng.integers(64, 800, 2))
        t = pad_transform((h, w), (th, tw), stride=8)
        ch, cw = t.content_size
        assert t.input_size[0] % 8 == 0 and t.input_size[1] % 8 == 0
        assert ch <= th and cw <= tw and (ch == th or cw == tw or abs(ch - th) <= 1
                                           or abs(cw - tw) <= 1)
        assert 0 <= t.input_size[0] - ch < 8 and 0 <= t.input_size[1] - cw < 8
        assert abs(cw / ch - w / h) <= (w / h) * (1 / ch + 1 / cw) + 1e-12
        # content starts at the top left
        np.testing.assert_allclose(t.to_input([[-0.5, -0.5], [w - 0.5, h - 0.5]]),
                                   [[-0.5, -0.5], [cw - 0.5, ch - 0.5]], atol=1e-9)
    t = pad_transform((100, 50), None, stride=16)
    assert t.content_size == (100, 50) and t.input_size == (112, 64)
    np.testing.assert_allclose(t.affine, [[1, 0, 0], [0, 1, 0]])
    t = pad_transform((425, 640), (368, None))
    assert t.content_size == (368, 554) and t.input_size == (368, 560)
    assert make_transform((425, 640), "pad", (368, None)).input_size == (368, 560)


def test_fixed_policy():
    t = fixed_transform((425, 640), (368, 432))
    assert t.content_size == (368, 432) and t.input_size == (368, 432)
    np.testing.assert_allclose(t.scale, (432 / 640, 368 / 425))
    t = fixed_transform((425, 640), (368, 432), keep_aspect=True, center=True)
    assert t.content_size == (287, 432) and t.offset == (40, 0)
    np.testing.assert_allclose(t.to_input([[-0.5, -0.5], [639.5, 424.5]]),
                               [[-0.5, 39.5], [431.5, 326.5]], atol=1e-9)
    t2 = fixed_transform((425, 640), (368, 432), keep_aspect=True)
    assert t2.offset == (0, 0)
    with pytest.raises(ValueError, match="full"):
        make_transform((10, 10), "fixed", (368, None))
    with pytest.raises(ValueError, match="policy"):
        make_transform((10, 10), "stretch", (368, 432))
    bigger = t.with_input_size((400, 440))
    assert bigger.input_size == (400, 440)
    np.testing.assert_array_equal(bigger.affine, t.affine)
    with pytest.raises(ValueError, match="smaller"):
        t.with_input_size((300, 432))


# -- back-projection -----------------------------------------------------------------

def match_people(found, truth):
    """Index of the true person closest to each found one (mean distance over the
    keypoints both have)."""
    pairs = []
    for f in found:
        d = []
        for t in truth:
            both = (f[:, 2] > 0) & (t[:, 2] > 0)
            d.append(np.inf if not both.any()
                     else np.linalg.norm(f[both, :2] - t[both, :2], axis=1).mean())
        pairs.append(int(np.argmin(d)))
    return pairs


@pytest.mark.parametrize("policy", ["pad", "pad_height", "fixed", "letterbox", "upscale"])
def test_synthetic_scene_round_trip(policy):
    """People in image pixels -> affine -> fields at network size -> decode ->
    back-projection: the keypoints come back within a fraction of a stride."""
    image_size = {"upscale": (150, 200)}.get(policy, (613, 811))
    scene = synth.crowd_scene(4, rng=3, image_size=image_size, allow_overlap=False,
                              height_range=(0.45 * image_size[0], 0.6 * image_size[0]))
    transform = {
        "pad": lambda s: pad_transform(s, (368, 432), stride=STRIDE),
        "pad_height": lambda s: pad_transform(s, (256, None), stride=STRIDE),
        "fixed": lambda s: fixed_transform(s, (368, 656)),
        "letterbox": lambda s: fixed_transform(s, (512, 512), keep_aspect=True,
                                               center=True),
        "upscale": lambda s: pad_transform(s, (368, 480), stride=STRIDE),
    }[policy](image_size)
    people = scene.people.copy()
    warped = people.copy()
    warped[..., :2] = transform.to_input(people[..., :2])
    heat, paf = synth.render_fields(warped, COCO, transform.input_size, stride=STRIDE)
    assert heat.shape[1:] == tuple(s // STRIDE for s in transform.input_size)
    poses = transform.back_project(Decoder(COCO, stride=STRIDE)(heat, paf))
    assert len(poses) == len(people)
    # error budget: a quarter of a stride in input pixels, in image pixels
    budget = 0.25 * STRIDE / min(transform.scale)
    for found, t in zip(poses.keypoints, match_people(poses.keypoints, people)):
        truth = people[t]
        both = (found[:, 2] > 0) & (truth[:, 2] > 0)
        assert both.sum() >= 0.8 * (truth[:, 2] > 0).sum()
        err = np.linalg.norm(found[both, :2] - truth[both, :2], axis=1)
        assert err.max() < budget, (policy, err.max(), budget)
    # without back-projection the keypoints are off (the test is not vacuous)
    raw = Decoder(COCO, stride=STRIDE)(heat, paf).keypoints
    shown = raw[..., 2] > 0
    assert np.abs(raw[shown, :2] - poses.keypoints[shown, :2]).max() > 2 * budget


def test_back_project_arrays_and_missing_keypoints():
    A = fixed_transform((100, 200), (50, 50)).affine
    kp = np.array([[[10.0, 20.0, 0.9], [0.0, 0.0, 0.0]]], np.float32)
    out = back_project(kp, A)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0, :2], apply_affine([10, 20], invert_affine(A)),
                               rtol=1e-6)
    assert out[0, 0, 2] == np.float32(0.9)
    np.testing.assert_array_equal(out[0, 1], 0)
    t = InputTransform.from_affine(A, (100, 200), (50, 50))
    np.testing.assert_allclose(back_project(kp, t), out)
    with pytest.raises(ValueError, match=r"\(P, K, 3\)"):
        back_project(np.zeros((2, 3)), A)


def test_map_image_convention_lives_here_and_matches_scale_affine(rng):
    from pafdecode import synth, transforms

    assert synth.image_to_map is transforms.image_to_map
    assert synth.map_to_image is transforms.map_to_image
    gxy = rng.uniform(-3, 90, (6, 2))
    for stride in (1, 4, 8, 6.5):
        # A map of stride s is its image resized by 1 / s: the same pixel-centre rule.
        np.testing.assert_allclose(transforms.map_to_image(gxy, stride),
                                   apply_affine(gxy, scale_affine(stride)), atol=1e-9)
        np.testing.assert_allclose(transforms.image_to_map(gxy, stride),
                                   apply_affine(gxy, scale_affine(1 / stride)), atol=1e-9)
    # cell 0 of stride 8 is centred on pixel 3.5 (pixels 0..7), cell 2 on 19.5
    np.testing.assert_array_equal(transforms.map_to_image([[0, 2]], 8), [[3.5, 19.5]])
    with pytest.raises(ValueError, match="stride"):
        transforms.map_to_image([0.0, 0.0], -1)
