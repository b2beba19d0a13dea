# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled core: thin Cython bindings over csrc/. Private; use pafdecode.Decoder.

Every function here expects arguments already validated and converted by the
Python layer (float32 arrays with element-aligned strides); it still refuses,
with ValueError, anything the C core reports as out of range.
"""

from libc.stdint cimport int32_t, uint8_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

import numpy as np

from pafdecode import _params


def _check_record_layout():
    """The record the Python layer builds must be pd_params byte for byte."""
    dtype = _params.RECORD_DTYPE
    names = tuple(pd_param_name(i).decode() for i in range(pd_param_count()))
    offsets = tuple(pd_param_offset(i) for i in range(pd_param_count()))
    ok = (dtype.names == names and dtype.itemsize == sizeof(pd_params)
          and tuple(dtype.fields[n][1] for n in names) == offsets)
    if not ok:
        raise ImportError(
            "pafdecode._kernels was built from another parameter table than "
            "pafdecode._params reads: the C struct pd_params has the fields "
            f"{list(zip(names, offsets))} in {sizeof(pd_params)} bytes, RECORD_DTYPE has "
            f"{[(n, dtype.fields[n][1]) for n in dtype.names]} in {dtype.itemsize}; "
            "rebuild the package")


_check_record_layout()

cdef extern from "pafdecode.h" nogil:
    int PD_OK
    int PD_ERR_ARGUMENT
    int PD_ERR_WORKSPACE
    int PD_ASSIGN_GREEDY
    int PD_ASSIGN_HUNGARIAN

    ctypedef struct pd_fields:
        const float *data
        int channels, height, width
        Py_ssize_t stride_c, stride_y, stride_x

    ctypedef struct pd_skeleton:
        int num_keypoints
        int num_limbs
        const int32_t *limb_keypoints
        const int32_t *limb_paf
        const uint8_t *limb_redundant

    # Only the fields the bindings read; the layout is the header's (pd_params.def).
    ctypedef struct pd_params:
        float stride
        int32_t max_peaks
        int32_t min_keypoints
        float join_fragments

    ctypedef struct pd_stats:
        int32_t peaks
        int32_t candidates
        int32_t connections
        int32_t people

    size_t pd_peaks_workspace_size(int height, int width, int max_peaks)
    int pd_find_peaks(const float *map, int height, int width, Py_ssize_t stride_y,
                      Py_ssize_t stride_x, float threshold, int radius, int max_peaks,
                      float split_margin, float peak_support, float *out_x, float *out_y,
                      float *out_value, void *workspace, size_t workspace_size)
    size_t pd_lsa_workspace_size(int rows, int cols)
    int pd_linear_sum_assignment(const double *cost, int rows, int cols, Py_ssize_t ld,
                                 int32_t *col_of_row, void *workspace, size_t workspace_size)
    ctypedef struct pd_candidate:
        int32_t a, b
        float score
    void pd_sort_candidates(pd_candidate *items, int n)
    size_t pd_assign_workspace_size(int max_peaks)
    int pd_assign_limb(const pd_candidate *candidates, int num_candidates, int na, int nb,
                       int mode, pd_candidate *out, void *workspace, size_t workspace_size)
    size_t pd_workspace_size(const pd_skeleton *skeleton, const pd_params *params,
                             int height, int width)
    int pd_max_people(const pd_skeleton *skeleton, const pd_params *params)
    int pd_check_params(const pd_skeleton *skeleton, const pd_params *params)
    int pd_params_check(const pd_params *params)
    int pd_param_count()
    const char *pd_param_name(int index)
    size_t pd_param_offset(int index)
    int pd_decode_frame(const pd_skeleton *skeleton, const pd_params *params,
                        const pd_fields *heatmaps, const pd_fields *pafs, void *workspace,
                        size_t workspace_size, float *out_keypoints, float *out_scores,
                        pd_stats *stats)
    int pd_decode_batch(const pd_skeleton *skeleton, const pd_params *params,
                        const pd_fields *heatmaps, Py_ssize_t heat_frame_stride,
                        const pd_fields *pafs, Py_ssize_t paf_frame_stride, int num_frames,
                        void *workspace, size_t workspace_size, float *out_keypoints,
                        float *out_scores, int32_t *out_counts, pd_stats *stats)

STAT_FIELDS = ("peaks", "candidates", "connections", "people")


cdef int _raise_for(int rc, str where) except -1:
    if rc == PD_ERR_WORKSPACE:
        raise MemoryError(f"{where}: workspace too small (internal error)")
    if rc < 0:
        raise ValueError(f"{where}: the C core rejected its arguments (code {rc})")
    return 0


cdef Py_ssize_t _elements(Py_ssize_t byte_stride, str what) except? -1:
    if byte_stride % sizeof(float) != 0:
        raise ValueError(f"{what} has a stride that is not a whole number of float32 elements")
    return byte_stride // <Py_ssize_t>sizeof(float)


def find_peaks(const float[:, :] heatmap, float threshold, int radius, int max_peaks,
               float split_margin=0.0, float peak_support=0.0):
    """Peaks of one (H, W) float32 map: an (N, 3) float32 array of x, y, value in
    map pixels, strongest first; split_margin > 0 also splits merged peaks;
    peak_support > 0 keeps only peaks whose 1-2-1 weighted 3x3 mean exceeds it."""
    cdef int h = heatmap.shape[0], w = heatmap.shape[1]
    cdef Py_ssize_t sy = _elements(heatmap.strides[0], "heatmap")
    cdef Py_ssize_t sx = _elements(heatmap.strides[1], "heatmap")
    if h == 0 or w == 0 or max_peaks <= 0:
        return np.zeros((0, 3), np.float32)
    cdef size_t ws_size = pd_peaks_workspace_size(h, w, max_peaks)
    cdef void *ws = malloc(ws_size)
    cdef float[:, ::1] out = np.empty((3, max_peaks), np.float32)
    cdef int n
    if ws == NULL:
        raise MemoryError()
    try:
        with nogil:
            n = pd_find_peaks(&heatmap[0, 0], h, w, sy, sx, threshold, radius, max_peaks,
                              split_margin, peak_support, &out[0, 0], &out[1, 0], &out[2, 0],
                              ws, ws_size)
        _raise_for(n, "find_peaks")
    finally:
        free(ws)
    return np.ascontiguousarray(np.asarray(out)[:, :n].T)


def linear_sum_assignment(const double[:, :] cost):
    """Column of each row minimising the total cost (-1 where a row has none)."""
    cdef int rows = cost.shape[0], cols = cost.shape[1]
    cdef int32_t[::1] col_of_row = np.full(rows, -1, np.int32)
    cdef double[:, ::1] dense = np.ascontiguousarray(cost)
    cdef size_t ws_size = pd_lsa_workspace_size(rows, cols)
    cdef void *ws = malloc(ws_size if ws_size > 0 else 1)
    cdef int rc
    if ws == NULL:
        raise MemoryError()
    try:
        with nogil:
            rc = pd_linear_sum_assignment(&dense[0, 0] if rows > 0 and cols > 0 else NULL,
                                          rows, cols, cols,
                                          &col_of_row[0] if rows > 0 else NULL, ws, ws_size)
        _raise_for(rc, "linear_sum_assignment")
    finally:
        free(ws)
    return np.asarray(col_of_row)


def assign_limb(const int32_t[::1] a, const int32_t[::1] b, const float[::1] score,
                int na, int nb, str mode):
    """Connections chosen among candidate limbs (a[i], b[i], score[i]), peak indices
    below na and nb: an (M, 3) float64 array of a, b, score, best first."""
    cdef int n = a.shape[0], i, m, rc
    if b.shape[0] != n or score.shape[0] != n:
        raise ValueError("a, b and score must have the same length")
    for i in range(n):
        if not (0 <= a[i] < na and 0 <= b[i] < nb):
            raise ValueError(f"candidate {i} names a peak outside 0..{na - 1} x 0..{nb - 1}")
    cdef int side = max(na, nb, 1)
    cdef size_t ws_size = pd_assign_workspace_size(side)
    cdef pd_candidate *cands = <pd_candidate *>malloc((2 * <size_t>n + 1) * sizeof(pd_candidate) + ws_size)
    if cands == NULL:
        raise MemoryError()
    cdef pd_candidate *out = cands + n
    cdef void *ws = <void *>(cands + 2 * n + 1)
    cdef int imode = PD_ASSIGN_HUNGARIAN if mode == "hungarian" else PD_ASSIGN_GREEDY
    try:
        for i in range(n):
            cands[i].a = a[i]
            cands[i].b = b[i]
            cands[i].score = score[i]
        with nogil:
            # The decoder hands candidates over sorted; so does this binding.
            pd_sort_candidates(cands, n)
            m = pd_assign_limb(cands, n, na, nb, imode, out, ws, ws_size)
        _raise_for(m, "assign_limb")
        result = np.empty((m, 3), np.float64)
        for i in range(m):
            result[i, 0] = out[i].a
            result[i, 1] = out[i].b
            result[i, 2] = out[i].score
    finally:
        free(cands)
    return result


cdef int _load_params(pd_params *params, record) except -1:
    """Copies a record of _params.RECORD_DTYPE into params and checks every option
    against the table's range, as the C core does."""
    rec = np.asarray(record)
    if rec.dtype != _params.RECORD_DTYPE or rec.size != 1:
        raise TypeError("record must be one pafdecode._params.RECORD_DTYPE record "
                        f"(_params.to_record), got {rec.dtype} of shape {rec.shape}")
    cdef bytes raw = rec.reshape(()).tobytes()
    memcpy(params, <const char *>raw, sizeof(pd_params))
    cdef int bad = pd_params_check(params)
    if bad >= 0:
        name = pd_param_name(bad).decode()
        raise ValueError(f"{name} is out of range for the C core (got {rec[name].item()!r})")
    return 0


