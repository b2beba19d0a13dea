"""Chains the six stage bindings of pafdecode._kernels on the golden scenes and options
and checks that they give CoreDecoder.decode's keypoints, scores and stats, bit for bit.
Usage: python tests/c/chain_stages.py [/work/golden]  (the folder holding make_golden.py)"""
import sys, numpy as np
GOLDEN = sys.argv[1] if len(sys.argv) > 1 else "/work/golden"
sys.path.insert(0, GOLDEN)
from make_golden import scenes, COMBOS
from pafdecode import _params, _kernels as m

bad = total = 0
for key, sk, scene in scenes():
    heat = np.require(scene.heatmaps, np.float32, ["ALIGNED"])
    paf = np.require(scene.pafs, np.float32, ["ALIGNED"])
    for combo, opts in COMBOS.items():
        values = {p.name: p.default for p in _params.PARAMS}
        values.update(opts)
        rec = _params.to_record(values)
        core = m.CoreDecoder(sk.limbs, sk.paf_channels, sk.redundant, sk.num_keypoints, rec)
        scratch = np.empty(core.workspace_bytes(heat.shape[1], heat.shape[2]), np.uint8)
        kp, sc, st = core.decode(heat, paf, scratch)
        K = sk.num_keypoints
        peaks, counts = m.stage_peaks(heat[:K], rec)
        cands = m.stage_candidates(paf, sk.limbs, sk.paf_channels, peaks, counts, rec)
        conns = m.stage_connections(cands, counts, sk.limbs, rec)
        people = m.stage_assembly(cands, conns, peaks, counts, sk.limbs, sk.redundant, rec)
        joined = m.stage_join(people, peaks, counts, sk.limbs, sk.redundant, rec)
        kp2, sc2 = m.stage_emit(joined, peaks, counts, rec)
        stats = (int(counts.sum()), sum(len(c[1]) for c in cands), sum(len(c[1]) for c in conns), len(sc2))
        ok = np.array_equal(kp, kp2) and np.array_equal(sc, sc2) and tuple(st) == stats
        total += 1
        if not ok:
            bad += 1
            print("DIFFERS:", combo, key, st, stats)
print(f"stages chained: {total - bad} of {total} equal to CoreDecoder.decode")
sys.exit(1 if bad else 0)
