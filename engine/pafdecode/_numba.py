"""The Numba twin of the compiled core: the same algorithms as csrc/, written again
with ``numba.njit(nogil=True, cache=True)``. Private; use pafdecode.Decoder.

It mirrors the Cython module ``_kernels`` function for function (``find_peaks``,
``linear_sum_assignment``, ``assign_limb``, ``CoreDecoder``) so the Python layer can
swap backends, and it must give the same results: the same peaks, candidates and
people in the same order, keypoints and scores equal up to float rounding. Every
detail that can change a discrete decision or an order is reproduced exactly:

* float32 arithmetic where C uses float, in the same order of operations (no FMA
  contraction: Numba emits none without fastmath), float64 where C uses double;
  ``logf`` is the same libm function;
* the C decode entry points run with the x86 flush-to-zero and denormals-are-zero
  flags set (sort.c, pd_enter_flush_denormals), so a denormal reads as 0 and a
  result that would be one is 0, in every operation of the decode. The twin's decode
  sets the same MXCSR bits around its work (``_enter_flush_denormals``), so its
  arithmetic is C's bit for bit, and restores the caller's mode after; the bare
  kernels (``find_peaks``, ``linear_sum_assignment``, ``assign_limb``) run without
  the flags, as the C bindings do. (Where C has no MXCSR, neither does this.)
* the orderings (``pd_sort_candidates``: score desc, a asc, b asc), the greedy and
  optimal assignments (same union-find, component gathering, dense blocks and the
  same shortest augmenting path solver, so ties resolve identically) and assembly.

What differs is only the work done, never a result: limb scoring drops pairs that
surely fail with a support mask of its own (exact by construction: float64, a wider
margin, and skipped where noise marks most of the map; C's float32 mask is not exact
at extreme scales, see tests/test_parity.py), and the optimal assignment gathers
each component's candidates in one pass instead of rescanning the list.

Everything hot runs inside njit functions that release the GIL, one call per frame
or batch, which allocates its own workspace.
"""

from __future__ import annotations

import math
import platform
import threading

import numpy as np
import numba
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _params

__all__ = ["find_peaks", "linear_sum_assignment", "assign_limb", "CoreDecoder",
           "STAT_FIELDS"]

STAT_FIELDS = ("peaks", "candidates", "connections", "people")

PD_OK = 0
PD_ERR_ARGUMENT = -1
GREEDY = 0
HUNGARIAN = 1

_INT_MAX = 2**31 - 1

_F0 = np.float32(0.0)
_FHALF = np.float32(0.5)
_F2 = np.float32(2.0)
_FINF = np.float32(np.inf)
_TINY = np.float32(np.finfo(np.float32).tiny)
# PD_MIN_LIMB_LENGTH * PD_MIN_LIMB_LENGTH in float32, as scoring.c computes it.
_MIN_LENGTH2 = np.float32(np.float32(1e-3) * np.float32(1e-3))

# error_model="numpy": a float division by zero gives Inf or NaN, as in C, instead of
# raising ZeroDivisionError.
_jit = njit(nogil=True, cache=True, error_model="numpy")


# -- helpers ------------------------------------------------------------------------

# The C decode entry points set the x86 flush-to-zero and denormals-are-zero flags
# for the duration of a decode (sort.c, pd_enter_flush_denormals): a float32 or
# float64 denormal then reads as 0 and a result that would be one is 0, in every
# operation, logf included. The twin does the same with the same MXCSR bits, so its
# arithmetic is the C core's bit for bit. Elsewhere C leaves the mode alone, and so
# does this.
_HAVE_MXCSR = platform.machine().lower() in ("x86_64", "amd64")
_FLUSH_BITS = 0x8040  # FTZ (bit 15) and DAZ (bit 6)


def _mxcsr_call(builder, name, slot):
    fnty = ir.FunctionType(ir.VoidType(), [slot.type])
    builder.call(cgutils.get_or_insert_function(builder.module, fnty, name), [slot])


@intrinsic
def _get_fp_mode(typingctx):
    """The calling thread's MXCSR (0 where there is none)."""
    sig = types.uint32()

    def codegen(context, builder, signature, args):
        if not _HAVE_MXCSR:
            return ir.Constant(ir.IntType(32), 0)
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)

    return sig, codegen


@intrinsic
def _set_fp_mode(typingctx, value):
    """Sets the calling thread's MXCSR (nothing where there is none)."""
    sig = types.void(types.uint32)

    def codegen(context, builder, signature, args):
        if _HAVE_MXCSR:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return sig, codegen


@_jit
def _enter_flush_denormals():
    saved = _get_fp_mode()
    if _HAVE_MXCSR:
        _set_fp_mode(saved | np.uint32(_FLUSH_BITS))
    return saved


@_jit
def _leave_flush_denormals(saved):
    if _HAVE_MXCSR:
        _set_fp_mode(saved)


def _flush_denormal(value):
    """A float32 parameter as the flags make C read it (a denormal is 0)."""
    value = np.float32(value)
    return value * np.float32(0.0) if abs(value) < _TINY else value


@intrinsic
def _f32_pointer(typingctx, address):
    """An integer address as a float32 pointer (to view contiguous rows of an 'A'
    array as C arrays, whose loops vectorise)."""
    sig = types.CPointer(types.float32)(types.intp)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.float32)))

    return sig, codegen


@_jit
def _row(src, y):
    """Row y of a 2-D float32 array whose rows are contiguous, as a C array."""
    address = np.intp(src.ctypes.data) + np.intp(y) * np.intp(src.strides[0])
    return numba.carray(_f32_pointer(address), src.shape[1])


@_jit
def _finite_or_zero(v):
    return v if v - v == _F0 else _F0


@_jit
def _before(s1, a1, b1, s2, a2, b2):
    """pd_before: score descending, then a ascending, then b ascending."""
    if s1 != s2:
        return s1 > s2
    if a1 != a2:
        return a1 < a2
    return b1 < b2


