"""The two backends side by side: decode time, Numba/C from alternating calls, and
Numba's compile time and cache.

Run: python -m pytest bench/test_bench_backends.py --benchmark-only
     --benchmark-columns=median,iqr,rounds
(-s prints the ratios of test_numba_over_c_interleaved.)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

import pytest

import pafdecode
from pafdecode import Decoder, Skeleton

BACKENDS = pafdecode.available_backends()
COCO = Skeleton.openpose_coco18()


@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("n_people", [1, 20, 100])
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_decode(benchmark, crowd, backend, n_people, assignment):
    scene = crowd(n_people)
    decoder = Decoder(COCO, assignment=assignment, backend=backend)
    decoder(scene.heatmaps, scene.pafs)  # Numba compiles or loads its cache here
    benchmark(decoder, scene.heatmaps, scene.pafs)


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs both backends")
@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("n_people", [1, 20, 100])
def test_numba_over_c_interleaved(benchmark, crowd, n_people, assignment):
    """Numba/C from calls that alternate between the backends on one scene, so that
    load which comes and goes on a shared machine hits both alike: the ratio of the
    two medians goes to extra_info and is printed (the figure pytest-benchmark
    shows is the time of the whole alternation)."""
    scene = crowd(n_people)
    decoders = [Decoder(COCO, assignment=assignment, backend=b) for b in ("c", "numba")]
    for decoder in decoders:
        decoder(scene.heatmaps, scene.pafs)  # Numba compiles or loads its cache here
    pairs = 200 if n_people < 100 else 50

    def alternate():
        times = ([], [])
        for _ in range(pairs):
            for decoder, spent in zip(decoders, times):
                t0 = time.perf_counter()
                decoder(scene.heatmaps, scene.pafs)
                spent.append(time.perf_counter() - t0)
        return [statistics.median(spent) for spent in times]

    c_median, numba_median = benchmark.pedantic(alternate, rounds=1, iterations=1)
    benchmark.extra_info.update(c_median_us=1e6 * c_median, numba_median_us=1e6 * numba_median,
                                numba_over_c=numba_median / c_median)
    print(f"\n{n_people} people, {assignment}: C {1e6 * c_median:.1f} us, Numba "
          f"{1e6 * numba_median:.1f} us, Numba/C {numba_median / c_median:.2f}")


FIRST_CALL = """
import time
t0 = time.perf_counter()
from pafdecode import Decoder, Skeleton, synth
scene = synth.crowd_scene(5, 0)
decoder = Decoder(Skeleton.openpose_coco18(), backend="numba")
t1 = time.perf_counter()
decoder(scene.heatmaps, scene.pafs)
t2 = time.perf_counter()
decoder(scene.heatmaps, scene.pafs)
t3 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {t3 - t2:.4f}")
"""


def _first_call(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(v) for v in out]


@pytest.mark.skipif("numba" not in BACKENDS, reason="Numba is not installed")
def test_numba_compiles_once_then_loads_its_cache(benchmark):
    """Two fresh processes on one empty cache: the first compiles, the second loads."""
    with tempfile.TemporaryDirectory() as cache_dir:
        def both():
            return _first_call(cache_dir), _first_call(cache_dir)

        (import_1, first_1, second_1), (import_2, first_2, second_2) = benchmark.pedantic(
            both, rounds=1, iterations=1)
        benchmark.extra_info.update(
            cold_first_call_s=first_1, warm_first_call_s=first_2,
            second_call_ms=1e3 * second_2, import_s=import_2)
        print(f"\nnumba first decode: {first_1:.2f} s with an empty cache (compiling), "
              f"{first_2:.3f} s in a second process (cache loaded); "
              f"a later decode {1e3 * second_2:.2f} ms")
        assert first_2 < first_1 / 5, "the second process did not load the cache"
