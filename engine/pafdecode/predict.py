"""``pafdecode predict`` and ``pafdecode eval``: photos to people, COCO results and AP.

Everything that can fail before the network runs is checked first (inputs, output
folders, the model, the annotations); then a worker thread reads images and runs the
network while the main thread decodes, draws and writes the previous batch. A photo
that cannot be read is skipped with one line on stderr and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                  ".ppm", ".pgm")
PRESETS = ("tfpose", "openpose-caffe", "two-outputs")
CONFIGS = ("openpose", "default", "crowd", "noisy")


@dataclass
class Item:
    """One input image: its path, the name its outputs take, its COCO image id."""

    path: Path
    name: str          # relative path without suffix, unique among the inputs
    image_id: int
    file_name: str     # as written into results without --annotations


@dataclass
class Totals:
    images: int = 0
    people: int = 0
    skipped: list = field(default_factory=list)
    network_ms: float = 0.0
    decode_ms: float = 0.0
    results: list = field(default_factory=list)


def plural(n, word, many=None):
    return f"{n} {word if n == 1 else (many or word + 's')}"


# -- inputs ------------------------------------------------------------------------

def _is_image(path):
    return path.suffix.lower() in IMAGE_SUFFIXES


def _from_stdin(stdin):
    return [p for line in stdin.read().splitlines() if line.strip()
            for p in _expand(line.strip(), None)]


def _expand(spec, stdin):
    """The image paths one command-line input stands for."""
    if spec == "-" and stdin is not None:
        return _from_stdin(stdin)
    path = Path(spec)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and _is_image(p))
        if not found:
            raise ValueError(f"folder {spec} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        return found
    if path.exists() or not glob.has_magic(spec):
        if not path.exists():
            raise ValueError(f"input {spec} does not exist")
        return [path]
    matched = sorted(glob.glob(spec, recursive=True))
    if not matched:
        raise ValueError(f"pattern {spec!r} matches no files")
    # A folder the pattern matches stands for its images, as on the command line.
    return [p for m in matched for p in (_expand(m, None) if Path(m).is_dir() else [Path(m)])]


def collect_inputs(specs, stdin=sys.stdin):
    """Files, folders (their images, sorted) and globs, in order; ``-`` reads paths
    from stdin, one a line. Returns a list of :class:`Item` with unique names."""
    paths = []
    for spec in specs:
        paths.extend(_expand(spec, stdin))
    if not paths:
        raise ValueError("no input images")
    # Absolute, not resolved: a link is named as the user named it, not as its target.
    absolute = [Path(os.path.abspath(p)) for p in paths]
    root = Path(os.path.commonpath([str(p.parent) for p in absolute]))
    items, taken = [], set()
    for position, (path, full) in enumerate(zip(paths, absolute), start=1):
        rel = full.relative_to(root)
        name = unique_name(rel.with_suffix("").as_posix(), taken)
        items.append(Item(path, name, position, rel.as_posix()))
    return items


def unique_name(name, taken):
    """`name`, or `name-2`, `name-3`, ... when it is taken; records the one returned."""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate.lower())
    return candidate


def match_annotations(items, annotations_path, report):
    """Give each item the id of the ground-truth image of the same file name; items
    not in the annotations are reported and dropped. Returns (items, ground truth)."""
    gt = load_json(annotations_path, "--annotations")
    if not isinstance(gt, dict) or not isinstance(gt.get("images"), list):
        raise ValueError(f"--annotations {annotations_path}: not COCO format (no 'images' "
                         f"list)")
    ids = {}
    for image in gt["images"]:
        ids.setdefault(os.path.basename(str(image.get("file_name", ""))), image.get("id"))
    kept = []
    for item in items:
        image_id = ids.get(item.path.name)
        if image_id is None:
            report(f"pafdecode: skipped {item.path}: not in {annotations_path}")
            continue
        item.image_id = image_id
        kept.append(item)
    if not kept:
        raise ValueError(f"none of the inputs is an image of {annotations_path}")
    return kept, gt


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise ValueError(f"{what} {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} {path} is not JSON: {exc}") from None


# -- checks before any work --------------------------------------------------------

def prepare_folder(folder, what):
    """Create `folder` if needed and check that it is writable."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {folder}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {folder} is not writable")
    return path


