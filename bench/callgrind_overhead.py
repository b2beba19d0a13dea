"""Per-call cost of the Python layer, for callgrind: N calls of one case after one setup.

    valgrind --tool=callgrind python bench/callgrind_overhead.py CASE N

CASE is ``base`` (the setup alone), ``call-pair`` / ``call-coco`` (``Decoder.__call__`` on a
1x1 frame of a 2-keypoint or a COCO-18 skeleton), ``core-pair`` / ``core-coco`` (the
compiled core alone on the same frame) or ``batch-coco`` (``decode_batch`` of 64 such
frames, N / 64 times). Instructions per call = (count of CASE - count of base) / N.
"""

import sys

import numpy as np

from pafdecode import Decoder, Skeleton


def main(case, n):
    skeletons = {"pair": Skeleton(["a", "b"], [(0, 1)]), "coco": Skeleton.openpose_coco18()}
    decoders = {k: Decoder(s, backend="c") for k, s in skeletons.items()}
    frames = {k: (np.zeros((s.num_keypoints, 1, 1), np.float32),
                  np.zeros((s.num_paf_channels, 1, 1), np.float32))
              for k, s in skeletons.items()}
    batch = tuple(np.stack([a] * 64) for a in frames["coco"])
    scratch = {k: np.empty(d._core.workspace_bytes(1, 1), np.uint8) for k, d in decoders.items()}
    for k, d in decoders.items():  # every path warmed once, so the count is of calls only
        d(*frames[k])
        d._core.decode(*frames[k], scratch[k])
    decoders["coco"].decode_batch(*batch)
    kind, _, name = case.partition("-")
    if kind == "call":
        for _ in range(n):
            decoders[name](*frames[name])
    elif kind == "core":
        for _ in range(n):
            decoders[name]._core.decode(*frames[name], scratch[name])
    elif case == "batch-coco":
        for _ in range(n // 64):
            decoders["coco"].decode_batch(*batch)
    elif case != "base":
        raise SystemExit(f"unknown case {case!r}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
