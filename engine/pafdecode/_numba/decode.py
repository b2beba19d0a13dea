"""decode.c: the pipeline. Peaks, then per limb type its candidates, connections and
assembly, then joining, then the people kept; one call per frame or batch, which
allocates its own workspace, with denormals flushed as the C decode does."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .assembly import (assemble_limb, limb_prior, new_best, new_people, people_clear,
                       people_emit)
from .assignment import HUNGARIAN, assign_limb, assign_work
from .fp import F0, borrowing, enter_flush_denormals, jit, leave_flush_denormals
from .join import join_with, tree_of
from .params import record_in
from .peaks import new_peaks, peak_work, stage_peaks
from .scoring import limb_candidates, scoring_work
from .sort import new_cands

# The skeleton (pd_skeleton): per limb its keypoint types, PAF channels, whether it
# lies beyond the tree and its expected length (empty: none); K keypoint types; the
# tree as joining reads it.
Skeleton = namedtuple("Skeleton", ["limb_kp", "limb_paf", "redundant", "K", "tree",
                                   "limb_len"])

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


@borrowing
def _only_connection(cands, conns):
    """A limb type's one candidate is its connection, greedy or optimal: assign_limb's
    result without its call (which counts every array of its scratch), a good share
    of a sparse frame's cost."""
    conns.s[0] = cands.s[0]
    conns.a[0] = cands.a[0]
    conns.b[0] = cands.b[0]
    return 1


@jit
def decode_frame(heat, paf, sk, prm, fr, cands, aw, stats):
    """pd_decode_frame_flushed up to the people (fr.people after joining); stats
    gets peaks, candidates and connections. Returns (cands, aw). Per limb type its
    candidates, connections and assembly, each called with the records it needs
    taken out of the frame once: a call counts a reference to every array of
    every tuple it is passed."""
    stats[0] = stage_peaks(heat, prm, fr.peak_work, fr.peaks)
    found, sc, conns, best, people = fr.peaks, fr.scoring, fr.conns, fr.best, fr.people
    limb_kp, limb_paf, redundant = sk.limb_kp, sk.limb_paf, sk.redundant
    num, peak_v = found.num, found.v
    people_clear(people)
    # The peak set is sized to what the map can yield (decode.c), not to max_peaks.
    mp = found.x.shape[0] // sk.K
    n_cands = 0
    n_conn = 0
    scale = np.empty(people.slots.shape[0] if prm.limb_length_prior > F0 else 0, np.float64)
    for l in range(limb_kp.shape[0]):
        cands, nc = limb_candidates(paf, limb_kp, limb_paf, l, found, sc, cands)
        if nc == 0:
            continue
        limb_prior(prm, people, limb_kp, sk.limb_len, l, found, cands, nc, scale)
        ka = limb_kp[l, 0]
        kb = limb_kp[l, 1]
        if nc == 1:
            nconn = _only_connection(cands, conns)
        else:
            nconn, aw = assign_limb(cands, nc, num[ka], num[kb], prm.assignment, conns, aw)
        assemble_limb(prm, people, (ka, kb), redundant[l] != 0, ka * mp, kb * mp, cands,
                      nc, num[ka], num[kb], conns, nconn, peak_v, best)
        n_cands += nc
        n_conn += nconn
    join_with(prm, people, found, limb_kp, redundant, sk.tree)
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
    # Candidates of a limb, with as much again for their sort (limb_candidates).
    cands = new_cands(2 * min(mp * mp, 4096))
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
def decode_entry(heat, paf, limb_kp, limb_paf, redundant, K, tree, rec_bytes, limb_len):
    """pd_decode_batch over frames heat[f], paf[f] ((C, H, W) views of any strides),
    with denormals flushed as in C; tree is the skeleton's join.tree_table; rec_bytes
    holds the pd_params record (params.record_in); limb_len the skeleton's expected
    limb lengths (pd_skeleton.limb_length, empty for NULL).

    Returns (keypoints (P, K, 3), scores (P,), counts (F,), stats (F, 4)) with the
    people of all frames one after another."""
    saved = enter_flush_denormals()
    result = _decode_frames(heat, paf, Skeleton(limb_kp, limb_paf, redundant, K,
                                                tree_of(tree, K), limb_len),
                            record_in(rec_bytes))
    leave_flush_denormals(saved)
    return result
