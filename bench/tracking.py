"""Identity tracking on walking crowds: the Tracker against a frame-to-frame Hungarian
baseline (no prediction, no memory: motion=None, max_age=0, min_hits=1).

    python bench/tracking.py --people 20 50 --seeds 100 101 102 103 104 --frames 90
"""

import argparse

import numpy as np

from pafdecode import Decoder, Skeleton, Tracker, mot

VARIANTS = {"tracker": {}, "baseline": dict(motion=None, max_age=0, min_hits=1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--occlusion", type=float, default=0.05)
    args = parser.parse_args()
    sk = Skeleton.openpose_coco18()
    decoder = Decoder(sk)
    print("| people | tracker | IDF1 | MOTA | ID switches | ids given |")
    print("|---|---|---|---|---|---|")
    for n in args.people:
        rows = {name: [] for name in VARIANTS}
        for seed in args.seeds:
            crowd = mot.walking_crowd(n, args.frames, seed, occlusion=args.occlusion)
            decoded = [decoder(*crowd.fields(f)) for f in range(crowd.num_frames)]
            for name, options in VARIANTS.items():
                tracker = Tracker(sk, **options)
                out = [tracker.update(p, timestamp=f / crowd.fps) for f, p in enumerate(decoded)]
                rows[name].append(mot.score_tracking(crowd.people, out, sk.sigmas))
        for name, scores in rows.items():
            idf1 = [s["idf1"] for s in scores]
            print(f"| {n} | {name} | {np.mean(idf1):.3f} (min {np.min(idf1):.3f}) | "
                  f"{np.mean([s['mota'] for s in scores]):.3f} | "
                  f"{sum(s['switches'] for s in scores)} | "
                  f"{sum(s['tracks'] for s in scores)} for {n * len(scores)} people |",
                  flush=True)


if __name__ == "__main__":
    main()
