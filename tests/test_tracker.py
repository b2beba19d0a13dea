import importlib.util
import math

import numpy as np
import pytest

import pafdecode
from pafdecode import Decoder, Poses, Skeleton, Tracker, metrics, mot
from pafdecode.backends import load_backend
from pafdecode.tracker import _AGE, OneEuroFilter, track_similarity

pytestmark = pytest.mark.video
SK = Skeleton.openpose_coco18()
K = SK.num_keypoints


def _poses(keypoints, scores=None):
    kp = np.asarray(keypoints, np.float32).reshape(-1, K, 3)
    scores = np.ones(len(kp), np.float32) if scores is None else np.asarray(scores, np.float32)
    return Poses(kp, scores, SK)


def _person(x, y, height=100.0):
    """A frontal stick figure standing at (x, y) (its top): every keypoint present."""
    crowd = pafdecode.synth.crowd_scene(1, 3, image_size=(400, 400), height_range=(height, height))
    kp = crowd.people[0].copy()
    kp[:, :2] += np.array([x, y]) - kp[:, :2].min(axis=0)
    kp[:, 2] = 1.0
    return kp


def _truth_poses(people, rng, shuffle=True):
    """True people as a decoder would give them: hidden keypoints zeroed, order shuffled."""
    kp = np.array(people, np.float32)
    kp[kp[..., 2] <= 0] = 0
    kp[..., 2] = np.where(kp[..., 2] > 0, 0.9, 0)
    keep = np.flatnonzero((kp[..., 2] > 0).any(axis=1))
    order = rng.permutation(keep) if shuffle else keep
    return _poses(kp[order]), order


# -- Poses ---------------------------------------------------------------------------

def test_poses_default_to_untracked():
    p = _poses(np.zeros((2, K, 3)))
    assert p.track_ids.dtype == np.int64 and p.track_ids.tolist() == [-1, -1]
    with pytest.raises(ValueError, match="track_ids"):
        Poses(p.keypoints, p.scores, SK, track_ids=[1, 2, 3])


def test_decoder_output_is_untracked():
    scene = pafdecode.synth.crowd_scene(3, 0)
    poses = Decoder(SK)(scene.heatmaps, scene.pafs)
    assert len(poses) == 3 and (poses.track_ids == -1).all()


# -- similarity and assignment -------------------------------------------------------

def test_similarity_is_coco_oks_when_both_have_every_keypoint(rng):
    tracks = np.stack([_person(50, 20), _person(200, 40)])
    people = tracks + np.concatenate([rng.normal(0, 4, tracks[..., :2].shape),
                                      np.zeros(tracks[..., 2:].shape)], axis=-1)
    areas = np.array([5000.0, 7000.0])
    ours = track_similarity(tracks[..., :2], np.ones((2, K), bool), people, SK.sigmas, areas)
    coco = metrics.oks(people, tracks, areas, SK.sigmas)          # (people, tracks)
    np.testing.assert_allclose(ours, coco.T, rtol=1e-12)


def test_similarity_counts_the_union_of_keypoints():
    track = _person(50, 20)
    known = np.ones((1, K), bool)
    known[0, :4] = False                   # the track does not know keypoints 0..3
    person = track.copy()
    person[4:8] = 0                        # the person lacks 4..7; 0..3 found, 8.. agree
    sim = track_similarity(track[None, :, :2], known, person[None], SK.sigmas, [1000.0])
    # Common keypoints 8..17 sit exactly on the track (exp(0) = 1); the union is all 18.
    assert sim[0, 0] == pytest.approx((K - 8) / K)


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (8, 2)])
def test_assignment_kernel_matches_scipy(backend, shape, rng):
    scipy_opt = pytest.importorskip("scipy.optimize")
    cost = 1.0 - rng.random(shape) * (rng.random(shape) > 0.3)
    col = load_backend(backend).linear_sum_assignment(cost)
    rows, cols = scipy_opt.linear_sum_assignment(cost)
    assert (col >= 0).sum() == min(shape)
    assert cost[np.flatnonzero(col >= 0), col[col >= 0]].sum() == pytest.approx(
        cost[rows, cols].sum())


# -- identities ----------------------------------------------------------------------

