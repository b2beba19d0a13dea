"""Backend choice: the compiled C core or its Numba twin.

``backend="auto"`` takes the environment variable ``PAFDECODE_BACKEND`` when it is set,
else the compiled extension, else Numba (with one warning). An explicit ``"c"`` or
``"numba"`` is always honoured; a backend this installation lacks is an ImportError that
says how to get it.
"""

from __future__ import annotations

import importlib
import os
import warnings

__all__ = ["available_backends", "load_backend", "resolve_backend"]

BACKENDS = ("c", "numba")
ENV_VAR = "PAFDECODE_BACKEND"
_MODULES = {"c": "pafdecode._kernels", "numba": "pafdecode._numba"}
_HOW_TO_GET = {
    "c": ("the compiled extension pafdecode._kernels is not built in this installation; "
          "reinstall from source with a C compiler available (pip install pafdecode builds it)"),
    "numba": ("the Numba backend needs numba: pip install 'pafdecode[numba]' "
              "(or pip install numba)"),
}
_loaded = {}
_failures = {}
_warned = False


def load_backend(name):
    """The module implementing backend `name` ("c" or "numba").

    Raises
    ------
    ValueError
        For an unknown name.
    ImportError
        When this installation lacks the backend; the message says how to get it.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be 'auto', 'c' or 'numba', got {name!r}")
    if name not in _loaded:
        if name in _failures:
            raise ImportError(_HOW_TO_GET[name]) from _failures[name]
        try:
            _loaded[name] = importlib.import_module(_MODULES[name])
        except ImportError as exc:
            _failures[name] = exc
            raise ImportError(_HOW_TO_GET[name]) from exc
    return _loaded[name]


def available_backends():
    """Names of the backends this installation can run, preferred first."""
    found = []
    for name in BACKENDS:
        try:
            load_backend(name)
        except ImportError:
            continue
        found.append(name)
    return found


def resolve_backend(backend="auto"):
    """The backend name that `backend` ("auto", "c" or "numba") stands for here."""
    global _warned
    if backend != "auto":
        load_backend(backend)
        return backend
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced and forced != "auto":
        if forced not in BACKENDS:
            raise ValueError(f"{ENV_VAR} must be 'auto', 'c' or 'numba', got {forced!r}")
        load_backend(forced)
        return forced
    try:
        load_backend("c")
        return "c"
    except ImportError as c_missing:
        try:
            load_backend("numba")
        except ImportError:
            raise ImportError("no pafdecode backend is available: " + _HOW_TO_GET["c"] +
                              "; or " + _HOW_TO_GET["numba"]) from c_missing
        if not _warned:
            warnings.warn("pafdecode's compiled extension is missing; using the Numba "
                          "backend (" + _HOW_TO_GET["c"] + ")", RuntimeWarning, stacklevel=3)
            _warned = True
        return "numba"
