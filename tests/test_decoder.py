"""The decoder against ground truth rendered into fields."""

import functools
import threading

import numpy as np
import pytest

from pafdecode import DecoderConfig, Poses, Skeleton, postprocess, synth

COCO = Skeleton.openpose_coco18()
STRIDE = 8


def min_keypoint_gap(people, stride):
    """Smallest distance, in map pixels, between two visible keypoints of the scene."""
    pts = np.concatenate([p[p[:, 2] > 0, :2] for p in people]) / stride
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    d[np.diag_indices_from(d)] = np.inf
    return d.min()


@functools.lru_cache(maxsize=None)
def separated_people(n_people, skeleton, height):
    """n single synthetic people whose visible keypoints are at least 2 map pixels
    apart."""
    chosen = []
    for seed in range(3000):
        person = synth.crowd_scene(1, seed, image_size=(2 * int(height), 2 * int(height)),
                                   skeleton=skeleton, height_range=(height, height)).people[0]
        visible = person[:, 2] > 0
        if visible.sum() >= 0.6 * len(person) and min_keypoint_gap([person], STRIDE) >= 2.0:
            chosen.append(person)
            if len(chosen) == n_people:
                break
    assert len(chosen) == n_people, f"only {len(chosen)} separated people in 3000 seeds"
    return tuple(chosen)


