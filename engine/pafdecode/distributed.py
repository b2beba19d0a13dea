"""Pose estimation over large image collections on Ray Data (the ``ray`` extra).

The network is the slow part (tens of milliseconds per image on a CPU against about one
for the decoder), so a job over millions of photos spreads whole images over many
machines. Ray Data schedules it: :class:`PosePredictor` is the callable class given to
``Dataset.map_batches``, one ONNX session per actor, loaded once;
:func:`predict_images` builds the Dataset; :func:`write_parquet` and
:func:`write_coco_results` write it; :func:`run_predict` is the whole job as the
``pafdecode predict --ray`` command runs it.

Images are read as the rows come: from an ``"image"`` column (``ray.data.read_images``,
which fails the whole job on one corrupt file), from a ``"bytes"`` column
(``ray.data.read_binary_files(..., include_paths=True)``) or, given only a ``"path"``
column, from the file itself. The last two decode with Pillow row by row, so an
unreadable image becomes a row with an ``"error"`` and the rest go on.

Output columns, one row per image:

``path`` : str
``keypoints`` : float32 (P, K, 3), the people in the image's pixels (as ``Poses``)
``scores`` : float32 (P,)
``num_people`` : int64, P
``error`` : str, empty when the image was read, else why it was skipped
``preprocess_ms``, ``inference_ms``, ``decode_ms`` : float64, this image's times

Other input columns (an ``image_id``, say) pass through; the image itself does not.

Importing this module does not import Ray; its functions do, and say how to install it
when it is missing. Paths are read where the actor runs: on a cluster they must name
files every node can see (a shared file system), or use ``read_binary_files`` on an
``s3://`` or ``gs://`` prefix.
"""

from __future__ import annotations

import io as _bytes_io
import os
from collections.abc import Mapping

import numpy as np

from .decoder import Poses
from .model import OnnxPoseModel

__all__ = ["PosePredictor", "make_model", "predict_images", "write_parquet",
           "write_coco_results", "iter_results", "read_results", "run_predict", "PRESETS"]

PRESETS = {"tfpose": OnnxPoseModel.tfpose, "openpose-caffe": OnnxPoseModel.openpose_caffe,
           "two-outputs": OnnxPoseModel.two_outputs, "custom": OnnxPoseModel}
_TIMES = ("preprocess_ms", "inference_ms", "decode_ms")
_INPUT_COLUMNS = ("image", "bytes")
_READ_OPTIONS = ("color", "exif_transpose", "max_pixels")


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the data library is a separate extra of ray)
    except ImportError as exc:
        raise ImportError("pafdecode.distributed needs Ray Data: "
                          "pip install 'pafdecode[ray]'") from exc
    return ray


def _preset(preset):
    key = str(preset).replace("_", "-")
    if key not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    return PRESETS[key]


def _session_options(intra_op_threads, session_options):
    if intra_op_threads is None:
        return session_options
    if (isinstance(intra_op_threads, bool) or not isinstance(intra_op_threads, int)
            or intra_op_threads < 1):
        raise ValueError(f"intra_op_threads must be an integer >= 1, got "
                         f"{intra_op_threads!r}")
    import onnxruntime

    options = session_options or onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    # One actor per core slot: threads of one session must not spin on another's cores.
    options.inter_op_num_threads = 1
    return options


def make_model(model, preset="tfpose", *, intra_op_threads=None, **model_kwargs):
    """The :class:`OnnxPoseModel` a :class:`PosePredictor` runs, built the same way.

    Parameters
    ----------
    model : str, os.PathLike or bytes
        The ONNX file or its contents.
    preset : {"tfpose", "openpose-caffe", "two-outputs", "custom"}
        ``OnnxPoseModel.tfpose``, ``.openpose_caffe``, ``.two_outputs``, or the plain
        constructor (``"custom"``, which needs ``skeleton=``).
    intra_op_threads : int, optional
        onnxruntime's ``intra_op_num_threads`` (default: its own, one per core).
    **model_kwargs
        Any keyword of the preset (``input_size``, ``providers``, decoder options...).
    """
    if isinstance(model, OnnxPoseModel):
        raise ValueError("model must be the ONNX file's path or bytes, not an "
                         "OnnxPoseModel: every actor opens its own session")
    build = _preset(preset)
    kwargs = dict(model_kwargs)
    kwargs["session_options"] = _session_options(intra_op_threads,
                                                 kwargs.get("session_options"))
    return build(model, **kwargs)


