"""scoring.c: candidate limbs, each pair of peaks scored by its line integral over
the Part Affinity Field.

Limb scoring drops pairs that surely fail with a support mask of its own (exact by
construction: float64, a wider margin, and skipped where noise marks most of the
map; C's float32 mask is not exact at extreme scales, see tests/test_parity.py).
What it drops changes the work done, never a result."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .fp import F0, FINF, borrowing, flat_plane, jit, row_of
from .sort import new_cands, sort_candidates_stable

FMAX64 = float(np.finfo(np.float32).max)

# PD_MIN_LIMB_LENGTH * PD_MIN_LIMB_LENGTH in float32, as scoring.c computes it.
_MIN_LENGTH2 = np.float32(np.float32(1e-3) * np.float32(1e-3))
_BATCH = 256  # pairs scored together, as in scoring.c

# The settings scoring derives from the record, and its scratch: the sample order
# (middle out) and positions, the support mask and flat copies of the fields, the
# pairs of one a, the ends' fields, the batch and the histogram of the sort. The tuples are unpacked once per
# limb: the helpers called per a, per batch or per pair take the arrays they read,
# because a call counts a reference to every array of every tuple it is passed,
# which costs more than the work of a small one.
Scoring = namedtuple("Scoring", [
    "n", "min_inliers", "threshold", "max_length", "max_candidates",
    "samples", "dots", "mask", "gx", "gy", "pairs", "ends", "batch", "hist"])
# order[s]: the sample taken s-th; t[k]: sample k's position; t_order[s] = t[order[s]].
Samples = namedtuple("Samples", ["order", "t", "t_order"])
# Per b of the current a: offset to b, sure misses so far, which b, and scratch.
Pairs = namedtuple("Pairs", ["rel_x", "rel_y", "misses", "alive", "cell"])
# Per b: the field at b and the slack under which the last sample fails for sure.
Ends = namedtuple("Ends", ["vb_x", "vb_y", "slack2_b"])
# bi rows a, b, slot, failures, cell x, cell y; bf rows x0, y0, dx, dy, ux, uy and
# the offsets in the cell fx, fy; bdots per sample.
Batch = namedtuple("Batch", ["bi", "bf", "bdots"])


@jit
def min_inliers(prm):
    """pd_min_inliers: the inliers a candidate needs, from the share of samples, in
    float64."""
    n = prm.paf_samples
    need = int(np.ceil(prm.min_inlier_ratio * np.float64(n) - 1e-9))
    return min(n, need)


@jit
def max_length(prm):
    """pd_max_length: the longest pair scored, in map cells (0: unlimited).
    max_limb_length is in input-image pixels; the division runs in float64 and
    rounds once, to float32."""
    if not (prm.max_limb_length > 0.0):
        return F0
    return np.float32(prm.max_limb_length / np.float64(prm.stride))


@jit
def _middle_out(j, n):
    c = (n - 1) // 2
    if n % 2 == 0:
        if j % 2 == 0:
            return c - j // 2
        return c + (j + 1) // 2
    if j == 0:
        return c
    if j % 2 == 1:
        return c - (j + 1) // 2
    return c + j // 2


@jit
def scoring_work(prm, cells, mp):
    n = np.int64(prm.paf_samples)
    order = np.empty(n, np.int64)
    t = np.empty(n, np.float32)
    for k in range(n):
        order[k] = _middle_out(k, n)
        t[k] = np.float32(k / (n - 1))
    t_order = np.empty(n, np.float32)
    for k in range(n):
        t_order[k] = t[order[k]]
    pairs = Pairs(np.empty(mp, np.float32), np.empty(mp, np.float32), np.empty(mp, np.int64),
                  np.empty(mp, np.int64), np.empty(mp, np.int64))
    ends = Ends(np.empty(mp, np.float32), np.empty(mp, np.float32), np.empty(mp, np.float64))
    batch = Batch(np.empty((6, _BATCH), np.int64), np.empty((8, _BATCH), np.float32),
                  np.empty((n, _BATCH), np.float32))
    return Scoring(n, np.int64(min_inliers(prm)), prm.paf_threshold, max_length(prm),
                   np.int64(prm.max_candidates), Samples(order, t, t_order),
                   np.empty(n, np.float64), np.empty(cells, np.uint8),
                   np.empty(cells, np.float32), np.empty(cells, np.float32), pairs, ends, batch,
                   np.empty(257, np.int64))


@jit
def _lerp2(v00, v01, v10, v11, fx, fy):
    """The interpolation of pd_bilinear, in float32."""
    top = v00 + (v01 - v00) * fx
    bottom = v10 + (v11 - v10) * fx
    return top + (bottom - top) * fy


@jit
def _cell(x, y, height, width):
    """pd_bilinear's clamps and corners: x0, x1, y0, y1, fx, fy."""
    if x < F0:
        x = F0
    if y < F0:
        y = F0
    xmax = np.float32(width - 1)
    ymax = np.float32(height - 1)
    if x > xmax:
        x = xmax
    if y > ymax:
        y = ymax
    x0 = int(x)
    y0 = int(y)
    x1 = x0 + 1 if x0 + 1 < width else x0
    y1 = y0 + 1 if y0 + 1 < height else y0
    return x0, x1, y0, y1, x - np.float32(x0), y - np.float32(y0)


