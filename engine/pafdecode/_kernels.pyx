# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled core: thin Cython bindings over csrc/. Private; use pafdecode.Decoder.

Every function here expects arguments already validated and converted by the
Python layer (float32 arrays with element-aligned strides); it still refuses,
with ValueError, anything the C core reports as out of range.
"""

from libc.stdint cimport int32_t, uint8_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cpython.buffer cimport (PyBUF_FORMAT, PyBUF_STRIDES, PyBUF_WRITABLE, PyBuffer_Release,
                             PyObject_GetBuffer)

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
        const float *limb_length

    # Only the fields the bindings read; the layout is the header's (pd_params.def).
    ctypedef struct pd_params:
        float stride
        float peak_threshold
        int32_t peak_radius
        int32_t max_peaks
        float peak_support
        int32_t paf_samples
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
    void pd_sort_candidates_stable(pd_candidate *items, int n, pd_candidate *scratch)
    void pd_sort_candidates_any(pd_candidate *items, int n, pd_candidate *scratch)
    size_t pd_assign_workspace_size(int max_peaks)
    int pd_assign_limb(const pd_candidate *candidates, int num_candidates, int na, int nb,
                       int mode, pd_candidate *out, void *workspace, size_t workspace_size)
    size_t pd_workspace_size(const pd_skeleton *skeleton, const pd_params *params,
                             int height, int width)
    int pd_max_people(const pd_skeleton *skeleton, const pd_params *params)
    int pd_check_params(const pd_skeleton *skeleton, const pd_params *params)
    int pd_params_check(const pd_params *params)
    void pd_params_default(pd_params *params)
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

# The stages of pd_decode_frame, for the stage bindings (not public C API).
cdef extern from "internal.h" nogil:
    ctypedef struct pd_arena:
        size_t used
    void pd_arena_init(pd_arena *arena, void *workspace, size_t size)
    void pd_arena_measuring(pd_arena *arena)
    int pd_arena_ok(const pd_arena *arena)
    size_t pd_arena_size(const pd_arena *arena)

    ctypedef struct pd_peak_set:
        int max_peaks
        float *x
        float *y
        float *value
        int32_t *count

    ctypedef struct pd_people:
        int num_keypoints
        int capacity
        int total_peaks
        int count
        int32_t *slots
        int32_t *keypoints
        int32_t *connections
        double *evidence
        int32_t *owner
        int32_t *co_owner

    unsigned pd_enter_flush_denormals()
    void pd_leave_flush_denormals(unsigned saved)
    int pd_stage_peaks(const pd_params *params, const pd_fields *heatmaps, int num_keypoints,
                       const pd_peak_set *peaks, void *workspace, size_t workspace_size)
    int pd_stage_candidates(const pd_params *params, const pd_skeleton *s, const pd_fields *pafs,
                            int limb, const pd_peak_set *peaks, pd_candidate *out,
                            void *workspace, size_t workspace_size)
    int pd_stage_connections(const pd_params *params, const pd_candidate *candidates, int nc,
                             int na, int nb, pd_candidate *out, void *workspace,
                             size_t workspace_size)
    void pd_people_layout(pd_people *people, int num_keypoints, int total_peaks, pd_arena *arena)
    void pd_people_clear(pd_people *people)
    void pd_stage_assemble_limb(const pd_params *params, pd_people *people, const pd_skeleton *s,
                                int limb, const pd_peak_set *peaks, const pd_candidate *candidates,
                                int nc, const pd_candidate *chosen, int nconn,
                                pd_candidate *best_of_a, pd_candidate *best_of_b)
    int pd_stage_limb_prior(const pd_params *params, pd_people *people,
                            const pd_skeleton *s, int limb, const pd_peak_set *peaks,
                            pd_candidate *candidates, int nc, double *scale,
                            pd_candidate *moved)
    size_t pd_score_workspace_size(int height, int width, int paf_samples, int max_peaks)
    size_t pd_join_workspace_size(int num_keypoints, int capacity, int total_peaks)
    int pd_stage_join(const pd_params *params, pd_people *people, const pd_skeleton *s,
                      const pd_peak_set *peaks, void *workspace, size_t workspace_size)
    int pd_people_emit(const pd_people *people, const pd_peak_set *peaks, const pd_params *params,
                       pd_candidate *order, pd_candidate *scratch, float *out_keypoints,
                       float *out_scores)


STAT_FIELDS = ("peaks", "candidates", "connections", "people")


def default_record():
    """pd_params_default as a pafdecode._params record: the C core's own defaults."""
    record = np.zeros((), _params.RECORD_DTYPE)
    cdef unsigned char[::1] raw = record.reshape(1).view(np.uint8)
    pd_params_default(<pd_params *>&raw[0])
    return record


