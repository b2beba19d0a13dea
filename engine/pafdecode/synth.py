"""Synthetic OpenPose-style fields: render keypoint heatmaps and PAFs, build crowds.

Two layers:

* :func:`render_fields` turns known people (keypoints in image pixels) into the
  heatmaps and Part Affinity Fields an ideal network would output, following the
  ground-truth recipe of OpenPose (Gaussian peaks, max over people; unit limb
  vectors over a band around each limb, averaged where limbs of one type cross).
* :func:`crowd_scene` draws a crowd of articulated stick figures (varied size,
  position, facing and pose), renders it, and optionally degrades it (occlusion,
  uneven peak heights, additive noise) to imitate a real network.

Crowd model
-----------
Each person of :func:`crowd_scene` is a 3-D stick figure seen by an orthographic
camera: body proportions follow from their standing height (top of head to the
ground, in image pixels, drawn uniformly from the height range), shoulder and hip
breadth vary by +-10 %, the facing is frontal (50 %, turned up to 30 degrees), back
(20 %, so left and right swap sides in the image) or profile-ish (30 %, turned 50-75
or 105-130 degrees, which narrows shoulders and hips), the upper body leans slightly
(up to 10 degrees sideways, -5..12 degrees forwards), the head turns (+-25 degrees)
and tilts (+-10 degrees), and each arm and leg is either relaxed (60 % of arms, 70 % of
legs) or in an active pose: shoulders abduct 0-150 degrees and flex -40..100, elbows
bend 0-140, hips abduct -5..30 and flex -25..60, knees bend 0-80.

A person's box is placed uniformly at random such that at most 10 % of its width and
of its height may fall outside the image (centred when it is larger than that
allows), so limbs near the border are sometimes cut off. Keypoints outside the image
(``x`` outside ``[-0.5, width - 0.5)`` or ``y`` outside ``[-0.5, height - 0.5)``, the
area its pixels cover) get visibility 0.

Heights (standing height, top of head to the ground) are drawn uniformly from the
height range. By default (``size_model="constant"``) it does not depend on the count:
with ``m = min(h, w)`` for an image of ``(h, w)`` pixels, from ``low = max(0.2174 m,
5 stride)`` to ``high = max(0.8152 m, low)``, which is 80-300 px in a 368 x 656 image
whatever the crowd, so a crowd grows denser as it grows. ``size_model="shrinking"`` is
the older model, whose people shrink as their count grows: with ``s = sqrt(h * w /
n_people)`` the side of the square each person would get if the image were shared
evenly, ``low = max(min(0.25 h, 0.9 s), 5 stride)`` to ``high = max(min(0.9 h, 2.25 s),
low)``, 92-331 px for one person in a 368 x 656 image, 44-110 px for 100. Without
overlap (``allow_overlap=False``), keypoint boxes grown by a margin of 2 map pixels on
every side must not overlap; when the crowd cannot be placed so, the height range
shrinks by 0.75 (up to 8 times) and the whole crowd is redrawn, and a ValueError says
so if even that fails.

Crowd index
-----------
Each scene carries CrowdPose's crowd index (:func:`crowd_index`): over the people
with a visible keypoint, the mean of the number of other people's visible keypoints
inside a person's box divided by the number of its own visible keypoints. A person's
box spans all of its keypoints, hidden ones too, grown by a tenth of its size on each
side: the person's extent in the image, as a CrowdPose box is.

Coordinate convention
---------------------
Images and maps are indexed ``[row, column]``; points are ``(x, y)`` with ``x`` along
columns and ``y`` along rows, in pixels, with a pixel's centre at integer
coordinates. A map with stride ``s`` has ``ceil(height / s)`` rows and
``ceil(width / s)`` columns, and its cell ``(gx, gy)`` covers the ``s x s`` block of
image pixels centred on the image point ``((gx + 0.5) s - 0.5, (gy + 0.5) s - 0.5)``
(see :func:`map_to_image` and its inverse :func:`image_to_map`, implemented in
:mod:`pafdecode.transforms`).

Example
-------
One limb from map point (2, 5) to (9, 5), rendered at stride 8:

>>> sk = Skeleton(["a", "b"], [(0, 1)])
>>> person = [[[19.5, 43.5, 2], [75.5, 43.5, 2]]]  # map points (2, 5) and (9, 5)
>>> heatmaps, pafs = render_fields(person, sk, (80, 96), stride=8)
>>> heatmaps.shape, pafs.shape
((2, 10, 12), (2, 10, 12))
>>> float(heatmaps[0, 5, 2]), float(pafs[0, 5, 5]), float(pafs[1, 5, 5])
(1.0, 1.0, 0.0)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .skeleton import Skeleton
# The map/image convention is implemented in transforms; synth re-exports it because
# it is part of how scenes are described.
from .transforms import image_to_map, map_to_image
from ._validate import integer as _integer, real as _real

__all__ = ["render_fields", "crowd_scene", "CrowdScene", "crowd_index", "image_to_map",
           "map_to_image"]

# Rendering works on blocks of at most this many cells at a time, which keeps the
# temporaries of a big scene (many people on a large map) to a few megabytes.
_BLOCK_CELLS = 1 << 20

# A cell lying exactly on the edge of a limb's band (perpendicular distance equal to
# paf_width, or projection equal to 0 or to the limb length) must not be lost to a
# rounding error of the projection arithmetic.
_EDGE_TOLERANCE = 1e-9

# Limbs shorter than this (in map pixels) have no direction and are not drawn.
_MIN_LIMB_LENGTH = 1e-6


# -- rendering -----------------------------------------------------------------------

def render_fields(people, skeleton, image_size, stride=8, sigma=1.0, paf_width=1.0,
                  background=False, dtype=np.float32):
    """Render the ground-truth heatmaps and Part Affinity Fields of known people.

    Parameters
    ----------
    people : array_like, shape (P, K, 3)
        Each person's keypoints as ``(x, y, visibility)``, ``x`` and ``y`` in image
        pixels; a keypoint is drawn when its visibility is > 0 (its coordinates must
        then be finite). ``K`` must equal ``skeleton.num_keypoints``; ``P`` may be 0.
    skeleton : Skeleton
        Keypoint channels, limbs and the PAF channels of each limb.
    image_size : (int, int)
        ``(height, width)`` of the image, in image pixels.
    stride : int, default 8
        Image pixels per map cell. The maps have ``H = ceil(height / stride)`` rows
        and ``W = ceil(width / stride)`` columns.
    sigma : float, default 1.0
        Standard deviation of each keypoint's Gaussian, in map pixels (> 0).
    paf_width : float, default 1.0
        Half-width of each limb's PAF band, in map pixels (>= 0): a cell is covered
        when its distance to the limb's segment is at most `paf_width`.
    background : bool, default False
        Append a background channel ``clip(1 - max over keypoint channels, 0, 1)``.
    dtype : numpy floating dtype, default float32
        Data type of the returned maps.

    Returns
    -------
    heatmaps : ndarray, shape (K, H, W), or (K + 1, H, W) with `background`
        Channel ``k`` is the maximum over people of
        ``exp(-((gx - cx)**2 + (gy - cy)**2) / (2 sigma**2))``, ``(cx, cy)`` being the
        map coordinates (see :func:`image_to_map`) of the person's keypoint ``k``.
        Each Gaussian is evaluated over the whole map, with no window: its tail
        decays through the subnormal range of `dtype` (from about ``13.2 sigma`` for
        float32) down to exact zeros (beyond about ``14.4 sigma``), as ``exp``
        computed in `dtype` does, and nothing small is flushed to zero.
    pafs : ndarray, shape (skeleton.num_paf_channels, H, W)
        For limb ``l`` from keypoint ``a`` to ``b``, both visible and at least 1e-6
        map pixels apart, with ``u`` the unit vector from ``a`` to ``b``: every cell
        whose distance to the segment from ``a`` to ``b`` is at most `paf_width` (a
        band with round ends) holds ``u`` (x in channel
        ``skeleton.paf_channels[l, 0]``, y in ``[l, 1]``). Where limbs of one type of
        several people cover a cell, it holds the mean of their vectors. Channels
        that no limb uses stay zero.

    Raises
    ------
    ValueError
        On an argument of the wrong shape or out of range; the message names it.

    See the module docstring for an example.
    """
    skeleton = _check_skeleton(skeleton)
    people = _check_people(people, skeleton.num_keypoints)
    return _render(people, skeleton, *_check_field_args(image_size, stride, sigma, paf_width),
                   _check_bool(background, "background"), _check_dtype(dtype),
                   peak_scale=None)


def _check_field_args(image_size, stride, sigma, paf_width):
    """The checked (image_size, stride, sigma, paf_width) of render_fields / crowd_scene."""
    return (_check_image_size(image_size), _integer(stride, "stride", minimum=1),
            _real(sigma, "sigma", minimum=0.0, min_inclusive=False),
            _real(paf_width, "paf_width", minimum=0.0))


def _render(people, skeleton, image_size, stride, sigma, paf_width, background, dtype,
            peak_scale):
    """render_fields on validated arguments; `peak_scale` (P, K) scales each peak."""
    map_shape = _map_shape(image_size, stride)
    map_xy = image_to_map(people[..., :2], stride)
    visible = people[..., 2] > 0
    heatmaps = _render_heatmaps(map_xy, visible, peak_scale, map_shape, sigma,
                                background, dtype)
    pafs = _render_pafs(map_xy, visible, skeleton, map_shape, paf_width, dtype)
    return heatmaps, pafs


def _map_shape(image_size, stride):
    height, width = image_size
    return -(-height // stride), -(-width // stride)


def _render_heatmaps(map_xy, visible, peak_scale, map_shape, sigma, background, dtype):
    """Max over people of each keypoint's Gaussian; see render_fields.

    The 2-D Gaussian is separable, so each person needs only a row factor and a
    column factor; their outer product is formed for a block of people at a time
    and folded into the channel by an elementwise maximum.
    """
    num_keypoints = visible.shape[1]
    rows, cols = map_shape
    heatmaps = np.zeros((num_keypoints + int(background), rows, cols), dtype=dtype)
    row_coords = np.arange(rows, dtype=np.float64)
    col_coords = np.arange(cols, dtype=np.float64)
    inv_two_var = 1.0 / (2.0 * sigma * sigma)
    people_per_block = max(1, _BLOCK_CELLS // max(1, rows * cols))
    for k in range(num_keypoints):
        who = np.flatnonzero(visible[:, k])
        if who.size == 0:
            continue
        centres = map_xy[who, k]
        # The factors are computed in float64 and rounded once to `dtype`; the product
        # is then taken in `dtype`, so it rounds into the subnormal range and to zero
        # just as a Gaussian evaluated directly in `dtype` would.
        with np.errstate(over="ignore"):  # a far-off keypoint's square is inf: exp gives 0
            along_x = np.exp(-np.square(col_coords - centres[:, 0:1]) * inv_two_var)
            along_y = np.exp(-np.square(row_coords - centres[:, 1:2]) * inv_two_var)
        if peak_scale is not None:
            along_y *= peak_scale[who, k][:, None]
        along_x = along_x.astype(dtype)
        along_y = along_y.astype(dtype)
        channel = heatmaps[k]
        for start in range(0, who.size, people_per_block):
            stop = start + people_per_block
            block = along_y[start:stop, :, None] * along_x[start:stop, None, :]
            np.maximum(channel, block.max(axis=0), out=channel)
    if background and num_keypoints:
        np.clip(1.0 - heatmaps[:num_keypoints].max(axis=0), 0.0, 1.0, out=heatmaps[-1])
    elif background:
        heatmaps[-1] = 1.0
    return heatmaps


def _render_pafs(map_xy, visible, skeleton, map_shape, paf_width, dtype):
    """Average unit limb vectors over each limb's band; see render_fields.

    Every drawable limb (one per person and limb type) is evaluated on its own
    bounding box of cells. Boxes of similar size are batched (sizes rounded up to a
    power of two) so that a few long limbs do not inflate the work of all the short
    ones; covered cells are accumulated per limb type with bincount, which sums
    repeated indices where fancy-index assignment would drop them.
    """
    rows, cols = map_shape
    pafs = np.zeros((skeleton.num_paf_channels, rows, cols), dtype=dtype)
    limbs = skeleton.limbs.astype(np.intp)
    if limbs.size == 0 or visible.size == 0:
        return pafs
    limb, start, span, length = _drawable_limbs(map_xy, visible, limbs)
    direction = span / length[:, None]
    x0, y0, x1, y1 = _limb_boxes(start, span, paf_width, rows, cols)
    on_map = (x1 >= x0) & (y1 >= y0)
    box_w = np.where(on_map, x1 - x0 + 1, 0)
    box_h = np.where(on_map, y1 - y0 + 1, 0)

    cells_per_type = rows * cols
    num_types = len(limbs)
    total_cells = num_types * cells_per_type
    sum_x = np.zeros(total_cells)
    sum_y = np.zeros(total_cells)
    count = np.zeros(total_cells)

    size_class = _ceil_log2(box_w) * 64 + _ceil_log2(box_h)
    for batch_class in np.unique(size_class[on_map]):
        members = np.flatnonzero(on_map & (size_class == batch_class))
        pad_w = int(box_w[members].max())
        pad_h = int(box_h[members].max())
        per_batch = max(1, _BLOCK_CELLS // (pad_w * pad_h))
        for first in range(0, members.size, per_batch):
            batch = members[first:first + per_batch]
            seg, iy, ix = _band_cells(batch, pad_w, pad_h, x0, y0, x1, y1, start,
                                      direction, length, paf_width)
            flat = limb[seg] * cells_per_type + (y0[seg] + iy) * cols + (x0[seg] + ix)
            sum_x += np.bincount(flat, weights=direction[seg, 0], minlength=total_cells)
            sum_y += np.bincount(flat, weights=direction[seg, 1], minlength=total_cells)
            count += np.bincount(flat, minlength=total_cells)

    count = count.reshape(num_types, rows, cols)
    covered = count > 0
    safe_count = np.where(covered, count, 1.0)
    mean_x = np.where(covered, sum_x.reshape(count.shape) / safe_count, 0.0)
    mean_y = np.where(covered, sum_y.reshape(count.shape) / safe_count, 0.0)
    channels = skeleton.paf_channels
    pafs[channels[:, 0]] = mean_x
    pafs[channels[:, 1]] = mean_y
    return pafs


def _drawable_limbs(map_xy, visible, limbs):
    """Every limb of every person with both ends visible and a direction: its type, start
    point, span (end - start) and length, in map pixels."""
    start_kp, end_kp = limbs[:, 0], limbs[:, 1]
    person, limb = np.nonzero(visible[:, start_kp] & visible[:, end_kp])
    start = map_xy[person, start_kp[limb]]
    end = map_xy[person, end_kp[limb]]
    span = end - start
    length = np.hypot(span[:, 0], span[:, 1])
    drawable = length >= _MIN_LIMB_LENGTH
    return limb[drawable], start[drawable], span[drawable], length[drawable]


def _limb_boxes(start, span, paf_width, rows, cols):
    """Each limb's box of cells that its band may cover, clipped to the map: first and
    last column and row (x0, y0, x1, y1); empty where x1 < x0 or y1 < y0."""
    reach = paf_width + _EDGE_TOLERANCE
    box_low = np.minimum(start, start + span) - reach
    box_high = np.maximum(start, start + span) + reach
    # Clip before the cast: a far-off keypoint must not overflow the integer type.
    x0 = np.clip(np.ceil(box_low[:, 0]), 0, cols).astype(np.intp)
    y0 = np.clip(np.ceil(box_low[:, 1]), 0, rows).astype(np.intp)
    x1 = np.clip(np.floor(box_high[:, 0]), -1, cols - 1).astype(np.intp)
    y1 = np.clip(np.floor(box_high[:, 1]), -1, rows - 1).astype(np.intp)
    return x0, y0, x1, y1


def _band_cells(batch, pad_w, pad_h, x0, y0, x1, y1, start, direction, length,
                paf_width):
    """Cells of each limb in `batch` that lie in its band.

    Returns
    -------
    seg, iy, ix : ndarray of intp, each shape (N,)
        For each covered cell, its limb (an index into the per-limb arrays) and its
        row and column offset within that limb's box.
    """
    offsets_x = np.arange(pad_w)
    offsets_y = np.arange(pad_h)
    cell_x = (x0[batch][:, None, None] + offsets_x[None, None, :]).astype(np.float64)
    cell_y = (y0[batch][:, None, None] + offsets_y[None, :, None]).astype(np.float64)
    dx = cell_x - start[batch, 0][:, None, None]
    dy = cell_y - start[batch, 1][:, None, None]
    ux = direction[batch, 0][:, None, None]
    uy = direction[batch, 1][:, None, None]
    along = dx * ux + dy * uy
    across = np.abs(ux * dy - uy * dx)
    in_box = ((offsets_x[None, None, :] <= (x1 - x0)[batch][:, None, None])
              & (offsets_y[None, :, None] <= (y1 - y0)[batch][:, None, None]))
    # Distance to the segment, end caps included: a limb shorter than a cell still
    # gets a field around it, as OpenPose's ground truth gives one.
    beyond = along - np.clip(along, 0.0, length[batch][:, None, None])
    in_band = in_box & (np.hypot(beyond, across) <= paf_width + _EDGE_TOLERANCE)
    local, iy, ix = np.nonzero(in_band)
    return batch[local], iy, ix


def _ceil_log2(values):
    """Smallest e >= 0 with 2**e >= v, elementwise, for non-negative integers."""
    values = np.maximum(np.asarray(values, dtype=np.int64), 1)
    return np.ceil(np.log2(values)).astype(np.int64)


# -- crowd scenes --------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CrowdScene:
    """A synthetic crowd: the people drawn and the fields rendered from them.

    Attributes
    ----------
    people : ndarray of float64, shape (P, K, 3)
        Each person's keypoints ``(x, y, visibility)``, ``x`` and ``y`` in image
        pixels. Visibility is 2 for a rendered keypoint and 0 for one that is hidden
        (occluded or outside the image); hidden keypoints keep the figure's true
        position, which evaluation may use but a decoder cannot see.
    heatmaps : ndarray of float32, shape (K, H, W) or (K + 1, H, W)
        Keypoint heatmaps (and the background channel, when asked for).
    pafs : ndarray of float32, shape (skeleton.num_paf_channels, H, W)
        Part Affinity Fields.
    skeleton : Skeleton
        The skeleton the fields were rendered for.
    stride : int
        Image pixels per map cell.
    image_size : tuple of int
        ``(height, width)`` of the image, in image pixels.
    sigma : float
        Standard deviation of the keypoint Gaussians, in map pixels.
    paf_width : float
        Half-width of the PAF bands, in map pixels.
    crowd_index : float
        CrowdPose's crowd index of the people (see :func:`crowd_index`).

    Notes
    -----
    The dataclass is frozen but its arrays are left writable, since compiled code
    may need writable buffers; compare scenes by their arrays, not with ``==``.
    """

    people: np.ndarray
    heatmaps: np.ndarray
    pafs: np.ndarray
    skeleton: Skeleton
    stride: int
    image_size: tuple
    sigma: float
    paf_width: float
    crowd_index: float


def crowd_scene(n_people, rng, image_size=(368, 656), skeleton=None, stride=8,
                sigma=1.0, paf_width=1.0, height_range=None, allow_overlap=True,
                occlusion=0.0, noise=0.0, peak_variation=0.0, background=False,
                size_model="constant"):
    """Draw a crowd of stick figures (see the module's *Crowd model*), render its fields.

    Parameters
    ----------
    n_people : int
        Number of people (>= 0).
    rng : numpy.random.Generator or int
        Source of randomness, or a seed for ``numpy.random.default_rng``; a given
        seed always gives the same scene.
    image_size, stride, sigma, paf_width, background
        As for :func:`render_fields` (``image_size`` defaults to ``(368, 656)``); the
        background channel is computed before noise is added.
    skeleton : Skeleton, optional
        Defaults to ``Skeleton.openpose_coco18()``; its keypoint names must be among
        the 25 of ``Skeleton.body25()``, which the figure model knows.
    height_range : (float, float), optional
        ``(low, high)`` standing heights in image pixels, ``0 < low <= high``; by
        default the range `size_model` gives.
    allow_overlap : bool, default True
        If False, keypoint boxes grown by ``2 * stride`` pixels on every side do not
        overlap (see *Crowd model* for what happens when they cannot be placed).
    occlusion : float, default 0.0
        Probability in [0, 1] that each keypoint is hidden, independently: a hidden
        keypoint has no Gaussian and every limb touching it no PAF.
    noise : float, default 0.0
        Standard deviation (>= 0) of Gaussian noise added to every cell of the
        heatmaps (then clipped to >= 0, not to <= 1) and of the PAFs (not clipped).
    peak_variation : float, default 0.0
        In [0, 1): each rendered Gaussian is scaled by a factor drawn uniformly
        from ``[1 - peak_variation, 1]``, imitating uneven network confidence.
    size_model : {"constant", "shrinking"}, default "constant"
        The default height range (see *Crowd model*): people 80-300 px tall in a
        368 x 656 image at every count ("constant"), or people who shrink as the
        crowd grows ("shrinking", the older benchmark's). Ignored when `height_range`
        is given.

    Returns
    -------
    CrowdScene
        The people (visibility 2 where rendered, 0 where hidden or outside the image),
        their float32 heatmaps ``(K[+1], H, W)`` and PAFs ``(C, H, W)``, and the
        scene's crowd index.

    Raises
    ------
    ValueError
        On an invalid argument (the message names it), a keypoint name the figure
        model does not know, or a crowd that ``allow_overlap=False`` cannot place.
    """
    n_people = _integer(n_people, "n_people", minimum=0)
    rng = _check_rng(rng)
    skeleton = Skeleton.openpose_coco18() if skeleton is None else _check_skeleton(skeleton)
    image_size, stride, sigma, paf_width = _check_field_args(image_size, stride, sigma,
                                                             paf_width)
    options = _check_crowd_options(n_people, image_size, stride, height_range, allow_overlap,
                                   occlusion, noise, peak_variation, background, size_model)
    positions = _draw_placed_crowd(n_people, rng, image_size, stride, options.height_range,
                                   options.allow_overlap, _figure_columns(skeleton))
    people = _visible_people(positions, image_size, rng, options.occlusion)
    heatmaps, pafs = _render_degraded(people, skeleton, image_size, stride, sigma, paf_width,
                                      options, rng)
    return CrowdScene(people=people, heatmaps=heatmaps, pafs=pafs, skeleton=skeleton,
                      stride=stride, image_size=image_size, sigma=sigma, paf_width=paf_width,
                      crowd_index=crowd_index(people))


@dataclass(frozen=True)
class _CrowdOptions:
    height_range: tuple
    allow_overlap: bool
    occlusion: float
    noise: float
    peak_variation: float
    background: bool


def _check_crowd_options(n_people, image_size, stride, height_range, allow_overlap,
                         occlusion, noise, peak_variation, background, size_model):
    """crowd_scene's options beyond the fields', checked; the default height range
    filled in."""
    if size_model not in _SIZE_MODELS:
        raise ValueError(f"size_model must be one of {sorted(_SIZE_MODELS)}, "
                         f"got {size_model!r}")
    if height_range is None:
        height_range = _SIZE_MODELS[size_model](n_people, image_size, stride)
    else:
        height_range = _check_height_range(height_range)
    return _CrowdOptions(
        height_range=height_range,
        allow_overlap=_check_bool(allow_overlap, "allow_overlap"),
        occlusion=_real(occlusion, "occlusion", minimum=0.0, maximum=1.0),
        noise=_real(noise, "noise", minimum=0.0),
        peak_variation=_real(peak_variation, "peak_variation", minimum=0.0, maximum=1.0,
                             max_inclusive=False),
        background=_check_bool(background, "background"))


def _figure_columns(skeleton):
    """The figure model's joint index of each of the skeleton's keypoints."""
    unknown = [name for name in skeleton.keypoints if name not in _FIGURE_INDEX]
    if unknown:
        raise ValueError(
            f"skeleton has keypoints the figure model does not know: {unknown}; "
            f"known names are {list(_FIGURE_JOINTS)}")
    return np.array([_FIGURE_INDEX[name] for name in skeleton.keypoints], dtype=np.intp)


def _visible_people(positions, image_size, rng, occlusion):
    """(P, K, 3) people: visibility 2, or 0 for a keypoint hidden at random or lying
    outside the area the image's pixels cover."""
    n_people, num_keypoints = positions.shape[:2]
    height, width = image_size
    inside = ((positions[..., 0] >= -0.5) & (positions[..., 0] < width - 0.5)
              & (positions[..., 1] >= -0.5) & (positions[..., 1] < height - 0.5))
    hidden = rng.random((n_people, num_keypoints)) < occlusion
    people = np.empty((n_people, num_keypoints, 3), dtype=np.float64)
    people[..., :2] = positions
    people[..., 2] = np.where(inside & ~hidden, 2.0, 0.0)
    return people


def _render_degraded(people, skeleton, image_size, stride, sigma, paf_width, options, rng):
    """float32 fields of the people, with uneven peaks and noise as the options ask."""
    peak_scale = None
    if options.peak_variation > 0:
        peak_scale = rng.uniform(1.0 - options.peak_variation, 1.0, people.shape[:2])
    heatmaps, pafs = _render(people, skeleton, image_size, stride, sigma, paf_width,
                             options.background, np.dtype(np.float32), peak_scale)
    if options.noise > 0:
        heatmaps += options.noise * rng.standard_normal(heatmaps.shape, dtype=np.float32)
        np.maximum(heatmaps, 0.0, out=heatmaps)
        pafs += options.noise * rng.standard_normal(pafs.shape, dtype=np.float32)
    return heatmaps, pafs


# The constant size model: 80 and 300 px over the 368 px of the benchmark's image side.
_CONSTANT_LOW = 80.0 / 368.0
_CONSTANT_HIGH = 300.0 / 368.0


def _constant_height_range(n_people, image_size, stride):
    """(low, high) standing heights in image pixels, whatever the count; see the module's
    *Crowd model*."""
    side = min(image_size)
    low = max(_CONSTANT_LOW * side, 5.0 * stride)
    return low, max(_CONSTANT_HIGH * side, low)


def _shrinking_height_range(n_people, image_size, stride):
    """(low, high) standing heights in image pixels that shrink as the crowd grows; see
    the module's *Crowd model*."""
    height, width = image_size
    fair_share = math.sqrt(height * width / max(n_people, 1))
    low = max(min(0.25 * height, 0.9 * fair_share), 5.0 * stride)
    high = max(min(0.9 * height, 2.25 * fair_share), low)
    return low, high


_SIZE_MODELS = {"constant": _constant_height_range, "shrinking": _shrinking_height_range}


def _person_boxes(people):
    """Each person's box (x0, y0, x1, y1) around all its keypoints, hidden ones too,
    grown by a tenth of its size on each side: the person's extent in the image."""
    xy = people[:, :, :2]
    low, high = xy.min(axis=1), xy.max(axis=1)
    pad = 0.1 * (high - low)
    return np.concatenate([low - pad, high + pad], axis=1)


def crowd_index(people):
    """CrowdPose's crowd index of one image's people.

    The Crowd Index of Li et al., "CrowdPose: Efficient Crowded Scenes Pose Estimation
    and A New Benchmark" (CVPR 2019, arXiv:1812.00324): the mean over the image's ``n``
    people of ``N_b / N_a``, ``N_a`` the number of a person's own joints and ``N_b`` the
    number of joints inside the person's box that belong to other people. Joints here
    are visible keypoints (visibility > 0), boxes those of the module's *Crowd index*,
    and people without a visible keypoint (no ``N_a``) are left out of the mean.

    Parameters
    ----------
    people : array_like, shape (P, K, 3)
        Keypoints ``(x, y, visibility)`` in image pixels.

    Returns
    -------
    float
        The index (>= 0); 0.0 for fewer than two people.
    """
    people = np.asarray(people, dtype=np.float64)
    if people.ndim != 3 or people.shape[2] != 3:
        raise ValueError(f"people must have shape (P, K, 3), got {people.shape}")
    if len(people) < 2:
        return 0.0
    visible = people[:, :, 2] > 0
    own = visible.sum(axis=1)
    boxes = _person_boxes(people)
    points = people[:, :, :2][visible]                      # (V, 2), every visible joint
    owner = np.nonzero(visible)[0]                          # (V,), whose joint it is
    ratios = []
    for i in np.flatnonzero(own > 0):
        x0, y0, x1, y1 = boxes[i]
        inside = ((points[:, 0] >= x0) & (points[:, 0] <= x1)
                  & (points[:, 1] >= y0) & (points[:, 1] <= y1) & (owner != i))
        ratios.append(inside.sum() / own[i])
    return float(np.mean(ratios)) if ratios else 0.0


# Placement: how far a box may stick out of the image, how many candidate spots a
# person gets, and how often (and by how much) the heights shrink when that fails.
_MAX_SPILL = 0.1
_PLACEMENT_CANDIDATES = 256
_SHRINK_FACTOR = 0.75
_SHRINK_ROUNDS = 8
_OVERLAP_MARGIN_CELLS = 2


def _draw_placed_crowd(n_people, rng, image_size, stride, height_range, allow_overlap,
                       columns):
    """Pose and place `n_people` figures; return their keypoints, shape (P, K, 2).

    `columns` picks the skeleton's keypoints out of the figure's joints; the boxes
    used for placement span those keypoints only, as they are all that is drawn.
    """
    image_wh = np.array([image_size[1], image_size[0]], dtype=np.float64)
    margin = float(_OVERLAP_MARGIN_CELLS * stride)
    low, high = height_range
    for attempt in range(_SHRINK_ROUNDS + 1):
        if attempt:
            low, high = low * _SHRINK_FACTOR, high * _SHRINK_FACTOR
        heights = rng.uniform(low, high, n_people)
        figures = _pose_figures(heights, rng)[:, columns]
        box_min = figures.min(axis=1)
        box_size = figures.max(axis=1) - box_min
        lowest = -_MAX_SPILL * box_size
        highest = image_wh - (1.0 - _MAX_SPILL) * box_size
        too_big = highest < lowest
        centred = (image_wh - box_size) / 2.0
        lowest = np.where(too_big, centred, lowest)
        highest = np.where(too_big, centred, highest)
        if allow_overlap:
            corners = rng.uniform(lowest, highest)
        else:
            corners = _place_without_overlap(rng, lowest, highest, box_size, margin)
            if corners is None:
                continue
        return figures + (corners - box_min)[:, None, :]
    raise ValueError(
        f"cannot place n_people={n_people} people without overlap in an image of "
        f"image_size={image_size} (margin {margin:g} px), even after shrinking "
        f"height_range to ({low:.1f}, {high:.1f}) px; use fewer people, a bigger "
        f"image, a smaller stride or allow_overlap=True")


def _place_without_overlap(rng, lowest, highest, box_size, margin):
    """Top-left corners (P, 2) of boxes that, grown by `margin`, do not overlap; or None.

    Boxes are placed biggest first (small ones fit in the gaps left), each at the
    first of a batch of random candidates clear of all boxes placed so far.
    """
    num = len(box_size)
    corners = np.empty((num, 2))
    placed_low = np.empty((num, 2))
    placed_high = np.empty((num, 2))
    order = np.argsort(-(box_size[:, 0] + margin) * (box_size[:, 1] + margin),
                       kind="stable")
    for n_placed, i in enumerate(order):
        candidates = rng.uniform(lowest[i], highest[i], (_PLACEMENT_CANDIDATES, 2))
        # Grow every box by the margin on each side: two grown boxes may touch but
        # not overlap, so the gap between the bare boxes is at least 2 * margin.
        cand_low = candidates - margin
        cand_high = candidates + box_size[i] + margin
        clash = ((cand_low[:, None, :] < placed_high[None, :n_placed, :])
                 & (placed_low[None, :n_placed, :] < cand_high[:, None, :])).all(axis=2)
        free = np.flatnonzero(~clash.any(axis=1))
        if free.size == 0:
            return None
        pick = free[0]
        corners[i] = candidates[pick]
        placed_low[n_placed] = cand_low[pick]
        placed_high[n_placed] = cand_high[pick]
    return corners


# -- figure model --------------------------------------------------------------------

# Joints of the stick figure: the 25 keypoints of BODY_25, which include COCO-18's.
_FIGURE_JOINTS = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel",
    "r_big_toe", "r_small_toe", "r_heel",
)
_FIGURE_INDEX = {name: i for i, name in enumerate(_FIGURE_JOINTS)}

# Body proportions as fractions of standing height (after Drillis & Contini's
# segment lengths), in the body frame: origin on the ground below the mid-hip,
# +x to the person's left, +y up, +z the way they face.
_SHOULDER_HEIGHT = 0.818
_SHOULDER_HALF_WIDTH = 0.13
_HIP_HEIGHT = 0.53
_HIP_HALF_WIDTH = 0.095
_UPPER_ARM = 0.186
_FOREARM = 0.146
_THIGH = 0.245
_SHANK = 0.246
_ANKLE_HEIGHT = 0.039
_HEAD_PIVOT_HEIGHT = 0.85
# Face points relative to the head pivot, for the left side (x mirrored for right).
_NOSE_OFFSET = (0.0, 0.06, 0.065)
_EYE_OFFSET = (0.02, 0.083, 0.05)
_EAR_OFFSET = (0.045, 0.075, -0.005)
# Foot points along the foot (forward) and across it (outward), from below the ankle.
_HEEL_BACK = 0.03
_BIG_TOE_FORWARD, _BIG_TOE_OUTWARD = 0.115, -0.012
_SMALL_TOE_FORWARD, _SMALL_TOE_OUTWARD = 0.095, 0.022

_UP = np.array([0.0, 1.0, 0.0])
_FORWARD = np.array([0.0, 0.0, 1.0])


def _pose_figures(heights, rng):
    """Random poses for people of the given standing heights.

    Parameters
    ----------
    heights : ndarray, shape (P,)
        Standing heights in image pixels.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float64, shape (P, len(_FIGURE_JOINTS), 2)
        Each figure's joints in image pixels (x right, y down), relative to the
        ground point below its mid-hip.
    """
    num = heights.size
    joints = np.zeros((num, len(_FIGURE_JOINTS), 3))
    scale = heights[:, None]
    breadth = rng.uniform(0.9, 1.1, num)[:, None]
    mid_hip = _at(num, 0.0, _HIP_HEIGHT * scale[:, 0], 0.0)
    neck = _at(num, 0.0, _SHOULDER_HEIGHT * scale[:, 0], 0.0)
    placed = {"mid_hip": mid_hip, "neck": neck}
    relaxed_arm = rng.random((2, num)) < 0.6
    relaxed_leg = rng.random((2, num)) < 0.7
    for side_index, (side, sign) in enumerate((("l", 1.0), ("r", -1.0))):
        placed.update(_pose_arm(side, sign, neck, scale, breadth, relaxed_arm[side_index],
                                rng))
        leg = _pose_leg(side, sign, mid_hip, scale, breadth, relaxed_leg[side_index], rng)
        placed.update(leg)
        placed.update(_pose_foot(side, sign, leg[f"{side}_ankle"], scale, rng))
    placed.update(_pose_head(scale, rng))
    for name, points in placed.items():
        joints[:, _FIGURE_INDEX[name]] = points
    _lean_upper_body(joints, mid_hip, rng)
    return _turn_and_project(joints, rng)


def _at(num, x, y, z):
    """(num, 3) body-frame points from coordinates that are scalars or (num,) arrays."""
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1).reshape(num, 3)


