"""join.c: fragment joining. After assembly, a person or a peak nobody holds joins
the nearest person it could belong to across one hidden joint, when that one is
nearer than join_fragments times the next; rounds repeat until nothing joins."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .assembly import disjoint, person_absorb, person_take
from .fp import F0, jit
from .sort import new_cands, sort_candidates

# One round's view of the people: per person its reach (longest tree limb held),
# its types in order and its bounding box; the hosts (people with a reach) sorted
# by left edge, their widest box and longest reach; the type between any two
# types two tree limbs apart (middles, K x K); scratch for one fragment.
JoinRound = namedtuple("JoinRound", [
    "reach", "types", "box", "hosts", "num_hosts", "widest", "longest", "middles",
    "lone", "frag_types", "fb"])


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


@jit
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
def _new_round(people, limb_kp, limb_redundant, peaks, middles):
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
    return JoinRound(reach, types, box, hosts, num_hosts, widest, longest, middles,
                     np.full(K, -1, np.int32), np.empty(K, np.int32), np.empty(4, np.float64))


@jit
def _join_cost(host, host_types, nh, frag, frag_types, nf, middles, peaks, reach, limit):
    """pd_join_cost: the shortest gap across one hidden joint between the host
    (slots `host`, its nh types) and the fragment (slots `frag`, nf types), in
    units of twice the host's reach; inf when none."""
    best = math.inf
    far = 1.001 * limit * 2.0 * reach
    for a in range(nh):
        i = host_types[a]
        gi = host[i]
        hx = np.float64(peaks.x[gi])
        hy = np.float64(peaks.y[gi])
        for b in range(nf):
            j = frag_types[b]
            middle = middles[i, j]
            if middle < 0 or host[middle] >= 0 or frag[middle] >= 0:
                continue
            gj = frag[j]
            dx = hx - np.float64(peaks.x[gj])
            dy = hy - np.float64(peaks.y[gj])
            if dx * dx + dy * dy > far * far:
                continue
            cost = math.sqrt(dx * dx + dy * dy) / (2.0 * reach)
            if cost < best:
                best = cost
    return best


@jit
def _host_cost(people, peaks, r, p, f, frag, nf, limit):
    """The cost of joining the fragment (f, slots `frag`, r.frag_types, box r.fb) to
    host p, or inf when p cannot take it."""
    count = people.n[0]
    K = people.slots.shape[1]
    n_p = people.keypoints[p]
    if f < count and (n_p < nf or (n_p == nf and p > f)):
        return math.inf
    if n_p + nf > K:
        return math.inf
    fb = r.fb
    gx = max(fb[0] - r.box[p, 2], r.box[p, 0] - fb[2])
    gy = max(fb[1] - r.box[p, 3], r.box[p, 1] - fb[3])
    if gx < 0.0:
        gx = 0.0
    if gy < 0.0:
        gy = 0.0
    far = 1.01 * limit * 2.0 * r.reach[p]
    if gx * gx + gy * gy > far * far:
        return math.inf
    for i in range(nf):
        if people.slots[p, r.frag_types[i]] >= 0:
            return math.inf
    return _join_cost(people.slots[p], r.types[p], n_p, frag, r.frag_types, nf, r.middles,
                      peaks, r.reach[p], limit)


@jit
def _first_host_right(r, left):
    """The first host (by left edge) whose left edge is not left of `left`."""
    lo = 0
    hi = r.num_hosts
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if np.float64(-r.hosts.s[mid]) < left:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _best_host(people, peaks, r, f, frag, nf):
    """The nearest host for the fragment and the two lowest costs (best, second),
    searched outward from the fragment's left edge and stopped where no host can
    be near enough to matter."""
    best = math.inf
    second = math.inf
    host = -1
    num_hosts = r.num_hosts
    lo = _first_host_right(r, r.fb[0])
    step = 0
    while step < num_hosts:
        at = lo + step if step < num_hosts - lo else lo - 1 - (step - (num_hosts - lo))
        step += 1
        p = r.hosts.a[at]
        limit = second if second < 1.0 else 1.0
        horizon = 1.01 * limit * 2.0 * r.longest
        if at >= lo:
            if r.box[p, 0] - r.fb[2] > horizon:
                step = num_hosts - lo
                continue
        elif r.fb[0] - r.box[p, 0] - r.widest > horizon:
            break
        if p == f:
            continue
        cost = _host_cost(people, peaks, r, p, f, frag, nf, limit)
        if not (cost <= 1.0):
            continue
        if cost < best:
            second = best
            best = cost
            host = p
        elif cost == best:
            second = cost
            if p < host:
                host = p
        elif cost < second:
            second = cost
    return host, best, second


@jit
def _fragment(people, peaks, r, f):
    """Fragment f (a person below count, else the global peak f - count) into
    r.frag_types and r.fb: (its slots, its size, its type when a lone peak or -1);
    size 0 when f is no fragment."""
    count = people.n[0]
    K = people.slots.shape[1]
    if f < count:
        nf = people.keypoints[f]
        if nf == 0 or 2 * nf > K:
            return r.lone, 0, -1
        r.frag_types[:nf] = r.types[f, :nf]
        r.fb[:] = r.box[f]
        return people.slots[f], nf, -1
    g = f - count
    mp = peaks.x.shape[0] // K
    kind = g // mp
    if g % mp >= peaks.num[kind] or people.owner[g] >= 0:
        return r.lone, 0, -1
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
    host) sorted: the nearest joins first."""
    total = peaks.x.shape[0]
    joins = new_cands(people.n[0] + total)
    num = 0
    for f in range(people.n[0] + total):
        frag, nf, kind = _fragment(people, peaks, r, f)
        if nf == 0:
            continue
        host, best, second = _best_host(people, peaks, r, f, frag, nf)
        if kind >= 0:
            r.lone[kind] = -1
        if host < 0 or not (best < np.float64(margin) * second):
            continue
        joins.a[num] = f
        joins.b[num] = host
        joins.s[num] = -np.float32(best)
        num += 1
    sort_candidates(joins.s, joins.a, joins.b, num)
    return joins, num


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
    while True:
        r = _new_round(people, limb_kp, limb_redundant, peaks, middles)
        joins, num = _proposals(people, peaks, r, margin)
        if _apply_joins(people, peaks, joins, num) == 0:
            break


@jit
def stage_join(prm, people, peaks, limb_kp, limb_redundant):
    """pd_stage_join: joining when join_fragments is on."""
    if prm.join_fragments > F0:
        join_fragments(people, peaks, limb_kp, limb_redundant, prm.join_fragments)
