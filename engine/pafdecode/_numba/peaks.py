"""peaks.c: non-maximum suppression, merged-peak splitting and sub-cell fits."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .fp import F0, F2, FHALF, FINF, FMAX, PD_ERR_ARGUMENT, PD_OK, borrowing, jit, row_of
from .sort import sort_candidates

_INT_MAX = 2**31 - 1

# Scratch of one channel's search: the clean plane, row and window maxima with how
# many cells reach them, the same counts among candidates (masked, count_max),
# marks, the doubled grid and its union-find for plateaus, the van Herk lines, and
# the local maxima found (value, cell, 1 + direction from the peak it was split
# from, or 0).
PeakWork = namedtuple("PeakWork", ["plane", "row_max", "window", "visited", "masked",
                                   "row_count", "count", "count_max", "grid", "parent",
                                   "line_v", "line_c", "f_val", "f_idx", "f_b"])

# A frame's peaks: x, y (map cells) and value of global peak k * max_peaks + rank,
# planar so that a channel's coordinates are contiguous; num: peaks per channel.
Peaks = namedtuple("Peaks", ["x", "y", "v", "num"])

_DIR_X = np.array([1, -1, 0, 0, 1, -1, 1, -1], np.int64)
_DIR_Y = np.array([0, 0, 1, -1, 1, -1, -1, 1], np.int64)


@jit
def peak_work(height, width):
    cells = height * width
    doubled = (2 * height - 1) * (2 * width - 1)
    line = max(height, width)
    return PeakWork(np.empty(cells, np.float32), np.empty(cells, np.float32),
                    np.empty(cells, np.float32), np.empty(cells, np.uint8),
                    np.empty(cells, np.float32), np.empty(cells, np.int32),
                    np.empty(cells, np.int32), np.empty(cells, np.int32),
                    np.empty(doubled, np.int32), np.empty(doubled, np.int32),
                    np.empty(2 * line, np.float32), np.empty(2 * line, np.int32),
                    np.empty(cells, np.float32), np.empty(cells, np.int32),
                    np.empty(cells, np.int32))


@jit
def _fit_offset_wide(left, centre, right):
    """pd_fit_offset_wide: the value parabola in float64, which cannot overflow."""
    num = np.float64(left) - np.float64(right)
    den = np.float64(left) - 2.0 * np.float64(centre) + np.float64(right)
    if not (den < 0.0):
        return F0
    off = 0.5 * num / den
    return np.float32(0.5 if off > 0.5 else (-0.5 if off < -0.5 else off))


@jit
def _fit_offset(left, centre, right):
    """pd_fit_offset, in float32 (float64 only where float32 overflows)."""
    ratio_l = left / centre
    ratio_r = right / centre
    num = F0
    den = F0
    if centre > F0 and ratio_l > F0 and ratio_r > F0:
        ll = np.log(ratio_l)
        lr = np.log(ratio_r)
        num = ll - lr
        den = ll + lr
    else:
        num = left - right
        den = left - F2 * centre + right
        if not (abs(num) <= FMAX) or not (abs(den) <= FMAX):
            return _fit_offset_wide(left, centre, right)
    if not (den < F0):
        return F0
    off = FHALF * num / den
    if off > FHALF:
        off = FHALF
    if off < -FHALF:
        off = -FHALF
    return off


@jit
def _window_bounds(x, y, radius, height, width):
    """The cells within `radius` of (x, y), clipped to the map: x0, x1, y0, y1
    inclusive."""
    return (max(x - radius, 0), min(x + radius, width - 1), max(y - radius, 0),
            min(y + radius, height - 1))


@borrowing
def _max3(left, mid, right, out, n):
    """out[i] = max(left[i], mid[i], right[i]): a long loop over shifted slices (no
    negative offsets), which LLVM vectorises."""
    for i in range(n):
        a = left[i]
        b = mid[i]
        c = right[i]
        m = a if a > b else b
        out[i] = c if c > m else m


@jit
def _max2(a, b):
    return a if a > b else b


@borrowing
def _window_max_r1(plane, row_max, window, height, width):
    """Radius 1 by shifted slices; the rows' and columns' ends are fixed after."""
    cells = height * width
    n = cells - 2
    _max3(plane[:n], plane[1:n + 1], plane[2:n + 2], row_max[1:n + 1], n)
    for y in range(height):
        i = y * width
        row_max[i] = _max2(plane[i], plane[i + 1])
        j = i + width - 1
        row_max[j] = _max2(plane[j], plane[j - 1])
    n = cells - 2 * width
    _max3(row_max[:n], row_max[width:width + n], row_max[2 * width:2 * width + n],
          window[width:width + n], n)
    for x in range(width):
        top = x
        bottom = (height - 1) * width + x
        window[top] = _max2(row_max[top], row_max[top + width])
        window[bottom] = _max2(row_max[bottom], row_max[bottom - width])


@jit
def _max_count(m, c, v, n):
    """pd_max_count: the maximum of (m, c) and (v, n), counts added on a tie."""
    if v > m:
        return v, n
    if v == m:
        return m, c + n
    return m, c


@borrowing
def _line_max(src, src_c, use_c, base, step, count, radius, out, out_c, lv, lc):
    """pd_line_max: van Herk / Gil-Werman window maxima with counts along one line
    (count items `step` apart from `base` in the flat arrays); lv, lc hold the
    running maxima from each block's start (first count items) and end."""
    k = 2 * radius + 1
    for b0 in range(0, count, k):
        b1 = min(b0 + k, count)
        for i in range(b0, b1):
            v = src[base + i * step]
            n = src_c[base + i * step] if use_c else np.int32(1)
            if i > b0:
                v, n = _max_count(lv[i - 1], lc[i - 1], v, n)
            lv[i] = v
            lc[i] = n
        for i in range(b1 - 1, b0 - 1, -1):
            v = src[base + i * step]
            n = src_c[base + i * step] if use_c else np.int32(1)
            if i < b1 - 1:
                v, n = _max_count(lv[count + i + 1], lc[count + i + 1], v, n)
            lv[count + i] = v
            lc[count + i] = n
    for i in range(count):
        lo = max(i - radius, 0)
        hi = min(i + radius, count - 1)
        if lo // k != hi // k:
            m, c = _max_count(lv[count + lo], lc[count + lo], lv[hi], lc[hi])
        elif lo % k == 0:
            m = lv[hi]
            c = lc[hi]
        else:
            m = lv[count + lo]
            c = lc[count + lo]
        out[base + i * step] = m
        out_c[base + i * step] = c


