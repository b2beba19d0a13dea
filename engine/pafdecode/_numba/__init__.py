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
  sets the same MXCSR bits around its work (``fp.enter_flush_denormals``), so its
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
each component's candidates in one pass instead of rescanning the list. The other
way round, C reads a crowded limb type's samples from a padded copy of its field
and keeps the limb prior's person scales up to date as people grow, and its solver
applies each Dijkstra step's potential update inside the next step's scan; the twin
reads the field in place, recomputes the scales for each limb type and updates the
potentials in a pass of their own (the same values, each in the same order).

Everything hot runs inside njit functions that release the GIL, one call per frame
or batch, which allocates its own workspace.

The package mirrors csrc/ file for file: peaks, scoring, assignment, assembly, join,
params, sort and decode, with fp for the MXCSR intrinsics and stages for the stage
bindings (each stage fed any input, as tests/test_parity.py does). State travels in
small named tuples (the peaks, the people, each stage's scratch) and the options in
the one pd_params record, read by field name. Two costs of that, both Numba's:

* a call that is passed a tuple counts a reference to every array in it (inlining
  does not remove that), so the loops that call a helper per item take the arrays
  they need out of the tuples once and pass those, or small groups of them, and the
  steps that allocate nothing (peak finding but for the plane's copy and the split,
  the per-pair loops of scoring, the sorts, joining's weighing) are compiled without
  reference counting (fp.borrowing; what they call inherits it, so nothing below
  them may allocate);
* the on-disk cache keys each module on its own file's contents only, so a function
  whose callee in another module changed would load its old machine code (after an
  upgrade, or an installed copy edited in place). Each cache folder therefore keeps
  the fingerprint of all the twin's sources it was filled from, and is emptied of
  Numba's files when they changed (``_forget_stale_cache``, at import).
"""

from __future__ import annotations

import hashlib
import os
import threading

import numpy as np
from numba import types

from .assignment import GREEDY, HUNGARIAN, assign_entry, lsa_entry
from .decode import decode_entry
from .fp import fp_mode_entry, set_fp_mode_entry
from .join import tree_table
from .params import prepared
from .peaks import find_peaks_entry
from .sort import sort_entry
from .stages import (stage_assembly, stage_candidates, stage_connections, stage_emit,
                     stage_join, stage_limb_prior, stage_peaks)

_STAMP = "pafdecode-sources.sha256"


def _sources_fingerprint():
    """sha256 of every source file of the twin, names and contents."""
    digest = hashlib.sha256()
    folder = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            digest.update(name.encode())
            with open(os.path.join(folder, name), "rb") as source:
                digest.update(source.read())
    return digest.hexdigest()


def _forget_stale_cache(folders, fingerprint):
    """Empties each cache folder of Numba's index and data files unless its stamp says
    it was filled from the sources with this fingerprint, then stamps it. A folder
    that cannot be read or written is left alone (Numba then compiles afresh or
    caches elsewhere)."""
    for folder in folders:
        stamp = os.path.join(folder, _STAMP)
        try:
            with open(stamp) as saved:
                if saved.read() == fingerprint:
                    continue
        except OSError:
            pass
        try:
            os.makedirs(folder, exist_ok=True)
            for name in os.listdir(folder):
                if name.endswith((".nbi", ".nbc")):
                    os.remove(os.path.join(folder, name))
            with open(stamp, "w") as out:
                out.write(fingerprint)
        except OSError:
            pass


def _cache_folders(dispatchers):
    """The folders Numba's on-disk cache uses for these dispatchers."""
    paths = (getattr(getattr(d, "_cache", None), "_cache_path", None) for d in dispatchers)
    return sorted({p for p in paths if isinstance(p, str)})


# The twin's modules share one folder, hence one cache folder: one dispatcher names it.
_forget_stale_cache(_cache_folders([decode_entry]), _sources_fingerprint())

__all__ = ["find_peaks", "linear_sum_assignment", "assign_limb", "sort_candidates",
           "CoreDecoder",
           "STAT_FIELDS", "stage_peaks", "stage_candidates", "stage_connections",
           "stage_assembly", "stage_limb_prior", "stage_join", "stage_emit"]

STAT_FIELDS = ("peaks", "candidates", "connections", "people")

_INT_MAX = 2**31 - 1


# -- compilation: one specialisation per entry point ------------------------------------

def _ro(dtype, ndim):
    # Read-only 'A' arrays: every float32 array (C, F or any strides, writable or
    # not) converts to this type, so each entry point compiles exactly once.
    return types.Array(dtype, ndim, "A", readonly=True)


_SIGNATURES = {
    find_peaks_entry: (_ro(types.float32, 2), types.float32, types.int64, types.int64,
                        types.float32, types.float32),
    lsa_entry: (_ro(types.float64, 2),),
    assign_entry: (_ro(types.int32, 1), _ro(types.int32, 1), _ro(types.float32, 1),
                    types.int64, types.int64, types.int64),
    decode_entry: (_ro(types.float32, 4), _ro(types.float32, 4), _ro(types.int32, 2),
                    _ro(types.int32, 2), _ro(types.uint8, 1), types.int64,
                    types.Array(types.int32, 1, "C"),
                    types.Array(types.uint8, 1, "C", readonly=True), _ro(types.float32, 1)),
    fp_mode_entry: (),
    set_fp_mode_entry: (types.uint32,),
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
    return _compiled(fp_mode_entry)()


def _restore_fp_mode(saved):
    _compiled(set_fp_mode_entry)(saved)


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
    rc, out = _compiled(find_peaks_entry)(heatmap, threshold, radius, max_peaks,
                                           np.float32(split_margin), np.float32(peak_support))
    _raise_for(rc, "find_peaks")
    return out


def linear_sum_assignment(cost):
    """Column of each row minimising the total cost (-1 where a row has none)."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError("cost must be a 2-D array")
    rc, out = _compiled(lsa_entry)(cost, )
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
    m, out = _compiled(assign_entry)(a, b, score, na, nb, imode)
    _raise_for(m, "assign_limb")
    return out


_SORTS = ("heap", "any", "stable")


def sort_candidates(a, b, score, method):
    """(a, b, score) sorted by one of the core's sorts into the decoder's order (score
    descending, then a, then b): "heap", "any" (radix) or "stable" (radix on the
    score, for items that come in (a, b) order). Returns three arrays. Compiled on
    first use (tests only), not by warm_up."""
    a = np.ascontiguousarray(a, dtype=np.int32)
    b = np.ascontiguousarray(b, dtype=np.int32)
    score = np.ascontiguousarray(score, dtype=np.float32)
    if b.shape[0] != a.shape[0] or score.shape[0] != a.shape[0]:
        raise ValueError("a, b and score must have the same length")
    if method not in _SORTS:
        raise ValueError(f"method={method!r}; expected 'heap', 'any' or 'stable'")
    return sort_entry(a, b, score, _SORTS.index(method))


def _c_int(value, name):
    value = int(value)
    if not -_INT_MAX - 1 <= value <= _INT_MAX:
        raise OverflowError(f"{name} does not fit a C int: {value}")
    return value


class CoreDecoder:
    """Holds a skeleton and parameters; decodes frames without the GIL (Numba)."""

    def __init__(self, limbs, paf_channels, redundant, num_keypoints, record,
                 limb_lengths=None):
        self._limb_kp = np.array(limbs, np.int32).reshape(-1, 2)
        self._limb_paf = np.array(paf_channels, np.int32).reshape(-1, 2)
        self._limb_redundant = np.array(redundant, np.uint8).reshape(-1)
        num_limbs = self._limb_redundant.shape[0]
        self._limb_kp = self._limb_kp[:num_limbs]
        self._limb_paf = self._limb_paf[:num_limbs]
        # pd_skeleton.limb_length: none (NULL) is an empty array.
        self._limb_len = np.zeros(0, np.float32)
        if limb_lengths is not None:
            self._limb_len = np.array(limb_lengths, np.float32).reshape(-1)
            if self._limb_len.shape[0] != num_limbs:
                raise ValueError(f"limb_lengths has {self._limb_len.shape[0]} values; "
                                 f"expected one per limb ({num_limbs})")
        K = _c_int(num_keypoints, "num_keypoints")
        self._num_keypoints = K
        self._check_skeleton()
        # Joining's view of the skeleton, worked out once (join.tree_table).
        self._tree = tree_table(self._limb_kp, self._limb_redundant, K)
        self._record = prepared(record)
        # The decode takes the record as its bytes (see params.record_in).
        self._record_bytes = self._record.view(np.uint8)
        # Checked on every call: worked out once.
        self._paf_channels_needed = int(self._limb_paf.max()) + 1 if self._limb_paf.size else 0
        max_peaks = int(self._record["max_peaks"][0])
        self.max_people = K * max_peaks // max(int(self._record["min_keypoints"][0]), 2)

    def _check_skeleton(self):
        """pd_check_params' checks of the skeleton, with the binding's messages."""
        K = self._num_keypoints
        if not 1 <= K <= 4096:
            raise ValueError(f"Decoder skeleton: the skeleton has {K} keypoints; expected "
                             "1..4096")
        for limb, ((a, b), (px, py)) in enumerate(zip(self._limb_kp.tolist(),
                                                      self._limb_paf.tolist())):
            if a < 0 or b < 0 or a >= K or b >= K or a == b:
                raise ValueError(f"Decoder skeleton: limb {limb} joins keypoints ({a}, {b}); "
                                 f"expected two different keypoints in 0..{K - 1}")
            if px < 0 or py < 0:
                raise ValueError(f"Decoder skeleton: limb {limb} reads PAF channels ({px}, "
                                 f"{py}); expected channels >= 0")

    def workspace_bytes(self, height, width, frames=1):
        """Scratch bytes the caller must pass: the Numba core allocates its own
        workspace, so this is a token amount (0 for empty maps, as in C)."""
        if height <= 0 or width <= 0:
            return 0
        return 64

    def _check_fields(self, heat, paf, where):
        """pd_check_fields' checks, with the C binding's messages."""
        K = self._num_keypoints
        height, width = heat.shape[-2:]
        if height <= 0 or width <= 0:
            raise ValueError(f"{where}: the maps are empty ({height}x{width}); expected at "
                             "least 1x1")
        if heat.shape[-3] < K:
            raise ValueError(f"{where}: heatmaps has {heat.shape[-3]} channels; expected at "
                             f"least the skeleton's {K}")
        if paf.shape[-2:] != (height, width):
            raise ValueError(f"{where}: heatmaps are {height}x{width} but pafs are "
                             f"{paf.shape[-2]}x{paf.shape[-1]}; expected the same size")
        if self._paf_channels_needed > paf.shape[-3]:
            raise ValueError(f"{where}: the skeleton reads PAF channels up to "
                             f"{self._paf_channels_needed - 1}, but pafs has {paf.shape[-3]} "
                             "channels")

    def _run(self, heat4, paf4):
        decode = _compiled(decode_entry)
        saved = _fp_mode()
        try:
            return decode(heat4, paf4, self._limb_kp, self._limb_paf, self._limb_redundant,
                          self._num_keypoints, self._tree, self._record_bytes,
                          self._limb_len)
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
