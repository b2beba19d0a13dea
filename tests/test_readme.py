"""Every ```python block of README.md runs as pasted, against the installed package.

Each block is one test: it is executed in a fresh namespace, with a fresh temporary
directory as the working directory, so a block can only rely on what it imports and on
the files named below. Blocks fenced with plain ``` (shell commands) are not run here.

Shared data. README snippets name files the way a user would (``"photo.jpg"``,
``"tfpose-mobilenet-thin.onnx"``). When a block mentions one of the names in SHARED_FILES,
the test links that file from the shared folder (``../shared`` beside the project, or
``$PAFDECODE_SHARED``) into the block's working directory under that name, and skips with
the reason when the shared folder is absent. To give a new snippet a real file, add its
name here.
"""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# The name a README snippet uses -> the file in the shared folder it stands for.
SHARED_FILES = {
    "tfpose-mobilenet-thin.onnx": "models/tfpose-mobilenet-thin.onnx",
    "tfpose-mobilenet-v2-small.onnx": "models/tfpose-mobilenet-v2-small.onnx",
    "photo.jpg": "data/images/p3.jpg",
    "example_coco_val.json": "data/eval-fixtures/example_coco_val.json",
    "example_coco_preds.json": "data/eval-fixtures/example_coco_preds.json",
}

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text):
    """(first line number, source) of each ```python block of a Markdown text."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _FENCE.finditer(text)]


def _shared_dir():
    env = os.environ.get("PAFDECODE_SHARED")
    path = Path(env) if env else README.parent.parent / "shared"
    return path if path.is_dir() else None


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 4, "README.md lost its snippets"


def test_block_extraction():
    text = "intro\n```python\nx = 1\n```\n```\nshell only\n```\n```python\ny = 2\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = 2\n")]


@pytest.mark.parametrize(("line", "source"), BLOCKS,
                         ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_snippet(line, source, tmp_path, monkeypatch):
    needed = [name for name in SHARED_FILES if name in source]
    if needed:
        shared = _shared_dir()
        if shared is None:
            pytest.skip(f"this snippet needs {', '.join(needed)} from ../shared (real models "
                        "and data), which is absent; set PAFDECODE_SHARED to it")
        for name in needed:
            target = shared / SHARED_FILES[name]
            if not target.is_file():
                pytest.skip(f"{target} is missing from the shared folder")
            (tmp_path / name).symlink_to(target)
    monkeypatch.chdir(tmp_path)
    # Padded so that a traceback names the README's own line numbers.
    code = compile("\n" * (line - 1) + source, str(README), "exec")
    exec(code, {"__name__": "__readme__"})
