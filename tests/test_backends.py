"""Backend choice: auto, explicit, forced by the environment, and missing."""

import warnings

import pytest

import pafdecode
from pafdecode import Decoder, Skeleton, backends

COCO = Skeleton.openpose_coco18()


@pytest.fixture
def fresh_backends(monkeypatch):
    """Forget what was loaded, so a test can pretend a backend is missing."""
    monkeypatch.setattr(backends, "_loaded", {})
    monkeypatch.setattr(backends, "_failures", {})
    monkeypatch.setattr(backends, "_warned", False)
    monkeypatch.delenv(backends.ENV_VAR, raising=False)
    return monkeypatch


def test_compiled_backend_is_built():
    assert "c" in pafdecode.available_backends()


def test_auto_prefers_c(fresh_backends):
    assert Decoder(COCO).backend == "c"


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="backend must be 'auto', 'c' or 'numba'"):
        Decoder(COCO, backend="cuda")


def test_environment_forces_auto(fresh_backends):
    fresh_backends.setenv(backends.ENV_VAR, "c")
    assert Decoder(COCO).backend == "c"
    fresh_backends.setenv(backends.ENV_VAR, "fortran")
    with pytest.raises(ValueError, match="PAFDECODE_BACKEND must be"):
        Decoder(COCO)


def test_missing_backend_says_how_to_get_it(fresh_backends):
    fresh_backends.setitem(backends._MODULES, "numba", "pafdecode._no_such_module")
    with pytest.raises(ImportError, match=r"pip install 'pafdecode\[numba\]'"):
        Decoder(COCO, backend="numba")
    assert "numba" not in pafdecode.available_backends()


@pytest.mark.skipif("numba" not in pafdecode.available_backends(),
                    reason="the Numba backend is not installed (pip install numba)")
def test_auto_falls_back_to_numba_with_one_warning(fresh_backends):
    fresh_backends.setitem(backends._MODULES, "c", "pafdecode._no_such_module")
    with pytest.warns(RuntimeWarning, match="compiled extension is missing"):
        first = Decoder(COCO)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = Decoder(COCO)
    assert first.backend == second.backend == "numba"
    scene = pafdecode.synth.crowd_scene(3, 0)
    assert len(first(scene.heatmaps, scene.pafs)) == 3


def test_nothing_available(fresh_backends):
    fresh_backends.setitem(backends._MODULES, "c", "pafdecode._no_such_module")
    fresh_backends.setitem(backends._MODULES, "numba", "pafdecode._no_such_module")
    with pytest.raises(ImportError, match="no pafdecode backend is available"):
        Decoder(COCO)


def test_importing_pafdecode_does_not_import_numba():
    import subprocess
    import sys
    code = "import sys, pafdecode; sys.exit('numba' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


numba_only = pytest.mark.skipif("numba" not in pafdecode.available_backends(),
                                reason="the Numba backend is not installed (pip install numba)")


def _numba_record(**options):
    from pafdecode import _params
    values = {p.name: p.default for p in _params.PARAMS}
    values.update(options)
    return _params.to_record(values)


@numba_only
@pytest.mark.parametrize("options", [{}, {"split_merged_peaks": 0.6},
                                     {"assignment": "hungarian", "join_fragments": None}])
def test_numba_stages_chain_to_the_decode(options):
    """The six stage bindings, each fed the one before, give the whole decode."""
    import numpy as np
    from pafdecode import _numba, synth
    scene = synth.crowd_scene(12, rng=5, skeleton=COCO, occlusion=0.08)
    heat = np.ascontiguousarray(scene.heatmaps, np.float32)
    paf = np.ascontiguousarray(scene.pafs, np.float32)
    rec = _numba_record(**options)
    limbs = np.asarray(COCO.limbs, np.int32)
    red = np.asarray(COCO.redundant, np.uint8)
    core = _numba.CoreDecoder(limbs, COCO.paf_channels, red, COCO.num_keypoints, rec)
    kp, sc, stats = core.decode(heat, paf)
    peaks, counts = _numba.stage_peaks(heat[:COCO.num_keypoints], rec)
    cands = _numba.stage_candidates(paf, limbs, np.asarray(COCO.paf_channels, np.int32),
                                    peaks, counts, rec)
    conns = _numba.stage_connections(cands, counts, limbs, rec)
    people = _numba.stage_assembly(cands, conns, peaks, counts, limbs, red, rec)
    joined = _numba.stage_join(people, peaks, counts, limbs, red, rec)
    kp2, sc2 = _numba.stage_emit(joined, peaks, counts, rec)
    assert np.array_equal(kp, kp2) and np.array_equal(sc, sc2)
    assert stats == (int(counts.sum()), sum(len(s) for _, s in cands),
                     sum(len(s) for _, s in conns), len(sc2))


@numba_only
def test_numba_core_checks_the_record_by_the_table():
    from pafdecode import _numba
    rec = _numba_record()
    rec["paf_samples"] = 1
    rec["min_inlier_ratio"] = 2.0
    with pytest.raises(ValueError, match=r"paf_samples is out of range for the Numba core"):
        _numba.CoreDecoder(COCO.limbs, COCO.paf_channels, COCO.redundant, COCO.num_keypoints,
                           rec)


def test_numba_cache_filled_from_other_sources_is_emptied(tmp_path):
    """Numba keys each file's cache on that file alone; a folder stamped with other
    sources (an upgrade that changed a callee) loses its compiled files, once."""
    pytest.importorskip("numba")
    from pafdecode import _numba

    stale = tmp_path / "stale"
    stale.mkdir()
    for name in ("decode._decode_frames-121.py311.nbi", "decode._decode_frames-121.py311.1.nbc",
                 "decode.cpython-311.pyc"):
        (stale / name).write_bytes(b"old")
    (stale / _numba._STAMP).write_text("an older fingerprint")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "peaks.find-1.py311.nbi").write_bytes(b"current")
    (fresh / _numba._STAMP).write_text("now")
    _numba._forget_stale_cache([str(stale), str(fresh)], "now")
    assert sorted(p.name for p in stale.iterdir()) == ["decode.cpython-311.pyc", _numba._STAMP]
    assert (stale / _numba._STAMP).read_text() == "now"
    assert (fresh / "peaks.find-1.py311.nbi").read_bytes() == b"current"
    fingerprint = _numba._sources_fingerprint()
    assert len(fingerprint) == 64 and fingerprint == _numba._sources_fingerprint()
