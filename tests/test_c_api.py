"""The C library in the wheel: libpafdecode, pafdecode.h, the CMake and pkg-config packages.

The shared library is loaded with ctypes from where pafdecode.c_api says it is installed
(an independent check of what ships, not of the Cython module). examples/c is built
against the installed package with CMake's find_package, with plain `cc` and with
pkg-config, and must print exactly the people the Python Decoder finds.
"""

import ctypes
import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pafdecode
from pafdecode import Decoder, DecoderConfig, Skeleton, _params, c_api, synth

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "c"
PD_OK, PD_ERR_ARGUMENT = 0, -1
BUILTINS = {0: Skeleton.openpose_coco18(), 1: Skeleton.body25()}


class _Skeleton(ctypes.Structure):
    _fields_ = [("num_keypoints", ctypes.c_int), ("num_limbs", ctypes.c_int),
                ("limb_keypoints", ctypes.POINTER(ctypes.c_int32)),
                ("limb_paf", ctypes.POINTER(ctypes.c_int32)),
                ("limb_redundant", ctypes.POINTER(ctypes.c_uint8)),
                ("limb_length", ctypes.POINTER(ctypes.c_float))]


@pytest.fixture(scope="module")
def lib():
    lib = ctypes.CDLL(c_api.library_path())
    signatures = {
        "pd_version": (ctypes.c_char_p, []),
        "pd_params_default": (None, [ctypes.c_void_p]),
        "pd_params_check": (ctypes.c_int, [ctypes.c_void_p]),
        "pd_param_count": (ctypes.c_int, []),
        "pd_param_name": (ctypes.c_char_p, [ctypes.c_int]),
        "pd_param_offset": (ctypes.c_size_t, [ctypes.c_int]),
        "pd_find_redundant_limbs": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                                   ctypes.c_void_p]),
        "pd_builtin_skeleton": (ctypes.POINTER(_Skeleton), [ctypes.c_int]),
        "pd_builtin_skeleton_name": (ctypes.c_char_p, [ctypes.c_int]),
        "pd_builtin_keypoint_name": (ctypes.c_char_p, [ctypes.c_int, ctypes.c_int]),
        "pd_builtin_paf_channels": (ctypes.c_int, [ctypes.c_int]),
    }
    for name, (restype, argtypes) in signatures.items():
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    return lib


# -- what the wheel holds ---------------------------------------------------------------

def test_the_installed_files_are_where_c_api_says():
    include = Path(c_api.include_dir())
    assert (include / "pafdecode.h").is_file()
    # The header includes the table, and it must be the table the Python layer reads.
    assert ((include / "pd_params.def").read_text()
            == (Path(_params.__file__).parent / "pd_params.def").read_text())
    assert Path(c_api.library_path()).parent == Path(c_api.library_dir())
    assert (Path(c_api.cmake_dir()) / "pafdecodeConfig.cmake").is_file()
    assert (Path(c_api.cmake_dir()) / "pafdecodeConfigVersion.cmake").is_file()
    pc = (Path(c_api.pkgconfig_dir()) / "pafdecode.pc").read_text()
    assert f"Version: {pafdecode.__version__}" in pc and "-lpafdecode" in pc
    if (ROOT / "csrc" / "pafdecode.h").is_file():
        assert (include / "pafdecode.h").read_text() == (ROOT / "csrc" / "pafdecode.h").read_text()


def test_the_library_version_is_the_package_version(lib):
    version = lib.pd_version().decode()
    assert version == importlib.metadata.version("pafdecode") == pafdecode.__version__
    assert c_api.version() == version
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():
        assert f'\nversion = "{version}"\n' in pyproject.read_text()


def _header_functions():
    text = (Path(c_api.include_dir()) / "pafdecode.h").read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return set(re.findall(r"\b(pd_[a-z0-9_]+)\s*\(", text))


