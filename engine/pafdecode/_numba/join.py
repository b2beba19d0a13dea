"""join.c: fragment joining. After assembly, a person or a peak nobody holds joins
the nearest person it could belong to across one hidden joint, when that one is
nearer than join_fragments times the next; rounds repeat until nothing joins."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .assembly import disjoint, person_absorb, person_take
from .fp import F0, inline, jit
from .sort import new_cands, sort_candidates

# One round's view of the people: per person its reach (longest tree limb held),
# its types in order and its bounding box; the hosts (people with a reach) sorted
# by left edge, their widest box and longest reach; the type between any two
# types two tree limbs apart (middles, K x K); scratch for one fragment.
JoinRound = namedtuple("JoinRound", [
    "reach", "types", "box", "hosts", "num_hosts", "widest", "longest", "middles",
    "lone", "frag_types", "fb", "partner_start", "partners", "holder_start", "holders",
    "stamp"])


@jit
def tree_partners(middles):
    """pd_tree_partners: for each type j, the types i with middles[i, j] >= 0, in
    increasing order: partners[start[j]:start[j + 1]]."""
    K = middles.shape[0]
    start = np.zeros(K + 1, np.int32)
    partners = np.empty(K * K, np.int32)
    n = 0
    for j in range(K):
        start[j] = n
        for i in range(K):
            if middles[i, j] >= 0:
                partners[n] = i
                n += 1
    start[K] = n
    return start, partners


@jit
def _holders(people, reach, types, count, K):
    """Every host by the types it holds (pd_join_hosts): holders[start[t]:start[t + 1]]
    hold type t, by index."""
    start = np.zeros(K + 1, np.int32)
    total = 0
    for p in range(count):
        if reach[p] > 0.0:
            for t in range(people.keypoints[p]):
                start[types[p, t] + 1] += 1
                total += 1
    for k in range(K):
        start[k + 1] += start[k]
    cursor = start[:K].copy()
    holders = np.empty(max(total, 1), np.int32)
    for p in range(count):
        if reach[p] > 0.0:
            for t in range(people.keypoints[p]):
                holders[cursor[types[p, t]]] = p
                cursor[types[p, t]] += 1
    return start, holders


@jit
def tree_middles(limb_kp, limb_redundant, K):
    """pd_tree_middles: middle[i, j] the type adjacent to both i and j in the tree
    (i, j not adjacent themselves), or -1."""
    adjacent = np.zeros((K, K), np.uint8)
    middle = np.empty((K, K), np.int32)
    num_limbs = limb_kp.shape[0]
    for l in range(num_limbs):
        if limb_redundant[l] == 0:
            adjacent[limb_kp[l, 0], limb_kp[l, 1]] = 1
            adjacent[limb_kp[l, 1], limb_kp[l, 0]] = 1
    for i in range(K):
        for j in range(K):
            m = -1
            if i != j and adjacent[i, j] == 0:
                for l in range(num_limbs):
                    if limb_redundant[l] != 0:
                        continue
                    a = limb_kp[l, 0]
                    b = limb_kp[l, 1]
                    v = b if a == i else (a if b == i else -1)
                    if v >= 0 and adjacent[v, j] != 0:
                        m = v
                        break
            middle[i, j] = m
    return middle


@inline
def _person_reach(slots, limb_kp, limb_redundant, peaks):
    """pd_person_reach: the longest tree limb the person of `slots` holds."""
    longest = 0.0
    for l in range(limb_kp.shape[0]):
        if limb_redundant[l] != 0:
            continue
        ga = slots[limb_kp[l, 0]]
        gb = slots[limb_kp[l, 1]]
        if ga < 0 or gb < 0:
            continue
        dx = np.float64(peaks.x[ga]) - np.float64(peaks.x[gb])
        dy = np.float64(peaks.y[ga]) - np.float64(peaks.y[gb])
        length = math.sqrt(dx * dx + dy * dy)
        if length > longest:
            longest = length
    return longest


@jit
def _measure(people, limb_kp, limb_redundant, peaks, reach, types, box):
    """Every person's reach, types in order and bounding box."""
    K = people.slots.shape[1]
    for p in range(people.n[0]):
        reach[p] = _person_reach(people.slots[p], limb_kp, limb_redundant, peaks) \
            if people.keypoints[p] >= 2 else 0.0
        box[p, 0] = math.inf
        box[p, 1] = math.inf
        box[p, 2] = -math.inf
        box[p, 3] = -math.inf
        n = 0
        for k in range(K):
            g = people.slots[p, k]
            if g < 0:
                continue
            types[p, n] = k
            n += 1
            x = np.float64(peaks.x[g])
            y = np.float64(peaks.y[g])
            if x < box[p, 0]:
                box[p, 0] = x
            if y < box[p, 1]:
                box[p, 1] = y
            if x > box[p, 2]:
                box[p, 2] = x
            if y > box[p, 3]:
                box[p, 3] = y


