"""A plain NumPy/Python decoder of the same algorithm as the compiled core.

Small and readable rather than fast: it is the specification the tests hold the backends
to, and the baseline the benchmark measures the speed-up against. Each stage mirrors a
file of ``csrc/``; see the README's "How it decodes" for the rules.
"""

from __future__ import annotations

import math

import numpy as np

from .decoder import Poses, as_fields, check_shapes, make_config

__all__ = ["ReferenceDecoder", "find_peaks", "score_limb", "assign", "assemble"]

F32 = np.float32
TINY = np.finfo(np.float32).tiny
FMAX = np.finfo(np.float32).max


def _clean(field):
    """Non-finite values and float32 denormals read as 0, as in the core."""
    field = np.asarray(field, dtype=F32)
    return np.where(np.isfinite(field) & (np.abs(field) >= TINY), field, F32(0))


def _fit_offset(left, centre, right):
    """Sub-pixel offset from three samples: a parabola through their logarithms
    (exact for a Gaussian), else through their values; clamped to half a cell."""
    with np.errstate(all="ignore"):
        ratio_l, ratio_r = F32(left) / F32(centre), F32(right) / F32(centre)
        if centre > 0 and ratio_l > 0 and ratio_r > 0:
            ll, lr = np.log(ratio_l), np.log(ratio_r)
            num, den = F32(ll - lr), F32(ll + lr)
        else:
            num, den = F32(left - right), F32(left - F32(2) * centre + right)
            if not (abs(num) <= FMAX and abs(den) <= FMAX):
                # float32 overflowed: the same parabola in float64, which cannot.
                num = float(left) - float(right)
                den = float(left) - 2.0 * float(centre) + float(right)
                if not den < 0:
                    return F32(0)
                return F32(min(max(0.5 * num / den, -0.5), 0.5))
        if not den < 0:
            return F32(0)
        return F32(min(max(F32(0.5) * num / den, -0.5), 0.5))


_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))


def _centred_at_split(heatmap, nx, ny, dx, dy, sigma2):
    """False when the Gaussian fitted to split cell (nx, ny) from the cell beyond it,
    (dx, dy) further, lies over half a step back toward the peak: the unclamped
    far-side fit, in steps, log hn - log hf = step^2 (1 - 2t) / (2 sigma2), t < -1/2.
    A Gaussian wider or longer along the step than the channel's raises the peak's
    neighbour as a second one would, but falls from it as from a centre behind it."""
    h, w = heatmap.shape
    fx, fy = nx + dx, ny + dy
    if not (0 <= fx < w and 0 <= fy < h) or not heatmap[fy, fx] > 0:
        return True
    step2 = F32(dx * dx + dy * dy)
    diff = F32(np.log(heatmap[ny, nx]) - np.log(heatmap[fy, fx]))
    t = F32(F32(0.5) - F32(F32(sigma2 * diff) / step2))
    return not t < F32(-0.5)


def _hidden_at(heatmap, cx, cy, dx, dy, threshold, margin, sigma2):
    """Whether the neighbour (dx, dy) from the peak at (cx, cy) is a second
    keypoint's centre (see `_split_merged`; marks aside)."""
    h, w = heatmap.shape
    log = np.log
    nx, ny, ox, oy = cx + dx, cy + dy, cx - dx, cy - dy
    if not (0 <= nx < w and 0 <= ny < h and 0 <= ox < w and 0 <= oy < h):
        return False
    hn, ho = heatmap[ny, nx], heatmap[oy, ox]
    if not hn > threshold or not hn > 0 or not ho > 0:
        return False
    step2 = F32(dx * dx + dy * dy)
    excess = F32(F32(F32(log(hn) + log(ho)) - F32(F32(2) * log(heatmap[cy, cx])))
                 + F32(step2 / sigma2))
    if not hn >= ho or not excess >= margin:
        return False
    if not _centred_at_split(heatmap, nx, ny, dx, dy, sigma2):
        return False
    return not any(heatmap[qy, qx] > hn
                   for ex, ey in _DIRECTIONS
                   for qx, qy in [(nx + ex, ny + ey)]
                   if 0 <= qx < w and 0 <= qy < h and (qx, qy) != (cx, cy))


