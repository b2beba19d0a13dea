"""Decode speed on rendered crowds (368x656 images, 46x82 maps, stride 8), one thread.

Run: python -m pytest bench --benchmark-only --benchmark-columns=median,iqr,rounds
"""

import threading

import numpy as np
import pytest

from pafdecode import Decoder, Skeleton

COCO = Skeleton.openpose_coco18()


@pytest.mark.parametrize("assignment", ["greedy", "hungarian"])
@pytest.mark.parametrize("n_people", [1, 10, 20, 50, 100])
def test_decode(benchmark, crowd, n_people, assignment):
    scene = crowd(n_people)
    decoder = Decoder(COCO, assignment=assignment)
    poses = benchmark(decoder, scene.heatmaps, scene.pafs)
    benchmark.extra_info.update(people_true=n_people, people_found=len(poses), **poses.stats)


@pytest.mark.parametrize("peak_support", [None, 0.15])
@pytest.mark.parametrize("n_people", [20, 100])
def test_decode_noisy(benchmark, crowd, n_people, peak_support):
    """Noise makes a peak of every spike above the threshold; peak_support drops
    the spikes that have no mass around them."""
    scene = crowd(n_people, noisy=True)
    decoder = Decoder(COCO, peak_support=peak_support)
    poses = benchmark(decoder, scene.heatmaps, scene.pafs)
    benchmark.extra_info.update(people_found=len(poses), **poses.stats)


CROWD_OPTIONS = {
    "one peak per person": dict(shared_peak_score=None, join_fragments=None),
    "shared peaks": dict(join_fragments=None),
    "default (shared peaks, joined fragments)": {},
    "split peaks, joined fragments": dict(split_merged_peaks=0.3),
}


@pytest.mark.parametrize("options", list(CROWD_OPTIONS))
@pytest.mark.parametrize("n_people", [20, 50, 100])
def test_decode_crowd_options(benchmark, crowd, n_people, options):
    """The crowd options against OpenPose's rule (one peak per person), on crowds
    with 8% of joints hidden, where fragment joining has work to do."""
    scene = crowd(n_people, occluded=True)
    decoder = Decoder(COCO, max_peaks=max(128, 2 * n_people), **CROWD_OPTIONS[options])
    poses = benchmark(decoder, scene.heatmaps, scene.pafs)
    benchmark.extra_info.update(people_true=n_people, people_found=len(poses), **poses.stats)


@pytest.mark.parametrize("denormals", ["kept", "flushed"])
@pytest.mark.parametrize("n_people", [1, 20])
def test_denormals_do_not_slow_decoding(benchmark, crowd, flush_denormals, n_people,
                                        denormals):
    """Rendered Gaussians leave float32 denormals in their tails; compare the two."""
    scene = crowd(n_people)
    heat = scene.heatmaps if denormals == "kept" else flush_denormals(scene.heatmaps)
    tiny = np.finfo(np.float32).tiny
    benchmark.extra_info["denormal_cells"] = int(((heat != 0) & (np.abs(heat) < tiny)).sum())
    benchmark(Decoder(COCO), heat, scene.pafs)


def test_decode_batch_of_16(benchmark, crowd):
    scenes = [crowd(n) for n in (1, 10, 20, 50)] * 4
    heat = np.stack([s.heatmaps for s in scenes])
    paf = np.stack([s.pafs for s in scenes])
    benchmark(Decoder(COCO).decode_batch, heat, paf)


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_decode_16_frames(benchmark, crowd, threads):
    """16 frames of 50 people split over threads: with the GIL released, two
    threads on two cores take about half the time of one."""
    scene = crowd(50)
    decoder = Decoder(COCO)

    def run():
        def work():
            for _ in range(16 // threads):
                decoder(scene.heatmaps, scene.pafs)
        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    benchmark(run)