def _pose_arm(side, sign, neck, scale, breadth, relaxed, rng):
    """Shoulder, elbow and wrist of one side. Arms hang from the shoulders; the elbow
    bends the forearm forwards (up to a random twist about the upper arm, so hands
    also come in and out)."""
    num = len(neck)
    shoulder = neck + _at(num, sign * _SHOULDER_HALF_WIDTH * scale[:, 0] * breadth[:, 0],
                          0.0, 0.0)
    abduction = np.where(relaxed, rng.uniform(0, 35, num), rng.uniform(0, 150, num))
    flexion = np.where(relaxed, rng.uniform(-30, 45, num), rng.uniform(-40, 100, num))
    bend = np.where(relaxed, rng.uniform(0, 100, num), rng.uniform(0, 140, num))
    twist = rng.uniform(-45, 45, num)
    upper = _limb_direction(sign, abduction, flexion)
    fore = _bent_direction(upper, _FORWARD, bend, twist)
    elbow = shoulder + _UPPER_ARM * scale * upper
    return {f"{side}_shoulder": shoulder, f"{side}_elbow": elbow,
            f"{side}_wrist": elbow + _FOREARM * scale * fore}


def _pose_leg(side, sign, mid_hip, scale, breadth, relaxed, rng):
    """Hip, knee and ankle of one side; the knee bends the shank backwards."""
    num = len(mid_hip)
    hip = mid_hip + _at(num, sign * _HIP_HALF_WIDTH * scale[:, 0] * breadth[:, 0], 0.0, 0.0)
    abduction = np.where(relaxed, rng.uniform(0, 12, num), rng.uniform(-5, 30, num))
    flexion = np.where(relaxed, rng.uniform(-10, 15, num), rng.uniform(-25, 60, num))
    bend = np.where(relaxed, rng.uniform(0, 15, num), rng.uniform(0, 80, num))
    thigh = _limb_direction(sign, abduction, flexion)
    shank = _bent_direction(thigh, -_FORWARD, bend, np.zeros(num))
    knee = hip + _THIGH * scale * thigh
    return {f"{side}_hip": hip, f"{side}_knee": knee,
            f"{side}_ankle": knee + _SHANK * scale * shank}


