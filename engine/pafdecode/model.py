"""Run an OpenPose-style ONNX network and decode its fields into people.

:class:`OnnxPoseModel` wraps an ``onnxruntime.InferenceSession``: it resizes and
normalises an image into the network's input (see :mod:`pafdecode.transforms`), runs
the network, finds the heatmap and PAF channels among its outputs, decodes them with
:class:`pafdecode.Decoder` and maps the people back to the image's pixels.
"""

from __future__ import annotations

import math
import numbers
import os
import queue
import re
import threading
import time

import numpy as np

from .config import DecoderConfig
from .decoder import Decoder
from .skeleton import Skeleton
from .transforms import (InputTransform, compose_affine, make_transform, scale_affine,
                         warp_affine)

__all__ = ["OnnxPoseModel", "AugmentedOutputs"]

_INPUT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
}
_LAYOUTS = ("NCHW", "NHWC")
_TIMING_KEYS = ("preprocess_ms", "inference_ms", "decode_ms")


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("OnnxPoseModel needs onnxruntime: pip install onnxruntime") from exc
    return onnxruntime


class _Output:
    """One network output: name, shape (ints, or None for a dynamic axis), type."""

    __slots__ = ("name", "shape", "type", "labels", "rank_known")

    def __init__(self, name, shape, type_, labels=None, rank_known=True):
        self.name = name
        self.shape = tuple(shape)
        self.type = type_
        self.labels = labels if labels is not None else self.shape
        self.rank_known = rank_known

    @classmethod
    def from_node(cls, node):
        # onnxruntime says [] for an output of unknown rank (and for a scalar, which
        # cannot be a field either): both wait for a run.
        known = bool(node.shape)
        shape = node.shape if known else ()
        # A static 0 stays 0 (a zero-size output, refused later); anything that is not
        # a non-negative integer is a dynamic axis.
        dims = tuple(d if isinstance(d, numbers.Integral) and d >= 0 else None for d in shape)
        labels = tuple(d if isinstance(d, numbers.Integral) and d >= 0 else (d or "?")
                       for d in shape)
        return cls(node.name, dims, node.type, labels, known)

    def describe(self):
        dims = ", ".join(str(d) for d in self.labels) if self.rank_known else "rank unknown"
        return f"{self.name!r} ({dims}) {self.type.replace('tensor(', '').rstrip(')')}"


class _Plan:
    """Where the fields are: output layout and (name, start, stop) of each field."""

    __slots__ = ("layout", "heatmaps", "pafs")

    def __init__(self, layout, heatmaps, pafs):
        self.layout = layout
        self.heatmaps = heatmaps
        self.pafs = pafs

    def __repr__(self):
        return f"_Plan({self.layout}, heatmaps={self.heatmaps}, pafs={self.pafs})"


def _channels(output, layout):
    if len(output.shape) != 4:
        return None
    return output.shape[1] if layout == "NCHW" else output.shape[3]


def _spec(spec, what, outputs):
    """Normalise a field spec to (name or None, start, stop or None)."""
    names = [o.name for o in outputs]
    if isinstance(spec, str):
        name, start, stop = spec, 0, None
    elif isinstance(spec, slice):
        if spec.step not in (None, 1):
            raise ValueError(f"{what} channel slice must have step 1, got {spec!r}")
        name, start, stop = None, spec.start or 0, spec.stop
    elif isinstance(spec, (tuple, list)):
        items = list(spec)
        name = None
        if items and (isinstance(items[0], str) or items[0] is None):
            name = items.pop(0)
        if len(items) == 1 and isinstance(items[0], slice):
            sl = items[0]
            if sl.step not in (None, 1):
                raise ValueError(f"{what} channel slice must have step 1, got {sl!r}")
            start, stop = sl.start or 0, sl.stop
        elif len(items) == 2:
            start, stop = items
        elif not items:
            start, stop = 0, None
        else:
            raise ValueError(f"{what} must be an output name, a channel slice, or "
                             f"(name, start, stop) / (name, slice); got {spec!r}")
    else:
        raise ValueError(f"{what} must be an output name, a channel slice, or "
                         f"(name, start, stop) / (name, slice); got {spec!r}")
    if name is None:
        four_d = [o for o in outputs if len(o.shape) == 4]
        if len(four_d) != 1:
            raise ValueError(f"{what}={spec!r} names no output but the model has "
                             f"{len(outputs)} outputs {names}; name one")
        name = four_d[0].name
    if name not in names:
        raise ValueError(f"{what} names output {name!r}, but the model's outputs are "
                         f"{names}")
    for v in (start, stop):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral)
                              or v < 0):
            raise ValueError(f"{what} channel bounds must be non-negative integers, "
                             f"got {spec!r}")
    return name, int(start), None if stop is None else int(stop)


def _plan_for_layout(outputs, layout, k, p, heat_spec, paf_spec):
    """The plan under one layout, 'unknown' when dynamic axes hide it, or None."""
    by_name = {o.name: o for o in outputs}
    if heat_spec is not None:
        fields = []
        unknown = False
        for (name, start, stop), counts in ((heat_spec, (k, k + 1)), (paf_spec, (p,))):
            c = _channels(by_name[name], layout)
            if c is None:
                if len(by_name[name].shape) != 4:
                    return None
                unknown = True
                fields.append((name, start, stop))
                continue
            end = c if stop is None else stop
            if end > c or end - start not in counts:
                return None
            fields.append((name, start, end))
        return "unknown" if unknown else _Plan(layout, fields[0], fields[1])

    four_d = [o for o in outputs if len(o.shape) == 4]
    combined, heats, pafs = [], [], []
    unknown = False
    for o in four_d:
        c = _channels(o, layout)
        if c is None:
            unknown = True
            continue
        if c in (k + p, k + 1 + p):
            combined.append((o, c - p))
        if c in (k, k + 1):
            heats.append(o)
        if c == p:
            pafs.append(o)
    if heats and pafs and not combined:
        # Several stages (e.g. Lightweight OpenPose's export): the last pair is final.
        heat, paf = heats[-1], pafs[-1]
        if heat is paf:
            others = [o for o in pafs if o is not heat]
            if not others:
                return None
            paf = others[-1]
        return _Plan(layout, (heat.name, 0, _channels(heat, layout)),
                     (paf.name, 0, p))
    if combined and not (heats and pafs):
        o, n_heat = combined[-1]
        return _Plan(layout, (o.name, 0, n_heat), (o.name, n_heat, n_heat + p))
    if combined:
        return None  # both a combined output and separate ones: ambiguous
    return "unknown" if unknown else None