cdef int _raise_for(int rc, str where, object refusal=None) except -1:
    """Raises for a PD_ERR code; `refusal` says which argument the C core refused, with
    its value and what it expects."""
    if rc == PD_ERR_WORKSPACE:
        raise MemoryError(f"{where}: the workspace is smaller than the C core needs for "
                          "these maps (internal error: pd_workspace_size measures it)")
    if rc == PD_ERR_ARGUMENT:
        raise ValueError(f"{where}: " + (refusal or "an argument is out of the C core's range "
                                         "(pafdecode.h documents each function's)"))
    if rc < 0:
        raise ValueError(f"{where}: the C core returned {rc}, which is not one of its error "
                         f"codes (PD_ERR_ARGUMENT {PD_ERR_ARGUMENT}, PD_ERR_WORKSPACE "
                         f"{PD_ERR_WORKSPACE}); expected one of them")
    return 0


cdef str _skeleton_refusal(const pd_skeleton *s):
    """The rule of pd_check_params a skeleton breaks, with the values, or None."""
    cdef int K = s.num_keypoints, l, a, b, px, py
    if not 1 <= K <= 4096:
        return f"the skeleton has {K} keypoints; expected 1..4096"
    if s.num_limbs < 0:
        return f"the skeleton has {s.num_limbs} limbs; expected 0 or more"
    for l in range(s.num_limbs):
        a = s.limb_keypoints[2 * l]
        b = s.limb_keypoints[2 * l + 1]
        if a < 0 or b < 0 or a >= K or b >= K or a == b:
            return (f"limb {l} joins keypoints ({a}, {b}); expected two different "
                    f"keypoints in 0..{K - 1}")
        px = s.limb_paf[2 * l]
        py = s.limb_paf[2 * l + 1]
        if px < 0 or py < 0:
            return f"limb {l} reads PAF channels ({px}, {py}); expected channels >= 0"
    return None


def _peaks_refusal(int height, int width, float threshold, int radius, int max_peaks,
                   float peak_support):
    """The argument pd_find_peaks refuses (its pd_peaks_args_ok), with its value."""
    cells = height * <long long>width
    if height <= 0 or width <= 0 or cells > 2**30 - 1:
        return (f"the map is {height}x{width}; expected 1 to {2**30 - 1} cells")
    if radius < 1:
        return f"radius is {radius}; expected 1 or more"
    if max_peaks < 0:
        return f"max_peaks is {max_peaks}; expected 0 or more"
    if threshold != threshold:
        return "threshold is nan; expected a number"
    if not 0 <= peak_support < float("inf"):
        return f"peak_support is {peak_support}; expected a finite number >= 0"
    return None


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
        if n < 0:
            _raise_for(n, "find_peaks", _peaks_refusal(h, w, threshold, radius, max_peaks,
                                                       peak_support))
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
        _raise_for(rc, "linear_sum_assignment",
                   "cost leaves a row no finite way to a column (a NaN or an infinite cost); "
                   "expected finite costs")
    finally:
        free(ws)
    return np.asarray(col_of_row)


_SORTS = ("heap", "any", "stable")


def sort_candidates(const int32_t[::1] a, const int32_t[::1] b, const float[::1] score,
                    str method):
    """(a, b, score) sorted by one of the core's sorts into the decoder's order (score
    descending, then a, then b): "heap", "any" (radix) or "stable" (radix on the
    score, for items that come in (a, b) order). Returns three arrays."""
    cdef int n = a.shape[0], i
    if b.shape[0] != n or score.shape[0] != n:
        raise ValueError("a, b and score must have the same length")
    if method not in _SORTS:
        raise ValueError(f"method={method!r}; expected 'heap', 'any' or 'stable'")
    cdef int kind = _SORTS.index(method)
    cdef pd_candidate *items = <pd_candidate *>malloc((2 * <size_t>n + 1) * sizeof(pd_candidate))
    if items == NULL:
        raise MemoryError()
    out_a, out_b = np.empty(n, np.int32), np.empty(n, np.int32)
    out_score = np.empty(n, np.float32)
    try:
        for i in range(n):
            items[i].a, items[i].b, items[i].score = a[i], b[i], score[i]
        with nogil:
            if kind == 0:
                pd_sort_candidates(items, n)
            elif kind == 1:
                pd_sort_candidates_any(items, n, items + n)
            else:
                pd_sort_candidates_stable(items, n, items + n)
        for i in range(n):
            out_a[i], out_b[i], out_score[i] = items[i].a, items[i].b, items[i].score
    finally:
        free(items)
    return out_a, out_b, out_score


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
        if m < 0:
            _raise_for(m, "assign_limb", f"na={na}, nb={nb} with {n} candidates; expected "
                                         "counts >= 0")
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