@jit
def _field_flat(g, height, width, x, y):
    """pd_bilinear on a flat C plane."""
    x0, x1, y0, y1, wx, wy = _cell(x, y, height, width)
    r0 = y0 * width
    r1 = y1 * width
    return _lerp2(g[r0 + x0], g[r0 + x1], g[r1 + x0], g[r1 + x1], wx, wy)


@jit
def _lerp2_wide(v00, v01, v10, v11, wx, wy):
    """_lerp2 in float64, as pd_sample_wide computes it."""
    fx = np.float64(wx)
    fy = np.float64(wy)
    top = np.float64(v00) + (np.float64(v01) - np.float64(v00)) * fx
    bottom = np.float64(v10) + (np.float64(v11) - np.float64(v10)) * fx
    return top + (bottom - top) * fy


@jit
def _dot_wide(cx, cy, wx, wy, ux, uy):
    """pd_sample_wide: a sample whose float32 arithmetic did not stay finite, from
    its corners cx, cy (00, 01, 10, 11) of each channel: 0 when one is NaN or Inf,
    else redone in float64 and saturated to +-FLT_MAX."""
    for c in range(4):
        if not (cx[c] - cx[c] == F0) or not (cy[c] - cy[c] == F0):
            return F0
    vx = _lerp2_wide(cx[0], cx[1], cx[2], cx[3], wx, wy)
    vy = _lerp2_wide(cy[0], cy[1], cy[2], cy[3], wx, wy)
    dot = vx * np.float64(ux) + vy * np.float64(uy)
    return np.float32(FMAX64 if dot > FMAX64 else (-FMAX64 if dot < -FMAX64 else dot))


@jit
def _dot_strided(fx, fy, height, width, px, py, ux, uy):
    """One sample's dot product, reading the PAF views (any strides)."""
    x0, x1, y0, y1, wx, wy = _cell(px, py, height, width)
    vx = _lerp2(fx[y0, x0], fx[y0, x1], fx[y1, x0], fx[y1, x1], wx, wy)
    vy = _lerp2(fy[y0, x0], fy[y0, x1], fy[y1, x0], fy[y1, x1], wx, wy)
    dot = vx * ux + vy * uy
    if dot - dot == F0:
        return dot
    return _dot_wide((fx[y0, x0], fx[y0, x1], fx[y1, x0], fx[y1, x1]),
                     (fy[y0, x0], fy[y0, x1], fy[y1, x0], fy[y1, x1]), wx, wy, ux, uy)


@jit
def _is_c_plane(src):
    return src.strides[1] == 4 and src.strides[0] == 4 * src.shape[1]


@jit
def _copy_raw(src, height, width, out):
    """A 2-D view of any strides copied as it is into a flat C array."""
    for y in range(height):
        row = out[y * width:(y + 1) * width]
        if src.strides[1] == 4:
            srow = row_of(src, y)
            for x in range(width):
                row[x] = srow[x]
        else:
            for x in range(width):
                row[x] = src[y, x]


