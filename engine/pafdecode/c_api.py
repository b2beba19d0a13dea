"""Where the installed C library is, for C and C++ builds against pafdecode.

The wheel carries the decoding core as a C library beside the Python package:
``libpafdecode`` (shared), the header ``pafdecode.h`` (with the parameter table
``pd_params.def`` it includes), a CMake package and a pkg-config file. These
functions return their directories, as ``numpy.get_include()`` does for NumPy::

    cmake -S . -B build -DCMAKE_PREFIX_PATH="$(python -m pafdecode.c_api --cmake-dir)"
    # CMakeLists.txt: find_package(pafdecode CONFIG REQUIRED)
    #                 target_link_libraries(app PRIVATE pafdecode::pafdecode)

    cc app.c $(python -m pafdecode.c_api --cflags --libs)

``examples/c`` in the source tree is a complete program. The header says which
guarantees hold across versions; :func:`version` is the version the library
reports (``pd_version()``), the package's own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["include_dir", "library_dir", "cmake_dir", "pkgconfig_dir", "library_path",
           "version", "main"]

_ROOT = Path(__file__).resolve().parent


def _installed(path, what):
    if not path.exists():
        raise FileNotFoundError(
            f"pafdecode's C {what} is not at {path}: this pafdecode was not installed "
            "from a wheel or `pip install .` that builds the C library")
    return str(path)


def include_dir() -> str:
    """The directory holding ``pafdecode.h`` and ``pd_params.def``."""
    return _installed(_ROOT / "include", "header directory")


def library_dir() -> str:
    """The directory holding the shared library ``libpafdecode``."""
    return _installed(_ROOT / "lib", "library directory")


def cmake_dir() -> str:
    """The directory holding ``pafdecodeConfig.cmake``: pass it as
    ``-Dpafdecode_DIR=`` or in ``CMAKE_PREFIX_PATH`` for ``find_package(pafdecode)``."""
    return _installed(_ROOT / "lib" / "cmake" / "pafdecode", "CMake package")


def pkgconfig_dir() -> str:
    """The directory holding ``pafdecode.pc``, for ``PKG_CONFIG_PATH``."""
    return _installed(_ROOT / "lib" / "pkgconfig", "pkg-config directory")


def library_path() -> str:
    """The shared library's file (``libpafdecode.so``, ``.dylib`` or ``pafdecode.dll``)."""
    name = {"win32": "pafdecode.dll", "darwin": "libpafdecode.dylib"}.get(
        sys.platform, "libpafdecode.so")
    return _installed(_ROOT / "lib" / name, "shared library")


def version() -> str:
    """``pd_version()`` of the installed shared library (loaded with ctypes)."""
    import ctypes

    lib = ctypes.CDLL(library_path())
    lib.pd_version.restype = ctypes.c_char_p
    lib.pd_version.argtypes = []
    return lib.pd_version().decode()


def main(argv=None) -> int:
    """``python -m pafdecode.c_api``: print the locations and flags asked for, one per line."""
    parser = argparse.ArgumentParser(prog="python -m pafdecode.c_api",
                                     description="Where pafdecode's C library is installed.")
    parser.add_argument("--include-dir", action="store_true", help="the header directory")
    parser.add_argument("--library-dir", action="store_true", help="the library directory")
    parser.add_argument("--cmake-dir", action="store_true", help="the CMake package directory")
    parser.add_argument("--pkgconfig-dir", action="store_true", help="the .pc directory")
    parser.add_argument("--cflags", action="store_true", help="compiler flags")
    parser.add_argument("--libs", action="store_true", help="linker flags, with an rpath")
    args = parser.parse_args(argv)
    try:
        lines = [fn() for flag, fn in (("include_dir", include_dir), ("library_dir", library_dir),
                                       ("cmake_dir", cmake_dir),
                                       ("pkgconfig_dir", pkgconfig_dir)) if getattr(args, flag)]
        flags = []
        if args.cflags:
            flags.append(f"-I{include_dir()}")
        if args.libs:
            flags += [f"-L{library_dir()}", f"-Wl,-rpath,{library_dir()}", "-lpafdecode"]
    except FileNotFoundError as exc:
        print(f"pafdecode: {exc}", file=sys.stderr)
        return 1
    if flags:
        lines.append(" ".join(flags))
    if not lines:
        parser.print_usage(sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