cdef int _acquire_fields(Py_buffer *buf, pd_fields *view, object array, int ndim, str what,
                        Py_ssize_t *frame_step=NULL) except -1:
    """Acquires `array`'s buffer (released by the caller) and describes its last three
    axes in `view`: a float32 array of `ndim` dimensions with element-aligned data and
    strides. A leading frame axis goes to `frame_step`, in elements."""
    PyObject_GetBuffer(array, buf, PyBUF_STRIDES | PyBUF_FORMAT)
    cdef bytes fmt = buf.format
    cdef int i, first = ndim - 3
    if buf.ndim != ndim or buf.itemsize != sizeof(float) or fmt not in (b"f", b"=f", b"@f"):
        PyBuffer_Release(buf)
        raise ValueError(f"{what} must be a {ndim}-D array of native float32, got a "
                         f"{buf.ndim}-D buffer of format {fmt.decode(errors='replace')!r}")
    if (<size_t>buf.buf) % sizeof(float) != 0:
        PyBuffer_Release(buf)
        raise ValueError(f"{what} must start at a float32-aligned address")
    for i in range(ndim):
        if buf.strides[i] % <Py_ssize_t>sizeof(float) != 0:
            PyBuffer_Release(buf)
            raise ValueError(f"{what} has a stride of {buf.strides[i]} bytes on axis {i}; "
                             "expected a whole number of float32 elements")
    view.data = <const float *>buf.buf if buf.shape[first] > 0 else NULL
    view.channels = buf.shape[first]
    view.height = buf.shape[first + 1]
    view.width = buf.shape[first + 2]
    view.stride_c = buf.strides[first] // <Py_ssize_t>sizeof(float)
    view.stride_y = buf.strides[first + 1] // <Py_ssize_t>sizeof(float)
    view.stride_x = buf.strides[first + 2] // <Py_ssize_t>sizeof(float)
    if frame_step != NULL:
        frame_step[0] = buf.strides[0] // <Py_ssize_t>sizeof(float)
    return 0


cdef int _acquire_scratch(Py_buffer *buf, object scratch, size_t need, str where) except -1:
    """Acquires `scratch` as writable bytes (released by the caller), at least `need`."""
    PyObject_GetBuffer(scratch, buf, PyBUF_WRITABLE)
    if <size_t>buf.len < need:
        PyBuffer_Release(buf)
        raise ValueError(f"{where}: scratch holds {buf.len} bytes; expected at least {need} "
                         "(workspace_bytes)")
    return 0


cdef void _view(pd_fields *view, const float[:, :, :] arr, str what) except *:
    view.data = &arr[0, 0, 0] if arr.shape[0] > 0 else NULL
    view.channels = arr.shape[0]
    view.height = arr.shape[1]
    view.width = arr.shape[2]
    view.stride_c = _elements(arr.strides[0], what)
    view.stride_y = _elements(arr.strides[1], what)
    view.stride_x = _elements(arr.strides[2], what)


cdef object _limb_lengths(object limb_lengths, Py_ssize_t num_limbs):
    """pd_skeleton.limb_length as a float32 array (one per limb), or None for NULL."""
    if limb_lengths is None:
        return None
    out = np.array(limb_lengths, np.float32).reshape(-1)
    if out.shape[0] != num_limbs:
        raise ValueError(f"limb_lengths has {out.shape[0]} values; expected one per limb "
                         f"({num_limbs})")
    return out


cdef const float *_lengths_address(object lengths) except? NULL:
    if lengths is None or lengths.shape[0] == 0:
        return NULL
    cdef float[::1] view = lengths
    return &view[0]