cdef void _view(pd_fields *view, const float[:, :, :] arr, str what) except *:
    view.data = &arr[0, 0, 0] if arr.shape[0] > 0 else NULL
    view.channels = arr.shape[0]
    view.height = arr.shape[1]
    view.width = arr.shape[2]
    view.stride_c = _elements(arr.strides[0], what)
    view.stride_y = _elements(arr.strides[1], what)
    view.stride_x = _elements(arr.strides[2], what)


cdef class CoreDecoder:
    """Holds a skeleton and parameters in C form; decodes frames without the GIL."""

    cdef pd_skeleton skel
    cdef pd_params params
    cdef object _limb_keypoints, _limb_paf, _limb_redundant
    cdef readonly int max_people

    def __init__(self, limbs, paf_channels, redundant, int num_keypoints, record):
        self._limb_keypoints = np.array(limbs, np.int32).reshape(-1)
        self._limb_paf = np.array(paf_channels, np.int32).reshape(-1)
        self._limb_redundant = np.array(redundant, np.uint8).reshape(-1)
        cdef int32_t[::1] lk = self._limb_keypoints
        cdef int32_t[::1] lp = self._limb_paf
        cdef uint8_t[::1] lr = self._limb_redundant
        self.skel.num_keypoints = num_keypoints
        self.skel.num_limbs = lr.shape[0]
        self.skel.limb_keypoints = &lk[0] if lk.shape[0] > 0 else NULL
        self.skel.limb_paf = &lp[0] if lp.shape[0] > 0 else NULL
        self.skel.limb_redundant = &lr[0] if lr.shape[0] > 0 else NULL
        _load_params(&self.params, record)
        _raise_for(pd_check_params(&self.skel, &self.params), "Decoder skeleton")
        self.max_people = pd_max_people(&self.skel, &self.params)

    def workspace_bytes(self, int height, int width, int frames=1):
        """Bytes of scratch memory decode or decode_batch needs (0 for empty maps)."""
        cdef size_t ws = pd_workspace_size(&self.skel, &self.params, height, width)
        if ws == 0:
            return 0
        cdef size_t per_frame = (<size_t>self.max_people * (self.skel.num_keypoints * 3 + 1)
                                 * sizeof(float) + sizeof(int32_t) + sizeof(pd_stats))
        return ws + <size_t>max(frames, 1) * per_frame + 64

    def decode(self, const float[:, :, :] heatmaps, const float[:, :, :] pafs,
               unsigned char[::1] scratch):
        """One frame of (C, H, W) views -> (keypoints (P, K, 3), scores (P,), stats).

        ``scratch`` holds at least workspace_bytes(H, W) bytes; callers keep one per
        thread and reuse it, so a decode allocates nothing but its results."""
        cdef pd_fields heat, paf
        _view(&heat, heatmaps, "heatmaps")
        _view(&paf, pafs, "pafs")
        cdef int K = self.skel.num_keypoints
        cdef size_t ws_size = pd_workspace_size(&self.skel, &self.params, heat.height, heat.width)
        cdef size_t out_floats = <size_t>self.max_people * K * 3
        if ws_size == 0:
            raise ValueError("decode: empty maps or invalid parameters")
        if <size_t>scratch.shape[0] < self.workspace_bytes(heat.height, heat.width, 1):
            raise ValueError("decode: scratch buffer too small")
        cdef char *block = <char *>&scratch[0]
        cdef float *out_kp = <float *>(block + ws_size)
        cdef float *out_sc = out_kp + out_floats
        cdef pd_stats stats
        cdef int n
        with nogil:
            n = pd_decode_frame(&self.skel, &self.params, &heat, &paf, block, ws_size,
                                out_kp, out_sc, &stats)
        _raise_for(n, "decode")
        keypoints = np.empty((n, K, 3), np.float32)
        scores = np.empty(n, np.float32)
        if n > 0:
            _copy_out(keypoints, scores, out_kp, out_sc, n, K)
        return keypoints, scores, (stats.peaks, stats.candidates, stats.connections, stats.people)

    def decode_batch(self, const float[:, :, :, :] heatmaps, const float[:, :, :, :] pafs,
                     unsigned char[::1] scratch):
        """N frames of (N, C, H, W) views -> a list of (keypoints, scores, stats);
        ``scratch`` holds at least workspace_bytes(H, W, N) bytes."""
        cdef int frames = heatmaps.shape[0]
        if frames == 0:
            return []
        cdef pd_fields heat, paf
        _view(&heat, heatmaps[0], "heatmaps")
        _view(&paf, pafs[0], "pafs")
        cdef Py_ssize_t heat_step = _elements(heatmaps.strides[0], "heatmaps")
        cdef Py_ssize_t paf_step = _elements(pafs.strides[0], "pafs")
        cdef int K = self.skel.num_keypoints
        cdef size_t per_frame = <size_t>self.max_people * K * 3
        cdef size_t ws_size = pd_workspace_size(&self.skel, &self.params, heat.height, heat.width)
        if ws_size == 0:
            raise ValueError("decode_batch: empty maps or invalid parameters")
        if <size_t>scratch.shape[0] < self.workspace_bytes(heat.height, heat.width, frames):
            raise ValueError("decode_batch: scratch buffer too small")
        cdef char *block = <char *>&scratch[0]
        cdef float *out_kp = <float *>(block + ws_size)
        cdef float *out_sc = out_kp + <size_t>frames * per_frame
        cdef int32_t *counts = <int32_t *>(out_sc + <size_t>frames * self.max_people)
        cdef pd_stats *stats = <pd_stats *>(counts + frames)
        cdef int rc, f, n
        with nogil:
            rc = pd_decode_batch(&self.skel, &self.params, &heat, heat_step, &paf, paf_step,
                                 frames, block, ws_size, out_kp, out_sc, counts, stats)
        _raise_for(rc, "decode_batch")
        results = []
        for f in range(frames):
            n = counts[f]
            keypoints = np.empty((n, K, 3), np.float32)
            scores = np.empty(n, np.float32)
            if n > 0:
                _copy_out(keypoints, scores, out_kp + f * per_frame,
                          out_sc + <size_t>f * self.max_people, n, K)
            results.append((keypoints, scores, (stats[f].peaks, stats[f].candidates,
                                                stats[f].connections, stats[f].people)))
        return results


cdef void _copy_out(float[:, :, ::1] keypoints, float[::1] scores, const float *kp,
                    const float *sc, int n, int K) noexcept:
    memcpy(&keypoints[0, 0, 0], kp, <size_t>n * K * 3 * sizeof(float))
    memcpy(&scores[0], sc, <size_t>n * sizeof(float))
