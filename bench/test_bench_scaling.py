"""Decode time as the crowd grows (368x656 images, 46x82 maps), per backend, one thread:
the per-person cost at 100 people against 20 is the figure to watch (docs/benchmarks.md,
"Scaling with the crowd"; bench/callgrind_crowd.py gives the instruction counts).

Run: python -m pytest bench/test_bench_scaling.py --benchmark-only --benchmark-columns=median,iqr,rounds
"""

import pytest

import pafdecode
from pafdecode import Decoder, Skeleton

COCO = Skeleton.openpose_coco18()


@pytest.mark.parametrize("backend", pafdecode.available_backends())
@pytest.mark.parametrize("n_people", [1, 5, 20, 50, 100, 200])
def test_decode_crowd(benchmark, crowd, n_people, backend):
    scene = crowd(n_people)
    decoder = Decoder(COCO, backend=backend)
    decoder(scene.heatmaps, scene.pafs)  # Numba compiles (or loads its cache) here
    poses = benchmark(decoder, scene.heatmaps, scene.pafs)
    benchmark.extra_info.update(people_true=n_people, people_found=len(poses), **poses.stats)