@borrowing
def _support_mask(gx, gy, height, width, threshold, mask):
    """Marks, on the flat PAF planes gx, gy, the cells (x, y) whose bilinear square
    [x, x+1] x [y, y+1] has a corner whose vector is longer than a hair below the
    threshold, computed in float64 so that nothing under- or overflows; NaN and
    Inf are marked. A sample in an unmarked square interpolates finite vectors
    shorter than the threshold, so its dot with a unit vector cannot exceed it (or
    is non-finite and reads as 0): it fails for sure, and skipping it never changes
    a result. (scoring.c's mask is float32, so C uses it only for thresholds in
    [1e-15, 1e15], where it neither overflows nor flushes to zero.)
    Returns the number of cells marked."""
    limit = np.float64(threshold) * np.float64(threshold) * (1.0 - 1e-4)
    cells = height * width
    for i in range(cells):
        dx = np.float64(gx[i])
        dy = np.float64(gy[i])
        m = dx * dx + dy * dy
        mask[i] = np.uint8(m > limit) | np.uint8(m != m)
    marked = 0
    for y in range(height):
        row = mask[y * width:(y + 1) * width]
        below = mask[(y + 1) * width:(y + 2) * width] if y + 1 < height else row
        last = row[width - 1] | below[width - 1]
        for x in range(width - 1):
            v = row[x] | row[x + 1] | below[x] | below[x + 1]
            row[x] = v
            marked += np.int64(v)
        row[width - 1] = last
        marked += np.int64(last)
    return marked


@jit
def _pair_score(total, n, height, length):
    """The mean dot product with the length prior, or -1 when not positive."""
    prior = 0.5 * np.float64(height) / np.float64(length) - 1.0
    score = total / n + (prior if prior < 0.0 else 0.0)
    return score if score > 0.0 else -1.0


@borrowing
def _score_pair(fx, fy, x0, y0, dx, dy, order, t, dots, max_failures, threshold):
    """pd_score_pair on the views fx, fy (any strides): the exact score of a pair,
    or -1 when it is no candidate. `dots` is scratch for the n samples."""
    height, width = fx.shape
    n = order.shape[0]
    length = np.sqrt(dx * dx + dy * dy)
    ux = dx / length
    uy = dy / length
    failures = 0
    for s in range(n):
        k = order[s]
        px = x0 + dx * t[k]
        py = y0 + dy * t[k]
        dot = _dot_strided(fx, fy, height, width, px, py, ux, uy)
        dots[k] = np.float64(dot)
        if not (dot > threshold):
            failures += 1
            if failures > max_failures:
                return -1.0
    total = 0.0
    for k in range(n):
        total += dots[k]
    return _pair_score(total, n, height, length)


@jit
def _sure_slack2(threshold, margin):
    """pd_sure_slack2 in float64: the squared slack below the threshold under
    which an end sample's dot product fails for sure, or -1 when none is known."""
    slack = np.float64(threshold) - margin
    return slack * slack * (1.0 - 1e-5) if slack > 0.0 else -1.0


@borrowing
def _end_fields(gx, gy, height, width, bx, by, nb, threshold, ends):
    """The field at each b, and the slack under which the last sample of a pair
    ending at b fails for sure. That sample lands on b only up to the rounding of
    a + (b - a), a couple of ulps of the larger coordinate; while it stays in b's
    square, the sum of its corners' |vx| + |vy| bounds how far the field moves."""
    reach = 2.5e-7 * max(height, width)
    for j in range(nb):
        x0, x1, y0, y1, wx, wy = _cell(bx[j], by[j], height, width)
        r0 = y0 * width
        r1 = y1 * width
        ends.vb_x[j] = _lerp2(gx[r0 + x0], gx[r0 + x1], gx[r1 + x0], gx[r1 + x1], wx, wy)
        ends.vb_y[j] = _lerp2(gy[r0 + x0], gy[r0 + x1], gy[r1 + x0], gy[r1 + x1], wx, wy)
        bound = 0.0
        for o in (r0 + x0, r0 + x1, r1 + x0, r1 + x1):
            bound += abs(np.float64(gx[o])) + abs(np.float64(gy[o]))
        fx = np.float64(bx[j]) - np.floor(np.float64(bx[j]))
        fy = np.float64(by[j]) - np.floor(np.float64(by[j]))
        inside = reach < fx < 1.0 - reach and reach < fy < 1.0 - reach
        if inside and bound < np.inf:
            ends.slack2_b[j] = _sure_slack2(threshold, bound * (8.0 * reach + 1e-4))
        else:
            ends.slack2_b[j] = -1.0


