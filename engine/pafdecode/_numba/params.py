"""params.c: the options' range checks (pd_params_check), as the table states them,
and the record as the flushed decode reads it."""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import intrinsic

from .. import _params
from .fp import TINY, flush_denormal

RECORD_TYPE = numba.from_dtype(_params.RECORD_DTYPE)


@intrinsic
def record_in(typingctx, buf):
    """The pd_params record whose bytes `buf` holds (a uint8 view of a prepared
    record, alive for as long as the record is used). The decode entry takes the
    record as bytes because Numba types a structured array argument anew on every
    call (numba.typeof builds the record type from the dtype's fields each time),
    which was most of an empty frame's cost."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.bitcast(data, context.get_value_type(RECORD_TYPE))

    return RECORD_TYPE(buf), codegen


def _param_ok(param, value):
    """pd_param_ok: a value of the record within its row's range (the table's rules
    on the stored value; a float must be 0 or normal, since the decode flushes)."""
    if not math.isfinite(value):
        return False
    if param.off_zero and value == 0:
        return True
    if param.type == "float" and value != 0 and abs(value) < float(TINY):
        return False
    if not (value > param.minimum if param.open_min else value >= param.minimum):
        return False
    return value <= param.maximum


def check_record(record):
    """pd_params_check: raises for the first option out of its table range."""
    for param in _params.PARAMS:
        value = record[param.name].item()
        if not _param_ok(param, value):
            raise ValueError(f"{param.name} is out of range for the Numba core (got {value!r})")


def decode_record(record):
    """A private 1-element copy of `record` as the flushed decode reads it: a
    denormal float parameter is 0 there."""
    rec = np.zeros(1, _params.RECORD_DTYPE)
    rec[0] = record
    for param in _params.PARAMS:
        if param.type == "float":
            rec[param.name][0] = flush_denormal(rec[param.name][0])
    return rec


def prepared(record):
    """`record` (one RECORD_DTYPE record, 0-d or 1-element) checked, as the kernels
    take it: a flushed 1-element copy."""
    record = np.asarray(record)
    if record.dtype != _params.RECORD_DTYPE or record.size != 1:
        raise TypeError("record must be one pafdecode._params.RECORD_DTYPE record")
    record = record.reshape(())
    check_record(record)
    return decode_record(record)