@jit
def _new_round(people, limb_kp, limb_redundant, peaks, middles, partners):
    count = people.n[0]
    cap = max(count, 1)
    K = people.slots.shape[1]
    reach = np.empty(cap, np.float64)
    types = np.empty((cap, K), np.int32)
    box = np.empty((cap, 4), np.float64)
    _measure(people, limb_kp, limb_redundant, peaks, reach, types, box)
    hosts = new_cands(cap)
    hosts.b[:] = 0
    num_hosts = 0
    widest = 0.0
    longest = 0.0
    for p in range(count):
        if not (reach[p] > 0.0):
            continue
        hosts.a[num_hosts] = p
        hosts.s[num_hosts] = -np.float32(box[p, 0])
        num_hosts += 1
        if box[p, 2] - box[p, 0] > widest:
            widest = box[p, 2] - box[p, 0]
        if reach[p] > longest:
            longest = reach[p]
    sort_candidates(hosts.s, hosts.a, hosts.b, num_hosts)
    holder_start, holders = _holders(people, reach, types, count, K)
    return JoinRound(reach, types, box, hosts, num_hosts, widest, longest, middles,
                     np.full(K, -1, np.int32), np.empty(K, np.int32), np.empty(4, np.float64),
                     partners[0], partners[1], holder_start, holders,
                     np.zeros(cap + 1, np.int64))


@inline
def _join_cost(host, frag, frag_types, nf, middles, start, partners, px, py, reach, limit):
    """pd_join_cost: the shortest gap across one hidden joint between the host
    (slots `host`) and the fragment (slots `frag`, nf types), in units of twice the
    host's reach; inf when none. Only the types two tree limbs from each of the
    fragment's are visited: O(nf * d2) whatever the host's size."""
    best = math.inf
    far = 1.001 * limit * 2.0 * reach
    for b in range(nf):
        j = frag_types[b]
        gj = frag[j]
        fx = np.float64(px[gj])
        fy = np.float64(py[gj])
        for e in range(start[j], start[j + 1]):
            i = partners[e]
            gi = host[i]
            if gi < 0:
                continue
            middle = middles[i, j]
            if host[middle] >= 0 or frag[middle] >= 0:
                continue
            dx = np.float64(px[gi]) - fx
            dy = np.float64(py[gi]) - fy
            if dx * dx + dy * dy > far * far:
                continue
            cost = math.sqrt(dx * dx + dy * dy) / (2.0 * reach)
            if cost < best:
                best = cost
    return best


@inline
def _gap2(box, p, fb):
    """The squared gap between person p's box and the fragment's box fb."""
    gx = max(fb[0] - box[p, 2], box[p, 0] - fb[2])
    gy = max(fb[1] - box[p, 3], box[p, 1] - fb[3])
    if gx < 0.0:
        gx = 0.0
    if gy < 0.0:
        gy = 0.0
    return gx * gx + gy * gy


@inline
def _holds_none(host, frag_types, nf):
    for i in range(nf):
        if host[frag_types[i]] >= 0:
            return False
    return True


@inline
def _may_take(p, n_p, f, nf, person, K):
    """Host p (n_p keypoints) may take fragment f (nf): not itself, not a larger
    person (nor an equal one of a higher index), and not past K types."""
    if p == f or n_p + nf > K:
        return False
    return not (person and (n_p < nf or (n_p == nf and p > f)))