def _pose_foot(side, sign, ankle, scale, rng):
    """Heel and toes of one side: feet stay flat and point forwards, turned out a little."""
    num = len(ankle)
    toe_out = np.deg2rad(rng.uniform(5, 20, num))
    along = _at(num, sign * np.sin(toe_out), 0.0, np.cos(toe_out))
    outward = sign * np.cross(_UP, along)
    sole = ankle - _ANKLE_HEIGHT * scale * _UP
    return {f"{side}_heel": sole - _HEEL_BACK * scale * along,
            f"{side}_big_toe": sole + scale * (_BIG_TOE_FORWARD * along
                                               + _BIG_TOE_OUTWARD * outward),
            f"{side}_small_toe": sole + scale * (_SMALL_TOE_FORWARD * along
                                                 + _SMALL_TOE_OUTWARD * outward)}


def _pose_head(scale, rng):
    """Nose, eyes and ears about the head pivot, the head turned and tilted."""
    num = len(scale)
    head_turn = _rotation(1, rng.uniform(-25, 25, num)) @ _rotation(0, rng.uniform(-10, 10, num))
    head_turn = _rotation(2, rng.uniform(-10, 10, num)) @ head_turn
    pivot = _at(num, 0.0, _HEAD_PIVOT_HEIGHT * scale[:, 0], 0.0)
    face = {"nose": np.array(_NOSE_OFFSET)}
    for side, sign in (("l", 1.0), ("r", -1.0)):
        face[f"{side}_eye"] = np.array(_EYE_OFFSET) * (sign, 1.0, 1.0)
        face[f"{side}_ear"] = np.array(_EAR_OFFSET) * (sign, 1.0, 1.0)
    return {name: pivot + np.einsum("pij,pj->pi", head_turn, scale * offset)
            for name, offset in face.items()}


