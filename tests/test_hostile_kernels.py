"""Hostile input through the kernels: extreme finite values never overflow into
NaN, Inf or a keypoint off the map, and adversarial fields finish in bounded time.

Each decode of the adversarial cases must finish within BOUND seconds (a generous
"does not explode" bound for a shared machine; bench/test_bench_hostile.py keeps the
timings). The crash of issue 13 runs in a subprocess, so that a crash is a failure.
"""

import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import pafdecode
from pafdecode import reference
from pafdecode.backends import load_backend

BACKENDS = pafdecode.available_backends()
# The slowest case, 4096 samples and peaks, takes 12 to 16 s and the 200-keypoint
# chain 8 to 15 s on either backend on this loaded 2-core machine (the Numba twin
# joins incrementally, as C does; it took 46 s before); the bound catches
# explosions (minutes), not slowness.
BOUND = 120.0
FMAX = float(np.finfo(np.float32).max)
PAIR = pafdecode.Skeleton(["a", "b"], [(0, 1)])

CRASH = textwrap.dedent("""
    import json, sys
    import numpy as np, pafdecode
    sk = pafdecode.Skeleton(["a", "b"], [(0, 1)])
    heat = np.zeros((2, 5, 5), np.float32)
    heat[0, 2, 1:4] = [-3e38, 3e38, 2e38]
    heat[1, 2, 2] = 1.0
    poses = pafdecode.Decoder(sk, stride=8, backend=sys.argv[1])(
        heat, np.zeros((2, 5, 5), np.float32))
    print(json.dumps({"stats": poses.stats, "keypoints": poses.keypoints.tolist()}))
""")


