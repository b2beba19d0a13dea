"""The ``pafdecode`` command line."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import synth
from .decoder import Decoder
from .skeleton import Skeleton


def _median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times)), result


def _recovered_keypoints(truth, found, stride):
    """How many visible true keypoints come back within one map pixel, each true
    person scored against the found person that recovers most of its keypoints."""
    total = 0
    for person in truth:
        visible = person[:, 2] > 0
        if not visible.any() or len(found) == 0:
            continue
        d = np.linalg.norm(found[:, visible, :2] - person[None, visible, :2], axis=2)
        close = (d <= stride) & (found[:, visible, 2] > 0)
        total += int(close.sum(axis=1).max())
    return total


def demo(args):
    """Decodes a seeded synthetic crowd, times it and summarises what was found."""
    skeleton = Skeleton.body25() if args.skeleton == "body25" else Skeleton.openpose_coco18()
    scene = synth.crowd_scene(args.people, args.seed, image_size=tuple(args.image_size),
                              skeleton=skeleton, occlusion=args.occlusion, noise=args.noise)
    h, w = scene.heatmaps.shape[1:]
    visible = int((scene.people[:, :, 2] > 0).sum())
    print(f"pafdecode demo: {args.people} synthetic people ({args.skeleton}), image "
          f"{args.image_size[0]}x{args.image_size[1]}, maps {h}x{w} at stride {scene.stride}, "
          f"{visible} visible keypoints, seed {args.seed}")
    print(f"{'assignment':<11} {'median ms':>9} {'people':>7} {'peaks':>6} {'limbs':>6} "
          f"{'keypoints within 1 map px':>26}")
    for mode in ("greedy", "hungarian"):
        decoder = Decoder(skeleton, stride=scene.stride, assignment=mode)
        ms, poses = _median_ms(lambda: decoder(scene.heatmaps, scene.pafs), args.repeat)
        recovered = _recovered_keypoints(scene.people, poses.keypoints, scene.stride)
        print(f"{mode:<11} {ms:9.3f} {len(poses):7d} {poses.stats['peaks']:6d} "
              f"{poses.stats['candidates']:6d} {recovered:>17d} of {visible:<6d}")
    return 0


def _bench_main(args):
    from . import bench
    return bench.main(args)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pafdecode", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="decode a synthetic crowd, timed and summarised")
    p.add_argument("--people", type=int, default=20, help="crowd size (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--image-size", type=int, nargs=2, default=[368, 656],
                   metavar=("H", "W"), help="image height and width (default 368 656)")
    p.add_argument("--skeleton", choices=["coco18", "body25"], default="coco18")
    p.add_argument("--occlusion", type=float, default=0.0, help="share of hidden joints")
    p.add_argument("--noise", type=float, default=0.0, help="field noise std")
    p.add_argument("--repeat", type=int, default=50, help="timed decodes per mode")
    p.set_defaults(run=demo)

    b = sub.add_parser("bench", help="crowd benchmark: speed and accuracy against people count")
    b.add_argument("--people", type=int, nargs="+", default=[1, 5, 10, 20, 50, 100, 200])
    b.add_argument("--scenes", type=int, default=3, help="seeded scenes per people count")
    b.add_argument("--repeat", type=int, default=5, help="timed decodes per scene")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--backends", nargs="+", default=["c"], choices=["c", "numba"])
    b.add_argument("--assignments", nargs="+", default=["greedy", "hungarian"],
                   choices=["greedy", "hungarian"])
    b.add_argument("--skeleton", choices=["coco18", "body25"], default="coco18")
    b.add_argument("--occlusion", type=float, default=0.0, help="share of hidden joints")
    b.add_argument("--noise", type=float, default=0.0, help="field noise std")
    b.add_argument("--peak-variation", type=float, default=0.0)
    b.add_argument("--image-size", type=int, nargs=2, default=[368, 656], metavar=("H", "W"))
    b.add_argument("--baseline", action="store_true",
                   help="also time the plain NumPy/Python reference decoder")
    b.add_argument("--max-dets", type=int, default=None,
                   help="COCO maxDets (default: max(20, largest crowd))")
    b.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    b.add_argument("--plot", metavar="FILE.png", help="draw time and AP against people")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(run=lambda args: _bench_main(args))
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