def _make_plan(outputs, skeleton, heatmaps, pafs, layout, source, final):
    """Find the fields among `outputs`; None to decide later (dynamic axes)."""
    k, p = skeleton.num_keypoints, skeleton.num_paf_channels
    if (heatmaps is None) != (pafs is None):
        raise ValueError("give both heatmaps= and pafs= (or neither, to detect them)")
    heat_spec = _spec(heatmaps, "heatmaps", outputs) if heatmaps is not None else None
    paf_spec = _spec(pafs, "pafs", outputs) if pafs is not None else None
    layouts = [layout] if layout is not None else list(_LAYOUTS)
    # Channel axes are static in practice: when some output has a static axis 1 or 3,
    # a dynamic one there is read as spatial, not as a channel count still to come.
    four_d = [o for o in outputs if len(o.shape) == 4]
    any_static = any(o.shape[1] is not None or o.shape[3] is not None for o in four_d)
    found = {}
    unknown = []
    for lay in layouts:
        plan = _plan_for_layout(outputs, lay, k, p, heat_spec, paf_spec)
        if plan == "unknown":
            if not any_static:
                unknown.append(lay)
        elif plan is not None:
            found[lay] = plan
    if len(found) == 1:
        return next(iter(found.values()))
    if not found and not final and (unknown or not all(o.rank_known for o in outputs)):
        return None

    listing = "; ".join(o.describe() for o in outputs)
    need = (f"skeleton ({k} keypoints, {p} PAF channels) needs heatmaps of {k} or "
            f"{k + 1} channels and PAFs of {p} channels, as two outputs or as one output "
            f"of {k + p} or {k + 1 + p} channels (heatmaps first)")
    if found:
        problem = (f"cannot tell whether the outputs of {source} are NCHW or NHWC: both "
                   f"fit")
        hint = "pass layout='NCHW' or layout='NHWC'"
    elif heat_spec is not None:
        problem = (f"heatmaps={heatmaps!r} and pafs={pafs!r} do not select fitting channel "
                   f"ranges of the outputs of {source}"
                   + (f" in layout {layout}" if layout else ""))
        hint = "fix the channel ranges or layout="
    else:
        problem = (f"cannot find heatmaps and PAFs among the outputs of {source}"
                   + (f" in layout {layout}" if layout else ""))
        hint = ("pass heatmaps= and pafs= as (output name, start, stop), and layout=, "
                "or use a skeleton that fits")
    raise ValueError(f"{problem}. Outputs: {listing}. The {need}; {hint}.")


def _detect_stride(in_hw, out_hw):
    """Input pixels per output cell, the same on both axes, or None if unknown."""
    if None in in_hw or None in out_hw:
        return None
    if min(out_hw) <= 0 or min(in_hw) <= 0:
        raise ValueError(f"the network's input is {in_hw[0]}x{in_hw[1]} and its output "
                         f"{out_hw[0]}x{out_hw[1]}: a zero-size axis has no stride")
    ratios = [i / o for i, o in zip(in_hw, out_hw)]
    s = round(ratios[0])
    if s >= 1 and all(o in (i // s, -(-i // s)) for i, o in zip(in_hw, out_hw)):
        return float(s)
    if abs(ratios[0] - ratios[1]) <= 1e-6 * ratios[0]:
        return ratios[0]
    raise ValueError(f"the network's input is {in_hw[0]}x{in_hw[1]} and its output "
                     f"{out_hw[0]}x{out_hw[1]}: no single stride fits both axes; "
                     f"pass stride=")


_FIELD_TYPES = ("tensor(float)", "tensor(float16)", "tensor(double)")


def _check_field_output(name, type_, shape, plan, source, description):
    """An output the plan reads: floating point, 4-D, no zero-size axis, and (when its
    channel axis is known) holding the plan's channels. `shape` has None for dynamic
    axes."""
    where = f"output {description} of {source}"
    if type_ not in _FIELD_TYPES:
        raise ValueError(f"{where} is not floating point; heatmaps and PAFs must be "
                         f"float, float16 or double outputs")
    if len(shape) != 4:
        raise ValueError(f"{where} is not 4-D; heatmaps and PAFs must be (N, C, H, W) or "
                         f"(N, H, W, C) outputs")
    if 0 in shape:
        raise ValueError(f"{where} has a zero-size axis; heatmaps and PAFs need at least "
                         f"one frame of 1x1 map cells")
    channels = shape[1] if plan.layout == "NCHW" else shape[3]
    stops = [stop for field, _, stop in (plan.heatmaps, plan.pafs) if field == name]
    if channels is not None and stops and max(stops) > channels:
        raise ValueError(f"{where} has {channels} channels in layout {plan.layout}; the "
                         f"fields need {max(stops)}")


_TENSOR_TYPES = {np.dtype(np.float32): "tensor(float)", np.dtype(np.float16): "tensor(float16)",
                 np.dtype(np.float64): "tensor(double)"}


def _check_output_arrays(outputs, plan, source):
    """The arrays a run returned for the plan's outputs, checked as the static shapes
    are (a model's declared shapes may be dynamic, or wrong)."""
    for name in dict.fromkeys((plan.heatmaps[0], plan.pafs[0])):
        if name not in outputs:
            raise ValueError(f"the outputs of {source} hold no {name!r}; got "
                             f"{sorted(outputs)}")
        arr = outputs[name]
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"output {name!r} of {source} is a {type(arr).__name__}, not "
                             f"a tensor")
        type_ = _TENSOR_TYPES.get(arr.dtype.newbyteorder("="), f"tensor({arr.dtype})")
        dims = ", ".join(str(d) for d in arr.shape)
        _check_field_output(name, type_, arr.shape, plan, source,
                            f"{name!r} ({dims}) {type_[7:-1]}")


def _ort_reason(exc):
    """onnxruntime's message without its status prefix, on one line."""
    text = " ".join(str(exc).split())
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    return text if len(text) <= 240 else text[:237] + "..."


def _source_name(path):
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    return "<in-memory model>" if isinstance(path, (bytes, bytearray)) else "<session>"


def _norm(value, name):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or arr.size not in (1, 3) or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be a number or 3 numbers (one per channel), "
                         f"got {value!r}")
    return arr.reshape(-1)


# -- test-time augmentation ----------------------------------------------------------

def _check_tta(skeleton, flip, scales):
    """(flip, scales, flip channel maps or None), checked before the model is loaded."""
    if not isinstance(flip, (bool, np.bool_)):
        raise ValueError(f"flip must be True or False, got {flip!r}")
    values = None
    if not isinstance(scales, (str, bytes)):
        try:
            values = tuple(scales)
        except TypeError:
            values = None
    if not values or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real)
                         or not math.isfinite(v) or v <= 0 for v in values):
        raise ValueError(f"scales must be a non-empty sequence of numbers > 0 (input size "
                         f"multipliers, e.g. (1.0, 1.5, 2.0)), got {scales!r}")
    values = tuple(float(v) for v in values)
    if len(set(values)) != len(values):
        raise ValueError(f"scales must not repeat a scale, got {scales!r}")
    return bool(flip), values, _flip_channels(skeleton) if flip else None


def _flip_channels(skeleton):
    """(keypoint permutation, PAF channel sources, PAF signs): the fields of a mirrored
    image, mirrored back, become the image's as ``heat[perm]`` and
    ``paf[sources] * signs``."""
    try:
        perm = skeleton.flip_permutation()
        limb_perm = skeleton.limb_flip_permutation()
    except ValueError as exc:
        raise ValueError(f"flip=True needs the skeleton's left/right keypoint pairs: "
                         f"{exc}") from None
    limbs = skeleton.limbs.tolist()
    channels = skeleton.paf_channels.tolist()
    sources = np.arange(skeleton.num_paf_channels)
    signs = np.ones(skeleton.num_paf_channels, np.float32)
    for limb, (a, b) in enumerate(limbs):
        mirror = int(limb_perm[limb])
        # A mirror limb stored the other way round points the other way; the mirror
        # itself turns x around.
        along = 1.0 if tuple(limbs[mirror]) == (perm[a], perm[b]) else -1.0
        (cx, cy), (mx, my) = channels[limb], channels[mirror]
        sources[cx], signs[cx] = mx, -along
        sources[cy], signs[cy] = my, along
    return perm, sources, signs