def test_identities_follow_shuffled_people_and_ids_are_new_only_for_new_people(rng):
    crowd = mot.walking_crowd(6, 30, 5, occlusion=0.0)
    tracker = Tracker(SK, min_hits=1)
    seen = {}
    for f in range(30):
        poses, order = _truth_poses(crowd.people[f], rng)
        out = tracker.update(poses)
        np.testing.assert_array_equal(out.keypoints, poses.keypoints)
        for true_id, tid in zip(order, out.track_ids):
            assert seen.setdefault(int(true_id), int(tid)) == tid
    assert sorted(seen.values()) == list(range(6))


def test_a_person_hidden_for_a_moment_gets_the_same_id_back(rng):
    a, b = _person(40, 50), _person(250, 50)
    step = np.array([3.0, 0.0, 0.0])
    tracker = Tracker(SK, max_age=10, min_hits=1)
    ids = []
    for f in range(30):
        people = [b + 0 * step] + ([] if 10 <= f < 18 else [a + f * step])
        out = tracker.update(_poses(people))
        ids.append(out.track_ids.tolist())
    assert all(i == [ids[0][0], ids[0][1]] for i in ids[:10])
    assert all(i == [ids[0][0]] for i in ids[10:18])
    assert all(i == ids[0] for i in ids[18:]), "the walker's id must come back"


def test_max_age_zero_forgets_at_once():
    a = _person(40, 50)
    tracker = Tracker(SK, max_age=0, min_hits=1)
    first = tracker.update(_poses([a])).track_ids[0]
    tracker.update(_poses(np.zeros((0, K, 3))))
    assert tracker.update(_poses([a])).track_ids[0] == first + 1


def test_min_hits_holds_back_new_ids():
    a, b = _person(40, 50), _person(250, 50)
    tracker = Tracker(SK, min_hits=3)
    # During the first min_hits frames new people are confirmed at once.
    assert tracker.update(_poses([a])).track_ids.tolist() == [0]
    for _ in range(3):
        tracker.update(_poses([a]))
    got = [tracker.update(_poses([a, b])).track_ids.tolist() for _ in range(4)]
    assert got == [[0, -1], [0, -1], [0, 1], [0, 1]]


def test_prediction_keeps_crossing_walkers_apart():
    # Two identical people walk through each other in opposite directions at 12 px per
    # frame: nothing but their motion tells them apart. With the constant-velocity
    # prediction they keep their ids; matched where they were last seen (motion=None)
    # each track takes the other walker once they have passed the middle.
    a0, b0 = _person(20, 50), _person(260, 50)
    seen = {}
    for motion in ("constant_velocity", None):
        tracker = Tracker(SK, motion=motion, min_hits=1)
        ids = []
        for f in range(22):
            a = a0 + np.array([12.0 * f, 0, 0])
            b = b0 - np.array([12.0 * f, 0, 0])
            ids.append(tuple(tracker.update(_poses([a, b])).track_ids.tolist()))
        seen[motion] = ids
    assert set(seen["constant_velocity"]) == {(0, 1)}
    assert seen[None][0] == (0, 1) and seen[None][-1] == (1, 0)


def test_confirmed_tracks_are_matched_before_tentative_ones():
    # Frames 0-2 confirm A's track; in frame 3 B appears 6 px away (a tentative
    # track); in frame 4 only B is there. B is closer to its own tentative track, but
    # the confirmed track is matched first and keeps its identity on B.
    a, b = _person(100, 50), _person(106, 50)
    tracker = Tracker(SK, min_hits=2)
    for _ in range(3):
        assert tracker.update(_poses([a])).track_ids.tolist() == [0]
    assert tracker.update(_poses([a, b])).track_ids.tolist() == [0, -1]
    assert tracker.update(_poses([b])).track_ids.tolist() == [0]
    assert tracker.num_tracks == 1


def test_a_keypoint_that_moved_for_good_is_learnt_again():
    # A still person raises a wrist 60 px for good: for a few frames the track takes
    # the jump for a decoding error and keeps its estimate, then it learns the new one.
    wrist = SK.keypoints.index("r_wrist")
    still = _person(100, 50)
    raised = still.copy()
    raised[wrist, 1] -= 60.0
    tracker = Tracker(SK, min_hits=1)
    for _ in range(5):
        tracker.update(_poses([still]))
    for f in range(20):
        assert tracker.update(_poses([raised])).track_ids.tolist() == [0]
        estimate = tracker.predicted(tracker._time)[0, wrist]
        if f < 3:
            np.testing.assert_allclose(estimate, still[wrist, :2], atol=1e-6)
    np.testing.assert_allclose(estimate, raised[wrist, :2], atol=1e-6)


