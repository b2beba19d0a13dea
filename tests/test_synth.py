"""Tests of pafdecode.synth: each result is checked against a truth computed here
independently (closed-form Gaussians, hand-placed limbs, the documented rules)."""

import dataclasses

import numpy as np
import pytest

from pafdecode.skeleton import Skeleton
from pafdecode.synth import (CrowdScene, crowd_index, crowd_scene, image_to_map, map_to_image,
                             render_fields)

FLOAT32_TINY = np.finfo(np.float32).tiny  # smallest normal float32
COCO = Skeleton.openpose_coco18()
TWO_POINTS = Skeleton(["a", "b"], [(0, 1)])


def image_point(gx, gy, stride=8):
    """Image pixel of a map point, written out from the convention, not the helper."""
    return (gx + 0.5) * stride - 0.5, (gy + 0.5) * stride - 0.5


def gaussian(map_shape, centre, sigma):
    """exp(-d^2 / (2 sigma^2)) over a whole map, in float64."""
    gy, gx = np.mgrid[:map_shape[0], :map_shape[1]].astype(np.float64)
    return np.exp(-((gx - centre[0]) ** 2 + (gy - centre[1]) ** 2) / (2 * sigma ** 2))


def limb_person(start, end, stride=8):
    """A TWO_POINTS person whose limb runs between two map points."""
    return [[*image_point(*start, stride), 2.0], [*image_point(*end, stride), 2.0]]


def keypoint_boxes(people):
    return people[..., :2].min(axis=1), people[..., :2].max(axis=1)


# -- coordinate convention -----------------------------------------------------------

def test_image_to_map_follows_the_cell_centre_convention():
    # Cell 0 covers image pixels 0..7, whose centre is 3.5; cell 1 covers 8..15.
    assert np.allclose(image_to_map([[3.5, 11.5]], 8), [[0.0, 1.0]])
    assert np.allclose(image_to_map([-0.5, -0.5], 8), [-0.5, -0.5])
    assert np.allclose(map_to_image([[0.0, 1.0], [2.0, 0.0]], 8), [[3.5, 11.5], [19.5, 3.5]])
    assert np.allclose(image_to_map([5.0, 7.0], 1), [5.0, 7.0])


def test_image_and_map_coordinates_round_trip():
    points = np.random.default_rng(0).uniform(-10, 700, (4, 5, 2))
    for stride in (1, 4, 8, 6.5):
        gxy = image_to_map(points, stride)
        assert gxy.shape == points.shape
        assert np.allclose(map_to_image(gxy, stride), points, rtol=0, atol=1e-9)


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((2, 3)), 1.0])
def test_coordinate_helpers_reject_points_without_an_xy_axis(bad):
    with pytest.raises(ValueError, match="xy"):
        image_to_map(bad, 8)
    with pytest.raises(ValueError, match="gxy"):
        map_to_image(bad, 8)


def test_coordinate_helpers_reject_a_non_positive_stride():
    with pytest.raises(ValueError, match="stride"):
        image_to_map([1.0, 2.0], 0)


@pytest.mark.parametrize("image_size, stride, map_shape", [
    ((368, 656), 8, (46, 82)), ((369, 657), 8, (47, 83)), ((368, 656), 4, (92, 164)),
    ((1, 1), 8, (1, 1)),
])
def test_map_size_rounds_up(image_size, stride, map_shape):
    heatmaps, pafs = render_fields(np.zeros((0, 18, 3)), COCO, image_size, stride=stride)
    assert heatmaps.shape == (18, *map_shape)
    assert pafs.shape == (38, *map_shape)
    assert heatmaps.dtype == pafs.dtype == np.float32
    assert not heatmaps.any() and not pafs.any()


# -- heatmaps ------------------------------------------------------------------------

def test_single_peak_is_recovered_by_a_log_parabola_fit():
    centre = (10.3, 7.6)
    people = [[[*image_point(*centre), 2.0], [0.0, 0.0, 0.0]]]
    heatmaps, _ = render_fields(people, TWO_POINTS, (160, 200), sigma=1.5)
    channel = heatmaps[0].astype(np.float64)
    row, col = np.unravel_index(np.argmax(channel), channel.shape)
    assert (row, col) == (8, 10)

    def vertex(left, mid, right):
        left, mid, right = np.log([left, mid, right])
        return (left - right) / (2 * (left - 2 * mid + right))

    fit_x = col + vertex(*channel[row, col - 1:col + 2])
    fit_y = row + vertex(*channel[row - 1:row + 2, col])
    assert abs(fit_x - centre[0]) < 1e-3
    assert abs(fit_y - centre[1]) < 1e-3
    assert not heatmaps[1].any()


