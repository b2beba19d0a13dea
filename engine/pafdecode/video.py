"""Video in and out for ``pafdecode video``: frames from files, image folders, cameras and
streams (PyAV), the drawn video (PyAV), and the tracks as JSON lines.

PyAV (the ``av`` package, extra ``[video]``) is imported only when a video is opened.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from .tracker import Tracker

__all__ = ["FrameSource", "JsonLinesWriter", "VideoWriter", "open_source", "run"]

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
_ENCODERS = ("libx264", "h264", "libopenh264", "mpeg4")
# The per-frame times (Poses.stats) the summary line adds up.
_STAGES = ("read_ms", "preprocess_ms", "inference_ms", "decode_ms", "track_ms")


class VideoError(Exception):
    """A source or output that cannot be used; the message names it."""


def _import_av():
    try:
        import av
    except ImportError as exc:
        raise VideoError("video needs PyAV: pip install 'pafdecode[video]' (or pip install "
                         "av)") from exc
    return av


class FrameSource:
    """Frames of a video file, stream, camera or image folder.

    Iterating gives ``(frame number, time in seconds, frame)``: a PyAV ``VideoFrame``
    for video, an ``(h, w, 3)`` BGR array for an image folder. Frames before `start`
    seconds are skipped, then every `every`-th frame is kept, at most `max_frames`.
    """

    def __init__(self, name, fps, total, frames, close=None):
        self.name = name
        self.fps = fps
        self.total = total
        self._frames = frames
        self._close = close
        self.read = 0

    def __iter__(self):
        for item in self._frames:
            self.read += 1
            yield item

    def close(self):
        if self._close is not None:
            self._close()
            self._close = None


def _select(items, start, every, max_frames):
    kept = 0
    for number, (t, frame) in enumerate(items):
        if t is not None and t + 1e-9 < start:
            continue
        if number % every:
            continue
        if max_frames is not None and kept >= max_frames:
            return
        kept += 1
        yield number, t, frame


def open_source(source=None, camera=None, start=0.0, every=1, max_frames=None, fps=None):
    """Open a video file, stream URL, image folder, or camera (an int) for reading.

    Raises VideoError naming the source when it cannot be opened.
    """
    if camera is not None:
        return _open_camera(camera, start, every, max_frames)
    path = Path(source)
    if path.is_dir():
        return _open_folder(path, start, every, max_frames, fps or 30.0)
    if "://" not in str(source) and not path.exists():
        raise VideoError(f"input {source} does not exist")
    return _open_av(str(source), str(source), start, every, max_frames, {})


def _open_folder(path, start, every, max_frames, fps):
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
    if not files:
        raise VideoError(f"input folder {path} holds no images "
                         f"({', '.join(sorted(_IMAGE_SUFFIXES))})")
    from .io import load_image

    def frames():
        for i, f in enumerate(files):
            yield i / fps, f

    def loaded():
        for number, t, f in _select(frames(), start, every, max_frames):
            try:
                yield number, t, load_image(f, "BGR")
            except Exception as exc:
                raise VideoError(f"cannot read image {f} of input folder {path}: {exc}") \
                    from exc

    return FrameSource(str(path), fps, len(files), loaded())


def _open_camera(camera, start, every, max_frames):
    if sys.platform.startswith("linux"):
        url, options = f"/dev/video{int(camera)}", {"format": "v4l2"}
    elif sys.platform == "darwin":
        url, options = str(int(camera)), {"format": "avfoundation"}
    else:
        url, options = f"video={int(camera)}", {"format": "dshow"}
    return _open_av(url, f"camera {camera} ({url})", start, every, max_frames, options)


def _open_av(url, name, start, every, max_frames, options):
    av = _import_av()
    try:
        container = av.open(url, "r", **options)
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(f"cannot open {name} as a video: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{name} has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 30.0
    total = stream.frames or None
    if start > 0:
        try:
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
        except (av.error.FFmpegError, OSError, TypeError):
            pass  # unseekable (a stream): frames are skipped by time instead

    def frames():
        try:
            for frame in container.decode(stream):
                yield frame.time, frame
        except av.error.FFmpegError as exc:
            raise VideoError(f"decoding {name} failed: {exc}") from exc

    return FrameSource(name, fps, total, _select(frames(), start, every, max_frames),
                       close=container.close)


def _has_encoder(av, codec):
    """Whether this PyAV build can encode `codec` (FFmpeg builds differ: many lack
    H.264)."""
    try:
        av.codec.Codec(codec, "w")
    except Exception:  # UnknownCodecError, or a name FFmpeg knows only as a decoder
        return False
    return True


class VideoWriter:
    """Writes RGB frames to a video file with PyAV: H.264 where this PyAV has an
    encoder for it, else MPEG-4 (``codec`` says which, once the first frame is
    written); odd sizes are padded to even."""

    def __init__(self, path, fps):
        self.av = _import_av()
        self.path = str(path)
        self.fps = fps
        self.container = None
        self.stream = None
        self.frames = 0

    def _open(self, height, width):
        av = self.av
        try:
            self.container = av.open(self.path, "w")
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise VideoError(f"cannot write video {self.path}: {exc}") from exc
        rate = Fraction(self.fps).limit_denominator(1001)
        for codec in _ENCODERS:
            if not _has_encoder(av, codec):
                continue
            try:
                stream = self.container.add_stream(codec, rate=rate)
            except Exception:  # this build has no such encoder: try the next
                continue
            stream.width, stream.height = width + width % 2, height + height % 2
            stream.pix_fmt = "yuv420p"
            self.stream = stream
            self.codec = codec
            return
        self.container.close()
        raise VideoError(f"no H.264 or MPEG-4 encoder in this PyAV build for {self.path}")

    def write(self, rgb):
        h, w = rgb.shape[:2]
        if self.stream is None:
            self._open(h, w)
        if (h % 2) or (w % 2):
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        frame = self.av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self):
        if self.container is None:
            return
        try:
            if self.stream is not None:
                for packet in self.stream.encode(None):
                    self.container.mux(packet)
        finally:
            self.container.close()
            self.container = None


class JsonLinesWriter:
    """One JSON object per frame, flushed as written:
    ``{"frame", "time", "people": [{"track_id", "keypoints": [x, y, s, ...], "score"}]}``."""

    def __init__(self, path):
        try:
            self.file = open(path, "w")
        except OSError as exc:
            raise VideoError(f"cannot write {path}: {exc}") from exc
        self.lines = 0

    def write(self, frame, t, poses):
        people = [{"track_id": int(poses.track_ids[p]),
                   "keypoints": [round(float(v), 3) for v in poses.keypoints[p].reshape(-1)],
                   "score": round(float(poses.scores[p]), 5)} for p in range(len(poses))]
        record = {"frame": int(frame), "time": None if t is None else round(float(t), 6),
                  "people": people}
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        self.lines += 1

    def close(self):
        self.file.close()


def _id_color(track_id):
    golden = (track_id * 0.618033988749895) % 1.0
    from .draw import limb_colors
    return limb_colors(64)[int(golden * 64)]


def draw_tracked(image_rgb, poses, skeleton):
    """The people drawn with their track id and score over their topmost keypoint."""
    from .draw import draw, draw_text

    canvas = draw(image_rgb, poses, skeleton)
    scale = max(1, round(max(canvas.shape[:2]) / 400))
    for p in range(len(poses)):
        found = poses.keypoints[p, :, 2] > 0
        if not found.any():
            continue
        xy = poses.keypoints[p, found, :2]
        top = xy[np.argmin(xy[:, 1])]
        tid = int(poses.track_ids[p])
        label = f"{'#' + str(tid) if tid >= 0 else '-'} {float(poses.scores[p]):.2f}"
        draw_text(canvas, label, (top[0] - 2 * 4 * scale, top[1] - 9 * scale),
                  color=_id_color(max(tid, 0)), scale=scale)
    return canvas


def _progress(enabled, total):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="frame", file=sys.stderr, smoothing=0.1)


def run(args):
    """The ``pafdecode video`` command: returns the exit code and prints one line on
    failure (``pafdecode: ...``), keeping the frames already written."""
    try:
        return _run(args)
    except VideoError as exc:
        print(f"pafdecode: {exc}", file=sys.stderr)
        return 1


def _load_model(args):
    """The checked arguments' model; VideoError naming a bad argument or model."""
    from .model import OnnxPoseModel

    if args.input is None and args.camera is None:
        raise VideoError("give an INPUT (video file, image folder or stream URL) or "
                         "--camera N")
    for name, value, low in (("--every", args.every, 1), ("--max-frames", args.max_frames, 1)):
        if value is not None and value < low:
            raise VideoError(f"{name} must be >= {low}, got {value}")
    if args.start < 0 or not math.isfinite(args.start):
        raise VideoError(f"--start must be a number of seconds >= 0, got {args.start}")
    model_path = args.model or os.environ.get("PAFDECODE_MODEL")
    if not model_path:
        raise VideoError("--model is required (or set PAFDECODE_MODEL)")
    if not Path(model_path).is_file():
        raise VideoError(f"model {model_path} does not exist")
    presets = {"tfpose": OnnxPoseModel.tfpose, "openpose-caffe": OnnxPoseModel.openpose_caffe,
               "two-outputs": OnnxPoseModel.two_outputs}
    from .cli import augmentation_options

    try:
        return presets[args.preset](model_path, **augmentation_options(args))
    except Exception as exc:  # onnxruntime's own errors are not ValueErrors
        raise VideoError(f"cannot load model {model_path}: {exc}") from exc