def _mirrored(transform):
    """The transform of the input mirrored left to right (input x -> W - 1 - x)."""
    width = transform.input_size[1]
    mirror = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])
    top, left = transform.offset
    return InputTransform(compose_affine(mirror, transform.affine), transform.image_size,
                          transform.input_size, transform.content_size,
                          (top, width - left - transform.content_size[1]), transform.policy)


class _Pass:
    """One network run of test-time augmentation over a group of images."""

    __slots__ = ("scale", "flip", "outputs", "transforms", "tensor_shape")

    def __init__(self, scale, flip, outputs, transforms, tensor_shape):
        self.scale, self.flip = scale, flip
        self.outputs, self.transforms, self.tensor_shape = outputs, transforms, tensor_shape


class AugmentedOutputs:
    """The outputs of every pass (scale, flip) over one group of images, as
    :meth:`OnnxPoseModel.run_batch` gives them with test-time augmentation; pass it to
    :meth:`OnnxPoseModel.decode_outputs` like an outputs dict."""

    __slots__ = ("passes",)

    def __init__(self, passes):
        self.passes = list(passes)

    def __repr__(self):
        names = ", ".join(f"{p.scale:g}{' flip' if p.flip else ''}" for p in self.passes)
        return f"AugmentedOutputs({names})"


