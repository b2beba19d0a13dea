"""Decode time of this checkout's C core against an earlier commit's, on the same frames,
in one process, decode by decode.

    python bench/paired_time.py --against ac6bce7 --people 20 50 100 --preset crowd

On a shared machine separate runs of two builds see different loads; here one C program
links both cores (the earlier commit's csrc, `git archive`d, and this checkout's csrc, both
compiled with the project's flags, their ``pd_`` symbols renamed), loads each frame once and then times, in turn, a decode by the earlier core
with its defaults, by this checkout's core with its defaults, and by this checkout's core
with ``--preset``, ``--repeat`` rounds, each round starting with the next of the three. Frames: ``--scenes`` crowds per count, as
``bench/callgrind_crowd.py`` renders them. Prints, per count, the mean over the scenes
of each one's median ms, and the ratios to the earlier core.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import callgrind_crowd as cc

FLAGS = ["-std=c99", "-O3", "-fno-math-errno", "-fno-trapping-math", "-funroll-loops", "-fPIC"]

# One side of the pair: SIDE(init) loads a frame and its params, SIDE(run) decodes it.
SIDE = cc.FRAME_READER + r"""
typedef struct { frame fr; pd_params p; void *ws; size_t ws_size; float *kp, *sc; } job;

static void preset(pd_params *pp) {
    pd_params p = *pp;
    /* PRESET */
    *pp = p;
}

void *SIDE(init)(const char *path, int use_preset) {
    job *j = malloc(sizeof *j);
    j->fr = load_frame(path);
    j->p = j->fr.p;
    if (use_preset) preset(&j->p);
    j->ws_size = pd_workspace_size(&j->fr.s, &j->p, j->fr.hf.height, j->fr.hf.width);
    j->ws = malloc(j->ws_size);
    int most = pd_max_people(&j->fr.s, &j->p);
    j->kp = malloc((size_t)most * j->fr.s.num_keypoints * 3 * sizeof(float));
    j->sc = malloc((size_t)most * sizeof(float));
    return j;
}

int SIDE(run)(void *v) {
    job *j = v;
    return pd_decode_frame(&j->fr.s, &j->p, &j->fr.hf, &j->fr.pf, j->ws, j->ws_size, j->kp,
                           j->sc, NULL);
}
"""

MAIN = r"""
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void *earlier_init(const char *, int); int earlier_run(void *);
void *current_init(const char *, int); int current_run(void *);
static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
/* REPEAT FRAME...: per frame, the median ms of the three decoders, one line. */
int main(int argc, char **argv) {
    int repeat = atoi(argv[1]);
    double *t[3];
    for (int k = 0; k < 3; k++) t[k] = malloc(repeat * sizeof(double));
    for (int fi = 2; fi < argc; fi++) {
        void *jobs[3] = {earlier_init(argv[fi], 0), current_init(argv[fi], 0),
                         current_init(argv[fi], 1)};
        int (*run[3])(void *) = {earlier_run, current_run, current_run};
        for (int k = 0; k < 3; k++)
            if (run[k](jobs[k]) < 0) { fprintf(stderr, "decode failed\n"); return 1; }
        /* Each round starts with another decoder: a decode's place in the round
         * moves its time by a few percent (measured against --against HEAD). */
        for (int r = 0; r < repeat; r++)
            for (int i = 0; i < 3; i++) {
                const int k = (i + r) % 3;
                double start = now_ms();
                run[k](jobs[k]);
                t[k][r] = now_ms() - start;
            }
        for (int k = 0; k < 3; k++) qsort(t[k], repeat, sizeof(double), by_value);
        printf("%.5f %.5f %.5f\n", t[0][repeat / 2], t[1][repeat / 2], t[2][repeat / 2]);
    }
    return 0;
}
"""


def run(command, text=True, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=text, **kwargs)


def side_source(folder, name, preset, has_limb_lengths):
    source = SIDE.replace("    /* PRESET */", cc.preset_lines(preset))
    define = "" if has_limb_lengths else "#define PD_NO_LIMB_LENGTHS\n"
    path = Path(folder) / f"{name}.c"
    path.write_text(f"{define}#define SIDE(x) {name}_##x\n{source}")
    return path


def core_objects(csrc, name, preset, folder, compiler):
    """csrc compiled with the project's flags plus one side's wrapper, linked into one
    object whose pd_ symbols are renamed <name>_core_pd_..., so two cores can share a
    program."""
    work = Path(folder) / name
    work.mkdir()
    has_lengths = "limb_length" in (Path(csrc) / "pafdecode.h").read_text()
    objects = []
    for source in [*sorted(Path(csrc).glob("*.c")),
                   side_source(work, name, preset, has_lengths)]:
        obj = work / f"{source.stem}.o"
        run([compiler, *FLAGS, f"-I{csrc}", "-c", str(source), "-o", str(obj)])
        objects.append(str(obj))
    merged, renamed = work / "all.o", work / "renamed.o"
    run(["ld", "-r", *objects, "-o", str(merged)])
    symbols = run(["nm", "--defined-only", "-g", str(merged)]).stdout.split()
    table = work / "renames.txt"
    table.write_text("".join(f"{s} {name}_core_{s}\n" for s in symbols if s.startswith("pd_")))
    run(["objcopy", f"--redefine-syms={table}", str(merged), str(renamed)])
    return str(renamed)


def build(against, preset, folder, compiler):
    """The paired program: `against`'s csrc (git archive) and this checkout's csrc, each
    compiled the same way and renamed, so that neither side gains from how it was built
    (the installed library timed 1-4 % faster than the same sources compiled here). Against
