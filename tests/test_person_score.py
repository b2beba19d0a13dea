"""The person score: rival_margin (rivalled connections add no evidence) on every
backend, against the reference and the Numba twin, and the benchmark's measure of how
well the score predicts OKS."""

import numpy as np
import pytest

from pafdecode import Decoder, DecoderConfig, Skeleton, _kernels, available_backends, bench, synth
from pafdecode._params import to_record
from pafdecode.reference import ReferenceDecoder, rival_evidence

COCO = Skeleton.openpose_coco18()
BODY25 = Skeleton.body25()

# A standing person about 220 px tall with the arms out (COCO-18 order), in pixels
# about its hip centre.
POSE = np.array([(0, -100), (0, -70), (-30, -70), (-70, -70), (-110, -70), (30, -70),
                 (70, -70), (110, -70), (-20, 0), (-22, 60), (-24, 120), (20, 0), (22, 60),
                 (24, 120), (-8, -108), (8, -108), (-16, -104), (16, -104)], float)


def posed(x, y):
    person = np.zeros((18, 3))
    person[:, :2] = POSE + (x, y)
    person[:, 2] = 2
    return person


def rival_scene():
    """Persons A (left) and B (right), alike, and an arm C (shoulder, elbow, wrist)
    hanging from A's right wrist: the two forearms end at one wrist peak, so A's
    forearm connection has a rival within a hair of its score; B's limbs have none."""
    a, b = posed(180, 180), posed(480, 180)
    arm = np.zeros((18, 3))
    arm[4] = a[4]
    arm[3] = a[4] + (0, 40, 0)
    arm[2] = a[4] + (0, 80, 0)
    heat, paf = synth.render_fields(np.stack([a, b, arm]), COCO, (368, 656), stride=8)
    return heat, paf


def by_neck_x(poses):
    """Score per person by its neck's x (A at 180, B at 480) and the ranking order."""
    necks = poses.keypoints[:, 1, 0]
    return {int(x): float(s) for x, s in zip(necks, poses.scores) if x > 0}, \
        [int(x) for x in necks if x > 0]


def test_a_person_with_a_close_rival_limb_ranks_below_one_without(make_decoder):
    heat, paf = rival_scene()
    # The limb length prior off: the stray arm C is what it would weigh (tests/test_limb_prior.py).
    off_scores, off_order = by_neck_x(make_decoder(COCO, rival_margin=None,
                                                   limb_length_prior=None)(heat, paf))
    on = make_decoder(COCO, rival_margin=0.02, limb_length_prior=None)(heat, paf)
    on_scores, on_order = by_neck_x(on)
    # Without the option A's merged (brighter) wrist puts it first; with it A loses its
    # forearm's evidence and B, the same pose without a rival, ranks first.
    assert off_order == [180, 480] and off_scores[180] > off_scores[480]
    assert on_order == [480, 180] and on_scores[180] < on_scores[480] - 0.005
    assert on_scores[480] == off_scores[480]  # nothing of B is rivalled
    # The drop is A's forearm score over its keypoints and connections (18 keypoints,
    # 19 connections of COCO-18), times the share of the skeleton found (1).
    peaks, counts = _kernels.stage_peaks(np.ascontiguousarray(heat[:18], np.float32),
                                         to_record(DecoderConfig()))
    forearm = COCO.limbs.tolist().index([3, 4])
    cands = _kernels.stage_candidates(np.ascontiguousarray(paf, np.float32),
                                      np.asarray(COCO.limbs, np.int32),
                                      np.asarray(COCO.paf_channels, np.int32), peaks, counts,
                                      to_record(DecoderConfig()))
    ab, score = cands[forearm]
    a_elbow = int(np.argmin(np.abs(peaks[3, :counts[3], 0] * 8 + 3.5 - 70)
                            + np.abs(peaks[3, :counts[3], 1] * 8 + 3.5 - 110)))
    s = float(score[np.flatnonzero(ab[:, 0] == a_elbow)[0]])
    assert off_scores[180] - on_scores[180] == pytest.approx(s / (18 + 19), abs=1e-5)
    # The reference decoder agrees.
    ref = ReferenceDecoder(COCO, rival_margin=0.02, limb_length_prior=None)(heat, paf)
    np.testing.assert_allclose(ref.scores, on.scores, atol=1e-5, rtol=0)


def test_rival_evidence_by_hand():
    cands = [(0, 0, np.float32(0.95)), (1, 0, np.float32(0.94)), (1, 1, np.float32(0.90)),
             (2, 2, np.float32(0.80))]
    conns = [(0, 0, np.float32(0.95)), (1, 1, np.float32(0.90)), (2, 2, np.float32(0.80))]
    # (0, 0): (1, 0) shares its b at 0.94, within 0.02; (1, 1): (1, 0) shares its a at
    # 0.94, above it; (2, 2): alone.
    got = rival_evidence(conns, cands, 0.02)
    assert [float(e) for _, _, e in got] == [0.0, 0.0, pytest.approx(0.80)]
    got = rival_evidence(conns, cands, 0.005)
    assert [float(e) for _, _, e in got] == [pytest.approx(0.95), 0.0, pytest.approx(0.80)]


@pytest.mark.parametrize("value", [0, 0.0, -0.01, 1.5, float("nan"), float("inf")])
def test_rival_margin_is_validated(value):
    with pytest.raises(ValueError, match=r"rival_margin must be a number in \(0, 1\] or None"):
        DecoderConfig(rival_margin=value)
    with pytest.raises(ValueError, match="rival_margin"):
        Decoder(COCO, rival_margin=value)