def _read_image(batch, i, **read_options):
    """The i-th image of a batch as RGB, or raises with why it cannot be read."""
    from .io import load_image

    if "image" in batch:
        return np.asarray(batch["image"][i]), "RGB"
    if "bytes" in batch:
        source = _bytes_io.BytesIO(bytes(batch["bytes"][i]))
    else:
        source = os.fspath(batch["path"][i])
    return load_image(source, "RGB", **read_options), "RGB"


def _ragged(arrays):
    """An object array of arrays; NumPy would stack equal shapes into one array."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = a
    return out


class PosePredictor:
    """Find the people in batches of images: a callable class for ``map_batches``.

    Ray builds one per actor, so each actor opens one ONNX session, once.

    Parameters
    ----------
    model : str, os.PathLike or bytes
        The ONNX file (a path every node can read) or its contents.
    preset : str, default "tfpose"
        See :func:`make_model`.
    color : {"RGB", "BGR"}, default "RGB"
        Channel order of an ``"image"`` column (``read_images(mode="RGB")`` gives RGB).
        Images this class decodes itself are RGB.
    exif_transpose : bool, default False
        Turn the images this class decodes itself upright by their EXIF orientation (as
        ``pafdecode predict`` does); an ``"image"`` column is used as Ray decoded it.
    max_pixels : int, optional
        Skip images this class decodes that have more pixels (see ``io.load_image``).
    intra_op_threads : int, optional
        onnxruntime threads per actor; match the CPUs each actor is given.
    **model_kwargs
        Passed to the preset: input size, providers, decoder options...

    Call it with a batch (a dict of arrays) holding ``"path"`` and ``"image"``,
    ``"bytes"`` or neither (then the file at ``"path"`` is read); it returns the
    columns listed in :mod:`pafdecode.distributed`.
    """

    def __init__(self, model, preset="tfpose", *, color="RGB", exif_transpose=False,
                 max_pixels=None, intra_op_threads=None, **model_kwargs):
        if color not in ("RGB", "BGR"):
            raise ValueError(f"color must be 'RGB' or 'BGR', got {color!r}")
        self.color = color
        self.read_options = dict(exif_transpose=bool(exif_transpose), max_pixels=max_pixels)
        self.model = make_model(model, preset, intra_op_threads=intra_op_threads,
                                **model_kwargs)

    def predict_one(self, batch, i):
        """(Poses, "") for the i-th image of a batch, or (None, why it was skipped)."""
        try:
            image, color = _read_image(batch, i, **self.read_options)
        except Exception as exc:  # noqa: BLE001  (any unreadable file is skipped)
            return None, f"cannot read the image: {type(exc).__name__}: {exc}"
        color = self.color if "image" in batch else color
        try:
            return self.model(image, color=color), ""
        except ValueError as exc:  # e.g. a decoded image of an unusable shape
            return None, f"cannot use the image: {exc}"

    def __call__(self, batch):
        if "path" not in batch:
            raise ValueError(f"the batch needs a 'path' column; it has {sorted(batch)}")
        n = len(batch["path"])
        k = self.model.skeleton.num_keypoints
        keypoints, scores, errors = [], [], []
        times = {key: np.zeros(n) for key in _TIMES}
        for i in range(n):
            poses, error = self.predict_one(batch, i)
            if poses is None:
                poses = Poses(np.zeros((0, k, 3), np.float32), np.zeros(0, np.float32),
                              self.model.skeleton)
            keypoints.append(np.asarray(poses.keypoints, np.float32).reshape(-1, k, 3))
            scores.append(np.asarray(poses.scores, np.float32).reshape(-1))
            errors.append(error)
            for key in _TIMES:
                times[key][i] = poses.stats.get(key, 0.0)
        out = {name: col for name, col in batch.items() if name not in _INPUT_COLUMNS}
        out["path"] = np.asarray([str(p) for p in batch["path"]], dtype=object)
        out["keypoints"] = _ragged(keypoints)
        out["scores"] = _ragged(scores)
        out["num_people"] = np.array([len(s) for s in scores], dtype=np.int64)
        out["error"] = np.asarray(errors, dtype=object)
        out.update(times)
        return out


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def _as_dataset(paths_or_dataset):
    ray = _import_ray()
    if isinstance(paths_or_dataset, ray.data.Dataset):
        return paths_or_dataset
    if isinstance(paths_or_dataset, (str, os.PathLike)):
        paths_or_dataset = [paths_or_dataset]
    try:
        paths = [os.fspath(p) for p in paths_or_dataset]
    except TypeError:
        raise ValueError(f"paths_or_dataset must be a ray.data.Dataset or a list of image "
                         f"paths, got {type(paths_or_dataset).__name__}") from None
    if not paths:
        raise ValueError("paths_or_dataset is an empty list of image paths")
    # Workers need not share the driver's working directory.
    rows = [{"path": os.path.abspath(p), "image_id": i}
            for i, p in enumerate(paths, start=1)]
    return ray.data.from_items(rows)


def predict_images(paths_or_dataset, model, preset="tfpose", *, concurrency=1,
                   num_cpus=1, intra_op_threads=None, batch_size=8, **model_kwargs):
    """The Dataset of the people in each image (lazy: nothing runs until it is read).

    Parameters
    ----------
    paths_or_dataset : list of paths or ray.data.Dataset
        Paths become rows ``{"path": absolute path, "image_id": 1, 2, ...}`` in the
        given order, read by the actors (a missing or corrupt file is skipped with an
        ``error``). A Dataset needs a ``"path"`` column and ``"image"`` (RGB unless
        ``color="BGR"``) or ``"bytes"`` or neither (see :mod:`pafdecode.distributed`).
    model : str, os.PathLike or bytes
        The ONNX network; a path must be readable on every node (bytes travel with
        the job).
    preset : str, default "tfpose"
    concurrency : int or (int, int), default 1
        Actors: a fixed number, or (min, max) for an autoscaling pool.
    num_cpus : float, default 1
        CPUs Ray reserves for each actor. A Dataset from ``read_images`` or
        ``read_binary_files`` also needs CPUs for its read tasks: actors taking every
        CPU of the cluster leave none, and the job waits forever.
    intra_op_threads : int, optional
        onnxruntime threads per actor; default ``max(1, int(num_cpus))``, so actors on
        one node do not oversubscribe its cores.
    batch_size : int, default 8
        Images per ``map_batches`` call.
    **model_kwargs
        Passed to the preset (see :class:`PosePredictor`), ``color=`` included.

    Returns
    -------
    ray.data.Dataset
    """
    ds = _as_dataset(paths_or_dataset)
    _check_count(batch_size, "batch_size")
    if isinstance(concurrency, tuple):
        if len(concurrency) != 2:
            raise ValueError(f"concurrency must be an integer or (min, max), got "
                             f"{concurrency!r}")
        low = _check_count(concurrency[0], "concurrency[0]")
        high = _check_count(concurrency[1], "concurrency[1]")
    else:
        low = high = _check_count(concurrency, "concurrency")
    if intra_op_threads is None:
        intra_op_threads = max(1, int(num_cpus))
    # Open one session here first: a bad model or option fails now, on the driver,
    # with its own message, not later inside an actor.
    make_model(model, preset, intra_op_threads=1, **_model_only(model_kwargs))
    kwargs = dict(model_kwargs, preset=preset, intra_op_threads=intra_op_threads)
    pool = _import_ray().data.ActorPoolStrategy(min_size=low, max_size=high)
    return ds.map_batches(PosePredictor, fn_constructor_args=(model,),
                          fn_constructor_kwargs=kwargs, compute=pool, num_cpus=num_cpus,
                          batch_size=batch_size, batch_format="numpy")


def _model_only(kwargs):
    """The keywords of PosePredictor that are the model's, not how it reads images."""
    return {k: v for k, v in kwargs.items() if k not in _READ_OPTIONS}