def _exported(path):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm to list the dynamic symbols")
    out = subprocess.run([nm, "-D", "--defined-only", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[1] in "TtWDdBbRrVv"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF symbol tables only")
def test_the_shared_library_exports_exactly_the_header_api():
    declared = _header_functions()
    assert {"pd_decode_frame", "pd_params_default", "pd_find_redundant_limbs",
            "pd_version", "pd_builtin_skeleton"} <= declared
    exported = _exported(c_api.library_path())
    assert exported == declared, (f"exported, not declared: {sorted(exported - declared)}; "
                                  f"declared, not exported: {sorted(declared - exported)}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF symbol tables only")
def test_the_extension_module_exports_no_core_symbols():
    from pafdecode import _kernels

    exported = _exported(_kernels.__file__)
    assert "PyInit__kernels" in exported
    assert not {s for s in exported if s.startswith("pd_")}


# -- parameters -------------------------------------------------------------------------

def test_pd_params_default_is_decoder_config_default_field_by_field(lib):
    dtype = _params.RECORD_DTYPE
    assert lib.pd_param_count() == len(dtype.names)
    for i, name in enumerate(dtype.names):
        assert lib.pd_param_name(i).decode() == name
        assert lib.pd_param_offset(i) == dtype.fields[name][1]
    buffer = ctypes.create_string_buffer(dtype.itemsize)
    lib.pd_params_default(buffer)
    got = np.frombuffer(buffer.raw, dtype)[0]
    want = _params.to_record(DecoderConfig.default())
    for name in dtype.names:
        assert got[name] == want[name], name
        assert got[name].dtype == want[name].dtype
    assert lib.pd_params_check(buffer) == -1
    assert got.tobytes() == want.tobytes()


# -- skeletons --------------------------------------------------------------------------

def _redundant(lib, num_keypoints, limbs):
    limbs = np.ascontiguousarray(np.asarray(limbs, np.int32).reshape(-1, 2))
    out = np.full(len(limbs), 7, np.uint8)
    rc = lib.pd_find_redundant_limbs(num_keypoints, len(limbs), limbs.ctypes.data,
                                     out.ctypes.data)
    return rc, out


@pytest.mark.parametrize("preset", ["openpose_coco18", "body25", "coco17", "crowdpose14"])
def test_pd_find_redundant_limbs_equals_skeleton_on_presets(lib, preset):
    skeleton = getattr(Skeleton, preset)()
    rc, out = _redundant(lib, skeleton.num_keypoints, skeleton.limbs)
    assert rc == PD_OK
    assert out.astype(bool).tolist() == skeleton.redundant.tolist()
    assert out.max() <= 1


def _random_graph(rng):
    num_keypoints = int(rng.integers(1, 40))
    pairs = [(a, b) for a in range(num_keypoints) for b in range(a + 1, num_keypoints)]
    if not pairs:
        return num_keypoints, np.zeros((0, 2), np.int64)
    take = rng.permutation(len(pairs))[:int(rng.integers(0, min(len(pairs), 3 * num_keypoints) + 1))]
    limbs = np.array([pairs[i] for i in take], np.int64).reshape(-1, 2)
    flip = rng.random(len(limbs)) < 0.5
    limbs[flip] = limbs[flip][:, ::-1]
    return num_keypoints, limbs


def test_pd_find_redundant_limbs_equals_skeleton_on_random_graphs(lib):
    rng = np.random.default_rng(18)
    cycles = 0
    for _ in range(300):
        num_keypoints, limbs = _random_graph(rng)
        skeleton = Skeleton([f"k{i}" for i in range(num_keypoints)], limbs)
        rc, out = _redundant(lib, num_keypoints, limbs)
        assert rc == PD_OK
        assert out.astype(bool).tolist() == skeleton.redundant.tolist(), (num_keypoints, limbs)
        cycles += int(skeleton.redundant.any())
    assert 30 < cycles < 290  # both trees and graphs with cycles were drawn


@pytest.mark.parametrize("num_keypoints, limbs", [
    (0, []), (4097, []), (3, [(0, 3)]), (3, [(-1, 2)]), (3, [(1, 1)]), (3, [(0, 1), (2, 2)])])
def test_pd_find_redundant_limbs_refuses_bad_skeletons_and_writes_nothing(lib, num_keypoints,
                                                                          limbs):
    rc, out = _redundant(lib, num_keypoints, limbs)
    assert rc == PD_ERR_ARGUMENT
    assert (out == 7).all()
    assert lib.pd_find_redundant_limbs(3, 1, None, None) == PD_ERR_ARGUMENT
    assert lib.pd_find_redundant_limbs(3, -1, None, None) == PD_ERR_ARGUMENT


def _array(pointer, count):
    return np.ctypeslib.as_array(pointer, shape=(count,)).copy() if count else np.zeros(0)


@pytest.mark.parametrize("which", sorted(BUILTINS))
def test_builtin_skeletons_are_the_python_presets(lib, which):
    skeleton = BUILTINS[which]
    c = lib.pd_builtin_skeleton(which).contents
    assert lib.pd_builtin_skeleton_name(which).decode() == skeleton.name
    assert (c.num_keypoints, c.num_limbs) == (skeleton.num_keypoints, skeleton.num_limbs)
    assert _array(c.limb_keypoints, 2 * c.num_limbs).tolist() == skeleton.limbs.ravel().tolist()
    assert _array(c.limb_paf, 2 * c.num_limbs).tolist() == skeleton.paf_channels.ravel().tolist()
    assert (_array(c.limb_redundant, c.num_limbs).astype(bool).tolist()
            == skeleton.redundant.tolist())
    assert (_array(c.limb_length, c.num_limbs).astype(np.float32).tolist()
            == skeleton.limb_lengths.tolist())
    names = tuple(lib.pd_builtin_keypoint_name(which, k).decode()
                  for k in range(c.num_keypoints))
    assert names == skeleton.keypoints
    assert lib.pd_builtin_keypoint_name(which, c.num_keypoints) is None
    assert lib.pd_builtin_keypoint_name(which, -1) is None
    assert lib.pd_builtin_paf_channels(which) == skeleton.num_paf_channels


def test_builtin_skeleton_ids_end_with_null(lib):
    assert not lib.pd_builtin_skeleton(len(BUILTINS))
    assert not lib.pd_builtin_skeleton(-1)
    assert lib.pd_builtin_skeleton_name(len(BUILTINS)) is None
    assert lib.pd_builtin_paf_channels(-1) == PD_ERR_ARGUMENT


# -- the example, built against the installed package ---------------------------------

def _compiler():
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler (cc, gcc or clang) on PATH")
    if not (EXAMPLE / "decode_fields.c").is_file():
        pytest.skip("no examples/c beside the tests")
    return compiler


def _run(cmd, **kwargs):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build_with_cmake(out_dir, *cache_args):
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("no cmake on PATH")
    _compiler()
    build = out_dir / "build"
    _run([cmake, "-S", str(EXAMPLE), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
          *cache_args])
    _run([cmake, "--build", str(build)])
    return build / "decode_fields"


def _build_with_cc(out_dir):
    compiler = _compiler()
    binary = out_dir / "decode_fields"
    libdir = c_api.library_dir()
    _run([compiler, "-std=c99", "-O2", "-Wall", "-Werror", str(EXAMPLE / "decode_fields.c"),
          f"-I{c_api.include_dir()}", f"-L{libdir}", f"-Wl,-rpath,{libdir}", "-lpafdecode",
          "-o", str(binary)])
    return binary


def _build_with_pkg_config(out_dir):
    compiler = _compiler()
    pkg_config = shutil.which("pkg-config") or shutil.which("pkgconf")
    if pkg_config is None:
        pytest.skip("no pkg-config on PATH")
    env = {"PKG_CONFIG_PATH": c_api.pkgconfig_dir(), "PATH": "/usr/bin:/bin"}
    flags = _run([pkg_config, "--cflags", "--libs", "pafdecode"], env=env).split()
    binary = out_dir / "decode_fields"
    _run([compiler, "-std=c99", "-O2", str(EXAMPLE / "decode_fields.c"), *flags, "-o",
          str(binary)])
    return binary


BUILDS = {
    "cmake-prefix-path": lambda d: _build_with_cmake(d, f"-DCMAKE_PREFIX_PATH={c_api.cmake_dir()}"),
    "cmake-pafdecode-dir": lambda d: _build_with_cmake(d, f"-Dpafdecode_DIR={c_api.cmake_dir()}"),
    "cc": _build_with_cc,
    "pkg-config": _build_with_pkg_config,
}


@pytest.fixture(scope="module", params=sorted(BUILDS))
def example(request, tmp_path_factory):
    return BUILDS[request.param](tmp_path_factory.mktemp(request.param))


def test_the_cmake_package_accepts_only_its_own_minor_version(tmp_path):
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("no cmake on PATH")
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(probe NONE)\n"
        "find_package(pafdecode ${WANT} CONFIG REQUIRED)\n"
        "get_target_property(inc pafdecode::pafdecode INTERFACE_INCLUDE_DIRECTORIES)\n"
        "message(STATUS \"pafdecode ${pafdecode_VERSION} include ${inc}\")\n")
    major, minor, *_ = pafdecode.__version__.split(".")

    def configure(want, build):
        return subprocess.run([cmake, "-S", str(tmp_path), "-B", str(tmp_path / build),
                               f"-DWANT={want}", f"-Dpafdecode_DIR={c_api.cmake_dir()}"],
                              capture_output=True, text=True, timeout=120)

    same = configure(f"{major}.{minor}", "same")
    assert same.returncode == 0, same.stderr
    assert f"include {c_api.include_dir()}" in same.stdout.replace("//", "/")
    for other in (f"{major}.{int(minor) + 1}", f"{int(major) + 1}.{minor}"):
        refused = configure(other, other)
        assert refused.returncode != 0 and "not compatible" in refused.stderr.replace("\n", " ")


_PERSON = re.compile(r"^person (\d+) score (\S+):(.*)$")


def _parse_people(text, skeleton, height, width):
    lines = text.splitlines()
    header = re.fullmatch(r"pafdecode (\S+): (\S+), (\d+) x (\d+) maps, (\d+) people", lines[0])
    assert header, lines[0]
    assert header.group(1) == pafdecode.__version__ and header.group(2) == skeleton.name
    assert (int(header.group(3)), int(header.group(4))) == (height, width)
    count = int(header.group(5))
    assert len(lines) == 1 + count
    keypoints = np.zeros((count, skeleton.num_keypoints, 3), np.float32)
    scores = np.zeros(count, np.float32)
    for p, line in enumerate(lines[1:]):
        match = _PERSON.match(line)
        assert match and int(match.group(1)) == p, line
        scores[p] = np.float32(match.group(2))
        parts = [part.split() for part in match.group(3).split(";")]
        assert [part[0] for part in parts] == list(skeleton.keypoints)
        keypoints[p] = np.array([[float(v) for v in part[1:]] for part in parts], np.float32)
    return keypoints, scores


@pytest.mark.parametrize("which, seed, background", [
    (0, 1, True), (0, 2, False), (1, 3, True), (1, 4, False)])
def test_the_example_prints_the_people_the_python_decoder_finds(example, tmp_path, which, seed,
                                                                 background):
    skeleton = BUILTINS[which]
    scene = synth.crowd_scene(8, seed, skeleton=skeleton, occlusion=0.1, noise=0.02,
                              background=background)
    raw = tmp_path / "fields.raw"
    with raw.open("wb") as f:
        f.write(np.ascontiguousarray(scene.heatmaps, np.float32).tobytes())
        f.write(np.ascontiguousarray(scene.pafs, np.float32).tobytes())
    _, height, width = scene.heatmaps.shape
    out = _run([str(example), skeleton.name, str(raw), str(height), str(width),
                str(scene.heatmaps.shape[0])])
    keypoints, scores = _parse_people(out, skeleton, height, width)
    poses = Decoder(skeleton, backend="c")(scene.heatmaps, scene.pafs)
    assert len(poses) >= 4  # a crowd was found, not an empty frame
    np.testing.assert_array_equal(keypoints, poses.keypoints)
    np.testing.assert_array_equal(scores, poses.scores)


def test_the_example_refuses_a_file_of_the_wrong_size(example, tmp_path):
    raw = tmp_path / "short.raw"
    raw.write_bytes(np.zeros(10, np.float32).tobytes())
    done = subprocess.run([str(example), "COCO-18", str(raw), "46", "82", "19"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "holds 40 bytes, expected" in done.stderr
    done = subprocess.run([str(example), "MPII", str(raw), "46", "82", "19"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown skeleton 'MPII'" in done.stderr


_CXX_PROGRAM = r"""
#include <pafdecode.h>
#include <cstdio>
#include <vector>

int main() {
    pd_params params;
    pd_params_default(&params);
    const pd_skeleton *body25 = pd_builtin_skeleton(PD_SKELETON_BODY25);
    std::vector<uint8_t> redundant(body25->num_limbs);
    int rc = pd_find_redundant_limbs(body25->num_keypoints, body25->num_limbs,
                                     body25->limb_keypoints, redundant.data());
    int same = 1;
    for (int i = 0; i < body25->num_limbs; i++) same &= redundant[i] == body25->limb_redundant[i];
    std::printf("%s %d %d %d %g\n", pd_version(), rc, same, pd_check_params(body25, &params),
                params.stride);
    return 0;
}
"""


def test_the_header_serves_a_cxx_program(tmp_path):
    compiler = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if compiler is None:
        pytest.skip("no C++ compiler (c++, g++ or clang++) on PATH")
    source = tmp_path / "app.cpp"
    source.write_text(_CXX_PROGRAM)
    binary = tmp_path / "app"
    libdir = c_api.library_dir()
    _run([compiler, "-std=c++11", "-Wall", "-Werror", str(source), f"-I{c_api.include_dir()}",
          f"-L{libdir}", f"-Wl,-rpath,{libdir}", "-lpafdecode", "-o", str(binary)])
    version, rc, same, check, stride = _run([str(binary)]).split()
    assert version == pafdecode.__version__ and (rc, same, check) == ("0", "1", "0")
    assert float(stride) == DecoderConfig.default().stride


# -- python -m pafdecode.c_api ----------------------------------------------------------

def test_the_c_api_command_prints_locations_and_flags(capsys):
    assert c_api.main(["--cmake-dir", "--include-dir"]) == 0
    assert capsys.readouterr().out.splitlines() == [c_api.include_dir(), c_api.cmake_dir()]
    assert c_api.main(["--cflags", "--libs"]) == 0
    flags = capsys.readouterr().out.split()
    assert flags == [f"-I{c_api.include_dir()}", f"-L{c_api.library_dir()}",
                     f"-Wl,-rpath,{c_api.library_dir()}", "-lpafdecode"]
    assert c_api.main([]) == 2