@borrowing
def _window_max_count(plane, height, width, radius, w, window, count):
    """pd_window_max_count: a row pass and a column pass of _line_max, O(cells)."""
    for y in range(height):
        _line_max(plane, w.row_count, False, y * width, 1, width, radius, w.row_max,
                  w.row_count, w.line_v, w.line_c)
    for x in range(width):
        _line_max(w.row_max, w.row_count, True, x, width, height, radius, window, count,
                  w.line_v, w.line_c)


@borrowing
def _window_max(w, height, width, radius):
    """The (2r+1) x (2r+1) window maximum of every cell (pd_window_max); for r > 1
    with the counts of cells reaching it. Only comparisons: any order gives the
    same."""
    if radius == 1 and width >= 3 and height >= 3:
        _window_max_r1(w.plane, w.row_max, w.window, height, width)
        return
    _window_max_count(w.plane, height, width, radius, w, w.window, w.count)


@borrowing
def _equal_count(plane, height, width, idx, radius, w, counted):
    """pd_equal_count: cells of candidate idx's window at its value, itself included."""
    if counted:
        return w.count[idx]
    v = plane[idx]
    y = idx // width
    x = idx - y * width
    x0, x1, y0, y1 = _window_bounds(x, y, radius, height, width)
    n = 0
    for yy in range(y0, y1 + 1):
        for xx in range(x0, x1 + 1):
            if plane[yy * width + xx] == v:
                n += 1
    return n


@borrowing
def _find_root(uf, p):
    while uf[p] != p:
        uf[p] = uf[uf[p]]
        p = uf[p]
    return p


@borrowing
def _union(uf, a, b):
    a = _find_root(uf, a)
    b = _find_root(uf, b)
    if a < b:
        uf[b] = a
    if b < a:
        uf[a] = b


