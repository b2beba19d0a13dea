"""Instructions and time per frame on rendered crowds: the C decoder under callgrind,
both backends timed.

    python bench/callgrind_crowd.py --people 1 5 20 50 100 200
    python bench/callgrind_crowd.py --people 20 100 --assignment hungarian --time

Each crowd is the benchmarks' (``synth.crowd_scene(n, 1000 + n)``, 368x656, stride 8;
``--size-model shrinking`` for the crowds of people who shrink as the crowd grows),
rendered once and cached in ``--cache`` (default: a folder in the temporary directory).
Counting: a small C program linked against the installed ``libpafdecode`` reads the
cached fields and decodes them twice; ``valgrind --tool=callgrind`` counts only the
instructions inside ``pd_decode_frame`` and the script prints half of them (one
decode). Python never runs under valgrind, so a count takes seconds, not minutes.
``--time``: the median ms of about ``--repeat`` calls of ``Decoder`` per count and backend
(c, numba) in this process, in rounds that take every count and backend in turn, a few calls
in a row each (see ``median_ms``), so that all see the same machine load. ``--scenes N``:
each figure is the mean over N crowds of that count (scene 0 and N - 1 others), since one
crowd's cost depends on how its people happen to overlap. ``--clock cpu`` times the
calling thread's CPU time instead of the wall clock, so that the other jobs of a shared
machine count only through the caches they share, not through the time they take the core.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pafdecode import Decoder, DecoderConfig, Skeleton, c_api, synth

COCO = Skeleton.openpose_coco18()
IMAGE_SIZE = (368, 656)

# The frame file: int32 K, L, C, H, W, assignment; int32 limbs (2L), PAF channels
# (2L), redundant (L); float32 limb lengths (L, the limb length prior's), heatmaps
# (K, H, W) and PAFs (C, H, W), C order.
FRAME_READER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "pafdecode.h"

static void *read_all(FILE *f, size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p || fread(p, 1, bytes, f) != bytes) { fprintf(stderr, "short frame file\n"); exit(2); }
    return p;
}

/* A frame file's skeleton, fields and the default params with its assignment.
 * PD_NO_LIMB_LENGTHS: for cores from before pd_skeleton had limb lengths. */
typedef struct { pd_skeleton s; pd_params p; pd_fields hf, pf; } frame;

static frame load_frame(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    int32_t *head = read_all(f, 6 * sizeof(int32_t));
    int K = head[0], L = head[1], C = head[2], H = head[3], W = head[4];
    int32_t *limbs = read_all(f, 2 * L * sizeof(int32_t));
    int32_t *pafc = read_all(f, 2 * L * sizeof(int32_t));
    int32_t *redundant32 = read_all(f, L * sizeof(int32_t));
    uint8_t *redundant = malloc(L ? L : 1);
    for (int l = 0; l < L; l++) redundant[l] = (uint8_t)redundant32[l];
    float *limb_length = read_all(f, L * sizeof(float));
    float *heat = read_all(f, (size_t)K * H * W * sizeof(float));
    float *paf = read_all(f, (size_t)C * H * W * sizeof(float));
    fclose(f);
#ifdef PD_NO_LIMB_LENGTHS
    (void)limb_length;
    pd_skeleton s = {K, L, limbs, pafc, redundant};
#else
    pd_skeleton s = {K, L, limbs, pafc, redundant, limb_length};
#endif
    frame fr;
    fr.s = s;
    pd_params_default(&fr.p);
    fr.p.assignment = head[5];
    pd_fields hf = {heat, K, H, W, (ptrdiff_t)H * W, W, 1};
    pd_fields pf = {paf, C, H, W, (ptrdiff_t)H * W, W, 1};
    fr.hf = hf;
    fr.pf = pf;
    return fr;
}
"""