def _portable(batch):
    """The output columns as plain Arrow lists (readable without Ray's tensor types)."""
    import pyarrow as pa

    out = {}
    for name, col in batch.items():
        if name in ("keypoints", "scores"):
            values = [np.asarray(v, np.float32).tolist() for v in col]
            inner = pa.list_(pa.list_(pa.float32(), 3)) if name == "keypoints" else None
            out[name] = pa.array(values, type=pa.list_(inner or pa.float32()))
        else:
            out[name] = pa.array(list(col) if col.dtype == object else col)
    return pa.table(out)


def write_parquet(dataset, path, **write_options):
    """Write a :func:`predict_images` Dataset as Parquet files in the folder `path`.

    ``keypoints`` becomes a list (person) of lists (keypoint) of 3 floats and
    ``scores`` a list of floats, so any Parquet reader takes them;
    :func:`read_results` turns the rows back into Poses. `write_options` go to
    ``Dataset.write_parquet``.
    """
    _import_ray()
    dataset.map_batches(_portable, batch_format="numpy").write_parquet(
        os.fspath(path), **write_options)


def _row_poses(row, skeleton):
    kp = np.asarray([np.asarray(p, np.float32) for p in row["keypoints"]], np.float32)
    kp = kp.reshape(-1, skeleton.num_keypoints, 3)
    stats = {key: float(row[key]) for key in _TIMES if key in row}
    return Poses(kp, np.asarray(row["scores"], np.float32).reshape(-1), skeleton, stats)