cdef class CoreDecoder:
    """Holds a skeleton and parameters in C form; decodes frames without the GIL."""

    cdef pd_skeleton skel
    cdef pd_params params
    cdef object _limb_keypoints, _limb_paf, _limb_redundant, _limb_length
    cdef readonly int max_people

    def __init__(self, limbs, paf_channels, redundant, int num_keypoints, record,
                 limb_lengths=None):
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
        self._limb_length = _limb_lengths(limb_lengths, lr.shape[0])
        self.skel.limb_length = _lengths_address(self._limb_length)
        _load_params(&self.params, record)
        if pd_check_params(&self.skel, &self.params) != PD_OK:
            _raise_for(PD_ERR_ARGUMENT, "Decoder skeleton", _skeleton_refusal(&self.skel))
        self.max_people = pd_max_people(&self.skel, &self.params)

    def workspace_bytes(self, int height, int width, int frames=1):
        """Bytes of scratch memory decode or decode_batch needs (0 for empty maps)."""
        cdef size_t ws = pd_workspace_size(&self.skel, &self.params, height, width)
        if ws == 0:
            return 0
        return ws + self._per_frame_bytes(frames)

    def decode(self, heatmaps, pafs, scratch):
        """One frame of (C, H, W) float32 arrays (any element-aligned strides) ->
        (keypoints (P, K, 3), scores (P,), stats).

        ``scratch`` is a writable buffer of at least workspace_bytes(H, W) bytes;
        callers keep one per thread and reuse it, so a decode allocates nothing but
        its results."""
        cdef Py_buffer heat_buf, paf_buf, scratch_buf
        cdef pd_fields heat, paf
        cdef pd_stats stats
        cdef int n, K = self.skel.num_keypoints
        cdef size_t ws_size
        cdef float *out_kp
        cdef float *out_sc
        _acquire_fields(&heat_buf, &heat, heatmaps, 3, "heatmaps")
        try:
            _acquire_fields(&paf_buf, &paf, pafs, 3, "pafs")
            try:
                ws_size = self._frame_workspace(heat.height, heat.width, 1, "decode")
                _acquire_scratch(&scratch_buf, scratch, ws_size + self._per_frame_bytes(1),
                                 "decode")
                out_kp = <float *>(<char *>scratch_buf.buf + ws_size)
                out_sc = out_kp + <size_t>self.max_people * K * 3
                with nogil:
                    n = pd_decode_frame(&self.skel, &self.params, &heat, &paf,
                                        scratch_buf.buf, ws_size, out_kp, out_sc, &stats)
                PyBuffer_Release(&scratch_buf)
            finally:
                PyBuffer_Release(&paf_buf)
        finally:
            PyBuffer_Release(&heat_buf)
        self._raise_for_fields(n, "decode", &heat, &paf)
        keypoints = np.empty((n, K, 3), np.float32)
        scores = np.empty(n, np.float32)
        if n > 0:
            _copy_out(keypoints, scores, out_kp, out_sc, n, K)
        return keypoints, scores, (stats.peaks, stats.candidates, stats.connections, stats.people)

    def decode_batch(self, heatmaps, pafs, scratch):
        """N frames of (N, C, H, W) float32 arrays -> a list of (keypoints, scores,
        stats), each frame's arrays views of one allocation; ``scratch`` holds at
        least workspace_bytes(H, W, N) bytes."""
        cdef Py_buffer heat_buf, paf_buf, scratch_buf
        cdef pd_fields heat, paf
        cdef Py_ssize_t heat_step, paf_step
        cdef int frames, rc, f, total = 0, K = self.skel.num_keypoints
        cdef size_t ws_size, per_frame = <size_t>self.max_people * K * 3
        cdef float *out_kp
        cdef float *out_sc
        cdef int32_t *counts
        cdef pd_stats *stats
        _acquire_fields(&heat_buf, &heat, heatmaps, 4, "heatmaps", &heat_step)
        try:
            _acquire_fields(&paf_buf, &paf, pafs, 4, "pafs", &paf_step)
            try:
                frames = heat_buf.shape[0]
                if paf_buf.shape[0] != frames:
                    raise ValueError(f"decode_batch: heatmaps hold {frames} frames but pafs "
                                     f"hold {paf_buf.shape[0]}")
                if frames == 0:
                    return []
                ws_size = self._frame_workspace(heat.height, heat.width, frames, "decode_batch")
                _acquire_scratch(&scratch_buf, scratch,
                                 ws_size + self._per_frame_bytes(frames), "decode_batch")
                out_kp = <float *>(<char *>scratch_buf.buf + ws_size)
                out_sc = out_kp + <size_t>frames * per_frame
                counts = <int32_t *>(out_sc + <size_t>frames * self.max_people)
                stats = <pd_stats *>(counts + frames)
                with nogil:
                    rc = pd_decode_batch(&self.skel, &self.params, &heat, heat_step, &paf,
                                         paf_step, frames, scratch_buf.buf, ws_size, out_kp,
                                         out_sc, counts, stats)
                PyBuffer_Release(&scratch_buf)
            finally:
                PyBuffer_Release(&paf_buf)
        finally:
            PyBuffer_Release(&heat_buf)
        self._raise_for_fields(rc, "decode_batch", &heat, &paf)
        for f in range(frames):
            total += counts[f]
        keypoints = np.empty((total, K, 3), np.float32)
        scores = np.empty(total, np.float32)
        cdef float[:, :, ::1] kp_view = keypoints
        cdef float[::1] sc_view = scores
        results = []
        cdef int start = 0, n
        for f in range(frames):
            n = counts[f]
            if n > 0:
                memcpy(&kp_view[start, 0, 0], out_kp + f * per_frame,
                       <size_t>n * K * 3 * sizeof(float))
                memcpy(&sc_view[start], out_sc + <size_t>f * self.max_people,
                       <size_t>n * sizeof(float))
            results.append((keypoints[start:start + n], scores[start:start + n],
                            (stats[f].peaks, stats[f].candidates, stats[f].connections,
                             stats[f].people)))
            start += n
        return results

    cdef size_t _frame_workspace(self, int height, int width, int frames, str where) except 0:
        """pd_workspace_size for maps of this size (a ValueError for empty maps)."""
        cdef size_t ws = pd_workspace_size(&self.skel, &self.params, height, width)
        if ws == 0:
            raise ValueError(f"{where}: the maps are empty ({height}x{width}); expected at "
                             "least 1x1")
        return ws

    cdef size_t _per_frame_bytes(self, int frames):
        """Bytes after the workspace: frames' keypoints, scores, counts and stats."""
        return <size_t>max(frames, 1) * (<size_t>self.max_people * (self.skel.num_keypoints * 3 + 1)
                                         * sizeof(float) + sizeof(int32_t) + sizeof(pd_stats)) + 64

    cdef int _raise_for_fields(self, int rc, str where, const pd_fields *heat,
                               const pd_fields *paf) except -1:
        """A refusal of pd_decode_frame or pd_decode_batch, said as pd_check_fields'
        rule that failed (the parameters and skeleton were checked when this object
        was made)."""
        cdef int l, channel
        if rc == PD_ERR_ARGUMENT:
            if heat.channels < self.skel.num_keypoints:
                raise ValueError(f"{where}: heatmaps has {heat.channels} channels; expected "
                                 f"at least the skeleton's {self.skel.num_keypoints}")
            if paf.height != heat.height or paf.width != heat.width:
                raise ValueError(f"{where}: heatmaps are {heat.height}x{heat.width} but pafs "
                                 f"are {paf.height}x{paf.width}; expected the same size")
            channel = -1
            for l in range(2 * self.skel.num_limbs):
                channel = max(channel, self.skel.limb_paf[l])
            if channel >= paf.channels:
                raise ValueError(f"{where}: the skeleton reads PAF channels up to {channel}, "
                                 f"but pafs has {paf.channels} channels")
        return _raise_for(rc, where)


