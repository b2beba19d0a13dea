"""Adversarial fields of issue 13: the timings tests/test_hostile_kernels.py bounds.

Run: python -m pytest bench/test_bench_hostile.py --benchmark-only
     --benchmark-columns=median,iqr,rounds
"""

import numpy as np
import pytest

import pafdecode

BACKENDS = pafdecode.available_backends()
PAIR = pafdecode.Skeleton(["a", "b"], [(0, 1)])


def _noise(shape, seed=0, signed=False):
    values = np.random.default_rng(seed).random(shape, dtype=np.float32)
    return (values * 2 - 1).astype(np.float32) if signed else values


def _cases():
    quantised = (np.round(_noise((2, 300, 300), 3) * 4) / 4).astype(np.float32)
    chain = pafdecode.Skeleton([f"k{i}" for i in range(200)], [(i, i + 1) for i in range(199)])
    return {
        "ones_r64": (PAIR, dict(peak_radius=64), np.ones((2, 300, 300), np.float32),
                     np.zeros((2, 300, 300), np.float32)),
        "quantised_r64": (PAIR, dict(peak_radius=64), quantised,
                          np.zeros((2, 300, 300), np.float32)),
        "chain200_join": (chain, {}, _noise((200, 46, 46)), _noise((398, 46, 46), 1, True)),
        "chain200_nojoin": (chain, dict(join_fragments=None), _noise((200, 46, 46)),
                            _noise((398, 46, 46), 1, True)),
        "samples4096_peaks4096": (PAIR, dict(paf_samples=4096, max_peaks=4096),
                                  _noise((2, 60, 60)), _noise((2, 60, 60), 1, True)),
    }


CASES = _cases()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_decode(benchmark, backend, case):
    skeleton, options, heat, paf = CASES[case]
    decoder = pafdecode.Decoder(skeleton, backend=backend, **options)
    decoder(heat[:, :4, :4].copy(), paf[:, :4, :4].copy())  # compiles or loads
    benchmark.pedantic(decoder, args=(heat, paf), rounds=1, iterations=1)
