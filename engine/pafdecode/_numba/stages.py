"""The stage bindings of STAGE_API.md: each stage of the decode on its own, fed any
input, run as the full decode runs it (denormals flushed), so that a parity test
can feed both backends the same input and name the stage that differs."""

from __future__ import annotations

import numpy as np

from . import assembly, decode, fp, join, peaks, scoring
from .assignment import HUNGARIAN, assign_limb, assign_work
from .fp import jit
from .params import prepared
from .sort import Cands, new_cands


@jit
def _peaks_kernel(heat, rec):
    saved = fp.enter_flush_denormals()
    prm = rec[0]
    found = peaks.new_peaks(heat.shape[0], np.int64(prm.max_peaks))
    peaks.stage_peaks(heat, prm, peaks.peak_work(heat.shape[1], heat.shape[2]), found)
    fp.leave_flush_denormals(saved)
    return found.x, found.y, found.v, found.num


@jit
def _candidates_kernel(paf, limb_kp, limb_paf, found, rec):
    saved = fp.enter_flush_denormals()
    prm = rec[0]
    mp = np.int64(prm.max_peaks)
    sc = scoring.scoring_work(prm, paf.shape[1] * paf.shape[2], mp)
    cands = new_cands(min(mp * mp, 4096))
    num_limbs = limb_kp.shape[0]
    offsets = np.zeros(num_limbs + 1, np.int64)
    room = 0
    for l in range(num_limbs):
        room += min(found.num[limb_kp[l, 0]] * found.num[limb_kp[l, 1]], sc.max_candidates)
    out = new_cands(room)
    for l in range(num_limbs):
        cands, nc = scoring.limb_candidates(paf, limb_kp, limb_paf, l, found, sc, cands)
        o = offsets[l]
        out.s[o:o + nc] = cands.s[:nc]
        out.a[o:o + nc] = cands.a[:nc]
        out.b[o:o + nc] = cands.b[:nc]
        offsets[l + 1] = o + nc
    fp.leave_flush_denormals(saved)
    return out, offsets


@jit
def _part(c, offsets, l):
    o0 = offsets[l]
    o1 = offsets[l + 1]
    return Cands(c.s[o0:o1], c.a[o0:o1], c.b[o0:o1]), o1 - o0


@jit
def _connections_kernel(cands, offsets, num, limb_kp, rec):
    saved = fp.enter_flush_denormals()
    prm = rec[0]
    mp = np.int64(prm.max_peaks)
    aw = assign_work(mp, mp, min(mp * mp, 4096), prm.assignment == HUNGARIAN)
    out = new_cands(max(cands.s.shape[0], 1))
    out_offsets = np.zeros(limb_kp.shape[0] + 1, np.int64)
    conns = new_cands(mp)
    rc = 0
    for l in range(limb_kp.shape[0]):
        part, nc = _part(cands, offsets, l)
        nconn, aw = assign_limb(part, nc, num[limb_kp[l, 0]], num[limb_kp[l, 1]],
                                prm.assignment, conns, aw)
        if nconn < 0:
            rc = nconn
            break
        o = out_offsets[l]
        out.s[o:o + nconn] = conns.s[:nconn]
        out.a[o:o + nconn] = conns.a[:nconn]
        out.b[o:o + nconn] = conns.b[:nconn]
        out_offsets[l + 1] = o + nconn
    fp.leave_flush_denormals(saved)
    return rc, out, out_offsets


@jit
def _assembly_kernel(cands, offsets, conns, conn_offsets, found, limb_kp, redundant, rec):
    saved = fp.enter_flush_denormals()
    prm = rec[0]
    K = found.num.shape[0]
    mp = np.int64(prm.max_peaks)
    people = assembly.new_people(decode.capacity(K, mp), K, K * mp)
    assembly.people_clear(people)
    best = assembly.new_best(mp)
    for l in range(limb_kp.shape[0]):
        part, nc = _part(cands, offsets, l)
        chosen, nconn = _part(conns, conn_offsets, l)
        if nc == 0:
            continue
        ka = limb_kp[l, 0]
        kb = limb_kp[l, 1]
        assembly.assemble_limb(prm, people, (ka, kb), redundant[l] != 0, ka * mp, kb * mp,
                               part, nc, found.num[ka], found.num[kb], chosen, nconn,
                               found.v, best)
    fp.leave_flush_denormals(saved)
    return people


