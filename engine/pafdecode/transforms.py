"""Pre-processing and back-projection: the affine map from an image to a network input.

A network sees a resized (and maybe padded) copy of the image. This module builds the
2x3 affine ``A`` that maps original-image pixels to network-input pixels, resamples
the image through it (bilinear, in NumPy), and maps decoded keypoints back through its
inverse, so that people come back in original-image pixels.

Coordinate convention
---------------------
Points are ``(x, y)``, ``x`` along columns and ``y`` along rows, in pixels, with a
pixel's centre at integer coordinates: an image of width ``w`` covers
``-0.5 <= x < w - 0.5``. Under this convention a resize by ``s`` maps ``x`` to
``(x + 0.5) * s - 0.5`` (see :func:`scale_affine`), which is what OpenCV's
``cv2.resize`` and Pillow use. The network's output maps follow it too: a map of
stride ``s`` is the input shrunk by ``1 / s``, so map cell ``g`` is centred on input
pixel ``(g + 0.5) * s - 0.5`` (:func:`map_to_image`, and its inverse
:func:`image_to_map`; this module is the one that implements that convention).
An affine ``A`` acts on a point as ``A @ (x, y, 1)``.

Policies
--------
``fixed``
    Resize to a given ``(H, W)``, stretching, or keeping the aspect ratio and padding
    (:func:`fixed_transform`).
``pad``
    Keep the aspect ratio, scale so the image fits a target size, and pad right and
    bottom up to a multiple of the network's stride (:func:`pad_transform`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import integer as _integer, real as _real

__all__ = [
    "InputTransform", "apply_affine", "invert_affine", "compose_affine", "scale_affine",
    "translate_affine", "warp_affine", "fixed_transform", "pad_transform",
    "make_transform", "back_project", "image_to_map", "map_to_image",
]

# A source point may stray this far (in source pixels) beyond the area the image
# covers and still be read as inside: absorbs rounding in the inverse affine.
_EDGE_TOLERANCE = 1e-4


# -- affines -------------------------------------------------------------------------

def _as_affine(affine, name="affine"):
    try:
        arr = np.asarray(affine, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2x3 array of numbers") from None
    if arr.shape == (3, 3):
        if not np.allclose(arr[2], (0.0, 0.0, 1.0)):
            raise ValueError(f"{name} is 3x3 but its last row is not (0, 0, 1): {arr[2]}")
        arr = arr[:2]
    if arr.shape != (2, 3):
        raise ValueError(f"{name} must have shape (2, 3), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has non-finite entries")
    return arr


def apply_affine(points, affine):
    """Map points through a 2x3 affine.

    Parameters
    ----------
    points : array_like, shape (..., 2)
        Points ``(x, y)`` in source pixels.
    affine : array_like, shape (2, 3) (or (3, 3) with last row (0, 0, 1))
        ``A`` such that a point maps to ``A @ (x, y, 1)``.

    Returns
    -------
    ndarray of float64, shape (..., 2)
        The mapped points, in destination pixels.

    Raises
    ------
    ValueError
        If `points` does not end in an axis of length 2 or `affine` is not 2x3.
    """
    A = _as_affine(affine)
    pts = _as_points(points, "points")
    return pts @ A[:, :2].T + A[:, 2]


def _as_points(points, name):
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of shape (..., 2) of numbers") from None
    if array.ndim == 0 or array.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2), got {array.shape}")
    return array


def invert_affine(affine):
    """The inverse of a 2x3 affine.

    Parameters
    ----------
    affine : array_like, shape (2, 3)

    Returns
    -------
    ndarray of float64, shape (2, 3)
        ``B`` with ``apply_affine(apply_affine(p, A), B) == p`` (up to rounding).

    Raises
    ------
    ValueError
        If the affine is singular (its 2x2 linear part has a determinant of about 0
        relative to its scale).
    """
    A = _as_affine(affine)
    M = A[:, :2]
    det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
    scale = float(np.abs(M).max())
    if scale == 0.0 or abs(det) <= 1e-12 * scale * scale:
        raise ValueError(f"affine is singular (determinant {det:g}), it has no inverse")
    inv = np.array([[M[1, 1], -M[0, 1]], [-M[1, 0], M[0, 0]]]) / det
    return np.concatenate([inv, -(inv @ A[:, 2])[:, None]], axis=1)


def compose_affine(outer, inner):
    """The affine that applies `inner` first, then `outer`.

    Parameters
    ----------
    outer, inner : array_like, shape (2, 3)

    Returns
    -------
    ndarray of float64, shape (2, 3)
        ``C`` with ``apply_affine(p, C) == apply_affine(apply_affine(p, inner), outer)``.
    """
    A = _as_affine(outer, "outer")
    B = _as_affine(inner, "inner")
    M = A[:, :2] @ B[:, :2]
    return np.concatenate([M, (A[:, :2] @ B[:, 2] + A[:, 2])[:, None]], axis=1)


def scale_affine(sx, sy=None):
    """The affine of a resize by (`sx`, `sy`) under the pixel-centre convention.

    Parameters
    ----------
    sx : float
        Horizontal scale (destination pixels per source pixel), > 0.
    sy : float, optional
        Vertical scale; defaults to `sx`.

    Returns
    -------
    ndarray of float64, shape (2, 3)
        Maps ``x`` to ``(x + 0.5) * sx - 0.5`` and ``y`` to ``(y + 0.5) * sy - 0.5``,
        so that the edges of the image (``-0.5`` and ``w - 0.5``) map to the edges of
        the resized image (``-0.5`` and ``w * sx - 0.5``).
    """
    sx = _real(sx, "sx", minimum=0.0, min_inclusive=False)
    sy = sx if sy is None else _real(sy, "sy", minimum=0.0, min_inclusive=False)
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])


def translate_affine(tx, ty):
    """The affine that shifts points by (`tx`, `ty`) pixels.

    Returns
    -------
    ndarray of float64, shape (2, 3)
    """
    return np.array([[1.0, 0.0, float(tx)], [0.0, 1.0, float(ty)]])


# -- map and image coordinates -------------------------------------------------------

def image_to_map(xy, stride):
    """Convert image-pixel coordinates to map coordinates.

    Parameters
    ----------
    xy : array_like, shape (..., 2)
        Points ``(x, y)`` in image pixels (pixel centres at integers).
    stride : float
        Image pixels per map cell along each axis; must be > 0.

    Returns
    -------
    ndarray of float64, shape (..., 2)
        The same points in map cells: ``g = (xy + 0.5) / stride - 0.5``, so that
        map cell ``(gx, gy)`` is centred at integer ``g``.

    Raises
    ------
    ValueError
        If `xy` does not end in an axis of length 2 or `stride` is not positive.
    """
    stride = _real(stride, "stride", minimum=0.0, min_inclusive=False)
    points = _as_points(xy, "xy")
    return (points + 0.5) / stride - 0.5


def map_to_image(gxy, stride):
    """Convert map coordinates to image-pixel coordinates (inverse of image_to_map).

    Parameters
    ----------
    gxy : array_like, shape (..., 2)
        Points ``(gx, gy)`` in map cells (cell centres at integers).
    stride : float
        Image pixels per map cell along each axis; must be > 0.

    Returns
    -------
    ndarray of float64, shape (..., 2)
        The same points in image pixels: ``xy = (gxy + 0.5) * stride - 0.5``, the
        point that :func:`scale_affine` ``(stride)`` maps ``gxy`` to.

    Raises
    ------
    ValueError
        If `gxy` does not end in an axis of length 2 or `stride` is not positive.
    """
    stride = _real(stride, "stride", minimum=0.0, min_inclusive=False)
    points = _as_points(gxy, "gxy")
    return (points + 0.5) * stride - 0.5


# -- resampling ----------------------------------------------------------------------

def warp_affine(image, affine, output_size, *, fill=0.0, antialias=True, dtype=np.float32):
    """Resample an image through an affine, bilinearly, in NumPy.

    Output pixel ``(u, v)`` reads the source image at ``invert_affine(A) @ (u, v, 1)``
    by bilinear interpolation between the four nearest pixel centres (the edge pixels
    extend to the image's border, half a pixel beyond their centres). Output pixels
    whose source point lies outside the area the image covers
    (``-0.5 <= x <= w - 0.5``, the same for ``y``) get `fill`.

    Parameters
    ----------
    image : array_like, shape (h, w) or (h, w, C)
        Source image, any real dtype (uint8 photos, float maps).
    affine : array_like, shape (2, 3)
        Source pixels to output pixels.
    output_size : (int, int)
        ``(H, W)`` of the output, in pixels.
    fill : float or sequence of C floats, default 0.0
        Value of output pixels outside the image (in the image's units).
    antialias : bool, default True
        When the affine shrinks an axis by a factor of 2 or more, first average
        blocks of ``f`` source pixels along it (``f = floor(1 / scale)``), composing
        the block reduction into the affine exactly, so that bilinear sampling does
        not skip pixels (aliasing). A last partial block at the right or bottom edge
        averages the pixels it has.
    dtype : numpy floating dtype, default float32
        Output dtype; interpolation runs in float32 (float64 if asked for float64).

    Returns
    -------
    ndarray of `dtype`, shape (H, W) or (H, W, C)
        Values are interpolated, not rounded: convert to uint8 yourself if needed.

    Raises
    ------
    ValueError
        On an image that is empty or not 2-D/3-D, a singular affine or a bad size.
    """
    img, out_size, dtype, work = _check_warp_args(image, output_size, dtype)
    A = _as_affine(affine)
    inverse = invert_affine(A)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[:, :, None]
    h, w, channels = img.shape
    fill_arr = _fill_values(fill, channels, work)
    # Inside-the-image masks are decided in original source coordinates, so that the
    # (slightly larger) coverage of a box-reduced image never leaks into the padding.
    sample_inv = inverse
    if antialias:
        img, sample_inv = _antialias(img, A, inverse, work)
    separable = inverse[0, 1] == 0.0 and inverse[1, 0] == 0.0
    warp = _warp_separable if separable else _warp_general
    inside, out = warp(img, inverse, sample_inv, *out_size, (h, w), work)
    if not inside.all():
        out[~inside] = fill_arr
    out = out.astype(dtype, copy=False)
    return out[:, :, 0] if squeeze else out


def _check_warp_args(image, output_size, dtype):
    """The image as an array, the output (H, W), the output dtype and the working one."""
    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image must have shape (h, w) or (h, w, C) with h, w > 0, "
                         f"got {img.shape}")
    if img.dtype.kind not in "biuf":
        raise ValueError(f"image must have a real dtype, got {img.dtype}")
    out_size = _size_pair(output_size, "output_size")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    work = np.float64 if dtype == np.float64 else np.float32
    return img, out_size, dtype, work


def _fill_values(fill, channels, work):
    fill_arr = np.asarray(fill, dtype=work)
    if fill_arr.ndim > 1 or fill_arr.size not in (1, channels):
        raise ValueError(f"fill must be a number or {channels} numbers, got {fill!r}")
    return np.broadcast_to(fill_arr.reshape(-1), (channels,))


def _antialias(img, A, inverse, work):
    """Box-reduce an (h, w, C) image along each axis the affine shrinks 2x or more, and
    the output-to-sample affine that reads the reduced image."""
    h, w, _ = img.shape
    # How many output pixels one source pixel step moves, per source axis.
    step_x = math.hypot(A[0, 0], A[1, 0])
    step_y = math.hypot(A[0, 1], A[1, 1])
    fx = max(1, int(math.floor(1.0 / step_x + 1e-9))) if step_x > 0 else 1
    fy = max(1, int(math.floor(1.0 / step_y + 1e-9))) if step_y > 0 else 1
    fx, fy = min(fx, w), min(fy, h)
    if fx == 1 and fy == 1:
        return img, inverse
    # reduced pixel x' covers source pixels f x' .. f x' + f - 1: source x maps to
    # (x + 0.5) / f - 0.5 in the reduced image.
    return _box_reduce(img, fy, fx, work), compose_affine(scale_affine(1.0 / fx, 1.0 / fy),
                                                          inverse)


def _box_reduce(img, fy, fx, work):
    """Average (fy x fx) blocks of an (h, w, C) image; partial edge blocks too.

    Sums strided slices (one per offset in the block), rows then columns, so the
    work is a few contiguous additions rather than a reduction over scattered axes.
    """
    h, w, _ = img.shape
    rows = img[0::fy].astype(work)
    for i in range(1, fy):
        part = img[i::fy]
        rows[:len(part)] += part
    sums = rows[:, 0::fx].copy()
    for j in range(1, fx):
        part = rows[:, j::fx]
        sums[:, :part.shape[1]] += part
    hb, wb = sums.shape[:2]
    row_n = np.full(hb, fy, dtype=work)
    row_n[-1] = h - (hb - 1) * fy
    col_n = np.full(wb, fx, dtype=work)
    col_n[-1] = w - (wb - 1) * fx
    sums *= (1.0 / (row_n[:, None] * col_n[None, :]))[:, :, None]
    return sums


def _taps(coords, size):
    """Bilinear taps along one axis: two clipped indices and the second one's weight."""
    low = np.floor(coords)
    weight = coords - low
    low = low.astype(np.intp)
    return np.clip(low, 0, size - 1), np.clip(low + 1, 0, size - 1), weight


def _inside(coords, size):
    return (coords >= -0.5 - _EDGE_TOLERANCE) & (coords <= size - 0.5 + _EDGE_TOLERANCE)


def _warp_separable(img, inverse, sample_inv, out_h, out_w, src_size, work):
    """An axis-aligned affine: interpolate rows, then columns."""
    h, w = img.shape[:2]
    u = np.arange(out_w, dtype=np.float64)
    v = np.arange(out_h, dtype=np.float64)
    inside_x = _inside(inverse[0, 0] * u + inverse[0, 2], src_size[1])
    inside_y = _inside(inverse[1, 1] * v + inverse[1, 2], src_size[0])
    xs = sample_inv[0, 0] * u + sample_inv[0, 2]
    ys = sample_inv[1, 1] * v + sample_inv[1, 2]
    y0, y1, wy = _taps(ys, h)
    x0, x1, wx = _taps(xs, w)
    wy = wy.astype(work)[:, None, None]
    wx = wx.astype(work)[None, :, None]
    # np.take and in-place arithmetic: about twice as fast as fancy indexing with
    # temporaries on photo-sized images.
    rows = np.take(img, y0, axis=0).astype(work)         # (out_h, w, C)
    bottom = np.take(img, y1, axis=0).astype(work)
    bottom -= rows
    bottom *= wy
    rows += bottom
    out = np.take(rows, x0, axis=1)                      # (out_h, out_w, C)
    right = np.take(rows, x1, axis=1)
    right -= out
    right *= wx
    out += right
    inside = inside_y[:, None] & inside_x[None, :]
    return inside, out


def _warp_general(img, inverse, sample_inv, out_h, out_w, src_size, work):
    """Any affine: four gathers per output pixel."""
    h, w = img.shape[:2]
    v, u = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    src_x = inverse[0, 0] * u + inverse[0, 1] * v + inverse[0, 2]
    src_y = inverse[1, 0] * u + inverse[1, 1] * v + inverse[1, 2]
    inside = _inside(src_x, src_size[1]) & _inside(src_y, src_size[0])
    xs = sample_inv[0, 0] * u + sample_inv[0, 1] * v + sample_inv[0, 2]
    ys = sample_inv[1, 0] * u + sample_inv[1, 1] * v + sample_inv[1, 2]
    y0, y1, wy = _taps(ys, h)
    x0, x1, wx = _taps(xs, w)
    wy = wy.astype(work)[:, :, None]
    wx = wx.astype(work)[:, :, None]
    a = img[y0, x0].astype(work, copy=False)
    b = img[y0, x1].astype(work, copy=False)
    c = img[y1, x0].astype(work, copy=False)
    d = img[y1, x1].astype(work, copy=False)
    top = a + (b - a) * wx
    bottom = c + (d - c) * wx
    return inside, top + (bottom - top) * wy


# -- transforms ----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class InputTransform:
    """How an image becomes a network input, and how points come back.

    Attributes
    ----------
    affine : ndarray of float64, shape (2, 3), read-only
        Original-image pixels to network-input pixels.
    image_size : (int, int)
        ``(h, w)`` of the original image.
    input_size : (int, int)
        ``(H, W)`` of the network input.
    content_size : (int, int)
        ``(h', w')``: the part of the input the image covers (the rest is padding),
        starting at ``offset``.
    offset : (int, int)
        ``(top, left)`` padding before the image, in input pixels (0 but for
        centred ``fixed`` letterboxing).
    policy : str
        ``"fixed"``, ``"pad"`` or ``"custom"``.
    """

    affine: np.ndarray
    image_size: tuple
    input_size: tuple
    content_size: tuple
    offset: tuple = (0, 0)
    policy: str = "custom"

    def __post_init__(self):
        affine = _as_affine(self.affine).copy()
        affine.setflags(write=False)
        object.__setattr__(self, "affine", affine)
        object.__setattr__(self, "image_size", _size_pair(self.image_size, "image_size"))
        object.__setattr__(self, "input_size", _size_pair(self.input_size, "input_size"))
        object.__setattr__(self, "content_size",
                           _size_pair(self.content_size, "content_size"))
        object.__setattr__(self, "offset", tuple(int(o) for o in self.offset))
        inverse = invert_affine(affine)
        inverse.setflags(write=False)
        object.__setattr__(self, "_inverse", inverse)

    @classmethod
    def from_affine(cls, affine, image_size, input_size):
        """A transform for any affine (the content is taken to be the whole input)."""
        return cls(affine, image_size, input_size, input_size, (0, 0), "custom")

    @property
    def inverse(self):
        """ndarray of float64, shape (2, 3): network-input pixels to image pixels."""
        return self._inverse

    @property
    def scale(self):
        """(sx, sy): input pixels per image pixel along each axis (axis-aligned affines)."""
        return float(self.affine[0, 0]), float(self.affine[1, 1])

    def to_input(self, points):
        """Image pixels -> input pixels; `points` has shape (..., 2)."""
        return apply_affine(points, self.affine)

    def to_image(self, points):
        """Input pixels -> image pixels; `points` has shape (..., 2)."""
        return apply_affine(points, self._inverse)

    def warp(self, image, *, fill=0.0, antialias=True, dtype=np.float32):
        """Resample `image` (h, w[, C]) into the network input (H, W[, C]).

        See :func:`warp_affine` for `fill`, `antialias` and `dtype`.
        """
        img = np.asarray(image)
        if tuple(img.shape[:2]) != self.image_size:
            raise ValueError(f"image is {img.shape[0]}x{img.shape[1]} but the transform "
                             f"was built for {self.image_size[0]}x{self.image_size[1]}")
        return warp_affine(img, self.affine, self.input_size, fill=fill,
                           antialias=antialias, dtype=dtype)

    def with_input_size(self, input_size):
        """The same mapping into a larger input (more padding right and bottom).

        Used to give the images of a batch one common input size.
        """
        height, width = _size_pair(input_size, "input_size")
        need_h = self.offset[0] + self.content_size[0]
        need_w = self.offset[1] + self.content_size[1]
        if height < need_h or width < need_w:
            raise ValueError(f"input_size {height}x{width} is smaller than the content "
                             f"({need_h}x{need_w} with its offset)")
        return InputTransform(self.affine, self.image_size, (height, width),
                              self.content_size, self.offset, self.policy)

    def back_project(self, poses):
        """Map decoded people from input pixels to image pixels; see :func:`back_project`."""
        return back_project(poses, self._inverse, _already_inverse=True)

    def __repr__(self):
        return (f"InputTransform({self.policy}, image {self.image_size[0]}x"
                f"{self.image_size[1]} -> input {self.input_size[0]}x{self.input_size[1]}, "
                f"content {self.content_size[0]}x{self.content_size[1]} at {self.offset})")


def fixed_transform(image_size, input_size, *, keep_aspect=False, center=False):
    """Resize an image to a fixed network input size.

    Parameters
    ----------
    image_size : (int, int)
        ``(h, w)`` of the image, in pixels.
    input_size : (int, int)
        ``(H, W)`` of the network input, in pixels.
    keep_aspect : bool, default False
        False: stretch the image to ``H x W`` (scales ``W / w`` and ``H / h``).
        True: scale by ``s = min(H / h, W / w)`` to ``round(h s) x round(w s)`` and pad
        the rest.
    center : bool, default False
        With `keep_aspect`, centre the image in the input (padding split between both
        sides, the odd pixel going right/bottom) instead of padding right and bottom.

    Returns
    -------
    InputTransform
        With ``policy="fixed"``.
    """
    h, w = _size_pair(image_size, "image_size")
    in_h, in_w = _size_pair(input_size, "input_size")
    if keep_aspect:
        s = min(in_h / h, in_w / w)
        ch, cw = _content(h * s, in_h), _content(w * s, in_w)
    else:
        ch, cw = in_h, in_w
    top = left = 0
    if keep_aspect and center:
        top, left = (in_h - ch) // 2, (in_w - cw) // 2
    affine = compose_affine(translate_affine(left, top), scale_affine(cw / w, ch / h))
    return InputTransform(affine, (h, w), (in_h, in_w), (ch, cw), (top, left), "fixed")


def pad_transform(image_size, target_size=None, *, stride=8):
    """Keep the aspect ratio, fit a target size, pad right/bottom to a stride multiple.

    Parameters
    ----------
    image_size : (int, int)
        ``(h, w)`` of the image, in pixels.
    target_size : (int or None, int or None), optional
        ``(H_t, W_t)``: the image is scaled by the largest ``s`` with ``h s <= H_t``
        and ``w s <= W_t`` (a None side is unconstrained; ``(368, None)`` gives
        OpenPose's "-1x368" behaviour of a fixed height). None: no scaling.
    stride : int, default 8
        The input's height and width are rounded up to multiples of this.

    Returns
    -------
    InputTransform
        With ``policy="pad"``; the image covers ``round(h s) x round(w s)`` input
        pixels at the top left (scales per axis ``round(w s) / w`` and
        ``round(h s) / h``, so the content fills whole pixels exactly), the rest is
        padding.
    """
    h, w = _size_pair(image_size, "image_size")
    stride = _integer(stride, "stride", minimum=1)
    scales = []
    if target_size is not None:
        try:
            t_h, t_w = target_size
        except (TypeError, ValueError):
            raise ValueError(f"target_size must be (height, width), either may be None, "
                             f"got {target_size!r}") from None
        if t_h is not None:
            scales.append(_integer(t_h, "target_size height", minimum=1) / h)
        if t_w is not None:
            scales.append(_integer(t_w, "target_size width", minimum=1) / w)
    s = min(scales) if scales else 1.0
    ch, cw = _content(h * s), _content(w * s)
    if target_size is not None:
        if target_size[0] is not None:
            ch = min(ch, int(target_size[0]))
        if target_size[1] is not None:
            cw = min(cw, int(target_size[1]))
    in_h, in_w = -(-ch // stride) * stride, -(-cw // stride) * stride
    affine = scale_affine(cw / w, ch / h)
    return InputTransform(affine, (h, w), (in_h, in_w), (ch, cw), (0, 0), "pad")


def make_transform(image_size, policy, size=None, *, stride=8, keep_aspect=False,
                   center=False):
    """Dispatch to :func:`fixed_transform` or :func:`pad_transform`.

    Parameters
    ----------
    image_size : (int, int)
        ``(h, w)`` of the image.
    policy : {"fixed", "pad"}
    size : (int, int) or (int or None, int or None) or None
        ``fixed``: the input size (required). ``pad``: the target size.
    stride : int, default 8
        ``pad`` only: the padding multiple.
    keep_aspect, center : bool
        ``fixed`` only; see :func:`fixed_transform`.

    Returns
    -------
    InputTransform
    """
    if policy == "fixed":
        if size is None or any(s is None for s in size):
            raise ValueError(f"the 'fixed' policy needs a full (height, width) input "
                             f"size, got {size!r}")
        return fixed_transform(image_size, size, keep_aspect=keep_aspect, center=center)
    if policy == "pad":
        return pad_transform(image_size, size, stride=stride)
    raise ValueError(f"policy must be 'fixed' or 'pad', got {policy!r}")


def back_project(poses, transform, *, _already_inverse=False):
    """Map decoded people from network-input pixels back to image pixels.

    Parameters
    ----------
    poses : Poses or array_like of shape (P, K, 3)
        Keypoints ``(x, y, confidence)`` in network-input pixels; missing keypoints
        are ``(0, 0, 0)`` and stay so.
    transform : InputTransform or array_like of shape (2, 3)
        The transform the input was made with, or its image->input affine.

    Returns
    -------
    Poses or ndarray of float32, shape (P, K, 3)
        Same type as `poses`: a new object with ``x, y`` in image pixels (scores,
        skeleton and a copy of ``stats`` carried over).
    """
    if isinstance(transform, InputTransform):
        inverse = transform.inverse
    elif _already_inverse:
        inverse = _as_affine(transform)
    else:
        inverse = invert_affine(transform)
    keypoints = getattr(poses, "keypoints", None)
    is_poses = keypoints is not None
    kp = np.asarray(keypoints if is_poses else poses)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints must have shape (P, K, 3), got {kp.shape}")
    out = np.array(kp, dtype=np.float32, copy=True)
    present = (kp != 0).any(axis=-1)
    if present.any():
        out[present, :2] = apply_affine(kp[present, :2].astype(np.float64), inverse)
    if not is_poses:
        return out
    return type(poses)(out, poses.scores, poses.skeleton, dict(poses.stats))


# -- argument checks -----------------------------------------------------------------

def _content(length, limit=None):
    n = max(1, int(round(length)))
    return min(n, limit) if limit is not None else n


def _size_pair(size, name):
    try:
        height, width = size
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (height, width) pair, got {size!r}") from None
    return _integer(height, f"{name} height", minimum=1), _integer(width, f"{name} width", minimum=1)