def test_smoothing_shows_a_never_learnt_keypoint_raw_on_an_ambiguous_match():
    # The track never saw the wrist; then two nearly identical people stand where it
    # is: the match is ambiguous, the track learns nothing, yet the person it shows
    # keeps the wrist as decoded rather than a filtered value it never had.
    wrist = SK.keypoints.index("r_wrist")
    a = _person(100, 50)
    hidden = a.copy()
    hidden[wrist] = 0.0
    tracker = Tracker(SK, min_hits=1, smoothing="one_euro")
    for _ in range(5):
        tracker.update(_poses([hidden]))
    twin = a + np.array([2.0, 0, 0])
    out = tracker.update(_poses([a, twin]))
    mine = np.flatnonzero(out.track_ids == 0)
    assert len(mine) == 1
    np.testing.assert_allclose(out.keypoints[mine[0], wrist], [a, twin][mine[0]][wrist],
                               atol=1e-4)
    assert np.isinf(tracker._planes[0, _AGE, wrist]), "an ambiguous match teaches the track nothing"


def test_a_fragment_of_a_tracked_person_is_followed_but_shown_without_the_id():
    # A whole person for 5 frames, then only head and shoulders (8 of 18 keypoints,
    # below half the track's usual count) for 3, then whole again: the fragment keeps the track
    # alive but is shown with -1; with min_keypoint_share=0 it is shown with the id.
    head = [SK.keypoints.index(n) for n in ("nose", "neck", "r_eye", "l_eye", "r_ear",
                                            "l_ear", "r_shoulder", "l_shoulder")]
    whole = _person(100, 50)
    fragment = np.zeros_like(whole)
    fragment[head] = whole[head]
    frames = [whole] * 5 + [fragment] * 3 + [whole] * 3
    for share, during in ((0.5, -1), (0.0, 0)):
        tracker = Tracker(SK, min_hits=1, min_keypoint_share=share)
        ids = [tracker.update(_poses([kp])).track_ids[0] for kp in frames]
        assert ids == [0] * 5 + [during] * 3 + [0] * 3
        assert tracker.num_tracks == 1


def test_a_keypoint_a_rival_track_predicts_better_is_not_learnt():
    # Two still people 10 px apart (each track's similarity to the other person, 0.42,
    # passes match_threshold: a rival); in frame 5 the decoder gives A the right wrist
    # of B (near enough to A's own to pass the far-keypoint guard, and the match itself
    # is clear). B's track predicts that wrist better than A's, so A's track keeps its
    # own estimate; the rest of A's keypoints are learnt as usual.
    wrist = SK.keypoints.index("r_wrist")
    a = _person(100, 50)
    b = a + np.array([10.0, 0, 0])
    mixed = a.copy()
    mixed[wrist] = b[wrist]
    moved = mixed + np.array([0.0, 1.0, 0.0])            # every keypoint 1 px lower
    tracker = Tracker(SK, min_hits=1, motion=None)
    for _ in range(5):
        assert tracker.update(_poses([a, b])).track_ids.tolist() == [0, 1]
    assert tracker.update(_poses([moved, b])).track_ids.tolist() == [0, 1]
    estimate = tracker.predicted(tracker._time)[0]
    np.testing.assert_allclose(estimate[wrist], a[wrist, :2], atol=1e-6)
    others = np.arange(K) != wrist
    np.testing.assert_allclose(estimate[others], moved[others, :2], atol=1e-6)


def test_a_person_scoring_far_below_the_stream_is_followed_but_shown_without_the_id():
    # A whole person scoring 0.9 for 5 frames, then 0.3 (below half the stream's usual
    # score) for 3, then 0.9 again: the low-scored frames keep the track but show -1;
    # with min_score_share=0 they show the id. The share is
    # relative to the stream: every score halved gives the same ids.
    kp = _person(100, 50)
    scores = [0.9] * 5 + [0.3] * 3 + [0.9] * 3
    for share, scale, during in ((0.5, 1.0, -1), (0.5, 0.5, -1), (0.0, 1.0, 0)):
        tracker = Tracker(SK, min_hits=1, min_score_share=share)
        ids = [tracker.update(_poses([kp], [scale * s])).track_ids[0] for s in scores]
        assert ids == [0] * 5 + [during] * 3 + [0] * 3
        assert tracker.num_tracks == 1


