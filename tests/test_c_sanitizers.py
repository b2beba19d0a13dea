"""The C core under AddressSanitizer and UndefinedBehaviorSanitizer, on random frames.

Builds csrc/ with tests/c/fuzz_decode.c from the source tree; skipped, with the reason,
where no C compiler with the sanitizers is at hand. 20,000 frames by default;
PAFDECODE_FUZZ_FRAMES=1000000 asks for the long run.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "csrc").glob("*.c"))


@pytest.fixture(scope="module")
def fuzz_binary(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None or not SOURCES:
        pytest.skip("no C compiler, or no csrc/ beside the tests")
    out = tmp_path_factory.mktemp("fuzz") / "fuzz_decode"
    cmd = [compiler, "-std=c99", "-O1", "-g", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-fno-math-errno", "-fno-trapping-math",
           f"-I{ROOT / 'csrc'}", str(ROOT / "tests" / "c" / "fuzz_decode.c"),
           *map(str, SOURCES), "-lm", "-o", str(out)]
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"cannot build with the sanitizers here: {built.stderr.strip()[:300]}")
    return out


FRAMES = int(os.environ.get("PAFDECODE_FUZZ_FRAMES", "20000"))


def test_random_frames_are_clean_under_sanitizers(fuzz_binary):
    run = subprocess.run([str(fuzz_binary), str(FRAMES)], capture_output=True, text=True,
                         env={"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"},
                         timeout=max(300, FRAMES // 20))
    assert run.returncode == 0, run.stdout + run.stderr
    # Every frame also had one option pushed past its range refused by its index.
    assert f"{FRAMES} random frames" in run.stdout and "clean" in run.stdout