def assert_sane(poses, height, width, stride):
    """Keypoints within the image or exactly (0, 0, 0), scores finite."""
    kp = np.asarray(poses.keypoints, np.float64).reshape(-1, 3)
    assert np.isfinite(kp).all() and np.isfinite(np.asarray(poses.scores)).all()
    missing = (kp == 0).all(axis=1)
    present = kp[~missing]
    assert (present[:, 0] >= -0.5).all() and (present[:, 0] <= width * stride - 0.5).all()
    assert (present[:, 1] >= -0.5).all() and (present[:, 1] <= height * stride - 0.5).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_issue_crash_snippet_runs_in_a_subprocess(backend):
    run = subprocess.run([sys.executable, "-c", CRASH, backend], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["stats"]["peaks"] == 2
    kp = np.asarray(out["keypoints"], np.float64)
    assert np.isfinite(kp).all()


def test_overflowing_fit_is_the_double_parabola_on_every_backend():
    heat = np.zeros((5, 5), np.float32)
    heat[2, 1:4] = [-3e38, 3e38, 2e38]
    # The value parabola in exact arithmetic: 0.5 * (l - r) / (l - 2c + r).
    want = 2 + 0.5 * (-3e38 - 2e38) / (-3e38 - 6e38 + 2e38)
    ref = reference.find_peaks(heat, 0.1, 1, 8)
    assert ref[0, 0] == pytest.approx(want, abs=1e-6)
    for backend in BACKENDS:
        got = load_backend(backend).find_peaks(heat, 0.1, 1, 8)
        np.testing.assert_array_equal(got, ref)


def test_support_of_huge_values_is_tested_without_overflow():
    heat = np.zeros((5, 5), np.float32)
    heat[1:4, 1:4] = 3e38  # the 1-2-1 weighted sum is 16 * 3e38: past float32
    heat[2, 2] = FMAX
    # The weighted mean is just above 3e38: supported at 2e38, not at 3.2e38.
    for support, found in ((2e38, 1), (3.2e38, 0)):
        ref = reference.find_peaks(heat, 0.1, 1, 8, peak_support=support)
        assert len(ref) == found
        for backend in BACKENDS:
            got = load_backend(backend).find_peaks(heat, 0.1, 1, 8, 0.0, support)
            np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_paf_along_a_limb_scores_finite(backend):
    heat = np.zeros((2, 12, 12), np.float32)
    heat[0, 6, 2] = heat[1, 6, 9] = 1.0
    paf = np.zeros((2, 12, 12), np.float32)
    paf[0] = 3e38  # differences between cells reach 3e38 - (-3e38): past float32
    paf[0, :, ::2] = -3e38
    paf[0, :, 1::2] = 3e38
    paf[0, 5:8, :] = 3e38
    poses = pafdecode.Decoder(PAIR, backend=backend, min_keypoints=2,
                              min_person_score=0.0)(heat, paf)
    assert poses.stats["candidates"] == 1
    assert_sane(poses, 12, 12, 8)
    assert len(poses) == 1


def extreme_frames(rng, count, K=3, size=(9, 11)):
    """Ordinary noise with single cells of +-3e38, 2e38, -1e38, +-FLT_MAX, mixed
    signs side by side, in heatmaps and PAFs."""
    specials = np.array([3e38, -3e38, 2e38, -1e38, FMAX, -FMAX, 1e38], np.float32)
    for _ in range(count):
        heat = rng.random((K, *size), dtype=np.float32)
        paf = rng.random((2 * (K - 1), *size), dtype=np.float32) * 2 - 1
        for field in (heat, paf):
            flat = field.reshape(-1)
            at = rng.choice(flat.size, size=max(1, flat.size // 20), replace=False)
            flat[at] = rng.choice(specials, size=at.size)
        yield heat, paf.astype(np.float32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_extreme_finite_values_give_finite_outputs_in_the_image(backend):
    sk = pafdecode.Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])
    rng = np.random.default_rng(13)
    decoders = [pafdecode.Decoder(sk, backend=backend, **options) for options in (
        {}, {"peak_support": 0.3}, {"split_merged_peaks": 0.5, "peak_radius": 2},
        {"assignment": "hungarian", "min_keypoints": 1, "min_person_score": 0.0})]
    for i, (heat, paf) in enumerate(extreme_frames(rng, 120)):
        poses = decoders[i % len(decoders)](heat, paf)
        assert_sane(poses, 9, 11, 8)


def test_extreme_frames_agree_between_backends():
    if len(BACKENDS) < 2:
        pytest.skip("one backend installed")
    sk = pafdecode.Skeleton(["a", "b", "c"], [(0, 1), (1, 2)])
    rng = np.random.default_rng(7)
    pair = [pafdecode.Decoder(sk, backend=b, min_keypoints=1, min_person_score=0.0)
            for b in BACKENDS]
    for heat, paf in extreme_frames(rng, 60):
        a, b = (d(heat, paf) for d in pair)
        np.testing.assert_array_equal(a.keypoints, b.keypoints)
        np.testing.assert_array_equal(a.scores, b.scores)


def timed(decoder, heat, paf):
    decoder(heat[:, :4, :4].copy(), paf[:, :4, :4].copy())  # compiles or loads
    start = time.perf_counter()
    poses = decoder(heat, paf)
    return poses, time.perf_counter() - start


def plateau_case(kind):
    if kind == "ones":
        heat = np.ones((2, 300, 300), np.float32)
    else:
        rng = np.random.default_rng(3)
        heat = (np.round(rng.random((2, 300, 300)) * 4) / 4).astype(np.float32)
    return heat, np.zeros((2, 300, 300), np.float32)


@pytest.mark.parametrize("kind", ["ones", "quantised"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_plateaus_at_radius_64_are_bounded(backend, kind):
    heat, paf = plateau_case(kind)
    poses, seconds = timed(pafdecode.Decoder(PAIR, backend=backend, peak_radius=64), heat, paf)
    assert seconds < BOUND
    # One plateau maximum per channel at most 129 cells apart: a handful of peaks,
    # the same as the reference's flood fill finds on a slice it can afford.
    assert 1 <= poses.stats["peaks"] <= 2 * 9
    assert_sane(poses, 300, 300, 8)
    small = heat[0, :60, :60]
    want = reference.find_peaks(small, 0.1, 64, 128)
    np.testing.assert_array_equal(load_backend(backend).find_peaks(small, 0.1, 64, 128), want)


def chain_case():
    K = 200
    sk = pafdecode.Skeleton([f"k{i}" for i in range(K)], [(i, i + 1) for i in range(K - 1)])
    rng = np.random.default_rng(0)
    heat = rng.random((K, 46, 46), dtype=np.float32)
    paf = (rng.random((2 * (K - 1), 46, 46), dtype=np.float32) * 2 - 1).astype(np.float32)
    return sk, heat, paf


@pytest.mark.parametrize("backend", BACKENDS)
def test_joining_a_200_keypoint_chain_on_noise_is_bounded(backend):
    sk, heat, paf = chain_case()
    poses, seconds = timed(pafdecode.Decoder(sk, backend=backend), heat, paf)
    assert seconds < BOUND
    assert poses.stats["peaks"] == 200 * 128
    assert_sane(poses, 46, 46, 8)


def scoring_case():
    rng = np.random.default_rng(0)
    heat = rng.random((2, 60, 60), dtype=np.float32)
    paf = (rng.random((2, 60, 60), dtype=np.float32) * 2 - 1).astype(np.float32)
    return heat, paf


@pytest.mark.parametrize("backend", BACKENDS)
def test_4096_samples_and_peaks_on_noise_are_bounded(backend):
    heat, paf = scoring_case()
    decoder = pafdecode.Decoder(PAIR, backend=backend, paf_samples=4096, max_peaks=4096)
    poses, seconds = timed(decoder, heat, paf)
    assert seconds < BOUND
    assert poses.stats["peaks"] > 2 * 128  # the cap of 4096 is what lets them all in
    assert_sane(poses, 60, 60, 8)


def test_max_peaks_4096_workspace_is_sized_to_the_map():
    if "c" not in BACKENDS:
        pytest.skip("the C backend is not built")
    # At most one peak per 2 x 2 block of a 46 x 46 map: 529 a channel, not 4096
    # (which reserved 706 MB for the candidates and their sort alone).
    big = pafdecode.Decoder(PAIR, backend="c", max_peaks=4096)._core.workspace_bytes(46, 46)
    fit = pafdecode.Decoder(PAIR, backend="c", max_peaks=529)._core.workspace_bytes(46, 46)
    assert big < 32 * 2**20
    # Only the output rows (sized by max_peaks, as pd_max_people is) differ.
    assert big - fit < 2**20


PROPERTY = textwrap.dedent('''
    import os, sys
    import numpy as np
    from hypothesis import HealthCheck, given, settings, strategies as st
    import pafdecode

    FMAX = float(np.finfo(np.float32).max)
    BACKENDS = pafdecode.available_backends()
    EXAMPLES = 600 if os.environ.get("PAFDECODE_HYPOTHESIS") == "thorough" else 60
    values = st.one_of(
        st.floats(width=32, allow_nan=True, allow_infinity=True),
        st.sampled_from([FMAX, -FMAX, 3e38, -3e38, 2e38, -1e38, 3.4028232e38, 0.0, 1.0]),
        st.floats(0, 1, width=32))
    options = st.fixed_dictionaries({}, optional={
        "stride": st.sampled_from([0.001, 4096.0, 1.0]),
        "peak_radius": st.sampled_from([1, 2, 64]),
        "max_peaks": st.sampled_from([1, 4096]),
        "peak_support": st.sampled_from([None, FMAX, 0.3]),
        "split_merged_peaks": st.sampled_from([None, FMAX, 0.5]),
        "paf_threshold": st.sampled_from([0.0, FMAX]),
        "paf_samples": st.sampled_from([2, 64]),
        "min_inlier_ratio": st.sampled_from([0.0, 1.0]),
        "max_limb_length": st.sampled_from([None, 0.001, 1e300]),
        "max_candidates": st.sampled_from([1, 16777216]),
        "assignment": st.sampled_from(["greedy", "hungarian"]),
        "shared_peak_score": st.sampled_from([None, FMAX]),
        "join_fragments": st.sampled_from([None, 1.0]),
        "min_keypoints": st.sampled_from([1, 4096]),
        "min_person_score": st.sampled_from([0.0, FMAX])})

    @st.composite
    def frames(draw):
        K = draw(st.integers(2, 4))
        h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
        limbs = [(i, i + 1) for i in range(K - 1)]
        heat = np.array(draw(st.lists(values, min_size=K * h * w, max_size=K * h * w)),
                        np.float32).reshape(K, h, w)
        n = 2 * len(limbs) * h * w
        paf = np.array(draw(st.lists(values, min_size=n, max_size=n)),
                       np.float32).reshape(-1, h, w)
        return K, limbs, heat, paf

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(frames(), options)
    def check(frame, opts):
        K, limbs, heat, paf = frame
        sk = pafdecode.Skeleton([f"k{i}" for i in range(K)], limbs)
        results = []
        for backend in BACKENDS:
            poses = pafdecode.Decoder(sk, backend=backend, **opts)(heat, paf)
            stride = opts.get("stride", 8.0)
            kp = np.asarray(poses.keypoints, np.float64).reshape(-1, 3)
            assert np.isfinite(kp).all() and np.isfinite(np.asarray(poses.scores)).all()
            shown = kp[~(kp == 0).all(axis=1)]
            slack = 1e-3 * stride * max(heat.shape[1:]) + 1e-3
            assert (shown[:, :2] >= -0.5 - slack).all()
            assert (shown[:, 0] <= heat.shape[2] * stride - 0.5 + slack).all()
            assert (shown[:, 1] <= heat.shape[1] * stride - 0.5 + slack).all()
            results.append((np.asarray(poses.keypoints), np.asarray(poses.scores)))
        for other in results[1:]:
            np.testing.assert_array_equal(other[0], results[0][0])
            np.testing.assert_array_equal(other[1], results[0][1])

    check()
    print("passed")
''')


def test_public_api_property_with_hostile_values_in_a_subprocess():
    """Decoder on every backend over extreme finite values, NaN and Inf, tiny maps
    and options at their limits: outputs finite and in the image, the backends
    identical. In a subprocess, so that a crash fails this test."""
    run = subprocess.run([sys.executable, "-c", PROPERTY], capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "passed" in run.stdout
