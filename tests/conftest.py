import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import pafdecode

# Property tests take a modest example count by default; PAFDECODE_HYPOTHESIS=thorough
# asks for ten times more.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=600, deadline=None)
settings.load_profile(os.environ.get("PAFDECODE_HYPOTHESIS", "default"))

BACKENDS = ["c"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def make_decoder(backend):
    """A Decoder factory bound to the backend under test."""

    def make(skeleton=None, **options):
        return pafdecode.Decoder(skeleton or pafdecode.Skeleton.openpose_coco18(), **options)

    return make


def shared_dir():
    """The real models and data beside the project, or None."""
    env = os.environ.get("PAFDECODE_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
