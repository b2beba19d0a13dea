"""join.c: fragment joining. After assembly, a person or a peak nobody holds joins
the nearest person it could belong to across one hidden joint, when that one is
nearer than join_fragments times the next; rounds repeat until nothing joins.

As in C, a round only redoes what changed: the summaries of the people that
changed, and for a fragment whose host and runner-up did not change, a weighing of
the hosts that grew (the others weigh what they weighed before). Fragments are
taken by their first keypoint type, each type's sweeping only the hosts lacking it,
sorted by the left edge of their box."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .assembly import disjoint, person_absorb, person_take
from .fp import F0, borrowing, inline, jit
from .sort import new_cands, sort_candidates

# The skeleton's tree as joining reads it: the type between two types two tree
# limbs apart (middles, K x K, or -1), and per type those partner types,
# partners[partner_start[j]:partner_start[j + 1]].
Tree = namedtuple("Tree", ["middles", "partner_start", "partners"])

# The pass's state (pd_join_state). Per person: its reach (longest tree limb held),
# its types in order, its box, whether the last round changed it. The hosts
# (people with a reach) by left edge; each type's holders among them; the
# fragments by first type (bucket, members); the hosts lacking one type; per
# fragment (people, then global peaks past count) its choice: best and second
# cost, host and runner-up; the joins queued; scratch for one fragment (lone, a
# 1 x K row of slots for a lone peak, frag_types, fb); sizes: hosts, grown, joins,
# stamp serial; extent: widest box and longest reach of the hosts.
JoinState = namedtuple("JoinState", [
    "reach", "types", "box", "changed", "hosts", "holder_start", "holders", "cursor",
    "stamp", "bucket", "members", "lacking", "best", "second", "host", "runner_up",
    "grown", "joins", "lone", "frag_types", "fb", "sizes", "extent"])

_HOSTS, _GROWN, _JOINS, _SERIAL = 0, 1, 2, 3


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
def new_tree(limb_kp, limb_redundant, K):
    """The middles and, per type j, the types i with middles[i, j] >= 0 in increasing
    order (pd_tree_partners)."""
    middles = tree_middles(limb_kp, limb_redundant, K)
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
    return Tree(middles, start, partners)


@jit
def tree_table(limb_kp, limb_redundant, K):
    """The Tree of a skeleton in one int32 array (middles, partner_start, partners),
    worked out once per decoder: tree_of reads it."""
    tree = new_tree(limb_kp, limb_redundant, K)
    n = tree.partner_start[K]
    table = np.empty(K * K + K + 1 + n, np.int32)
    table[:K * K] = tree.middles.ravel()
    table[K * K:K * K + K + 1] = tree.partner_start
    table[K * K + K + 1:] = tree.partners[:n]
    return table


@jit
def tree_of(table, K):
    """The Tree that tree_table laid out, as views of it."""
    return Tree(table[:K * K].reshape((K, K)), table[K * K:K * K + K + 1],
                table[K * K + K + 1:])


@jit
def new_state(count, K, total):
    """The workspace of pd_join_layout for `count` people and `total` peak slots."""
    cap = max(count, 1)
    fragments = count + total
    return JoinState(
        np.zeros(cap, np.float64), np.empty((cap, K), np.int32), np.empty((cap, 4), np.float64),
        np.zeros(cap, np.uint8), new_cands(cap), np.empty(K + 1, np.int32),
        np.empty(2 * total + 1, np.int32), np.empty(K, np.int32), np.zeros(cap, np.int64),
        np.empty(K + 1, np.int32), np.empty(cap, np.int32), new_cands(cap),
        np.full(fragments, math.inf), np.full(fragments, math.inf),
        np.full(fragments, -1, np.int32), np.full(fragments, -1, np.int32),
        np.empty(cap, np.int32), new_cands(max(fragments, 1)), np.full((1, K), -1, np.int32),
        np.empty(K, np.int32), np.empty(4, np.float64), np.zeros(4, np.int64),
        np.zeros(2, np.float64))


@inline
def _person_reach(slots, limb_kp, limb_redundant, px, py):
    """pd_person_reach: the longest tree limb the person of `slots` holds."""
    longest = 0.0
    for l in range(limb_kp.shape[0]):
        if limb_redundant[l] != 0:
            continue
        ga = slots[limb_kp[l, 0]]
        gb = slots[limb_kp[l, 1]]
        if ga < 0 or gb < 0:
            continue
        dx = np.float64(px[ga]) - np.float64(px[gb])
        dy = np.float64(py[ga]) - np.float64(py[gb])
        length = math.sqrt(dx * dx + dy * dy)
        if length > longest:
            longest = length
    return longest


@jit
def _summaries(people, limb_kp, limb_redundant, px, py, reach, types, box, changed, rnd):
    """pd_join_summaries: per person that changed (all in round 0) its reach, its
    box and the types it holds, in type order."""
    slots, keypoints = people.slots, people.keypoints
    K = slots.shape[1]
    for p in range(people.n[0]):
        if rnd > 0 and changed[p] == 0:
            continue
        reach[p] = _person_reach(slots[p], limb_kp, limb_redundant, px, py) \
            if keypoints[p] >= 2 else 0.0
        box[p, 0] = math.inf
        box[p, 1] = math.inf
        box[p, 2] = -math.inf
        box[p, 3] = -math.inf
        n = 0
        for k in range(K):
            g = slots[p, k]
            if g < 0:
                continue
            types[p, n] = k
            n += 1
            x = np.float64(px[g])
            y = np.float64(py[g])
            box[p, 0] = min(box[p, 0], x)
            box[p, 1] = min(box[p, 1], y)
            box[p, 2] = max(box[p, 2], x)
            box[p, 3] = max(box[p, 3], y)


@jit
def _hosts(count, keypoints, reach, types, box, hosts, holder_start, holders, cursor,
           sizes, extent):
    """pd_join_hosts: the hosts by left edge, their widest box and longest reach,
    and every host by the types it holds (holders[holder_start[t]:holder_start[t + 1]]
    hold type t, by index)."""
    num_hosts = 0
    widest = 0.0
    longest = 0.0
    K = holder_start.shape[0] - 1
    holder_start[:] = 0
    for p in range(count):
        if not (reach[p] > 0.0):
            continue
        hosts.a[num_hosts] = p
        hosts.b[num_hosts] = 0
        hosts.s[num_hosts] = -np.float32(box[p, 0])
        num_hosts += 1
        widest = max(widest, box[p, 2] - box[p, 0])
        longest = max(longest, reach[p])
        for t in range(keypoints[p]):
            holder_start[types[p, t] + 1] += 1
    sort_candidates(hosts.s, hosts.a, hosts.b, num_hosts)
    for k in range(K):
        holder_start[k + 1] += holder_start[k]
        cursor[k] = holder_start[k]
    for p in range(count):
        if reach[p] > 0.0:
            for t in range(keypoints[p]):
                holders[cursor[types[p, t]]] = p
                cursor[types[p, t]] += 1
    sizes[_HOSTS] = num_hosts
    extent[0] = widest
    extent[1] = longest


@jit
def _buckets(count, keypoints, types, bucket, members, cursor):
    """pd_join_buckets: the fragments among the people (at most half the types) by
    their first type, members[bucket[k]:bucket[k + 1]]."""
    K = cursor.shape[0]
    bucket[:] = 0
    for f in range(count):
        nf = keypoints[f]
        if nf > 0 and 2 * nf <= K:
            bucket[types[f, 0] + 1] += 1
    for k in range(K):
        bucket[k + 1] += bucket[k]
        cursor[k] = bucket[k]
    for f in range(count):
        nf = keypoints[f]
        if nf > 0 and 2 * nf <= K:
            members[cursor[types[f, 0]]] = f
            cursor[types[f, 0]] += 1


@inline
def _join_cost(slots, p, fslots, frow, frag_types, nf, middles, start, partners, px, py, reach,
               limit):
    """pd_join_cost: the shortest gap across one hidden joint between the host
    (row p of slots) and the fragment (row frow of fslots, nf types), in units of twice the
    host's reach; inf when none. Only the types two tree limbs from each of the
    fragment's are visited: O(nf * d2) whatever the host's size."""
    best = math.inf
    far = 1.001 * limit * 2.0 * reach
    for b in range(nf):
        j = frag_types[b]
        gj = fslots[frow, j]
        fx = np.float64(px[gj])
        fy = np.float64(py[gj])
        for e in range(start[j], start[j + 1]):
            i = partners[e]
            gi = slots[p, i]
            if gi < 0:
                continue
            middle = middles[i, j]
            if slots[p, middle] >= 0 or fslots[frow, middle] >= 0:
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
def _may_host(slots, keypoints, reach, p, f, person, frag_types, nf):
    """Host p may take fragment f (nf types): not itself, a reach, not a smaller
    person (nor an equal one of a higher index), not past K types, and none of the
    fragment's types held (the commonest refusal: tested last, as in C)."""
    if p == f or not (reach[p] > 0.0):
        return False
    n_p = keypoints[p]
    if person and (n_p < nf or (n_p == nf and p > f)):
        return False
    if n_p + nf > slots.shape[1]:
        return False
    for i in range(nf):
        if slots[p, frag_types[i]] >= 0:
            return False
    return True