def iter_results(rows, skeleton):
    """(path, Poses or the error string) for rows of a :func:`predict_images` Dataset,
    a Parquet file of :func:`write_parquet`, or dicts with the same keys."""
    for row in rows:
        error = row.get("error") or ""
        yield row["path"], (error if error else _row_poses(row, skeleton)), row


def read_results(path, skeleton):
    """{path: Poses or error string} from a folder of :func:`write_parquet`."""
    import pyarrow.parquet as pq

    table = pq.read_table(os.fspath(path))
    return {p: r for p, r, _ in iter_results(table.to_pylist(), skeleton)}


def write_coco_results(dataset_or_rows, path, skeleton, *, image_ids=None, on_skip=None,
                       keypoints=None, category_id=1):
    """Write a job's people as one COCO keypoint results JSON (:mod:`pafdecode.io`).

    Parameters
    ----------
    dataset_or_rows : ray.data.Dataset or iterable of dict
        Rows of :func:`predict_images`.
    path : str or os.PathLike
    skeleton : Skeleton
        The network's (``OnnxPoseModel.skeleton``); COCO-18 is written as COCO-17.
    image_ids : mapping {path: int}, optional
        Default: the rows' ``image_id`` column (:func:`predict_images` numbers given
        paths 1, 2, ... in order), else 1, 2, ... in sorted path order.
    on_skip : callable(path, reason), optional
        Called for each unreadable image, which is left out.

    Returns
    -------
    list of dict
        What was written. The file is one JSON list built in memory: for millions
        of images write Parquet instead.
    """
    from .io import coco_results, write_coco_results as write

    rows = dataset_or_rows
    if hasattr(rows, "iter_rows"):
        rows = rows.iter_rows()
    found = []
    for p, result, row in iter_results(rows, skeleton):
        if isinstance(result, str):
            if on_skip is not None:
                on_skip(p, result)
            continue
        found.append((p, result, row.get("image_id")))
    if image_ids is None and any(i is None for _, _, i in found):
        order = sorted(p for p, _, _ in found)
        image_ids = {p: i for i, p in enumerate(order, start=1)}
    items = []
    for p, poses, image_id in sorted(found, key=lambda f: (f[2] is None, f[2], f[0])):
        if isinstance(image_ids, Mapping):
            image_id = image_ids[p]
        items += coco_results(poses, int(image_id), keypoints=keypoints,
                              category_id=category_id)
    return write(path, items)


