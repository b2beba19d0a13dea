"""People tracked across frames: stable identities, and optional temporal smoothing.

:class:`Tracker` takes the :class:`~pafdecode.Poses` of one frame after another and gives
each person an identity (``Poses.track_ids``). Each frame:

1. Every live track predicts where its keypoints are now: its last seen position of
   each keypoint moved by the track's velocity (the median of its keypoints'
   velocities, averaged over time) for the time since that keypoint was seen
   (``motion="constant_velocity"``), or left where it was seen (``motion=None``).
2. Each track is compared with each person by an object keypoint similarity over the
   union of their keypoints (see :func:`track_similarity`), pairs below
   `match_threshold` are ruled out, and the pairing of highest total similarity is
   solved with the project's Hungarian kernel (:mod:`pafdecode.backends`): first
   between the confirmed tracks and all people, then between the tentative tracks and
   the people left, so a short-lived track (often a fragment the decoder split off
   someone) never takes a person from an identity.
3. A matched track takes the person's keypoints, with two guards against learning a
   bad decode: a keypoint far from the track's prediction (its OKS term below 0.05)
   is not learnt while the track saw that keypoint in its last 10 matched frames
   (after that it is, so a limb that truly moved is followed again); and a match that
   is ambiguous (its similarity beats the best rival pairing of the track or of the
   person by less than 0.1: two people overlapping) teaches the track nothing, which
   coasts on its prediction for that frame. A track unmatched for more than
   `max_age` frames ends (a tentative one ends at its first miss); a person left
   unmatched starts a tentative track, which is confirmed, and given the next free
   identity, once it has been matched in `min_hits` frames.

With ``smoothing="one_euro"`` the keypoints of confirmed people are replaced by the
output of a 1-Euro filter (:class:`OneEuroFilter`) per keypoint coordinate (a keypoint
the track does not learn in a frame, see 3., shows its last filtered position, or its raw
one if the track never learnt it); matching
always uses the raw keypoints.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .backends import load_backend, resolve_backend
from .decoder import Poses
from .skeleton import Skeleton
from ._validate import integer, real

__all__ = ["OneEuroFilter", "Tracker", "track_similarity"]

_MOTIONS = (None, "constant_velocity")
_SMOOTHINGS = (None, "one_euro")
# A track's velocity is the running mean of its per-frame velocity estimates with
# this weight on the newest one.
_VELOCITY_WEIGHT = 0.2
# A track's keypoint takes part in matching while it was seen in one of the track's
# last this many matched frames (a keypoint hidden longer than that is not held
# against a person who lacks it).
_KEYPOINT_MEMORY = 10
# A matched person's keypoint this far from the track's prediction (its OKS term
# exp(-e) below this) is shown but not learnt: the track keeps its own estimate, so a
# keypoint the decoder took from someone else does not drag the track away. Only a
# keypoint seen within the last _KEYPOINT_MEMORY matched frames is so judged: a wrong
# estimate (learnt from a bad decode) would otherwise reject the right one for good.
_OUTLIER_SIMILARITY = 0.05
_OUTLIER_E = -math.log(_OUTLIER_SIMILARITY)
# A matched track learns the person's keypoints only when the pair's similarity beats
# every rival pairing of either (another person for the track, another track for the
# person) by this much; otherwise it coasts on its prediction for the frame.
_CLEAR_MARGIN = 0.1
_EPS = np.spacing(1)
_MAX_E = 700.0


def _clear_matches(sim, rows, cols):
    """Which matched pairs are unambiguous: the pair's similarity beats every rival
    (another person for the track, another track for the person) by the margin."""
    if len(rows) == 0:
        return np.ones(len(rows), bool)
    own = sim[rows, cols]
    s = sim.copy()
    s[rows, cols] = -1.0
    rival = np.maximum(s[rows].max(axis=1), s[:, cols].max(axis=0))
    return own - rival >= _CLEAR_MARGIN


def _smoothing_factor(cutoff, dt):
    """The exponential smoothing factor of a first-order low-pass filter with cut-off
    frequency `cutoff` (Hz) sampled after `dt` seconds: 1 / (1 + tau / dt), with
    tau = 1 / (2 pi cutoff)."""
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * cutoff * dt))


def _one_euro_step(x, value, speed, dt, min_cutoff, beta, d_cutoff):
    """One 1-Euro step for signals with a previous sample: (new value, new speed)."""
    a_d = _smoothing_factor(d_cutoff, dt)
    speed = a_d * (x - value) / dt + (1.0 - a_d) * speed
    a = _smoothing_factor(min_cutoff + beta * np.abs(speed), dt)
    return a * x + (1.0 - a) * value, speed


class OneEuroFilter:
    """The 1-Euro filter of Casiez, Roussel and Vogel (CHI 2012), on arrays of signals.

    Each element of the array is its own signal. For a sample ``x`` at time ``t``, with
    ``dt`` the time since that element's previous sample::

        dx     = (x - x_hat_prev) / dt
        dx_hat = a(d_cutoff, dt) * dx + (1 - a(d_cutoff, dt)) * dx_hat_prev
        cutoff = min_cutoff + beta * |dx_hat|
        x_hat  = a(cutoff, dt) * x + (1 - a(cutoff, dt)) * x_hat_prev

    where ``a(fc, dt) = 1 / (1 + 1 / (2 pi fc dt))``; an element's first sample passes
    unchanged (``x_hat = x``, ``dx_hat = 0``). Slow signals get a low cut-off (less
    jitter), fast ones a high cut-off (less lag): on a ramp of speed ``v`` the steady
    lag is ``v / (2 pi (min_cutoff + beta v))``, never more than ``1 / (2 pi beta)``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the signal array.
    min_cutoff : float, default 1.0
        Cut-off frequency (Hz) of a still signal, > 0.
    beta : float, default 0.05
        Growth of the cut-off with speed (Hz per signal unit per second), >= 0.
    d_cutoff : float, default 1.0
        Cut-off frequency (Hz) of the speed estimate, > 0.
    """

    def __init__(self, shape, min_cutoff=1.0, beta=0.05, d_cutoff=1.0):
        self.min_cutoff = real(min_cutoff, "min_cutoff", minimum=0.0, min_inclusive=False)
        self.beta = real(beta, "beta", minimum=0.0)
        self.d_cutoff = real(d_cutoff, "d_cutoff", minimum=0.0, min_inclusive=False)
        self.shape = tuple(int(n) for n in np.atleast_1d(np.asarray(shape, dtype=np.intp)))
        self.reset()

    def reset(self):
        """Forget every element's history."""
        self.value = np.zeros(self.shape)
        self.speed = np.zeros(self.shape)
        self.time = np.zeros(self.shape)
        self.started = np.zeros(self.shape, dtype=bool)

    def __call__(self, x, t, mask=None):
        """Filter one sample of every element (or of those in `mask`) at time `t`.

        Parameters
        ----------
        x : array_like, shape ``self.shape``
        t : float
            Time in seconds; must be later than each filtered element's last sample.
        mask : array_like of bool, shape ``self.shape``, optional
            Elements that have a sample now; the others keep their state.

        Returns
        -------
        ndarray of float64, shape ``self.shape``
            The filtered values (an element outside `mask`: its last filtered value).
        """
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.shape:
            raise ValueError(f"x must have shape {self.shape}, got {x.shape}")
        t = real(t, "t")
        mask = np.ones(self.shape, bool) if mask is None else np.asarray(mask, bool)
        if mask.shape != self.shape:
            raise ValueError(f"mask must have shape {self.shape}, got {mask.shape}")
        fresh = mask & ~self.started
        going = mask & self.started
        if going.any():
            dt = t - self.time[going]
            if (dt <= 0).any():
                raise ValueError(f"t must be later than the previous sample's time "
                                 f"{float(self.time[going].max()):g}, got {t:g}")
            self.value[going], self.speed[going] = _one_euro_step(
                x[going], self.value[going], self.speed[going], dt, self.min_cutoff,
                self.beta, self.d_cutoff)
        self.value[fresh] = x[fresh]
        self.speed[fresh] = 0.0
        self.time[mask] = t
        self.started |= mask
        return self.value.copy()