@inline
def _ranked(cost, p, best, second, host):
    """(best, second, host) after host p offers `cost`; the lower index wins a tie."""
    if cost < best:
        return cost, best, p
    if cost == best:
        return best, cost, p if p < host else host
    if cost < second:
        return best, cost, host
    return best, second, host


@inline
def _first_host_right(hosts_s, num_hosts, left):
    """The first host (by left edge) whose left edge is not left of `left`."""
    lo = 0
    hi = num_hosts
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if np.float64(-hosts_s[mid]) < left:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _best_host(people, peaks, r, f, frag, nf):
    """The nearest host for the fragment f (slots `frag`, r.frag_types, box r.fb) and
    the two lowest costs (host, best, second), searched outward from the
    fragment's left edge and stopped where no host can be near enough to matter.
    The state's arrays are taken out once: a call that passes a tuple of arrays
    counts a reference to each, which costs more than the search in a loop."""
    slots, keypoints, box, reach, types, fb = (people.slots, people.keypoints, r.box, r.reach,
                                               r.types, r.fb)
    hosts_a, frag_types, px, py = r.hosts.a, r.frag_types, peaks.x, peaks.y
    K = slots.shape[1]
    person = f < people.n[0]
    best = math.inf
    second = math.inf
    host = -1
    num_hosts = r.num_hosts
    lo = _first_host_right(r.hosts.s, num_hosts, fb[0])
    step = 0
    while step < num_hosts:
        at = lo + step if step < num_hosts - lo else lo - 1 - (step - (num_hosts - lo))
        step += 1
        p = hosts_a[at]
        limit = second if second < 1.0 else 1.0
        horizon = 1.01 * limit * 2.0 * r.longest
        if at >= lo:
            if box[p, 0] - fb[2] > horizon:
                step = num_hosts - lo
                continue
        elif fb[0] - box[p, 0] - r.widest > horizon:
            break
        n_p = keypoints[p]
        if not _may_take(p, n_p, f, nf, person, K):
            continue
        far = 1.01 * limit * 2.0 * reach[p]
        if _gap2(box, p, fb) > far * far or not _holds_none(slots[p], frag_types, nf):
            continue
        cost = _join_cost(slots[p], frag, frag_types, nf, r.middles, r.partner_start,
                          r.partners, px, py, reach[p], limit)
        if cost <= 1.0:
            best, second, host = _ranked(cost, p, best, second, host)
    return host, best, second


@jit
def _by_type_size(r, nf):
    """pd_join_by_type_size: the hosts _by_type would visit, repeats included."""
    n = 0
    for b in range(nf):
        t = r.frag_types[b]
        for e in range(r.partner_start[t], r.partner_start[t + 1]):
            i = r.partners[e]
            n += r.holder_start[i + 1] - r.holder_start[i]
    return n


@jit
def _by_type(people, peaks, r, f, frag, nf):
    """pd_join_by_type: the choice of _best_host from the hosts holding a type two
    tree limbs from one of the fragment's, each weighed once (the outcome does not
    depend on the order)."""
    slots, keypoints, box, reach, fb = people.slots, people.keypoints, r.box, r.reach, r.fb
    frag_types, px, py, stamp = r.frag_types, peaks.x, peaks.y, r.stamp
    K = slots.shape[1]
    person = f < people.n[0]
    best = math.inf
    second = math.inf
    host = -1
    stamp[-1] += 1
    serial = stamp[-1]
    for b in range(nf):
        t = frag_types[b]
        for e in range(r.partner_start[t], r.partner_start[t + 1]):
            i = r.partners[e]
            for h in range(r.holder_start[i], r.holder_start[i + 1]):
                p = r.holders[h]
                if stamp[p] == serial:
                    continue
                stamp[p] = serial
                n_p = keypoints[p]
                if not (reach[p] > 0.0) or not _may_take(p, n_p, f, nf, person, K):
                    continue
                limit = second if second < 1.0 else 1.0
                far = 1.01 * limit * 2.0 * reach[p]
                if _gap2(box, p, fb) > far * far or not _holds_none(slots[p], frag_types, nf):
                    continue
                cost = _join_cost(slots[p], frag, frag_types, nf, r.middles, r.partner_start,
                                  r.partners, px, py, reach[p], limit)
                if cost <= 1.0:
                    best, second, host = _ranked(cost, p, best, second, host)
    return host, best, second


