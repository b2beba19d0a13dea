"""Memory and threads: repeated decodes keep the process's resident memory flat, and
threads sharing one Decoder get exactly the people one thread gets.

The decode counts are modest by default; PAFDECODE_MEMORY=long asks for the long forms
of issue 13 (100,000 decodes of a small frame, 2,000 of a 50-person frame).
"""

import mmap
import gc
import os
import random
import threading

import numpy as np
import pytest

from pafdecode import Skeleton, synth

LONG = os.environ.get("PAFDECODE_MEMORY") == "long"
SMALL_DECODES = 100_000 if LONG else 20_000
CROWD_DECODES = 2_000 if LONG else 300
GROWTH = 0.05   # the most resident memory may grow after the warm-up

COCO = Skeleton.openpose_coco18()

statm = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                           reason="resident memory is read from /proc/self/statm (Linux)")


def resident_bytes():
    """The process's resident set size: statm's second field, in pages."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def growth_over(decode, count, warm_up):
    """Resident memory after `count` calls of `decode`, relative to after `warm_up`."""
    for _ in range(warm_up):
        decode()
    gc.collect()
    before = resident_bytes()
    for _ in range(count):
        decode()
    gc.collect()
    after = resident_bytes()
    return (after - before) / before, before, after


def check_flat(decode, count, warm_up):
    growth, before, after = growth_over(decode, count, warm_up)
    assert growth <= GROWTH, (f"resident memory grew {growth:.1%} over {count} decodes "
                              f"({before / 2**20:.1f} -> {after / 2**20:.1f} MiB)")


@statm
def test_small_frames_keep_memory_flat(make_decoder):
    scene = synth.crowd_scene(2, 1, image_size=(96, 128), noise=0.02)
    decoder = make_decoder(COCO)
    assert len(decoder(scene.heatmaps, scene.pafs)) == 2
    check_flat(lambda: decoder(scene.heatmaps, scene.pafs), SMALL_DECODES,
               warm_up=SMALL_DECODES // 10)


@statm
def test_crowded_frames_keep_memory_flat(make_decoder):
    scene = synth.crowd_scene(50, 2, image_size=(368, 656), noise=0.02)
    decoder = make_decoder(COCO)
    assert len(decoder(scene.heatmaps, scene.pafs)) >= 45
    check_flat(lambda: decoder(scene.heatmaps, scene.pafs), CROWD_DECODES,
               warm_up=max(CROWD_DECODES // 10, 20))


@statm
def test_batches_and_converted_input_keep_memory_flat(make_decoder):
    # The paths that allocate before the core: masked, big-endian and HWC input.
    scene = synth.crowd_scene(3, 4, image_size=(96, 128), noise=0.02)
    masked = np.ma.masked_array(scene.heatmaps, mask=scene.heatmaps < 0.01)
    big_endian = scene.pafs.astype(">f4")
    decoder = make_decoder(COCO)
    batch = (np.ma.stack([masked] * 3), np.stack([big_endian] * 3))
    check_flat(lambda: decoder.decode_batch(*batch), SMALL_DECODES // 20,
               warm_up=SMALL_DECODES // 200)


def test_the_rss_probe_sees_a_leak():
    # The measure must be able to fail: holding 64 MiB more shows as growth.
    held = []

    def leak():
        # 1 MiB of fresh pages, touched: an anonymous map never reuses memory the
        # allocator already holds (a NumPy array could, after earlier tests freed some).
        block = mmap.mmap(-1, 2**20)
        block.write(b"\1" * 2**20)
        held.append(block)

    growth, before, _ = growth_over(leak, 64, warm_up=1)
    assert growth * before > 48 * 2**20


# -- threads ----------------------------------------------------------------------------

def _frames():
    """Scenes of several sizes and crowds, so threads' scratch buffers grow at
    different moments."""
    sizes = [(64, 96), (160, 240), (368, 432), (96, 656)]
    return [synth.crowd_scene(n, 100 + i, image_size=sizes[i % len(sizes)], noise=0.03,
                              peak_variation=0.2, occlusion=0.05)
            for i, n in enumerate((0, 1, 4, 9, 20, 35, 3, 12))]


def _same(a, b):
    return (np.array_equal(a.keypoints, b.keypoints) and np.array_equal(a.scores, b.scores)
            and a.stats == b.stats)


@pytest.mark.parametrize("options", [{}, {"assignment": "hungarian",
                                          "split_merged_peaks": 0.6}])
def test_eight_threads_sharing_a_decoder_match_one_thread(make_decoder, options):
    scenes = _frames()
    decoder = make_decoder(COCO, **options)
    expected = [decoder(s.heatmaps, s.pafs) for s in scenes]
    assert sum(len(p) for p in expected) > 50
    rounds, threads = 6, 8
    start = threading.Barrier(threads)
    results = [[] for _ in range(threads)]
    errors = []

    def work(t):
        order = list(range(len(scenes))) * rounds
        random.Random(t).shuffle(order)
        try:
            start.wait()
            for i in order:
                s = scenes[i]
                if i % 3 == 0:     # the batch path shares the decoder too
                    got = decoder.decode_batch(s.heatmaps[None], s.pafs[None])[0]
                else:
                    got = decoder(s.heatmaps, s.pafs)
                results[t].append((i, got))
        except BaseException as exc:   # reported below, in the main thread
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=600)
    assert not errors, errors
    assert not any(w.is_alive() for w in workers)
    for t in range(threads):
        assert len(results[t]) == rounds * len(scenes)
        for i, got in results[t]:
            assert _same(got, expected[i]), f"thread {t}, frame {i}"
