import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import pafdecode

# Property tests take a modest example count by default; PAFDECODE_HYPOTHESIS=thorough
# asks for ten times more.
# The backend fixtures are parameters, not state, so sharing them across examples is safe.
_shared = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("default", max_examples=60, **_shared)
settings.register_profile("thorough", max_examples=600, **_shared)
settings.load_profile(os.environ.get("PAFDECODE_HYPOTHESIS", "default"))

from pafdecode.backends import load_backend

# Every decoder test runs on every backend this installation has, so the twins
# cannot drift apart.
BACKENDS = pafdecode.available_backends()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def kernels(backend):
    """The backend module under test (find_peaks, linear_sum_assignment, ...)."""
    return load_backend(backend)


@pytest.fixture
def make_decoder(backend):
    """A Decoder factory bound to the backend under test."""

    def make(skeleton=None, config=None, **options):
        options.setdefault("backend", backend)
        return pafdecode.Decoder(skeleton or pafdecode.Skeleton.openpose_coco18(), config,
                                 **options)

    return make


def shared_dir():
    """The real models and data beside the project, or None."""
    env = os.environ.get("PAFDECODE_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared():
    """The real models and data, or a skip that says why."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared (real models and data) is absent; set PAFDECODE_SHARED to it")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def pafdecode_command():
    """The installed ``pafdecode`` command of this interpreter's environment, found beside
    sys.executable so an unactivated venv runs its own command, not one on PATH."""
    exe = Path(sys.executable).parent / "pafdecode"
    if not exe.exists():
        pytest.skip(f"the pafdecode command is not installed beside {sys.executable}")
    return str(exe)


@pytest.fixture(scope="session")
def run_cli(pafdecode_command):
    """Runs the installed command (without a PAFDECODE_MODEL from the caller's
    environment); returns (exit status, stdout, stderr)."""

    def run(*args, stdin=None):
        env = {k: v for k, v in os.environ.items() if k != "PAFDECODE_MODEL"}
        done = subprocess.run([pafdecode_command, *map(str, args)], input=stdin,
                              capture_output=True, text=True, env=env, timeout=600)
        return done.returncode, done.stdout, done.stderr

    return run
