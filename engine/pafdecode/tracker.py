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
   (after that it is, so a limb that truly moved is followed again); a keypoint that
   the person's strongest rival track (the other track most similar to the person)
   predicts better than the matched track does (a higher OKS term) is not learnt
   either: where two people overlap the decoder often gives one of them a limb of
   the other, and a track that learnt it would drift onto its neighbour; and a match
   that is ambiguous (its similarity beats the best rival pairing of the track or of
   the person by less than 0.1: two people overlapping) teaches the track nothing,
   which coasts on its prediction for that frame. A track unmatched for more than
   `max_age` frames ends (a tentative one ends at its first miss); a person left
   unmatched starts a tentative track, which is confirmed, and given the next free
   identity, once it has been matched in `min_hits` frames.
4. A matched person is followed but shown without the identity (``track_id`` -1)
   when it looks like a bad decode: fewer keypoints than `min_keypoint_share` of its
   track's usual count, or a score below `min_score_share` of the stream's usual
   person score (see :class:`Tracker`).

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
# A track's usual keypoint count is the running mean of its people's with this weight
# on the newest.
_COUNT_WEIGHT = 0.1
# The stream's usual person score is the running mean of each frame's median person
# score with this weight on the newest frame.
_SCORE_WEIGHT = 0.05
_EPS = np.spacing(1)
# Largest OKS exponent passed to exp, per float type (see _similarity_terms).
_MAX_E = {np.float32: 80.0, np.float64: 700.0}
# Tracker._planes: per track and keypoint, last seen x and y, when (seconds), matched
# frames since (inf: never seen), 1-Euro filtered x and y and their speeds.
_X, _Y, _SEEN, _AGE, _SX, _SY, _DX, _DY = range(8)
_N_PLANES = 8
# Tracker._motion columns (velocity x, y; usual keypoint count) and Tracker._counts
# columns (frames matched, frames missed since, identity).
_COUNT = 2
_HITS, _MISSED, _ID = range(3)


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
    tau = 1 / (2 pi cutoff), written as r / (1 + r) with r = 2 pi cutoff dt."""
    r = (2.0 * math.pi) * cutoff * dt
    return r / (1.0 + r)


def _one_euro_step(x, value, speed, dt, min_cutoff, beta, d_cutoff):
    """One 1-Euro step for signals with a previous sample: (new value, new speed)."""
    change = x - value
    # speed + a_d (change / dt - speed) is a_d change / dt + (1 - a_d) speed.
    speed = speed + _smoothing_factor(d_cutoff, dt) * (change / dt - speed)
    a = _smoothing_factor(min_cutoff + beta * np.abs(speed), dt)
    change *= a
    change += value
    return change, speed


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


def _areas_of(box):
    """Width x height of each box of _plane_boxes, at least 1 (1 for an empty one)."""
    x0, y0, x1, y1 = box
    return np.fmax((x1 - x0) * (y1 - y0), 1.0)                # fmax: NaN (empty) -> 1


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
    track_planes = np.ascontiguousarray(np.asarray(track_xy, np.float64).transpose(0, 2, 1))
    people = np.asarray(people, dtype=np.float64)
    found = people[:, :, 2] > 0
    areas = None if areas is None else np.asarray(areas, dtype=np.float64)
    return _similarity(track_planes, np.asarray(track_known, dtype=bool),
                       np.ascontiguousarray(people[:, :, :2].transpose(0, 2, 1)), found,
                       np.asarray(sigmas, dtype=np.float64), areas, threshold, np.float64)[0]


def _similarity(track_planes, track_known, people_planes, found, sigmas, areas, threshold,
                dtype):
    """track_similarity of (T, 2, K) track and (P, 2, K) people coordinate planes, the
    pairs' terms computed in `dtype`; and the track areas it used."""
    n_tracks, n_people, k = len(track_planes), len(people_planes), track_known.shape[-1]
    # A keypoint missing on a side is NaN there.
    track_planes = np.where(track_known[:, None], track_planes, np.nan)
    people_planes = np.where(found[:, None], people_planes, np.nan)
    t_box = _plane_boxes(track_planes)
    areas = _areas_of(t_box) if areas is None else areas
    if n_tracks == 0 or n_people == 0:
        return np.zeros((n_tracks, n_people)), areas
    # Each side as one (N, planes, K) array, x and y apart: a pair's planes come with
    # one gather, and NumPy reduces a contiguous last axis far faster than it does a
    # trailing axis of length 2.
    tracks = np.empty((n_tracks, 3, k), dtype)          # x, y, 1 / scale
    tracks[:, :2] = track_planes
    # 1 / (2 (2 sigma_k)^2 (area_t + eps)), per track and keypoint.
    tracks[:, 2] = (1.0 / (2.0 * (2.0 * sigmas) ** 2))[None] / (areas + _EPS)[:, None]
    persons = people_planes.astype(dtype)
    # |T or F| of every pair, from one product of the masks.
    known_f = track_known.astype(dtype)
    found_f = found.astype(dtype)
    n_known = track_known.sum(axis=1)
    union = n_known[:, None] + found_f.sum(axis=1)[None] - known_f @ found_f.T
    if threshold is None:
        terms = _similarity_terms(tracks[:, None], persons[None])
        return np.where(union > 0, terms / np.maximum(union, 1.0), 0.0), areas
    # Every keypoint of a pair is at least the gap g between their boxes apart, so
    # with x = g^2 / (area_t + eps) the similarity is at most the mean of
    # exp(-x c_k), c_k = 1 / (2 (2 sigma_k)^2), over the track's m known keypoints,
    # which is at most the mean over the m smallest c_k: below `threshold` once x
    # passes _reach(m) (see there).
    reach2 = _reach(sigmas.tobytes(), float(threshold))[n_known] * (areas + _EPS)
    p_box = _plane_boxes(people_planes)
    gx = np.maximum(np.maximum(p_box[0][None] - t_box[2][:, None],
                               t_box[0][:, None] - p_box[2][None]), 0.0)
    gy = np.maximum(np.maximum(p_box[1][None] - t_box[3][:, None],
                               t_box[1][:, None] - p_box[3][None]), 0.0)
    gx *= gx
    gy *= gy
    gx += gy
    # A pair within reach has a track keypoint and a person keypoint (an empty box
    # is NaN, and so is its gap): union >= 1.
    ti, pi = np.nonzero(gx <= reach2[:, None])
    result = np.zeros((n_tracks, n_people))
    if len(ti):
        result[ti, pi] = _similarity_terms(np.take(tracks, ti, axis=0),
                                           np.take(persons, pi, axis=0)) / union[ti, pi]
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


