"""Code lines of the package (C and Python, without tests) at git commits: lines that
hold code, not blanks, comments or docstrings, per file of csrc/ and engine/pafdecode/.

Run: python bench/codesize.py [COMMIT ...]       (default: HEAD)
     python bench/codesize.py --files OLD NEW     (per-file lines, grown and new files)

Python and Cython are read with the tokenize module: a line counts when it holds a
token other than a comment or a string that stands alone as a statement (a
docstring, or a string used as a comment). C drops // and /* */ comments."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tokenize

ROOTS = ("csrc", "engine/pafdecode")
PY_SUFFIXES = (".py", ".pyx", ".pxd")
C_SUFFIXES = (".c", ".h", ".def")
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENDMARKER, tokenize.ENCODING}


def python_lines(text):
    """The code lines of a Python (or Cython) source."""
    lines = set()
    statement = []  # the current logical line's tokens
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if not all(t.type == tokenize.STRING for t in statement):
                for t in statement:
                    lines.update(range(t.start[0], t.end[0] + 1))
            statement = []
        elif tok.type not in _SKIP:
            statement.append(tok)
    return len(lines)


_C_COMMENT = re.compile(r'//[^\n]*|/\*.*?\*/|("(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\')', re.S)


def c_lines(text):
    """The code lines of a C source: comments removed (strings kept), blanks dropped."""
    def keep(match):
        if match.group(1):
            return match.group(1)
        return "\n" * match.group(0).count("\n")

    return sum(1 for line in _C_COMMENT.sub(keep, text).splitlines() if line.strip())


def _git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def sizes(commit):
    """{path: code lines} over the package's sources at `commit`."""
    out = {}
    for path in _git("ls-tree", "-r", "--name-only", commit, "--", *ROOTS).split():
        if path.endswith(PY_SUFFIXES):
            count = python_lines
        elif path.endswith(C_SUFFIXES):
            count = c_lines
        else:
            continue
        out[path] = count(_git("show", f"{commit}:{path}"))
    return out


def _totals(table):
    c = sum(n for p, n in table.items() if p.endswith(C_SUFFIXES))
    return c, sum(table.values()) - c


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="*", default=["HEAD"])
    parser.add_argument("--files", action="store_true",
                        help="per file: two commits, the files that grew and the new ones")
    args = parser.parse_args(argv)
    if args.files:
        if len(args.commits) != 2:
            parser.error("--files compares two commits")
        old, new = (sizes(c) for c in args.commits)
        for path in sorted(set(old) | set(new)):
            a, b = old.get(path), new.get(path)
            if a != b:
                mark = "new" if a is None else ("gone" if b is None else f"{b - (a or 0):+d}")
                print(f"{path:45s} {a if a is not None else '-':>6} {b if b is not None else '-':>6}"
                      f"  {mark}")
        return
    print(f"{'commit':12s} {'C':>7} {'Python':>7} {'total':>7}")
    for commit in args.commits:
        c, py = _totals(sizes(commit))
        print(f"{commit:12s} {c:7d} {py:7d} {c + py:7d}")


if __name__ == "__main__":
    sys.exit(main())
