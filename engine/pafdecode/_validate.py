"""Argument checks shared by the public modules: a ValueError that names the argument
and what was expected."""

from __future__ import annotations

import math
import numbers

import numpy as np


def integer(value, name, minimum=None, maximum=None):
    """`value` as an int (integral floats such as 3.0 accepted) within the bounds."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        result = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        result = int(value)
    else:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    too_low = minimum is not None and result < minimum
    too_high = maximum is not None and result > maximum
    if too_low or too_high:
        if minimum is not None and maximum is not None:
            raise ValueError(f"{name} must be in {minimum}..{maximum}, got {result}")
        bound = f">= {minimum}" if too_low else f"<= {maximum}"
        raise ValueError(f"{name} must be {bound}, got {result}")
    return result


def real(value, name, minimum=None, maximum=None, min_inclusive=True, max_inclusive=True):
    """`value` as a finite float within the bounds (each inclusive unless told)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    if minimum is not None and (result < minimum or (result == minimum and not min_inclusive)):
        raise ValueError(f"{name} must be {'>=' if min_inclusive else '>'} {minimum:g}, "
                         f"got {result:g}")
    if maximum is not None and (result > maximum or (result == maximum and not max_inclusive)):
        raise ValueError(f"{name} must be {'<=' if max_inclusive else '<'} {maximum:g}, "
                         f"got {result:g}")
    return result
