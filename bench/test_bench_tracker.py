"""Tracker.update against the decode of the same frame, at 50 people.

    python -m pytest bench/test_bench_tracker.py --benchmark-only
"""

import copy

import pytest

from pafdecode import Decoder, Skeleton, Tracker, mot

SK = Skeleton.openpose_coco18()
PEOPLE = 50


@pytest.fixture(scope="module")
def walking():
    """A 50-person walking crowd (5 % of joints hidden): its fields and decodes."""
    crowd = mot.walking_crowd(PEOPLE, 31, 2024, occlusion=0.05)
    decoder = Decoder(SK)
    fields = [crowd.fields(f) for f in range(crowd.num_frames)]
    return decoder, fields, [decoder(*f) for f in fields]


def _warm(tracker, decoded):
    """`tracker` after every frame but the last: each round then times the same
    update, of the last frame, on its own copy of this state."""
    for f, poses in enumerate(decoded[:-1]):
        tracker.update(poses, timestamp=f / 30)
    return tracker


def test_decode_50_people(benchmark, walking):
    decoder, fields, _ = walking
    heatmaps, pafs = fields[-1]
    benchmark.group = "track vs decode, 50 people"
    poses = benchmark(decoder, heatmaps, pafs)
    assert len(poses) >= PEOPLE * 0.8


def test_tracker_update_50_people(benchmark, walking):
    _, _, decoded = walking

    warm = _warm(Tracker(SK), decoded)

    def setup():
        return (copy.deepcopy(warm), decoded[-1]), {"timestamp": (len(decoded) - 1) / 30}

    benchmark.group = "track vs decode, 50 people"
    out = benchmark.pedantic(lambda tracker, poses, timestamp: tracker.update(poses, timestamp),
                             setup=setup, rounds=300)
    assert (out.track_ids >= 0).sum() >= PEOPLE * 0.8


def test_tracker_update_50_people_smoothed(benchmark, walking):
    _, _, decoded = walking

    warm = _warm(Tracker(SK, smoothing="one_euro"), decoded)

    def setup():
        return (copy.deepcopy(warm), decoded[-1]), {"timestamp": (len(decoded) - 1) / 30}

    benchmark.group = "track vs decode, 50 people"
    out = benchmark.pedantic(lambda tracker, poses, timestamp: tracker.update(poses, timestamp),
                             setup=setup, rounds=300)
    assert (out.track_ids >= 0).sum() >= PEOPLE * 0.8
