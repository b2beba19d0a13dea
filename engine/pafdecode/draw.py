"""Draw people on images, in NumPy.

:func:`draw` paints each limb as a thick segment with round ends (every pixel whose
centre lies within ``thickness / 2`` of the segment) and each keypoint as a filled
disc, one colour per limb and per keypoint type around the hue circle. No
anti-aliasing. Image files are read and written by :mod:`pafdecode.io`.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["draw", "draw_text", "limb_colors"]


def limb_colors(n):
    """``n`` colours spread evenly around the hue circle (full saturation and value).

    Parameters
    ----------
    n : int

    Returns
    -------
    ndarray of uint8, shape (n, 3)
        ``(R, G, B)`` colours; the first is red.
    """
    hue = np.arange(n, dtype=np.float64) / max(n, 1) * 6.0
    sector = np.floor(hue).astype(int) % 6
    f = hue - np.floor(hue)
    one, zero = np.ones(n), np.zeros(n)
    # (r, g, b) per sector of the hue hexagon
    table = np.array([[one, f, zero], [1 - f, one, zero], [zero, one, f],
                      [zero, 1 - f, one], [f, zero, one], [one, zero, 1 - f]])
    rgb = table[sector, :, np.arange(n)]  # (n, 3)
    return np.rint(rgb * 255).astype(np.uint8)


def _check_colors(colors, n, name):
    arr = np.asarray(colors)
    if arr.shape != (n, 3):
        raise ValueError(f"{name} must have shape ({n}, 3), got {arr.shape}")
    return np.clip(np.rint(arr.astype(np.float64)), 0, 255).astype(np.uint8)


def _fill_capsule(canvas, p, q, half, color):
    """Paint pixels whose centres are within `half` of segment p-q."""
    h, w = canvas.shape[:2]
    lo = np.floor(np.minimum(p, q) - half).astype(int)
    hi = np.ceil(np.maximum(p, q) + half).astype(int)
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], w - 1), min(hi[1], h - 1)
    if x1 < x0 or y1 < y0:
        return
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
    d = q - p
    length2 = float(d @ d)
    px, py = xs - p[0], ys - p[1]
    if length2 > 0:
        t = np.clip((px * d[0] + py * d[1]) / length2, 0.0, 1.0)
        px = px - t * d[0]
        py = py - t * d[1]
    mask = px * px + py * py <= half * half
    canvas[y0:y1 + 1, x0:x1 + 1][mask] = color


def _disc(radius):
    r = int(np.ceil(radius))
    ys, xs = np.mgrid[-r:r + 1, -r:r + 1]
    return xs * xs + ys * ys <= radius * radius, r


def _stamp(canvas, mask, r, centre, color):
    h, w = canvas.shape[:2]
    cx, cy = int(np.rint(centre[0])), int(np.rint(centre[1]))
    x0, y0, x1, y1 = cx - r, cy - r, cx + r + 1, cy + r + 1
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    sub = mask[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    canvas[cy0:cy1, cx0:cx1][sub] = color


def draw(image, poses, skeleton=None, *, score_threshold=0.1, thickness=None, radius=None,
         limb_color=None, keypoint_color=None):
    """Draw people's limbs and keypoints on a copy of an image.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3) or (H, W)
        uint8 image (a grey image is drawn on as RGB).
    poses : Poses or array_like, shape (P, K, 3)
        Keypoints ``(x, y, confidence)`` in the image's pixels; missing keypoints
        are ``(0, 0, 0)``.
    skeleton : Skeleton, optional
        Limbs to draw; default ``poses.skeleton`` (required for a bare array).
    score_threshold : float, default 0.1
        A keypoint is drawn when its confidence exceeds this; a limb when both of its
        keypoints are.
    thickness : float, optional
        Limb width in pixels; default ``max(2, round(max(H, W) / 200))``.
    radius : float, optional
        Keypoint disc radius in pixels; default ``thickness * 0.75 + 1``.
    limb_color : array_like, shape (L, 3), optional
        One colour per limb, in the image's channel order; default
        :func:`limb_colors` ``(L)`` (RGB; swap for a BGR image if you mind).
    keypoint_color : array_like, shape (K, 3), optional
        One colour per keypoint type; default :func:`limb_colors` ``(K)``.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        A new image; `image` is not modified. Limbs are painted first (people in
        order, limbs in skeleton order), then keypoints on top.
    """
    canvas = _canvas(image)
    skeleton, kp = _people_keypoints(poses, skeleton)
    if not isinstance(score_threshold, numbers.Real):
        raise ValueError(f"score_threshold must be a number, got {score_threshold!r}")
    thickness, radius = _sizes(canvas.shape[:2], thickness, radius)
    limbs = skeleton.limbs
    lc = (limb_colors(len(limbs)) if limb_color is None
          else _check_colors(limb_color, len(limbs), "limb_color"))
    kc = (limb_colors(skeleton.num_keypoints) if keypoint_color is None
          else _check_colors(keypoint_color, skeleton.num_keypoints, "keypoint_color"))
    shown = (kp[..., 2] > score_threshold) & np.isfinite(kp[..., :2]).all(axis=-1)
    half = float(thickness) / 2.0
    for person, visible in zip(kp, shown):
        for (a, b), color in zip(limbs, lc):
            if visible[a] and visible[b]:
                _fill_capsule(canvas, person[a, :2], person[b, :2], half, color)
    if radius > 0:
        mask, r = _disc(float(radius))
        for person, visible in zip(kp, shown):
            for k in np.flatnonzero(visible):
                _stamp(canvas, mask, r, person[k, :2], kc[k])
    return canvas


def _canvas(image):
    """A writable RGB (H, W, 3) uint8 copy of the image (grey repeated to 3 channels)."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3) or (H, W), got {img.shape}")
    if img.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {img.dtype}")
    return np.array(img, copy=True, order="C")


