import numpy as np
import pytest

from pafdecode import synth

IMAGE_SIZE = (368, 656)  # 46 x 82 maps at stride 8


@pytest.fixture(scope="session")
def crowd():
    """Seeded crowd scenes of ``synth.crowd_scene``'s default size model (people 80-300
    px tall at every count), cached per (people, noisy, occluded); noisy ones are
    occluded too."""
    cache = {}

    def get(n_people, noisy=False, occluded=False):
        key = (n_people, noisy, occluded)
        if key not in cache:
            options = dict(noise=0.05, peak_variation=0.3) if noisy else {}
            if noisy or occluded:
                options["occlusion"] = 0.08
            cache[key] = synth.crowd_scene(n_people, 1000 + n_people, image_size=IMAGE_SIZE,
                                           **options)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def flush_denormals():
    def flush(array):
        tiny = np.finfo(np.float32).tiny
        return np.where(np.abs(array) < tiny, np.float32(0), array).astype(np.float32)

    return flush