_UPPER_BODY = [_FIGURE_INDEX[name] for name in (
    "neck", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
    "nose", "l_eye", "r_eye", "l_ear", "r_ear")]


def _lean_upper_body(joints, mid_hip, rng):
    """Lean the upper body about the mid-hip, in place: a little sideways, more often
    forwards."""
    num = len(joints)
    sideways = np.clip(rng.normal(0, 4, num), -10, 10)
    forwards = rng.uniform(-5, 12, num)
    lean = _rotation(2, sideways) @ _rotation(0, forwards)
    relative = joints[:, _UPPER_BODY] - mid_hip[:, None, :]
    joints[:, _UPPER_BODY] = mid_hip[:, None, :] + np.einsum("pij,pnj->pni", lean, relative)


def _turn_and_project(joints, rng):
    """Turn each figure to face frontal, back (left and right trade places) or
    profile-ish, and project it to image pixels (P, J, 2)."""
    num = len(joints)
    facing = rng.choice(3, size=num, p=(0.5, 0.2, 0.3))
    frontal_yaw = np.clip(rng.normal(0, 12, num), -30, 30)
    turned = rng.uniform(50, 75, num)
    turned = np.where(rng.random(num) < 0.5, turned, 180 - turned)
    profile_yaw = np.where(rng.random(num) < 0.5, turned, -turned)
    yaw = np.select([facing == 0, facing == 1], [frontal_yaw, 180 + frontal_yaw],
                    profile_yaw)
    joints = np.einsum("pij,pnj->pni", _rotation(1, yaw), joints)
    # Orthographic camera: image x follows the body's x at yaw 0 (the person faces
    # the camera, so their left is on the image's right) and image y points down.
    return np.stack([joints[..., 0], -joints[..., 1]], axis=-1)