def prepare_json(target):
    """The parent of a ``--json`` file exists (created) and is writable."""
    if target is None or target == "-":
        return
    parent = Path(target).parent
    prepare_folder(parent, "--json folder")
    if Path(target).is_dir():
        raise ValueError(f"--json {target} is a folder")


def decoder_options(args):
    """Decoder keywords from --config, --backend and the threshold flags."""
    from ._params import PARAMS
    from .config import DecoderConfig

    config = getattr(DecoderConfig, args.config)()
    overrides = {}
    for p in PARAMS:
        value = getattr(args, p.name, None)
        if value is not None:
            overrides[p.name] = None if value is OFF else value
    config = config.replace(**overrides)  # ValueError naming the option and its range
    options = {"config": config}
    if args.backend:
        options["backend"] = args.backend
    return options


OFF = type("Off", (), {"__repr__": lambda self: "none"})()


def model_options(args):
    """The network's path and the keywords of its preset, from the flags."""
    from .cli import _find_model, augmentation_options

    path = _find_model(args.model)
    if path is None:
        raise ValueError("--model is required (or set PAFDECODE_MODEL)")
    options = dict(decoder_options(args), **augmentation_options(args))
    if args.input_size:
        options["input_size"] = tuple(args.input_size)
    if args.providers:
        options["providers"] = check_providers(args.providers)
    return path, options


def load_model(args):
    """The network, loaded and checked, with the decoder the flags ask for."""
    from .model import OnnxPoseModel

    path, options = model_options(args)
    preset = {"tfpose": OnnxPoseModel.tfpose, "openpose-caffe": OnnxPoseModel.openpose_caffe,
              "two-outputs": OnnxPoseModel.two_outputs}[args.preset]
    try:
        return preset(path, **options)
    except (ValueError, TypeError, ImportError):
        raise
    except Exception as exc:  # onnxruntime's own errors for a non-ONNX or broken file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"cannot load model {path}: {first}") from exc


def check_providers(text):
    """The --providers list, unknown names refused and unavailable ones dropped (a
    preference list such as CUDA,CPU works on a CPU-only machine)."""
    import onnxruntime as ort

    wanted = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in ort.get_all_providers()]
    if unknown:
        raise ValueError(f"--providers: unknown onnxruntime execution provider "
                         f"{', '.join(unknown)}; this onnxruntime has "
                         f"{', '.join(ort.get_available_providers())}")
    usable = [p for p in wanted if p in ort.get_available_providers()]
    if not usable:
        raise ValueError(f"--providers: none of {', '.join(wanted)} is available here; "
                         f"this onnxruntime has {', '.join(ort.get_available_providers())}")
    return usable


# -- the pipeline ------------------------------------------------------------------

def _read(item, args):
    from .io import load_image

    try:
        return load_image(item.path, "BGR", exif_transpose=not args.no_exif,
                          max_pixels=args.max_pixels), None
    except (OSError, ValueError, SyntaxError) as exc:
        # Pillow reports some corrupt files as SyntaxError; OSError covers unreadable,
        # truncated and unidentified files and folders.
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return None, reason
    except Exception as exc:  # any other decoder failure is still this photo's fault
        return None, f"{type(exc).__name__}: {exc}"