def _report(args, source, tracker, done, people, sums, write_ms, elapsed, interrupted,
            status):
    """The summary line, and the note on a stream or camera that ended early."""
    n = max(done, 1)
    split = (f"read {sums['read_ms'] / n:.1f}, network "
             f"{(sums['preprocess_ms'] + sums['inference_ms']) / n:.1f}, decode "
             f"{sums['decode_ms'] / n:.2f}, track {sums['track_ms'] / n:.2f}, write "
             f"{write_ms / n:.1f} ms per frame")
    what = "interrupted: " if interrupted else ""
    print(f"pafdecode video: {what}{done} frames, {people} people, {tracker.num_confirmed} "
          f"live tracks of {tracker._next_id}; {done / max(elapsed, 1e-9):.1f} fps ({split})")
    if (status == 0 and args.max_frames and done < args.max_frames
            and (args.camera is not None or "://" in str(args.input))):
        print(f"pafdecode: {source.name} ended after {done} of the {args.max_frames} frames "
              f"asked for; the outputs hold them", file=sys.stderr)


def _write_outputs(json_out, writer, number, t, poses, frame, skeleton):
    """One frame's JSON line, then its drawn image."""
    if json_out is not None:
        json_out.write(number, t, poses)
    if writer is not None:
        rgb = (frame[:, :, ::-1] if isinstance(frame, np.ndarray)
               else frame.to_ndarray(format="rgb24"))
        writer.write(draw_tracked(np.ascontiguousarray(rgb), poses, skeleton))