def test_rival_margin_is_on_by_default_and_type_checked():
    assert DecoderConfig().rival_margin == pytest.approx(0.01)
    assert DecoderConfig(rival_margin=None).rival_margin is None
    assert DecoderConfig.openpose().rival_margin is None
    assert DecoderConfig(rival_margin=1).rival_margin == 1.0
    with pytest.raises(TypeError, match="rival_margin"):
        DecoderConfig(rival_margin="0.02")


SCENES = [  # (skeleton, people, seed, occlusion)
    (COCO, 20, 11, 0.0), (COCO, 50, 12, 0.08), (COCO, 80, 13, 0.0), (BODY25, 30, 14, 0.08)]


@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("skeleton, n, seed, occlusion", SCENES)
def test_rivals_only_lower_scores_and_the_reference_agrees(make_decoder, assignment, skeleton,
                                                           n, seed, occlusion):
    scene = synth.crowd_scene(n, seed, skeleton=skeleton, occlusion=occlusion)
    options = dict(assignment=assignment, split_merged_peaks=0.3, max_peaks=2 * n + 28)
    off = make_decoder(skeleton, rival_margin=None, **options)(scene.heatmaps, scene.pafs)
    on = make_decoder(skeleton, rival_margin=0.02, **options)(scene.heatmaps, scene.pafs)
    # Evidence is all a rival changes: the people are the same (none falls below
    # min_person_score here), their scores never higher, some lower.
    assert on.keypoints.shape == off.keypoints.shape
    key = [tuple(row) for row in off.keypoints.reshape(len(off.scores), -1).tolist()]
    index = {k: i for i, k in enumerate(key)}
    matched = [index[tuple(row)] for row in on.keypoints.reshape(len(on.scores), -1).tolist()]
    assert sorted(matched) == list(range(len(key)))
    assert (on.scores <= off.scores[matched]).all()
    assert (on.scores < off.scores[matched]).sum() >= 1
    assert np.all(np.diff(on.scores) <= 0)
    want = ReferenceDecoder(skeleton, rival_margin=0.02, **options)(scene.heatmaps, scene.pafs)
    assert on.stats == want.stats
    np.testing.assert_allclose(on.keypoints, want.keypoints, atol=1e-4, rtol=0)
    np.testing.assert_allclose(on.scores, want.scores, atol=1e-5, rtol=0)


@pytest.mark.skipif("numba" not in available_backends(), reason="needs the Numba twin")
@pytest.mark.parametrize("margin", [0.01, 0.02, 0.2])
@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("skeleton, n, seed, occlusion", SCENES)
def test_c_and_numba_agree_bit_for_bit(assignment, margin, skeleton, n, seed, occlusion):
    scene = synth.crowd_scene(n, seed, skeleton=skeleton, occlusion=occlusion)
    options = dict(assignment=assignment, rival_margin=margin, split_merged_peaks=0.3,
                   max_peaks=2 * n + 28)
    c = Decoder(skeleton, backend="c", **options)(scene.heatmaps, scene.pafs)
    nb = Decoder(skeleton, backend="numba", **options)(scene.heatmaps, scene.pafs)
    assert c.stats == nb.stats
    assert np.array_equal(c.keypoints, nb.keypoints)
    assert np.array_equal(c.scores, nb.scores)


def test_score_quality_against_a_hand_computation():
    """Two images: one with two people (found exactly, and shifted), one with none (a
    false positive); the correlation is numpy's over the OKS computed by hand."""
    sigmas = np.full(17, 0.05)
    truth = [np.zeros((17, 3)), np.zeros((17, 3))]
    for i, person in enumerate(truth):
        person[:, 0] = 100 + 200 * i + np.arange(17) * 3
        person[:, 1] = 50 + np.arange(17) * 6
        person[:, 2] = 2
    areas = [400.0, 900.0]
    gt = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}],
          "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                           "keypoints": truth[i].reshape(-1).tolist(), "area": areas[i],
                           "bbox": [0, 0, 10, 10]} for i in range(2)]}

    def result(image, keypoints, score):
        return {"image_id": image, "category_id": 1, "score": score,
                "keypoints": keypoints.reshape(-1).tolist()}

    shifted = truth[1].copy()
    shifted[:, 0] += 2.0  # 2 px off: OKS exp(-4 / (2 * 0.05)^2 / 900 / 2) = 0.80, matched
    far = truth[0].copy()
    far[:, 1] += 60.0     # a duplicate of person 0, far off: OKS near 0 with both
    results = [result(1, truth[0], 0.5), result(1, shifted, 0.9), result(1, far, 0.7),
               result(2, truth[0], 0.8)]
    got = bench.score_quality(gt, results, sigmas)
    oks_shift = np.exp(-4.0 / (2 * 0.05) ** 2 / 900 / 2)
    # far: 60 px in y from person 0 (and farther from 1) -> its best is person 0's.
    oks_far = np.exp(-3600.0 / (2 * 0.05) ** 2 / 400 / 2)
    oks = [1.0, oks_shift, oks_far, 0.0]
    assert got["score_oks_r"] == pytest.approx(np.corrcoef([0.5, 0.9, 0.7, 0.8], oks)[0, 1])
    # Matched: the two good ones; unmatched: the far duplicate (0.7) and the one in the
    # empty image (0.8). Pairs (unmatched, matched) ranked wrongly: 0.7 > 0.5, 0.8 > 0.5.
    assert got["matched"] == 2 and got["unmatched"] == 2
    assert got["unmatched_above"] == pytest.approx(2 / 4)
    assert bench.score_quality(gt, results[:1], sigmas)["score_oks_r"] is None
    assert bench.score_quality(gt, results[:2], sigmas)["unmatched_above"] is None
