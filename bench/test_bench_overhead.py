"""The per-call cost of the Python layer: decodes whose core work is next to nothing.

A 1x1 frame has no peaks, so its time is what the package spends around the core
(validation, conversions, the scratch buffer, the result object). A small frame
(2 keypoints, 8x8 maps, one person) adds a little core work; a batch of 1x1 frames
shows what ``decode_batch`` leaves per frame.

Run: python -m pytest bench/test_bench_overhead.py --benchmark-only
     --benchmark-columns=median,iqr,rounds
"""

import numpy as np
import pytest

import pafdecode
from pafdecode import Decoder, Skeleton, synth

BACKENDS = pafdecode.available_backends()
COCO = Skeleton.openpose_coco18()
PAIR = Skeleton(["a", "b"], [(0, 1)])
BATCH = 64


def tiny_frame(skeleton):
    return (np.zeros((skeleton.num_keypoints, 1, 1), np.float32),
            np.zeros((skeleton.num_paf_channels, 1, 1), np.float32))


def small_frame():
    """One two-keypoint person on 8x8 maps (64x64 pixels at stride 8)."""
    person = np.array([[[20.0, 20.0, 2.0], [44.0, 40.0, 2.0]]])
    return synth.render_fields(person, PAIR, image_size=(64, 64), stride=8)


@pytest.mark.parametrize("skeleton", [PAIR, COCO], ids=["2 keypoints", "COCO-18"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_call_1x1(benchmark, backend, skeleton):
    decoder = Decoder(skeleton, backend=backend)
    heat, paf = tiny_frame(skeleton)
    decoder(heat, paf)  # Numba compiles or loads its cache here
    poses = benchmark(decoder, heat, paf)
    assert len(poses) == 0


@pytest.mark.parametrize("skeleton", [PAIR, COCO], ids=["2 keypoints", "COCO-18"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_core_1x1(benchmark, backend, skeleton):
    """The backend's decode alone (no Python layer): what test_call_1x1 adds to it is
    the Python layer's cost."""
    decoder = Decoder(skeleton, backend=backend)
    heat, paf = tiny_frame(skeleton)
    scratch = np.empty(decoder._core.workspace_bytes(1, 1), np.uint8)
    decoder._core.decode(heat, paf, scratch)
    benchmark(decoder._core.decode, heat, paf, scratch)


@pytest.mark.parametrize("backend", BACKENDS)
def test_call_small_frame(benchmark, backend):
    decoder = Decoder(PAIR, backend=backend, min_keypoints=2)
    heat, paf = small_frame()
    decoder(heat, paf)
    poses = benchmark(decoder, heat, paf)
    assert len(poses) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_1x1_per_frame(benchmark, backend):
    """decode_batch of BATCH 1x1 frames; the median divided by BATCH is the cost per
    frame."""
    decoder = Decoder(COCO, backend=backend)
    heat, paf = tiny_frame(COCO)
    heats, pafs = np.stack([heat] * BATCH), np.stack([paf] * BATCH)
    decoder.decode_batch(heats, pafs)
    result = benchmark(decoder.decode_batch, heats, pafs)
    benchmark.extra_info["frames"] = BATCH
    assert len(result) == BATCH