def _people_keypoints(poses, skeleton):
    """The skeleton to draw with and the (P, K, 3) float64 keypoints."""
    if skeleton is None:
        skeleton = getattr(poses, "skeleton", None)
        if skeleton is None:
            raise ValueError("skeleton is needed to draw an array of keypoints")
    kp = np.asarray(getattr(poses, "keypoints", poses), dtype=np.float64)
    if kp.size == 0:
        kp = kp.reshape(0, skeleton.num_keypoints, 3)
    if kp.ndim != 3 or kp.shape[1:] != (skeleton.num_keypoints, 3):
        raise ValueError(f"keypoints must have shape (P, {skeleton.num_keypoints}, 3), "
                         f"got {kp.shape}")
    return skeleton, kp


def _sizes(image_hw, thickness, radius):
    """Limb thickness and keypoint radius, defaulting with the image's size."""
    if thickness is None:
        thickness = max(2, round(max(image_hw) / 200))
    if radius is None:
        radius = thickness * 0.75 + 1
    if not (thickness > 0 and radius >= 0):
        raise ValueError(f"thickness must be > 0 and radius >= 0, got {thickness}, {radius}")
    return thickness, radius


# A 3 x 5 pixel font for labels (track ids, scores, "3 PEOPLE"): each glyph is five
# rows of three bits, most significant bit on the left.
_GLYPHS = {
    "E": (7, 4, 6, 4, 7), "L": (4, 4, 4, 4, 7), "N": (5, 7, 7, 5, 5), "O": (2, 5, 5, 5, 2),
    "P": (6, 5, 6, 4, 4), "R": (6, 5, 6, 5, 5), "S": (3, 4, 2, 1, 6),
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 3, 1, 7),
    "4": (5, 5, 7, 1, 1), "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 2, 2, 2),
    "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7), ".": (0, 0, 0, 0, 2), "-": (0, 0, 7, 0, 0),
    "#": (5, 7, 5, 7, 5), ":": (0, 2, 0, 2, 0), " ": (0, 0, 0, 0, 0),
}


def draw_text(image, text, origin, color=(255, 255, 255), scale=2, background=(0, 0, 0)):
    """Write a short label (digits, ``. - # :``, spaces and the capitals of "PEOPLE" and
    "PERSON") into an image, in place.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3)
        Written to; parts of the label outside the image are dropped.
    text : str
    origin : (float, float)
        ``(x, y)`` of the label's top-left corner, in pixels.
    color, background : 3 ints, or None for `background`
        Ink and the box behind the label (None: no box).
    scale : int, default 2
        Pixels per font pixel (the font is 3 x 5, one font pixel between glyphs).

    Returns
    -------
    ndarray
        `image` itself.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be a uint8 (H, W, 3) array, got {img.dtype} "
                         f"{img.shape}")
    bad = sorted(set(str(text)) - set(_GLYPHS))
    if bad:
        raise ValueError(f"text may hold only {''.join(sorted(_GLYPHS))!r}, got {bad} "
                         f"in {text!r}")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}")
    text = str(text)
    rows = np.array([[b < 3 and (_GLYPHS[c][r] >> (2 - b)) & 1 for c in text for b in range(4)]
                     for r in range(5)], dtype=bool).reshape(5, -1)
    rows = np.pad(rows, 1)  # a font pixel of margin all round
    mask = np.repeat(np.repeat(rows, scale, axis=0), scale, axis=1)
    x0, y0 = int(np.rint(origin[0])), int(np.rint(origin[1]))
    h, w = img.shape[:2]
    ys = slice(max(y0, 0), min(y0 + mask.shape[0], h))
    xs = slice(max(x0, 0), min(x0 + mask.shape[1], w))
    if ys.stop <= ys.start or xs.stop <= xs.start:
        return img
    sub = mask[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
    region = img[ys, xs]
    if background is not None:
        region[...] = np.asarray(background, dtype=np.uint8)
    region[sub] = np.asarray(color, dtype=np.uint8)
    return img