def _areas_of(box, present):
    """Width x height of each box of _plane_boxes (1 for an empty one, at least 1)."""
    x0, y0, x1, y1 = box
    area = np.where(present.any(axis=-1), (x1 - x0) * (y1 - y0), 1.0)
    return np.maximum(area, 1.0)


def track_similarity(track_xy, track_known, people, sigmas, areas=None, threshold=None):
    """Object keypoint similarity between tracks and people, over their keypoints' union.

    For track ``t`` (known keypoints ``T``) and person ``p`` (found keypoints ``F``, those
    with a score > 0), with ``d_k`` the distance between their keypoint ``k``::

        e_k = d_k**2 / (2 sigma_k)**2 / (area_t + eps) / 2
        similarity = sum over k in (T and F) of exp(-e_k) / |T or F|

    which is COCO's OKS (the track as the truth, ``area_t`` its keypoints' box area)
    when both have the same keypoints, and is lowered by every keypoint only one of
    them has, so a fragment of a person does not outbid the whole person.

    Parameters
    ----------
    track_xy : array_like, shape (T, K, 2)
    track_known : array_like of bool, shape (T, K)
    people : array_like, shape (P, K, 3)
        x, y and score; a score of 0 marks a missing keypoint.
    sigmas : array_like, shape (K,)
    areas : array_like, shape (T,), optional
        Default: each track's box area over its known keypoints.
    threshold : float, optional
        Pairs whose boxes lie so far apart that no keypoint term can reach
        `threshold` (so neither can the similarity) are given 0 without being
        computed. None: compute every pair.

    Returns
    -------
    ndarray of float64, shape (T, P)
    """
    return _similarity(track_xy, track_known, people, sigmas, areas, threshold)[0]