def test_update_validates_input():
    tracker = Tracker(SK)
    with pytest.raises(ValueError, match="poses must be a pafdecode.Poses"):
        tracker.update(np.zeros((1, K, 3)))
    with pytest.raises(ValueError, match=r"shape \(P, 18, 3\)"):
        tracker.update(Poses(np.zeros((1, 5, 3), np.float32), np.ones(1, np.float32), SK))
    tracker.update(_poses([_person(10, 10)]), timestamp=1.0)
    with pytest.raises(ValueError, match="timestamp must increase"):
        tracker.update(_poses([_person(10, 10)]), timestamp=1.0)


@pytest.mark.parametrize("option, value, message", [
    ("match_threshold", 0.0, "match_threshold"), ("match_threshold", 1.5, "match_threshold"),
    ("max_age", -1, "max_age"), ("max_age", 2.5, "max_age"), ("min_hits", 0, "min_hits"),
    ("motion", "kalman", "motion"), ("smoothing", "gauss", "smoothing"),
    ("min_cutoff", 0.0, "min_cutoff"), ("beta", -1.0, "beta"), ("d_cutoff", -2.0, "d_cutoff"),
    ("fps", 0, "fps"), ("sigmas", [0.1] * 3, "sigmas"), ("backend", "gpu", "backend"),
    ("min_keypoint_share", 1.5, "min_keypoint_share"),
    ("min_score_share", -0.1, "min_score_share"), ("min_score_share", 2.0, "min_score_share"),
])
def test_options_are_validated(option, value, message):
    with pytest.raises(ValueError, match=message):
        Tracker(SK, **{option: value})
    with pytest.raises(ValueError, match="skeleton"):
        Tracker("coco")


# -- 1-Euro filter -------------------------------------------------------------------

def _one_euro_by_hand(xs, dt, min_cutoff, beta, d_cutoff):
    """Casiez et al.'s filter written out sample by sample, scalars only."""
    def alpha(fc):
        tau = 1.0 / (2 * math.pi * fc)
        return 1.0 / (1.0 + tau / dt)
    out, x_hat, dx_hat = [], None, 0.0
    for x in xs:
        if x_hat is None:
            x_hat = x
        else:
            dx = (x - x_hat) / dt
            dx_hat = alpha(d_cutoff) * dx + (1 - alpha(d_cutoff)) * dx_hat
            a = alpha(min_cutoff + beta * abs(dx_hat))
            x_hat = a * x + (1 - a) * x_hat
        out.append(x_hat)
    return np.array(out)


def test_one_euro_step_response_follows_the_definition():
    xs = np.r_[np.zeros(5), np.full(60, 10.0)]
    f = OneEuroFilter((1,), min_cutoff=1.0, beta=0.0, d_cutoff=1.0)
    got = np.array([f([x], i / 30)[0] for i, x in enumerate(xs)])
    np.testing.assert_allclose(got, _one_euro_by_hand(xs, 1 / 30, 1.0, 0.0, 1.0), rtol=1e-12)
    # With beta = 0 it is a first-order low-pass: after the step the error shrinks by
    # (1 - alpha) every sample.
    alpha = 1.0 / (1.0 + 30 / (2 * math.pi))
    np.testing.assert_allclose(10 - got[5:], 10 * (1 - alpha) ** np.arange(1, 61), rtol=1e-9)


def test_one_euro_ramp_lag_is_bounded_by_one_over_two_pi_beta():
    beta, dt = 0.05, 1 / 30
    for speed in (30.0, 300.0, 3000.0):          # pixels per second
        xs = speed * dt * np.arange(300)
        f = OneEuroFilter((1,), min_cutoff=1.0, beta=beta, d_cutoff=1.0)
        got = np.array([f([x], i * dt)[0] for i, x in enumerate(xs)])
        np.testing.assert_allclose(got, _one_euro_by_hand(xs, dt, 1.0, beta, 1.0), rtol=1e-9)
        lag = xs[-1] - got[-1]
        # Steady state of the recursion: lag L = v * tau(cutoff) with the speed estimate
        # (x - x_hat_prev) / dt = v + L / dt, so cutoff = 1 + beta (v + L / dt).
        expected = 0.0
        for _ in range(200):
            expected = speed / (2 * math.pi * (1.0 + beta * (speed + expected / dt)))
        assert lag == pytest.approx(expected, rel=0.02)
        assert lag < 1 / (2 * math.pi * beta)