def _network_worker(model, items, args, out, stop):
    """Reads images and runs the network, `args.batch_size` at a time; puts
    ("skip", item, why), ("run", items, images, runs, timing), then None or an error."""
    def put(message):
        while not stop.is_set():
            try:
                out.put(message, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    try:
        for start in range(0, len(items), args.batch_size):
            batch, images = [], []
            for item in items[start:start + args.batch_size]:
                image, why = _read(item, args)
                if image is None:
                    if not put(("skip", item, why)):
                        return
                    continue
                batch.append(item)
                images.append(image)
            if batch:
                runs, timing = model.run_batch(images, batch_size=args.batch_size)
                if not put(("run", batch, images, runs, timing)):
                    return
    except BaseException as exc:  # raised again in the main thread
        put(exc)
        return
    put(None)


def pipeline(model, items, args):
    """Yields ("skip", item, why) and ("done", item, image, poses, timing share) in
    input order; the network of the next batch runs while this one is decoded."""
    out = queue.Queue(maxsize=1)
    stop = threading.Event()
    worker = threading.Thread(target=_network_worker, name="pafdecode-network",
                              args=(model, items, args, out, stop), daemon=True)
    worker.start()
    try:
        while True:
            message = out.get()
            if message is None:
                return
            if isinstance(message, BaseException):
                raise message
            if message[0] == "skip":
                yield message
                continue
            _, batch, images, runs, timing = message
            t0 = time.perf_counter()
            poses = [p for outputs, transforms, shape in runs
                     for p in model.decode_outputs(outputs, transforms, shape)]
            share = {"network_ms": timing["inference_ms"] / len(batch),
                     "preprocess_ms": timing["preprocess_ms"] / len(batch),
                     "decode_ms": (time.perf_counter() - t0) * 1e3 / len(batch)}
            for item, image, p in zip(batch, images, poses):
                yield "done", item, image, p, share
    finally:
        stop.set()
        while True:
            try:
                out.get_nowait()
            except queue.Empty:
                break
        worker.join(timeout=5.0)


class Progress:
    """A tqdm bar on stderr when tqdm is installed and wanted; `write` goes through
    it so lines do not cross the bar."""

    def __init__(self, total, enabled):
        self.bar = None
        if enabled and total > 1:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, unit="image", file=sys.stderr)

    def write(self, line):
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def update(self):
        if self.bar is not None:
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _outputs(item, image, poses, model, args):
    """The drawing and OpenPose JSON of one image."""
    from .io import save_image, write_openpose_json

    if args.draw:
        target = Path(args.draw) / (item.name + ".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        save_image(target, drawing(image[:, :, ::-1], poses, model.skeleton, args))
    if args.openpose_json:
        target = Path(args.openpose_json) / (item.name + "_keypoints.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_openpose_json(target, poses)


def drawing(rgb, poses, skeleton, args):
    """The image with its people drawn, labelled as asked, and the count top left."""
    import numpy as np

    from .draw import draw, draw_text

    keep = np.asarray(poses.scores, dtype=np.float64) >= args.min_score
    kp = np.asarray(poses.keypoints).reshape(len(keep), skeleton.num_keypoints, 3)
    canvas = draw(rgb, kp[keep], skeleton, thickness=args.line_width)
    scale = max(2, round(max(canvas.shape[:2]) / 300))
    ids = poses.track_ids if getattr(poses, "track_ids", None) is not None else None
    for i in np.flatnonzero(keep):
        seen = kp[i][kp[i][:, 2] > 0]
        if not len(seen):
            continue
        x, y = float(seen[:, 0].min()), float(seen[:, 1].min()) - 8 * scale
        label = []
        if args.draw_ids:
            label.append(f"#{int(ids[i]) if ids is not None else int(i) + 1}")
        if args.draw_scores:
            label.append(f"{float(poses.scores[i]):.2f}")
        if label:
            draw_text(canvas, " ".join(label), (x, max(y, 0)), scale=scale)
    draw_text(canvas, plural(int(keep.sum()), "person", "people").upper(), (4, 4),
              scale=scale + 1)
    return canvas


def ray_pipeline(items, args):
    """The messages of `pipeline`, from a job on Ray (``--ray``): the network runs in
    Ray's actors; images are read here again only to be drawn."""
    from . import distributed

    path, options = model_options(args)
    results = distributed.run_predict(
        [item.path for item in items], path, preset=args.preset,
        address=None if args.ray == "local" else args.ray, concurrency=args.concurrency,
        progress=not args.quiet, exif_transpose=not args.no_exif,
        max_pixels=args.max_pixels, **options)
    for item, (_, poses) in zip(items, results):
        if isinstance(poses, str):
            yield "skip", item, poses
            continue
        image = None
        if args.draw:
            image, why = _read(item, args)
            if image is None:
                yield "skip", item, why
                continue
        share = {"network_ms": poses.stats.get("inference_ms", 0.0),
                 "preprocess_ms": poses.stats.get("preprocess_ms", 0.0),
                 "decode_ms": poses.stats.get("decode_ms", 0.0)}
        yield "done", item, image, poses, share


def run(model, items, args, *, keypoint_map=None, keypoints="coco17", log=None):
    """Runs the pipeline (on Ray with ``--ray``) over the items; returns the Totals."""
    from .io import coco_results

    totals = Totals()
    messages = (ray_pipeline(items, args) if getattr(args, "ray", None)
                else pipeline(model, items, args))
    progress = Progress(len(items), not args.quiet)
    try:
        for message in messages:
            if message[0] == "skip":
                _, item, why = message
                totals.skipped.append(item.path)
                progress.write(f"pafdecode: skipped {item.path}: {why}")
                progress.update()
                continue
            _, item, image, poses, share = message
            totals.images += 1
            totals.people += len(poses)
            totals.network_ms += share["network_ms"]
            totals.decode_ms += share["decode_ms"]
            found = coco_results(poses, item.image_id, keypoints=None if keypoint_map is not None
                                 else keypoints, keypoint_map=keypoint_map)
            if not args.annotations:
                for r in found:
                    r["file_name"] = item.file_name
            totals.results += found
            _outputs(item, image, poses, model, args)
            if args.verbose:
                progress.write(f"{item.path}: {plural(len(poses), 'person', 'people')}")
            progress.update()
    finally:
        progress.close()
    return totals


def write_results(results, target):
    from .io import write_coco_results

    if target == "-":
        json.dump(results, sys.stdout)
        sys.stdout.write("\n")
        sys.stdout.flush()
    elif target:
        write_coco_results(target, results)


def summary(totals):
    n = max(totals.images, 1)
    return (f"{plural(totals.images, 'image')}, {plural(totals.people, 'person', 'people')}"
            f"{f', {len(totals.skipped)} skipped' if totals.skipped else ''}; per image: "
            f"network {totals.network_ms / n:.1f} ms, decoder {totals.decode_ms / n:.2f} ms")


def prepare(args, specs, report):
    """Every check that can fail before the network: inputs, annotations, folders,
    the --json target, the model. Returns (items, ground truth or None, model)."""
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.min_score < 0:
        raise ValueError(f"--min-score must be >= 0, got {args.min_score}")
    if args.line_width is not None and not args.line_width > 0:
        raise ValueError(f"--line-width must be > 0, got {args.line_width}")
    if args.max_pixels is not None and args.max_pixels < 1:
        raise ValueError(f"--max-pixels must be >= 1, got {args.max_pixels}")
    items = collect_inputs(specs)
    gt = None
    if args.annotations:
        items, gt = match_annotations(items, args.annotations, report)
    for folder, what in ((args.draw, "--draw"), (args.openpose_json, "--openpose-json")):
        if folder:
            prepare_folder(folder, what)
    prepare_json(args.json)
    return items, gt, load_model(args)


def predict(args):
    """``pafdecode predict``: people in photos, written as COCO results, drawings and
    OpenPose JSON."""
    def report(line):
        print(line, file=sys.stderr)

    if args.ray is not None and args.ray != "local" and Path(args.ray).exists():
        # "--ray photo.jpg ...": argparse gave the first input to --ray.
        args.images, args.ray = [args.ray, *args.images], "local"
    if args.concurrency is not None and args.concurrency < 1:
        raise ValueError(f"--concurrency must be >= 1, got {args.concurrency}")
    items, _, model = prepare(args, args.images, report)
    totals = run(model, items, args, keypoints=args.keypoints)
    write_results(totals.results, args.json)
    print(summary(totals), file=sys.stderr if args.json == "-" else sys.stdout)
    return 1 if totals.skipped else 0


# -- eval --------------------------------------------------------------------------

def _gt_keypoint_map(gt, skeleton):
    """The model's keypoints in the order of the annotations' category keypoints."""
    names = None
    for category in gt.get("categories") or []:
        if category.get("keypoints"):
            names = [str(n) for n in category["keypoints"]]
            break
    if names is None:
        return None
    idx = skeleton.index_map(names)
    if all(int(i) < 0 for i in idx):
        raise ValueError(f"the model's {skeleton.num_keypoints} keypoints share no name with "
                         f"the annotations' {len(names)}")
    return [int(i) for i in idx]


def evaluate(args):
    """``pafdecode eval``: predict on the annotated images and print keypoint AP."""
    from .metrics import coco_eval

    if args.max_dets < 1:
        raise ValueError(f"--max-dets must be >= 1, got {args.max_dets}")
    items, gt, model = prepare(args, [args.images],
                               lambda line: print(line, file=sys.stderr))
    keypoint_map = _gt_keypoint_map(gt, model.skeleton)
    totals = run(model, items, args, keypoint_map=keypoint_map)
    write_results(totals.results, args.json)
    crowd = all("crowdIndex" in image for image in gt["images"]) and bool(gt["images"])
    mode = "crowdpose" if crowd else "coco"
    scores = coco_eval(gt, totals.results, mode=mode, max_dets=args.max_dets)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(summary(totals), file=out)
    keys = (["AP", "AP50", "AP75", "AR", "AP_easy", "AP_medium", "AP_hard"] if crowd
            else ["AP", "AP50", "AP75", "APm", "APl", "AR"])
    print(f"{mode} keypoints ({plural(len(items), 'image')}, maxDets {args.max_dets}): "
          + "  ".join(f"{k} {scores[k]:.3f}" for k in keys), file=out)
    return 1 if totals.skipped else 0


# -- command-line options ----------------------------------------------------------

def _param_type(p):
    """An argparse type for one decoder option; "none" turns an optional one off."""
    def convert(text):
        if p.off_zero and text.lower() in ("none", "off"):
            return OFF
        if p.type == "enum":
            return text
        try:
            return int(text) if p.type == "int" else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {p.range_text()}, got {text!r}") \
                from None
    convert.__name__ = p.name
    return convert


def add_decoder_flags(parser):
    """--config, --backend and one flag per decoder option, from the parameter table."""
    from ._params import PARAMS

    group = parser.add_argument_group("decoder", "thresholds default to the --config "
                                      "preset's (docs/options.md explains each)")
    group.add_argument("--config", choices=CONFIGS, default="default",
                       help="decoder preset (DecoderConfig.openpose(), ...)")
    group.add_argument("--backend", choices=["c", "numba"], default=None,
                       help="decoder backend (default: $PAFDECODE_BACKEND, else c)")
    for p in PARAMS:
        if p.name == "stride":  # the model's, not a decoding choice
            continue
        flag = "--" + p.name.replace("_", "-")
        default = "none (off)" if p.default is None else p.default
        kwargs = dict(dest=p.name, default=None, type=_param_type(p),
                      metavar=p.type.upper() if p.type != "enum" else None,
                      help=f"{p.doc}: {p.range_text()} (default: {default})")
        if p.type == "enum":
            kwargs["choices"] = list(p.choices)
        group.add_argument(flag, **kwargs)


def _add_common(r):
    """Options predict and eval share."""
    r.add_argument("--model", help="ONNX file (default: $PAFDECODE_MODEL)")
    r.add_argument("--preset", choices=PRESETS, default="tfpose",
                   help="the network's output layout")
    r.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"),
                   help="network input size (default: the preset's, 368 432 for tfpose)")
    r.add_argument("--providers", metavar="LIST",
                   help="onnxruntime execution providers, comma-separated, e.g. "
                        "CUDAExecutionProvider,CPUExecutionProvider (default: CUDA when "
                        "available, then CPU)")
    r.add_argument("--batch-size", type=int, default=1, metavar="N",
                   help="images per network run, where the model's batch axis allows")
    r.add_argument("--no-exif", action="store_true",
                   help="ignore the EXIF orientation tag (by default photos are turned "
                        "upright as PIL.ImageOps.exif_transpose does)")
    r.add_argument("--max-pixels", type=int, default=None, metavar="N",
                   help="refuse larger images unread (default: Pillow's MAX_IMAGE_PIXELS)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--verbose", action="store_true", help="a line per image")
    add_decoder_flags(r)


def add_predict_parser(sub, formatter):
    r = sub.add_parser("predict", help="run an ONNX network on photos and decode the people",
                       formatter_class=formatter,
                       description="Run an ONNX network on photos, decode the people and "
                                   "write COCO results, drawings and OpenPose JSON.")
    # "*", not "+": "--ray photo.jpg" leaves none, and predict moves it back.
    r.add_argument("images", nargs="*", metavar="INPUT",
                   help="image files, folders (their images, sorted) or globs; - reads "
                        "paths from stdin, one a line")
    _add_common(r)
    r.add_argument("--annotations", metavar="GT.json",
                   help="COCO ground truth: results take the image_id of the image with "
                        "the same file name; photos not in it are skipped")
    r.add_argument("--json", metavar="FILE", help="write COCO keypoint results (- for stdout)")
    r.add_argument("--keypoints", choices=["coco17", "native"], default="coco17",
                   help="keypoints of --json: COCO-17 (from COCO-18 or BODY_25) or the "
                        "model's own")
    r.add_argument("--draw", metavar="DIR", help="write each image with its people drawn")
    r.add_argument("--openpose-json", metavar="DIR", help="write OpenPose's per-image JSON")
    r.add_argument("--draw-scores", action="store_true", help="label people with their score")
    r.add_argument("--draw-ids", action="store_true",
                   help="label people with their index (1 = best) or track id")
    r.add_argument("--min-score", type=float, default=0.0,
                   help="draw only people scoring at least this")
    r.add_argument("--line-width", type=float, default=None, metavar="PX",
                   help="limb width in pixels (default: max(2, image size / 200))")
    r.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the network on a Ray cluster: 'auto' (after ray start), a "
                        "host:port, or none for a local Ray on this machine; needs "
                        "pafdecode[ray] and paths every node can read")
    r.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="with --ray: actors, one ONNX session and one CPU each (default: "
                        "the cluster's CPUs)")
    r.set_defaults(run=predict, annotations=None)
    return r


def add_eval_parser(sub, formatter):
    e = sub.add_parser("eval", help="predict on annotated photos and print keypoint AP",
                       formatter_class=formatter,
                       description="Run predict on the photos of a COCO-format annotation "
                                   "file and print COCO keypoint AP (CrowdPose's easy / "
                                   "medium / hard when the images carry crowdIndex), as "
                                   "pycocotools computes it.")
    e.add_argument("--annotations", metavar="GT.json", required=True,
                   help="COCO-format keypoint ground truth")
    e.add_argument("--images", metavar="DIR", required=True, help="folder of its photos")
    _add_common(e)
    e.add_argument("--json", metavar="FILE", help="also write the results (- for stdout)")
    e.add_argument("--max-dets", type=int, default=20, help="detections kept per image")
    e.set_defaults(run=evaluate, draw=None, openpose_json=None, min_score=0.0,
                   line_width=None, keypoints="coco17")
    return e
