"""The backends against the plain NumPy/Python reference decoder, the specification."""

import subprocess
import sys
import tempfile

import numpy as np
import pytest

from pafdecode import Skeleton, synth
from pafdecode.reference import ReferenceDecoder

SCENES = [  # (skeleton, people, seed, noisy)
    ("coco18", 1, 0, False), ("coco18", 8, 1, True), ("coco18", 25, 2, False),
    ("coco18", 40, 3, True), ("body25", 6, 4, False), ("body25", 30, 5, True),
]


@pytest.mark.parametrize("shared_peak_score", [0.3, None])
@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("skeleton_name, n_people, seed, noisy", SCENES)
def test_backend_matches_reference(make_decoder, assignment, skeleton_name, n_people, seed,
                                   noisy, shared_peak_score):
    skeleton = Skeleton.body25() if skeleton_name == "body25" else Skeleton.openpose_coco18()
    options = dict(noise=0.05, peak_variation=0.3, occlusion=0.08) if noisy else {}
    scene = synth.crowd_scene(n_people, seed, skeleton=skeleton, **options)
    want = ReferenceDecoder(skeleton, assignment=assignment,
                            shared_peak_score=shared_peak_score)(scene.heatmaps, scene.pafs)
    got = make_decoder(skeleton, assignment=assignment,
                       shared_peak_score=shared_peak_score)(scene.heatmaps, scene.pafs)
    assert got.stats == want.stats
    assert got.keypoints.shape == want.keypoints.shape
    np.testing.assert_allclose(got.keypoints, want.keypoints, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-5, rtol=0)


@pytest.mark.parametrize("n_people, seed, noisy", [(20, 6, False), (50, 7, True)])
def test_split_merged_peaks_matches_reference(make_decoder, n_people, seed, noisy):
    skeleton = Skeleton.openpose_coco18()
    options = dict(noise=0.05, peak_variation=0.3, occlusion=0.08) if noisy else {}
    scene = synth.crowd_scene(n_people, seed, skeleton=skeleton, **options)
    options = dict(split_merged_peaks=0.6)
    want = ReferenceDecoder(skeleton, **options)(scene.heatmaps, scene.pafs)
    got = make_decoder(skeleton, **options)(scene.heatmaps, scene.pafs)
    plain = make_decoder(skeleton)(scene.heatmaps, scene.pafs)
    assert got.stats == want.stats
    assert got.stats["peaks"] > plain.stats["peaks"]  # crowds this size hide some
    np.testing.assert_allclose(got.keypoints, want.keypoints, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-5, rtol=0)


@pytest.mark.parametrize("n_people, seed, noise", [(20, 8, 0.1), (40, 9, 0.05)])
def test_peak_support_matches_reference(make_decoder, n_people, seed, noise):
    skeleton = Skeleton.openpose_coco18()
    scene = synth.crowd_scene(n_people, seed, skeleton=skeleton, noise=noise, occlusion=0.08)
    options = dict(peak_support=0.15, split_merged_peaks=0.6)
    want = ReferenceDecoder(skeleton, **options)(scene.heatmaps, scene.pafs)
    got = make_decoder(skeleton, **options)(scene.heatmaps, scene.pafs)
    assert got.stats == want.stats
    np.testing.assert_allclose(got.keypoints, want.keypoints, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-5, rtol=0)


def test_reference_stands_alone_without_compiled_backends():
    # NumPy and Python only: with both backends made unimportable it still decodes,
    # and it takes the same DecoderConfig presets.
    code = """
import sys
sys.modules["pafdecode._kernels"] = None
sys.modules["numba"] = None
from pafdecode import DecoderConfig, Skeleton, synth
from pafdecode.reference import ReferenceDecoder
scene = synth.crowd_scene(3, 5)
poses = ReferenceDecoder(Skeleton.openpose_coco18(), DecoderConfig.crowd())(scene.heatmaps, scene.pafs)
assert len(poses) == 3, len(poses)
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tempfile.gettempdir())
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


@pytest.mark.parametrize("skeleton_name, n_people, seed, split, margin", [
    ("coco18", 10, 10, None, 0.6), ("coco18", 40, 11, 0.3, 0.6), ("coco18", 60, 12, 0.3, 1.0),
    ("body25", 20, 13, None, 0.6), ("body25", 40, 14, 0.3, 0.3)])
def test_join_fragments_matches_reference(make_decoder, skeleton_name, n_people, seed, split,
                                          margin):
    skeleton = Skeleton.body25() if skeleton_name == "body25" else Skeleton.openpose_coco18()
    scene = synth.crowd_scene(n_people, seed, skeleton=skeleton, occlusion=0.12)
    options = dict(split_merged_peaks=split, join_fragments=margin,
                   max_peaks=max(128, 2 * n_people))
    want = ReferenceDecoder(skeleton, **options)(scene.heatmaps, scene.pafs)
    got = make_decoder(skeleton, **options)(scene.heatmaps, scene.pafs)
    plain = make_decoder(skeleton, split_merged_peaks=split, join_fragments=None,
                         max_peaks=max(128, 2 * n_people))(scene.heatmaps, scene.pafs)
    assert got.stats == want.stats
    # Joins happen in these scenes: the people hold more keypoints.
    assert (got.keypoints[:, :, 2] > 0).sum() > (plain.keypoints[:, :, 2] > 0).sum()
    np.testing.assert_allclose(got.keypoints, want.keypoints, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-5, rtol=0)