def test_one_euro_mask_leaves_missing_samples_alone():
    f = OneEuroFilter((2,))
    f([1.0, 5.0], 0.0)
    out = f([3.0, 100.0], 0.1, mask=[True, False])
    assert out[1] == 5.0 and 1.0 < out[0] < 3.0
    with pytest.raises(ValueError, match="t must be later"):
        f([0.0, 0.0], 0.1)


def test_smoothing_lowers_jitter_of_a_still_person_and_bounds_lag_of_a_walker():
    rng = np.random.default_rng(4)
    still = _person(100, 50)
    raw, smooth = Tracker(SK, min_hits=1), Tracker(SK, min_hits=1, smoothing="one_euro")
    noisy_out, smooth_out = [], []
    for f in range(90):
        kp = still.copy()
        kp[:, :2] += rng.normal(0, 2.0, (K, 2))
        kp[3, :] = 0 if f % 7 == 0 else kp[3, :]          # a keypoint that comes and goes
        noisy_out.append(raw.update(_poses([kp])).keypoints[0])
        got = smooth.update(_poses([kp])).keypoints[0]
        if f % 7 == 0:
            assert (got[3] == 0).all(), "a missing keypoint must stay missing"
        smooth_out.append(got)
    err_raw = np.std(np.array(noisy_out)[30:, 4:, :2] - still[None, 4:, :2])
    err_smooth = np.std(np.array(smooth_out)[30:, 4:, :2] - still[None, 4:, :2])
    assert err_smooth < 0.5 * err_raw
    # A walker at 6 px per frame (180 px/s): lag below 1 / (2 pi beta) = 3.2 px.
    walker = Tracker(SK, min_hits=1, smoothing="one_euro")
    for f in range(60):
        kp = still + np.array([6.0 * f, 0, 0])
        got = walker.update(_poses([kp])).keypoints[0]
    lag = (kp[:, 0] - got[:, 0]).mean()
    assert 0 < lag < 1 / (2 * math.pi * 0.05)


# -- moving crowds: identities scored against the truth ------------------------------

def test_score_tracking_on_hand_made_cases():
    pytest.importorskip("motmetrics")
    a, b = _person(20, 20), _person(250, 20)
    truth = np.stack([np.stack([a, b])] * 4)                  # 4 frames, 2 people
    perfect = [(np.stack([a, b]), np.array([7, 9]))] * 4
    s = mot.score_tracking(truth, perfect, SK.sigmas)
    assert (s["mota"], s["idf1"], s["switches"], s["tracks"]) == (1.0, 1.0, 0, 2)
    # Ids swap after two frames: 2 switches; the best identity mapping keeps 2 of 4
    # frames per person, IDF1 = 2 * 4 / (8 + 8) = 0.5; MOTA = 1 - 2 / 8.
    swapped = perfect[:2] + [(np.stack([a, b]), np.array([9, 7]))] * 2
    s = mot.score_tracking(truth, swapped, SK.sigmas)
    assert s["switches"] == 2 and s["idf1"] == pytest.approx(0.5)
    assert s["mota"] == pytest.approx(0.75)
    # Person b missed in the last frame; an untracked (-1) person is not counted.
    missing = perfect[:3] + [(np.stack([a, b]), np.array([7, -1]))]
    s = mot.score_tracking(truth, missing, SK.sigmas)
    assert s["misses"] == 1 and s["mota"] == pytest.approx(7 / 8)
    assert s["idf1"] == pytest.approx(2 * 7 / (8 + 7))