def _limb_direction(sign, abduction_deg, flexion_deg):
    """Unit direction (P, 3) of a limb hanging from a joint on side `sign`.

    Zero angles point straight down; abduction swings the limb out to its side
    (``sign`` +1 for the person's left), flexion swings it forwards.
    """
    abduction = np.deg2rad(abduction_deg)
    flexion = np.deg2rad(flexion_deg)
    return np.stack([sign * np.sin(abduction),
                     -np.cos(abduction) * np.cos(flexion),
                     np.cos(abduction) * np.sin(flexion)], axis=-1)


def _bent_direction(proximal, toward, bend_deg, twist_deg):
    """Direction (P, 3) of a distal segment bent from `proximal` by `bend_deg`.

    The bend is toward `toward` (made perpendicular to the proximal segment, or the
    up axis where the two are nearly parallel), turned about the proximal segment
    by `twist_deg`.
    """
    bend_axis = toward - (proximal @ toward)[:, None] * proximal
    fallback = _UP - (proximal @ _UP)[:, None] * proximal
    norm = np.linalg.norm(bend_axis, axis=1, keepdims=True)
    degenerate = norm < 1e-6
    bend_axis = np.where(degenerate, fallback, bend_axis)
    bend_axis /= np.linalg.norm(bend_axis, axis=1, keepdims=True)
    twist = np.deg2rad(twist_deg)[:, None]
    bend_axis = np.cos(twist) * bend_axis + np.sin(twist) * np.cross(proximal, bend_axis)
    bend = np.deg2rad(bend_deg)[:, None]
    return np.cos(bend) * proximal + np.sin(bend) * bend_axis