def _close_all(bar, writer, json_out, source):
    """Close the progress bar, the outputs and the source: 1 if an output failed
    to close (said in one line), else 0."""
    status = 0
    if bar is not None:
        bar.close()
    for closing in (writer, json_out):
        if closing is not None:
            try:
                closing.close()
            except Exception as exc:
                print(f"pafdecode: closing output failed: {exc}", file=sys.stderr)
                status = 1
    source.close()
    return status


def _run(args):
    model = _load_model(args)
    source = open_source(args.input, args.camera, args.start, args.every, args.max_frames,
                         args.fps)
    tracker = Tracker(model.skeleton, smoothing=args.smoothing, fps=source.fps / args.every)
    json_out = writer = bar = None
    done, people, write_ms = 0, 0, 0.0
    sums = dict.fromkeys(_STAGES, 0.0)
    numbers, images = {}, {}
    status, interrupted = 0, False
    started = time.perf_counter()
    try:
        if args.json:
            json_out = JsonLinesWriter(args.json)
        if args.out:
            writer = VideoWriter(args.out, source.fps / args.every)
        bar = _progress(not args.quiet, args.max_frames or (
            source.total // args.every if source.total else None))

        def frames():
            for position, (number, t, frame) in enumerate(source):
                if writer is not None:
                    images[number] = frame
                numbers[position] = (number, t)
                yield frame if t is None else (t, frame) if isinstance(frame, np.ndarray) \
                    else frame

        tracked = model.track(frames(), tracker)
        try:
            for index, poses in tracked:
                number, t = numbers.pop(index)
                t0 = time.perf_counter()
                _write_outputs(json_out, writer, number, t, poses,
                               images.pop(number) if writer is not None else None,
                               model.skeleton)
                write_ms += (time.perf_counter() - t0) * 1e3
                for key in sums:
                    sums[key] += poses.stats.get(key, 0.0)
                done += 1
                people += len(poses)
                if bar is not None:
                    bar.update(1)
        finally:
            tracked.close()
    except KeyboardInterrupt:
        interrupted, status = True, 130
    except VideoError as exc:
        print(f"pafdecode: {exc}; the {done} frames done are kept", file=sys.stderr)
        status = 1
    except Exception as exc:  # e.g. a frame the network cannot take
        print(f"pafdecode: {source.name}: stopped after {done} frames "
              f"({type(exc).__name__}: {exc}); the frames done are kept", file=sys.stderr)
        status = 1
    finally:
        closed = _close_all(bar, writer, json_out, source)
        status = status or closed
    _report(args, source, tracker, done, people, sums, write_ms,
            time.perf_counter() - started, interrupted, status)
    return status


def add_parser(sub):
    """Register the ``video`` subcommand on an argparse subparsers object."""
    v = sub.add_parser("video", help="track people through a video, camera, stream or "
                                     "image folder")
    v.add_argument("input", nargs="?", help="video file, image folder or stream URL")
    v.add_argument("--camera", type=int, metavar="N", help="read camera N instead")
    v.add_argument("--model", help="ONNX file (default: $PAFDECODE_MODEL)")
    v.add_argument("--preset", choices=["tfpose", "openpose-caffe", "two-outputs"],
                   default="tfpose", help="the network's output layout")
    v.add_argument("--json", metavar="FILE.jsonl", help="write one JSON line per frame")
    v.add_argument("--out", metavar="FILE.mp4", help="write the video with people drawn")
    v.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    v.add_argument("--every", type=int, default=1, metavar="K", help="keep every K-th frame")
    v.add_argument("--start", type=float, default=0.0, metavar="SECONDS",
                   help="skip to this time")
    v.add_argument("--fps", type=float, help="frame rate of an image folder (default 30)")
    v.add_argument("--smoothing", choices=["one_euro"], default=None,
                   help="smooth tracked keypoints over time")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(run=run)
    return v
