"""assembly.c: people grown from connections, limb types in skeleton (tree) order,
peaks shared through strong limbs, and the people kept as output."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .fp import F0, FHALF, jit
from .sort import new_cands, sort_candidates

# The people of a frame (pd_people): per person its K slots (global peak or -1),
# keypoints held (0 once merged away), connections and evidence (peak values plus
# connection scores); per global peak the person holding it and a second one, or
# -1; n[0] people created.
People = namedtuple("People", ["slots", "keypoints", "connections", "evidence", "owner",
                               "co_owner", "n"])

# The best candidate at each end of a limb type (pd_best_candidates): for each a
# its best's score and b, for each b its best's score and a; score -1 where none.
Best = namedtuple("Best", ["a_s", "a_b", "b_s", "b_a"])


@jit
def new_people(capacity, K, total):
    return People(np.empty((capacity, K), np.int32), np.empty(capacity, np.int32),
                  np.empty(capacity, np.int32), np.empty(capacity, np.float64),
                  np.empty(total, np.int32), np.empty(total, np.int32),
                  np.zeros(1, np.int64))


@jit
def people_clear(people):
    people.owner[:] = -1
    people.co_owner[:] = -1
    people.n[0] = 0


@jit
def new_best(mp):
    return Best(np.empty(mp, np.float32), np.empty(mp, np.int64), np.empty(mp, np.float32),
                np.empty(mp, np.int64))


@jit
def person_take(people, p, k, g, value):
    people.slots[p, k] = g
    if people.owner[g] < 0:
        people.owner[g] = p
    else:
        people.co_owner[g] = p
    people.keypoints[p] += 1
    people.evidence[p] += np.float64(value)


@jit
def _holder_lacking(people, g, k):
    """pd_holder_lacking: the first holder of peak g without a keypoint of type k."""
    h = people.owner[g]
    if h >= 0 and people.slots[h, k] < 0:
        return h
    h = people.co_owner[g]
    if h >= 0 and people.slots[h, k] < 0:
        return h
    return -1


@jit
def _person_attach(people, p, k, g, value, score):
    person_take(people, p, k, g, value)
    people.connections[p] += 1
    people.evidence[p] += np.float64(score)


@jit
def disjoint(people, p, q):
    """People p and q hold no keypoint type in common."""
    for k in range(people.slots.shape[1]):
        if people.slots[p, k] >= 0 and people.slots[q, k] >= 0:
            return False
    return True


@jit
def person_absorb(people, to, frm, link, score):
    """pd_person_absorb: person `frm` moves into `to` (which holds none of its
    types), through `link` connections more of `score` in all (none: no score is
    added, not even 0, so that the sum is C's to the bit)."""
    for k in range(people.slots.shape[1]):
        g = people.slots[frm, k]
        if g < 0:
            continue
        people.slots[to, k] = g
        if people.owner[g] == frm:
            people.owner[g] = to
        else:
            people.co_owner[g] = to
        people.slots[frm, k] = -1
    people.keypoints[to] += people.keypoints[frm]
    people.connections[to] += people.connections[frm] + link
    if link > 0:
        people.evidence[to] += people.evidence[frm] + np.float64(score)
    else:
        people.evidence[to] += people.evidence[frm]
    people.keypoints[frm] = 0
    people.connections[frm] = 0
    people.evidence[frm] = 0.0


@jit
def _new_person(people, ka, kb, ga, gb, value_a, value_b, score):
    p = people.n[0]
    if p >= people.keypoints.shape[0]:
        return
    people.n[0] = p + 1
    people.slots[p, :] = -1
    people.keypoints[p] = 0
    people.connections[p] = 1
    people.evidence[p] = np.float64(score)
    person_take(people, p, ka, ga, value_a)
    person_take(people, p, kb, gb, value_b)


@jit
def _people_connect(people, ka, kb, ga, gb, value_a, value_b, score, redundant):
    """pd_people_connect: one connection (peaks ga of type ka, gb of type kb)."""
    pa = people.owner[ga]
    pb = people.owner[gb]
    if pa < 0 and pb < 0:
        if not redundant:
            _new_person(people, ka, kb, ga, gb, value_a, value_b, score)
        return
    if pb < 0 or pa < 0:
        # One end is held: its holder lacking the other's type takes the other.
        g, k, other, value = (ga, kb, gb, value_b) if pb < 0 else (gb, ka, ga, value_a)
        h = _holder_lacking(people, g, k)
        if h >= 0:
            _person_attach(people, h, k, other, value, score)
        return
    ca = people.co_owner[ga]
    cb = people.co_owner[gb]
    both = -1
    if pa == pb or pa == cb:
        both = pa
    elif ca >= 0 and (ca == pb or ca == cb):
        both = ca
    if both >= 0:
        people.connections[both] += 1
        people.evidence[both] += np.float64(score)
        return
    if disjoint(people, pa, pb):
        person_absorb(people, pa, pb, 1, score)


@jit
def _best_candidates(cands, nc, na, nb, best):
    """pd_best_candidates (the first of each end in sorted order is its best)."""
    best.a_s[:na] = -1.0
    best.b_s[:nb] = -1.0
    for c in range(nc - 1, -1, -1):
        a = cands.a[c]
        b = cands.b[c]
        best.a_s[a] = cands.s[c]
        best.a_b[a] = b
        best.b_s[b] = cands.s[c]
        best.b_a[b] = a


@jit
def _share_free_b(people, kb, oa, ob, best, nb, peak_v, min_score):
    """A b nobody holds goes to a holder of its best a lacking type kb."""
    for b in range(nb):
        score = best.b_s[b]
        if not (score >= min_score):
            continue
        ga = oa + best.b_a[b]
        gb = ob + b
        if people.owner[gb] >= 0:
            continue
        h = _holder_lacking(people, ga, kb)
        if h >= 0:
            _person_attach(people, h, kb, gb, peak_v[gb], score)


@jit
def _share_held_b(people, kb, oa, ob, best, na, peak_v, min_score):
    """A held b is shared once more with each holder of its best a lacking kb."""
    for a in range(na):
        score = best.a_s[a]
        if not (score >= min_score):
            continue
        ga = oa + a
        gb = ob + best.a_b[a]
        if people.owner[gb] < 0:
            continue
        for which in range(2):
            h = people.owner[ga] if which == 0 else people.co_owner[ga]
            if h < 0 or people.co_owner[gb] >= 0:
                continue
            if people.slots[h, kb] >= 0:
                continue
            _person_attach(people, h, kb, gb, peak_v[gb], score)


@jit
def assemble_limb(prm, people, kp, redundant, oa, ob, cands, nc, na, nb, conns, nconn,
                  peak_v, best):
    """pd_stage_assemble_limb: one limb type's connections (types kp = (ka, kb),
    peaks from oa and ob) into people, then its shared peaks."""
    ka, kb = kp
    for c in range(nconn):
        ga = oa + conns.a[c]
        gb = ob + conns.b[c]
        _people_connect(people, ka, kb, ga, gb, peak_v[ga], peak_v[gb], conns.s[c],
                        redundant)
    share = prm.shared_peak_score
    if share > F0 and not redundant:
        _best_candidates(cands, nc, na, nb, best)
        _share_free_b(people, kb, oa, ob, best, nb, peak_v, share)
        _share_held_b(people, kb, oa, ob, best, na, peak_v, share)


@jit
def _ranked_people(people, prm, K):
    """The people that pass the filters, by score: (order, count)."""
    count = people.n[0]
    order = new_cands(max(count, 1))
    min_score = np.float64(prm.min_person_score)
    kept = 0
    for p in range(count):
        n = people.keypoints[p]
        if n == 0 or n < prm.min_keypoints:
            continue
        mean = people.evidence[p] / np.float64(n + people.connections[p])
        if mean < min_score:
            continue
        order.a[kept] = p
        order.b[kept] = 0
        order.s[kept] = np.float32(mean * np.float64(n) / np.float64(K))
        kept += 1
    sort_candidates(order.s, order.a, order.b, kept)
    return order, kept


@jit
def people_emit(people, peaks, prm, out_kp, out_sc):
    """pd_people_emit: the people kept, best first, in input-image pixels; returns
    how many were written."""
    K = people.slots.shape[1]
    order, kept = _ranked_people(people, prm, K)
    stride = prm.stride
    shift = FHALF * stride - FHALF
    for i in range(kept):
        p = order.a[i]
        for k in range(K):
            g = people.slots[p, k]
            if g < 0:
                out_kp[i, k, 0] = F0
                out_kp[i, k, 1] = F0
                out_kp[i, k, 2] = F0
                continue
            out_kp[i, k, 0] = peaks.x[g] * stride + shift
            out_kp[i, k, 1] = peaks.y[g] * stride + shift
            out_kp[i, k, 2] = peaks.v[g]
        out_sc[i] = order.s[i]
    return kept