def _rotation(axis, angle_deg):
    """Rotation matrices (P, 3, 3) by `angle_deg` about body axis 0 (x), 1 (y) or 2 (z)."""
    angle = np.deg2rad(np.asarray(angle_deg, dtype=np.float64))
    cos, sin = np.cos(angle), np.sin(angle)
    matrices = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    matrices[..., axis, axis] = 1.0
    matrices[..., i, i] = cos
    matrices[..., j, j] = cos
    matrices[..., i, j] = -sin
    matrices[..., j, i] = sin
    return matrices


# -- argument checks -----------------------------------------------------------------

def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_image_size(image_size):
    try:
        height, width = image_size
    except (TypeError, ValueError):
        raise ValueError(
            f"image_size must be a (height, width) pair, got {image_size!r}") from None
    return (_integer(height, "image_size height", minimum=1),
            _integer(width, "image_size width", minimum=1))


def _check_height_range(height_range):
    try:
        low, high = height_range
    except (TypeError, ValueError):
        raise ValueError(
            f"height_range must be a (low, high) pair, got {height_range!r}") from None
    low = _real(low, "height_range low", minimum=0.0, min_inclusive=False)
    high = _real(high, "height_range high", minimum=0.0, min_inclusive=False)
    if low > high:
        raise ValueError(f"height_range low must be <= high, got ({low:g}, {high:g})")
    return low, high


def _check_skeleton(skeleton):
    if not isinstance(skeleton, Skeleton):
        raise ValueError(f"skeleton must be a Skeleton, got {type(skeleton).__name__}")
    return skeleton


def _check_dtype(dtype):
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a numpy floating dtype, got {dtype!r}") from None
    if result.kind != "f":
        raise ValueError(f"dtype must be a numpy floating dtype, got {result}")
    return result


def _check_rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"rng seed must be >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def _check_people(people, num_keypoints):
    try:
        array = np.asarray(people, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("people must be an array of shape (P, K, 3) of numbers") from None
    if array.size == 0 and array.ndim < 3:
        array = array.reshape(0, num_keypoints, 3)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"people must have shape (P, K, 3), got {array.shape}")
    if array.shape[1] != num_keypoints:
        raise ValueError(
            f"people has {array.shape[1]} keypoints per person but the skeleton has "
            f"{num_keypoints}")
    visible = array[..., 2] > 0
    if not np.isfinite(array[..., :2][visible]).all():
        raise ValueError("people has a visible keypoint with non-finite coordinates")
    return array