HEAD itself the second decoder times 0.96-1.02 of the first: the tool's own spread."""
    repo = Path(__file__).resolve().parents[1]
    old = Path(folder) / "archive"
    old.mkdir()
    archive = run(["git", "-C", str(repo), "archive", against, "csrc"], text=False)
    run(["tar", "-x", "-C", str(old)], input=archive.stdout, text=False)
    sides = [core_objects(old / "csrc", "earlier", "default", folder, compiler),
             core_objects(repo / "csrc", "current", preset, folder, compiler)]
    main = Path(folder) / "main.c"
    main.write_text(MAIN)
    binary = Path(folder) / "paired"
    run([compiler, *FLAGS[1:], str(main), *sides, "-o", str(binary), "-lm"])
    return binary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the earlier commit (any git rev)")
    parser.add_argument("--people", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--preset", choices=["default", "crowd", "noisy", "openpose"],
                        default="crowd", help="the current core's third decoder")
    parser.add_argument("--scenes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--assignment", choices=["greedy", "hungarian"], default="greedy")
    parser.add_argument("--size-model", choices=["constant", "shrinking"], default="constant")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "pafdecode-crowds"))
    args = parser.parse_args(argv)
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None or not all(shutil.which(t) for t in ("git", "ld", "nm", "objcopy")):
        raise SystemExit("paired_time: needs a C compiler, git, ld, nm and objcopy on PATH")
    with tempfile.TemporaryDirectory() as folder:
        try:
            binary = build(args.against, args.preset, folder, compiler)
        except subprocess.CalledProcessError as error:
            raise SystemExit(f"paired_time: {' '.join(error.cmd[:3])} failed: "
                             f"{(error.stderr or b'')[-300:]!r}")
        print(f"median ms per frame, mean over {args.scenes} scenes; {args.against} default |"
              f" this checkout's default | its {args.preset}()")
        for n in args.people:
            frames = [str(cc.frame_file(n, args.cache, args.assignment, args.size_model, s))
                      for s in range(args.scenes)]
            out = run([str(binary), str(args.repeat), *frames]).stdout
            ms = np.array([line.split() for line in out.splitlines()], float).mean(axis=0)
            print(f"{n:4d} people  {ms[0]:8.3f} | {ms[1]:8.3f} ({ms[1] / ms[0]:.3f}x) |"
                  f" {ms[2]:8.3f} ({ms[2] / ms[0]:.3f}x)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