@borrowing
def _sample_cells(count, tk, height, width, x0, y0, dx, dy, cell_x, cell_y, frac_x, frac_y):
    """pd_sample_cells: the cell and the offsets in it of sample tk of each pair (the
    clamps and corners of pd_bilinear), a loop that vectorises."""
    xmax = np.float32(width - 1)
    ymax = np.float32(height - 1)
    for q in range(count):
        x = x0[q] + dx[q] * tk
        y = y0[q] + dy[q] * tk
        x = F0 if x < F0 else x
        y = F0 if y < F0 else y
        x = xmax if x > xmax else x
        y = ymax if y > ymax else y
        cx = np.int32(x)
        cy = np.int32(y)
        cell_x[q] = cx
        cell_y[q] = cy
        frac_x[q] = x - np.float32(cx)
        frac_y[q] = y - np.float32(cy)


@borrowing
def _sample_dots(gx, gy, height, width, count, cell_x, cell_y, frac_x, frac_y, ux, uy, slot,
                 failures, dots_k, threshold):
    """Sample k of each pair from its cell (pd_score_batch's inner loop): the dot
    products into dots_k by slot, the failures counted."""
    for q in range(count):
        cx = cell_x[q]
        cy = cell_y[q]
        o00 = cy * width + cx
        o01 = o00 + (1 if cx + 1 < width else 0)
        o10 = o00 + (width if cy + 1 < height else 0)
        o11 = o10 + (o01 - o00)
        fx = frac_x[q]
        fy = frac_y[q]
        vx = _lerp2(gx[o00], gx[o01], gx[o10], gx[o11], fx, fy)
        vy = _lerp2(gy[o00], gy[o01], gy[o10], gy[o11], fx, fy)
        dot = vx * ux[q] + vy * uy[q]
        if not (dot - dot == F0):
            dot = _dot_wide((gx[o00], gx[o01], gx[o10], gx[o11]),
                            (gy[o00], gy[o01], gy[o10], gy[o11]), fx, fy, ux[q], uy[q])
        dots_k[slot[q]] = dot
        failures[q] += np.int64(not (dot > threshold))


@borrowing
def _batch_samples(gx, gy, height, width, count, order, t, bi, bf, bdots, max_failures,
                   threshold):
    """Every sample of the batched pairs, sample-major, three samples a pass, the
    pairs with too many failures dropped after each pass; returns the live count."""
    a, b, slot, failures, cell_x, cell_y = bi[0], bi[1], bi[2], bi[3], bi[4], bi[5]
    x0, y0, dx, dy, ux, uy, frac_x, frac_y = bf[0], bf[1], bf[2], bf[3], bf[4], bf[5], \
        bf[6], bf[7]
    n = order.shape[0]
    live = count
    s0 = 0
    while s0 < n and live > 0:
        s1 = min(s0 + 3, n)
        for s in range(s0, s1):
            k = order[s]
            _sample_cells(live, t[k], height, width, x0, y0, dx, dy, cell_x, cell_y, frac_x,
                          frac_y)
            _sample_dots(gx, gy, height, width, live, cell_x, cell_y, frac_x, frac_y, ux, uy,
                         slot, failures, bdots[k], threshold)
        kept = 0
        for q in range(live):
            a[kept] = a[q]
            b[kept] = b[q]
            slot[kept] = slot[q]
            failures[kept] = failures[q]
            for r in range(6):
                bf[r, kept] = bf[r, q]
            kept += np.int64(failures[q] <= max_failures)
        live = kept
        s0 = s1
    return live