@jit
def _limb_prior_kernel(cands, nc, people, l, found, limb_kp, limb_len, rec):
    saved = fp.enter_flush_denormals()
    scale = np.zeros(max(people.n[0], 1), np.float64)
    assembly.limb_prior(rec[0], people, limb_kp, limb_len, l, found, cands, nc, scale)
    fp.leave_flush_denormals(saved)


@jit
def _join_kernel(people, found, limb_kp, redundant, rec):
    saved = fp.enter_flush_denormals()
    join.stage_join(rec[0], people, found, limb_kp, redundant)
    fp.leave_flush_denormals(saved)


@jit
def _emit_kernel(people, found, rec):
    saved = fp.enter_flush_denormals()
    count = people.n[0]
    out_kp = np.empty((count, people.slots.shape[1], 3), np.float32)
    out_sc = np.empty(count, np.float32)
    kept = assembly.people_emit(people, found, rec[0], out_kp, out_sc)
    fp.leave_flush_denormals(saved)
    return out_kp[:kept].copy(), out_sc[:kept].copy()


# -- the Python bindings ------------------------------------------------------------

def _flushed(kernel, *args):
    """Runs a stage kernel; it leaves the flush mode itself, except when it fails
    half way (only an allocation can), where the caller's mode is put back here."""
    saved = fp.fp_mode_entry()
    try:
        return kernel(*args)
    except BaseException:
        fp.set_fp_mode_entry(saved)
        raise


def _limbs(limbs):
    return np.ascontiguousarray(np.asarray(limbs, np.int32).reshape(-1, 2))


def _peaks_in(peaks_kmp3, counts):
    """A (K, max_peaks, 3) peak array and counts as the kernels' planar peaks."""
    arr = np.asarray(peaks_kmp3, np.float32)
    xyv = np.ascontiguousarray(arr.reshape(-1, 3).T)
    return peaks.Peaks(xyv[0], xyv[1], xyv[2], np.asarray(counts, np.int64).copy())


def _pairs_in(pairs):
    """A list of (ab, score) per limb as one Cands and its offsets."""
    sizes = [len(score) for _ab, score in pairs]
    offsets = np.zeros(len(pairs) + 1, np.int64)
    offsets[1:] = np.cumsum(sizes)
    ab = np.concatenate([np.asarray(ab, np.int32).reshape(-1, 2) for ab, _s in pairs]) \
        if pairs else np.zeros((0, 2), np.int32)
    score = np.concatenate([np.asarray(s, np.float32).reshape(-1) for _ab, s in pairs]) \
        if pairs else np.zeros(0, np.float32)
    return Cands(score, np.ascontiguousarray(ab[:, 0]), np.ascontiguousarray(ab[:, 1])), offsets


def _pairs_out(cands, offsets):
    ab = np.stack([cands.a, cands.b], axis=1).astype(np.int32)
    return [(ab[offsets[l]:offsets[l + 1]].copy(), cands.s[offsets[l]:offsets[l + 1]].copy())
            for l in range(len(offsets) - 1)]


def _people_out(people):
    count = int(people.n[0])
    return {"slots": people.slots[:count].copy(), "keypoints": people.keypoints[:count].copy(),
            "connections": people.connections[:count].copy(),
            "evidence": people.evidence[:count].copy(), "owner": people.owner.copy(),
            "co_owner": people.co_owner.copy()}


def _people_in(state):
    slots = np.ascontiguousarray(state["slots"], np.int32)
    return assembly.People(slots.copy(), np.array(state["keypoints"], np.int32),
                           np.array(state["connections"], np.int32),
                           np.array(state["evidence"], np.float64),
                           np.array(state["owner"], np.int32),
                           np.array(state["co_owner"], np.int32),
                           np.array([slots.shape[0]], np.int64))