def test_heatmap_matches_the_closed_form_gaussian_everywhere():
    centre, sigma = (4.25, 3.5), 0.8
    people = [[[*image_point(*centre), 1.0], [0.0, 0.0, 0.0]]]
    heatmaps, _ = render_fields(people, TWO_POINTS, (160, 320), sigma=sigma)
    expected = gaussian(heatmaps.shape[1:], centre, sigma)
    normal = expected > 1e3 * FLOAT32_TINY
    np.testing.assert_allclose(heatmaps[0][normal], expected[normal], rtol=1e-6)
    # Past float32's smallest subnormal the value can only round to exactly zero.
    assert (heatmaps[0][expected < 1e-46] == 0).all()


def test_heatmap_is_the_maximum_over_people():
    centres = [(5.0, 5.0), (7.5, 6.0)]
    people = [[[*image_point(*c), 2.0], [0.0, 0.0, 0.0]] for c in centres]
    heatmaps, _ = render_fields(people, TWO_POINTS, (96, 128), sigma=1.2)
    expected = np.maximum(*(gaussian(heatmaps.shape[1:], c, 1.2) for c in centres))
    normal = expected > 1e3 * FLOAT32_TINY
    np.testing.assert_allclose(heatmaps[0][normal], expected[normal], rtol=1e-6)


def test_background_channel_is_one_minus_the_keypoint_maximum():
    scene = crowd_scene(6, 11, background=True)
    keypoints, background = scene.heatmaps[:-1], scene.heatmaps[-1]
    assert scene.heatmaps.shape[0] == COCO.num_keypoints + 1
    np.testing.assert_array_equal(background, np.clip(1 - keypoints.max(axis=0), 0, 1))
    assert background.max() == 1.0 and background.min() < 0.01


def test_float64_rendering_is_available():
    people = [[[*image_point(3, 3), 2.0], [*image_point(6, 3), 2.0]]]
    heatmaps, pafs = render_fields(people, TWO_POINTS, (64, 64), dtype=np.float64)
    assert heatmaps.dtype == pafs.dtype == np.float64
    assert heatmaps[0, 3, 3] == 1.0


def test_gaussian_tails_leave_float32_subnormals():
    heatmaps = crowd_scene(1, 5).heatmaps
    assert heatmaps.dtype == np.float32
    subnormal = (heatmaps > 0) & (heatmaps < FLOAT32_TINY)
    assert subnormal.sum() > 100


# -- part affinity fields ------------------------------------------------------------

def test_horizontal_limb_covers_a_band_of_unit_vectors():
    _, pafs = render_fields([limb_person((2, 5), (9, 5))], TWO_POINTS, (80, 96))
    expected_x = np.zeros((10, 12), np.float32)
    expected_x[4:7, 2:10] = 1.0  # rows within 1 cell of row 5, columns 2..9
    expected_x[5, [1, 10]] = 1.0  # and the round ends, 1 cell beyond each end
    np.testing.assert_array_equal(pafs[0], expected_x)
    assert not pafs[1].any()


def test_diagonal_limb_band_matches_point_to_segment_geometry():
    start, end, width = np.array([2.3, 1.7]), np.array([12.6, 9.1]), 1.2
    _, pafs = render_fields([limb_person(start, end)], TWO_POINTS, (128, 144), paf_width=width)
    length = np.linalg.norm(end - start)
    unit = (end - start) / length
    gy, gx = np.mgrid[:pafs.shape[1], :pafs.shape[2]].astype(np.float64)
    along = (gx - start[0]) * unit[0] + (gy - start[1]) * unit[1]
    normal = np.array([-unit[1], unit[0]])
    across = np.abs((gx - start[0]) * normal[0] + (gy - start[1]) * normal[1])
    distance = np.hypot(along - np.clip(along, 0, length), across)  # to the segment
    clearly_in = distance < width - 1e-6
    clearly_out = distance > width + 1e-6
    assert clearly_in.sum() > 20
    np.testing.assert_allclose(pafs[0][clearly_in], unit[0], rtol=1e-6)
    np.testing.assert_allclose(pafs[1][clearly_in], unit[1], rtol=1e-6)
    assert not pafs[0][clearly_out].any() and not pafs[1][clearly_out].any()
    covered = (pafs[0] != 0) | (pafs[1] != 0)
    np.testing.assert_allclose(np.hypot(pafs[0], pafs[1])[covered], 1.0, rtol=1e-6)