def _similarity(track_xy, track_known, people, sigmas, areas, threshold):
    """track_similarity, and the track areas it used."""
    track_xy = np.asarray(track_xy, dtype=np.float64)
    track_known = np.asarray(track_known, dtype=bool)
    people = np.asarray(people, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    n_tracks, n_people, k = len(track_xy), len(people), track_known.shape[-1]
    # Each side as one (N, planes, K) array, x and y apart: a pair's planes come with
    # one gather, and NumPy reduces a contiguous last axis far faster than it does a
    # trailing axis of length 2.
    tracks = np.empty((n_tracks, 4, k))                 # x, y, 1 / scale, known
    tracks[:, :2] = track_xy.transpose(0, 2, 1)
    tracks[:, 3] = track_known
    persons = np.empty((n_people, 3, k))                # x, y, found
    persons[:, :2] = people[:, :, :2].transpose(0, 2, 1)
    found = people[:, :, 2] > 0
    persons[:, 2] = found
    t_box = _plane_boxes(tracks[:, :2], track_known)
    areas = _areas_of(t_box, track_known) if areas is None else np.asarray(areas, np.float64)
    if n_tracks == 0 or n_people == 0:
        return np.zeros((n_tracks, n_people)), areas
    n_known = track_known.sum(axis=1)
    n_found = found.sum(axis=1)
    # 1 / (2 (2 sigma_k)^2 (area_t + eps)), per track and keypoint.
    tracks[:, 2] = 1.0 / (2.0 * (2.0 * sigmas) ** 2 * (areas[:, None] + _EPS))
    if threshold is None:
        return _similarity_terms(tracks[:, None], persons[None], n_known[:, None],
                                 n_found[None]), areas
    # Every keypoint of a pair is at least the gap g between their boxes apart, so
    # with x = g^2 / (area_t + eps) the similarity is at most the mean of
    # exp(-x c_k), c_k = 1 / (2 (2 sigma_k)^2), over the track's m known keypoints,
    # which is at most the mean over the m smallest c_k: below `threshold` once x
    # passes _reach(m) (see there).
    reach2 = _reach(sigmas.tobytes(), float(threshold))[n_known] * (areas + _EPS)
    p_box = _plane_boxes(persons[:, :2], found)
    gx = np.maximum(np.maximum(p_box[0][None] - t_box[2][:, None],
                               t_box[0][:, None] - p_box[2][None]), 0.0)
    gy = np.maximum(np.maximum(p_box[1][None] - t_box[3][:, None],
                               t_box[1][:, None] - p_box[3][None]), 0.0)
    gx *= gx
    gy *= gy
    gx += gy
    ti, pi = np.nonzero(gx <= reach2[:, None])
    result = np.zeros((n_tracks, n_people))
    if len(ti):
        result[ti, pi] = _similarity_terms(tracks[ti], persons[pi], n_known[ti], n_found[pi])
    return result, areas


@functools.lru_cache(maxsize=16)
def _reach(sigma_bytes, threshold):
    """x*_m for m = 0..K: the x beyond which the mean of exp(-x c_k) over the m
    smallest c_k = 1 / (2 (2 sigma_k)^2) is below `threshold` (an upper end of the
    bisection, so never too small; m = 0: -1, no pair can reach it)."""
    c = np.sort(1.0 / (2.0 * (2.0 * np.frombuffer(sigma_bytes)) ** 2))
    m = np.arange(1, len(c) + 1)
    first_m = np.arange(len(c))[None, :] < m[:, None]                # (K, K)
    low = np.zeros(len(c))
    high = np.full(len(c), math.log(1.0 / threshold) / c[0])        # where m = 1 is
    for _ in range(60):
        mid = (low + high) / 2.0
        mean = np.where(first_m, np.exp(-mid[:, None] * c[None]), 0.0).sum(axis=1) / m
        reaches = mean >= threshold
        low = np.where(reaches, mid, low)
        high = np.where(reaches, high, mid)
    return np.concatenate([[-1.0], high * (1.0 + 1e-9)])


def _similarity_terms(tracks, persons, n_known, n_found):
    """track_similarity of pairs given as broadcastable (..., 4, K) track and
    (..., 3, K) person planes (see track_similarity) and their keypoint counts."""
    dx = tracks[..., 0, :] - persons[..., 0, :]
    dy = tracks[..., 1, :] - persons[..., 1, :]
    e = dx * dx
    e += dy * dy
    e *= tracks[..., 2, :]
    # exp of a large negative number underflows, and NumPy's underflow path is some
    # twenty times slower; past _MAX_E the term is below 1e-304 anyway.
    np.minimum(e, _MAX_E, out=e)
    np.exp(-e, out=e)
    common = tracks[..., 3, :] * persons[..., 2, :]
    e *= common
    # Sums over keypoints as products with a vector of ones: BLAS, several times
    # faster than a reduction over a short last axis.
    ones = np.ones(e.shape[-1])
    union = n_known + n_found - common @ ones
    return np.where(union > 0, (e @ ones) / np.maximum(union, 1.0), 0.0)


def _plane_boxes(xy, present):
    """(x low, y low, x high, y high) of each row's present points (empty: +-inf), from
    (N, 2, K) coordinate planes and an (N, K) mask."""
    mask = present[:, None, :]
    low = np.where(mask, xy, np.inf).min(axis=-1)
    high = np.where(mask, xy, -np.inf).max(axis=-1)
    return low[:, 0], low[:, 1], high[:, 0], high[:, 1]


def _nan_median(values):
    """Median along the last axis of a 2-D array ignoring NaN, for rows with at
    least one number."""
    ordered = np.sort(values, axis=-1)                      # NaN sort last
    count = values.shape[-1] - np.isnan(values).sum(axis=-1)
    rows = np.arange(len(values))
    return (ordered[rows, (count - 1) // 2] + ordered[rows, count // 2]) / 2.0


class Tracker:
    """Gives the people of successive frames stable identities.

    Parameters
    ----------
    skeleton : Skeleton
        The people's skeleton; its OKS ``sigmas`` scale the matching.
    match_threshold : float, default 0.3
        Least similarity (:func:`track_similarity`, 0..1) for a person to continue a
        track.
    max_age : int, default 30
        Frames a confirmed track survives without a match, so that a person hidden
        for a moment gets the same identity back (0: a track ends at its first miss).
    min_hits : int, default 3
        Frames a new track must be matched in (the first included) before it is
        confirmed and given an identity; tentative tracks end at their first miss
        and their people get ``track_id`` -1. During the first `min_hits` frames of
        the stream every new track is confirmed at once (as SORT does).
    motion : {"constant_velocity", None}, default "constant_velocity"
        How a track predicts its keypoints: moved by its velocity for the time since
        each was seen, or (None) where they were last seen.
    smoothing : {None, "one_euro"}, default None
        Temporal smoothing of confirmed people's keypoint coordinates (see
        :class:`OneEuroFilter`); missing keypoints stay missing and are not filtered.
    min_cutoff : float, default 1.0
        1-Euro cut-off frequency of a still keypoint, in Hz (> 0).
    beta : float, default 0.05
        1-Euro speed coefficient, per pixel per second (>= 0): the filter lags a
        keypoint moving at any speed by less than ``1 / (2 pi beta)`` pixels (3.2 by
        default).
    d_cutoff : float, default 1.0
        1-Euro cut-off frequency of the speed estimate, in Hz (> 0).
    fps : float, default 30.0
        Frame rate assumed when :meth:`update` gets no timestamp: frame ``n`` is at
        ``n / fps`` seconds.
    sigmas : array_like, shape (K,), optional
        Per-keypoint OKS constants; default ``skeleton.sigmas``.
    backend : {"auto", "c", "numba"}, default "auto"
        Which build of the assignment kernel to use.

    Notes
    -----
    One Tracker per stream: it holds the stream's tracks, so frames of one stream go
    through one Tracker in order, and a Tracker is not to be shared between threads
    (use one per stream and thread; they share nothing).

    Timestamps given to :meth:`update` must increase; without them frames are
    ``1 / fps`` apart. Velocities are in pixels per second either way.
    """

    def __init__(self, skeleton, *, match_threshold=0.3, max_age=30, min_hits=3,
                 motion="constant_velocity", smoothing=None, min_cutoff=1.0, beta=0.05,
                 d_cutoff=1.0, fps=30.0, sigmas=None, backend="auto"):
        if not isinstance(skeleton, Skeleton):
            raise ValueError(f"skeleton must be a pafdecode.Skeleton, got "
                             f"{type(skeleton).__name__}")
        self.skeleton = skeleton
        self.match_threshold = real(match_threshold, "match_threshold", 0.0, 1.0,
                                    min_inclusive=False)
        self.max_age = integer(max_age, "max_age", minimum=0)
        self.min_hits = integer(min_hits, "min_hits", minimum=1)
        if motion not in _MOTIONS:
            raise ValueError(f"motion must be one of {_MOTIONS}, got {motion!r}")
        self.motion = motion
        if smoothing not in _SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {_SMOOTHINGS}, got {smoothing!r}")
        self.smoothing = smoothing
        # The filter validates its own three parameters.
        probe = OneEuroFilter((1,), min_cutoff, beta, d_cutoff)
        self.min_cutoff, self.beta, self.d_cutoff = probe.min_cutoff, probe.beta, probe.d_cutoff
        self.fps = real(fps, "fps", minimum=0.0, min_inclusive=False)
        k = skeleton.num_keypoints
        if sigmas is None:
            sigmas = skeleton.sigmas
        sigmas = np.asarray(sigmas, dtype=np.float64)
        if sigmas.shape != (k,) or not (np.isfinite(sigmas).all() and (sigmas > 0).all()):
            raise ValueError(f"sigmas must be {k} positive numbers (one per keypoint), "
                             f"got {sigmas!r}")
        self.sigmas = sigmas
        self.backend = resolve_backend(backend)
        self._lsa = load_backend(self.backend).linear_sum_assignment
        self.reset()

    # -- state -----------------------------------------------------------------------
    def reset(self):
        """Forget every track (a new stream); identities start again from 0."""
        k = self.skeleton.num_keypoints
        self._frames = 0
        self._time = None
        self._next_id = 0
        self._pos = np.zeros((0, k, 2))          # last seen position of each keypoint
        self._seen_time = np.zeros((0, k))       # when it was seen
        self._seen_age = np.zeros((0, k), np.int64)  # matched frames since it was seen
        self._ever = np.zeros((0, k), bool)      # ever seen
        self._vel = np.zeros((0, 2))             # pixels per second
        self._has_vel = np.zeros(0, bool)
        self._last = np.zeros(0)                 # time of the last match
        self._hits = np.zeros(0, np.int64)
        self._missed = np.zeros(0, np.int64)
        self._ids = np.zeros(0, np.int64)        # -1 while tentative
        self._smooth = np.zeros((0, k, 2))       # 1-Euro state per coordinate
        self._smooth_speed = np.zeros((0, k, 2))

    @property
    def num_tracks(self):
        """Live tracks (confirmed and tentative)."""
        return len(self._ids)

    @property
    def num_confirmed(self):
        """Live confirmed tracks."""
        return int((self._ids >= 0).sum())

    def __repr__(self):
        return (f"Tracker({self.num_confirmed} confirmed and "
                f"{self.num_tracks - self.num_confirmed} tentative tracks, "
                f"{self._frames} frames)")

    # -- one frame -------------------------------------------------------------------
    def _check_poses(self, poses):
        if not isinstance(poses, Poses):
            raise ValueError(f"poses must be a pafdecode.Poses, got {type(poses).__name__}")
        kp = np.asarray(poses.keypoints)
        k = self.skeleton.num_keypoints
        if kp.size == 0:
            kp = kp.reshape(0, k, 3)
        if kp.ndim != 3 or kp.shape[1:] != (k, 3):
            raise ValueError(f"poses.keypoints must have shape (P, {k}, 3) for the "
                             f"tracker's skeleton, got {kp.shape}")
        return kp

    def _next_time(self, timestamp):
        if timestamp is None:
            return self._frames / self.fps
        t = real(timestamp, "timestamp")
        if self._time is not None and t <= self._time:
            raise ValueError(f"timestamp must increase from frame to frame: got {t:g} "
                             f"after {self._time:g}")
        return t

    def predicted(self, t):
        """Each live track's keypoints predicted at time `t`: (T, K, 2) pixels."""
        if self.motion is None or len(self._ids) == 0:
            return self._pos.copy()
        dt = (t - self._seen_time)[:, :, None]
        return self._pos + np.where(self._has_vel[:, None, None], self._vel[:, None, :] * dt,
                                    0.0)

    def _match(self, people, predicted):
        """(track rows, person rows) of the matched pairs, the similarity matrix and
        the tracks' areas."""
        n_tracks, n_people = len(self._ids), len(people)
        none = np.zeros(0, np.intp)
        if n_tracks == 0 or n_people == 0:
            return none, none, np.zeros((n_tracks, n_people)), np.ones(n_tracks)
        known = self._ever & (self._seen_age < _KEYPOINT_MEMORY)
        sim, areas = _similarity(predicted, known, people, self.sigmas, None,
                                 self.match_threshold)
        sim[sim < self.match_threshold] = 0.0
        # Confirmed tracks first; tentative ones only among the people left, so a
        # short-lived track (often a fragment of someone) never outbids an identity.
        first = np.flatnonzero(self._ids >= 0)
        second = np.flatnonzero(self._ids < 0)
        r1, c1 = self._assign(sim[first])
        free = np.ones(n_people, bool)
        free[c1] = False
        left = np.flatnonzero(free)
        r2, c2 = self._assign(sim[second][:, left])
        return (np.concatenate([first[r1], second[r2]]), np.concatenate([c1, left[c2]]), sim,
                areas)

    def _assign(self, sim):
        """Hungarian pairing of highest total similarity, pairs with similarity 0 left
        out: (rows, cols)."""
        if sim.shape[0] == 0 or sim.shape[1] == 0:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        col = np.asarray(self._lsa(np.ascontiguousarray(1.0 - sim)), dtype=np.intp)
        rows = np.flatnonzero(col >= 0)
        cols = col[rows]
        good = sim[rows, cols] > 0
        return rows[good], cols[good]

    def update(self, poses, timestamp=None):
        """Track the people of the next frame.

        Parameters
        ----------
        poses : Poses
            The frame's people (e.g. a :class:`pafdecode.Decoder`'s output).
        timestamp : float, optional
            The frame's time in seconds (must increase); default ``frame / fps``.

        Returns
        -------
        Poses
            A new Poses with the same people in the same order, ``track_ids`` set
            (-1 for a person on a tentative track or with no keypoint) and, with
            smoothing, the confirmed people's keypoints filtered. ``stats`` gains
            ``tracks`` (confirmed tracks alive after this frame). `poses` is kept.
        """
        kp = self._check_poses(poses)
        t = self._next_time(timestamp)
        people = kp.astype(np.float64)
        found = people[:, :, 2] > 0
        predicted = self.predicted(t)
        rows, cols, sim, areas = self._match(people, predicted)

        n_tracks = len(self._ids)
        matched = np.zeros(n_tracks, bool)
        matched[rows] = True
        learn = _clear_matches(sim, rows, cols)
        self._update_matched(rows, people[cols], found[cols] & learn[:, None], t,
                             predicted[rows], areas[rows])
        self._missed[~matched] += 1

        # People on no track start tentative ones (those with a keypoint to follow).
        taken = np.zeros(len(people), bool)
        taken[cols] = True
        new = np.flatnonzero(~taken & found.any(axis=1))
        track_of_person = np.full(len(people), -1, np.intp)
        track_of_person[cols] = rows
        track_of_person[new] = n_tracks + np.arange(len(new))
        self._start_tracks(people[new], found[new], t)

        track_ids = self._confirm(track_of_person)
        out_kp = self._shown(kp, found, track_ids, track_of_person)

        # End the tracks that missed too many frames, and tentative ones that missed.
        alive = (self._missed <= self.max_age) & ((self._ids >= 0) | (self._missed == 0))
        if not alive.all():
            self._keep(alive)
        self._frames += 1
        self._time = t
        stats = dict(poses.stats)
        stats["tracks"] = self.num_confirmed
        return Poses(out_kp, np.array(poses.scores, copy=True), poses.skeleton, stats,
                     track_ids=track_ids)

    def _shown(self, kp, found, track_ids, track_of_person):
        """The keypoints to return: with smoothing, confirmed people's filtered."""
        out_kp = np.array(kp, dtype=np.float32, copy=True)
        if self.smoothing == "one_euro":
            shown = np.flatnonzero(track_ids >= 0)
            rows_shown = track_of_person[shown]
            # A keypoint its track has never learnt has no filtered value: shown raw.
            filtered = found[shown] & self._ever[rows_shown]
            out_kp[shown, :, :2] = np.where(filtered[:, :, None], self._smooth[rows_shown],
                                            out_kp[shown, :, :2])
        return out_kp

    def _confirm(self, track_of_person):
        """Confirm the tracks that are due, giving identities in the order of the
        frame's people: each person's track id (-1: none or tentative)."""
        confirm_now = self._frames < self.min_hits
        ready = (self._ids < 0) & ((self._hits >= self.min_hits) | (confirm_now &
                                                                    (self._missed == 0)))
        for row in track_of_person[track_of_person >= 0]:
            if ready[row]:
                self._ids[row] = self._next_id
                self._next_id += 1
        track_ids = np.full(len(track_of_person), -1, np.int64)
        has_track = track_of_person >= 0
        track_ids[has_track] = self._ids[track_of_person[has_track]]
        return track_ids

    def _update_matched(self, rows, people, found, t, predicted, areas):
        if len(rows) == 0:
            return
        xy = people[:, :, :2]
        pos = self._pos[rows]
        if _OUTLIER_SIMILARITY > 0:
            dx = xy[..., 0] - predicted[..., 0]
            dy = xy[..., 1] - predicted[..., 1]
            e = (dx * dx + dy * dy) / (2.0 * (2.0 * self.sigmas) ** 2 * (areas[:, None] + _EPS))
            recent = self._ever[rows] & (self._seen_age[rows] < _KEYPOINT_MEMORY)
            found = found & ~(recent & (e > _OUTLIER_E))
        seen = self._seen_time[rows]
        ever = self._ever[rows]
        # Velocity: the median of the keypoints' displacements per second since each
        # was last seen, over keypoints seen before and now.
        both = ever & found
        dt = np.where(both, t - seen, 1.0)
        measured = both.any(axis=1)
        if measured.any():
            # Per track, x and y as rows of one (2M, K) array: one sort for both.
            step = ((xy[measured] - pos[measured]).transpose(0, 2, 1)
                    / dt[measured][:, None, :])                             # (M, 2, K)
            step = np.where(both[measured][:, None, :], step, np.nan)
            estimate = _nan_median(step.reshape(-1, step.shape[-1])).reshape(-1, 2)
            idx = rows[measured]
            old = self._has_vel[idx]
            self._vel[idx] = np.where(old[:, None], (1.0 - _VELOCITY_WEIGHT) * self._vel[idx]
                                      + _VELOCITY_WEIGHT * estimate, estimate)
            self._has_vel[idx] = True
        if self.smoothing == "one_euro":
            self._filter(rows, xy, found, t)
        self._pos[rows] = np.where(found[:, :, None], xy, pos)
        self._seen_time[rows] = np.where(found, t, seen)
        self._seen_age[rows] = np.where(found, 0, self._seen_age[rows] + 1)
        self._ever[rows] = ever | found
        self._last[rows] = t
        self._hits[rows] += 1
        self._missed[rows] = 0

    def _filter(self, rows, xy, found, t):
        """One 1-Euro step (see OneEuroFilter) for the found keypoints of matched
        tracks; a keypoint's first sample starts its filter."""
        ever = self._ever[rows]
        going = (ever & found)[:, :, None] & np.ones(2, bool)
        fresh = (~ever & found)[:, :, None] & np.ones(2, bool)
        value = self._smooth[rows]
        speed = self._smooth_speed[rows]
        dt = np.maximum(t - self._seen_time[rows], _EPS)[:, :, None]
        new_value, new_speed = _one_euro_step(xy, value, speed, dt, self.min_cutoff,
                                              self.beta, self.d_cutoff)
        value = np.where(going, new_value, np.where(fresh, xy, value))
        speed = np.where(going, new_speed, np.where(fresh, 0.0, speed))
        self._smooth[rows] = value
        self._smooth_speed[rows] = speed

    def _start_tracks(self, people, found, t):
        n = len(people)
        if n == 0:
            return
        k = self.skeleton.num_keypoints
        xy = np.where(found[:, :, None], people[:, :, :2], 0.0)
        self._pos = np.concatenate([self._pos, xy])
        self._seen_time = np.concatenate([self._seen_time, np.full((n, k), t)])
        self._seen_age = np.concatenate([self._seen_age, np.zeros((n, k), np.int64)])
        self._ever = np.concatenate([self._ever, found])
        self._vel = np.concatenate([self._vel, np.zeros((n, 2))])
        self._has_vel = np.concatenate([self._has_vel, np.zeros(n, bool)])
        self._last = np.concatenate([self._last, np.full(n, t)])
        self._hits = np.concatenate([self._hits, np.ones(n, np.int64)])
        self._missed = np.concatenate([self._missed, np.zeros(n, np.int64)])
        self._ids = np.concatenate([self._ids, np.full(n, -1, np.int64)])
        self._smooth = np.concatenate([self._smooth, xy])
        self._smooth_speed = np.concatenate([self._smooth_speed, np.zeros((n, k, 2))])

    def _keep(self, alive):
        for name in ("_pos", "_seen_time", "_seen_age", "_ever", "_vel", "_has_vel",
                     "_last", "_hits", "_missed", "_ids", "_smooth", "_smooth_speed"):
            setattr(self, name, getattr(self, name)[alive])
