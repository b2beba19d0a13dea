"""assembly.c: people grown from connections, limb types in skeleton (tree) order,
peaks shared through strong limbs, and the people kept as output."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .fp import F0, FHALF, inline, jit
from .sort import before, new_cands, sort_candidates, sort_candidates_any

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


@inline
def _take(slots, owner, co_owner, keypoints, evidence, p, k, g, value):
    """Person p takes peak g (of type k, value `value`). The per-item helpers take
    the people's arrays, not the People tuple, and are inlined: a call counts a
    reference to every array it is passed, which costs more than the work here."""
    slots[p, k] = g
    if owner[g] < 0:
        owner[g] = p
    else:
        co_owner[g] = p
    keypoints[p] += 1
    evidence[p] += np.float64(value)


@jit
def person_take(people, p, k, g, value):
    _take(people.slots, people.owner, people.co_owner, people.keypoints, people.evidence,
          p, k, g, value)


@inline
def _holder_lacking(slots, owner, co_owner, g, k):
    """pd_holder_lacking: the first holder of peak g without a keypoint of type k."""
    h = owner[g]
    if h >= 0 and slots[h, k] < 0:
        return h
    h = co_owner[g]
    if h >= 0 and slots[h, k] < 0:
        return h
    return -1


@inline
def _attach(slots, owner, co_owner, keypoints, connections, evidence, p, k, g, value,
            score):
    _take(slots, owner, co_owner, keypoints, evidence, p, k, g, value)
    connections[p] += 1
    evidence[p] += np.float64(score)


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


@inline
def _new_person(slots, owner, co_owner, keypoints, connections, evidence, n, kp, g2,
                values, score):
    """A person of the two peaks g2 = (ga, gb) of types kp = (ka, kb)."""
    p = n[0]
    if p >= keypoints.shape[0]:
        return
    n[0] = p + 1
    slots[p, :] = -1
    keypoints[p] = 0
    connections[p] = 1
    evidence[p] = np.float64(score)
    _take(slots, owner, co_owner, keypoints, evidence, p, kp[0], g2[0], values[0])
    _take(slots, owner, co_owner, keypoints, evidence, p, kp[1], g2[1], values[1])


@inline
def _held_both(owner, co_owner, ga, gb):
    """The person holding both peaks ga and gb, or -1."""
    pa = owner[ga]
    cb = co_owner[gb]
    if pa == owner[gb] or pa == cb:
        return pa
    ca = co_owner[ga]
    if ca >= 0 and (ca == owner[gb] or ca == cb):
        return ca
    return -1


@inline
def _connect(slots, owner, co_owner, keypoints, connections, evidence, n, kp, g2, values,
             score, redundant):
    """pd_people_connect: one connection (peaks g2 = (ga, gb) of types kp = (ka, kb)),
    up to merging two people: True when both ends are held by different people,
    who merge if they are disjoint (left to the caller, which holds the People)."""
    ga, gb = g2
    pa = owner[ga]
    pb = owner[gb]
    if pa < 0 and pb < 0:
        if not redundant:
            _new_person(slots, owner, co_owner, keypoints, connections, evidence, n, kp, g2,
                        values, score)
        return False
    if pb < 0 or pa < 0:
        # One end is held: its holder lacking the other's type takes the other.
        g, k, other, value = (ga, kp[1], gb, values[1]) if pb < 0 else \
            (gb, kp[0], ga, values[0])
        h = _holder_lacking(slots, owner, co_owner, g, k)
        if h >= 0:
            _attach(slots, owner, co_owner, keypoints, connections, evidence, h, k, other,
                    value, score)
        return False
    both = _held_both(owner, co_owner, ga, gb)
    if both < 0:
        return True
    connections[both] += 1
    evidence[both] += np.float64(score)
    return False


@jit
def _merge(people, pa, pb, score):
    if disjoint(people, pa, pb):
        person_absorb(people, pa, pb, 1, score)


@jit
def _rival_scores(c_s, c_a, c_b, nc, conn_a, conn_b, nconn, na, nb, a_s, a_b, b_s, b_a):
    """pd_rival_scores: each end's chosen partner (a_b, b_a; -1 when unchosen) and the
    best score among its other candidates (a_s, b_s; -inf where none)."""
    a_b[:na] = -1
    a_s[:na] = -np.inf
    b_a[:nb] = -1
    b_s[:nb] = -np.inf
    for c in range(nconn):
        a_b[conn_a[c]] = conn_b[c]
        b_a[conn_b[c]] = conn_a[c]
    for c in range(nc):
        a = c_a[c]
        b = c_b[c]
        score = c_s[c]
        if a_b[a] != b and score > a_s[a]:
            a_s[a] = score
        if b_a[b] != a and score > b_s[b]:
            b_s[b] = score


@inline
def _connection_evidence(score, rival_a, rival_b, margin):
    """pd_connection_evidence: 0 when a rival scores within `margin` of the score."""
    rival = rival_a if rival_a > rival_b else rival_b
    return F0 if rival >= score - margin else score


@jit
def _connect_all(people, kp, oa, ob, conns, nconn, peak_v, redundant, margin, best):
    """The connections of a limb type (types kp, peaks from oa and ob) into people,
    best first, with the arrays taken out of the tuples once; with `margin` > 0 a
    rivalled connection adds no evidence (best holds _rival_scores' output)."""
    slots, keypoints, connections, evidence = (people.slots, people.keypoints,
                                               people.connections, people.evidence)
    owner, co_owner, n = people.owner, people.co_owner, people.n
    conn_a, conn_b, conn_s = conns.a, conns.b, conns.s
    rival_a, rival_b = best.a_s, best.b_s
    for c in range(nconn):
        ga = oa + conn_a[c]
        gb = ob + conn_b[c]
        score = conn_s[c]
        if margin > F0:
            score = _connection_evidence(score, rival_a[conn_a[c]], rival_b[conn_b[c]],
                                         margin)
        if _connect(slots, owner, co_owner, keypoints, connections, evidence, n, kp,
                    (ga, gb), (peak_v[ga], peak_v[gb]), score, redundant):
            _merge(people, owner[ga], owner[gb], score)


@jit
def _best_candidates(c_s, c_a, c_b, nc, na, nb, a_s, a_b, b_s, b_a):
    """pd_best_candidates (the first of each end in sorted order is its best)."""
    a_s[:na] = -1.0
    b_s[:nb] = -1.0
    for c in range(nc - 1, -1, -1):
        a = c_a[c]
        b = c_b[c]
        a_s[a] = c_s[c]
        a_b[a] = b
        b_s[b] = c_s[c]
        b_a[b] = a


@jit
def _share_free_b(slots, keypoints, connections, evidence, owner, co_owner, kb, oa, ob,
                  b_s, b_a, nb, peak_v, min_score):
    """A b nobody holds goes to a holder of its best a lacking type kb."""
    for b in range(nb):
        score = b_s[b]
        if not (score >= min_score):
            continue
        ga = oa + b_a[b]
        gb = ob + b
        if owner[gb] >= 0:
            continue
        h = _holder_lacking(slots, owner, co_owner, ga, kb)
        if h >= 0:
            _attach(slots, owner, co_owner, keypoints, connections, evidence, h, kb, gb,
                    peak_v[gb], score)


@jit
def _share_held_b(slots, keypoints, connections, evidence, owner, co_owner, kb, oa, ob,
                  a_s, a_b, na, peak_v, min_score):
    """A held b is shared once more with each holder of its best a lacking kb."""
    for a in range(na):
        score = a_s[a]
        if not (score >= min_score):
            continue
        ga = oa + a
        gb = ob + a_b[a]
        if owner[gb] < 0:
            continue
        for which in range(2):
            h = owner[ga] if which == 0 else co_owner[ga]
            if h < 0 or co_owner[gb] >= 0:
                continue
            if slots[h, kb] >= 0:
                continue
            _attach(slots, owner, co_owner, keypoints, connections, evidence, h, kb, gb,
                    peak_v[gb], score)


@jit
def assemble_limb(prm, people, kp, redundant, oa, ob, cands, nc, na, nb, conns, nconn,
                  peak_v, best):
    """pd_stage_assemble_limb: one limb type's connections (types kp = (ka, kb),
    peaks from oa and ob) into people, then its shared peaks. The helpers get the
    arrays, not the tuples: a call counts a reference to every array of a tuple."""
    margin = prm.rival_margin
    if margin > F0:
        _rival_scores(cands.s, cands.a, cands.b, nc, conns.a, conns.b, nconn, na, nb,
                      best.a_s, best.a_b, best.b_s, best.b_a)
    _connect_all(people, kp, oa, ob, conns, nconn, peak_v, redundant, margin, best)
    kb = kp[1]
    share = prm.shared_peak_score
    if share > F0 and not redundant:
        a_s, a_b, b_s, b_a = best.a_s, best.a_b, best.b_s, best.b_a
        _best_candidates(cands.s, cands.a, cands.b, nc, na, nb, a_s, a_b, b_s, b_a)
        slots, keypoints, connections, evidence = (people.slots, people.keypoints,
                                                   people.connections, people.evidence)
        owner, co_owner = people.owner, people.co_owner
        _share_free_b(slots, keypoints, connections, evidence, owner, co_owner, kb, oa, ob,
                      b_s, b_a, nb, peak_v, share)
        _share_held_b(slots, keypoints, connections, evidence, owner, co_owner, kb, oa, ob,
                      a_s, a_b, na, peak_v, share)


@jit
def _ranked_people(people, prm, K):
    """The people that pass the filters, by score: (order, count)."""
    keypoints, connections, evidence = people.keypoints, people.connections, people.evidence
    count = people.n[0]
    order = new_cands(max(count, 1))
    o_s, o_a, o_b = order
    min_score = np.float64(prm.min_person_score)
    min_keypoints = prm.min_keypoints
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
    sort_candidates(o_s, o_a, o_b, kept)
    return order, kept


@jit
def people_emit(people, peaks, prm, out_kp, out_sc):
    """pd_people_emit: the people kept, best first, in input-image pixels; returns
    how many were written."""
    slots = people.slots
    K = slots.shape[1]
    order, kept = _ranked_people(people, prm, K)
    o_s, o_a = order.s, order.a
    px, py, pv = peaks.x, peaks.y, peaks.v
    stride = prm.stride
    shift = FHALF * stride - FHALF
    for i in range(kept):
        p = o_a[i]
        for k in range(K):
            g = slots[p, k]
            if g < 0:
                out_kp[i, k, 0] = F0
                out_kp[i, k, 1] = F0
                out_kp[i, k, 2] = F0
                continue
            out_kp[i, k, 0] = px[g] * stride + shift
            out_kp[i, k, 1] = py[g] * stride + shift
            out_kp[i, k, 2] = pv[g]
        out_sc[i] = o_s[i]
    return kept


# -- the limb length prior ------------------------------------------------------------

@inline
def _peak_distance(x, y, g, h):
    dx = np.float64(x[g]) - np.float64(x[h])
    dy = np.float64(y[g]) - np.float64(y[h])
    return np.sqrt(dx * dx + dy * dy)


@jit
def _person_scales(slots, count, limb_kp, limb_len, x, y, scale):
    """pd_person_scales: per person the largest distance over expected length of
    the limbs (with one) whose two keypoints it holds; 0 when none."""
    scale[:count] = 0.0
    for m in range(limb_kp.shape[0]):
        expected = np.float64(limb_len[m])
        if not (expected > 0.0):
            continue
        ka = limb_kp[m, 0]
        kb = limb_kp[m, 1]
        for p in range(count):
            ga = slots[p, ka]
            gb = slots[p, kb]
            if ga < 0 or gb < 0:
                continue
            ratio = _peak_distance(x, y, ga, gb) / expected
            if ratio > scale[p]:
                scale[p] = ratio


@inline
def _holder_scale(owner, co_owner, scale, g):
    best = 0.0
    h = owner[g]
    c = co_owner[g]
    if h >= 0 and scale[h] > best:
        best = scale[h]
    if c >= 0 and scale[c] > best:
        best = scale[c]
    return best


@jit
def _merge_penalised(s, a, b, kept, ms, ma, mb, m):
    """pd_merge_penalised: the kept candidates [0, kept) and the sorted penalised ones
    into one sorted list, merged from the back."""
    i = kept - 1
    j = m - 1
    o = kept + m - 1
    while j >= 0:
        if i >= 0 and before(ms[j], ma[j], mb[j], s[i], a[i], b[i]):
            s[o], a[o], b[o] = s[i], a[i], b[i]
            i -= 1
        else:
            s[o], a[o], b[o] = ms[j], ma[j], mb[j]
            j -= 1
        o -= 1


@jit
def limb_prior(prm, people, limb_kp, limb_len, l, found, cands, nc, scale):
    """pd_stage_limb_prior: limb l's nc candidates too long for the people holding
    their ends get their score times (bound / length)^2 and move, sorted, among the
    others. Returns how many were penalised."""
    prior = prm.limb_length_prior
    if not (prior > F0) or limb_len.shape[0] == 0 or nc <= 0:
        return 0
    expected = np.float64(limb_len[l])
    if not (expected > 0.0):
        return 0
    x, y, owner, co_owner = found.x, found.y, people.owner, people.co_owner
    _person_scales(people.slots, people.n[0], limb_kp, limb_len, x, y, scale)
    reach = np.float64(prior) * expected
    mp = x.shape[0] // found.num.shape[0]
    oa = limb_kp[l, 0] * mp
    ob = limb_kp[l, 1] * mp
    s, a, b = cands.s, cands.a, cands.b
    moved = new_cands(nc)
    kept = 0
    m = 0
    for c in range(nc):
        ga = oa + a[c]
        gb = ob + b[c]
        known = max(_holder_scale(owner, co_owner, scale, ga),
                    _holder_scale(owner, co_owner, scale, gb))
        bound = reach * known
        length = _peak_distance(x, y, ga, gb) if known > 0.0 else 0.0
        if not (known > 0.0) or not (length > bound):
            s[kept], a[kept], b[kept] = s[c], a[c], b[c]
            kept += 1
            continue
        fit = bound / length
        moved.s[m] = np.float32(np.float64(s[c]) * fit * fit)
        moved.a[m] = a[c]
        moved.b[m] = b[c]
        m += 1
    if m > 0:
        # The penalised candidates left [kept, nc) free: the sort's scratch.
        sort_candidates_any(moved.s, moved.a, moved.b, m,
                            (s[kept:nc], a[kept:nc], b[kept:nc]), np.zeros(257, np.int64))
        _merge_penalised(s, a, b, kept, moved.s, moved.a, moved.b, m)
    return m