def test_paf_components_go_to_the_skeletons_channels():
    skeleton = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)], paf_channels=[(3, 0), (5, 2)])
    person = [[*image_point(2, 2), 2.0], [*image_point(8, 2), 2.0], [*image_point(8, 8), 2.0]]
    _, pafs = render_fields([person], skeleton, (80, 80))
    assert pafs.shape == (6, 10, 10)
    assert pafs[3, 2, 5] == 1.0 and pafs[0, 2, 5] == 0.0  # limb 0 points along +x
    assert pafs[5, 5, 8] == 0.0 and pafs[2, 5, 8] == 1.0  # limb 1 points along +y
    assert not pafs[1].any() and not pafs[4].any()


def test_crossing_limbs_of_one_type_average_their_vectors():
    horizontal = limb_person((2, 5), (9, 5))
    vertical = limb_person((6, 1), (6, 9))
    backwards = limb_person((9, 5), (2, 5))
    _, pafs = render_fields([horizontal, vertical], TWO_POINTS, (80, 96))
    assert (pafs[0, 5, 6], pafs[1, 5, 6]) == (0.5, 0.5)
    assert (pafs[0, 5, 3], pafs[1, 5, 3]) == (1.0, 0.0)
    assert (pafs[0, 2, 6], pafs[1, 2, 6]) == (0.0, 1.0)
    _, twice = render_fields([horizontal, horizontal], TWO_POINTS, (80, 96))
    _, once = render_fields([horizontal], TWO_POINTS, (80, 96))
    np.testing.assert_array_equal(twice, once)
    _, cancelled = render_fields([horizontal, backwards], TWO_POINTS, (80, 96))
    assert not cancelled.any()


def test_limbs_of_different_types_do_not_mix():
    skeleton = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])
    person = [[*image_point(2, 5), 2.0], [*image_point(9, 5), 2.0], [*image_point(9, 1), 2.0]]
    _, pafs = render_fields([person], skeleton, (80, 96))
    assert (pafs[0, 5, 9], pafs[1, 5, 9]) == (1.0, 0.0)
    assert (pafs[2, 5, 9], pafs[3, 5, 9]) == (0.0, -1.0)


def test_limbs_of_zero_length_or_off_the_map_draw_nothing():
    same_point = limb_person((4, 4), (4, 4))
    far_away = limb_person((40, 40), (50, 45))
    very_far = [[1e12, 1e12, 2.0], [2e12, 1e200, 2.0]]
    heatmaps, pafs = render_fields([same_point, far_away, very_far], TWO_POINTS, (80, 96))
    assert not pafs.any()
    assert heatmaps[0, 4, 4] == 1.0
    assert np.array_equal(heatmaps, render_fields([same_point], TWO_POINTS, (80, 96))[0])


# -- visibility and occlusion --------------------------------------------------------

def test_a_hidden_keypoint_removes_its_peak_and_its_limbs():
    person = crowd_scene(1, 3, image_size=(368, 368), height_range=(250, 250)).people
    assert (person[..., 2] == 2).all()
    elbow = COCO.keypoints.index("r_elbow")
    hidden = person.copy()
    hidden[0, elbow, 2] = 0
    full_heatmaps, full_pafs = render_fields(person, COCO, (368, 368))
    heatmaps, pafs = render_fields(hidden, COCO, (368, 368))
    assert not heatmaps[elbow].any()
    others = np.arange(COCO.num_keypoints) != elbow
    np.testing.assert_array_equal(heatmaps[others], full_heatmaps[others])
    for limb, channels in zip(COCO.limbs, COCO.paf_channels):
        if elbow in limb:
            assert not pafs[channels].any()
        else:
            assert full_pafs[channels].any()
            np.testing.assert_array_equal(pafs[channels], full_pafs[channels])


