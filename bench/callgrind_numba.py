"""Instructions per frame on rendered crowds for the Numba twin, under callgrind: the
counts of bench/callgrind_crowd.py (the C core's) for the other backend.

    python bench/callgrind_numba.py --people 1 5 20 50 100 200 --size-model shrinking
    python bench/callgrind_numba.py --people 20 100 --size-model shrinking --assignment hungarian
    python bench/callgrind_numba.py --people 20 100 --size-model shrinking --scenes 5
    python bench/callgrind_numba.py --people 20 100 --size-model shrinking --layer decoder
    python bench/callgrind_numba.py --people 20 100 --size-model shrinking --layer decoder \
        --backend c

The crowds and the cache are callgrind_crowd's (``scene_fields``). Each count is one
Python process under ``valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no``:
nothing is instrumented until just before it decodes the crowd once (instrumented, not
collected, so that loading and first calls stay out), then twice between two
CALLGRIND_TOGGLE_COLLECT client requests (a small C library built here), and the script
prints half of the instructions collected.

``--layer twin`` (default): the toggles are called from inside an njit function around its
calls of the twin's ``decode_entry``, so the count is the compiled decode alone (its own
allocations included), no Python, no dispatcher. ``--layer decoder``: the toggles are called
from Python (ctypes) around ``Decoder.__call__`` of ``--backend``, so the count includes the
Python layer; ``decoder`` minus ``twin`` is that layer for Numba, ``decoder --backend c``
minus callgrind_crowd.py's count the same for C.

Two things keep Numba from compiling under valgrind (minutes natively, far more there):
valgrind shows the program a Haswell CPU, which misses Numba's on-disk cache (keyed on
the CPU), so every process is given this machine's CPU name and features as seen outside
valgrind (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES: the code counted is the code this machine
runs); and one process outside valgrind fills the cache first (the twin's entry points,
and the njit wrapper compiled afresh each time, since it links its own copy of
``decode_entry`` that a changed twin would leave stale). A counting process whose wrapper
is not in the cache (this file edited since the warm-up) stops instead of compiling.
"""

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import llvmlite.binding as ll
import numpy as np
from llvmlite import ir
from numba import njit, typeof, types
from numba.core import cgutils
from numba.core.codegen import get_host_cpu_features
from numba.extending import intrinsic

from pafdecode import Decoder, DecoderConfig, _numba
from pafdecode._numba.decode import decode_entry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from callgrind_crowd import (COCO, c_compiler, callgrind_count, scene_fields,  # noqa: E402
                             scene_means)

MARKS = r"""
#include <valgrind/callgrind.h>
void pd_cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void pd_cg_instrument(void) { CALLGRIND_START_INSTRUMENTATION; }
"""


def build_marks(cache):
    """The shared library of the two client requests, built in the cache folder."""
    compiler = c_compiler("callgrind_numba")
    Path(cache).mkdir(parents=True, exist_ok=True)
    source, library = Path(cache) / "cg-marks.c", Path(cache) / "libcgmarks.so"
    source.write_text(MARKS)
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", str(source), "-o", str(library)],
                   check=True)
    return library


@intrinsic
def _toggle(typingctx):
    """CALLGRIND_TOGGLE_COLLECT from compiled code (the marks library's pd_cg_toggle)."""
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.VoidType(), [])
        builder.call(cgutils.get_or_insert_function(builder.module, fnty, "pd_cg_toggle"), [])
        return context.get_dummy_value()
    return types.void(), codegen


@njit(nogil=True, cache=True)
def decode_counted(heat, paf, limb_kp, limb_paf, redundant, K, tree, rec_bytes, limb_len,
                   runs, count):
    """decode_entry `runs` times, between two toggles when `count`."""
    if count:
        _toggle()
    result = decode_entry(heat, paf, limb_kp, limb_paf, redundant, K, tree, rec_bytes, limb_len)
    for _ in range(runs - 1):
        result = decode_entry(heat, paf, limb_kp, limb_paf, redundant, K, tree, rec_bytes,
                              limb_len)
    if count:
        _toggle()
    return result