HARNESS = FRAME_READER + r"""
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    frame fr = load_frame(argv[1]);
    pd_params p = fr.p;
    /* PRESET */
    const int K = fr.s.num_keypoints, H = fr.hf.height, W = fr.hf.width;
    size_t ws_size = pd_workspace_size(&fr.s, &p, H, W);
    int max_people = pd_max_people(&fr.s, &p);
    void *ws = malloc(ws_size);
    float *keypoints = malloc((size_t)max_people * K * 3 * sizeof(float));
    float *scores = malloc((size_t)max_people * sizeof(float));
    int n = 0;
    for (int run = 0; run < 2; run++)
        n = pd_decode_frame(&fr.s, &p, &fr.hf, &fr.pf, ws, ws_size, keypoints, scores, NULL);
    printf("%d\n", n);
    return n < 0;
}
"""


def scene_fields(n_people, cache, size_model="constant", scene=0):
    """The crowd's heatmaps (K, H, W) and PAFs, from the cache when rendered before;
    scene 0 is the one these counts use, others (seeds 100000 apart) add frames."""
    suffix = ("" if size_model == "constant" else f"-{size_model}") + (f"-s{scene}" if scene else "")
    path = Path(cache) / f"crowd-{n_people}{suffix}.npz"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        scene = synth.crowd_scene(n_people, 1000 + n_people + 100000 * scene,
                                  image_size=IMAGE_SIZE, size_model=size_model)
        np.savez(path, heatmaps=scene.heatmaps, pafs=scene.pafs)
    with np.load(path) as data:
        return data["heatmaps"], data["pafs"]


def frame_file(n_people, cache, assignment, size_model="constant", scene=0):
    """The scene as the C harnesses' frame file (format above)."""
    heat, paf = scene_fields(n_people, cache, size_model, scene)
    heat = np.ascontiguousarray(heat[:COCO.num_keypoints], np.float32)
    paf = np.ascontiguousarray(paf, np.float32)
    suffix = f"-s{scene}" if scene else ""
    path = Path(cache) / f"crowd-{n_people}-{size_model}-{assignment}{suffix}-v2.bin"
    head = [COCO.num_keypoints, len(COCO.limbs), paf.shape[0], heat.shape[1], heat.shape[2],
            ["greedy", "hungarian"].index(assignment)]
    with open(path, "wb") as out:
        for part in (head, COCO.limbs.ravel(), COCO.paf_channels.ravel(), COCO.redundant):
            out.write(np.asarray(part, np.int32).tobytes())
        out.write(np.asarray(COCO.limb_lengths, np.float32).tobytes())
        out.write(heat.tobytes())
        out.write(paf.tobytes())
    return path


def preset_lines(preset):
    """C assignments of the options in which DecoderConfig.<preset>() differs from the
    default (the assignment comes from the frame file)."""
    config, default = getattr(DecoderConfig, preset)().as_dict(), DecoderConfig().as_dict()
    return "\n".join(f"    p.{name} = {0 if value is None else value};"
                     for name, value in config.items()
                     if value != default[name] and name != "assignment")


def c_compiler(tool):
    """cc, gcc or clang from PATH; exits naming `tool` when there is none."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        raise SystemExit(f"{tool}: no C compiler (cc, gcc or clang) on PATH")
    return compiler


def build_harness(cache, preset="default"):
    compiler = c_compiler("callgrind_crowd")
    Path(cache).mkdir(parents=True, exist_ok=True)
    source = Path(cache) / f"harness-{preset}.c"
    binary = Path(cache) / f"harness-{preset}"
    source.write_text(HARNESS.replace("    /* PRESET */", preset_lines(preset)))
    lib = c_api.library_dir()
    subprocess.run([compiler, "-std=c99", "-O2", str(source), "-o", str(binary),
                    f"-I{c_api.include_dir()}", f"-L{lib}", f"-Wl,-rpath,{lib}", "-lpafdecode"],
                   check=True)
    return binary


def callgrind_count(command, options=(), env=None):
    """Half the instructions callgrind collects from `command`, which decodes twice and
    prints the people found last, and that number."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(["valgrind", "--tool=callgrind", *options,
                              f"--callgrind-out-file={Path(tmp) / 'callgrind.out'}",
                              *map(str, command)],
                             capture_output=True, text=True, env=env, check=True)
    match = re.search(r"Collected : (\d+)", run.stderr)
    if not match:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{run.stderr}")
    return int(match.group(1)) // 2, int(run.stdout.split()[-1])