def test_occlusion_hides_the_requested_fraction_and_rendering_follows_visibility():
    scene = crowd_scene(60, 8, occlusion=0.4, image_size=(736, 1312))
    visibility = scene.people[..., 2]
    assert set(np.unique(visibility)) <= {0.0, 2.0}
    inside = ((scene.people[..., 0] >= -0.5) & (scene.people[..., 0] < 1312 - 0.5)
              & (scene.people[..., 1] >= -0.5) & (scene.people[..., 1] < 736 - 0.5))
    hidden_fraction = (visibility[inside] == 0).mean()
    assert 0.34 < hidden_fraction < 0.46  # 1000+ keypoints: ~5 standard errors
    heatmaps, pafs = render_fields(scene.people, COCO, scene.image_size)
    np.testing.assert_array_equal(scene.heatmaps, heatmaps)
    np.testing.assert_array_equal(scene.pafs, pafs)


def test_keypoints_outside_the_image_are_hidden():
    scene = crowd_scene(3, 4, height_range=(450, 600))  # taller than the image
    x, y, visibility = np.moveaxis(scene.people, -1, 0)
    height, width = scene.image_size
    inside = (x >= -0.5) & (x < width - 0.5) & (y >= -0.5) & (y < height - 0.5)
    assert (~inside).any()
    np.testing.assert_array_equal(visibility == 2, inside)


# -- crowd scenes --------------------------------------------------------------------

def test_crowd_scene_fields_and_shapes():
    scene = crowd_scene(10, 1)
    assert isinstance(scene, CrowdScene)
    assert scene.people.shape == (10, 18, 3) and scene.people.dtype == np.float64
    assert scene.heatmaps.shape == (18, 46, 82) and scene.heatmaps.dtype == np.float32
    assert scene.pafs.shape == (38, 46, 82) and scene.pafs.dtype == np.float32
    assert scene.skeleton == COCO and scene.stride == 8 and scene.image_size == (368, 656)
    assert scene.sigma == 1.0 and scene.paf_width == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        scene.stride = 4


def test_empty_crowd():
    scene = crowd_scene(0, 1, background=True)
    assert scene.people.shape == (0, 18, 3)
    assert not scene.heatmaps[:-1].any() and (scene.heatmaps[-1] == 1).all()
    assert not scene.pafs.any()


def test_same_seed_same_scene_and_different_seed_different_scene():
    options = dict(occlusion=0.2, noise=0.05, peak_variation=0.3, allow_overlap=False)
    first = crowd_scene(12, 42, **options)
    again = crowd_scene(12, np.random.default_rng(42), **options)
    other = crowd_scene(12, 43, **options)
    for field in ("people", "heatmaps", "pafs"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.people, other.people)


def test_no_overlap_keeps_boxes_apart_by_the_margin():
    scene = crowd_scene(15, 9, allow_overlap=False)
    low, high = keypoint_boxes(scene.people)
    margin = 2 * scene.stride  # each box grown by 2 map pixels on every side
    for i in range(len(low)):
        for j in range(i + 1, len(low)):
            gap = np.maximum(low[j] - high[i], low[i] - high[j])  # per axis, < 0 overlaps
            assert gap.max() >= 2 * margin - 1e-9, (i, j)


def test_no_overlap_raises_when_the_crowd_cannot_fit():
    with pytest.raises(ValueError, match="overlap"):
        crowd_scene(200, 0, image_size=(64, 64), allow_overlap=False)


def test_shrinking_heights_shrink_with_the_crowd():
    # Keypoint boxes span between ~0.6 and ~1.2 standing heights, so they bound the
    # documented ranges: 92-331 px for one person, 44-110 px for 100.
    single = np.array([np.ptp(crowd_scene(1, seed, size_model="shrinking").people[0, :, 1])
                       for seed in range(8)])
    crowd = np.ptp(crowd_scene(100, 0, size_model="shrinking").people[..., 1], axis=1)
    assert single.min() > 0.5 * 92 and single.max() < 1.25 * 331
    assert crowd.min() > 0.5 * 44 and crowd.max() < 1.25 * 110
    assert np.median(single) > 2 * np.median(crowd)