@_jit
def _sift_down(s, a, b, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and _before(s[child], a[child], b[child],
                                     s[child + 1], a[child + 1], b[child + 1]):
            child += 1
        if not _before(s[root], a[root], b[root], s[child], a[child], b[child]):
            return
        ts, ta, tb = s[root], a[root], b[root]
        s[root], a[root], b[root] = s[child], a[child], b[child]
        s[child], a[child], b[child] = ts, ta, tb
        root = child


@_jit
def _sort_candidates(s, a, b, n):
    """pd_sort_candidates on parallel arrays (score float32, a, b int32), the same
    insertion sort / heapsort, so even a non-total order (NaN) sorts identically."""
    if n < 2:
        return
    if n <= 16:
        for i in range(1, n):
            si, ai, bi = s[i], a[i], b[i]
            j = i - 1
            while j >= 0 and _before(si, ai, bi, s[j], a[j], b[j]):
                s[j + 1], a[j + 1], b[j + 1] = s[j], a[j], b[j]
                j -= 1
            s[j + 1], a[j + 1], b[j + 1] = si, ai, bi
        return
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(s, a, b, i, n)
    for end in range(n - 1, 0, -1):
        ts, ta, tb = s[0], a[0], b[0]
        s[0], a[0], b[0] = s[end], a[end], b[end]
        s[end], a[end], b[end] = ts, ta, tb
        _sift_down(s, a, b, np.int64(0), end)


# -- peaks (peaks.c) ----------------------------------------------------------------

@_jit
def _fit_offset(left, centre, right):
    """pd_fit_offset, in float32."""
    ratio_l = left / centre
    ratio_r = right / centre
    num = _F0
    den = _F0
    if centre > _F0 and ratio_l > _F0 and ratio_r > _F0:
        ll = np.log(ratio_l)
        lr = np.log(ratio_r)
        num = ll - lr
        den = ll + lr
    else:
        num = left - right
        den = left - _F2 * centre + right
    if not (den < _F0):
        return _F0
    off = _FHALF * num / den
    if off > _FHALF:
        off = _FHALF
    if off < -_FHALF:
        off = -_FHALF
    return off


@_jit
def _window_bounds(x, y, radius, height, width):
    """The cells within `radius` of (x, y), clipped to the map: x0, x1, y0, y1
    inclusive."""
    return (max(x - radius, 0), min(x + radius, width - 1), max(y - radius, 0),
            min(y + radius, height - 1))


@_jit
def _plateau_is_maximum(plane, height, width, start, radius, v, visited, queue):
    head = 0
    tail = 0
    is_max = True
    visited[start] = 1
    queue[tail] = start
    tail += 1
    while head < tail:
        cell = queue[head]
        head += 1
        y = cell // width
        x = cell - y * width
        x0, x1, y0, y1 = _window_bounds(x, y, radius, height, width)
        for yy in range(y0, y1 + 1):
            row = yy * width
            for xx in range(x0, x1 + 1):
                idx = row + xx
                n = plane[idx]
                if n > v:
                    is_max = False
                if n == v and visited[idx] == 0:
                    visited[idx] = 1
                    queue[tail] = idx
                    tail += 1
    return is_max


@_jit
def _window_max(plane, row_max, window, height, width, radius):
    """The (2r+1) x (2r+1) window maximum of every cell, as two separable passes of
    clamped maxima (pd_window_max). Only comparisons: any order gives the same."""
    cells = height * width
    if radius == 1 and width >= 3 and height >= 3:
        # Long loops over shifted slices (no negative offsets), which LLVM
        # vectorises; the rows' and columns' ends are fixed after.
        n = cells - 2
        left = plane[:n]
        mid = plane[1:n + 1]
        right = plane[2:n + 2]
        out = row_max[1:n + 1]
        for i in range(n):
            a = left[i]
            b = mid[i]
            c = right[i]
            m = a if a > b else b
            out[i] = c if c > m else m
        for y in range(height):
            i = y * width
            a = plane[i]
            b = plane[i + 1]
            row_max[i] = a if a > b else b
            j = i + width - 1
            a = plane[j]
            b = plane[j - 1]
            row_max[j] = a if a > b else b
        n = cells - 2 * width
        up = row_max[:n]
        mid = row_max[width:width + n]
        down = row_max[2 * width:2 * width + n]
        out = window[width:width + n]
        for i in range(n):
            a = up[i]
            b = mid[i]
            c = down[i]
            m = a if a > b else b
            out[i] = c if c > m else m
        for x in range(width):
            top = x
            bottom = (height - 1) * width + x
            a = row_max[top]
            b = row_max[top + width]
            window[top] = a if a > b else b
            a = row_max[bottom]
            b = row_max[bottom - width]
            window[bottom] = a if a > b else b
        return
    for y in range(height):
        base = y * width
        for x in range(width):
            lo = max(x - radius, 0)
            hi = min(x + radius, width - 1)
            m = plane[base + lo]
            for j in range(lo + 1, hi + 1):
                c = plane[base + j]
                m = c if c > m else m
            row_max[base + x] = m
    for y in range(height):
        lo = max(y - radius, 0)
        hi = min(y + radius, height - 1)
        for x in range(width):
            m = row_max[lo * width + x]
            for j in range(lo + 1, hi + 1):
                c = row_max[j * width + x]
                m = c if c > m else m
            window[y * width + x] = m


@_jit
def _has_equal_neighbour(plane, height, width, x, y, radius, v):
    x0, x1, y0, y1 = _window_bounds(x, y, radius, height, width)
    for yy in range(y0, y1 + 1):
        row = yy * width
        for xx in range(x0, x1 + 1):
            if plane[row + xx] == v and (yy != y or xx != x):
                return True
    return False


@_jit
def _is_supported(plane, height, width, x, y, support):
    """pd_is_supported: the 1-2-1 weighted 3x3 mean around (x, y) exceeds `support`,
    summed in float32 in C's order."""
    total = _F0
    weight = _F0
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
    return total > support * weight


@_jit
def _copy_plane(src, height, width, plane):
    """The sanitised contiguous plane: non-finite values read as 0."""
    contiguous_rows = src.strides[1] == 4
    for y in range(height):
        out = plane[y * width:(y + 1) * width]
        if contiguous_rows:
            row = _row(src, y)
            for x in range(width):
                v = row[x]
                out[x] = v if v - v == _F0 else _F0
        else:
            for x in range(width):
                v = src[y, x]
                out[x] = v if v - v == _F0 else _F0


_DIR_X = np.array([1, -1, 0, 0, 1, -1, 1, -1], np.int64)
_DIR_Y = np.array([0, 0, 1, -1, 1, -1, -1, 1], np.int64)


@_jit
def _split_merged(plane, height, width, threshold, margin, f_val, f_idx, f_b, num, marks,
                  curvature):
    """pd_split_merged: appends to f_idx (raster order so far) the cells of peaks
    hidden next to the peaks found, with f_b 1 + the direction from their peak;
    returns the new count and the channel's squared width. `curvature` holds
    2 * num floats."""
    m = 0
    for i in range(num):
        idx = f_idx[i]
        y = idx // width
        x = idx - y * width
        v = plane[idx]
        if not v > _F0:
            continue
        if x > 0 and x < width - 1 and plane[idx - 1] > _F0 and plane[idx + 1] > _F0:
            c = np.log(plane[idx - 1]) - _F2 * np.log(v) + np.log(plane[idx + 1])
            if c < _F0:
                curvature[m] = c
                m += 1
        if y > 0 and y < height - 1 and plane[idx - width] > _F0 and plane[idx + width] > _F0:
            c = np.log(plane[idx - width]) - _F2 * np.log(v) + np.log(plane[idx + width])
            if c < _F0:
                curvature[m] = c
                m += 1
    if m == 0:
        return num, _F0
    ranked = np.sort(curvature[:m])  # ascending: C's descending median is m - 1 - m // 2
    sigma2 = np.float32(-1.0) / ranked[m - 1 - m // 2]
    marks[:height * width] = 0
    for i in range(num):
        marks[f_idx[i]] = 1
    primaries = num
    for i in range(primaries):
        idx = f_idx[i]
        cy = idx // width
        cx = idx - cy * width
        v = plane[idx]
        if not v > _F0:
            continue
        log_v = np.log(v)
        for d in range(8):
            dx = _DIR_X[d]
            dy = _DIR_Y[d]
            nx = cx + dx
            ny = cy + dy
            ox = cx - dx
            oy = cy - dy
            if nx < 0 or nx >= width or ny < 0 or ny >= height or ox < 0 or ox >= width \
                    or oy < 0 or oy >= height:
                continue
            n = ny * width + nx
            hn = plane[n]
            ho = plane[oy * width + ox]
            if marks[n] != 0 or not hn > threshold or not hn > _F0 or not ho > _F0:
                continue
            step2 = np.float32(dx * dx + dy * dy)
            excess = np.log(hn) + np.log(ho) - _F2 * log_v + step2 / sigma2
            if not (hn >= ho) or not (excess >= margin):
                continue
            top = True
            for e in range(8):
                qx = nx + _DIR_X[e]
                qy = ny + _DIR_Y[e]
                if qx < 0 or qx >= width or qy < 0 or qy >= height:
                    continue
                if qx == cx and qy == cy:
                    continue
                if plane[qy * width + qx] > hn:
                    top = False
                    break
            if not top:
                continue
            marks[n] = 1
            f_idx[num] = n
            f_val[num] = hn
            f_b[num] = 1 + d
            num += 1
    return num, sigma2


@_jit
def _fit_far_side(plane, idx, step, inside, v, sigma2):
    """pd_fit_far_side: a Gaussian's offset from its neighbour `step` cells away."""
    if not inside or not v > _F0 or not plane[idx + step] > _F0:
        return _F0
    half = np.float32(0.5)
    t = half - sigma2 * (np.log(v) - np.log(plane[idx + step]))
    if t > half:
        t = half
    if t < -half:
        t = -half
    return t if step > 0 else -t


@_jit
def _find_peaks_core(src, height, width, threshold, radius, max_peaks, split_margin,
                     peak_support, plane, row_max, window, visited, queue, f_val, f_idx, f_b,
                     out_x, out_y, out_v):
    """pd_find_peaks on one (H, W) view of any strides. Returns the number kept."""
    _copy_plane(src, height, width, plane)
    _window_max(plane, row_max, window, height, width, radius)
    cells = height * width
    num = 0
    marks_clean = False
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
            y = idx // width
            x = idx - y * width
            if _has_equal_neighbour(plane, height, width, x, y, radius, v):
                if not marks_clean:
                    visited[:cells] = 0
                    marks_clean = True
                if visited[idx] != 0:
                    continue
                if not _plateau_is_maximum(plane, height, width, idx, radius, v, visited,
                                           queue):
                    continue
            if peak_support > _F0 and not _is_supported(plane, height, width, x, y,
                                                        peak_support):
                continue
            f_val[num] = v
            f_idx[num] = idx
            f_b[num] = 0
            num += 1
    sigma2 = _F0
    if split_margin > _F0 and num > 0:
        num, sigma2 = _split_merged(plane, height, width, threshold, split_margin, f_val,
                                    f_idx, f_b, num, visited, row_max)
    # Value descending, ties by cell: C's order, stable or not.
    _sort_candidates(f_val, f_idx, f_b, num)
    kept = num if num < max_peaks else max_peaks
    for i in range(kept):
        idx = f_idx[i]
        y = idx // width
        x = idx - y * width
        v = f_val[i]
        dx = _F0
        dy = _F0
        # A split peak is fitted from the far side along axes toward its peak.
        away_x = 0
        away_y = 0
        if f_b[i] > 0:
            away_x = _DIR_X[f_b[i] - 1]
            away_y = _DIR_Y[f_b[i] - 1]
        if away_x != 0:
            dx = _fit_far_side(plane, idx, away_x, 0 <= x + away_x < width, v, sigma2)
        elif x > 0 and x < width - 1:
            dx = _fit_offset(plane[idx - 1], v, plane[idx + 1])
        if away_y != 0:
            dy = _fit_far_side(plane, idx, away_y * width, 0 <= y + away_y < height, v, sigma2)
        elif y > 0 and y < height - 1:
            dy = _fit_offset(plane[idx - width], v, plane[idx + width])
        out_x[i] = np.float32(x) + dx
        out_y[i] = np.float32(y) + dy
        out_v[i] = v
    return kept


@_jit
def _peak_buffers(cells):
    """Scratch for _find_peaks_core over a map of `cells` cells: the clean plane, row
    and window maxima, visited marks, the flood queue, and the local maxima found."""
    return (np.empty(cells, np.float32), np.empty(cells, np.float32),
            np.empty(cells, np.float32), np.empty(cells, np.uint8), np.empty(cells, np.int32),
            np.empty(cells, np.float32), np.empty(cells, np.int32), np.empty(cells, np.int32))


@_jit
def _find_peaks_entry(heatmap, threshold, radius, max_peaks, split_margin, peak_support):
    height, width = heatmap.shape
    if radius < 1 or max_peaks < 0 or height * width > _INT_MAX // 2 or \
            not (threshold == threshold) or not (peak_support >= _F0) or \
            not (peak_support < _FINF):
        return PD_ERR_ARGUMENT, np.zeros((0, 3), np.float32)
    cells = height * width
    plane, row_max, window, visited, queue, f_val, f_idx, f_b = _peak_buffers(cells)
    out = np.empty((3, max_peaks), np.float32)
    n = _find_peaks_core(heatmap, height, width, threshold, radius, max_peaks, split_margin,
                         peak_support, plane, row_max, window, visited, queue, f_val, f_idx, f_b,
                         out[0], out[1], out[2])
    result = np.empty((n, 3), np.float32)
    for i in range(n):
        result[i, 0] = out[0, i]
        result[i, 1] = out[1, i]
        result[i, 2] = out[2, i]
    return PD_OK, result


# -- limb scoring (scoring.c) ---------------------------------------------------------

@_jit
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


@_jit
def _lerp2(v00, v01, v10, v11, fx, fy):
    """The interpolation of pd_bilinear, in float32."""
    top = v00 + (v01 - v00) * fx
    bottom = v10 + (v11 - v10) * fx
    return top + (bottom - top) * fy


@_jit
def _cell(x, y, height, width):
    """pd_bilinear's clamps and corners: x0, x1, y0, y1, fx, fy."""
    if x < _F0:
        x = _F0
    if y < _F0:
        y = _F0
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


@_jit
def _dot_strided(fx, fy, height, width, px, py, ux, uy):
    """One sample's dot product, reading the PAF views (any strides)."""
    x0, x1, y0, y1, wx, wy = _cell(px, py, height, width)
    vx = _lerp2(fx[y0, x0], fx[y0, x1], fx[y1, x0], fx[y1, x1], wx, wy)
    vy = _lerp2(fy[y0, x0], fy[y0, x1], fy[y1, x0], fy[y1, x1], wx, wy)
    return _finite_or_zero(vx * ux + vy * uy)


@_jit
def _dot_flat(gx, gy, height, width, px, py, ux, uy):
    """The same from flat C planes gx, gy (the fields or copies of them)."""
    x0, x1, y0, y1, wx, wy = _cell(px, py, height, width)
    r0 = y0 * width
    r1 = y1 * width
    vx = _lerp2(gx[r0 + x0], gx[r0 + x1], gx[r1 + x0], gx[r1 + x1], wx, wy)
    vy = _lerp2(gy[r0 + x0], gy[r0 + x1], gy[r1 + x0], gy[r1 + x1], wx, wy)
    return _finite_or_zero(vx * ux + vy * uy)


@_jit
def _flat_plane(src):
    """A 2-D float32 array that is C-contiguous (a channel of a CHW array) as a flat
    C array over the same memory."""
    return numba.carray(_f32_pointer(np.intp(src.ctypes.data)), src.shape[0] * src.shape[1])


@_jit
def _is_c_plane(src):
    return src.strides[1] == 4 and src.strides[0] == 4 * src.shape[1]


@_jit
def _copy_raw(src, height, width, out):
    """A 2-D view of any strides copied as it is into a flat C array."""
    for y in range(height):
        row = out[y * width:(y + 1) * width]
        if src.strides[1] == 4:
            srow = _row(src, y)
            for x in range(width):
                row[x] = srow[x]
        else:
            for x in range(width):
                row[x] = src[y, x]


@_jit
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


@_jit
def _score_pair(fx, fy, gx, gy, flat, height, width, x0, y0, dx, dy, length2, order, t, n,
                max_failures, threshold, dots):
    """pd_score_pair: the exact score of a pair, or -1 when it is no candidate.
    Reads the contiguous copies gx, gy when `flat`, else the views fx, fy."""
    length = np.sqrt(length2)
    ux = dx / length
    uy = dy / length
    failures = 0
    for s in range(n):
        k = order[s]
        px = x0 + dx * t[k]
        py = y0 + dy * t[k]
        if flat:
            dot = _dot_flat(gx, gy, height, width, px, py, ux, uy)
        else:
            dot = _dot_strided(fx, fy, height, width, px, py, ux, uy)
        dots[k] = np.float64(dot)
        if not (dot > threshold):
            failures += 1
            if failures > max_failures:
                return -1.0
    total = 0.0
    for k in range(n):
        total += dots[k]
    prior = 0.5 * np.float64(height) / np.float64(length) - 1.0
    score = total / n + (prior if prior < 0.0 else 0.0)
    return score if score > 0.0 else -1.0


@_jit
def _sure_slack2(threshold, margin):
    """pd_sure_slack2 in float64: the squared slack below the threshold under
    which an end sample's dot product fails for sure, or -1 when none is known."""
    slack = np.float64(threshold) - margin
    return slack * slack * (1.0 - 1e-5) if slack > 0.0 else -1.0


@_jit
def _end_fields(gx, gy, height, width, bx, by, nb, threshold, vb_x, vb_y, slack2_b):
    """The field at each b, and the slack under which the last sample of a pair
    ending at b fails for sure. That sample lands on b only up to the rounding of
    a + (b - a), a couple of ulps of the larger coordinate; while it stays in b's
    square, the sum of its corners' |vx| + |vy| bounds how far the field moves."""
    reach = 2.5e-7 * max(height, width)
    for j in range(nb):
        x0, x1, y0, y1, wx, wy = _cell(bx[j], by[j], height, width)
        r0 = y0 * width
        r1 = y1 * width
        vb_x[j] = _lerp2(gx[r0 + x0], gx[r0 + x1], gx[r1 + x0], gx[r1 + x1], wx, wy)
        vb_y[j] = _lerp2(gy[r0 + x0], gy[r0 + x1], gy[r1 + x0], gy[r1 + x1], wx, wy)
        bound = 0.0
        for o in (r0 + x0, r0 + x1, r1 + x0, r1 + x1):
            bound += abs(np.float64(gx[o])) + abs(np.float64(gy[o]))
        fx = np.float64(bx[j]) - np.floor(np.float64(bx[j]))
        fy = np.float64(by[j]) - np.floor(np.float64(by[j]))
        inside = reach < fx < 1.0 - reach and reach < fy < 1.0 - reach
        if inside and bound < np.inf:
            slack2_b[j] = _sure_slack2(threshold, bound * (8.0 * reach + 1e-4))
        else:
            slack2_b[j] = -1.0


_BATCH = 256  # pairs scored together, as in scoring.c


@_jit
def _score_batch(gx, gy, height, width, count, bi, bf, bdots, order, t, n, max_failures,
                 threshold, c_s, c_a, c_b, out):
    """pd_score_batch: scores the `count` pairs batched in bi (rows a, b, slot,
    failures) and bf (rows x0, y0, dx, dy, ux, uy) from all n samples, taken
    sample-major across the batch, and writes the candidates from index `out` on.
    Returns how many it wrote."""
    a, b, slot, failures = bi[0], bi[1], bi[2], bi[3]
    x0, y0, dx, dy, ux, uy = bf[0], bf[1], bf[2], bf[3], bf[4], bf[5]
    for q in range(count):
        length = np.sqrt(dx[q] * dx[q] + dy[q] * dy[q])
        ux[q] = dx[q] / length
        uy[q] = dy[q] / length
        slot[q] = q
        failures[q] = 0
    live = count
    s0 = 0
    while s0 < n and live > 0:
        s1 = min(s0 + 3, n)
        for s in range(s0, s1):
            k = order[s]
            tk = t[k]
            dots_k = bdots[k]
            for q in range(live):
                dot = _dot_flat(gx, gy, height, width, x0[q] + dx[q] * tk, y0[q] + dy[q] * tk,
                                ux[q], uy[q])
                dots_k[slot[q]] = dot
                failures[q] += np.int64(not (dot > threshold))
        kept = 0
        for q in range(live):
            a[kept] = a[q]
            b[kept] = b[q]
            slot[kept] = slot[q]
            failures[kept] = failures[q]
            x0[kept] = x0[q]
            y0[kept] = y0[q]
            dx[kept] = dx[q]
            dy[kept] = dy[q]
            ux[kept] = ux[q]
            uy[kept] = uy[q]
            kept += np.int64(failures[q] <= max_failures)
        live = kept
        s0 = s1
    written = 0
    for q in range(live):
        r = slot[q]
        total = 0.0
        for k in range(n):
            total += np.float64(bdots[k, r])
        length = np.sqrt(dx[q] * dx[q] + dy[q] * dy[q])
        prior = 0.5 * np.float64(height) / np.float64(length) - 1.0
        score = total / n + (prior if prior < 0.0 else 0.0)
        if not score > 0.0:
            continue
        c_a[out + written] = a[q]
        c_b[out + written] = b[q]
        c_s[out + written] = np.float32(score)
        written += 1
    return written


@_jit
def _score_limb(fx, fy, height, width, ax, ay, na, bx, by, nb, n, min_inliers, threshold,
                max_length, order, t, t_order, dots, mask, gx, gy, rel_x, rel_y, misses,
                alive, cell, vb_x, vb_y, slack2_b, bi, bf, bdots, c_s, c_a, c_b):
    """pd_score_limb: candidates (c_s, c_a, c_b) sorted, returns their count.
    t_order[s] = t[order[s]]; rel_x, rel_y, misses, alive, cell, vb_x, vb_y,
    slack2_b hold nb items; bi, bf, bdots are _score_batch's buffers."""
    max_failures = n - min_inliers
    max_length2 = max_length * max_length if max_length > _F0 else _FINF
    # The mask only skips work; it pays when there are many pairs.
    use_mask = threshold >= _F0 and na * nb * 32 > height * width
    # Samples are read from flat planes: the fields themselves when each channel
    # is C-contiguous (CHW), else copies when there are many pairs to score.
    flat = True
    if _is_c_plane(fx) and _is_c_plane(fy):
        gx = _flat_plane(fx)
        gy = _flat_plane(fy)
    elif use_mask:
        _copy_raw(fx, height, width, gx)
        _copy_raw(fy, height, width, gy)
    else:
        flat = False
    prefilter = False
    if use_mask:
        marked = _support_mask(gx, gy, height, width, threshold, mask)
        # Where noise marks most squares the prefilter rejects next to nothing:
        # it is skipped (C runs it anyway).
        prefilter = marked * 4 < height * width * 3
    if prefilter:
        _end_fields(gx, gy, height, width, bx, by, nb, threshold, vb_x, vb_y, slack2_b)
    # Unsigned cell arithmetic: no negative-index handling in the hot loop, and a
    # clamp that also catches what cannot happen (endpoints are inside the map).
    wmax = np.uint32(width - 1)
    hmax = np.uint32(height - 1)
    uwidth = np.uint32(width)
    count = 0
    batched = 0
    for i in range(na):
        x0 = ax[i]
        y0 = ay[i]
        if prefilter:
            # The first sample is a itself: only the rounding of the dot product
            # needs a margin. Non-finite fields read as 0 there: always a miss.
            x_0, x_1, y_0, y_1, wx, wy = _cell(x0, y0, height, width)
            r0 = y_0 * width
            r1 = y_1 * width
            va_x = np.float64(_lerp2(gx[r0 + x_0], gx[r0 + x_1], gx[r1 + x_0], gx[r1 + x_1],
                                     wx, wy))
            va_y = np.float64(_lerp2(gy[r0 + x_0], gy[r0 + x_1], gy[r1 + x_0], gy[r1 + x_1],
                                     wx, wy))
            size = abs(va_x) + abs(va_y)
            slack2_a = _sure_slack2(threshold, 1e-4 * size)
            if not size < np.inf:
                va_x = 0.0
                va_y = 0.0
                slack2_a = 0.0
        if prefilter:
            # Dense first, as in scoring.c: the end samples sit on a and b, and a
            # dot product v.d below slack * |d| fails whatever the rounding of
            # the exact path. Bitwise, not short-circuit, so the loop vectorises.
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
            # Pairs too short or too long are dropped; the live pairs' data are
            # compacted into live order.
            live = 0
            for j in range(nb):
                rel_x[live] = rel_x[j]
                rel_y[live] = rel_y[j]
                misses[live] = misses[j]
                alive[live] = j
                live += cell[j]
            # The other samples fail for sure in unsupported squares: count them
            # for all pairs still alive, three samples a pass, and drop the
            # pairs with too many, without interpolating anything.
            s0 = 0
            while s0 < n and live > 0:
                s1 = min(s0 + 3, n)
                for s in range(s0, s1):
                    if order[s] == 0 or order[s] == n - 1:
                        continue  # counted above
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
        else:
            # Pairs too short or too long are dropped before anything else.
            live = 0
            for j in range(nb):
                dx = bx[j] - x0
                dy = by[j] - y0
                length2 = dx * dx + dy * dy
                rel_x[live] = dx
                rel_y[live] = dy
                alive[live] = j
                live += np.int64(length2 >= _MIN_LENGTH2) & np.int64(length2 <= max_length2)
        for q in range(live):
            j = alive[q]
            dx = rel_x[q]
            dy = rel_y[q]
            if flat:
                # Batched across a, in (a, b) order, as scoring.c does.
                if batched == _BATCH:
                    count += _score_batch(gx, gy, height, width, batched, bi, bf, bdots, order,
                                          t, n, max_failures, threshold, c_s, c_a, c_b, count)
                    batched = 0
                bi[0, batched] = i
                bi[1, batched] = j
                bf[0, batched] = x0
                bf[1, batched] = y0
                bf[2, batched] = dx
                bf[3, batched] = dy
                batched += 1
                continue
            score = _score_pair(fx, fy, gx, gy, flat, height, width, x0, y0, dx, dy,
                                dx * dx + dy * dy, order, t, n, max_failures, threshold,
                                dots)
            if score < 0.0:
                continue
            c_a[count] = i
            c_b[count] = j
            c_s[count] = np.float32(score)
            count += 1
    if batched > 0:
        count += _score_batch(gx, gy, height, width, batched, bi, bf, bdots, order, t, n,
                              max_failures, threshold, c_s, c_a, c_b, count)
    _sort_candidates(c_s, c_a, c_b, count)
    return count


# -- assignment (assignment.c) --------------------------------------------------------

@_jit
def _lsa(cost, rows, cols, ld, col_of_row, u, v, minv, p, way, used):
    """pd_linear_sum_assignment on a flat row-major float64 cost with row stride ld."""
    for i in range(rows):
        col_of_row[i] = -1
    if rows == 0 or cols == 0:
        return PD_OK
    transposed = rows > cols
    n = cols if transposed else rows
    m = rows if transposed else cols
    for i in range(n + 1):
        u[i] = 0.0
    for j in range(m + 1):
        v[j] = 0.0
        p[j] = 0
        way[j] = 0
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        for j in range(m + 1):
            minv[j] = np.inf
            used[j] = 0
        while True:
            used[j0] = 1
            i0 = p[j0]
            j1 = 0
            delta = np.inf
            for j in range(1, m + 1):
                if used[j] != 0:
                    continue
                if transposed:
                    a = cost[(j - 1) * ld + (i0 - 1)]
                else:
                    a = cost[(i0 - 1) * ld + (j - 1)]
                cur = a - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j] = cur
                    way[j] = j0
                if minv[j] < delta:
                    delta = minv[j]
                    j1 = j
            if j1 == 0:
                return PD_ERR_ARGUMENT
            for j in range(m + 1):
                if used[j] != 0:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    for j in range(1, m + 1):
        if p[j] == 0:
            continue
        if transposed:
            col_of_row[j - 1] = p[j] - 1
        else:
            col_of_row[p[j] - 1] = j - 1
    return PD_OK


@_jit
def _lsa_buffers(rows, cols):
    n = min(rows, cols) + 1
    m = max(rows, cols) + 1
    return (np.empty(n, np.float64), np.empty(m, np.float64), np.empty(m, np.float64),
            np.empty(m, np.int32), np.empty(m, np.int32), np.empty(m, np.uint8))


@_jit
def _lsa_entry(cost):
    rows, cols = cost.shape
    col_of_row = np.full(rows, -1, np.int32)
    if rows == 0 or cols == 0:
        return PD_OK, col_of_row
    dense = np.empty(rows * cols, np.float64)
    for i in range(rows):
        for j in range(cols):
            dense[i * cols + j] = cost[i, j]
    u, v, minv, p, way, used = _lsa_buffers(rows, cols)
    rc = _lsa(dense, rows, cols, cols, col_of_row, u, v, minv, p, way, used)
    return rc, col_of_row


@_jit
def _find_root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@_jit
def _assign_greedy(c_s, c_a, c_b, num, na, nb, o_s, o_a, o_b, used_a, used_b):
    limit = na if na < nb else nb
    count = 0
    for i in range(na):
        used_a[i] = 0
    for j in range(nb):
        used_b[j] = 0
    for c in range(num):
        if count >= limit:
            break
        a = c_a[c]
        b = c_b[c]
        if used_a[a] != 0 or used_b[b] != 0:
            continue
        used_a[a] = 1
        used_b[b] = 1
        o_s[count] = c_s[c]
        o_a[count] = a
        o_b[count] = b
        count += 1
    return count


@_jit
def _assign_optimal(c_s, c_a, c_b, num, na, nb, o_s, o_a, o_b, parent, member_of, local,
                    comp_rows, comp_cols, block, solution, lsa_ws, root_of, next_of, head):
    """pd_assign_optimal. The components, their order (by first candidate), the
    first-seen order of their rows and columns and their blocks are C's; only the
    gathering is linear: each candidate's root is found once and the candidates of
    a component are chained in increasing order, where C rescans the list from the
    component's first candidate. root_of, next_of hold num items, head na + nb."""
    u, v, minv, p, way, used = lsa_ws
    nodes = na + nb
    for i in range(nodes):
        parent[i] = i
        member_of[i] = -1
        head[i] = -1
    for c in range(num):
        ra = _find_root(parent, np.int64(c_a[c]))
        rb = _find_root(parent, na + c_b[c])
        if ra != rb:
            parent[ra] = rb
    for c in range(num):
        root_of[c] = _find_root(parent, np.int64(c_a[c]))
    for c in range(num - 1, -1, -1):
        r = root_of[c]
        next_of[c] = head[r]
        head[r] = c
    count = 0
    for c0 in range(num):
        root = root_of[c0]
        if head[root] != c0:
            continue  # not the component's first candidate: already solved
        rows = 0
        cols = 0
        c = c0
        while c >= 0:
            a = c_a[c]
            b = na + c_b[c]
            if member_of[a] != root:
                member_of[a] = root
                local[a] = rows
                comp_rows[rows] = c_a[c]
                rows += 1
            if member_of[b] != root:
                member_of[b] = root
                local[b] = cols
                comp_cols[cols] = c_b[c]
                cols += 1
            c = next_of[c]
        if rows == 1 or cols == 1:
            o_s[count] = c_s[c0]
            o_a[count] = c_a[c0]
            o_b[count] = c_b[c0]
            count += 1
            continue
        for k in range(rows * cols):
            block[k] = 0.0
        c = c0
        while c >= 0:
            block[local[c_a[c]] * cols + local[na + c_b[c]]] = -np.float64(c_s[c])
            c = next_of[c]
        rc = _lsa(block, rows, cols, cols, solution, u, v, minv, p, way, used)
        if rc != PD_OK:
            return rc
        for r in range(rows):
            col = solution[r]
            if col < 0 or block[r * cols + col] == 0.0:
                continue
            o_a[count] = comp_rows[r]
            o_b[count] = comp_cols[col]
            o_s[count] = np.float32(-block[r * cols + col])
            count += 1
    _sort_candidates(o_s, o_a, o_b, count)
    return count


@_jit
def _assign_entry(a, b, score, na, nb, mode):
    n = a.shape[0]
    c_s = np.empty(n, np.float32)
    c_a = np.empty(n, np.int32)
    c_b = np.empty(n, np.int32)
    for i in range(n):
        c_s[i] = score[i]
        c_a[i] = a[i]
        c_b[i] = b[i]
    _sort_candidates(c_s, c_a, c_b, n)
    o_s = np.empty(n, np.float32)
    o_a = np.empty(n, np.int32)
    o_b = np.empty(n, np.int32)
    m = 0
    if n > 0:
        if mode == GREEDY:
            m = _assign_greedy(c_s, c_a, c_b, n, na, nb, o_s, o_a, o_b,
                               np.empty(na, np.uint8), np.empty(nb, np.uint8))
        else:
            nodes = na + nb
            m = _assign_optimal(c_s, c_a, c_b, n, na, nb, o_s, o_a, o_b,
                                np.empty(nodes, np.int32), np.empty(nodes, np.int32),
                                np.empty(nodes, np.int32), np.empty(na, np.int32),
                                np.empty(nb, np.int32), np.empty(na * nb, np.float64),
                                np.empty(max(na, nb), np.int32), _lsa_buffers(na, nb),
                                np.empty(n, np.int32), np.empty(n, np.int32),
                                np.empty(nodes, np.int32))
    if m < 0:
        return m, np.zeros((0, 3), np.float64)
    result = np.empty((m, 3), np.float64)
    for i in range(m):
        result[i, 0] = o_a[i]
        result[i, 1] = o_b[i]
        result[i, 2] = o_s[i]
    return m, result


# -- assembly (assembly.c) --------------------------------------------------------------

@_jit
def _person_take(slots, owner, co_owner, keypoints, evidence, K, p, k, g, value):
    slots[p * K + k] = g
    if owner[g] < 0:
        owner[g] = p
    else:
        co_owner[g] = p
    keypoints[p] += 1
    evidence[p] += np.float64(value)


@_jit
def _holder_lacking(slots, owner, co_owner, K, g, k):
    """pd_holder_lacking: the first holder of peak g without a keypoint of type k."""
    h = owner[g]
    if h >= 0 and slots[h * K + k] < 0:
        return h
    h = co_owner[g]
    if h >= 0 and slots[h * K + k] < 0:
        return h
    return -1


@_jit
def _person_attach(slots, owner, co_owner, keypoints, connections, evidence, K, p, k, g,
                   value, score):
    _person_take(slots, owner, co_owner, keypoints, evidence, K, p, k, g, value)
    connections[p] += 1
    evidence[p] += np.float64(score)


@_jit
def _people_connect(slots, keypoints, connections, evidence, owner, co_owner, count, capacity,
                    K, ka, kb, ga, gb, value_a, value_b, score, redundant):
    """pd_people_connect; returns the new person count."""
    pa = owner[ga]
    pb = owner[gb]
    if pa < 0 and pb < 0:
        if redundant or count >= capacity:
            return count
        p = count
        count += 1
        for k in range(K):
            slots[p * K + k] = -1
        keypoints[p] = 0
        connections[p] = 1
        evidence[p] = np.float64(score)
        _person_take(slots, owner, co_owner, keypoints, evidence, K, p, ka, ga, value_a)
        _person_take(slots, owner, co_owner, keypoints, evidence, K, p, kb, gb, value_b)
        return count
    if pa >= 0 and pb < 0:
        h = _holder_lacking(slots, owner, co_owner, K, ga, kb)
        if h >= 0:
            _person_attach(slots, owner, co_owner, keypoints, connections, evidence, K, h, kb,
                           gb, value_b, score)
        return count
    if pa < 0 and pb >= 0:
        h = _holder_lacking(slots, owner, co_owner, K, gb, ka)
        if h >= 0:
            _person_attach(slots, owner, co_owner, keypoints, connections, evidence, K, h, ka,
                           ga, value_a, score)
        return count
    ca = co_owner[ga]
    cb = co_owner[gb]
    both = -1
    if pa == pb or pa == cb:
        both = pa
    elif ca >= 0 and (ca == pb or ca == cb):
        both = ca
    if both >= 0:
        connections[both] += 1
        evidence[both] += np.float64(score)
        return count
    into = pa * K
    frm = pb * K
    for k in range(K):
        if slots[into + k] >= 0 and slots[frm + k] >= 0:
            return count
    for k in range(K):
        g = slots[frm + k]
        if g < 0:
            continue
        slots[into + k] = g
        if owner[g] == pb:
            owner[g] = pa
        else:
            co_owner[g] = pa
        slots[frm + k] = -1
    keypoints[pa] += keypoints[pb]
    connections[pa] += connections[pb] + 1
    evidence[pa] += evidence[pb] + np.float64(score)
    keypoints[pb] = 0
    connections[pb] = 0
    evidence[pb] = 0.0
    return count


@_jit
def _room(c_s, c_a, c_b, root_of, next_of, need):
    """The candidate arrays, grown to hold `need` items."""
    if need <= c_s.shape[0]:
        return c_s, c_a, c_b, root_of, next_of
    return (np.empty(need, np.float32), np.empty(need, np.int32), np.empty(need, np.int32),
            np.empty(need, np.int32), np.empty(need, np.int32))


@_jit
def _limb_candidates(pf, limb_paf, l, height, width, peak_x, peak_y, oa, na, ob, nb, scoring,
                     c_s, c_a, c_b):
    """Limb l's candidates into (c_s, c_a, c_b), best first, capped at max_candidates;
    `scoring` holds _score_limb's settings and scratch."""
    (n, min_inliers, paf_threshold, max_length, max_candidates, order, t, t_order, dots, mask,
     gx, gy, rel_x, rel_y, misses, alive, cell, vb_x, vb_y, slack2_b, bi, bf, bdots) = scoring
    nc = _score_limb(pf[limb_paf[l, 0]], pf[limb_paf[l, 1]], height, width,
                     peak_x[oa:oa + na], peak_y[oa:oa + na], na, peak_x[ob:ob + nb],
                     peak_y[ob:ob + nb], nb, n, min_inliers, paf_threshold, max_length, order,
                     t, t_order, dots, mask, gx, gy, rel_x, rel_y, misses, alive, cell, vb_x,
                     vb_y, slack2_b, bi, bf, bdots, c_s, c_a, c_b)
    return min(nc, max_candidates)


@_jit
def _limb_span(limb_kp, peak_count, mp, l):
    """Limb l's keypoint types, their peak counts and where their peaks start."""
    ka = limb_kp[l, 0]
    kb = limb_kp[l, 1]
    return ka, kb, peak_count[ka], peak_count[kb], ka * mp, kb * mp


@_jit
def _best_candidates(c_s, c_a, c_b, nc, na, nb, ba_s, ba_b, bb_s, bb_a):
    """pd_best_candidates: for each a its best candidate's score and b (ba_s, ba_b),
    for each b its best's score and a (bb_s, bb_a); score -1 where none."""
    for a in range(na):
        ba_s[a] = -1.0
    for b in range(nb):
        bb_s[b] = -1.0
    for c in range(nc - 1, -1, -1):
        a = c_a[c]
        b = c_b[c]
        ba_s[a] = c_s[c]
        ba_b[a] = b
        bb_s[b] = c_s[c]
        bb_a[b] = a


@_jit
def _people_share(slots, keypoints, connections, evidence, owner, co_owner, K, kb, oa, ob,
                  ba_s, ba_b, na, bb_s, bb_a, nb, peak_v, min_score):
    """pd_people_share from each end's best candidate (_best_candidates)."""
    for b in range(nb):
        score = bb_s[b]
        if not (score >= min_score):
            continue
        ga = oa + bb_a[b]
        gb = ob + b
        if owner[gb] >= 0:
            continue
        h = _holder_lacking(slots, owner, co_owner, K, ga, kb)
        if h >= 0:
            _person_attach(slots, owner, co_owner, keypoints, connections, evidence, K, h, kb,
                           gb, peak_v[gb], score)
    for a in range(na):
        score = ba_s[a]
        if not (score >= min_score):
            continue
        ga = oa + a
        gb = ob + ba_b[a]
        if owner[gb] < 0:
            continue
        for which in range(2):
            h = owner[ga] if which == 0 else co_owner[ga]
            if h < 0 or co_owner[gb] >= 0:
                continue
            if slots[h * K + kb] >= 0:
                continue
            _person_attach(slots, owner, co_owner, keypoints, connections, evidence, K, h, kb,
                           gb, peak_v[gb], score)


@_jit
def _people_emit(slots, keypoints, connections, evidence, count, K, peak_x, peak_y, peak_v,
                 min_keypoints, min_score, stride, o_s, o_a, o_b, out_kp, out_sc):
    kept = 0
    for p in range(count):
        n = keypoints[p]
        if n == 0 or n < min_keypoints:
            continue
        mean = evidence[p] / np.float64(n + connections[p])
        if mean < min_score:
            continue
        o_a[kept] = p
        o_b[kept] = 0
        o_s[kept] = np.float32(mean * np.float64(n) / np.float64(K))
        kept += 1
    _sort_candidates(o_s, o_a, o_b, kept)
    shift = _FHALF * stride - _FHALF
    for i in range(kept):
        base = o_a[i] * K
        for k in range(K):
            g = slots[base + k]
            if g < 0:
                out_kp[i, k, 0] = _F0
                out_kp[i, k, 1] = _F0
                out_kp[i, k, 2] = _F0
                continue
            out_kp[i, k, 0] = peak_x[g] * stride + shift
            out_kp[i, k, 1] = peak_y[g] * stride + shift
            out_kp[i, k, 2] = peak_v[g]
        out_sc[i] = o_s[i]
    return kept


@_jit
def _tree_middles(limb_kp, limb_redundant, K, adjacent, middle):
    """pd_tree_middles into middle (K * K, int32); adjacent is K * K bytes of scratch."""
    num_limbs = limb_kp.shape[0]
    adjacent[:] = 0
    for l in range(num_limbs):
        if limb_redundant[l] == 0:
            adjacent[limb_kp[l, 0] * K + limb_kp[l, 1]] = 1
            adjacent[limb_kp[l, 1] * K + limb_kp[l, 0]] = 1
    for i in range(K):
        for j in range(K):
            m = -1
            if i != j and adjacent[i * K + j] == 0:
                for l in range(num_limbs):
                    if limb_redundant[l] != 0:
                        continue
                    a = limb_kp[l, 0]
                    b = limb_kp[l, 1]
                    v = b if a == i else (a if b == i else -1)
                    if v >= 0 and adjacent[v * K + j] != 0:
                        m = v
                        break
            middle[i * K + j] = m


@_jit
def _person_reach(slots, base, limb_kp, limb_redundant, peak_x, peak_y):
    """pd_person_reach: the longest tree limb the person at slots[base:] holds."""
    longest = 0.0
    for l in range(limb_kp.shape[0]):
        if limb_redundant[l] != 0:
            continue
        ga = slots[base + limb_kp[l, 0]]
        gb = slots[base + limb_kp[l, 1]]
        if ga < 0 or gb < 0:
            continue
        dx = np.float64(peak_x[ga]) - np.float64(peak_x[gb])
        dy = np.float64(peak_y[ga]) - np.float64(peak_y[gb])
        length = math.sqrt(dx * dx + dy * dy)
        if length > longest:
            longest = length
    return longest


@_jit
def _join_cost(slots, host_base, host_types, types_base, nh, frag, frag_base, frag_types, nf,
               K, middles, peak_x, peak_y, reach, limit):
    """pd_join_cost for the host at slots[host_base:] (its nh types at
    host_types[types_base:]) and the fragment at frag[frag_base:] (nf types)."""
    best = math.inf
    far = 1.001 * limit * 2.0 * reach
    for a in range(nh):
        i = host_types[types_base + a]
        gi = slots[host_base + i]
        hx = np.float64(peak_x[gi])
        hy = np.float64(peak_y[gi])
        for b in range(nf):
            j = frag_types[b]
            middle = middles[i * K + j]
            if middle < 0 or slots[host_base + middle] >= 0 or frag[frag_base + middle] >= 0:
                continue
            gj = frag[frag_base + j]
            dx = hx - np.float64(peak_x[gj])
            dy = hy - np.float64(peak_y[gj])
            if dx * dx + dy * dy > far * far:
                continue
            cost = math.sqrt(dx * dx + dy * dy) / (2.0 * reach)
            if cost < best:
                best = cost
    return best


@_jit
def _people_join_fragments(slots, keypoints, connections, evidence, owner, co_owner, count, K,
                           limb_kp, limb_redundant, peak_x, peak_y, peak_v, peak_count, mp,
                           margin):
    """pd_people_join_fragments."""
    total = K * mp
    adjacent = np.empty(K * K, np.uint8)
    middles = np.empty(K * K, np.int32)
    lone = np.full(K, -1, np.int32)
    frag_types = np.empty(K, np.int32)
    types = np.empty(max(count, 1) * K, np.int32)
    reach = np.empty(max(count, 1), np.float64)
    box = np.empty((max(count, 1), 4), np.float64)
    j_s = np.empty(count + total, np.float32)
    j_a = np.empty(count + total, np.int32)
    j_b = np.empty(count + total, np.int32)
    h_s = np.empty(max(count, 1), np.float32)
    h_a = np.empty(max(count, 1), np.int32)
    h_b = np.zeros(max(count, 1), np.int32)
    _tree_middles(limb_kp, limb_redundant, K, adjacent, middles)
    while True:
        joined = 0
        for p in range(count):
            reach[p] = _person_reach(slots, p * K, limb_kp, limb_redundant, peak_x, peak_y) \
                if keypoints[p] >= 2 else 0.0
            box[p, 0] = math.inf
            box[p, 1] = math.inf
            box[p, 2] = -math.inf
            box[p, 3] = -math.inf
            n = 0
            for k in range(K):
                g = slots[p * K + k]
                if g < 0:
                    continue
                types[p * K + n] = k
                n += 1
                x = np.float64(peak_x[g])
                y = np.float64(peak_y[g])
                if x < box[p, 0]:
                    box[p, 0] = x
                if y < box[p, 1]:
                    box[p, 1] = y
                if x > box[p, 2]:
                    box[p, 2] = x
                if y > box[p, 3]:
                    box[p, 3] = y
        num_hosts = 0
        widest = 0.0
        longest = 0.0
        for p in range(count):
            if not (reach[p] > 0.0):
                continue
            h_a[num_hosts] = p
            h_s[num_hosts] = -np.float32(box[p, 0])
            num_hosts += 1
            if box[p, 2] - box[p, 0] > widest:
                widest = box[p, 2] - box[p, 0]
            if reach[p] > longest:
                longest = reach[p]
        _sort_candidates(h_s, h_a, h_b, num_hosts)
        num_joins = 0
        fb = np.empty(4, np.float64)
        for f in range(count + total):
            kind = -1
            if f < count:
                nf = keypoints[f]
                if nf == 0 or 2 * nf > K:
                    continue
                frag = slots
                frag_base = f * K
                for i in range(nf):
                    frag_types[i] = types[f * K + i]
                for i in range(4):
                    fb[i] = box[f, i]
            else:
                g = f - count
                kind = g // mp
                if g % mp >= peak_count[kind] or owner[g] >= 0:
                    continue
                nf = 1
                lone[kind] = g
                frag = lone
                frag_base = 0
                frag_types[0] = kind
                fb[0] = np.float64(peak_x[g])
                fb[2] = fb[0]
                fb[1] = np.float64(peak_y[g])
                fb[3] = fb[1]
            best = math.inf
            second = math.inf
            host = -1
            lo = 0
            hi = num_hosts
            while lo < hi:
                mid = lo + (hi - lo) // 2
                if np.float64(-h_s[mid]) < fb[0]:
                    lo = mid + 1
                else:
                    hi = mid
            step = 0
            while step < num_hosts:
                at = lo + step if step < num_hosts - lo else lo - 1 - (step - (num_hosts - lo))
                step += 1
                p = h_a[at]
                limit = second if second < 1.0 else 1.0
                horizon = 1.01 * limit * 2.0 * longest
                if at >= lo:
                    if box[p, 0] - fb[2] > horizon:
                        step = num_hosts - lo
                        continue
                elif fb[0] - box[p, 0] - widest > horizon:
                    break
                if p == f:
                    continue
                n_p = keypoints[p]
                if f < count and (n_p < nf or (n_p == nf and p > f)):
                    continue
                if n_p + nf > K:
                    continue
                gx = max(fb[0] - box[p, 2], box[p, 0] - fb[2])
                gy = max(fb[1] - box[p, 3], box[p, 1] - fb[3])
                if gx < 0.0:
                    gx = 0.0
                if gy < 0.0:
                    gy = 0.0
                far = 1.01 * limit * 2.0 * reach[p]
                if gx * gx + gy * gy > far * far:
                    continue
                disjoint = True
                for i in range(nf):
                    if slots[p * K + frag_types[i]] >= 0:
                        disjoint = False
                        break
                if not disjoint:
                    continue
                cost = _join_cost(slots, p * K, types, p * K, n_p, frag, frag_base, frag_types, nf,
                                  K, middles, peak_x, peak_y, reach[p], limit)
                if not (cost <= 1.0):
                    continue
                if cost < best:
                    second = best
                    best = cost
                    host = p
                elif cost == best:
                    second = cost
                    if p < host:
                        host = p
                elif cost < second:
                    second = cost
            if kind >= 0:
                lone[kind] = -1
            if host < 0 or not (best < np.float64(margin) * second):
                continue
            j_a[num_joins] = f
            j_b[num_joins] = host
            j_s[num_joins] = -np.float32(best)
            num_joins += 1
        _sort_candidates(j_s, j_a, j_b, num_joins)
        for i in range(num_joins):
            f = j_a[i]
            p = j_b[i]
            if keypoints[p] == 0:
                continue
            if f >= count:
                g = f - count
                kind = g // mp
                if slots[p * K + kind] >= 0:
                    continue
                _person_take(slots, owner, co_owner, keypoints, evidence, K, p, kind, g, peak_v[g])
                joined += 1
                continue
            disjoint = keypoints[f] > 0
            for k in range(K):
                if slots[p * K + k] >= 0 and slots[f * K + k] >= 0:
                    disjoint = False
                    break
            if not disjoint:
                continue
            for k in range(K):
                g = slots[f * K + k]
                if g < 0:
                    continue
                slots[p * K + k] = g
                if owner[g] == f:
                    owner[g] = p
                else:
                    co_owner[g] = p
                slots[f * K + k] = -1
            keypoints[p] += keypoints[f]
            connections[p] += connections[f]
            evidence[p] += evidence[f]
            keypoints[f] = 0
            connections[f] = 0
            evidence[f] = 0.0
            joined += 1
        if joined == 0:
            break


# -- decode (decode.c) ------------------------------------------------------------------

@_jit
def _decode_entry(heat, paf, limb_kp, limb_paf, limb_redundant, K, rec):
    """pd_decode_batch over frames heat[f], paf[f] ((C, H, W) views of any strides),
    with denormals flushed as in C; `rec` holds the one pd_params record.

    Returns (keypoints (P, K, 3), scores (P,), counts (F,), stats (F, 4)) with the
    people of all frames one after another."""
    saved = _enter_flush_denormals()
    result = _decode_frames(heat, paf, limb_kp, limb_paf, limb_redundant, K, rec[0])
    _leave_flush_denormals(saved)
    return result


@_jit
def _min_inliers(prm):
    """The inliers a candidate needs, from the share of samples, in float64."""
    n = prm.paf_samples
    need = int(np.ceil(prm.min_inlier_ratio * np.float64(n) - 1e-9))
    return min(n, need)


@_jit
def _decode_frames(heat, paf, limb_kp, limb_paf, limb_redundant, K, prm):
    frames = heat.shape[0]
    height = heat.shape[2]
    width = heat.shape[3]
    peak_threshold = prm.peak_threshold
    paf_threshold = prm.paf_threshold
    # max_limb_length is in input-image pixels; scoring compares map cells.
    max_length = np.float32(prm.max_limb_length / np.float64(prm.stride))
    min_score = np.float64(prm.min_person_score)
    stride = prm.stride
    share_score = prm.shared_peak_score
    split_margin = prm.split_merged_peaks
    peak_support = prm.peak_support
    join_margin = prm.join_fragments
    radius = np.int64(prm.peak_radius)
    mp = np.int64(prm.max_peaks)
    n = np.int64(prm.paf_samples)
    min_inliers = np.int64(_min_inliers(prm))
    max_candidates = np.int64(prm.max_candidates)
    mode = prm.assignment
    min_keypoints = np.int64(prm.min_keypoints)
    num_limbs = limb_kp.shape[0]
    total = K * mp
    capacity = total // 2 + 1
    max_people = total // max(min_keypoints, 2)
    cells = height * width

    # workspace, once per call
    plane, row_max, window, visited, queue, f_val, f_idx, f_b = _peak_buffers(cells)
    peak_x = np.empty(total, np.float32)
    peak_y = np.empty(total, np.float32)
    peak_v = np.empty(total, np.float32)
    peak_count = np.zeros(K, np.int64)
    order = np.empty(n, np.int64)
    t = np.empty(n, np.float32)
    for k in range(n):
        order[k] = _middle_out(k, n)
        t[k] = np.float32(k / (n - 1))
    t_order = np.empty(n, np.float32)
    for k in range(n):
        t_order[k] = t[order[k]]
    dots = np.empty(n, np.float64)
    rel_x = np.empty(mp, np.float32)
    rel_y = np.empty(mp, np.float32)
    misses = np.empty(mp, np.int64)
    alive = np.empty(mp, np.int64)
    cell = np.empty(mp, np.int64)
    vb_x = np.empty(mp, np.float32)
    vb_y = np.empty(mp, np.float32)
    slack2_b = np.empty(mp, np.float64)
    bi = np.empty((4, _BATCH), np.int64)
    bf = np.empty((6, _BATCH), np.float32)
    bdots = np.empty((n, _BATCH), np.float32)
    mask = np.empty(cells, np.uint8)
    gx = np.empty(cells, np.float32)
    gy = np.empty(cells, np.float32)
    cand_cap = min(mp * mp, 4096)
    c_s = np.empty(cand_cap, np.float32)
    c_a = np.empty(cand_cap, np.int32)
    c_b = np.empty(cand_cap, np.int32)
    root_of = np.empty(cand_cap, np.int32)
    next_of = np.empty(cand_cap, np.int32)
    head = np.empty(2 * mp, np.int32)
    o_s = np.empty(mp, np.float32)
    o_a = np.empty(mp, np.int32)
    o_b = np.empty(mp, np.int32)
    used_a = np.empty(mp, np.uint8)
    used_b = np.empty(mp, np.uint8)
    parent = np.empty(2 * mp, np.int32)
    member_of = np.empty(2 * mp, np.int32)
    local = np.empty(2 * mp, np.int32)
    comp_rows = np.empty(mp, np.int32)
    comp_cols = np.empty(mp, np.int32)
    block_cap = min(mp * mp, 4096) if mode == HUNGARIAN else 1
    block = np.empty(block_cap, np.float64)
    solution = np.empty(mp, np.int32)
    lsa_ws = _lsa_buffers(mp, mp)
    slots = np.empty(capacity * K, np.int32)
    p_keys = np.empty(capacity, np.int32)
    p_conn = np.empty(capacity, np.int32)
    p_ev = np.empty(capacity, np.float64)
    owner = np.empty(total, np.int32)
    co_owner = np.empty(total, np.int32)
    sharing = share_score > _F0
    ba_s = np.empty(mp, np.float32)
    ba_b = np.empty(mp, np.int64)
    bb_s = np.empty(mp, np.float32)
    bb_a = np.empty(mp, np.int64)
    scoring = (n, min_inliers, paf_threshold, max_length, max_candidates, order, t, t_order,
               dots, mask, gx, gy, rel_x, rel_y, misses, alive, cell, vb_x, vb_y, slack2_b, bi,
               bf, bdots)
    e_s = np.empty(capacity, np.float32)
    e_a = np.empty(capacity, np.int32)
    e_b = np.empty(capacity, np.int32)
    counts = np.zeros(frames, np.int64)
    stats = np.zeros((frames, 4), np.int64)
    out_cap = max(16, min(frames * max_people, 64 * frames))
    out_kp = np.empty((out_cap, K, 3), np.float32)
    out_sc = np.empty(out_cap, np.float32)
    written = 0

    for f in range(frames):
        hf = heat[f]
        pf = paf[f]
        n_peaks = 0
        for k in range(K):
            off = k * mp
            got = _find_peaks_core(hf[k], height, width, peak_threshold, radius, mp, split_margin,
                                   peak_support, plane, row_max, window, visited, queue, f_val,
                                   f_idx, f_b,
                                   peak_x[off:off + mp], peak_y[off:off + mp],
                                   peak_v[off:off + mp])
            peak_count[k] = got
            n_peaks += got
        for g in range(total):
            owner[g] = -1
            co_owner[g] = -1
        people = np.int64(0)
        n_cands = 0
        n_conn = 0
        for l in range(num_limbs):
            ka, kb, na, nb, oa, ob = _limb_span(limb_kp, peak_count, mp, l)
            if na == 0 or nb == 0:
                continue
            c_s, c_a, c_b, root_of, next_of = _room(c_s, c_a, c_b, root_of, next_of, na * nb)
            nc = _limb_candidates(pf, limb_paf, l, height, width, peak_x, peak_y, oa, na, ob,
                                  nb, scoring, c_s, c_a, c_b)
            n_cands += nc
            nconn = 0
            if nc > 0:
                if mode == GREEDY:
                    nconn = _assign_greedy(c_s, c_a, c_b, nc, na, nb, o_s, o_a, o_b,
                                           used_a, used_b)
                else:
                    if na * nb > block.shape[0]:
                        block = np.empty(na * nb, np.float64)
                    nconn = _assign_optimal(c_s, c_a, c_b, nc, na, nb, o_s, o_a, o_b,
                                            parent, member_of, local, comp_rows, comp_cols,
                                            block, solution, lsa_ws, root_of, next_of,
                                            head)
            n_conn += nconn
            redundant = limb_redundant[l] != 0
            for c in range(nconn):
                ga = oa + o_a[c]
                gb = ob + o_b[c]
                people = _people_connect(slots, p_keys, p_conn, p_ev, owner, co_owner, people,
                                         capacity, K, ka, kb, ga, gb, peak_v[ga],
                                         peak_v[gb], o_s[c], redundant)
            if sharing and not redundant:
                _best_candidates(c_s, c_a, c_b, nc, na, nb, ba_s, ba_b, bb_s, bb_a)
                _people_share(slots, p_keys, p_conn, p_ev, owner, co_owner, K, kb, oa, ob,
                              ba_s, ba_b, na, bb_s, bb_a, nb, peak_v, share_score)
        if join_margin > _F0:
            _people_join_fragments(slots, p_keys, p_conn, p_ev, owner, co_owner, people, K,
                                   limb_kp, limb_redundant, peak_x, peak_y, peak_v,
                                   peak_count, mp, join_margin)
        # Room for every person created (at most max_people pass the filters):
        # the people are written straight after the previous frames'.
        if written + people > out_kp.shape[0]:
            grow = max(2 * out_kp.shape[0], written + people)
            new_kp = np.empty((grow, K, 3), np.float32)
            new_sc = np.empty(grow, np.float32)
            new_kp[:written] = out_kp[:written]
            new_sc[:written] = out_sc[:written]
            out_kp = new_kp
            out_sc = new_sc
        kept = _people_emit(slots, p_keys, p_conn, p_ev, people, K, peak_x, peak_y, peak_v,
                            min_keypoints, min_score, stride, e_s, e_a, e_b,
                            out_kp[written:], out_sc[written:])
        written += kept
        counts[f] = kept
        stats[f, 0] = n_peaks
        stats[f, 1] = n_cands
        stats[f, 2] = n_conn
        stats[f, 3] = kept
    return out_kp[:written].copy(), out_sc[:written].copy(), counts, stats


# -- compilation: one specialisation per entry point ------------------------------------

@_jit
def _fp_mode_entry():
    return _get_fp_mode()


@_jit
def _set_fp_mode_entry(value):
    _set_fp_mode(value)


def _ro(dtype, ndim):
    # Read-only 'A' arrays: every float32 array (C, F or any strides, writable or
    # not) converts to this type, so each entry point compiles exactly once.
    return types.Array(dtype, ndim, "A", readonly=True)


_SIGNATURES = {
    _find_peaks_entry: (_ro(types.float32, 2), types.float32, types.int64, types.int64,
                        types.float32, types.float32),
    _lsa_entry: (_ro(types.float64, 2),),
    _assign_entry: (_ro(types.int32, 1), _ro(types.int32, 1), _ro(types.float32, 1),
                    types.int64, types.int64, types.int64),
    _decode_entry: (_ro(types.float32, 4), _ro(types.float32, 4), _ro(types.int32, 2),
                    _ro(types.int32, 2), _ro(types.uint8, 1), types.int64,
                    types.Array(numba.from_dtype(_params.RECORD_DTYPE), 1, "C")),
    _fp_mode_entry: (),
    _set_fp_mode_entry: (types.uint32,),
}
_ready = set()
_ready_lock = threading.Lock()


def _compiled(fn):
    """The entry point compiled (or loaded from the cache) for its one signature,
    with further compilation disabled so that other layouts convert to it."""
    if fn not in _ready:
        with _ready_lock:
            if fn not in _ready:
                fn.compile(_SIGNATURES[fn])
                fn.disable_compile()
                _ready.add(fn)
    return fn


def _fp_mode():
    return _compiled(_fp_mode_entry)()


def _restore_fp_mode(saved):
    _compiled(_set_fp_mode_entry)(saved)


def warm_up():
    """Compiles (or loads from the cache) every entry point now."""
    for fn in _SIGNATURES:
        _compiled(fn)


def _raise_for(rc, where):
    if rc < 0:
        raise ValueError(f"{where}: the core rejected its arguments (code {rc})")


# -- the public twins of _kernels ---------------------------------------------------------

def find_peaks(heatmap, threshold, radius, max_peaks, split_margin=0.0, peak_support=0.0):
    """Peaks of one (H, W) float32 map: an (N, 3) float32 array of x, y, value in map
    pixels, strongest first (as _kernels.find_peaks; no FTZ/DAZ here, as in C)."""
    heatmap = np.asarray(heatmap)
    if heatmap.dtype != np.float32 or heatmap.ndim != 2:
        raise ValueError("heatmap must be a 2-D float32 array")
    threshold = np.float32(threshold)
    radius = int(radius)
    max_peaks = int(max_peaks)
    h, w = heatmap.shape
    if h == 0 or w == 0 or max_peaks <= 0:
        return np.zeros((0, 3), np.float32)
    rc, out = _compiled(_find_peaks_entry)(heatmap, threshold, radius, max_peaks,
                                           np.float32(split_margin), np.float32(peak_support))
    _raise_for(rc, "find_peaks")
    return out


def linear_sum_assignment(cost):
    """Column of each row minimising the total cost (-1 where a row has none)."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError("cost must be a 2-D array")
    rc, out = _compiled(_lsa_entry)(cost, )
    _raise_for(rc, "linear_sum_assignment")
    return out


def assign_limb(a, b, score, na, nb, mode):
    """Connections chosen among candidate limbs (a[i], b[i], score[i]), peak indices
    below na and nb: an (M, 3) float64 array of a, b, score, best first."""
    a = np.ascontiguousarray(a, dtype=np.int32)
    b = np.ascontiguousarray(b, dtype=np.int32)
    score = np.ascontiguousarray(score, dtype=np.float32)
    na = int(na)
    nb = int(nb)
    n = a.shape[0]
    if b.shape[0] != n or score.shape[0] != n:
        raise ValueError("a, b and score must have the same length")
    bad = ~((a >= 0) & (a < na) & (b >= 0) & (b < nb))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"candidate {i} names a peak outside 0..{na - 1} x 0..{nb - 1}")
    imode = HUNGARIAN if mode == "hungarian" else GREEDY
    m, out = _compiled(_assign_entry)(a, b, score, na, nb, imode)
    _raise_for(m, "assign_limb")
    return out


def _c_int(value, name):
    value = int(value)
    if not -_INT_MAX - 1 <= value <= _INT_MAX:
        raise OverflowError(f"{name} does not fit a C int: {value}")
    return value


def _param_ok(param, value):
    """pd_param_ok: a value of the record within its row's range (the table's rules
    on the stored value; a float must be 0 or normal, since the decode flushes)."""
    if not math.isfinite(value):
        return False
    if param.off_zero and value == 0:
        return True
    if param.type == "float" and value != 0 and abs(value) < float(_TINY):
        return False
    if not (value > param.minimum if param.open_min else value >= param.minimum):
        return False
    return value <= param.maximum


def _check_record(record):
    """pd_params_check: raises for the first option out of its table range."""
    for param in _params.PARAMS:
        value = record[param.name].item()
        if not _param_ok(param, value):
            raise ValueError(f"{param.name} is out of range for the Numba core (got {value!r})")


def _decode_record(record):
    """A private 1-element copy of `record` as the flushed decode reads it: a
    denormal float parameter is 0 there."""
    rec = np.zeros(1, _params.RECORD_DTYPE)
    rec[0] = record
    for param in _params.PARAMS:
        if param.type == "float":
            rec[param.name][0] = _flush_denormal(rec[param.name][0])
    return rec


class CoreDecoder:
    """Holds a skeleton and parameters; decodes frames without the GIL (Numba)."""

    def __init__(self, limbs, paf_channels, redundant, num_keypoints, record):
        self._limb_kp = np.array(limbs, np.int32).reshape(-1, 2)
        self._limb_paf = np.array(paf_channels, np.int32).reshape(-1, 2)
        self._limb_redundant = np.array(redundant, np.uint8).reshape(-1)
        num_limbs = self._limb_redundant.shape[0]
        self._limb_kp = self._limb_kp[:num_limbs]
        self._limb_paf = self._limb_paf[:num_limbs]
        K = _c_int(num_keypoints, "num_keypoints")
        self._num_keypoints = K
        record = np.asarray(record)
        if record.dtype != _params.RECORD_DTYPE or record.size != 1:
            raise TypeError("record must be one pafdecode._params.RECORD_DTYPE record")
        record = record.reshape(())
        self._check_skeleton()
        _check_record(record)
        self._record = _decode_record(record)
        # Checked on every call: worked out once.
        self._paf_channels_needed = int(self._limb_paf.max()) + 1 if self._limb_paf.size else 0
        max_peaks = int(record["max_peaks"])
        self.max_people = K * max_peaks // max(int(record["min_keypoints"]), 2)

    def _check_skeleton(self):
        """pd_check_params' checks of the skeleton."""
        K = self._num_keypoints
        ok = 1 <= K <= 4096
        for (a, b), (px, py) in zip(self._limb_kp.tolist(), self._limb_paf.tolist()):
            if a < 0 or b < 0 or a >= K or b >= K or a == b or px < 0 or py < 0:
                ok = False
        if not ok:
            raise ValueError("Decoder skeleton: the core rejected its arguments (code -1)")

    def workspace_bytes(self, height, width, frames=1):
        """Scratch bytes the caller must pass: the Numba core allocates its own
        workspace, so this is a token amount (0 for empty maps, as in C)."""
        if height <= 0 or width <= 0:
            return 0
        return 64

    def _check_fields(self, heat, paf, where):
        K = self._num_keypoints
        if heat.shape[-2] <= 0 or heat.shape[-1] <= 0:
            raise ValueError(f"{where}: empty maps or invalid parameters")
        if heat.shape[-3] < K or paf.shape[-2:] != heat.shape[-2:]:
            raise ValueError(f"{where}: the core rejected its arguments (code -1)")
        if self._paf_channels_needed > paf.shape[-3]:
            raise ValueError(f"{where}: the core rejected its arguments (code -1)")

    def _run(self, heat4, paf4):
        decode = _compiled(_decode_entry)
        saved = _fp_mode()
        try:
            return decode(heat4, paf4, self._limb_kp, self._limb_paf, self._limb_redundant,
                          self._num_keypoints, self._record)
        except BaseException:
            # Only an allocation failure can stop a decode half way: the thread
            # must not keep the flush mode.
            _restore_fp_mode(saved)
            raise

    def decode(self, heatmaps, pafs, scratch=None):
        """One frame of (C, H, W) views -> (keypoints (P, K, 3), scores (P,), stats)."""
        heat = np.asarray(heatmaps)
        paf = np.asarray(pafs)
        self._check_fields(heat, paf, "decode")
        kp, sc, _counts, stats = self._run(heat[np.newaxis], paf[np.newaxis])
        return kp, sc, tuple(stats[0].tolist())

    def decode_batch(self, heatmaps, pafs, scratch=None):
        """N frames of (N, C, H, W) views -> a list of (keypoints, scores, stats)."""
        heat = np.asarray(heatmaps)
        paf = np.asarray(pafs)
        frames = heat.shape[0]
        if frames == 0:
            return []
        self._check_fields(heat, paf, "decode_batch")
        kp, sc, counts, stats = self._run(heat, paf)
        results = []
        start = 0
        for f in range(frames):
            end = start + int(counts[f])
            results.append((kp[start:end], sc[start:end], tuple(stats[f].tolist())))
            start = end
        return results