def count_instructions(binary, frame):
    """Instructions inside pd_decode_frame for one decode, and the people found."""
    return callgrind_count([binary, frame], ["--toggle-collect=pd_decode_frame"])


def scene_means(counts):
    """The mean instructions and people found over per-scene (instructions, found)."""
    return (round(np.mean([c[0] for c in counts])), round(np.mean([c[1] for c in counts])))


BLOCK = 6  # decodes of one crowd in a row, the first of them untimed


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def median_ms(people, cache, assignment, repeat, size_model="constant", preset="default",
              scenes=1, clock="wall"):
    """Median ms per count and backend, averaged over `scenes` crowds of each count:
    {n: {"c_ms": .., "numba_ms": ..}}. Each round decodes every crowd with each backend
    in turn, BLOCK times in a row (the first untimed, so the caches hold that crowd as
    they would in a stream of like frames), so all of them, and the ratios between
    counts, see the same load. `clock`: a key of CLOCKS."""
    now = CLOCKS[clock]
    config = getattr(DecoderConfig, preset)()
    decoders = {b: Decoder(COCO, config, backend=b, assignment=assignment)
                for b in ("c", "numba")}
    jobs = [(n, s, b, scene_fields(n, cache, size_model, s))
            for n in people for s in range(scenes) for b in decoders]
    times = {(n, s, b): [] for n, s, b, _ in jobs}
    for _, _, b, (heat, paf) in jobs:
        decoders[b](heat, paf)
    for _ in range(max(1, repeat // (BLOCK - 1))):
        for n, s, b, (heat, paf) in jobs:
            for k in range(BLOCK):
                start = now()
                decoders[b](heat, paf)
                if k:
                    times[n, s, b].append(now() - start)
    return {n: {f"{b}_ms": 1e3 * float(np.mean([np.median(times[n, s, b])
                                                 for s in range(scenes)]))
                for b in decoders} for n in people}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1, 5, 20, 50, 100, 200])
    parser.add_argument("--assignment", choices=["greedy", "hungarian"], default="greedy")
    parser.add_argument("--size-model", choices=["constant", "shrinking"], default="constant",
                        help="synth.crowd_scene's size_model (people who keep their size, "
                             "or who shrink as the crowd grows, the model before 2026-12-03)")
    parser.add_argument("--preset", choices=["default", "crowd", "noisy", "openpose"],
                        default="default", help="the DecoderConfig preset decoded with")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "pafdecode-crowds"))
    parser.add_argument("--time", action="store_true",
                        help="median ms per backend instead of instruction counts")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--scenes", type=int, default=1,
                        help="crowds per count; each figure is their mean")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="--time's clock: wall time or the thread's CPU time")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    binary = None if args.time else build_harness(args.cache, args.preset)
    timed = (median_ms(args.people, args.cache, args.assignment, args.repeat, args.size_model,
                       args.preset, args.scenes, args.clock) if args.time else None)
    rows = []
    for n in args.people:
        if args.time:
            row = {"people": n, **timed[n]}
            print(f"{n:4d} people  C {row['c_ms']:8.3f} ms ({row['c_ms'] / max(n, 1):.4f} a"
                  f" person)  Numba {row['numba_ms']:8.3f} ms"
                  f" ({row['numba_ms'] / max(n, 1):.4f} a person)", flush=True)
        else:
            counts = [count_instructions(binary, frame_file(n, args.cache, args.assignment,
                                                            args.size_model, s))
                      for s in range(args.scenes)]
            instructions, found = scene_means(counts)
            row = {"people": n, "found": found, "instructions": instructions,
                   "per_scene": counts}
            print(f"{n:4d} people  {found:4d} found  {instructions:12,d} instructions"
                  f"  ({instructions / max(n, 1):,.0f} a person)", flush=True)
        rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