def test_default_heights_do_not_depend_on_the_count():
    # 80-300 px standing heights at every count: keypoint spans within ~0.6-1.2 of that,
    # and the same spread for 5 people as for 200 (median of a uniform draw: 190 px).
    few = np.concatenate([np.ptp(crowd_scene(5, seed).people[..., 1], axis=1)
                          for seed in range(40)])
    many = np.ptp(crowd_scene(200, 1).people[..., 1], axis=1)
    for spans in (few, many):
        assert spans.min() > 0.5 * 80 and spans.max() < 1.25 * 300
        assert 0.6 * 190 < np.median(spans) < 1.1 * 190
    assert abs(np.median(few) / np.median(many) - 1) < 0.1
    # The range follows the image's shorter side: half the side, half the heights.
    small = np.ptp(crowd_scene(200, 1, image_size=(184, 328)).people[..., 1], axis=1)
    assert small.max() < 1.25 * 150 and abs(np.median(small) / np.median(many) - 0.5) < 0.05


def test_every_person_of_a_dense_crowd_fits_in_the_image():
    # At most a tenth of each box's width and height may lie outside the image.
    scene = crowd_scene(200, 4)
    low, high = keypoint_boxes(scene.people)
    size = high - low
    width_height = np.array(scene.image_size[::-1], dtype=float)
    assert (low >= -0.1 * size - 1e-9).all()
    assert (high <= width_height + 0.1 * size + 1e-9).all()


def brute_force_crowd_index(people):
    """CrowdPose's index written out person by person, joint by joint."""
    ratios = []
    for i, person in enumerate(people):
        own = sum(1 for kp in person if kp[2] > 0)
        if own == 0:
            continue
        xs, ys = person[:, 0], person[:, 1]
        pad_x, pad_y = 0.1 * (xs.max() - xs.min()), 0.1 * (ys.max() - ys.min())
        inside = 0
        for j, other in enumerate(people):
            for x, y, v in other:
                if j != i and v > 0 and xs.min() - pad_x <= x <= xs.max() + pad_x \
                        and ys.min() - pad_y <= y <= ys.max() + pad_y:
                    inside += 1
        ratios.append(inside / own)
    return float(np.mean(ratios)) if ratios and len(people) > 1 else 0.0


def test_crowd_index_counts_other_peoples_joints_in_each_box():
    # A (box 0..10 x 0..10, padded to -1..11) holds 2 of B's 4 joints; B's box
    # (10..30, padded to 8..32) holds 2 of A's 3 visible joints: (2/3 + 2/4) / 2.
    a = [[0, 0, 2], [10, 10, 2], [9, 9, 2], [0, 10, 0]]
    b = [[10, 10, 2], [11, 11, 2], [30, 30, 2], [20, 12, 2]]
    assert crowd_index([a, b]) == pytest.approx((2 / 3 + 2 / 4) / 2)
    hidden = [[0, 0, 0]] * 4  # no joint of its own: left out of the mean, sees nothing
    assert crowd_index([a, b, hidden]) == pytest.approx((2 / 3 + 2 / 4) / 2)
    assert crowd_index([a]) == 0.0 and crowd_index(np.zeros((0, 4, 3))) == 0.0
    with pytest.raises(ValueError, match="people"):
        crowd_index(np.zeros((2, 3)))


def test_each_scene_carries_its_crowd_index_which_grows_with_the_crowd():
    scene = crowd_scene(12, 5, occlusion=0.2)
    assert scene.crowd_index == pytest.approx(brute_force_crowd_index(scene.people))
    constant = [np.mean([crowd_scene(n, s).crowd_index for s in range(3)]) for n in (5, 20, 50)]
    shrinking = [np.mean([crowd_scene(n, s, size_model="shrinking").crowd_index
                          for s in range(3)]) for n in (20, 50)]
    assert constant[0] < constant[1] < constant[2] and constant[2] > 2 * constant[1] - 0.5
    # The older model keeps the crowd about as crowded at 50 people as at 20.
    assert shrinking[1] < 1.5 * shrinking[0] and constant[2] > 2 * shrinking[1]