def child(args):
    """One crowd's decodes (under valgrind when args.count): prints the people found."""
    library = str(Path(args.cache) / "libcgmarks.so")
    marks = ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
    ll.load_library_permanently(library)
    heat, paf = scene_fields(args.people[0], args.cache, args.size_model, args.scene)
    decoder = Decoder(COCO, DecoderConfig(), backend=args.backend, assignment=args.assignment)
    if args.count:
        marks.pd_cg_instrument()
    if args.layer == "decoder":
        decoder(heat, paf)
        if args.count:
            marks.pd_cg_toggle()
        for _ in range(2):
            found = len(decoder(heat, paf))
        if args.count:
            marks.pd_cg_toggle()
    else:
        _numba.warm_up()  # decode_entry's one specialisation, compilation then disabled
        core = decoder._core
        heat4 = np.ascontiguousarray(heat[:COCO.num_keypoints], np.float32)[np.newaxis]
        paf4 = np.ascontiguousarray(paf, np.float32)[np.newaxis]
        fixed = (core._limb_kp, core._limb_paf, core._limb_redundant, core._num_keypoints,
                 core._tree, core._record_bytes, core._limb_len)
        call = (heat4, paf4, *fixed, 2, args.count)
        if args.fresh:
            decode_counted._cache.flush()
        elif decode_counted._cache.load_overload(tuple(map(typeof, call)),
                                                 decode_counted.targetctx) is None:
            raise SystemExit("callgrind_numba: the wrapper is not in Numba's cache (this "
                             "file changed since the warm-up?): it would compile here")
        decode_counted(heat4, paf4, *fixed, 1, False)
        found = decode_counted(*call)[0].shape[0]
    print(found, flush=True)


def host_cpu_env():
    """The environment with Numba pinned to this machine's CPU (as seen outside valgrind)."""
    return {**os.environ, "NUMBA_CPU_NAME": ll.get_host_cpu_name(),
            "NUMBA_CPU_FEATURES": get_host_cpu_features()}


def count_instructions(command, env):
    """Instructions of one decode collected by callgrind, the people found, the seconds."""
    start = time.perf_counter()
    instructions, found = callgrind_count(command, ["--instr-atstart=no",
                                                    "--collect-atstart=no"], env)
    return instructions, found, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1, 5, 20, 50, 100, 200])
    parser.add_argument("--assignment", choices=["greedy", "hungarian"], default="greedy")
    parser.add_argument("--size-model", choices=["constant", "shrinking"], default="constant")
    parser.add_argument("--layer", choices=["twin", "decoder"], default="twin",
                        help="count the twin's compiled decode alone, or Decoder.__call__")
    parser.add_argument("--backend", choices=["numba", "c"], default="numba",
                        help="the Decoder's backend (--layer decoder only)")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "pafdecode-crowds"))
    parser.add_argument("--scenes", type=int, default=1,
                        help="crowds per count, as callgrind_crowd.py's; each figure is their mean")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--scene", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.layer == "twin" and args.backend != "numba":
        parser.error("--layer twin counts the Numba twin; --backend c needs --layer decoder")
    if args.child:
        return child(args)
    build_marks(args.cache)
    env = host_cpu_env()
    base = [sys.executable, str(Path(__file__).resolve()), "--child", "--cache", args.cache,
            "--assignment", args.assignment, "--size-model", args.size_model,
            "--layer", args.layer, "--backend", args.backend]
    for n in args.people:
        for scene in range(args.scenes):
            scene_fields(n, args.cache, args.size_model, scene)
    # Fills Numba's cache outside valgrind (the wrapper afresh), with the same CPU.
    subprocess.run([*base, "--people", str(args.people[0]), "--fresh"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    rows = []
    for n in args.people:
        counts = [count_instructions([*base, "--people", str(n), "--scene", str(scene),
                                      "--count"], env) for scene in range(args.scenes)]
        instructions, found = scene_means(counts)
        seconds = sum(c[2] for c in counts)
        rows.append({"people": n, "found": found, "instructions": instructions,
                     "valgrind_s": round(seconds, 1), "per_scene": [c[:2] for c in counts]})
        print(f"{n:4d} people  {found:4d} found  {instructions:12,d} instructions"
              f"  ({instructions / max(n, 1):,.0f} a person)  [{seconds:.0f} s under valgrind]",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
