"""sort.c: the one order of candidates, peaks and people."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .fp import borrowing, jit

# Candidate limbs: score and the ranks of their two peaks (pd_candidate).
Cands = namedtuple("Cands", ["s", "a", "b"])


@jit
def new_cands(n):
    return Cands(np.empty(n, np.float32), np.empty(n, np.int32), np.empty(n, np.int32))


@borrowing
def before(s1, a1, b1, s2, a2, b2):
    """pd_before: score descending, then a ascending, then b ascending."""
    if s1 != s2:
        return s1 > s2
    if a1 != a2:
        return a1 < a2
    return b1 < b2


@borrowing
def _swap(s, a, b, i, j):
    ts, ta, tb = s[i], a[i], b[i]
    s[i], a[i], b[i] = s[j], a[j], b[j]
    s[j], a[j], b[j] = ts, ta, tb


@borrowing
def _sift_down(s, a, b, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and before(s[child], a[child], b[child],
                                    s[child + 1], a[child + 1], b[child + 1]):
            child += 1
        if not before(s[root], a[root], b[root], s[child], a[child], b[child]):
            return
        _swap(s, a, b, root, child)
        root = child


@borrowing
def _insertion_sort(s, a, b, n):
    for i in range(1, n):
        si, ai, bi = s[i], a[i], b[i]
        j = i - 1
        while j >= 0 and before(si, ai, bi, s[j], a[j], b[j]):
            s[j + 1], a[j + 1], b[j + 1] = s[j], a[j], b[j]
            j -= 1
        s[j + 1], a[j + 1], b[j + 1] = si, ai, bi


@borrowing
def sort_candidates(s, a, b, n):
    """pd_sort_candidates on parallel arrays (score float32, a, b int32), the same
    insertion sort / heapsort, so even a non-total order (NaN) sorts identically."""
    if n < 2:
        return
    if n <= 16:
        _insertion_sort(s, a, b, n)
        return
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(s, a, b, i, n)
    for end in range(n - 1, 0, -1):
        _swap(s, a, b, 0, end)
        _sift_down(s, a, b, np.int64(0), end)


@borrowing
def _descending_key(bits):
    """pd_descending_key: a float's bits as a key that orders like the float, inverted
    so that ascending keys mean descending scores."""
    bits = ~bits if (bits & np.uint32(0x80000000)) != 0 else bits | np.uint32(0x80000000)
    return ~bits


# Keys of the radix passes (sort.c's PD_KEY_*): the score's descending key;
# EQUAL_ZEROS keys -0 as +0 (C adds +0.0f, which does the same).
KEY_SCORE, KEY_EQUAL_ZEROS = 0, 1


@borrowing
def _key(keys, i, field):
    bits = keys[i]
    if field == KEY_EQUAL_ZEROS and bits == np.uint32(0x80000000):
        bits = np.uint32(0)
    return _descending_key(bits)


@borrowing
def _radix_pass(src, dst, n, shift, count, field):
    """One byte of pd_radix_pass from the Cands-like triple src to dst; False when
    that byte is the same everywhere (nothing moved)."""
    src_s, src_a, src_b = src
    dst_s, dst_a, dst_b = dst
    keys = src_s[:n].view(np.uint32)
    count[:] = 0
    for i in range(n):
        count[((_key(keys, i, field) >> shift) & np.uint32(0xFF)) + 1] += 1
    for c in range(1, 257):
        if count[c] == n:
            return False
    for c in range(256):
        count[c + 1] += count[c]
    for i in range(n):
        digit = (_key(keys, i, field) >> shift) & np.uint32(0xFF)
        at = count[digit]
        count[digit] = at + 1
        dst_s[at] = src_s[i]
        dst_a[at] = src_a[i]
        dst_b[at] = src_b[i]
    return True


@borrowing
def _radix_sort(s, a, b, n, scratch, count, field):
    """pd_radix_sort: a stable LSD radix sort on field's key, a byte a pass,
    ping-ponging with scratch (three arrays of n items); the items end in s, a, b."""
    items = (s, a, b)
    in_scratch = False
    for shift in range(0, 32, 8):
        if in_scratch:
            moved = _radix_pass(scratch, items, n, np.uint32(shift), count, field)
        else:
            moved = _radix_pass(items, scratch, n, np.uint32(shift), count, field)
        if moved:
            in_scratch = not in_scratch
    if in_scratch:
        for i in range(n):
            s[i] = scratch[0][i]
            a[i] = scratch[1][i]
            b[i] = scratch[2][i]


@borrowing
def sort_candidates_stable(s, a, b, n, scratch, count):
    """pd_sort_candidates_stable: an LSD radix sort on the score, a byte a pass, so
    items that arrive in (a, b) order leave in the full order of sort_candidates
    (32 items or fewer: sort_candidates itself). scratch: three arrays of n items;
    count: 257 int64."""
    if n <= 32:
        sort_candidates(s, a, b, n)
        return
    _radix_sort(s, a, b, n, scratch, count, KEY_SCORE)


@borrowing
def sort_candidates_any(s, a, b, n, scratch, count):
    """pd_sort_candidates_any: the order of sort_candidates for items in any order, by
    a stable radix sort on the score, then each run of equal scores sorted by
    sort_candidates (48 items or fewer: sort_candidates itself). Scores must not be
    NaN. scratch: three arrays of n items; count: 257 int64."""
    if n <= 48:
        sort_candidates(s, a, b, n)
        return
    _radix_sort(s, a, b, n, scratch, count, KEY_EQUAL_ZEROS)
    start = 0
    while start < n:
        end = start + 1
        while end < n and s[end] == s[start]:
            end += 1
        if end - start > 1:
            sort_candidates(s[start:end], a[start:end], b[start:end], end - start)
        start = end


@jit
def sort_entry(a, b, score, method):
    """The bare sorts (0 heap, 1 any, 2 stable) on copies: (a, b, score) sorted."""
    n = a.shape[0]
    s, a, b = score.copy(), a.copy(), b.copy()
    scratch = new_cands(n)
    count = np.zeros(257, np.int64)
    if method == 0:
        sort_candidates(s, a, b, n)
    elif method == 1:
        sort_candidates_any(s, a, b, n, (scratch.s, scratch.a, scratch.b), count)
    else:
        sort_candidates_stable(s, a, b, n, (scratch.s, scratch.a, scratch.b), count)
    return a, b, s