def _similarity_terms(tracks, persons):
    """Sum of the keypoints' OKS terms of pairs given as broadcastable (..., 3, K)
    track and (..., 2, K) person planes (see _similarity; NaN: missing)."""
    dx = tracks[..., 0, :] - persons[..., 0, :]
    dy = tracks[..., 1, :] - persons[..., 1, :]
    e = dx * dx
    e += dy * dy
    e *= tracks[..., 2, :]
    # exp of a large negative number underflows, and NumPy's underflow path is some
    # twenty times slower; past the clamp the term is below 1e-34 anyway. fmin also
    # turns the NaN of a keypoint missing on either side into the clamp: a term of 0
    # to within 1e-34, without a mask multiplied in.
    np.fmin(e, _MAX_E[e.dtype.type], out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    # A sum over keypoints as a product with a vector of ones: BLAS, several times
    # faster than a reduction over a short last axis.
    return e @ np.ones(e.shape[-1], e.dtype)


def _plane_boxes(xy):
    """(x low, y low, x high, y high) of each row's points (all NaN: NaN) from (N, 2, K)
    coordinate planes, NaN where a point is missing."""
    # Keypoints first: the reductions then run over the outer axis, element-wise
    # across rows, far faster than over a short last axis.
    by_keypoint = np.ascontiguousarray(xy.transpose(2, 0, 1))
    low = np.fmin.reduce(by_keypoint, axis=0)
    high = np.fmax.reduce(by_keypoint, axis=0)
    return low[:, 0], low[:, 1], high[:, 0], high[:, 1]


def _nan_median(values):
    """Median along the last axis of a 2-D array ignoring NaN (NaN for a row with no
    number)."""
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
    min_keypoint_share : float, default 0.5
        A matched person with fewer keypoints than this share of its track's usual
        count (a running mean) is followed but shown without the identity
        (``track_id`` -1): most such people are fragments the decoder split off
        someone, or figures cut short where two people overlap. 0 shows every one.
    min_score_share : float, default 0.5
        A matched person whose score (``Poses.scores``) is below this share of the
        stream's usual person score (the running mean, 0.05 on the newest frame, of
        each frame's median score) is followed but shown without the identity
        (``track_id`` -1): on decoded walking crowds fewer than half such people
        are whole people with the right identity (fragments, and tracks that grew
        from fragments). Relative to the stream, so the same share suits decoders
        and networks whose scores differ in scale. 0 shows every one.
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
                 d_cutoff=1.0, fps=30.0, min_keypoint_share=0.5, min_score_share=0.5,
                 sigmas=None, backend="auto"):
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
        self.min_keypoint_share = real(min_keypoint_share, "min_keypoint_share", 0.0, 1.0)
        self.min_score_share = real(min_score_share, "min_score_share", 0.0, 1.0)
        k = skeleton.num_keypoints
        if sigmas is None:
            sigmas = skeleton.sigmas
        sigmas = np.asarray(sigmas, dtype=np.float64)
        if sigmas.shape != (k,) or not (np.isfinite(sigmas).all() and (sigmas > 0).all()):
            raise ValueError(f"sigmas must be {k} positive numbers (one per keypoint), "
                             f"got {sigmas!r}")
        self.sigmas = sigmas
        # 1 / (2 (2 sigma_k)^2): a keypoint's OKS exponent per squared pixel and area.
        self._inv_scale = 1.0 / (2.0 * (2.0 * sigmas) ** 2)
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
        # The stream's usual person score (None: no person yet), see min_score_share.
        self._usual_score = None
        # Per track and keypoint, as planes (see the _X.. constants): last seen
        # position, when, matched frames since (inf: never seen) and the 1-Euro state.
        self._planes = np.zeros((0, _N_PLANES, k))
        # Per track: velocity (pixels per second; NaN: none yet) and the running mean
        # of its people's keypoint counts.
        self._motion = np.zeros((0, 3))
        # Per track: frames matched, frames missed since, identity (-1: tentative).
        self._counts = np.zeros((0, 3), np.int64)

    @property
    def _ids(self):
        return self._counts[:, _ID]

    @property
    def num_tracks(self):
        """Live tracks (confirmed and tentative)."""
        return len(self._counts)

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
        return self._predicted_planes(t).transpose(0, 2, 1)

    def _predicted_planes(self, t):
        """predicted(t) as (T, 2, K) coordinate planes."""
        planes = self._planes
        if self.motion is None:
            return planes[:, _X:_Y + 1].copy()
        # A track without a velocity yet (NaN) stays where it was seen.
        velocity = self._motion[:, :2].copy()
        velocity[np.isnan(velocity)] = 0.0
        return planes[:, _X:_Y + 1] + velocity[:, :, None] * (t - planes[:, None, _SEEN])

    def _match(self, people_planes, found, predicted):
        """(track rows, person rows) of the matched pairs, the similarity matrix and
        the tracks' areas."""
        n_tracks, n_people = self.num_tracks, len(people_planes)
        none = np.zeros(0, np.intp)
        if n_tracks == 0 or n_people == 0:
            return none, none, np.zeros((n_tracks, n_people)), np.ones(n_tracks)
        known = self._planes[:, _AGE] < _KEYPOINT_MEMORY
        sim, areas = _similarity(predicted, known, people_planes, found, self.sigmas, None,
                                 self.match_threshold, np.float32)
        sim[sim < self.match_threshold] = 0.0
        # Confirmed tracks first; tentative ones only among the people left, so a
        # short-lived track (often a fragment of someone) never outbids an identity.
        confirmed = self._ids >= 0
        first = np.flatnonzero(confirmed)
        r1, c1 = self._assign(sim[first])
        rows, cols = first[r1], c1
        if not confirmed.all():
            second = np.flatnonzero(~confirmed)
            free = np.ones(n_people, bool)
            free[c1] = False
            left = np.flatnonzero(free)
            r2, c2 = self._assign(sim[second][:, left])
            rows, cols = np.concatenate([rows, second[r2]]), np.concatenate([cols, left[c2]])
        return rows, cols, sim, areas

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
            (-1 for a person on a tentative track, with no keypoint, or withheld as
            a likely bad decode, see `min_keypoint_share` and `min_score_share`)
            and, with smoothing, the keypoints of people with an identity filtered. ``stats`` gains ``tracks``
            (confirmed tracks alive after this frame). `poses` is kept.
        """
        kp = self._check_poses(poses)
        t = self._next_time(timestamp)
        found = kp[:, :, 2] > 0
        people_planes = np.ascontiguousarray(kp[:, :, :2].transpose(0, 2, 1), np.float64)
        predicted = self._predicted_planes(t)
        rows, cols, sim, areas = self._match(people_planes, found, predicted)

        n_tracks = self.num_tracks
        n_found = found.sum(axis=1)
        # A person with far fewer keypoints than its track usually has, or scoring far
        # below the stream's usual person, is followed but shown without the identity
        # (judged before this frame's count and scores are learnt).
        whole = n_found[cols] >= self.min_keypoint_share * self._motion[rows, _COUNT]
        whole &= self._well_scored(np.asarray(poses.scores, np.float64), cols)
        xy = people_planes[cols]
        # Each matched keypoint's OKS exponent against its track's prediction.
        e = self._exponents(xy, predicted[rows], areas[rows])
        learn = found[cols] & _clear_matches(sim, rows, cols)[:, None]
        learn &= ~self._rivals_closer(sim, rows, cols, xy, predicted, areas, e)
        self._learn(rows, xy, learn, n_found[cols], t, e)
        missed = np.ones(n_tracks, bool)
        missed[rows] = False
        self._counts[missed, _MISSED] += 1

        # People on no track start tentative ones (those with a keypoint to follow).
        track_of_person = np.full(len(kp), -1, np.intp)
        track_of_person[cols] = rows
        new = np.flatnonzero((track_of_person < 0) & (n_found > 0))
        track_of_person[new] = n_tracks + np.arange(len(new))
        self._start_tracks(people_planes[new], found[new], n_found[new], t)

        track_ids = self._confirm(track_of_person)
        track_ids[cols[~whole]] = -1
        out_kp = self._shown(kp, found, track_ids, track_of_person)

        # End the tracks that missed too many frames, and tentative ones that missed.
        counts = self._counts
        alive = (counts[:, _MISSED] <= self.max_age) & ((counts[:, _ID] >= 0)
                                                       | (counts[:, _MISSED] == 0))
        if not alive.all():
            self._planes = self._planes[alive]
            self._motion = self._motion[alive]
            self._counts = self._counts[alive]
        self._frames += 1
        self._time = t
        stats = dict(poses.stats)
        stats["tracks"] = self.num_confirmed
        return Poses(out_kp, np.array(poses.scores, copy=True), poses.skeleton, stats,
                     track_ids=track_ids)

    def _shown(self, kp, found, track_ids, track_of_person):
        """The keypoints to return: with smoothing, those of people with an identity
        filtered."""
        out_kp = np.array(kp, dtype=np.float32, copy=True)
        if self.smoothing == "one_euro":
            shown = np.flatnonzero(track_ids >= 0)
            # Only the planes needed (_AGE, _SX, _SY lie side by side).
            planes = self._planes[:, _AGE:_SY + 1][track_of_person[shown]]
            # A keypoint its track has never learnt has no filtered value: shown raw.
            filtered = found[shown] & (planes[:, 0] < np.inf)
            out_kp[shown, :, :2] = np.where(filtered[:, :, None],
                                            planes[:, 1:].transpose(0, 2, 1),
                                            out_kp[shown, :, :2])
        return out_kp

    def _confirm(self, track_of_person):
        """Confirm the tracks that are due, giving identities in the order of the
        frame's people: each person's track id (-1: none or tentative)."""
        counts = self._counts
        ready = (counts[:, _ID] < 0) & (counts[:, _HITS] >= self.min_hits)
        if self._frames < self.min_hits:
            ready |= (counts[:, _ID] < 0) & (counts[:, _MISSED] == 0)
        has_track = track_of_person >= 0
        rows = track_of_person[has_track]
        due = rows[ready[rows]]
        counts[due, _ID] = self._next_id + np.arange(len(due))
        self._next_id += len(due)
        track_ids = np.full(len(track_of_person), -1, np.int64)
        track_ids[has_track] = counts[rows, _ID]
        return track_ids

    def _well_scored(self, scores, cols):
        """Which of the people `cols` score at least min_score_share of the stream's
        usual person score; then the usual score learns this frame's."""
        if len(scores) == 0:
            return np.ones(len(cols), bool)
        usual = self._usual_score
        ordered = np.sort(scores)
        median = float(ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2.0
        self._usual_score = median if usual is None else usual + _SCORE_WEIGHT * (
            median - usual)
        if usual is None:
            return np.ones(len(cols), bool)
        return scores[cols] >= self.min_score_share * usual

    def _exponents(self, xy, predicted, areas):
        """(M, K) OKS exponents of (M, 2, K) keypoints `xy` against (M, 2, K)
        predictions of tracks with box `areas` (M,)."""
        d = xy - predicted
        d *= d
        e = d[:, 0]
        e += d[:, 1]
        e *= self._inv_scale
        e /= (areas + _EPS)[:, None]
        return e

    def _rivals_closer(self, sim, rows, cols, xy, predicted, areas, e):
        """(M, K): where the strongest rival of each matched person (the other track
        most similar to it) predicts the person's keypoint `xy` (M, 2, K) better, by
        its OKS term, than the matched track does with exponents `e` (a keypoint the
        matched track or the rival does not know: never)."""
        if len(rows) == 0:
            return np.zeros((0, self.skeleton.num_keypoints), bool)
        others = sim[:, cols]                                    # (T, M)
        pairs = np.arange(len(rows))
        others[rows, pairs] = -1.0
        rival = others.argmax(axis=0)
        has = others[rival, pairs] > 0
        if not has.any():
            return np.zeros(e.shape, bool)
        age = self._planes[:, _AGE]
        known = (age[rows] < _KEYPOINT_MEMORY) & (age[rival] < _KEYPOINT_MEMORY)
        closer = self._exponents(xy, predicted[rival], areas[rival]) < e
        return has[:, None] & known & closer

    def _learn(self, rows, xy, found, n_found, t, e):
        """Matched tracks take their people's (M, 2, K) keypoints `xy` where `found`
        (`e`: their OKS exponents against the tracks' predictions)."""
        if len(rows) == 0:
            return
        state = self._planes[rows]                               # (M, planes, K)
        age = state[:, _AGE]
        if _OUTLIER_SIMILARITY > 0:
            found = found & ~((age < _KEYPOINT_MEMORY) & (e > _OUTLIER_E))
        ever = age < np.inf
        both = ever & found
        # Seconds since each keypoint was last seen (1 where it is not measured now).
        dt = np.where(both, t - state[:, _SEEN], 1.0)
        motion = self._motion[rows]
        # Velocity: the median of the keypoints' displacements per second since each
        # was last seen, over keypoints seen before and now (NaN for a track with
        # none); a running mean over time.
        step = np.where(both[:, None], (xy - state[:, _X:_Y + 1]) / dt[:, None], np.nan)
        estimate = _nan_median(step.reshape(-1, step.shape[-1])).reshape(-1, 2)
        old = motion[:, :2]
        motion[:, :2] = np.where(np.isnan(old), estimate,
                                 np.where(np.isnan(estimate), old,
                                          old + _VELOCITY_WEIGHT * (estimate - old)))
        motion[:, _COUNT] += _COUNT_WEIGHT * (n_found - motion[:, _COUNT])
        self._motion[rows] = motion
        if self.smoothing == "one_euro":
            # One 1-Euro step (see OneEuroFilter) for every found keypoint of every
            # matched track at once. A keypoint's first sample starts its filter: from
            # value = sample and speed = 0 (a never seen keypoint's speed) the step
            # returns the sample, whatever dt.
            smooth = np.where(ever[:, None], state[:, _SX:_SY + 1], xy)
            value, speed = _one_euro_step(xy, smooth, state[:, _DX:_DY + 1], dt[:, None],
                                          self.min_cutoff, self.beta, self.d_cutoff)
            state[:, _SX:_SY + 1] = np.where(found[:, None], value, state[:, _SX:_SY + 1])
            state[:, _DX:_DY + 1] = np.where(found[:, None], speed, state[:, _DX:_DY + 1])
        state[:, _X:_Y + 1] = np.where(found[:, None], xy, state[:, _X:_Y + 1])
        state[:, _SEEN] = np.where(found, t, state[:, _SEEN])
        state[:, _AGE] = np.where(found, 0.0, age + 1.0)
        self._planes[rows] = state
        counts = self._counts
        counts[rows, _HITS] += 1
        counts[rows, _MISSED] = 0

    def _start_tracks(self, xy, found, n_found, t):
        """New tentative tracks for people with (N, 2, K) keypoints `xy` where `found`."""
        n = len(xy)
        if n == 0:
            return
        k = self.skeleton.num_keypoints
        planes = np.zeros((n, _N_PLANES, k))
        xy = np.where(found[:, None], xy, 0.0)
        planes[:, _X:_Y + 1] = xy
        planes[:, _SEEN] = t
        planes[:, _AGE] = np.where(found, 0.0, np.inf)
        planes[:, _SX:_SY + 1] = xy
        motion = np.full((n, 3), np.nan)
        motion[:, _COUNT] = n_found
        counts = np.zeros((n, 3), np.int64)
        counts[:, _HITS] = 1
        counts[:, _ID] = -1
        self._planes = np.concatenate([self._planes, planes])
        self._motion = np.concatenate([self._motion, motion])
        self._counts = np.concatenate([self._counts, counts])