@borrowing
def _plateau_cover(height, width, radius, count_max, sums, cover):
    """pd_plateau_cover: the doubled grid covered by squares [2c, 2c + 2r] around
    the candidates that have another in their window."""
    hd = 2 * height - 1
    wd = 2 * width - 1
    span = 2 * radius
    for py in range(hd):
        running = 0
        even_row = (py & 1) == 0
        for px in range(wd):
            out = px - span - 1
            if even_row and (px & 1) == 0 and count_max[(py // 2) * width + px // 2] > 1:
                running += 1
            if even_row and out >= 0 and (out & 1) == 0 and \
                    count_max[(py // 2) * width + out // 2] > 1:
                running -= 1
            sums[py * wd + px] = running
    for px in range(wd):
        running = 0
        for py in range(hd):
            if sums[py * wd + px] > 0:
                running += 1
            if py - span - 1 >= 0 and sums[(py - span - 1) * wd + px] > 0:
                running -= 1
            cover[py * wd + px] = 1 if running > 0 else 0


@borrowing
def _label_plateaus(height, width, threshold, radius, w, counted):
    """pd_label_plateaus: per plateau root, w.grid holds 2 * its first cell + 1 when
    it is no maximum; w.count_max > 1 marks the cells that have one."""
    plane = w.plane
    cells = height * width
    wd = 2 * width - 1
    doubled = (2 * height - 1) * wd
    if not counted:
        _window_max_count(plane, height, width, radius, w, w.window, w.count)
    for i in range(cells):
        w.masked[i] = plane[i] if plane[i] > threshold and plane[i] >= w.window[i] else -FINF
    # The row pass is done with `masked` before the column pass writes it.
    _window_max_count(w.masked, height, width, radius, w, w.masked, w.count_max)
    for i in range(cells):
        if not (plane[i] > threshold and plane[i] >= w.window[i]):
            w.count_max[i] = 0
    _plateau_cover(height, width, radius, w.count_max, w.parent, w.grid)
    uf = w.parent
    for p in range(doubled):
        uf[p] = p if w.grid[p] != 0 else -1
    for p in range(doubled):
        if uf[p] < 0:
            continue
        if p % wd != 0 and uf[p - 1] >= 0:
            _union(uf, p, p - 1)
        if p >= wd and uf[p - wd] >= 0:
            _union(uf, p, p - wd)
    _plateau_verdicts(height, width, w)


@borrowing
def _plateau_verdicts(height, width, w):
    """Per plateau root: 2 * its first cell + 1 when a cell of it is bad."""
    wd = 2 * width - 1
    for pass_ in range(2):
        for i in range(height * width):
            if w.count_max[i] <= 1:
                continue
            root = _find_root(w.parent, 2 * (i // width) * wd + 2 * (i % width))
            bad = np.int32(1) if w.count[i] != w.count_max[i] else np.int32(0)
            if pass_ == 0:
                w.grid[root] = -1
            elif w.grid[root] < 0:
                w.grid[root] = 2 * i + bad
            else:
                w.grid[root] |= bad


@borrowing
def _is_supported(plane, height, width, x, y, support):
    """pd_is_supported: the 1-2-1 weighted 3x3 mean around (x, y) exceeds `support`,
    summed in float32 in C's order."""
    total = F0
    weight = F0
    for dy in range(-1, 2):
        yy = y + dy
        if yy < 0 or yy >= height:
            continue
        for dx in range(-1, 2):
            xx = x + dx
            if xx < 0 or xx >= width:
                continue
            w = np.float32((2 - abs(dy)) * (2 - abs(dx)))
            total += w * plane[yy * width + xx]
            weight += w
    limit = support * weight
    if abs(total) <= FMAX and limit <= FMAX:
        return total > limit
    return _is_supported_wide(plane, height, width, x, y, support)


@borrowing
def _is_supported_wide(plane, height, width, x, y, support):
    """pd_is_supported_wide: the same test in float64, where float32 overflows."""
    total = 0.0
    weight = 0.0
    for dy in range(-1, 2):
        yy = y + dy
        if yy < 0 or yy >= height:
            continue
        for dx in range(-1, 2):
            xx = x + dx
            if xx < 0 or xx >= width:
                continue
            w = np.float64((2 - abs(dy)) * (2 - abs(dx)))
            total += w * np.float64(plane[yy * width + xx])
            weight += w
    return total > np.float64(support) * weight


@jit
def _copy_plane(src, height, width, plane):
    """The sanitised contiguous plane: non-finite values read as 0."""
    contiguous_rows = src.strides[1] == 4
    for y in range(height):
        out = plane[y * width:(y + 1) * width]
        if contiguous_rows:
            row = row_of(src, y)
            for x in range(width):
                v = row[x]
                out[x] = v if v - v == F0 else F0
        else:
            for x in range(width):
                v = src[y, x]
                out[x] = v if v - v == F0 else F0


@borrowing
def _log_curvature(plane, idx, step, v):
    """The second difference of log values across idx along `step`, or 0 when a
    neighbour is not positive."""
    if plane[idx - step] > F0 and plane[idx + step] > F0:
        return np.log(plane[idx - step]) - F2 * np.log(v) + np.log(plane[idx + step])
    return F0


@borrowing
def _channel_sigma2(plane, height, width, f_idx, num, curvature, tie_a, tie_b):
    """The channel's squared Gaussian width, from the median curvature of its peaks
    (none when no peak is curved). `curvature`, tie_a and tie_b hold 2 * num items
    (tie_a, tie_b the sort's, whose order of equal values does not matter)."""
    m = 0
    for i in range(num):
        idx = f_idx[i]
        y = idx // width
        x = idx - y * width
        v = plane[idx]
        if not v > F0:
            continue
        if x > 0 and x < width - 1:
            c = _log_curvature(plane, idx, 1, v)
            if c < F0:
                curvature[m] = c
                m += 1
        if y > 0 and y < height - 1:
            c = _log_curvature(plane, idx, width, v)
            if c < F0:
                curvature[m] = c
                m += 1
    if m == 0:
        return False, F0
    tie_a[:m] = 0
    tie_b[:m] = 0
    sort_candidates(curvature, tie_a, tie_b, m)  # descending, as in C
    return True, np.float32(-1.0) / curvature[m // 2]


@borrowing
def _tops_its_neighbours(plane, height, width, nx, ny, cx, cy, hn):
    """No cell around (nx, ny) but its peak's (cx, cy) is higher than hn."""
    for e in range(8):
        qx = nx + _DIR_X[e]
        qy = ny + _DIR_Y[e]
        if qx < 0 or qx >= width or qy < 0 or qy >= height:
            continue
        if qx == cx and qy == cy:
            continue
        if plane[qy * width + qx] > hn:
            return False
    return True


@jit
def _inside(x, y, height, width):
    return 0 <= x < width and 0 <= y < height


@borrowing
def _centred_at_split(plane, height, width, nx, ny, d, log_hn, step2, sigma2):
    """pd_centred_at_split: False when the split cell's far-side fit (unclamped, in
    steps of d) puts its Gaussian's centre over half a step back toward the peak."""
    fx = nx + _DIR_X[d]
    fy = ny + _DIR_Y[d]
    if not _inside(fx, fy, height, width):
        return True
    hf = plane[fy * width + fx]
    if not hf > F0:
        return True
    t = FHALF - sigma2 * (log_hn - np.log(hf)) / step2
    return not t < -FHALF


@jit
def _side_bits(d):
    """pd_side_bits: the sides direction d points into, 1 +x, 2 -x, 4 +y, 8 -y."""
    dx = _DIR_X[d]
    dy = _DIR_Y[d]
    bx = 1 if dx > 0 else (2 if dx < 0 else 0)
    by = 4 if dy > 0 else (8 if dy < 0 else 0)
    return bx | by


@borrowing
def _hidden_peak(plane, height, width, idx, log_peak, d, threshold, margin, sigma2, marks):
    """The cell in direction d of peak idx (log value log_peak) when a second Gaussian
    hides there, or -1; each logarithm taken once, as in C."""
    cy = idx // width
    cx = idx - cy * width
    dx = _DIR_X[d]
    dy = _DIR_Y[d]
    nx = cx + dx
    ny = cy + dy
    ox = cx - dx
    oy = cy - dy
    if not (_inside(nx, ny, height, width) and _inside(ox, oy, height, width)):
        return -1
    n = ny * width + nx
    hn = plane[n]
    ho = plane[oy * width + ox]
    # Only the higher of two opposite neighbours can be split (tested first, as in C).
    if marks[n] != 0 or not hn > threshold or not ho > F0 or not hn >= ho:
        return -1
    step2 = np.float32(dx * dx + dy * dy)
    log_hn = np.log(hn)
    excess = log_hn + np.log(ho) - F2 * log_peak + step2 / sigma2
    if not (excess >= margin):
        return -1
    if not _centred_at_split(plane, height, width, nx, ny, d, log_hn, step2, sigma2):
        return -1
    if not _tops_its_neighbours(plane, height, width, nx, ny, cx, cy, hn):
        return -1
    return n


@borrowing
def _split_merged(plane, height, width, threshold, margin, w, num):
    """pd_split_merged: appends to w.f_idx (raster order so far) the cells of peaks
    hidden next to the peaks found, with f_b 1 + the direction from their peak, and
    the peak they were split from f_b -(the sides holding them); returns the new
    count and the channel's squared width."""
    # row_max, row_count and count are free once the maxima are found.
    curved, sigma2 = _channel_sigma2(plane, height, width, w.f_idx, num, w.row_max,
                                     w.row_count, w.count)
    if not curved:
        return num, F0
    marks = w.visited
    marks[:height * width] = 0
    for i in range(num):
        marks[w.f_idx[i]] = 1
    primaries = num
    for i in range(primaries):
        idx = w.f_idx[i]
        if not plane[idx] > F0:
            continue
        log_peak = np.log(plane[idx])
        for d in range(8):
            n = _hidden_peak(plane, height, width, idx, log_peak, d, threshold, margin, sigma2,
                             marks)
            if n < 0:
                continue
            marks[n] = 1
            w.f_idx[num] = n
            w.f_val[num] = plane[n]
            w.f_b[num] = 1 + d
            num += 1
            w.f_b[i] = -(-w.f_b[i] | _side_bits(d))
    return num, sigma2


@borrowing
def _fit_far_side(plane, idx, step, inside, v, sigma2):
    """pd_fit_far_side: a Gaussian's offset from its neighbour `step` cells away."""
    if not inside or not v > F0 or not plane[idx + step] > F0:
        return F0
    half = np.float32(0.5)
    t = half - sigma2 * (np.log(v) - np.log(plane[idx + step]))
    if t > half:
        t = half
    if t < -half:
        t = -half
    return t if step > 0 else -t


@borrowing
def _is_peak(plane, height, width, idx, radius, support, w, labelled):
    """pd_is_peak: whether candidate idx is a peak, and whether it belongs to a
    plateau seen before the plateaus were labelled (then it is no peak yet)."""
    y = idx // width
    x = idx - y * width
    if _equal_count(plane, height, width, idx, radius, w, labelled or radius > 1) > 1:
        if not labelled:
            return False, True
        if w.count_max[idx] <= 1:
            return False, False
        label = w.grid[_find_root(w.parent, 2 * y * (2 * width - 1) + 2 * x)]
        if (label & 1) != 0 or label // 2 != idx:
            return False, False
    if support > F0 and not _is_supported(plane, height, width, x, y, support):
        return False, False
    return True, False


@borrowing
def _local_maxima_pass(height, width, threshold, radius, support, w, labelled):
    """The peaks of w.plane in raster order into w.f_val, f_idx, f_b; their count and
    whether a plateau was seen unlabelled."""
    plane = w.plane
    window = w.window
    cells = height * width
    num = 0
    plateaus = False
    block = 32
    for base in range(0, cells, block):
        end = min(base + block, cells)
        # Branch-free test of a block first; most blocks hold no local maximum.
        pv = plane[base:end]
        wv = window[base:end]
        hit = 0
        for i in range(end - base):
            v = pv[i]
            hit |= np.int32(v > threshold) & np.int32(v >= wv[i])
        if hit == 0:
            continue
        for idx in range(base, end):
            v = plane[idx]
            if not (v > threshold and v >= window[idx]):
                continue
            ok, plateau = _is_peak(plane, height, width, idx, radius, support, w, labelled)
            plateaus |= plateau
            if not ok:
                continue
            w.f_val[num] = v
            w.f_idx[num] = idx
            w.f_b[num] = 0
            num += 1
    return num, plateaus


@borrowing
def _local_maxima(height, width, threshold, radius, support, w):
    """pd_collect_peaks: one pass when no candidate has an equal cell in its window;
    otherwise the plateaus are labelled and the pass runs again. O(cells) for any
    radius."""
    num, plateaus = _local_maxima_pass(height, width, threshold, radius, support, w, False)
    if not plateaus:
        return num
    _label_plateaus(height, width, threshold, radius, w, radius > 1)
    num, plateaus = _local_maxima_pass(height, width, threshold, radius, support, w, True)
    return num


@jit
def _fit_step(b, direction, plus_bit):
    """pd_fit_step: along one axis the step toward the one neighbour a peak with f_b
    b is fitted from (a split peak: beyond itself; a peak split from: opposite its
    splits), or 0 for both (no split, or splits on both sides)."""
    if b > 0:
        return direction[b - 1]
    sides = ((-b) // plus_bit) & 3
    return -1 if sides == 1 else (1 if sides == 2 else 0)


@borrowing
def _fit_peak(plane, height, width, idx, v, b, sigma2):
    """A peak's sub-cell offsets (dx, dy): along an axis _fit_step names a side for,
    fitted from that side alone."""
    y = idx // width
    x = idx - y * width
    dx = F0
    dy = F0
    away_x = _fit_step(b, _DIR_X, 1)
    away_y = _fit_step(b, _DIR_Y, 4)
    if away_x != 0:
        dx = _fit_far_side(plane, idx, away_x, 0 <= x + away_x < width, v, sigma2)
    elif x > 0 and x < width - 1:
        dx = _fit_offset(plane[idx - 1], v, plane[idx + 1])
    if away_y != 0:
        dy = _fit_far_side(plane, idx, away_y * width, 0 <= y + away_y < height, v, sigma2)
    elif y > 0 and y < height - 1:
        dy = _fit_offset(plane[idx - width], v, plane[idx + width])
    return np.float32(x) + dx, np.float32(y) + dy


@jit
def find_peaks_core(src, height, width, threshold, radius, max_peaks, split_margin,
                    support, w, out_x, out_y, out_v):
    """pd_find_peaks on one (H, W) view of any strides. Returns the number kept."""
    _copy_plane(src, height, width, w.plane)
    return _plane_peaks(height, width, threshold, radius, max_peaks, split_margin, support, w,
                        out_x, out_y, out_v)


@borrowing
def _plane_peaks(height, width, threshold, radius, max_peaks, split_margin, support, w,
                 out_x, out_y, out_v):
    """find_peaks_core on the plane copied into w.plane, without reference counting:
    each call below would count every array of w. (The copy reads the map through
    fp.row_of, which needs the counting.)"""
    _window_max(w, height, width, radius)
    num = _local_maxima(height, width, threshold, radius, support, w)
    sigma2 = F0
    if split_margin > F0 and num > 0:
        num, sigma2 = _split_merged(w.plane, height, width, threshold, split_margin, w, num)
    # Value descending, ties by cell: C's order, stable or not.
    sort_candidates(w.f_val, w.f_idx, w.f_b, num)
    kept = num if num < max_peaks else max_peaks
    for i in range(kept):
        v = w.f_val[i]
        x, y = _fit_peak(w.plane, height, width, w.f_idx[i], v, w.f_b[i], sigma2)
        out_x[i] = x
        out_y[i] = y
        out_v[i] = v
    return kept


@jit
def find_peaks_entry(heatmap, threshold, radius, max_peaks, split_margin, peak_support):
    height, width = heatmap.shape
    if radius < 1 or max_peaks < 0 or height * width > _INT_MAX // 2 or \
            not (threshold == threshold) or not (peak_support >= F0) or \
            not (peak_support < FINF):
        return PD_ERR_ARGUMENT, np.zeros((0, 3), np.float32)
    w = peak_work(height, width)
    out = np.empty((3, max_peaks), np.float32)
    n = find_peaks_core(heatmap, height, width, threshold, radius, max_peaks, split_margin,
                        peak_support, w, out[0], out[1], out[2])
    result = np.empty((n, 3), np.float32)
    for i in range(n):
        result[i, 0] = out[0, i]
        result[i, 1] = out[1, i]
        result[i, 2] = out[2, i]
    return PD_OK, result


@jit
def stage_peaks(heat, prm, w, peaks):
    """pd_stage_peaks: every channel's peaks into `peaks` (planar x, y, v of
    K * max_peaks, and counts); returns how many in all."""
    height = heat.shape[1]
    width = heat.shape[2]
    # The set may be sized below max_peaks to what the map can yield; it is never
    # written past.
    mp = peaks.x.shape[0] // peaks.num.shape[0]
    cap = min(mp, np.int64(prm.max_peaks))
    total = 0
    plane = w.plane
    for k in range(peaks.num.shape[0]):
        off = k * mp
        # find_peaks_core's two steps: w is counted once per frame, not per channel.
        _copy_plane(heat[k], height, width, plane)
        got = _plane_peaks(height, width, prm.peak_threshold, np.int64(prm.peak_radius), cap,
                           prm.split_merged_peaks, prm.peak_support, w, peaks.x[off:off + mp],
                           peaks.y[off:off + mp], peaks.v[off:off + mp])
        peaks.num[k] = got
        total += got
    return total


@jit
def new_peaks(K, mp):
    """Zeroed peaks of K channels of mp each (zeros past the counts)."""
    xyv = np.zeros((3, K * mp), np.float32)
    return Peaks(xyv[0], xyv[1], xyv[2], np.zeros(K, np.int64))
