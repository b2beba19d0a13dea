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