def stage_peaks(heatmaps, record):
    """Stage 1: heatmaps float32 (K, H, W) -> (peaks float32 (K, max_peaks, 3) of x, y
    (map cells), value, zero past the counts; counts int32 (K,))."""
    heat = np.asarray(heatmaps, np.float32)
    rec = prepared(record)
    x, y, v, num = _flushed(_peaks_kernel, heat, rec)
    mp = int(rec["max_peaks"][0])
    out = np.stack([x, y, v], axis=1).reshape(heat.shape[0], mp, 3)
    return out, num.astype(np.int32)


def stage_candidates(pafs, limbs, paf_channels, peaks_kmp3, counts, record):
    """Stage 2: per limb (ab int32 (M, 2) of ranks, score float32 (M,)), sorted as
    the core sorts them and capped at max_candidates."""
    paf = np.asarray(pafs, np.float32)
    found = _peaks_in(peaks_kmp3, counts)
    out, offsets = _flushed(_candidates_kernel, paf, _limbs(limbs), _limbs(paf_channels),
                            found, prepared(record))
    return _pairs_out(out, offsets)


def stage_connections(candidates, counts, limbs, record):
    """Stage 3: per limb the connections the assignment chose, (ab, score), in the
    order the core emits them."""
    cands, offsets = _pairs_in(candidates)
    rc, out, out_offsets = _flushed(_connections_kernel, cands, offsets,
                                    np.asarray(counts, np.int64).copy(), _limbs(limbs),
                                    prepared(record))
    if rc < 0:
        raise ValueError(f"stage_connections: the core rejected its arguments (code {rc})")
    return _pairs_out(out, out_offsets)


def stage_assembly(candidates, connections, peaks_kmp3, counts, limbs, redundant, record):
    """Stage 4: the people after assembly and sharing, before joining (a dict of
    slots, keypoints, connections, evidence, owner, co_owner)."""
    cands, offsets = _pairs_in(candidates)
    conns, conn_offsets = _pairs_in(connections)
    people = _flushed(_assembly_kernel, cands, offsets, conns, conn_offsets,
                      _peaks_in(peaks_kmp3, counts), _limbs(limbs),
                      np.asarray(redundant, np.uint8).reshape(-1).copy(), prepared(record))
    return _people_out(people)


def stage_limb_prior(candidates, people, limb, peaks_kmp3, counts, limbs, limb_lengths,
                     record):
    """Between stages 2 and 3 of limb `limb`: its candidates (ab, score) after the limb
    length prior, given the people the limbs before it assembled (a people dict)."""
    limb_kp = _limbs(limbs)
    if not 0 <= limb < limb_kp.shape[0]:
        raise ValueError(f"limb must be in 0..{limb_kp.shape[0] - 1}, got {limb}")
    cands, offsets = _pairs_in([candidates])
    lengths = np.zeros(0, np.float32) if limb_lengths is None else \
        np.ascontiguousarray(limb_lengths, np.float32).reshape(-1)
    _flushed(_limb_prior_kernel, cands, offsets[1], _people_in(people), limb,
             _peaks_in(peaks_kmp3, counts), limb_kp, lengths, prepared(record))
    return _pairs_out(cands, offsets)[0]


def stage_join(people, peaks_kmp3, counts, limbs, redundant, record):
    """Stage 5: the people dict after fragment joining (a copy when it is off)."""
    state = _people_in(people)
    _flushed(_join_kernel, state, _peaks_in(peaks_kmp3, counts), _limbs(limbs),
             np.asarray(redundant, np.uint8).reshape(-1).copy(), prepared(record))
    return _people_out(state)


def stage_emit(people, peaks_kmp3, counts, record):
    """Stage 6: (keypoints float32 (N, K, 3) in input-image pixels, scores float32
    (N,)) exactly as the decode's output."""
    return _flushed(_emit_kernel, _people_in(people), _peaks_in(peaks_kmp3, counts),
                    prepared(record))