cdef void _copy_out(float[:, :, ::1] keypoints, float[::1] scores, const float *kp,
                    const float *sc, int n, int K) noexcept:
    memcpy(&keypoints[0, 0, 0], kp, <size_t>n * K * 3 * sizeof(float))
    memcpy(&scores[0], sc, <size_t>n * sizeof(float))



# -- stage bindings (/work/golden/STAGE_API.md) ------------------------------------------
#
# Each runs one stage of pd_decode_frame on the given input, with denormals flushed as the
# decode flushes them, so chaining stage_peaks -> stage_emit gives CoreDecoder.decode's
# keypoints and scores. Workspaces are NumPy buffers sized by the C core's own measuring
# layouts; every stage allocates its own, so these are for tests, not for speed.

cdef class _Stage:
    """A checked pd_params and skeleton, and the peaks (x, y, value, counts) a stage
    reads, held in arrays this object keeps alive."""

    cdef pd_params params
    cdef pd_skeleton skel
    cdef pd_peak_set peaks
    cdef object _keep, _lengths

    def __init__(self, record, int num_keypoints, limbs=(), paf_channels=None, redundant=None,
                 peaks=None, counts=None, limb_lengths=None):
        _load_params(&self.params, record)
        # Copies: the stage keeps them alive and writable whatever the caller passed.
        lk = np.array(limbs, np.int32).reshape(-1, 2)
        n = lk.shape[0]
        lp = np.array(paf_channels if paf_channels is not None else np.zeros((n, 2)),
                      np.int32).reshape(-1, 2)
        lr = np.array(redundant if redundant is not None else np.zeros(n), np.uint8).reshape(-1)
        if lp.shape[0] != n or lr.shape[0] != n:
            raise ValueError("limbs, paf_channels and redundant must have one row per limb")
        cdef int32_t[::1] vk = lk.reshape(-1)
        cdef int32_t[::1] vp = lp.reshape(-1)
        cdef uint8_t[::1] vr = lr
        self.skel.num_keypoints = num_keypoints
        self.skel.num_limbs = n
        self.skel.limb_keypoints = &vk[0] if n > 0 else NULL
        self.skel.limb_paf = &vp[0] if n > 0 else NULL
        self.skel.limb_redundant = &vr[0] if n > 0 else NULL
        self._lengths = _limb_lengths(limb_lengths, n)
        self.skel.limb_length = _lengths_address(self._lengths)
        if pd_check_params(&self.skel, &self.params) != PD_OK:
            _raise_for(PD_ERR_ARGUMENT, "stage skeleton", _skeleton_refusal(&self.skel))
        mp = self.params.max_peaks
        total = num_keypoints * mp
        if peaks is None:
            xs, ys, vs = (np.zeros(total, np.float32) for _ in range(3))
            cs = np.zeros(num_keypoints, np.int32)
        else:
            arr = np.asarray(peaks, np.float32)
            if arr.shape != (num_keypoints, mp, 3):
                raise ValueError(f"peaks must have shape {(num_keypoints, mp, 3)}, got {arr.shape}")
            xs, ys, vs = (np.array(arr[:, :, i].reshape(-1)) for i in range(3))
            cs = np.array(counts, np.int32).reshape(-1)
            if cs.shape[0] != num_keypoints or np.any(cs < 0) or np.any(cs > mp):
                raise ValueError(f"counts must be {num_keypoints} values in 0..{mp}")
        cdef float[::1] vx = xs
        cdef float[::1] vy = ys
        cdef float[::1] vv = vs
        cdef int32_t[::1] vc = cs
        self.peaks.max_peaks = mp
        self.peaks.x = &vx[0]
        self.peaks.y = &vy[0]
        self.peaks.value = &vv[0]
        self.peaks.count = &vc[0]
        self._keep = (lk, lp, lr, xs, ys, vs, cs)

    def peak_arrays(self):
        lk, lp, lr, xs, ys, vs, cs = self._keep
        K = self.skel.num_keypoints
        peaks = np.stack([xs, ys, vs], axis=-1).reshape(K, self.params.max_peaks, 3)
        return peaks, cs.copy()


cdef object _workspace(size_t size):
    return np.empty(max(size, 1), np.uint8)


cdef void *_address(object buffer):
    cdef uint8_t[::1] view = buffer
    return <void *>&view[0]


