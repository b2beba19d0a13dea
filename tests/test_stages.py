"""Stage by stage parity: each stage of the C core and of its Numba twin is fed the same
input (the C core's output of the stage before), so a divergence names its stage."""

import os

import numpy as np
import pytest

pytest.importorskip("numba", reason="the Numba twin needs numba (pafdecode[numba])")

from pafdecode import DecoderConfig, Skeleton, _kernels, _numba, synth  # noqa: E402
from pafdecode._params import to_record  # noqa: E402

SCENES = max(1, int(os.environ.get("PAFDECODE_PARITY_SCENES", "40")) // 4)
CONFIGS = {"default": DecoderConfig(), "openpose": DecoderConfig.openpose(),
           "crowd": DecoderConfig.crowd(), "noisy": DecoderConfig.noisy(),
           "hungarian": DecoderConfig(assignment="hungarian", max_limb_length=150.0),
           "rival": DecoderConfig(rival_margin=0.02, split_merged_peaks=0.3)}
SKELETONS = {"coco18": Skeleton.openpose_coco18(), "body25": Skeleton.body25()}


def _cases():
    for i in range(SCENES):
        yield pytest.param(i, list(CONFIGS)[i % len(CONFIGS)],
                           "body25" if i % 3 == 2 else "coco18", id=f"scene{i}")


def _same_pairs(c, n, stage):
    assert len(c) == len(n), stage
    for limb, ((c_ab, c_score), (n_ab, n_score)) in enumerate(zip(c, n)):
        assert np.array_equal(np.asarray(c_ab), np.asarray(n_ab)), f"{stage}: limb {limb}"
        assert np.array_equal(np.asarray(c_score), np.asarray(n_score)), f"{stage}: limb {limb}"


def _same_people(c, n, stage):
    assert set(c) == set(n), stage
    for key in c:
        assert np.array_equal(c[key], n[key]), f"{stage}: people['{key}'] differs"


@pytest.mark.parametrize("index, config_name, skeleton_name", list(_cases()))
def test_every_stage_matches_given_the_same_input(index, config_name, skeleton_name):
    skeleton, config = SKELETONS[skeleton_name], CONFIGS[config_name]
    noisy = config_name == "noisy"
    scene = synth.crowd_scene(5 + 9 * index % 60, 300 + index, skeleton=skeleton,
                              occlusion=0.08, noise=0.1 if noisy else 0.0)
    heat = np.ascontiguousarray(scene.heatmaps[: skeleton.num_keypoints], np.float32)
    paf = np.ascontiguousarray(scene.pafs, np.float32)
    record = to_record(config)
    limbs = np.asarray(skeleton.limbs, np.int32)
    channels = np.asarray(skeleton.paf_channels, np.int32)
    redundant = np.asarray(skeleton.redundant, np.uint8)

    peaks, counts = _kernels.stage_peaks(heat, record)
    n_peaks, n_counts = _numba.stage_peaks(heat, record)
    assert np.array_equal(counts, n_counts), "peaks: counts differ"
    assert np.array_equal(peaks, n_peaks), "peaks: positions or values differ"

    cands = _kernels.stage_candidates(paf, limbs, channels, peaks, counts, record)
    _same_pairs(cands, _numba.stage_candidates(paf, limbs, channels, peaks, counts, record),
                "scoring")
    conns = _kernels.stage_connections(cands, counts, limbs, record)
    _same_pairs(conns, _numba.stage_connections(cands, counts, limbs, record), "assignment")

    people = _kernels.stage_assembly(cands, conns, peaks, counts, limbs, redundant, record)
    _same_people(people, _numba.stage_assembly(cands, conns, peaks, counts, limbs, redundant,
                                               record), "assembly")
    joined = _kernels.stage_join(people, peaks, counts, limbs, redundant, record)
    _same_people(joined, _numba.stage_join(people, peaks, counts, limbs, redundant, record),
                 "join")

    keypoints, scores = _kernels.stage_emit(joined, peaks, counts, record)
    n_keypoints, n_scores = _numba.stage_emit(joined, peaks, counts, record)
    assert np.array_equal(keypoints, n_keypoints) and np.array_equal(scores, n_scores), "emit"

    # The stages chained are the decode.
    core = _kernels.CoreDecoder(skeleton.limbs, skeleton.paf_channels, skeleton.redundant,
                                skeleton.num_keypoints, record)
    scratch = np.empty(core.workspace_bytes(*heat.shape[1:]), np.uint8)
    whole_keypoints, whole_scores, _ = core.decode(heat, paf, scratch)
    assert np.array_equal(whole_keypoints, keypoints) and np.array_equal(whole_scores, scores)


@pytest.mark.parametrize("index, assignment", [(0, "greedy"), (1, "hungarian"), (2, "greedy")])
def test_the_limb_prior_stage_matches_given_the_same_input(index, assignment):
    """Limb by limb (the prior reads the people the limbs before it assembled): the
    C core's candidates, people and connections feed both backends' prior stage; the
    chain ends in the decode's people."""
    skeleton = SKELETONS["body25" if index == 2 else "coco18"]
    scene = synth.crowd_scene(30 + 10 * index, 700 + index, skeleton=skeleton, occlusion=0.08)
    heat = np.ascontiguousarray(scene.heatmaps[: skeleton.num_keypoints], np.float32)
    paf = np.ascontiguousarray(scene.pafs, np.float32)
    record = to_record(DecoderConfig(assignment=assignment, limb_length_prior=1.2,
                                     split_merged_peaks=0.3))
    limbs = np.asarray(skeleton.limbs, np.int32)
    redundant = np.asarray(skeleton.redundant, np.uint8)
    lengths = skeleton.limb_lengths
    peaks, counts = _kernels.stage_peaks(heat, record)
    scored = _kernels.stage_candidates(paf, limbs, np.asarray(skeleton.paf_channels, np.int32),
                                       peaks, counts, record)
    none = (np.zeros((0, 2), np.int32), np.zeros(0, np.float32))
    cands, conns = [none] * len(limbs), [none] * len(limbs)
    changed = 0
    for limb in range(len(limbs)):
        people = _kernels.stage_assembly(cands, conns, peaks, counts, limbs, redundant, record)
        _same_people(people, _numba.stage_assembly(cands, conns, peaks, counts, limbs,
                                                   redundant, record), f"assembly {limb}")
        got = _kernels.stage_limb_prior(scored[limb], people, limb, peaks, counts, limbs,
                                        lengths, record)
        _same_pairs([got], [_numba.stage_limb_prior(scored[limb], people, limb, peaks, counts,
                                                    limbs, lengths, record)], f"prior {limb}")
        changed += not np.array_equal(got[1], scored[limb][1])
        cands[limb] = got
        conns[limb] = _kernels.stage_connections(cands, counts, limbs, record)[limb]
    assert changed > 0  # the scene is one the prior changes
    people = _kernels.stage_assembly(cands, conns, peaks, counts, limbs, redundant, record)
    joined = _kernels.stage_join(people, peaks, counts, limbs, redundant, record)
    keypoints, scores = _kernels.stage_emit(joined, peaks, counts, record)
    core = _kernels.CoreDecoder(skeleton.limbs, skeleton.paf_channels, skeleton.redundant,
                                skeleton.num_keypoints, record, limb_lengths=lengths)
    scratch = np.empty(core.workspace_bytes(*heat.shape[1:]), np.uint8)
    whole_keypoints, whole_scores, _ = core.decode(heat, paf, scratch)
    assert np.array_equal(whole_keypoints, keypoints) and np.array_equal(whole_scores, scores)