def _split_merged(heatmap, cells, threshold, margin):
    """The peaks hidden next to the peaks at `cells`, in order, as (cell, dx, dy, peak)
    with (dx, dy) the step from their peak's cell, and the channel's squared width. Through
    a lone Gaussian's peak, the logs of two opposite neighbours sum to twice the
    peak's minus step^2 / sigma^2, sigma the channel's width (the median over its
    peaks of the log values' curvature); where they sum to `margin` more, the higher
    neighbour, if no lower than any of its own neighbours but the peak, is a second
    keypoint's centre."""
    h, w = heatmap.shape
    log = np.log
    curvatures = []
    for idx in cells:
        y, x = divmod(idx, w)
        v = heatmap[y, x]
        if not v > 0:
            continue
        for (ly, lx), (ry, rx), inside in (((y, x - 1), (y, x + 1), 0 < x < w - 1),
                                           ((y - 1, x), (y + 1, x), 0 < y < h - 1)):
            if inside and heatmap[ly, lx] > 0 and heatmap[ry, rx] > 0:
                c = F32(F32(log(heatmap[ly, lx]) - F32(2) * log(v)) + log(heatmap[ry, rx]))
                if c < 0:
                    curvatures.append(c)
    if not curvatures:
        return [], F32(0)
    curvatures.sort(reverse=True)
    sigma2 = F32(F32(-1) / curvatures[len(curvatures) // 2])
    marked, extra = set(cells), []
    for idx in cells:
        cy, cx = divmod(idx, w)
        if not heatmap[cy, cx] > 0:
            continue
        for dx, dy in _DIRECTIONS:
            n = (cy + dy) * w + cx + dx
            if n in marked or not _hidden_at(heatmap, cx, cy, dx, dy, threshold, margin, sigma2):
                continue
            marked.add(n)
            extra.append((n, dx, dy, idx))
    return extra, sigma2


def _fit_far_side(heatmap, y, x, ay, ax, sigma2):
    """Offset of a Gaussian of squared width sigma2 peaking near (x, y) from its
    neighbour one step (ax, ay) away alone: log v - log far = (1 - 2t) / (2 sigma2)."""
    h, w = heatmap.shape
    v = heatmap[y, x]
    if not (0 <= x + ax < w and 0 <= y + ay < h) or not v > 0 or not heatmap[y + ay, x + ax] > 0:
        return F32(0)
    t = F32(F32(0.5) - F32(sigma2 * F32(np.log(v) - np.log(heatmap[y + ay, x + ax]))))
    t = min(max(t, F32(-0.5)), F32(0.5))
    return t if ax + ay > 0 else -t


def _fit_sides(split):
    """{cell: (ax, ay)}: the step along each axis toward the one neighbour a peak is
    fitted from, or 0 for both. A split peak's neighbours toward its peak, and its
    peak's toward it, mix the two Gaussians: a split peak is fitted from beyond
    itself, the peak from the side opposite its splits. Where a peak has splits on
    both sides of an axis neither side is clean, and the two-sided fit (both raised,
    their pulls partly cancelling) is kept along it."""
    away, sides = {}, {}
    for n, dx, dy, peak in split:
        away[n] = (dx, dy)
        sx, sy = sides.setdefault(peak, (set(), set()))
        sx.add(dx)
        sy.add(dy)
    for peak, (sx, sy) in sides.items():
        away[peak] = tuple(-next(iter(s - {0})) if len(s - {0}) == 1 else 0 for s in (sx, sy))
    return away


def _is_supported(heatmap, y, x, support):
    """The 3x3 mean around (y, x), weighted 1-2-1 along each axis and renormalised
    where the window leaves the map, exceeds `support` (float32, fixed order)."""
    h, w = heatmap.shape
    cells = [(F32((2 - abs(dy)) * (2 - abs(dx))), heatmap[y + dy, x + dx])
             for dy in (-1, 0, 1) for dx in (-1, 0, 1) if 0 <= y + dy < h and 0 <= x + dx < w]
    total, weight = F32(0), F32(0)
    with np.errstate(over="ignore", invalid="ignore"):
        for wt, v in cells:
            total = F32(total + F32(wt * v))
            weight = F32(weight + wt)
        limit = F32(F32(support) * weight)
    if abs(total) <= FMAX and limit <= FMAX:
        return bool(total > limit)
    # float32 overflowed: the same test in float64, which cannot.
    total = sum(float(wt) * float(v) for wt, v in cells)
    return bool(total > float(support) * float(weight))


def find_peaks(heatmap, threshold=0.1, radius=1, max_peaks=128, split_margin=0.0,
               peak_support=0.0):
    """Peaks of one cleaned (H, W) map: an (N, 3) float32 array of x, y, value in map
    pixels, strongest first (ties in raster order), one per plateau; with
    peak_support > 0 only those whose weighted 3x3 mean exceeds it (`_is_supported`);
    with split_margin > 0 also the peaks merged into a neighbour's (`_split_merged`)."""
    h, w = heatmap.shape
    padded = np.pad(heatmap, radius, constant_values=-np.inf)
    window = np.lib.stride_tricks.sliding_window_view(padded, (2 * radius + 1,) * 2)
    window_max = window.max(axis=(2, 3))
    found, seen = [], np.zeros((h, w), bool)
    for y, x in zip(*np.nonzero((heatmap > threshold) & (heatmap >= window_max))):
        v = heatmap[y, x]
        if seen[y, x]:
            continue
        # Flood the plateau of equal values; it is a peak when no cell of it has a
        # higher neighbour, reported at its first cell in raster order.
        stack, plateau, is_max = [(y, x)], [], True
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            plateau.append((cy, cx))
            is_max &= bool(window_max[cy, cx] <= v)
            for ny in range(max(cy - radius, 0), min(cy + radius + 1, h)):
                for nx in range(max(cx - radius, 0), min(cx + radius + 1, w)):
                    if heatmap[ny, nx] == v and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        if is_max:
            py, px = min(plateau)
            if peak_support > 0 and not _is_supported(heatmap, py, px, peak_support):
                continue
            found.append(py * w + px)
    found.sort()
    split, sigma2 = (_split_merged(heatmap, found, threshold, F32(split_margin))
                     if split_margin > 0 else ([], F32(0)))
    away = _fit_sides(split)
    # Strongest first, ties in raster order.
    ranked = sorted((-float(heatmap[divmod(idx, w)]), idx)
                    for idx in found + [n for n, *_ in split])
    peaks = []
    for _, idx in ranked[:max_peaks]:
        y, x = divmod(idx, w)
        v = heatmap[y, x]
        # Along an axis toward a split (or its peak), from the other side alone.
        ax, ay = away.get(idx, (0, 0))
        if ax:
            dx = _fit_far_side(heatmap, y, x, 0, ax, sigma2)
        else:
            dx = _fit_offset(heatmap[y, x - 1], v, heatmap[y, x + 1]) if 0 < x < w - 1 else F32(0)
        if ay:
            dy = _fit_far_side(heatmap, y, x, ay, 0, sigma2)
        else:
            dy = _fit_offset(heatmap[y - 1, x], v, heatmap[y + 1, x]) if 0 < y < h - 1 else F32(0)
        peaks.append((F32(x) + dx, F32(y) + dy, v))
    return np.array(peaks, dtype=F32).reshape(-1, 3)


def _bilinear(field, x, y):
    h, w = field.shape
    x = np.clip(x, F32(0), F32(w - 1))
    y = np.clip(y, F32(0), F32(h - 1))
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0.astype(F32), y - y0.astype(F32)
    top = field[y0, x0] + (field[y0, x1] - field[y0, x0]) * fx
    bottom = field[y1, x0] + (field[y1, x1] - field[y1, x0]) * fx
    return top + (bottom - top) * fy


def _dots_wide(paf_x, paf_y, px, py, ux, uy):
    """Samples whose float32 arithmetic did not stay finite: 0 where a corner is
    NaN or Inf; elsewhere the field was too large for float32, and the sample is
    redone in float64 and saturated to +-FLT_MAX."""
    h, w = paf_x.shape
    x = np.clip(px, F32(0), F32(w - 1))
    y = np.clip(py, F32(0), F32(h - 1))
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx = (x - x0.astype(F32)).astype(np.float64)
    fy = (y - y0.astype(F32)).astype(np.float64)
    corners = [f[yy, xx].astype(np.float64) for f in (paf_x, paf_y)
               for yy, xx in ((y0, x0), (y0, x1), (y1, x0), (y1, x1))]
    finite = np.logical_and.reduce([np.isfinite(c) for c in corners])
    with np.errstate(all="ignore"):
        v = []
        for c00, c01, c10, c11 in (corners[:4], corners[4:]):
            top, bottom = c00 + (c01 - c00) * fx, c10 + (c11 - c10) * fx
            v.append(top + (bottom - top) * fy)
        dot = v[0] * ux.astype(np.float64) + v[1] * uy.astype(np.float64)
    return np.where(finite, np.clip(dot, -FMAX, FMAX), 0.0).astype(F32)


def score_limb(paf_x, paf_y, peaks_a, peaks_b, *, paf_samples=10, min_inliers=8,
               paf_threshold=0.05, max_limb_length=0.0):
    """Candidate limbs between two peak sets on one limb type's PAF: (a, b, score)
    tuples, best first (ties by a, then b)."""
    ax, ay = peaks_a[:, 0][:, None], peaks_a[:, 1][:, None]
    dx, dy = peaks_b[None, :, 0] - ax, peaks_b[None, :, 1] - ay
    length2 = dx * dx + dy * dy
    valid = length2 >= F32(1e-3) * F32(1e-3)
    if max_limb_length > 0:
        valid &= length2 <= F32(max_limb_length) * F32(max_limb_length)
    with np.errstate(all="ignore"):
        length = np.sqrt(length2)
        ux, uy = dx / length, dy / length
        t = (np.arange(paf_samples) / (paf_samples - 1)).astype(F32)
        px = ax[..., None] + dx[..., None] * t
        py = ay[..., None] + dy[..., None] * t
        dots = _bilinear(paf_x, px, py) * ux[..., None] + _bilinear(paf_y, px, py) * uy[..., None]
    wide = ~np.isfinite(dots)
    if wide.any():
        lanes = np.broadcast_to(ux[..., None], dots.shape), np.broadcast_to(uy[..., None], dots.shape)
        dots[wide] = _dots_wide(paf_x, paf_y, px[wide], py[wide], lanes[0][wide], lanes[1][wide])
    height = paf_x.shape[0]
    inliers = (dots > F32(paf_threshold)).sum(-1)
    with np.errstate(all="ignore"):
        prior = np.minimum(0.5 * height / length.astype(np.float64) - 1.0, 0.0)
    score = dots.astype(np.float64).sum(-1) / paf_samples + prior
    keep = valid & (inliers >= min_inliers) & (score > 0)
    cands = [(int(a), int(b), F32(score[a, b])) for a, b in zip(*np.nonzero(keep))]
    return sorted(cands, key=lambda c: (-c[2], c[0], c[1]))


def _min_cost_assignment(cost):
    """Rectangular min-cost assignment (shortest augmenting paths with potentials);
    returns the column of each row, -1 where none."""
    rows, cols = cost.shape
    transposed = rows > cols
    a = cost.T if transposed else cost
    n, m = a.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    p, way = np.zeros(m + 1, int), np.zeros(m + 1, int)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv, used = np.full(m + 1, np.inf), np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], np.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = a[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    col_of_row = np.full(rows, -1)
    for j in range(1, m + 1):
        if p[j]:
            if transposed:
                col_of_row[j - 1] = p[j] - 1
            else:
                col_of_row[p[j] - 1] = j - 1
    return col_of_row


def assign(candidates, mode="greedy"):
    """Connections among sorted candidates, each peak at most once: greedily by score,
    or with the maximum total score over each connected component of candidates."""
    if mode == "greedy":
        used_a, used_b, chosen = set(), set(), []
        for a, b, s in candidates:
            if a not in used_a and b not in used_b:
                used_a.add(a)
                used_b.add(b)
                chosen.append((a, b, s))
        return chosen
    parent = {}

    def root(node):
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for a, b, _ in candidates:
        ra, rb = root(("a", a)), root(("b", b))
        if ra != rb:
            parent[ra] = rb
    components = {}
    for cand in candidates:
        components.setdefault(root(("a", cand[0])), []).append(cand)
    chosen = []
    for comp in components.values():
        rows = list(dict.fromkeys(c[0] for c in comp))
        cols = list(dict.fromkeys(c[1] for c in comp))
        if len(rows) == 1 or len(cols) == 1:
            chosen.append(comp[0])
            continue
        block = np.zeros((len(rows), len(cols)))
        for a, b, s in comp:
            block[rows.index(a), cols.index(b)] = -float(s)
        for r, c in enumerate(_min_cost_assignment(block)):
            if c >= 0 and block[r, c] != 0:
                chosen.append((rows[r], cols[c], F32(-block[r, c])))
    return sorted(chosen, key=lambda c: (-c[2], c[0], c[1]))


class _People:
    """Assembly state written plainly: people are dicts with "slots" {type: peak},
    "connections" and "evidence"; holders maps (type, peak) to the people holding it."""

    def __init__(self, skeleton, peaks):
        self.skeleton, self.peaks = skeleton, peaks
        self.people, self.holders = [], {}

    def hold(self, p, kind, peak, value):
        self.people[p]["slots"][kind] = peak
        self.holders.setdefault((kind, peak), []).append(p)
        self.people[p]["evidence"] += value

    def take(self, p, kind, peak, value, score):
        self.hold(p, kind, peak, value)
        self.people[p]["connections"] += 1
        self.people[p]["evidence"] += float(score)

    def lacking(self, peak_holders, kind):
        return [h for h in peak_holders if kind not in self.people[h]["slots"]]

    def value(self, kind, peak):
        return float(self.peaks[kind][peak, 2])

    def connect(self, limb, a, b, score):
        """One chosen connection: starts, extends or merges people; never overwrites
        a keypoint a person holds."""
        ka, kb = self.skeleton.limbs[limb]
        ha, hb = self.holders.get((ka, a), []), self.holders.get((kb, b), [])
        if not ha and not hb:
            if self.skeleton.redundant[limb]:
                return
            self.people.append({"slots": {}, "connections": 1, "evidence": float(score)})
            self.hold(len(self.people) - 1, ka, a, self.value(ka, a))
            self.hold(len(self.people) - 1, kb, b, self.value(kb, b))
        elif not hb or not ha:
            free = self.lacking(ha, kb) if not hb else self.lacking(hb, ka)
            if free and not hb:
                self.take(free[0], kb, b, self.value(kb, b), score)
            elif free:
                self.take(free[0], ka, a, self.value(ka, a), score)
        elif any(h in hb for h in ha):
            both = self.people[next(h for h in ha if h in hb)]
            both["connections"] += 1
            both["evidence"] += float(score)
        elif not set(self.people[ha[0]]["slots"]) & set(self.people[hb[0]]["slots"]):
            self.merge(ha[0], hb[0], float(score), 1)

    def merge(self, into_index, gone_index, score, connections):
        """Person gone_index joins into_index, bringing everything it holds."""
        into, gone = self.people[into_index], self.people[gone_index]
        for kind, peak in gone["slots"].items():
            into["slots"][kind] = peak
            owners = self.holders[(kind, peak)]
            owners[owners.index(gone_index)] = into_index
        into["connections"] += gone["connections"] + connections
        into["evidence"] += gone["evidence"] + score
        gone.update(slots={}, connections=0, evidence=0.0)

    def share(self, limb, candidates, min_score):
        """Shared peaks after a limb type's connections: first the unheld b (each to
        the first holder of its best a lacking b's type), then the b another person
        holds already (two keypoints merged into one peak); only through a
        candidate scoring at least min_score."""
        ka, kb = self.skeleton.limbs[limb]
        best_of_a, best_of_b = {}, {}
        for a, b, score in candidates:
            best_of_a.setdefault(a, (b, score))
            best_of_b.setdefault(b, (a, score))
        for b, (a, score) in sorted(best_of_b.items()):
            if not score >= min_score or self.holders.get((kb, b)):
                continue
            free = self.lacking(self.holders.get((ka, a), []), kb)
            if free:
                self.take(free[0], kb, b, self.value(kb, b), score)
        for a, (b, score) in sorted(best_of_a.items()):
            if not score >= min_score or not self.holders.get((kb, b)):
                continue
            for h in self.lacking(self.holders.get((ka, a), []), kb):
                if len(self.holders[(kb, b)]) < 2:
                    self.take(h, kb, b, self.value(kb, b), score)

    def add_limb(self, limb, connections, candidates, shared_peak_score, rival_margin=None):
        """One limb type's connections (with `rival_margin`, rivalled ones adding no
        evidence: :func:`rival_evidence`), then (a tree limb, sharing on) its shared peaks."""
        if rival_margin and candidates:
            connections = rival_evidence(connections, candidates, rival_margin)
        for a, b, score in connections:
            self.connect(limb, a, b, score)
        if shared_peak_score and not self.skeleton.redundant[limb] and candidates:
            self.share(limb, candidates, shared_peak_score)

    def distance(self, ka, a, kb, b):
        """Map-cell distance between peak a of type ka and peak b of type kb (double)."""
        dx = float(self.peaks[ka][a, 0]) - float(self.peaks[kb][b, 0])
        dy = float(self.peaks[ka][a, 1]) - float(self.peaks[kb][b, 1])
        return math.sqrt(dx * dx + dy * dy)

    def scale(self, person):
        """The person's scale: the largest distance over expected length of the limbs
        (with one) whose two keypoints it holds; 0 when none."""
        slots, best = person["slots"], 0.0
        for (ka, kb), expected in zip(self.skeleton.limbs.tolist(),
                                      self.skeleton.limb_lengths.tolist()):
            if expected > 0 and ka in slots and kb in slots:
                best = max(best, self.distance(ka, slots[ka], kb, slots[kb]) / expected)
        return best

    def emit(self, min_keypoints, min_person_score):
        """(score, slots) of the people that pass the filters, best first."""
        kept = []
        for index, person in enumerate(self.people):
            n = len(person["slots"])
            if n == 0 or n < min_keypoints:
                continue
            mean = person["evidence"] / (n + person["connections"])
            if mean >= float(F32(min_person_score)):
                # Ranked by mean evidence times the share of the skeleton found.
                share = F32(mean * n / self.skeleton.num_keypoints)
                kept.append((-share, index, person["slots"]))
        kept.sort(key=lambda item: (item[0], item[1]))
        return [(-s, slots) for s, _, slots in kept]


def rival_evidence(connections, candidates, margin):
    """The evidence each connection (a, b, score) adds, as (a, b, evidence): its score,
    or 0 when a rival, another candidate sharing one of its ends, scores within `margin`
    of it (rival_margin; float32 arithmetic, as the core's)."""
    out = []
    for a, b, score in connections:
        rival = max((s for ca, cb, s in candidates if (ca == a) != (cb == b)),
                    default=F32(-np.inf))
        rivalled = F32(rival) >= F32(score) - F32(margin)
        out.append((a, b, F32(0.0) if rivalled else score))
    return out


def assemble(connections_per_limb, skeleton, peaks, *, candidates_per_limb=None,
             shared_peak_score=None, join_fragments=None, rival_margin=None):
    """People from connections, limb types in skeleton order: the :class:`_People`
    state after assembly, sharing (`shared_peak_score`, with each limb's candidates
    best first), fragment joining (`join_fragments`) and, with `rival_margin`, no
    evidence from rivalled connections (:func:`rival_evidence`)."""
    state = _People(skeleton, peaks)
    for limb, connections in enumerate(connections_per_limb):
        state.add_limb(limb, connections, candidates_per_limb[limb] if candidates_per_limb
                       else None, shared_peak_score, rival_margin)
    if join_fragments:
        join_fragments_into(state, join_fragments)
    return state


def limb_prior(state, limb, candidates, prior):
    """The limb length prior: a candidate of `limb` longer than bound = prior x its
    expected length x the largest scale of the people holding its ends has its score
    times (bound / length)^2; the candidates come back sorted best first. Unchanged
    when `prior` is None or the limb has no expected length."""
    (ka, kb), expected = state.skeleton.limbs[limb], float(state.skeleton.limb_lengths[limb])
    if not prior or not expected > 0:
        return candidates
    scales = [state.scale(person) for person in state.people]
    reach = float(F32(prior)) * expected
    out = []
    for a, b, score in candidates:
        holders = state.holders.get((ka, a), []) + state.holders.get((kb, b), [])
        known = max([scales[h] for h in holders], default=0.0)
        if known > 0:
            bound, length = reach * known, state.distance(ka, a, kb, b)
            if length > bound:
                fit = bound / length
                score = F32(float(score) * fit * fit)
        out.append((a, b, score))
    return sorted(out, key=lambda c: (-c[2], c[0], c[1]))


def tree_middles(skeleton):
    """middle[i][j]: for keypoint types two limbs apart over the limbs that are not
    redundant (not neighbours, with a neighbour in common), that neighbour (i's first
    in limb order); -1 for every other pair. Also returns those limbs."""
    K = skeleton.num_keypoints
    tree = [(int(a), int(b)) for (a, b), r in zip(skeleton.limbs, skeleton.redundant) if not r]
    adjacent = {(a, b) for a, b in tree} | {(b, a) for a, b in tree}
    neighbours = [[b if a == i else a for a, b in tree if i in (a, b)] for i in range(K)]
    middle = [[next((v for v in neighbours[i] if (v, j) in adjacent), -1)
               if i != j and (i, j) not in adjacent else -1 for j in range(K)] for i in range(K)]
    return middle, tree


class _Joining:
    """Fragment joining as pd_decode_frame documents it (csrc/pafdecode.h), plainly."""

    def __init__(self, state, margin):
        self.state, self.margin = state, margin
        self.middles, self.tree = tree_middles(state.skeleton)

    def xy(self, kind, peak):
        return float(self.state.peaks[kind][peak, 0]), float(self.state.peaks[kind][peak, 1])

    def reach(self, slots):
        if len(slots) < 2:
            return 0.0
        lengths = [math.dist(self.xy(a, slots[a]), self.xy(b, slots[b]))
                   for a, b in self.tree if a in slots and b in slots]
        return max(lengths, default=0.0)

    def cost(self, host, frag, host_reach):
        # Pairs one hidden joint apart: a two-limb tree path through a type neither holds.
        best = math.inf
        for i in sorted(host):
            for j in sorted(frag):
                middle = self.middles[i][j]
                if middle < 0 or middle in host or middle in frag:
                    continue
                (hx, hy), (fx, fy) = self.xy(i, host[i]), self.xy(j, frag[j])
                dx, dy = hx - fx, hy - fy
                best = min(best, math.sqrt(dx * dx + dy * dy) / (2.0 * host_reach))
        return best

    def fragments(self):
        """(key, person index or None, slots): people by index, then the peaks nobody
        holds, by type and rank."""
        people, count = self.state.people, len(self.state.people)
        found = [((f,), f, people[f]["slots"]) for f in range(count) if people[f]["slots"]]
        found += [((count, kind, peak), None, {kind: peak})
                  for kind, channel in enumerate(self.state.peaks)
                  for peak in range(len(channel)) if not self.state.holders.get((kind, peak))]
        return found

    def best_host(self, f, frag, reaches):
        """(cost, host) of the nearest host and the runner-up's cost."""
        people = self.state.people
        best, second, host = math.inf, math.inf, -1
        for p, person in enumerate(people):
            size = len(person["slots"])
            if p == f or not reaches[p] > 0 or set(person["slots"]) & set(frag):
                continue
            if f is not None and (size < len(frag) or (size == len(frag) and p > f)):
                continue
            c = self.cost(person["slots"], frag, reaches[p])
            if not c <= 1.0:
                continue
            if c < best:
                best, second, host = c, best, p
            elif c < second:
                second = c
        return best, second, host

    def apply(self, p, f, frag):
        """Joins one fragment into host p unless an earlier join made it impossible."""
        state, host = self.state, self.state.people[p]
        if not host["slots"]:
            return False
        if f is None:
            (kind, peak), = frag.items()
            if kind in host["slots"]:
                return False
            state.hold(p, kind, peak, state.value(kind, peak))
            return True
        gone = state.people[f]
        if not gone["slots"] or set(host["slots"]) & set(gone["slots"]):
            return False
        state.merge(p, f, 0.0, 0)
        return True

    def round(self):
        """One round; returns how many joined."""
        reaches = [self.reach(person["slots"]) for person in self.state.people]
        joins = []
        for key, f, frag in self.fragments():
            best, second, host = self.best_host(f, frag, reaches)
            if host >= 0 and best < float(F32(self.margin)) * second:
                # Nearest first as C sorts them: the cost rounded to float32, then the
                # fragment, then the host.
                joins.append((F32(best), key, host, f, frag))
        joins.sort(key=lambda j: (j[0], j[1], j[2]))
        return sum(self.apply(p, f, frag) for _, _, p, f, frag in joins)


def join_fragments_into(state, margin):
    """Rounds of joining until none joins: the pieces of one person are rivals as
    hosts until they have joined each other."""
    joining = _Joining(state, margin)
    while joining.round():
        pass


class ReferenceDecoder:
    """The decoder written plainly: same options and results as :class:`Decoder` (CHW
    layout), at Python speed, with NumPy alone (no compiled backend)."""

    def __init__(self, skeleton, config=None, **overrides):
        self.skeleton = skeleton
        self.config = make_config(config, overrides, "ReferenceDecoder")

    def _candidates(self, paf, peaks, limb):
        c = self.config
        (ka, kb), (cx, cy) = self.skeleton.limbs[limb], self.skeleton.paf_channels[limb]
        if len(peaks[ka]) == 0 or len(peaks[kb]) == 0:
            return []
        need = math.ceil(c.min_inlier_ratio * c.paf_samples - 1e-9)
        limit = 0.0 if c.max_limb_length is None else c.max_limb_length / float(F32(c.stride))
        return score_limb(paf[cx], paf[cy], peaks[ka], peaks[kb], paf_samples=c.paf_samples,
                          min_inliers=min(c.paf_samples, need), paf_threshold=c.paf_threshold,
                          max_limb_length=limit)[: c.max_candidates]

    def __call__(self, heatmaps, pafs):
        c, skeleton = self.config, self.skeleton
        heat = as_fields(heatmaps, "heatmaps", 3, "CHW")
        paf = as_fields(pafs, "pafs", 3, "CHW")
        check_shapes(skeleton, heat, paf)
        heat, paf = _clean(heat), _clean(paf)
        peaks = [find_peaks(heat[k], c.peak_threshold, c.peak_radius, c.max_peaks,
                            c.split_merged_peaks or 0.0, c.peak_support or 0.0)
                 for k in range(skeleton.num_keypoints)]
        # Limb types in order, each scored, weighed against the people so far (the
        # limb length prior), assigned and assembled before the next.
        state, candidates, connections = _People(skeleton, peaks), [], []
        for limb in range(skeleton.num_limbs):
            cands = limb_prior(state, limb, self._candidates(paf, peaks, limb),
                               c.limb_length_prior)
            candidates.append(cands)
            connections.append(assign(cands, c.assignment))
            state.add_limb(limb, connections[-1], cands, c.shared_peak_score, c.rival_margin)
        if c.join_fragments:
            join_fragments_into(state, c.join_fragments)
        people = state.emit(c.min_keypoints, c.min_person_score)
        keypoints = np.zeros((len(people), skeleton.num_keypoints, 3), F32)
        stride = F32(c.stride)
        shift = F32(0.5) * stride - F32(0.5)
        for i, (_, slots) in enumerate(people):
            for k, peak in slots.items():
                x, y, v = peaks[k][peak]
                keypoints[i, k] = (x * stride + shift, y * stride + shift, v)
        stats = {"peaks": sum(len(q) for q in peaks),
                 "candidates": sum(len(q) for q in candidates),
                 "connections": sum(len(q) for q in connections), "people": len(people)}
        return Poses(keypoints, np.array([s for s, _ in people], F32), skeleton, stats)