@jit
def _fragment(people, peaks, r, f):
    """Fragment f (a person below count, else the global peak f - count; see
    _proposals) into r.frag_types and r.fb: (its slots, its size, its type when a
    lone peak or -1)."""
    count = people.n[0]
    if f < count:
        nf = people.keypoints[f]
        r.frag_types[:nf] = r.types[f, :nf]
        r.fb[:] = r.box[f]
        return people.slots[f], nf, -1
    g = f - count
    kind = g // (peaks.x.shape[0] // people.slots.shape[1])
    r.lone[kind] = g
    r.frag_types[0] = kind
    r.fb[0] = np.float64(peaks.x[g])
    r.fb[2] = r.fb[0]
    r.fb[1] = np.float64(peaks.y[g])
    r.fb[3] = r.fb[1]
    return r.lone, 1, kind


@jit
def _proposals(people, peaks, r, margin):
    """Every fragment's host when it is clearly the nearest, as (-cost, fragment,
    host) sorted: the nearest joins first. A fragment is a person of at most half
    the types, or a peak nobody holds (tested here, on arrays taken out once)."""
    count = people.n[0]
    K = people.slots.shape[1]
    total = peaks.x.shape[0]
    mp = total // K
    keypoints, owner, num = people.keypoints, people.owner, peaks.num
    joins = new_cands(count + total)
    n = 0
    for f in range(count + total):
        if f < count:
            if keypoints[f] == 0 or 2 * keypoints[f] > K:
                continue
        elif (f - count) % mp >= num[(f - count) // mp] or owner[f - count] >= 0:
            continue
        frag, nf, kind = _fragment(people, peaks, r, f)
        # Where hosts crowd within reach (small maps, noise), the holders of the
        # partner types are fewer than the hosts a sweep visits; both choose alike.
        if 4 * _by_type_size(r, nf) < r.num_hosts:
            host, best, second = _by_type(people, peaks, r, f, frag, nf)
        else:
            host, best, second = _best_host(people, peaks, r, f, frag, nf)
        if kind >= 0:
            r.lone[kind] = -1
        if host < 0 or not (best < np.float64(margin) * second):
            continue
        joins.a[n] = f
        joins.b[n] = host
        joins.s[n] = -np.float32(best)
        n += 1
    sort_candidates(joins.s, joins.a, joins.b, n)
    return joins, n


@jit
def _apply_joins(people, peaks, joins, num):
    """Joins the proposals still possible, nearest first; returns how many."""
    count = people.n[0]
    mp = peaks.x.shape[0] // people.slots.shape[1]
    joined = 0
    for i in range(num):
        f = joins.a[i]
        p = joins.b[i]
        if people.keypoints[p] == 0:
            continue
        if f >= count:
            g = f - count
            kind = g // mp
            if people.slots[p, kind] >= 0:
                continue
            person_take(people, p, kind, g, peaks.v[g])
            joined += 1
            continue
        if people.keypoints[f] > 0 and disjoint(people, p, f):
            person_absorb(people, p, f, 0, F0)
            joined += 1
    return joined


@jit
def join_fragments(people, peaks, limb_kp, limb_redundant, margin):
    """pd_people_join_fragments: rounds of joining until none joins."""
    middles = tree_middles(limb_kp, limb_redundant, people.slots.shape[1])
    partners = tree_partners(middles)
    while True:
        r = _new_round(people, limb_kp, limb_redundant, peaks, middles, partners)
        joins, num = _proposals(people, peaks, r, margin)
        if _apply_joins(people, peaks, joins, num) == 0:
            break


@jit
def stage_join(prm, people, peaks, limb_kp, limb_redundant):
    """pd_stage_join: joining when join_fragments is on."""
    if prm.join_fragments > F0:
        join_fragments(people, peaks, limb_kp, limb_redundant, prm.join_fragments)