@inline
def _ranked(cost, p, best, second, host, runner_up):
    """pd_join_consider's ranking after host p offers `cost`: the least cost, the
    lowest index among hosts at it, the runner-up and its cost."""
    if cost < best:
        return cost, best, p, host
    if cost == best:
        if p < host:
            return best, cost, p, host
        return best, cost, host, p
    if cost < second:
        return best, cost, host, p
    return best, second, host, runner_up


@inline
def _consider(slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
              fslots, frow, frag_types, nf, fb, p, best, second, host, runner_up):
    """pd_join_consider: the choice (best, second, host, runner_up) after weighing
    host p for fragment f (row frow of fslots); the same outcome in any order of
    hosts. Rows are indexed, never sliced: a view counts a reference."""
    if not _may_host(slots, keypoints, reach, p, f, person, frag_types, nf):
        return best, second, host, runner_up
    # Every cost is at least gap / (2 * reach), and only one within reach and below
    # the runner-up's can change the outcome; the slack keeps the shortcut from
    # deciding a borderline case.
    limit = second if second < 1.0 else 1.0
    far = 1.01 * limit * 2.0 * reach[p]
    if _gap2(box, p, fb) > far * far:
        return best, second, host, runner_up
    cost = _join_cost(slots, p, fslots, frow, frag_types, nf, middles, pstart, partners, px,
                      py, reach[p], limit)
    if not (cost <= 1.0):
        return best, second, host, runner_up
    return _ranked(cost, p, best, second, host, runner_up)