@borrowing
def _score_batch(gx, gy, height, width, count, order, t, bi, bf, bdots, max_failures,
                 threshold, cand_s, cand_a, cand_b, out):
    """pd_score_batch: scores the `count` pairs batched in (bi, bf) from all n
    samples, taken sample-major across the batch into bdots, and writes the
    candidates from index `out` on. Returns how many it wrote."""
    n = order.shape[0]
    slot, failures = bi[2], bi[3]
    dx, dy, ux, uy = bf[2], bf[3], bf[4], bf[5]
    for q in range(count):
        length = np.sqrt(dx[q] * dx[q] + dy[q] * dy[q])
        ux[q] = dx[q] / length
        uy[q] = dy[q] / length
        slot[q] = q
        failures[q] = 0
    live = _batch_samples(gx, gy, height, width, count, order, t, bi, bf, bdots, max_failures,
                          threshold)
    written = 0
    for q in range(live):
        r = slot[q]
        total = 0.0
        for k in range(n):
            total += np.float64(bdots[k, r])
        length = np.sqrt(dx[q] * dx[q] + dy[q] * dy[q])
        score = _pair_score(total, n, height, length)
        if not score > 0.0:
            continue
        cand_a[out + written] = bi[0, q]
        cand_b[out + written] = bi[1, q]
        cand_s[out + written] = np.float32(score)
        written += 1
    return written


@borrowing
def _start_slack(gx, gy, height, width, x0, y0, threshold):
    """The field at a and the slack under which the first sample (a itself: only
    the dot product's rounding needs a margin) fails for sure. Non-finite fields
    read as 0 there: always a miss."""
    va_x = np.float64(_field_flat(gx, height, width, x0, y0))
    va_y = np.float64(_field_flat(gy, height, width, x0, y0))
    size = abs(va_x) + abs(va_y)
    slack2_a = _sure_slack2(threshold, 1e-4 * size)
    if not size < np.inf:
        # Finite corners too large for float32 arithmetic are scored in float64:
        # nothing is known about this sample here.
        x0_, x1_, y0_, y1_, wx, wy = _cell(x0, y0, height, width)
        for o in (y0_ * width + x0_, y0_ * width + x1_, y1_ * width + x0_, y1_ * width + x1_):
            if not (gx[o] - gx[o] == F0) or not (gy[o] - gy[o] == F0):
                return 0.0, 0.0, 0.0
        return 0.0, 0.0, -1.0
    return va_x, va_y, slack2_a


@borrowing
def _end_misses(x0, y0, va_x, va_y, slack2_a, bx, by, max_length2, vb_x, vb_y, slack2_b,
                rel_x, rel_y, misses, alive, cell):
    """Dense first, as in scoring.c: the end samples sit on a and b, and a dot
    product v.d below slack * |d| fails whatever the rounding of the exact path.
    Bitwise, not short-circuit, so the loop vectorises. Pairs too short or too long
    are dropped; the live pairs' data are compacted into live order."""
    nb = bx.shape[0]
    for j in range(nb):
        dx = bx[j] - x0
        dy = by[j] - y0
        length2 = dx * dx + dy * dy
        d2 = np.float64(dx) * dx + np.float64(dy) * dy
        pa = va_x * dx + va_y * dy
        pb = np.float64(vb_x[j]) * dx + np.float64(vb_y[j]) * dy
        sb = slack2_b[j]
        rel_x[j] = dx
        rel_y[j] = dy
        misses[j] = ((np.int64(slack2_a >= 0.0)
                      & (np.int64(pa <= 0.0) | np.int64(pa * pa <= slack2_a * d2)))
                     + (np.int64(sb >= 0.0)
                        & (np.int64(pb <= 0.0) | np.int64(pb * pb <= sb * d2))))
        cell[j] = np.int64(length2 >= _MIN_LENGTH2) & np.int64(length2 <= max_length2)
    live = 0
    for j in range(nb):
        rel_x[live] = rel_x[j]
        rel_y[live] = rel_y[j]
        misses[live] = misses[j]
        alive[live] = j
        live += cell[j]
    return live