def separated_scene(n_people, skeleton=COCO, height=340.0):
    """People who do not overlap and whose keypoints are all at least 2 map pixels
    apart, the conditions under which decoding must be exact: single synthetic
    people that meet them are laid out on a grid and rendered together."""
    chosen = separated_people(n_people, skeleton, height)
    margin = 3 * STRIDE
    boxes = [(p[p[:, 2] > 0, :2].min(0), p[p[:, 2] > 0, :2].max(0)) for p in chosen]
    cell = np.max([hi - lo for lo, hi in boxes], axis=0) + 2 * margin
    cols = min(n_people, 5)
    rows = -(-n_people // cols)
    image_size = (int(rows * cell[1]) + 1, int(cols * cell[0]) + 1)
    people = []
    for i, (person, (lo, _)) in enumerate(zip(chosen, boxes)):
        origin = np.array([(i % cols) * cell[0], (i // cols) * cell[1]]) + margin
        moved = person.copy()
        moved[:, :2] += origin - lo
        moved[moved[:, 2] == 0, :2] = 0
        people.append(moved)
    people = np.array(people)
    heat, paf = synth.render_fields(people, skeleton, image_size, stride=STRIDE)
    return people, heat, paf


def match_people(truth, found):
    """Pairs each true person with the found person nearest on its visible keypoints."""
    pairs = []
    for t in truth:
        visible = t[:, 2] > 0
        err = [np.abs(f[visible, :2] - t[visible, :2]).max() if (f[visible, 2] > 0).all()
               else np.inf for f in found]
        pairs.append((t, found[int(np.argmin(err))] if len(found) else None))
    return pairs


@pytest.mark.parametrize("preset", ["openpose", "default", "crowd"])
@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("n_people", [1, 3, 10])
def test_round_trip_recovers_every_person(make_decoder, assignment, n_people, preset):
    people, heat, paf = separated_scene(n_people)
    config = getattr(DecoderConfig, preset)()
    poses = make_decoder(COCO, config, assignment=assignment)(heat, paf)
    assert len(poses) == n_people
    for truth, found in match_people(people, poses.keypoints):
        visible = truth[:, 2] > 0
        assert found is not None
        assert (found[visible, 2] > 0).all(), "a visible keypoint went missing"
        assert (found[~visible, 2] == 0).all(), "a hidden keypoint was invented"
        error = np.abs(found[visible, :2] - truth[visible, :2]) / STRIDE
        assert error.max() <= 0.5, f"keypoint off by {error.max():.3f} map pixels"


def test_round_trip_body25(make_decoder):
    people, heat, paf = separated_scene(3, skeleton=Skeleton.body25(), height=800.0)
    poses = make_decoder(Skeleton.body25())(heat, paf)
    assert len(poses) == 3
    for truth, found in match_people(people, poses.keypoints):
        visible = truth[:, 2] > 0
        assert np.abs(found[visible, :2] - truth[visible, :2]).max() / STRIDE <= 0.5


def test_coordinate_convention(make_decoder):
    """Map cell (gx, gy) is the image point ((gx + 0.5) * s - 0.5, (gy + 0.5) * s - 0.5):
    a limb rendered between two sub-pixel map points comes back at exactly that
    image point."""
    skeleton = Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])
    stride = 4
    map_points = np.array([[5.3, 6.25], [12.6, 6.7], [20.2, 7.1]])
    image_points = (map_points + 0.5) * stride - 0.5
    people = np.concatenate([image_points, np.full((3, 1), 2.0)], axis=1)[None]
    heat, paf = synth.render_fields(people, skeleton, (60, 120), stride=stride)
    poses = make_decoder(skeleton, stride=stride)(heat, paf)
    assert len(poses) == 1
    np.testing.assert_allclose(poses.keypoints[0, :, :2], image_points, atol=0.02 * stride)
    np.testing.assert_allclose(synth.image_to_map(poses.keypoints[0, :, :2], stride),
                               map_points, atol=0.02)


def coco_scene(n=12, seed=5):
    return synth.crowd_scene(n, seed, noise=0.02, peak_variation=0.2, occlusion=0.05)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_other_float_dtypes_decode_like_float32(make_decoder, dtype):
    scene = coco_scene()
    decoder = make_decoder(COCO)
    want = decoder(scene.heatmaps.astype(dtype).astype(np.float32),
                   scene.pafs.astype(dtype).astype(np.float32))
    got = decoder(scene.heatmaps.astype(dtype), scene.pafs.astype(dtype))
    np.testing.assert_array_equal(got.keypoints, want.keypoints)
    np.testing.assert_array_equal(got.scores, want.scores)


def test_layouts_and_strides_agree(make_decoder):
    scene = coco_scene()
    want = make_decoder(COCO)(scene.heatmaps, scene.pafs)
    assert len(want) > 5
    hwc = make_decoder(COCO, layout="HWC")
    got = hwc(np.ascontiguousarray(scene.heatmaps.transpose(1, 2, 0)),
              np.ascontiguousarray(scene.pafs.transpose(1, 2, 0)))
    np.testing.assert_array_equal(got.keypoints, want.keypoints)
    # A 57-channel NHWC blob sliced in place, as tf-pose's output is used.
    blob = np.concatenate([scene.heatmaps, np.zeros_like(scene.heatmaps[:1]), scene.pafs])
    blob = np.ascontiguousarray(blob.transpose(1, 2, 0))
    got = hwc(blob[:, :, :19], blob[:, :, 19:])
    np.testing.assert_array_equal(got.keypoints, want.keypoints)
    # Every other column of a wider map.
    wide_h = np.zeros(scene.heatmaps.shape[:2] + (2 * scene.heatmaps.shape[2],), np.float32)
    wide_p = np.zeros(scene.pafs.shape[:2] + (2 * scene.pafs.shape[2],), np.float32)
    wide_h[:, :, ::2] = scene.heatmaps
    wide_p[:, :, ::2] = scene.pafs
    got = make_decoder(COCO)(wide_h[:, :, ::2], wide_p[:, :, ::2])
    np.testing.assert_array_equal(got.keypoints, want.keypoints)


def test_background_channel_is_ignored(make_decoder):
    scene = synth.crowd_scene(6, 2, background=True)
    assert scene.heatmaps.shape[0] == 19
    got = make_decoder(COCO)(scene.heatmaps, scene.pafs)
    want = make_decoder(COCO)(scene.heatmaps[:18], scene.pafs)
    np.testing.assert_array_equal(got.keypoints, want.keypoints)


def test_batch_equals_frames(make_decoder):
    scenes = [synth.crowd_scene(n, 10 + n) for n in (0, 1, 7, 25)]
    decoder = make_decoder(COCO, assignment="hungarian")
    batch = decoder.decode_batch(np.stack([s.heatmaps for s in scenes]),
                                 np.stack([s.pafs for s in scenes]))
    assert len(batch) == 4
    for scene, poses in zip(scenes, batch):
        single = decoder(scene.heatmaps, scene.pafs)
        np.testing.assert_array_equal(poses.keypoints, single.keypoints)
        np.testing.assert_array_equal(poses.scores, single.scores)
        assert poses.stats == single.stats
    assert decoder.decode_batch(np.zeros((0, 18, 4, 4), np.float32),
                                np.zeros((0, 38, 4, 4), np.float32)) == []


def test_poses_contract(make_decoder):
    scene = coco_scene()
    poses = make_decoder(COCO)(scene.heatmaps, scene.pafs)
    assert isinstance(poses, Poses)
    assert poses.keypoints.dtype == np.float32 and poses.scores.dtype == np.float32
    assert poses.keypoints.shape == (len(poses), 18, 3)
    assert (np.diff(poses.scores) <= 0).all(), "people come best first"
    missing = poses.keypoints[:, :, 2] == 0
    assert (poses.keypoints[missing][:, :2] == 0).all()
    found = (poses.keypoints[:, :, 2] > 0).sum(1)
    assert (found >= 3).all()
    # score = mean evidence x share of keypoints found; the mean passed the 0.2 filter
    assert (poses.scores * 18 / found >= 0.2 - 1e-6).all()
    assert (poses.scores <= found / 18 * 2.0).all()
    assert set(poses.stats) == {"peaks", "candidates", "connections", "people"}
    coco = poses.to_coco(42)
    assert len(coco) == len(poses)
    assert coco[0]["image_id"] == 42 and coco[0]["category_id"] == 1
    # COCO-17 by default (OpenPose's neck dropped, the rest in COCO's order).
    assert len(coco[0]["keypoints"]) == 51
    nose, r_shoulder = poses.keypoints[0, 0], poses.keypoints[0, 2]
    assert coco[0]["keypoints"][:3] == pytest.approx(nose.tolist())
    assert coco[0]["keypoints"][6 * 3:6 * 3 + 3] == pytest.approx(r_shoulder.tolist())
    assert len(poses.to_coco(42, keypoints="native")[0]["keypoints"]) == 54
    assert coco[0]["score"] == pytest.approx(float(poses.scores[0]))


def test_filters(make_decoder):
    scene = coco_scene(20, 3)
    loose = make_decoder(COCO, min_keypoints=1, min_person_score=0.0)(scene.heatmaps, scene.pafs)
    strict = make_decoder(COCO, min_keypoints=10, min_person_score=0.5)(scene.heatmaps,
                                                                         scene.pafs)
    counts = (strict.keypoints[:, :, 2] > 0).sum(1)
    assert (counts >= 10).all() and (strict.scores * 18 / counts >= 0.5 - 1e-6).all()
    assert len(loose) > len(strict)


def test_max_peaks_caps_each_channel(make_decoder):
    scene = synth.crowd_scene(30, 4)
    for shared, holders in ((None, 1), (0.3, 2)):
        poses = make_decoder(COCO, max_peaks=5, min_keypoints=1,
                             shared_peak_score=shared)(scene.heatmaps, scene.pafs)
        assert poses.stats["peaks"] <= 5 * 18
        # A peak has one holder (two when shared): no more keypoints than that allows.
        assert (poses.keypoints[:, :, 2] > 0).sum(0).max() <= 5 * holders


def test_oks_nms_drops_a_person_who_repeats_a_better_one():
    a = np.array(synth.crowd_scene(1, 3).people[0])
    a[:, 2] = 0.9
    near = a.copy()
    near[:, :2] += 1.5  # the same person found twice, 1.5 px apart
    far = a.copy()
    far[:, 0] += 300.0
    people = np.stack([a, near, far]).astype(np.float32)
    poses = Poses(people, np.array([0.9, 0.8, 0.7], np.float32), COCO, {"people": 3})
    # The truth, computed independently: COCO's OKS of `near` against `a`.
    found = a[:, 2] > 0
    area = np.ptp(a[found, 0]) * np.ptp(a[found, 1])
    e = (1.5 ** 2 * 2) / (2 * COCO.sigmas[found]) ** 2 / (area + np.spacing(1)) / 2
    oks_near = float(np.exp(-e).mean())
    assert 0.9 < oks_near < 1.0
    kept = postprocess.oks_nms(poses, 0.9)
    assert kept.keypoints.tolist() == people[[0, 2]].tolist()
    assert kept.scores.tolist() == pytest.approx([0.9, 0.7]) and kept.stats["people"] == 2
    assert len(postprocess.oks_nms(poses, min(1.0, oks_near + 1e-6))) == 3
    assert len(postprocess.oks_nms(poses, oks_near - 1e-6)) == 2
    empty = postprocess.oks_nms(Poses(people[:0], np.zeros(0, np.float32), COCO), 0.5)
    assert empty.keypoints.shape == (0, 18, 3)


def test_oks_nms_memory_does_not_grow_with_people_squared():
    # 3000 people of 18 keypoints: a P x P x K float64 array would be 1.3 GB.
    rng = np.random.default_rng(0)
    people = np.zeros((3000, 18, 3), np.float32)
    people[:, :, :2] = rng.uniform(0, 5000, (3000, 1, 2)) + rng.uniform(0, 50, (3000, 18, 2))
    people[:, :, 2] = 1.0
    poses = Poses(people, np.linspace(1, 0, 3000, dtype=np.float32), COCO)
    import tracemalloc
    tracemalloc.start()
    kept = postprocess.oks_nms(poses, 0.5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100e6 and 0 < len(kept) <= 3000


def test_oks_nms_keeps_distinct_people(make_decoder):
    scene = synth.crowd_scene(20, 8)
    plain = make_decoder(COCO)(scene.heatmaps, scene.pafs)
    pruned = postprocess.oks_nms(plain, 0.9)
    assert len(pruned) <= len(plain) and pruned.stats["people"] == len(pruned)
    # Whatever it keeps is what the plain decode found, in the same order.
    kept = [next(i for i in range(len(plain)) if np.array_equal(plain.keypoints[i], p))
            for p in pruned.keypoints]
    assert kept == sorted(kept)


def two_people_one_knee_peak():
    """Two people side by side whose right knees stand 4 px apart: one peak for both."""
    a = np.array(synth.crowd_scene(1, 3).people[0])
    b = a.copy()
    b[:, 0] += 48.0
    b[9, :2] = a[9, :2] + (4.0, 0.0)  # COCO-18 keypoint 9: right knee
    people = np.stack([a, b])
    heat, paf = synth.render_fields(people, COCO, (368, 656), stride=STRIDE)
    return people, heat, paf


def match(poses, truth):
    """The decoded person closest to `truth` (largest keypoint error smallest)."""
    errors = [np.nanmax(np.where(q[:, 2] > 0, np.hypot(*(q[:, :2] - truth[:, :2]).T), np.nan))
              for q in poses.keypoints]
    return poses.keypoints[int(np.argmin(errors))]


def test_shared_peak_gives_both_people_their_merged_knee(make_decoder):
    people, heat, paf = two_people_one_knee_peak()
    # Without fragment joining, which would give the ankle back another way, and without
    # the limb length prior: moving b's knee beside a's stretches b's thigh 2.2 times,
    # which the prior (1.2) rightly penalises.
    alone = make_decoder(COCO, shared_peak_score=None, join_fragments=None,
                         limb_length_prior=None)(heat, paf)
    shared = make_decoder(COCO, join_fragments=None, limb_length_prior=None)(heat, paf)
    assert len(alone) == len(shared) == 2
    # Without sharing, one of them loses the knee and the ankle that hangs from it.
    assert sorted((alone.keypoints[:, :, 2] > 0).sum(1).tolist()) == [16, 18]
    for truth in people:
        person = match(shared, truth)
        assert (person[:, 2] > 0).all()
        error = np.hypot(*(person[:, :2] - truth[:, :2]).T)
        assert error[9] < STRIDE  # the shared peak sits between the two knees
        assert np.delete(error, 9).max() < 0.5 * STRIDE


def test_max_limb_length_drops_long_limbs(make_decoder):
    people, heat, paf = separated_scene(1)
    truth = people[0]
    full = make_decoder(COCO)(heat, paf)
    limbs = COCO.limbs
    lengths = [np.hypot(*(truth[b, :2] - truth[a, :2])) for a, b in limbs
               if truth[a, 2] > 0 and truth[b, 2] > 0]
    limit = float(np.median(lengths))
    short = make_decoder(COCO, max_limb_length=limit, min_keypoints=1)(heat, paf)
    assert short.stats["candidates"] < full.stats["candidates"]
    assert short.stats["candidates"] == sum(1 for x in lengths if x <= limit)


def test_nan_patch_does_not_spread(make_decoder):
    people, heat, paf = separated_scene(3)
    want = make_decoder(COCO)(heat, paf)
    # Poison a corner that holds no keypoint and no limb.
    empty = (heat.max(0) < 1e-3) & (np.abs(paf).max(0) == 0)
    ys, xs = np.nonzero(empty)
    heat[:, ys[:20], xs[:20]] = np.nan
    paf[:, ys[:20], xs[:20]] = np.inf
    got = make_decoder(COCO)(heat, paf)
    np.testing.assert_array_equal(got.keypoints, want.keypoints)


def test_gil_is_released_and_threads_agree(make_decoder):
    scenes = [synth.crowd_scene(n, 100 + n, noise=0.03) for n in (5, 20, 40, 60)]
    decoder = make_decoder(COCO, assignment="hungarian")
    want = [decoder(s.heatmaps, s.pafs) for s in scenes]
    results = {}
    errors = []

    def work(worker):
        try:
            for rep in range(15):
                i = (worker + rep) % len(scenes)
                got = decoder(scenes[i].heatmaps, scenes[i].pafs)
                results.setdefault(worker, []).append((i, got))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for runs in results.values():
        for i, got in runs:
            np.testing.assert_array_equal(got.keypoints, want[i].keypoints)
            np.testing.assert_array_equal(got.scores, want[i].scores)


def with_hidden(people, heat, hidden):
    """The people with the given (person, keypoint) pairs hidden, and their fields
    rendered again at the same size."""
    people = people.copy()
    for p, k in hidden:
        people[p, k] = 0
    size = (heat.shape[1] * STRIDE, heat.shape[2] * STRIDE)
    heat, paf = synth.render_fields(people, COCO, size, stride=STRIDE)
    return people, heat, paf


def test_join_fragments_rejoins_a_person_cut_by_hidden_joints(make_decoder):
    # A hidden neck cuts the hips (and the legs below them) from the upper body, and
    # a hidden right elbow leaves the right wrist without a limb.
    people, heat, _ = separated_scene(1)
    neck, r_elbow = COCO.keypoints.index("neck"), COCO.keypoints.index("r_elbow")
    assert people[0, [neck, r_elbow, 8, 11, 4], 2].all()
    people, heat, paf = with_hidden(people, heat, [(0, neck), (0, r_elbow)])
    truth = people[0]
    visible = truth[:, 2] > 0
    pieces = make_decoder(COCO, join_fragments=None, min_keypoints=1)(heat, paf)
    assert len(pieces) >= 2
    assert (pieces.keypoints[:, :, 2] > 0).sum() < visible.sum()  # the wrist is lost
    joined = make_decoder(COCO, join_fragments=0.6, min_keypoints=1)(heat, paf)
    assert len(joined) == 1
    person = joined.keypoints[0]
    assert np.array_equal(person[:, 2] > 0, visible)
    assert np.hypot(*(person[visible, :2] - truth[visible, :2]).T).max() < 0.5 * STRIDE
    # Joined people bring their evidence: the one person outscores every piece.
    assert joined.scores[0] > pieces.scores.max()


def test_join_fragments_gives_each_fragment_to_its_own_person(make_decoder):
    people, heat, _ = separated_scene(3)
    hidden = [(p, COCO.keypoints.index(k)) for p, k in
              [(0, "neck"), (1, "l_elbow"), (2, "r_knee"), (2, "l_shoulder")]]
    assert all(people[p, k, 2] > 0 for p, k in hidden)
    people, heat, paf = with_hidden(people, heat, hidden)
    joined = make_decoder(COCO, join_fragments=0.6, min_keypoints=1)(heat, paf)
    assert len(joined) == 3
    for truth, person in match_people(people, joined.keypoints):
        visible = truth[:, 2] > 0
        assert person is not None and np.array_equal(person[:, 2] > 0, visible)


def test_join_fragments_needs_hidden_joints_between(make_decoder):
    # Two whole people side by side: nothing is missing, so nothing may join, and
    # the result is the same as without the option.
    people, heat, paf = separated_scene(2)
    plain = make_decoder(COCO, join_fragments=None, min_keypoints=1)(heat, paf)
    joined = make_decoder(COCO, join_fragments=1.0, min_keypoints=1)(heat, paf)
    np.testing.assert_array_equal(joined.keypoints, plain.keypoints)
    np.testing.assert_array_equal(joined.scores, plain.scores)