def test_identity_errors_on_hand_made_cases():
    a, b, c = _person(20, 20), _person(250, 20), _person(20, 250)
    truth = np.stack([np.stack([a, b, c])] * 4)                # 4 frames, 3 people
    truth[:, 2, :, 2] = 0                                      # c absent...
    truth[3, 2, :, 2] = 2                                      # ...but in the last frame
    far = _person(300, 300)                                    # covers nobody
    tracked = ([(np.stack([a, b]), np.array([7, 9]))] * 2      # right ids
               + [(np.stack([a, b, far]), np.array([9, 7, 4]))]  # swapped, a stray
               + [(np.stack([a, b]), np.array([7, -1]))])      # b withheld, c undecoded
    e = mot.identity_errors(truth, tracked, SK.sigmas)
    # 9 true person-frames, 8 with ids; ids 7 -> a and 9 -> b count frames 0, 1 and a's 3.
    assert (e["objects"], e["detections"], e["idtp"]) == (9, 8, 5)
    assert (e["fn_undecoded"], e["fn_withheld"], e["fn_other_id"]) == (1, 1, 2)
    assert (e["fp_no_person"], e["fp_other_person"]) == (1, 2)
    assert e["idf1"] == pytest.approx(2 * 5 / (9 + 8))
    if importlib.util.find_spec("motmetrics"):
        assert mot.score_tracking(truth, tracked, SK.sigmas)["idf1"] == pytest.approx(e["idf1"])


def test_identity_errors_agree_with_motmetrics_on_a_tracked_crowd():
    pytest.importorskip("motmetrics")
    crowd = mot.walking_crowd(12, 30, 21, occlusion=0.1)
    decoder = Decoder(SK)
    out = mot.track_scenes(crowd, Tracker(SK, motion=None, max_age=0, min_hits=1), decoder)
    e = mot.identity_errors(crowd.people, out, SK.sigmas)
    s = mot.score_tracking(crowd.people, out, SK.sigmas)
    assert e["idf1"] == pytest.approx(s["idf1"], abs=1e-12)
    assert e["objects"] == s["objects"]
    lost_true = e["fn_undecoded"] + e["fn_withheld"] + e["fn_other_id"]
    lost_tracked = e["fp_no_person"] + e["fp_other_person"]
    assert lost_true == e["objects"] - e["idtp"] and lost_tracked == e["detections"] - e["idtp"]
    assert e["fn_other_id"] > 0, "the frame-to-frame baseline swaps ids in a 12-person crowd"


def test_walking_crowd_moves_people_and_hides_joints():
    crowd = mot.walking_crowd(10, 40, 2, occlusion=0.05)
    assert crowd.people.shape == (40, 10, K, 3)
    moved = np.abs(crowd.people[-1, :, :, 0] - crowd.people[0, :, :, 0]).mean(axis=1)
    assert (moved > 20).sum() >= 5, "most people walk"
    hidden = (crowd.people[..., 2] == 0).mean()
    assert 0.03 < hidden < 0.2


def test_decoded_walking_crowd_keeps_identities():
    """20 people, 5 % of joints hidden: rendered, decoded and tracked; the tracker
    beats the frame-to-frame baseline and keeps IDF1 high (full figures:
    docs/benchmarks.md)."""
    pytest.importorskip("motmetrics")
    crowd = mot.walking_crowd(20, 40, 11, occlusion=0.05)
    decoder = Decoder(SK)
    decoded = []
    for f in range(crowd.num_frames):
        decoded.append(decoder(*crowd.fields(f)))
    scores = {}
    for label, options in (("tracker", {}),
                           ("baseline", dict(motion=None, max_age=0, min_hits=1))):
        tracker = Tracker(SK, **options)
        out = [tracker.update(p, timestamp=f / 30) for f, p in enumerate(decoded)]
        scores[label] = mot.score_tracking(crowd.people, out, SK.sigmas)
    assert scores["tracker"]["idf1"] >= 0.95
    assert scores["tracker"]["idf1"] > scores["baseline"]["idf1"]
    assert scores["tracker"]["switches"] <= scores["baseline"]["switches"]


def test_similarity_pruning_changes_no_pair_above_the_threshold():
    crowd = mot.walking_crowd(30, 2, 8, occlusion=0.1)
    tracks, people = crowd.people[0], crowd.people[1]
    known = tracks[..., 2] > 0
    full = track_similarity(tracks[..., :2], known, people, SK.sigmas)
    pruned = track_similarity(tracks[..., :2], known, people, SK.sigmas, threshold=0.3)
    above = full >= 0.3
    assert above.sum() >= 30
    np.testing.assert_array_equal(pruned[above], full[above])
    assert (pruned[~above] < 0.3).all() and (pruned == 0).sum() > (full == 0).sum()