@borrowing
def _sure_misses(x0, y0, live, height, width, max_failures, order, t_order, mask, rel_x,
                 rel_y, misses, alive, cell):
    """The other samples fail for sure in unsupported squares: counts them for all
    pairs still alive, three samples a pass, and drops the pairs with too many,
    without interpolating anything. Unsigned cell arithmetic: no negative-index
    handling in the hot loop, and a clamp that also catches what cannot happen
    (endpoints are inside the map)."""
    n = order.shape[0]
    wmax = np.uint32(width - 1)
    hmax = np.uint32(height - 1)
    uwidth = np.uint32(width)
    s0 = 0
    while s0 < n and live > 0:
        s1 = min(s0 + 3, n)
        for s in range(s0, s1):
            if order[s] == 0 or order[s] == n - 1:
                continue  # counted by _end_misses
            tk = t_order[s]
            for q in range(live):
                cx = min(np.uint32(np.int32(x0 + rel_x[q] * tk)), wmax)
                cy = min(np.uint32(np.int32(y0 + rel_y[q] * tk)), hmax)
                cell[q] = np.int64(cy * uwidth + cx)
            for q in range(live):
                misses[q] += np.int64(mask[cell[q]] == 0)
        kept = 0
        for q in range(live):
            alive[kept] = alive[q]
            rel_x[kept] = rel_x[q]
            rel_y[kept] = rel_y[q]
            misses[kept] = misses[q]
            kept += np.int64(misses[q] <= max_failures)
        live = kept
        s0 = s1
    return live


@borrowing
def _in_range_pairs(x0, y0, bx, by, max_length2, rel_x, rel_y, alive):
    """Without the prefilter: only the pairs too short or too long are dropped."""
    live = 0
    for j in range(bx.shape[0]):
        dx = bx[j] - x0
        dy = by[j] - y0
        length2 = dx * dx + dy * dy
        rel_x[live] = dx
        rel_y[live] = dy
        alive[live] = j
        live += np.int64(length2 >= _MIN_LENGTH2) & np.int64(length2 <= max_length2)
    return live


@jit
def _planes(fx, fy, use_mask, gx, gy):
    """Samples are read from flat planes: the fields themselves when each channel
    is C-contiguous (CHW), else copies into gx, gy when there are many pairs to
    score; flat is False when the views are read as they are."""
    height, width = fx.shape
    if _is_c_plane(fx) and _is_c_plane(fy):
        return True, flat_plane(fx), flat_plane(fy)
    if use_mask:
        _copy_raw(fx, height, width, gx)
        _copy_raw(fy, height, width, gy)
    return use_mask, gx, gy


@borrowing
def _fill_batch(i, x0, y0, q, live, rel_x, rel_y, alive, bi, bf, batched):
    """Batches a's live pairs from q on, across a in (a, b) order as scoring.c
    does, until the batch is full: (the next pair, the batch's fill)."""
    while q < live and batched < _BATCH:
        bi[0, batched] = i
        bi[1, batched] = alive[q]
        bf[0, batched] = x0
        bf[1, batched] = y0
        bf[2, batched] = rel_x[q]
        bf[3, batched] = rel_y[q]
        batched += 1
        q += 1
    return q, batched


@borrowing
def _score_pairs(fx, fy, i, x0, y0, live, rel_x, rel_y, alive, order, t, dots, max_failures,
                 threshold, cand_s, cand_a, cand_b, count):
    """Scores a's live pairs one by one from the views; returns the candidate count."""
    for q in range(live):
        score = _score_pair(fx, fy, x0, y0, rel_x[q], rel_y[q], order, t, dots, max_failures,
                            threshold)
        if score < 0.0:
            continue
        cand_a[count] = i
        cand_b[count] = alive[q]
        cand_s[count] = np.float32(score)
        count += 1
    return count