def _connect(ray, address, num_cpus):
    """ray.init for `address` ("auto", an address, or None: a local cluster); True if
    this call started Ray (and so should shut it down)."""
    if ray.is_initialized():
        return False
    import logging

    options = dict(logging_level=logging.WARNING, log_to_driver=False)
    if address is None:
        options["num_cpus"] = num_cpus
    ray.init(address=address, **options)
    return True


def _check_fits(ray, concurrency, num_cpus):
    """A pool larger than the cluster would wait for CPUs that never come."""
    low = concurrency[0] if isinstance(concurrency, tuple) else concurrency
    total = ray.cluster_resources().get("CPU", 0)
    if isinstance(low, int) and low * num_cpus > total:
        raise ValueError(f"concurrency={concurrency!r} actors of {num_cpus} CPU need "
                         f"{low * num_cpus:g} CPUs; the Ray cluster has {total:g}")


def run_predict(paths, model, *, preset="tfpose", address=None, concurrency=None,
                num_cpus=1, intra_op_threads=None, local_cpus=None, batch_size=8,
                on_skip=None, progress=True, **model_kwargs):
    """Run a predict job on Ray; returns [(path, Poses or error string)] in `paths` order.

    Parameters
    ----------
    paths : list of str or os.PathLike
        Image files, readable on every node at the same path.
    model : str or os.PathLike
        The ONNX file, read here and sent to the actors (it need not be on them).
    preset : str, default "tfpose"
    address : str, optional
        ``"auto"`` (the cluster this machine belongs to, after ``ray start``), a
        cluster's ``host:port`` or ``ray://host:10001``; None starts a local Ray with
        `local_cpus` CPUs (default: all). Ignored when Ray is already initialised.
    concurrency : int or (int, int), optional
        Actors; default: as many as the cluster's CPUs hold (``num_cpus`` each).
    num_cpus, intra_op_threads, batch_size
        See :func:`predict_images`.
    on_skip : callable(path, reason), optional
        Called for each unreadable image (in `paths` order), as ``predict`` reports it.
    progress : bool, default True
        Ray Data's progress bars on stderr.
    **model_kwargs
        Passed to the preset.

    Returns
    -------
    list of (str, Poses or str)
        Each given path as given, with its people (``stats`` hold the image's
        ``preprocess_ms``, ``inference_ms`` and ``decode_ms``) or why it was skipped.
    """
    ray = _import_ray()
    paths = [os.fspath(p) for p in paths]
    with open(os.fspath(model), "rb") as f:
        network = f.read()
    skeleton = make_model(network, preset, intra_op_threads=1,
                          **_model_only(model_kwargs)).skeleton
    started = _connect(ray, address, local_cpus)
    try:
        if concurrency is None:
            concurrency = max(1, int(ray.cluster_resources().get("CPU", 1) // num_cpus))
        _check_fits(ray, concurrency, num_cpus)
        ray.data.DataContext.get_current().enable_progress_bars = bool(progress)
        ds = predict_images(paths, network, preset, concurrency=concurrency,
                            num_cpus=num_cpus, intra_op_threads=intra_op_threads,
                            batch_size=batch_size, **model_kwargs)
        by_id = {}
        for _, result, row in iter_results(ds.iter_rows(), skeleton):
            by_id[int(row["image_id"])] = result
    finally:
        if started:
            ray.shutdown()
    results = [(p, by_id[i]) for i, p in enumerate(paths, start=1)]
    if on_skip is not None:
        for p, result in results:
            if isinstance(result, str):
                on_skip(p, result)
    return results