cdef object _candidate_list(const pd_candidate *items, int n):
    ab = np.empty((n, 2), np.int32)
    score = np.empty(n, np.float32)
    cdef int i
    for i in range(n):
        ab[i, 0] = items[i].a
        ab[i, 1] = items[i].b
        score[i] = items[i].score
    return ab, score


cdef object _to_candidates(object pair, int na, int nb):
    """A (ab, score) pair as a pd_candidate buffer (bytes of a NumPy array)."""
    ab = np.asarray(pair[0], np.int32).reshape(-1, 2)
    score = np.asarray(pair[1], np.float32).reshape(-1)
    if ab.shape[0] != score.shape[0]:
        raise ValueError("ab and score must have the same length")
    if ab.shape[0] and (ab[:, 0].min() < 0 or ab[:, 0].max() >= na or ab[:, 1].min() < 0
                        or ab[:, 1].max() >= nb):
        raise ValueError(f"a candidate names a peak outside 0..{na - 1} x 0..{nb - 1}")
    items = np.empty(ab.shape[0], np.dtype([("a", np.int32), ("b", np.int32),
                                            ("score", np.float32)]))
    items["a"] = ab[:, 0]
    items["b"] = ab[:, 1]
    items["score"] = score
    return items


cdef const pd_candidate *_items(object items):
    cdef const uint8_t[::1] raw = items.view(np.uint8).reshape(-1) if items.size else np.zeros(12, np.uint8)
    return <const pd_candidate *>&raw[0]


def stage_peaks(const float[:, :, :] heatmaps, record):
    """Stage 1: (peaks float32 (K, max_peaks, 3) of x, y, value, zero past counts;
    counts int32 (K,)) for heatmaps float32 (K, H, W)."""
    cdef int K = heatmaps.shape[0]
    cdef _Stage st = _Stage(record, K)
    cdef pd_fields heat
    _view(&heat, heatmaps, "heatmaps")
    if heat.height == 0 or heat.width == 0:
        raise ValueError("stage_peaks: empty maps")
    ws = _workspace(pd_peaks_workspace_size(heat.height, heat.width, st.params.max_peaks))
    cdef void *base = _address(ws)
    cdef size_t size = ws.shape[0]
    cdef unsigned saved
    cdef int rc
    with nogil:
        saved = pd_enter_flush_denormals()
        rc = pd_stage_peaks(&st.params, &heat, K, &st.peaks, base, size)
        pd_leave_flush_denormals(saved)
    if rc < 0:
        _raise_for(rc, "stage_peaks", _peaks_refusal(
            heat.height, heat.width, st.params.peak_threshold, st.params.peak_radius,
            st.params.max_peaks, st.params.peak_support))
    return st.peak_arrays()


def stage_candidates(const float[:, :, :] pafs, limbs, paf_channels, peaks, counts, record):
    """Stage 2: per limb, (ab int32 (M, 2) of ranks, score float32 (M,)), best first and
    capped at max_candidates, as the scoring stage leaves them."""
    peaks = np.asarray(peaks, np.float32)
    cdef _Stage st = _Stage(record, peaks.shape[0], limbs, paf_channels, None, peaks, counts)
    cdef pd_fields paf
    _view(&paf, pafs, "pafs")
    cdef int L = st.skel.num_limbs, l, nc, mp = st.params.max_peaks
    if L > 0 and np.asarray(paf_channels).max() >= paf.channels:
        raise ValueError("stage_candidates: a PAF channel is out of range")
    ws = _workspace(pd_score_workspace_size(paf.height, paf.width, st.params.paf_samples, mp))
    out = _workspace(<size_t>mp * mp * sizeof(pd_candidate))
    cdef void *base = _address(ws)
    cdef size_t size = ws.shape[0]
    cdef pd_candidate *cands = <pd_candidate *>_address(out)
    cdef unsigned saved
    result = []
    for l in range(L):
        with nogil:
            saved = pd_enter_flush_denormals()
            nc = pd_stage_candidates(&st.params, &st.skel, &paf, l, &st.peaks, cands, base, size)
            pd_leave_flush_denormals(saved)
        _raise_for(nc, "stage_candidates")
        result.append(_candidate_list(cands, nc))
    return result


def stage_connections(candidates, counts, limbs, record):
    """Stage 3: per limb, the (ab, score) connections the assignment chose, in the
    order the core emits them."""
    counts = np.asarray(counts, np.int32).reshape(-1)
    cdef _Stage st = _Stage(record, counts.shape[0], limbs)
    cdef int L = st.skel.num_limbs, l, na, nb, n, nconn, mp = st.params.max_peaks
    if len(candidates) != L:
        raise ValueError("stage_connections: one (ab, score) pair per limb")
    ws = _workspace(pd_assign_workspace_size(mp))
    out = _workspace(<size_t>mp * sizeof(pd_candidate))
    cdef void *base = _address(ws)
    cdef size_t size = ws.shape[0]
    cdef pd_candidate *chosen = <pd_candidate *>_address(out)
    cdef const pd_candidate *cands
    cdef unsigned saved
    result = []
    for l in range(L):
        na = counts[st.skel.limb_keypoints[2 * l]]
        nb = counts[st.skel.limb_keypoints[2 * l + 1]]
        if na == 0 or nb == 0:
            result.append(_candidate_list(chosen, 0))
            continue
        items = _to_candidates(candidates[l], na, nb)
        n = items.shape[0]
        cands = _items(items)
        with nogil:
            saved = pd_enter_flush_denormals()
            nconn = pd_stage_connections(&st.params, cands, n, na, nb, chosen, base, size)
            pd_leave_flush_denormals(saved)
        _raise_for(nconn, "stage_connections")
        result.append(_candidate_list(chosen, nconn))
    return result