@inline
def _first_right(lacking_s, n, left):
    """The first of the hosts lacking the type whose left edge is not left of `left`."""
    lo = 0
    hi = n
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if np.float64(-lacking_s[mid]) < left:
            lo = mid + 1
        else:
            hi = mid
    return lo


@borrowing
def _sweep(slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
           fslots, frow, frag_types, nf, fb, lacking_a, lacking_s, n, widest, longest):
    """pd_join_sweep: weighs every host of the n lacking the fragment's first type
    that can come within reach, rightwards from the first whose box starts at or
    right of the fragment's left edge, then leftwards from the one before, each
    side until none can. The bounds skip only hosts certainly beyond the limit."""
    best = math.inf
    second = math.inf
    host = -1
    runner_up = -1
    lo = _first_right(lacking_s, n, fb[0])
    for at in range(lo, n):
        limit = second if second < 1.0 else 1.0
        p = lacking_a[at]
        if box[p, 0] - fb[2] > 1.01 * limit * 2.0 * longest:
            break
        best, second, host, runner_up = _consider(
            slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person, fslots,
            frow, frag_types, nf, fb, p, best, second, host, runner_up)
    for at in range(lo - 1, -1, -1):
        limit = second if second < 1.0 else 1.0
        p = lacking_a[at]
        if fb[0] - box[p, 0] - widest > 1.01 * limit * 2.0 * longest:
            break
        best, second, host, runner_up = _consider(
            slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person, fslots,
            frow, frag_types, nf, fb, p, best, second, host, runner_up)
    return best, second, host, runner_up


@borrowing
def _by_type_size(pstart, partners, holder_start, frag_types, nf):
    """pd_join_by_type_size: the hosts _by_type would visit, repeats included."""
    n = 0
    for b in range(nf):
        t = frag_types[b]
        for e in range(pstart[t], pstart[t + 1]):
            i = partners[e]
            n += holder_start[i + 1] - holder_start[i]
    return n


