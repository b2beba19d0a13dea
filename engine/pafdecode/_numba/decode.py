"""decode.c: the pipeline. Peaks, then per limb type its candidates, connections and
assembly, then joining, then the people kept; one call per frame or batch, which
allocates its own workspace, with denormals flushed as the C decode does."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .assembly import assemble_limb, new_best, new_people, people_clear, people_emit
from .assignment import HUNGARIAN, assign_limb, assign_work
from .fp import F0, enter_flush_denormals, jit, leave_flush_denormals
from .join import stage_join
from .peaks import new_peaks, peak_work, stage_peaks
from .scoring import limb_candidates, scoring_work
from .sort import new_cands

# The skeleton (pd_skeleton): per limb its keypoint types, PAF channels and whether
# it lies beyond the tree; K keypoint types.
Skeleton = namedtuple("Skeleton", ["limb_kp", "limb_paf", "redundant", "K"])

# One frame's workspace and state, reused by the frames of a batch; the candidate
# and assignment scratch grow with the largest limb, so they travel separately.
Frame = namedtuple("Frame", ["peak_work", "peaks", "scoring", "conns", "best", "people"])


@jit
def capacity(K, mp):
    """People a frame can create: each holds two peaks of its own."""
    return K * mp // 2 + 1


@jit
def frame_max_peaks(prm, height, width):
    """pd_frame_max_peaks: the most peaks a channel of the map can yield (one per
    (r+1) x (r+1) block, x9 with splitting, at most the cells), capped at max_peaks:
    the frame is sized by this, not by the cap."""
    r1 = np.int64(prm.peak_radius) + 1
    n = ((height + r1 - 1) // r1) * ((width + r1 - 1) // r1)
    if prm.split_merged_peaks > F0:
        n = min(9 * n, np.int64(height) * width)
    return min(n, np.int64(prm.max_peaks))


@jit
def new_frame(sk, prm, height, width):
    mp = frame_max_peaks(prm, height, width)
    total = sk.K * mp
    return Frame(peak_work(height, width), new_peaks(sk.K, mp),
                 scoring_work(prm, height * width, mp), new_cands(mp), new_best(mp),
                 new_people(capacity(sk.K, mp), sk.K, total))


@jit
def _decode_limb(paf, sk, prm, l, fr, cands, aw):
    """Limb type l: candidates, connections, assembly. Returns (cands, aw, number of
    candidates, number of connections)."""
    cands, nc = limb_candidates(paf, sk.limb_kp, sk.limb_paf, l, fr.peaks, fr.scoring, cands)
    if nc == 0:
        return cands, aw, 0, 0
    ka = sk.limb_kp[l, 0]
    kb = sk.limb_kp[l, 1]
    na = fr.peaks.num[ka]
    nb = fr.peaks.num[kb]
    nconn, aw = assign_limb(cands, nc, na, nb, prm.assignment, fr.conns, aw)
    mp = fr.peaks.x.shape[0] // sk.K
    assemble_limb(prm, fr.people, (ka, kb), sk.redundant[l] != 0, ka * mp, kb * mp, cands,
                  nc, na, nb, fr.conns, nconn, fr.peaks.v, fr.best)
    return cands, aw, nc, nconn


@jit
def decode_frame(heat, paf, sk, prm, fr, cands, aw, stats):
    """pd_decode_frame_flushed up to the people (fr.people after joining); stats
    gets peaks, candidates and connections. Returns (cands, aw)."""
    stats[0] = stage_peaks(heat, prm, fr.peak_work, fr.peaks)
    people_clear(fr.people)
    n_cands = 0
    n_conn = 0
    for l in range(sk.limb_kp.shape[0]):
        cands, aw, nc, nconn = _decode_limb(paf, sk, prm, l, fr, cands, aw)
        n_cands += nc
        n_conn += nconn
    stage_join(prm, fr.people, fr.peaks, sk.limb_kp, sk.redundant)
    stats[1] = n_cands
    stats[2] = n_conn
    return cands, aw


@jit
def _grow(out_kp, out_sc, written, need):
    """The output with room for `need` more people after `written`."""
    if written + need <= out_kp.shape[0]:
        return out_kp, out_sc
    grow = max(2 * out_kp.shape[0], written + need)
    new_kp = np.empty((grow, out_kp.shape[1], 3), np.float32)
    new_sc = np.empty(grow, np.float32)
    new_kp[:written] = out_kp[:written]
    new_sc[:written] = out_sc[:written]
    return new_kp, new_sc


@jit
def _decode_frames(heat, paf, sk, prm):
    frames = heat.shape[0]
    fr = new_frame(sk, prm, heat.shape[2], heat.shape[3])
    mp = fr.peaks.x.shape[0] // sk.K
    cands = new_cands(min(mp * mp, 4096))
    aw = assign_work(mp, mp, min(mp * mp, 4096), prm.assignment == HUNGARIAN)
    counts = np.zeros(frames, np.int64)
    stats = np.zeros((frames, 4), np.int64)
    max_people = sk.K * mp // max(np.int64(prm.min_keypoints), 2)
    out_kp = np.empty((max(16, min(frames * max_people, 64 * frames)), sk.K, 3), np.float32)
    out_sc = np.empty(out_kp.shape[0], np.float32)
    written = 0
    for f in range(frames):
        cands, aw = decode_frame(heat[f], paf[f], sk, prm, fr, cands, aw, stats[f])
        # Room for every person created (at most max_people pass the filters): the
        # people are written straight after the previous frames'.
        out_kp, out_sc = _grow(out_kp, out_sc, written, fr.people.n[0])
        kept = people_emit(fr.people, fr.peaks, prm, out_kp[written:], out_sc[written:])
        written += kept
        counts[f] = kept
        stats[f, 3] = kept
    return out_kp[:written].copy(), out_sc[:written].copy(), counts, stats


@jit
def decode_entry(heat, paf, limb_kp, limb_paf, redundant, K, rec):
    """pd_decode_batch over frames heat[f], paf[f] ((C, H, W) views of any strides),
    with denormals flushed as in C; rec[0] is the pd_params record.

    Returns (keypoints (P, K, 3), scores (P,), counts (F,), stats (F, 4)) with the
    people of all frames one after another."""
    saved = enter_flush_denormals()
    result = _decode_frames(heat, paf, Skeleton(limb_kp, limb_paf, redundant, K), rec[0])
    leave_flush_denormals(saved)
    return result