cdef class _People:
    """A pd_people over a NumPy buffer laid out by pd_people_layout."""

    cdef pd_people people
    cdef object _buffer

    def __init__(self, int num_keypoints, int total_peaks, people=None):
        cdef pd_arena arena
        pd_arena_measuring(&arena)
        pd_people_layout(&self.people, num_keypoints, total_peaks, &arena)
        self._buffer = _workspace(pd_arena_size(&arena))
        pd_arena_init(&arena, _address(self._buffer), self._buffer.shape[0])
        pd_people_layout(&self.people, num_keypoints, total_peaks, &arena)
        if not pd_arena_ok(&arena):
            raise MemoryError("people workspace (internal error)")
        pd_people_clear(&self.people)
        if people is not None:
            self._load(people)

    cdef _load(self, people):
        cdef int K = self.people.num_keypoints, total = self.people.total_peaks
        slots = np.asarray(people["slots"], np.int32).reshape(-1, K)
        P = slots.shape[0]
        if P > self.people.capacity:
            raise ValueError(f"at most {self.people.capacity} people, got {P}")
        if np.any(slots < -1) or np.any(slots >= total):
            raise ValueError("slots name peaks outside 0..K * max_peaks - 1")
        self.people.count = P
        _fill_int32(self.people.slots, slots.reshape(-1))
        _fill_int32(self.people.keypoints, np.asarray(people["keypoints"], np.int32), P)
        _fill_int32(self.people.connections, np.asarray(people["connections"], np.int32), P)
        evidence = np.ascontiguousarray(np.asarray(people["evidence"], np.float64).reshape(-1))
        if evidence.shape[0] != P:
            raise ValueError(f"evidence must hold {P} values")
        cdef const double[::1] ev = evidence
        if P > 0:
            memcpy(self.people.evidence, &ev[0], <size_t>P * sizeof(double))
        for name in ("owner", "co_owner"):
            owners = np.asarray(people[name], np.int32).reshape(-1)
            if owners.shape[0] != total or np.any(owners < -1) or np.any(owners >= P):
                raise ValueError(f"{name} must hold {total} person indices or -1")
        _fill_int32(self.people.owner, np.asarray(people["owner"], np.int32), total)
        _fill_int32(self.people.co_owner, np.asarray(people["co_owner"], np.int32), total)

    def as_dict(self):
        cdef int K = self.people.num_keypoints, P = self.people.count
        cdef int total = self.people.total_peaks
        return {"slots": _int32_array(self.people.slots, <size_t>P * K).reshape(P, K),
                "keypoints": _int32_array(self.people.keypoints, P),
                "connections": _int32_array(self.people.connections, P),
                "evidence": _double_array(self.people.evidence, P),
                "owner": _int32_array(self.people.owner, total),
                "co_owner": _int32_array(self.people.co_owner, total)}


cdef _fill_int32(int32_t *dst, values, Py_ssize_t n=-1):
    cdef const int32_t[::1] src = np.ascontiguousarray(np.asarray(values, np.int32).reshape(-1))
    if n >= 0 and src.shape[0] != n:
        raise ValueError(f"expected {n} values, got {src.shape[0]}")
    if src.shape[0] > 0:
        memcpy(dst, &src[0], <size_t>src.shape[0] * sizeof(int32_t))


cdef object _int32_array(const int32_t *src, size_t n):
    out = np.empty(n, np.int32)
    cdef int32_t[::1] view = out
    if n > 0:
        memcpy(&view[0], src, n * sizeof(int32_t))
    return out


cdef object _double_array(const double *src, size_t n):
    out = np.empty(n, np.float64)
    cdef double[::1] view = out
    if n > 0:
        memcpy(&view[0], src, n * sizeof(double))
    return out