def test_people_are_upright_articulated_and_face_both_ways():
    skeleton = Skeleton.body25()
    scene = crowd_scene(200, 2, skeleton=skeleton, image_size=(1000, 1000))
    assert scene.heatmaps.shape == (25, 125, 125)
    assert scene.pafs.shape == (skeleton.num_paf_channels, 125, 125)

    def y(name):
        return scene.people[:, skeleton.keypoints.index(name), 1]

    def x(name):
        return scene.people[:, skeleton.keypoints.index(name), 0]

    assert (y("nose") < y("neck")).all() and (y("neck") < y("mid_hip")).all()
    for side in ("l", "r"):
        assert (y("mid_hip") < y(f"{side}_ankle")).all()
        assert (y(f"{side}_knee") < y(f"{side}_heel")).all()
    # Seen from the front a person's left is on the image's right; from behind, not.
    facing_camera = (x("l_shoulder") > x("r_shoulder")).mean()
    assert 0.35 < facing_camera < 0.9
    shoulder_width = np.abs(x("l_shoulder") - x("r_shoulder")) / (y("mid_hip") - y("neck"))
    assert shoulder_width.min() < 0.5 * np.median(shoulder_width)  # profiles narrow
    assert np.ptp(y("l_wrist") - y("l_shoulder")) > 0.5 * np.median(y("mid_hip") - y("neck"))


def test_unknown_keypoint_names_are_listed():
    skeleton = Skeleton(["nose", "tail", "wing"], [(0, 1), (1, 2)])
    with pytest.raises(ValueError, match=r"tail.*wing"):
        crowd_scene(2, 0, skeleton=skeleton)


def test_noise_is_added_with_the_requested_spread():
    scene = crowd_scene(20, 6, noise=0.05)
    clean_heatmaps, clean_pafs = render_fields(scene.people, COCO, scene.image_size)
    assert scene.heatmaps.min() >= 0
    assert abs(np.std(scene.pafs - clean_pafs) - 0.05) < 0.002
    empty = clean_heatmaps == 0
    assert abs((scene.heatmaps[empty] == 0).mean() - 0.5) < 0.02


def test_peak_variation_scales_each_gaussian_within_the_range():
    scene = crowd_scene(1, 7, peak_variation=0.5, image_size=(368, 368),
                        height_range=(250, 250))
    clean, _ = render_fields(scene.people, COCO, scene.image_size)
    scales = []
    for k in range(COCO.num_keypoints):
        strong = clean[k] > 1e-3
        ratio = scene.heatmaps[k][strong] / clean[k][strong]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)
        scales.append(ratio[0])
    assert 0.5 - 1e-6 <= min(scales) and max(scales) <= 1 + 1e-6
    assert np.ptp(scales) > 0.1


# -- argument checks -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(n_people=-1), "n_people"),
    (dict(n_people=2.5), "n_people"),
    (dict(rng="seed"), "rng"),
    (dict(rng=None), "rng"),
    (dict(image_size=(0, 100)), "image_size"),
    (dict(image_size=(100,)), "image_size"),
    (dict(skeleton="coco"), "skeleton"),
    (dict(stride=0), "stride"),
    (dict(sigma=0.0), "sigma"),
    (dict(sigma=float("nan")), "sigma"),
    (dict(paf_width=-1.0), "paf_width"),
    (dict(height_range=(80, 40)), "height_range"),
    (dict(height_range=(0, 40)), "height_range"),
    (dict(height_range=50), "height_range"),
    (dict(allow_overlap="no"), "allow_overlap"),
    (dict(occlusion=1.5), "occlusion"),
    (dict(occlusion=-0.1), "occlusion"),
    (dict(noise=-0.1), "noise"),
    (dict(peak_variation=1.0), "peak_variation"),
    (dict(background=None), "background"),
    (dict(size_model="growing"), "size_model"),
])
def test_crowd_scene_rejects_bad_arguments(kwargs, name):
    arguments = dict(n_people=2, rng=0)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        crowd_scene(**arguments)


@pytest.mark.parametrize("kwargs, name", [
    (dict(people=np.zeros((2, 17, 3))), "people"),
    (dict(people=np.zeros((2, 18))), "people"),
    (dict(people=np.full((1, 18, 3), [np.nan, 0.0, 2.0])), "people"),
    (dict(skeleton=None), "skeleton"),
    (dict(image_size=(368, -1)), "image_size"),
    (dict(stride=0), "stride"),
    (dict(sigma=-1.0), "sigma"),
    (dict(paf_width=float("inf")), "paf_width"),
    (dict(dtype=np.int32), "dtype"),
])
def test_render_fields_rejects_bad_arguments(kwargs, name):
    arguments = dict(people=np.zeros((2, 18, 3)), skeleton=COCO, image_size=(368, 656))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        render_fields(**arguments)
