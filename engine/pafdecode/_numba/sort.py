"""sort.c: the one order of candidates, peaks and people."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .fp import jit

# Candidate limbs: score and the ranks of their two peaks (pd_candidate).
Cands = namedtuple("Cands", ["s", "a", "b"])


@jit
def new_cands(n):
    return Cands(np.empty(n, np.float32), np.empty(n, np.int32), np.empty(n, np.int32))


@jit
def before(s1, a1, b1, s2, a2, b2):
    """pd_before: score descending, then a ascending, then b ascending."""
    if s1 != s2:
        return s1 > s2
    if a1 != a2:
        return a1 < a2
    return b1 < b2


@jit
def _swap(s, a, b, i, j):
    ts, ta, tb = s[i], a[i], b[i]
    s[i], a[i], b[i] = s[j], a[j], b[j]
    s[j], a[j], b[j] = ts, ta, tb


@jit
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


@jit
def _insertion_sort(s, a, b, n):
    for i in range(1, n):
        si, ai, bi = s[i], a[i], b[i]
        j = i - 1
        while j >= 0 and before(si, ai, bi, s[j], a[j], b[j]):
            s[j + 1], a[j + 1], b[j + 1] = s[j], a[j], b[j]
            j -= 1
        s[j + 1], a[j + 1], b[j + 1] = si, ai, bi


@jit
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