@borrowing
def _by_type(slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
             fslots, frow, frag_types, nf, fb, holder_start, holders, stamp, serial):
    """pd_join_by_type: weighs, once each (stamped with `serial`), the hosts holding
    a type two tree limbs from one of the fragment's: the only ones whose cost can
    be finite. The same choice as the sweep."""
    best = math.inf
    second = math.inf
    host = -1
    runner_up = -1
    for b in range(nf):
        t = frag_types[b]
        for e in range(pstart[t], pstart[t + 1]):
            i = partners[e]
            for h in range(holder_start[i], holder_start[i + 1]):
                p = holders[h]
                if stamp[p] == serial:
                    continue
                stamp[p] = serial
                best, second, host, runner_up = _consider(
                    slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
                    fslots, frow, frag_types, nf, fb, p, best, second, host, runner_up)
    return best, second, host, runner_up


@borrowing
def _grown(slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
           fslots, frow, frag_types, nf, fb, grown, num_grown, best, second, host, runner_up):
    """The choice after weighing the hosts that grew on top of the last one."""
    for i in range(num_grown):
        best, second, host, runner_up = _consider(
            slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person, fslots,
            frow, frag_types, nf, fb, grown[i], best, second, host, runner_up)
    return best, second, host, runner_up


@borrowing
def _lacking(slots, hosts_a, hosts_s, num_hosts, kind, lacking):
    """pd_join_lacking: the hosts without type kind, in host order; how many."""
    n = 0
    for at in range(num_hosts):
        if slots[hosts_a[at], kind] < 0:
            lacking.a[n] = hosts_a[at]
            lacking.s[n] = hosts_s[at]
            n += 1
    return n


@inline
def _fragment(keypoints, types, box, owner, members, lone, frag_types, fb, px, py, count, kind,
              mp, m, people_end):
    """pd_join_fragment: entry m of type kind's fragments (people first, then the
    type's peaks) as (f, is a person, nf) with its types in frag_types and its box
    in fb; nf 0 for a peak somebody holds, which is no fragment. A peak is seen
    through row 0 of `lone`, which the caller resets after."""
    if m < people_end:
        f = members[m]
        nf = keypoints[f]
        for i in range(nf):
            frag_types[i] = types[f, i]
        for i in range(4):
            fb[i] = box[f, i]
        return f, True, nf
    g = kind * mp + (m - people_end)
    if owner[g] >= 0:
        return count + g, False, 0
    lone[0, kind] = g
    frag_types[0] = kind
    fb[0] = np.float64(px[g])
    fb[2] = fb[0]
    fb[1] = np.float64(py[g])
    fb[3] = fb[1]
    return count + g, False, 1


@borrowing
def _kind(people, peaks, tree, st, kind, rnd, margin):
    """pd_join_kind: chooses a host for every fragment whose first type is kind and
    queues the joins that are clear enough (the nearest below margin times the
    next). The arrays are taken out of the records once: a call counts a reference
    to every array of every tuple it is passed."""
    slots, keypoints, owner, count = people.slots, people.keypoints, people.owner, people.n[0]
    px, py, mp = peaks.x, peaks.y, peaks.x.shape[0] // people.slots.shape[1]
    middles, pstart, partners = tree.middles, tree.partner_start, tree.partners
    reach, types, box, changed, grown = st.reach, st.types, st.box, st.changed, st.grown
    bests, seconds, hosts, runners = st.best, st.second, st.host, st.runner_up
    lone, frag_types, fb, joins, sizes = st.lone, st.frag_types, st.fb, st.joins, st.sizes
    holder_start, lacking = st.holder_start, st.lacking
    people_end = st.bucket[kind + 1]
    num_lacking = -1  # built when a fragment first needs it
    for m in range(st.bucket[kind], people_end + peaks.num[kind]):
        f, person, nf = _fragment(keypoints, types, box, owner, st.members, lone, frag_types,
                                  fb, px, py, count, kind, mp, m, people_end)
        if nf == 0:
            continue
        fslots, frow = (slots, f) if person else (lone, 0)
        best, second, host, runner_up = bests[f], seconds[f], hosts[f], runners[f]
        if rnd == 0 or (person and changed[f] != 0) or (host >= 0 and changed[host] != 0) or \
                (runner_up >= 0 and changed[runner_up] != 0):
            if num_lacking < 0:
                num_lacking = _lacking(slots, st.hosts.a, st.hosts.s, sizes[_HOSTS], kind,
                                       lacking)
            # Where hosts crowd within reach (small maps, noise) the sweep visits most
            # of them; the holders of the partner types are then fewer. Both choose
            # the same host.
            if 4 * _by_type_size(pstart, partners, holder_start, frag_types, nf) < num_lacking:
                sizes[_SERIAL] += 1
                best, second, host, runner_up = _by_type(
                    slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
                    fslots, frow, frag_types, nf, fb, holder_start, st.holders, st.stamp,
                    sizes[_SERIAL])
            else:
                best, second, host, runner_up = _sweep(
                    slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
                    fslots, frow, frag_types, nf, fb, lacking.a, lacking.s, num_lacking,
                    st.extent[0], st.extent[1])
        else:
            # Only the hosts that grew can change the choice: the others weigh what
            # they weighed before.
            best, second, host, runner_up = _grown(
                slots, keypoints, reach, box, middles, pstart, partners, px, py, f, person,
                fslots, frow, frag_types, nf, fb, grown, sizes[_GROWN], best, second, host,
                runner_up)
        bests[f], seconds[f], hosts[f], runners[f] = best, second, host, runner_up
        if not person:
            lone[0, kind] = -1
        if host < 0 or not (best < np.float64(margin) * second):
            continue
        n = sizes[_JOINS]
        joins.a[n], joins.b[n], joins.s[n] = f, host, -np.float32(best)
        sizes[_JOINS] = n + 1
    return 0


