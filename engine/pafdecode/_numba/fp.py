"""The floating-point environment and raw memory views the kernels share
(sort.c's pd_enter_flush_denormals; the pointer casts C gets for free).

The C decode entry points set the x86 flush-to-zero and denormals-are-zero flags
for the duration of a decode: a float32 or float64 denormal then reads as 0 and a
result that would be one is 0, in every operation, logf included. The twin sets the
same MXCSR bits, so its arithmetic is the C core's bit for bit, and restores the
caller's mode after. Elsewhere C leaves the mode alone, and so does this. (Where C
has no MXCSR, neither does this.)
"""

from __future__ import annotations

import platform

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# error_model="numpy": a float division by zero gives Inf or NaN, as in C, instead of
# raising ZeroDivisionError.
jit = njit(nogil=True, cache=True, error_model="numpy")
# For the helpers called in hot loops: inlined in Numba's IR, so that the arrays of
# the state tuples they take are not reference-counted at every call (a separate
# call increments and decrements every array of every tuple it is passed).
inline = njit(nogil=True, cache=True, error_model="numpy", inline="always")
# For loops that only read and write arrays they are given (no allocation): compiled
# without the runtime's reference counting (Numba's `_nrt` option), so that neither a
# call nor an inlined helper counts a reference to each array it is passed, an atomic
# operation per array per call (most of the joining pass's time on a crowded map
# before this). Such a function must not create an array that outlives it, nor
# call one that allocates or returns an array it did not get: the jit functions it
# calls are compiled without reference counting too (Numba passes the option on).
borrowing = njit(nogil=True, cache=True, error_model="numpy", _nrt=False)

PD_OK = 0
PD_ERR_ARGUMENT = -1

F0 = np.float32(0.0)
FHALF = np.float32(0.5)
F2 = np.float32(2.0)
FINF = np.float32(np.inf)
FMAX = np.float32(np.finfo(np.float32).max)
TINY = np.float32(np.finfo(np.float32).tiny)

HAVE_MXCSR = platform.machine().lower() in ("x86_64", "amd64")
_FLUSH_BITS = 0x8040  # FTZ (bit 15) and DAZ (bit 6)


def _mxcsr_call(builder, name, slot):
    fnty = ir.FunctionType(ir.VoidType(), [slot.type])
    builder.call(cgutils.get_or_insert_function(builder.module, fnty, name), [slot])


@intrinsic
def get_fp_mode(typingctx):
    """The calling thread's MXCSR (0 where there is none)."""
    sig = types.uint32()

    def codegen(context, builder, signature, args):
        if not HAVE_MXCSR:
            return ir.Constant(ir.IntType(32), 0)
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)

    return sig, codegen


@intrinsic
def set_fp_mode(typingctx, value):
    """Sets the calling thread's MXCSR (nothing where there is none)."""
    sig = types.void(types.uint32)

    def codegen(context, builder, signature, args):
        if HAVE_MXCSR:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return sig, codegen


@jit
def enter_flush_denormals():
    saved = get_fp_mode()
    if HAVE_MXCSR:
        set_fp_mode(saved | np.uint32(_FLUSH_BITS))
    return saved


@jit
def leave_flush_denormals(saved):
    if HAVE_MXCSR:
        set_fp_mode(saved)


def flush_denormal(value):
    """A float32 parameter as the flags make C read it (a denormal is 0)."""
    value = np.float32(value)
    return value * np.float32(0.0) if abs(value) < TINY else value


@intrinsic
def f32_pointer(typingctx, address):
    """An integer address as a float32 pointer (to view contiguous rows of an 'A'
    array as C arrays, whose loops vectorise)."""
    sig = types.CPointer(types.float32)(types.intp)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.float32)))

    return sig, codegen


@jit
def row_of(src, y):
    """Row y of a 2-D float32 array whose rows are contiguous, as a C array."""
    address = np.intp(src.ctypes.data) + np.intp(y) * np.intp(src.strides[0])
    return numba.carray(f32_pointer(address), src.shape[1])


@jit
def flat_plane(src):
    """A 2-D float32 array that is C-contiguous (a channel of a CHW array) as a flat
    C array over the same memory."""
    return numba.carray(f32_pointer(np.intp(src.ctypes.data)), src.shape[0] * src.shape[1])


@jit
def fp_mode_entry():
    return get_fp_mode()


@jit
def set_fp_mode_entry(value):
    set_fp_mode(value)
