"""Identity tracking on walking crowds: the Tracker against a frame-to-frame Hungarian
baseline (no prediction, no memory: motion=None, max_age=0, min_hits=1) and against a
ceiling, the true identities given to every decoded person (each frame's decoded people
paired with the true ones by the Hungarian on OKS): what a tracker that labels every
person the decoder gives could score at best.

    python bench/tracking.py --people 20 50 --seeds 100 101 102 103 104 --frames 90

Seeds 100-104 are the evaluation seeds of docs/benchmarks.md; tune on others.
``--breakdown`` adds where IDF1 loses its credit (:func:`pafdecode.mot.identity_errors`,
summed over the seeds): true person-frames no decoded person covers (undecoded), covered
only by people shown without an id (withheld) or by an id standing for someone else (other
id); and people shown with an id covering no true person (no person) or another one
(other person).
"""

import argparse

import numpy as np

from pafdecode import Decoder, Skeleton, Tracker, metrics, mot
from pafdecode.backends import load_backend, resolve_backend

VARIANTS = {"tracker": {}, "baseline": dict(motion=None, max_age=0, min_hits=1)}
ERRORS = ("fn_undecoded", "fn_withheld", "fn_other_id", "fp_no_person", "fp_other_person")


def true_identities(truth, decoded, sigmas):
    """(keypoints, ids) per frame: each decoded person labelled with the true person
    the Hungarian on OKS pairs it with (-1 when there are more decoded than true)."""
    lsa = load_backend(resolve_backend("auto")).linear_sum_assignment
    xy = truth[..., :2]
    span = xy.max(axis=2) - xy.min(axis=2)
    areas = np.maximum(span[..., 0] * span[..., 1], 1.0)
    out = []
    for f, poses in enumerate(decoded):
        kp = np.asarray(poses.keypoints)
        ids = np.full(len(kp), -1, np.int64)
        if len(kp):
            similarity = metrics.oks(kp, truth[f], areas[f], sigmas)       # (decoded, true)
            col = np.asarray(lsa(np.ascontiguousarray(1.0 - similarity)), np.int64)
            ids[col >= 0] = col[col >= 0]
        out.append((kp, ids))
    return out


def _scores(truth, tracked, sigmas, breakdown):
    """score_tracking's scores, with identity_errors' when `breakdown`."""
    scores = mot.score_tracking(truth, tracked, sigmas)
    if breakdown:
        scores.update({key: value for key, value in
                       mot.identity_errors(truth, tracked, sigmas).items() if key in ERRORS})
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--occlusion", type=float, default=0.05)
    parser.add_argument("--breakdown", action="store_true",
                        help="add the IDF1 error breakdown columns")
    args = parser.parse_args()
    sk = Skeleton.openpose_coco18()
    decoder = Decoder(sk)
    extra = " undecoded | withheld | other id | no person | other person |"
    print("| people | tracker | IDF1 | MOTA | ID switches | ids given |"
          + (extra if args.breakdown else ""))
    print("|---|---|---|---|---|---|" + ("---|" * 5 if args.breakdown else ""))
    for n in args.people:
        rows = {name: [] for name in list(VARIANTS) + ["ceiling"]}
        for seed in args.seeds:
            crowd = mot.walking_crowd(n, args.frames, seed, occlusion=args.occlusion)
            decoded = [decoder(*crowd.fields(f)) for f in range(crowd.num_frames)]
            for name, options in VARIANTS.items():
                tracker = Tracker(sk, **options)
                out = [tracker.update(p, timestamp=f / crowd.fps) for f, p in enumerate(decoded)]
                rows[name].append(_scores(crowd.people, out, sk.sigmas, args.breakdown))
            rows["ceiling"].append(_scores(
                crowd.people, true_identities(crowd.people, decoded, sk.sigmas), sk.sigmas,
                args.breakdown))
        for name, scores in rows.items():
            idf1 = [s["idf1"] for s in scores]
            line = (f"| {n} | {name} | {np.mean(idf1):.3f} (min {np.min(idf1):.3f}) | "
                    f"{np.mean([s['mota'] for s in scores]):.3f} | "
                    f"{sum(s['switches'] for s in scores)} | "
                    f"{sum(s['tracks'] for s in scores)} for {n * len(scores)} people |")
            if args.breakdown:
                line += "".join(f" {sum(s[key] for s in scores)} |" for key in ERRORS)
            print(line, flush=True)


if __name__ == "__main__":
    main()