@borrowing
def score_limb(fx, fy, flat, gx, gy, use_mask, ax, ay, bx, by, sc, cands):
    """pd_score_limb: the candidates between peaks (ax, ay) and (bx, by) into
    `cands`, sorted; returns their count. Samples are read from gx, gy when flat
    (_planes), and the mask is used when use_mask. No reference counting: a call
    per a, batch or pair would count every array it is passed."""
    height, width = fx.shape
    na = ax.shape[0]
    max_length2 = sc.max_length * sc.max_length if sc.max_length > F0 else FINF
    prefilter = False
    if use_mask:
        marked = _support_mask(gx, gy, height, width, sc.threshold, sc.mask)
        # Where noise marks most squares the prefilter rejects next to nothing:
        # it is skipped (C runs it anyway).
        prefilter = marked * 4 < height * width * 3
    if prefilter:
        _end_fields(gx, gy, height, width, bx, by, bx.shape[0], sc.threshold, sc.ends)
    max_failures = sc.n - sc.min_inliers
    threshold = sc.threshold
    # Unpacked once: the calls per a, per batch and per pair below take arrays.
    rel_x, rel_y, misses, alive, cell = sc.pairs
    vb_x, vb_y, slack2_b = sc.ends
    order, t, t_order = sc.samples
    bi, bf, bdots = sc.batch
    mask, dots = sc.mask, sc.dots
    cand_s, cand_a, cand_b = cands
    count = 0
    batched = 0
    for i in range(na):
        x0 = ax[i]
        y0 = ay[i]
        if prefilter:
            va_x, va_y, slack2_a = _start_slack(gx, gy, height, width, x0, y0, threshold)
            live = _end_misses(x0, y0, va_x, va_y, slack2_a, bx, by, max_length2, vb_x, vb_y,
                               slack2_b, rel_x, rel_y, misses, alive, cell)
            live = _sure_misses(x0, y0, live, height, width, max_failures, order, t_order, mask,
                                rel_x, rel_y, misses, alive, cell)
        else:
            live = _in_range_pairs(x0, y0, bx, by, max_length2, rel_x, rel_y, alive)
        q = 0
        while flat and q < live:
            q, batched = _fill_batch(i, x0, y0, q, live, rel_x, rel_y, alive, bi, bf, batched)
            if batched == _BATCH:
                count += _score_batch(gx, gy, height, width, batched, order, t, bi, bf, bdots,
                                      max_failures, threshold, cand_s, cand_a, cand_b, count)
                batched = 0
        if not flat:
            count = _score_pairs(fx, fy, i, x0, y0, live, rel_x, rel_y, alive, order, t, dots,
                                 max_failures, threshold, cand_s, cand_a, cand_b, count)
    if batched > 0:
        count += _score_batch(gx, gy, height, width, batched, order, t, bi, bf, bdots,
                              max_failures, threshold, cand_s, cand_a, cand_b, count)
    # Written in (a, b) order: a stable sort on the score completes the order. The
    # arrays have room for twice the pairs (limb_candidates): the sort's scratch.
    sort_candidates_stable(cands.s, cands.a, cands.b, count,
                           (cands.s[count:], cands.a[count:], cands.b[count:]), sc.hist)
    return count


@jit
def room(cands, need):
    """Candidate arrays with room for `need` items (the ones given when they have)."""
    if need <= cands.s.shape[0]:
        return cands
    return new_cands(need)


@jit
def limb_candidates(paf, limb_kp, limb_paf, l, peaks, sc, cands):
    """Limb l's candidates into `cands` (grown to fit), best first, capped at
    max_candidates: (cands, count)."""
    mp = peaks.x.shape[0] // peaks.num.shape[0]
    ka = limb_kp[l, 0]
    kb = limb_kp[l, 1]
    na = peaks.num[ka]
    nb = peaks.num[kb]
    if na == 0 or nb == 0:
        return cands, 0
    cands = room(cands, 2 * na * nb)
    oa = ka * mp
    ob = kb * mp
    fx = paf[limb_paf[l, 0]]
    fy = paf[limb_paf[l, 1]]
    # The mask only skips work; it pays when there are many pairs.
    use_mask = sc.threshold >= F0 and na * nb * 32 > fx.shape[0] * fx.shape[1]
    flat, gx, gy = _planes(fx, fy, use_mask, sc.gx, sc.gy)
    nc = score_limb(fx, fy, flat, gx, gy, use_mask, peaks.x[oa:oa + na], peaks.y[oa:oa + na],
                    peaks.x[ob:ob + nb], peaks.y[ob:ob + nb], sc, cands)
    return cands, min(nc, sc.max_candidates)