@jit
def _apply(people, peaks, st):
    """pd_join_apply: runs the queued joins, nearest first, skipping those that no
    longer fit (the host has joined another, or holds one of the fragment's types);
    returns how many ran, marking the people they changed and the hosts that grew."""
    count = people.n[0]
    mp = peaks.x.shape[0] // people.slots.shape[1]
    changed, grown, joins, sizes = st.changed, st.grown, st.joins, st.sizes
    changed[:count] = 0
    num_grown = 0
    sort_candidates(joins.s, joins.a, joins.b, sizes[_JOINS])
    joined = 0
    for i in range(sizes[_JOINS]):
        f = joins.a[i]
        p = joins.b[i]
        if people.keypoints[p] == 0:
            continue
        if f >= count:
            g = f - count
            if people.slots[p, g // mp] >= 0:
                continue
            person_take(people, p, g // mp, g, peaks.v[g])
        else:
            if people.keypoints[f] == 0 or not disjoint(people, p, f):
                continue
            person_absorb(people, p, f, 0, F0)
            changed[f] = 1  # gone: whoever counted on it weighs again
        if changed[p] == 0:
            grown[num_grown] = p
            num_grown += 1
        changed[p] = 1
        joined += 1
    sizes[_GROWN] = num_grown
    return joined


@jit
def join_fragments(people, peaks, limb_kp, limb_redundant, tree, margin):
    """pd_stage_join's rounds until none joins: the pieces of one person are rivals
    as hosts until they have joined each other, and each round joins a fragment
    away, so the rounds end."""
    K = people.slots.shape[1]
    count = people.n[0]
    st = new_state(count, K, peaks.x.shape[0])
    px, py = peaks.x, peaks.y
    rnd = 0
    while True:
        _summaries(people, limb_kp, limb_redundant, px, py, st.reach, st.types, st.box,
                   st.changed, rnd)
        _hosts(count, people.keypoints, st.reach, st.types, st.box, st.hosts,
               st.holder_start, st.holders, st.cursor, st.sizes, st.extent)
        _buckets(count, people.keypoints, st.types, st.bucket, st.members, st.cursor)
        st.sizes[_JOINS] = 0
        for kind in range(K):
            _kind(people, peaks, tree, st, kind, rnd, margin)
        if _apply(people, peaks, st) == 0:
            return
        rnd += 1


@jit
def join_with(prm, people, peaks, limb_kp, limb_redundant, tree):
    """pd_stage_join with the skeleton's tree worked out before (tree_of)."""
    if prm.join_fragments > F0:
        join_fragments(people, peaks, limb_kp, limb_redundant, tree, prm.join_fragments)


@jit
def stage_join(prm, people, peaks, limb_kp, limb_redundant):
    """pd_stage_join: joining when join_fragments is on."""
    if prm.join_fragments > F0:
        join_with(prm, people, peaks, limb_kp, limb_redundant,
                  new_tree(limb_kp, limb_redundant, people.slots.shape[1]))