def stage_assembly(candidates, connections, peaks, counts, limbs, redundant, record):
    """Stage 4: the people (a dict of slots, keypoints, connections, evidence, owner,
    co_owner) after assembly and sharing, limb types in skeleton order, before joining."""
    peaks = np.asarray(peaks, np.float32)
    cdef int K = peaks.shape[0]
    cdef _Stage st = _Stage(record, K, limbs, None, redundant, peaks, counts)
    cdef int L = st.skel.num_limbs, l, na, nb, nc, nconn, mp = st.params.max_peaks
    if len(candidates) != L or len(connections) != L:
        raise ValueError("stage_assembly: one (ab, score) pair per limb in each list")
    cdef _People people = _People(K, K * mp)
    best = _workspace(2 * <size_t>mp * sizeof(pd_candidate))
    cdef pd_candidate *best_of_a = <pd_candidate *>_address(best)
    cdef pd_candidate *best_of_b = best_of_a + mp
    cdef const pd_candidate *cands
    cdef const pd_candidate *chosen
    cdef unsigned saved
    for l in range(L):
        na = st.peaks.count[st.skel.limb_keypoints[2 * l]]
        nb = st.peaks.count[st.skel.limb_keypoints[2 * l + 1]]
        if na == 0 or nb == 0:
            continue
        items = _to_candidates(candidates[l], na, nb)
        picked = _to_candidates(connections[l], na, nb)
        nc = items.shape[0]
        nconn = picked.shape[0]
        cands = _items(items)
        chosen = _items(picked)
        with nogil:
            saved = pd_enter_flush_denormals()
            pd_stage_assemble_limb(&st.params, &people.people, &st.skel, l, &st.peaks, cands,
                                   nc, chosen, nconn, best_of_a, best_of_b)
            pd_leave_flush_denormals(saved)
    return people.as_dict()


def stage_limb_prior(candidates, people, int limb, peaks, counts, limbs, limb_lengths, record):
    """Between stages 2 and 3 of limb `limb`: its candidates (ab, score) after the limb
    length prior, the people (stage_assembly's dict) being those the limbs before it
    assembled; the same candidates when the option is off."""
    peaks = np.asarray(peaks, np.float32)
    cdef int K = peaks.shape[0]
    cdef _Stage st = _Stage(record, K, limbs, None, None, peaks, counts, limb_lengths)
    if not 0 <= limb < st.skel.num_limbs:
        raise ValueError(f"limb must be in 0..{st.skel.num_limbs - 1}, got {limb}")
    cdef _People state = _People(K, K * st.params.max_peaks, people)
    cdef int na = st.peaks.count[st.skel.limb_keypoints[2 * limb]]
    cdef int nb = st.peaks.count[st.skel.limb_keypoints[2 * limb + 1]]
    items = _to_candidates(candidates, na, nb)
    cdef int nc = items.shape[0]
    if nc == 0:
        return _candidate_list(NULL, 0)
    scale = np.zeros(max(state.people.count, 1), np.float64)
    cdef double[::1] sv = scale
    cdef uint8_t[::1] raw = items.view(np.uint8).reshape(-1)
    cdef pd_candidate *cands = <pd_candidate *>&raw[0]
    spare = _workspace(<size_t>nc * sizeof(pd_candidate))
    cdef pd_candidate *moved = <pd_candidate *>_address(spare)
    cdef unsigned saved
    with nogil:
        saved = pd_enter_flush_denormals()
        pd_stage_limb_prior(&st.params, &state.people, &st.skel, limb, &st.peaks, cands, nc,
                            &sv[0], moved)
        pd_leave_flush_denormals(saved)
    return _candidate_list(cands, nc)


def stage_join(people, peaks, counts, limbs, redundant, record):
    """Stage 5: the people dict after fragment joining (a copy when join_fragments is
    off)."""
    peaks = np.asarray(peaks, np.float32)
    cdef int K = peaks.shape[0]
    cdef _Stage st = _Stage(record, K, limbs, None, redundant, peaks, counts)
    cdef int total = K * st.params.max_peaks
    cdef _People state = _People(K, total, people)
    ws = _workspace(pd_join_workspace_size(K, state.people.capacity, total)
                    if st.params.join_fragments > 0 else 0)
    cdef void *base = _address(ws)
    cdef size_t size = ws.shape[0]
    cdef unsigned saved
    cdef int rc
    with nogil:
        saved = pd_enter_flush_denormals()
        rc = pd_stage_join(&st.params, &state.people, &st.skel, &st.peaks, base, size)
        pd_leave_flush_denormals(saved)
    _raise_for(rc, "stage_join")
    return state.as_dict()


def stage_emit(people, peaks, counts, record):
    """The output: (keypoints float32 (N, K, 3) in image pixels, scores float32 (N,)),
    the people that pass min_keypoints and min_person_score, best first."""
    peaks = np.asarray(peaks, np.float32)
    cdef int K = peaks.shape[0]
    cdef _Stage st = _Stage(record, K, (), None, None, peaks, counts)
    cdef _People state = _People(K, K * st.params.max_peaks, people)
    cdef int P = state.people.count, n
    order = _workspace(2 * <size_t>max(P, 1) * sizeof(pd_candidate))
    keypoints = np.zeros((max(P, 1), K, 3), np.float32)
    scores = np.zeros(max(P, 1), np.float32)
    cdef float[:, :, ::1] kp = keypoints
    cdef float[::1] sc = scores
    cdef pd_candidate *ranked = <pd_candidate *>_address(order)
    cdef unsigned saved
    with nogil:
        saved = pd_enter_flush_denormals()
        n = pd_people_emit(&state.people, &st.peaks, &st.params, ranked, ranked + max(P, 1),
                           &kp[0, 0, 0], &sc[0])
        pd_leave_flush_denormals(saved)
    return keypoints[:n].copy(), scores[:n].copy()