class OnnxPoseModel:
    """An OpenPose-style ONNX network with its pre-processing and decoder.

    Parameters
    ----------
    path : str, os.PathLike, bytes or onnxruntime.InferenceSession
        The ``.onnx`` file, a serialised model, or an open session.
    skeleton : Skeleton
        Keypoint order and the PAF channels of each limb, as the network emits them.
    heatmaps, pafs : str, slice or tuple, optional
        Where the fields are: an output name (all its channels), a channel slice of
        the only 4-D output, or ``(name, start, stop)`` / ``(name, slice)``. Give both
        or neither. By default they are found from the output shapes and the
        skeleton: two outputs of ``K`` or ``K + 1`` and ``2L`` channels (when several
        stages are exported, the last of each is used), or one output of
        ``K [+ 1] + 2L`` channels with the heatmaps first.
    layout : {"NCHW", "NHWC"}, optional
        Axis order of the outputs; detected from their shapes by default.
    stride : float, optional
        Input pixels per output cell. By default ``input size / output size`` (from
        the model's static shapes, or else from the first run). The ``pad`` policy
        pads inputs to a multiple of ``stride`` (8 when not given).
    color : {"BGR", "RGB"}, default "BGR"
        Channel order the network expects.
    scale, mean, std : float or 3 floats
        Normalisation: ``input = (pixel * scale - mean) / std``, pixels 0..255 in the
        network's channel order (per-channel values in that order too).
    input_size : (int or None, int or None), optional
        Dynamic-size models: ``resize="pad"`` scales the image to fit this size (a
        None side unconstrained; None: keep the image's size) and pads right/bottom
        to a multiple of the stride; ``resize="fixed"`` resizes to exactly this size
        (required). Fixed-size models take their size from the model (a different
        `input_size` is an error); ``pad`` then letterboxes (keeps the aspect ratio,
        pads right/bottom) and ``fixed`` stretches.
    resize : {"pad", "fixed"}, default "pad"
        The resize policy, see :mod:`pafdecode.transforms`.
    providers : list, optional
        onnxruntime execution providers; default CUDA when available, then CPU.
    input_layout : {"NCHW", "NHWC"}, optional
        Axis order of the input; read from the input shape (the axis of size 3) by
        default.
    fill : float, default 0.0
        Pixel value of the padding, before normalisation.
    antialias : bool, default True
        Average blocks of pixels before resampling when shrinking by 2 or more (see
        :func:`pafdecode.transforms.warp_affine`).
    session_options : onnxruntime.SessionOptions, optional
    flip : bool, default False
        Test-time flip: also run the image mirrored left to right, mirror its fields
        back (left and right keypoint and limb channels swapped, PAF ``x`` negated,
        from ``skeleton.flip_pairs``) and average them with the unflipped fields. The
        skeleton must have flip pairs.
    scales : sequence of float, default (1.0,)
        Test-time scales: multipliers of the input size (of the image's size when
        `input_size` is None). Each scale's fields are resized bilinearly to the map
        grid of scale 1 (the input the model makes without scales), averaged over
        every scale (and flip), and decoded once on that grid, so decoding costs
        the same at any scale and keypoints come back through the same affine
        bookkeeping. To decode on a finer grid, raise `input_size` and use scales
        below 1. Needs a network with a dynamic input size when a scale is not 1.
    **decoder_options
        Passed to :class:`pafdecode.Decoder` (``peak_threshold``, ``assignment``, ...).

    Attributes
    ----------
    last_timing : dict
        Wall-clock milliseconds of the last call (or of the last frame of
        :meth:`track`): ``preprocess_ms`` (resize and normalise), ``inference_ms``
        (``session.run``), ``decode_ms`` (decode and back-projection, and with
        `flip` or `scales` the resampling and averaging of the fields, also given
        alone as ``merge_ms``), ``total_ms``, ``images``, and ``passes``: one dict
        per network pass, ``{"scale", "flip", "preprocess_ms", "inference_ms"}``.
        Each returned ``Poses`` also carries its share in ``poses.stats`` (the same
        first three keys, and ``merge_ms``).
    session : onnxruntime.InferenceSession
    input_name : str
    input_layout : str or None
    output_layout : str or None
        None until the outputs are resolved (models with dynamic channel axes are
        resolved on the first run).

    Notes
    -----
    The network sees the image resampled bilinearly by an affine map (see
    :mod:`pafdecode.transforms`); people come back in the original image's pixels,
    with the decoder's keypoint convention.

    A model that cannot serve is refused with one ValueError naming it and what was
    expected: a file that is not an ONNX model (truncated, another format, a
    directory), outputs that are not floating point, not 4-D, of a zero-size axis or
    of too few channels (checked on the declared shapes when the model is loaded, and
    on the arrays of every run, since dynamic or wrong declarations are possible).
    Non-finite output values (NaN, +-Inf) read as 0, as :class:`Decoder` reads them:
    a network that emits NaN finds nobody there, without an error.
    """

    def __init__(self, path, skeleton, *, heatmaps=None, pafs=None, layout=None,
                 stride=None, color="BGR", scale=1.0, mean=0.0, std=1.0, input_size=None,
                 resize="pad", providers=None, input_layout=None, fill=0.0,
                 antialias=True, session_options=None, flip=False, scales=(1.0,),
                 **decoder_options):
        self._check_options(skeleton, color, resize, layout, input_layout, stride,
                            decoder_options)
        self.flip, self.scales, self._flip_maps = _check_tta(skeleton, flip, scales)
        self.skeleton = skeleton
        self.color = color
        self.resize = resize
        self.fill = float(fill)
        self.antialias = bool(antialias)
        self._set_normalisation(scale, mean, std)
        self._stride_arg = None if stride is None else float(stride)
        self._decoder_options = dict(decoder_options)
        self._decoders = {}
        self.session = self._open(path, providers, session_options)
        self.source = _source_name(path)
        hw = self._read_input(input_layout, input_size)
        self._check_scales_fit(self.scales)
        self._passes = [(s, f) for s in self.scales
                        for f in ((False, True) if self.flip else (False,))]
        self._find_outputs(heatmaps, pafs, layout, hw)
        self.last_timing = {}

    # -- construction helpers --------------------------------------------------------
    @staticmethod
    def _check_options(skeleton, color, resize, layout, input_layout, stride,
                       decoder_options):
        """Every argument that needs no model, checked before the model is loaded."""
        if not isinstance(skeleton, Skeleton):
            raise ValueError(f"skeleton must be a pafdecode.Skeleton, got "
                             f"{type(skeleton).__name__}")
        for name, value, allowed in (("color", color, ("BGR", "RGB")),
                                     ("resize", resize, ("pad", "fixed")),
                                     ("layout", layout, _LAYOUTS + (None,)),
                                     ("input_layout", input_layout, _LAYOUTS + (None,))):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if stride is not None:
            if isinstance(stride, bool) or not isinstance(stride, numbers.Real):
                raise ValueError(f"stride must be a number > 0, got {stride!r}")
            # The decoder's own range, with its message.
            DecoderConfig(stride=stride)
        # The decoder options now rather than on the first image.
        Decoder(skeleton, stride=8, **decoder_options)

    def _set_normalisation(self, scale, mean, std):
        scale_a = _norm(scale, "scale")
        mean_a = _norm(mean, "mean")
        std_a = _norm(std, "std")
        if (std_a == 0).any():
            raise ValueError("std must not be 0")
        # input = pixel * gain + bias, per channel
        with np.errstate(over="ignore"):
            self._gain = np.broadcast_to(scale_a / std_a, (3,)).astype(np.float32)
            self._bias = np.broadcast_to(-mean_a / std_a, (3,)).astype(np.float32)
        if not (np.isfinite(self._gain).all() and np.isfinite(self._bias).all()):
            raise ValueError(f"scale / std and mean / std must be finite as float32, got "
                             f"scale={scale!r}, mean={mean!r}, std={std!r}")
        self._identity_norm = bool((self._gain == 1).all() and (self._bias == 0).all())

    def _read_input(self, input_layout, input_size):
        """The input's name, dtype, layout, batch and sizes; returns its (H, W) or None."""
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"{self.source} has {len(inputs)} inputs "
                             f"{[i.name for i in inputs]}; OnnxPoseModel needs one image "
                             f"input")
        node = inputs[0]
        self.input_name = node.name
        if node.type not in _INPUT_TYPES:
            raise ValueError(f"input {node.name!r} of {self.source} has type {node.type}; "
                             f"supported: {sorted(_INPUT_TYPES)}")
        self.input_dtype = np.dtype(_INPUT_TYPES[node.type])
        if self.input_dtype == np.uint8 and not self._identity_norm:
            raise ValueError(f"input {node.name!r} is uint8, so scale, mean and std "
                             f"cannot be applied")
        in_shape = _Output.from_node(node)
        if len(in_shape.shape) != 4 or 0 in in_shape.shape:
            raise ValueError(f"input {in_shape.describe()} of {self.source} is not 4-D "
                             f"(N, C, H, W) or (N, H, W, C) of non-zero size")
        self._input_info = in_shape
        self._input_layout_error = None
        self.input_layout = input_layout or self._detect_input_layout(in_shape)
        dims = in_shape.shape
        self.batch_size = dims[0]  # None: any
        hw = None
        if self.input_layout == "NCHW":
            hw = dims[2:4]
        elif self.input_layout == "NHWC":
            hw = dims[1:3]
        self.fixed_input_size = tuple(hw) if hw is not None and None not in hw else None
        self._set_input_size(input_size)
        return hw

    def _set_input_size(self, input_size):
        if input_size is not None:
            try:
                pair = tuple(input_size)
            except TypeError:
                pair = ()
            if isinstance(input_size, (str, bytes)) or len(pair) != 2:
                raise ValueError(f"input_size must be (height, width), either may be "
                                 f"None, got {input_size!r}")
        if self.fixed_input_size is not None and input_size is not None:
            if tuple(input_size) != self.fixed_input_size:
                raise ValueError(f"input_size {tuple(input_size)} differs from the "
                                 f"model's fixed input size {self.fixed_input_size}")
        if (self.fixed_input_size is None and self.resize == "fixed"
                and (input_size is None or None in tuple(input_size))):
            raise ValueError("resize='fixed' on a model with a dynamic input size needs "
                             "input_size=(height, width)")
        self.input_size = (self.fixed_input_size if self.fixed_input_size is not None
                           else None if input_size is None else tuple(input_size))
        try:  # a bad input_size fails now, not on the first image
            self.transform_for((100, 100))
        except ValueError as exc:
            raise ValueError(f"input_size={input_size!r}: {exc}") from None

    def _passes_for(self, flip, scales):
        """[(scale, flip), ...] of one call: the call's `flip` and `scales`, each
        None for the model's, checked."""
        if flip is None and scales is None:
            return self._passes
        flip, scales, maps = _check_tta(self.skeleton, self.flip if flip is None else flip,
                                        self.scales if scales is None else scales)
        if maps is not None:
            self._flip_maps = maps
        self._check_scales_fit(scales)
        return [(s, f) for s in scales for f in ((False, True) if flip else (False,))]

    def _check_scales_fit(self, scales):
        """Every scale gives an input the network can take."""
        other = [s for s in scales if s != 1.0]
        if other and self.fixed_input_size is not None:
            h, w = self.fixed_input_size
            raise ValueError(f"scales={scales} needs a network with a dynamic input "
                             f"size, but {self.source} takes only {h}x{w} inputs, so an "
                             f"image scaled by {other[0]:g} cannot go in; export the "
                             f"network with dynamic height and width, or use scales=(1.0,)")
        for scale in other:
            try:
                self.transform_for((100, 100), scale)
            except ValueError as exc:
                raise ValueError(f"scales: {scale:g} times input_size={self.input_size!r} "
                                 f"is no input size: {exc}") from None

    def _find_outputs(self, heatmaps, pafs, layout, hw):
        """The plan (where the fields are) and the stride, as far as static shapes tell."""
        self._outputs = [_Output.from_node(o) for o in self.session.get_outputs()]
        self._heat_arg, self._paf_arg, self._layout_arg = heatmaps, pafs, layout
        self._plan = _make_plan(self._outputs, self.skeleton, heatmaps, pafs, layout,
                                self.source, final=False)
        self.stride = self._stride_arg
        if self._plan is None:
            return
        by_name = {o.name: o for o in self._outputs}
        for name in dict.fromkeys((self._plan.heatmaps[0], self._plan.pafs[0])):
            out = by_name[name]
            _check_field_output(out.name, out.type, out.shape, self._plan, self.source,
                                out.describe())
        if self.stride is None and hw is not None:
            out = by_name[self._plan.heatmaps[0]]
            out_hw = out.shape[2:4] if self._plan.layout == "NCHW" else out.shape[1:3]
            self.stride = self._checked_stride(_detect_stride(tuple(hw), tuple(out_hw)))

    def _checked_stride(self, stride):
        """A detected stride within the decoder's range, or a message naming the model."""
        if stride is None:
            return None
        try:
            DecoderConfig(stride=stride)
        except ValueError as exc:
            raise ValueError(f"the stride detected from the shapes of {self.source} is "
                             f"out of range ({exc}); pass stride=") from None
        return stride

    @staticmethod
    def _open(path, providers, session_options):
        ort = _import_onnxruntime()
        if isinstance(path, ort.InferenceSession):
            return path
        if providers is None:
            available = ort.get_available_providers()
            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                         if p in available] or available
        if isinstance(path, (bytes, bytearray)):
            model = bytes(path)
        elif isinstance(path, (str, os.PathLike)):
            model = os.fspath(path)
            if os.path.isdir(model):
                raise ValueError(f"{model} is a directory, not an ONNX model file")
            if not os.path.isfile(model):
                raise FileNotFoundError(f"no ONNX model at {model}")
        else:
            raise ValueError(f"path must be a file path, bytes or an InferenceSession, "
                             f"got {type(path).__name__}")
        try:
            return ort.InferenceSession(model, sess_options=session_options,
                                        providers=providers)
        except MemoryError:
            raise
        except Exception as exc:  # onnxruntime's own classes, one per status code
            raise ValueError(f"cannot load {_source_name(path)} as an ONNX model: "
                             f"{_ort_reason(exc)}") from None

    def _detect_input_layout(self, info):
        dims = info.shape
        first, last = dims[1] == 3, dims[3] == 3
        if first and not last:
            return "NCHW"
        if last and not first:
            return "NHWC"
        self._input_layout_error = (
            f"cannot tell whether input {info.describe()} of {self.source} is NCHW or "
            f"NHWC (no single axis of size 3); pass input_layout=")
        return None

    @classmethod
    def _with_defaults(cls, path, skeleton, defaults, kwargs):
        options = dict(defaults)
        options.update(kwargs)
        return cls(path, skeleton, **options)

    # -- presets ---------------------------------------------------------------------
    @classmethod
    def tfpose(cls, path, skeleton=None, **kwargs):
        """A tf-pose-estimation network (mobilenet-thin, mobilenet-v2, cmu).

        One NHWC output of 57 channels: 18 COCO-18 heatmaps, background, 38 PAFs; input
        ``image:0`` float32 NHWC, BGR 0..255 (the graph normalises). Defaults:
        ``skeleton=Skeleton.openpose_coco18()``, ``layout="NHWC"``, ``color="BGR"``,
        no normalisation, ``input_size=(368, 432)``, ``resize="pad"`` (keep the aspect
        ratio, fit 368x432, pad to a multiple of 8). Any keyword overrides; ``flip`` and
        ``scales`` (test-time augmentation) are the constructor's, as on every preset.
        """
        skeleton = skeleton or Skeleton.openpose_coco18()
        defaults = dict(layout="NHWC", color="BGR", scale=1.0, mean=0.0, std=1.0,
                        input_size=(368, 432), resize="pad")
        return cls._with_defaults(path, skeleton, defaults, kwargs)

    @classmethod
    def openpose_caffe(cls, path, skeleton=None, **kwargs):
        """CMU OpenPose's Caffe body models converted to ONNX.

        One NCHW blob, heatmaps first: 57 channels for COCO-18 (18 + background + 38
        PAFs) or 78 for BODY_25 (25 + background + 52). The skeleton is chosen from the
        channel count when not given. Defaults: ``color="BGR"``, OpenPose's
        normalisation ``pixel / 256 - 0.5`` (``scale=1/256, mean=0.5``),
        ``input_size=(368, None)`` (OpenPose's ``-1x368``), ``resize="pad"``.
        """
        session = cls._open(path, kwargs.pop("providers", None),
                            kwargs.pop("session_options", None))
        if skeleton is None:
            outs = [_Output.from_node(o) for o in session.get_outputs()]
            counts = {_channels(o, kwargs.get("layout") or "NCHW") for o in outs} - {None}
            if 57 in counts and 78 not in counts:
                skeleton = Skeleton.openpose_coco18()
            elif 78 in counts and 57 not in counts:
                skeleton = Skeleton.body25()
            else:
                listing = "; ".join(o.describe() for o in outs)
                raise ValueError(f"cannot choose the skeleton from the outputs of "
                                 f"{_source_name(path)}: "
                                 f"{listing}; expected one NCHW output of 57 (COCO-18) or "
                                 f"78 (BODY_25) channels. Pass skeleton=")
        defaults = dict(layout="NCHW", color="BGR", scale=1.0 / 256.0, mean=0.5, std=1.0,
                        input_size=(368, None), resize="pad")
        model = cls._with_defaults(session, skeleton, defaults, kwargs)
        model.source = _source_name(path)
        return model

    @classmethod
    def two_outputs(cls, path, skeleton=None, **kwargs):
        """Separate heatmap and PAF outputs (Lightweight OpenPose, OpenVINO
        human-pose-estimation-0001).

        NCHW heatmaps of ``K + 1`` channels and PAFs of ``2L``; when several stages are
        exported, the last heatmap and PAF outputs are used. Defaults:
        ``skeleton=Skeleton.openpose_coco18()``, ``layout="NCHW"``, ``color="BGR"``,
        Lightweight OpenPose's normalisation ``(pixel - 128) / 256``,
        ``input_size=(256, None)``, ``resize="pad"``. For a graph that normalises
        internally (e.g. an OpenVINO conversion), pass ``mean=0.0, std=1.0``.
        """
        skeleton = skeleton or Skeleton.openpose_coco18()
        defaults = dict(layout="NCHW", color="BGR", scale=1.0, mean=128.0, std=256.0,
                        input_size=(256, None), resize="pad")
        return cls._with_defaults(path, skeleton, defaults, kwargs)

    # -- introspection ---------------------------------------------------------------
    @property
    def output_layout(self):
        return None if self._plan is None else self._plan.layout

    @property
    def fields(self):
        """``{"heatmaps": (output, start, stop), "pafs": (...)}``, or None if unresolved."""
        if self._plan is None:
            return None
        return {"heatmaps": self._plan.heatmaps, "pafs": self._plan.pafs}

    @property
    def outputs(self):
        """``[(name, shape), ...]`` of the model's outputs (None for dynamic axes)."""
        return [(o.name, o.shape) for o in self._outputs]

    def __repr__(self):
        size = self.fixed_input_size or self.input_size
        return (f"OnnxPoseModel({self.source!r}, {self.skeleton!r}, input "
                f"{self.input_name!r} {self.input_layout} {size}, outputs "
                f"{self.output_layout} {self.fields}, stride={self.stride}, "
                f"resize={self.resize!r}, color={self.color!r})")

    # -- pipeline pieces -------------------------------------------------------------
    def transform_for(self, image_size, scale=1.0):
        """The :class:`~pafdecode.transforms.InputTransform` for an image of (h, w).

        `scale` multiplies the input size (the image's size when ``input_size`` is
        None), as the test-time `scales` do; only 1 on a fixed-size network.
        """
        pad_to = int(self._stride_arg) if self._stride_arg else 8
        if self.fixed_input_size is not None:
            if scale != 1.0:
                raise ValueError(f"{self.source} takes only {self.fixed_input_size} "
                                 f"inputs: no scale but 1, got {scale!r}")
            if self.resize == "fixed":
                return make_transform(image_size, "fixed", self.fixed_input_size)
            return make_transform(image_size, "fixed", self.fixed_input_size,
                                  keep_aspect=True)
        size = self.input_size
        if scale != 1.0:
            size = tuple(None if v is None else max(1, int(round(v * scale)))
                         for v in (image_size if size is None else size))
        if self.resize == "fixed":
            return make_transform(image_size, "fixed", size)
        return make_transform(image_size, "pad", size, stride=pad_to)

    def _check_image(self, image):
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] == 0 or img.shape[1] == 0:
            raise ValueError(f"image must be an (H, W, 3) array, got shape {img.shape}")
        if img.dtype.kind not in "uif":
            raise ValueError(f"image must be uint8 (or real-valued 0..255), got {img.dtype}")
        return img

    def preprocess(self, image, color=None, transform=None):
        """Resize and normalise one image into the network's input.

        Parameters
        ----------
        image : ndarray, shape (h, w, 3)
            uint8 (or real values 0..255), channels in `color` order.
        color : {"BGR", "RGB"}, optional
            Channel order of `image`; default: the model's (``self.color``).
        transform : InputTransform, optional
            Default: ``self.transform_for(image.shape[:2])``.

        Returns
        -------
        tensor : ndarray, shape (1, 3, H, W) or (1, H, W, 3), the input's dtype
        transform : InputTransform
        """
        if self._input_layout_error:
            raise ValueError(self._input_layout_error)
        img = self._check_image(image)
        color = self.color if color is None else color
        if color not in ("BGR", "RGB"):
            raise ValueError(f"color must be 'BGR' or 'RGB', got {color!r}")
        if color != self.color:
            img = img[:, :, ::-1]
        if transform is None:
            transform = self.transform_for(img.shape[:2])
        x = transform.warp(img, fill=self.fill, antialias=self.antialias)
        if not self._identity_norm:
            x *= self._gain
            x += self._bias
        if self.input_dtype == np.uint8:
            x = np.clip(np.rint(x), 0, 255)
        x = x.astype(self.input_dtype, copy=False)
        if self.input_layout == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None]), transform

    def run(self, tensor):
        """Run the network on an input tensor; returns ``{output name: array}``."""
        names = None
        if self._plan is not None:
            names = list(dict.fromkeys([self._plan.heatmaps[0], self._plan.pafs[0]]))
        try:
            result = self.session.run(names, {self.input_name: tensor})
        except MemoryError:
            raise
        except Exception as exc:  # onnxruntime's own classes, one per status code
            raise ValueError(f"{self.source} failed to run on an input of shape "
                             f"{tuple(np.shape(tensor))}: {_ort_reason(exc)}") from None
        names = names or [o.name for o in self.session.get_outputs()]
        return dict(zip(names, result))

    def _resolve(self, outputs, tensor_shape):
        """Settle the plan and stride from the first run's concrete shapes."""
        plan = self._plan
        if plan is None:
            concrete = [_Output(o.name, np.shape(outputs[o.name]), o.type)
                        for o in self._outputs if o.name in outputs]
            plan = _make_plan(concrete, self.skeleton, self._heat_arg, self._paf_arg,
                              self._layout_arg, self.source, final=True)
        _check_output_arrays(outputs, plan, self.source)
        self._plan = plan
        if self.stride is None:
            heat = np.shape(outputs[self._plan.heatmaps[0]])
            out_hw = heat[2:4] if self._plan.layout == "NCHW" else heat[1:3]
            if self.input_layout == "NHWC":
                in_hw = tensor_shape[1:3]
            elif self.input_layout == "NCHW":
                in_hw = tensor_shape[2:4]
            else:
                raise ValueError("cannot detect the stride without the input layout; "
                                 "pass stride= or input_layout=")
            self.stride = self._checked_stride(_detect_stride(tuple(in_hw), tuple(out_hw)))

    def decoder(self, stride=None):
        """The :class:`pafdecode.Decoder` for the output layout at `stride`."""
        layout = "HWC" if self._plan is not None and self._plan.layout == "NHWC" else "CHW"
        return self._decoder_for(stride, layout)

    def _decoder_for(self, stride, layout):
        stride = float(stride if stride is not None else self.stride)
        key = (stride, layout)
        dec = self._decoders.get(key)
        if dec is None:
            dec = Decoder(self.skeleton, stride=stride, layout=layout,
                          **self._decoder_options)
            self._decoders[key] = dec
        return dec

    def _fields(self, outputs, frame=None):
        """(heatmaps, pafs) sliced from the outputs, batch axis kept unless `frame`."""
        plan = self._plan
        result = []
        for name, start, stop in (plan.heatmaps, plan.pafs):
            arr = outputs[name]
            if arr.ndim != 4:
                raise ValueError(f"output {name!r} has shape {arr.shape}, expected 4-D")
            sel = [slice(None)] * 4
            sel[1 if plan.layout == "NCHW" else 3] = slice(start, stop)
            if frame is not None:
                sel[0] = frame
            result.append(arr[tuple(sel)])
        return result

    def decode_outputs(self, outputs, transforms, tensor_shape=None):
        """Decode network outputs into people in image pixels.

        Parameters
        ----------
        outputs : dict or AugmentedOutputs
            ``{output name: array}`` as :meth:`run` returns, batch axis N first, or
            what :meth:`run_batch` gives with `flip` or `scales`.
        transforms : InputTransform or list of InputTransform or None
            One per frame (None: keep input pixels). With augmented outputs, the
            transforms of scale 1 (those :meth:`run_batch` gives).
        tensor_shape : tuple, optional
            Shape of the input tensor, to detect the stride on a first run.

        Returns
        -------
        list of Poses
        """
        if isinstance(outputs, AugmentedOutputs):
            return self._decode_augmented(outputs.passes, transforms)
        if self._plan is None or self.stride is None:
            if tensor_shape is None:
                raise ValueError("the model's outputs are not resolved yet: pass "
                                 "tensor_shape (the input tensor's shape)")
            self._resolve(outputs, tensor_shape)
        else:
            _check_output_arrays(outputs, self._plan, self.source)
        heat, paf = self._fields(outputs)
        if not isinstance(transforms, (list, tuple)):
            transforms = [transforms] * heat.shape[0]
        if len(transforms) != heat.shape[0]:
            raise ValueError(f"{len(transforms)} transforms for {heat.shape[0]} frames")
        dec = self.decoder()
        batch = dec.decode_batch(heat, paf) if heat.shape[0] > 1 else [dec(heat[0], paf[0])]
        return [p if t is None else t.back_project(p) for p, t in zip(batch, transforms)]

    # -- test-time augmentation ------------------------------------------------------
    def _decode_augmented(self, passes, transforms):
        """Every pass's fields on the scale-1 map grid, averaged, decoded once."""
        first = passes[0]
        if self._plan is None or self.stride is None:
            self._resolve(first.outputs, first.tensor_shape)
        for p in passes:
            _check_output_arrays(p.outputs, self._plan, self.source)
        transforms = list(transforms)
        if len(transforms) != len(first.transforms):
            raise ValueError(f"{len(transforms)} transforms for {len(first.transforms)} "
                             f"frames")
        merged, merge_ms = [], []
        for frame, base in enumerate(transforms):
            t0 = time.perf_counter()
            merged.append(self._merged_fields(passes, frame, base))
            merge_ms.append((time.perf_counter() - t0) * 1e3)
        heat = np.stack([h for h, _ in merged])
        paf = np.stack([p for _, p in merged])
        dec = self._decoder_for(self.stride, "HWC")
        batch = dec.decode_batch(heat, paf) if len(merged) > 1 else [dec(heat[0], paf[0])]
        poses = [t.back_project(p) for p, t in zip(batch, transforms)]
        for p, ms in zip(poses, merge_ms):
            p.stats["merge_ms"] = ms
        return poses

    def _map_size(self, passes, frame, base):
        """(H, W) of the scale-1 map grid: the unmirrored scale-1 output, else the
        input size over the stride."""
        for p in passes:
            if p.scale == 1.0 and p.transforms[frame].input_size == base.input_size:
                heat = p.outputs[self._plan.heatmaps[0]]
                return heat.shape[2:4] if self._plan.layout == "NCHW" else heat.shape[1:3]
        return tuple(max(1, math.ceil(v / self.stride - 1e-9)) for v in base.input_size)

    def _merged_fields(self, passes, frame, base):
        """(heatmaps, pafs), (H, W, C) float32 on `base`'s map grid: the passes' mean."""
        map_size = tuple(self._map_size(passes, frame, base))
        to_map = scale_affine(1.0 / self.stride)
        from_map = scale_affine(self.stride)
        total, n_heat = None, None
        for p in passes:
            heat, paf = self._fields(p.outputs, frame)
            if self._plan.layout == "NCHW":
                heat, paf = heat.transpose(1, 2, 0), paf.transpose(1, 2, 0)
            n_heat = heat.shape[2]
            fields = np.concatenate([heat, paf], axis=2).astype(np.float32)
            # The decoder reads non-finite values as 0; resampling would spread them.
            fields[~np.isfinite(fields)] = 0.0
            # This pass's map cells -> its input -> image -> scale 1's input -> its map.
            affine = compose_affine(to_map, compose_affine(
                base.affine, compose_affine(p.transforms[frame].inverse, from_map)))
            if fields.shape[:2] != map_size or not np.allclose(
                    affine, [[1, 0, 0], [0, 1, 0]], rtol=0, atol=1e-9):
                fields = warp_affine(fields, affine, map_size, antialias=False)
            if p.flip:
                perm, sources, signs = self._flip_maps
                heat_order = np.concatenate([perm, np.arange(len(perm), n_heat)])
                order = np.concatenate([heat_order, n_heat + sources])
                fields = fields[:, :, order]
                fields[:, :, n_heat:] *= signs
            total = fields if total is None else total + fields
        total /= len(passes)
        return total[:, :, :n_heat], total[:, :, n_heat:]

    # -- the main entry points -------------------------------------------------------
    def __call__(self, image, color=None, *, flip=None, scales=None):
        """Find the people in one image.

        Parameters
        ----------
        image : ndarray, shape (h, w, 3)
            uint8 pixels (real values 0..255 are accepted too) in the channel order
            `color`, by default the network's own (``self.color``; ``"BGR"`` for the
            tf-pose and OpenPose presets, as ``cv2.imread`` gives).
            :func:`pafdecode.load_image` gives ``"RGB"`` unless asked for ``"BGR"``.
        color : {"BGR", "RGB"}, optional
        flip, scales : optional
            Test-time augmentation of this call (default: the model's `flip` and
            `scales`).

        Returns
        -------
        Poses
            Keypoints in the image's pixels; ``stats`` also holds this call's
            ``preprocess_ms``, ``inference_ms`` and ``decode_ms``.
        """
        return self.predict_batch([image], color=color, flip=flip, scales=scales)[0]

    def predict_batch(self, images, color=None, *, flip=None, scales=None):
        """Find the people in several images.

        Images may differ in size. With a dynamic input size they are padded to a
        common input size and run as one batch when the model's batch axis allows,
        otherwise one at a time; decoding uses ``Decoder.decode_batch``.

        Parameters
        ----------
        images : sequence of ndarray, each (h, w, 3)
        color : {"BGR", "RGB"}, optional
            Channel order of the images (default: the model's).
        flip, scales : optional
            Test-time augmentation of this call (default: the model's `flip` and
            `scales`).

        Returns
        -------
        list of Poses
            One per image, in image pixels. ``stats`` hold each image's share of the
            batch's times (batch time / number of images).
        """
        images = list(images)
        if not images:
            self.last_timing = {"preprocess_ms": 0.0, "inference_ms": 0.0,
                                "decode_ms": 0.0, "merge_ms": 0.0, "total_ms": 0.0,
                                "images": 0, "passes": []}
            return []
        runs, timing = self.run_batch(images, color, flip=flip, scales=scales)
        passes = timing.pop("passes")
        t2 = time.perf_counter()
        poses = [p for outputs, transforms, shape in runs
                 for p in self.decode_outputs(outputs, transforms, shape)]
        t3 = time.perf_counter()
        n = len(images)
        timing["decode_ms"] = (t3 - t2) * 1e3
        for p in poses:
            p.stats.update({k: v / n for k, v in timing.items()})
        timing["merge_ms"] = sum(p.stats.get("merge_ms", 0.0) for p in poses)
        timing["total_ms"] = timing["preprocess_ms"] + timing["inference_ms"] + timing["decode_ms"]
        timing["images"] = n
        timing["passes"] = passes
        self.last_timing = timing
        return poses

    def run_batch(self, images, color=None, batch_size=None, *, flip=None, scales=None):
        """Pre-process several images and run the network on them, without decoding.

        The network half of :meth:`predict_batch`, for callers that decode elsewhere
        (e.g. in another thread, overlapping the next batch's network run).

        Parameters
        ----------
        images : sequence of ndarray, each (h, w, 3)
        color : {"BGR", "RGB"}, optional
        batch_size : int, optional
            At most this many images per network run (default: all of them). Images
            share a run only when the model's batch axis is dynamic; each run pads its
            images to a common input size.
        flip, scales : optional
            Test-time augmentation (default: the model's `flip` and `scales`).

        Returns
        -------
        runs : list of (outputs, transforms, tensor_shape)
            One per group of images run together, in image order; pass each to
            :meth:`decode_outputs`. With `flip` or `scales`, ``outputs`` is an
            :class:`AugmentedOutputs` holding every pass's, and ``transforms`` are
            scale 1's.
        timing : dict
            ``preprocess_ms`` and ``inference_ms`` of all the runs together, and
            ``passes``: the same per pass, ``{"scale", "flip", "preprocess_ms",
            "inference_ms"}``.
        """
        imgs = [self._check_image(im) for im in images]
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, numbers.Integral)
                                       or batch_size < 1):
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        step = 1 if self.batch_size is not None else (batch_size or max(len(imgs), 1))
        plan = self._passes_for(flip, scales)
        augmented = plan != [(1.0, False)]
        spent = {key: [0.0, 0.0] for key in plan}  # seconds: preprocess, network
        runs = []
        for start in range(0, len(imgs), step):
            group = imgs[start:start + step]
            base, passes, tensor = None, [], None
            for scale, mirror in plan:
                t0 = time.perf_counter()
                if not mirror:
                    transforms = self._group_transforms(group, scale)
                    tensors = [self.preprocess(im, color, t)[0]
                               for im, t in zip(group, transforms)]
                    tensor = tensors[0] if len(tensors) == 1 else np.concatenate(tensors)
                    if scale == 1.0:
                        base = transforms
                else:  # the unflipped tensor of this scale, mirrored
                    axis = 3 if self.input_layout == "NCHW" else 2
                    tensor = np.ascontiguousarray(np.flip(tensor, axis=axis))
                    transforms = [_mirrored(t) for t in transforms]
                t1 = time.perf_counter()
                passes.append(_Pass(scale, mirror, self.run(tensor), transforms,
                                    tensor.shape))
                spent[(scale, mirror)][0] += t1 - t0
                spent[(scale, mirror)][1] += time.perf_counter() - t1
            if not augmented:
                runs.append((passes[0].outputs, passes[0].transforms, passes[0].tensor_shape))
                continue
            if base is None:  # no pass at scale 1: its transforms are still the grid
                base = self._group_transforms(group, 1.0)
            runs.append((AugmentedOutputs(passes), base, passes[0].tensor_shape))
        by_pass = [{"scale": s, "flip": f, "preprocess_ms": spent[(s, f)][0] * 1e3,
                    "inference_ms": spent[(s, f)][1] * 1e3} for s, f in plan]
        return runs, {"preprocess_ms": sum(p["preprocess_ms"] for p in by_pass),
                      "inference_ms": sum(p["inference_ms"] for p in by_pass),
                      "passes": by_pass}

    def _group_transforms(self, group, scale):
        """The transforms of images run together: one common input size."""
        transforms = [self.transform_for(im.shape[:2], scale) for im in group]
        if len({t.input_size for t in transforms}) > 1:
            common = (max(t.input_size[0] for t in transforms),
                      max(t.input_size[1] for t in transforms))
            transforms = [t.with_input_size(common) for t in transforms]
        return transforms

    # -- video -----------------------------------------------------------------------
    def track(self, frames, tracker=None, color=None, *, flip=None, scales=None):
        """Find and track the people of a sequence of frames.

        A worker thread reads frame i + 1 and runs the network on it while frame i is
        decoded and tracked (onnxruntime and the decoder both release the GIL).

        Parameters
        ----------
        frames : iterable
            Each item an image (an ``(h, w, 3)`` array in the channel order `color`),
            a PyAV ``VideoFrame`` (converted to the network's channel order; its
            ``time`` is the timestamp), or a ``(timestamp, image)`` pair.
        tracker : Tracker, optional
            Default: a new ``Tracker(self.skeleton)``. One tracker per stream.
        color : {"BGR", "RGB"}, optional
            Channel order of array frames; default the network's (``self.color``).
        flip, scales : optional
            Test-time augmentation (default: the model's `flip` and `scales`).

        Yields
        ------
        (int, Poses)
            The frame's position in `frames` and its people with ``track_ids``;
            ``stats`` hold ``read_ms`` (taking the frame from `frames`),
            ``preprocess_ms``, ``inference_ms``, ``decode_ms`` and ``track_ms``
            (and ``merge_ms`` with `flip` or `scales`).
            Closing the generator (or breaking out of the loop) stops the worker.
        """
        from .tracker import Tracker

        if tracker is None:
            tracker = Tracker(self.skeleton)
        elif not isinstance(tracker, Tracker):
            raise ValueError(f"tracker must be a pafdecode.Tracker, got "
                             f"{type(tracker).__name__}")
        if tracker.skeleton.num_keypoints != self.skeleton.num_keypoints:
            raise ValueError(f"tracker is for {tracker.skeleton.num_keypoints} keypoints "
                             f"but the model's skeleton has {self.skeleton.num_keypoints}")
        color = self.color if color is None else color
        if color not in ("BGR", "RGB"):
            raise ValueError(f"color must be 'BGR' or 'RGB', got {color!r}")
        try:
            iterator = iter(frames)
        except TypeError:
            raise ValueError(f"frames must be an iterable of images or video frames, got "
                             f"{type(frames).__name__}") from None
        augment = {"flip": flip, "scales": scales}
        self._passes_for(flip, scales)  # bad values fail here, not in the worker
        return self._track(iterator, tracker, color, augment)

    def _frame_image(self, item, color):
        """(timestamp or None, image, its channel order) of one item of track()."""
        if hasattr(item, "to_ndarray") and hasattr(item, "time"):
            fmt = "bgr24" if self.color == "BGR" else "rgb24"
            return item.time, item.to_ndarray(format=fmt), self.color
        if isinstance(item, tuple) and len(item) == 2:
            return item[0], item[1], color
        return None, item, color

    def _network_worker(self, iterator, color, augment, out, stop):
        """Reads frames, runs the network; puts (index, time, outputs, transform,
        tensor shape, timing) on `out`, then an exception or None at the end."""
        def put(message):
            while not stop.is_set():
                try:
                    out.put(message, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        index = 0
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                timestamp, image, item_color = self._frame_image(item, color)
                t1 = time.perf_counter()
                runs, timing = self.run_batch([image], item_color, **augment)
                outputs, transforms, shape = runs[0]
                timing["read_ms"] = (t1 - t0) * 1e3
                if not put((index, timestamp, outputs, transforms, shape, timing)):
                    return
                index += 1
        except BaseException as exc:  # handed to the consuming thread, raised there
            put(exc)
            return
        put(None)

    def _track(self, iterator, tracker, color, augment):
        out = queue.Queue(maxsize=1)
        stop = threading.Event()
        worker = threading.Thread(target=self._network_worker, name="pafdecode-network",
                                  args=(iterator, color, augment, out, stop), daemon=True)
        worker.start()
        try:
            while True:
                try:
                    message = out.get(timeout=0.1)
                except queue.Empty:
                    if not worker.is_alive() and out.empty():
                        return
                    continue
                if message is None:
                    return
                if isinstance(message, BaseException):
                    raise message
                index, timestamp, outputs, transforms, shape, timing = message
                t0 = time.perf_counter()
                poses = self.decode_outputs(outputs, transforms, shape)[0]
                t1 = time.perf_counter()
                tracked = tracker.update(poses, timestamp)
                t2 = time.perf_counter()
                passes = timing.pop("passes")
                timing.update({"decode_ms": (t1 - t0) * 1e3, "track_ms": (t2 - t1) * 1e3})
                tracked.stats.update(timing)
                self.last_timing = dict(timing, merge_ms=poses.stats.get("merge_ms", 0.0),
                                        images=1, passes=passes, total_ms=sum(
                                            timing[k] for k in _TIMING_KEYS))
                yield index, tracked
        finally:
            stop.set()
            # The worker stops after the frame it holds (its puts give up once stop is
            # set). Wait for it even through another Ctrl-C: the caller closes the
            # source next, and closing a container a thread still reads can hang.
            while worker.is_alive():
                try:
                    while True:
                        out.get_nowait()
                except queue.Empty:
                    pass
                try:
                    worker.join(timeout=0.1)
                except KeyboardInterrupt:
                    continue
