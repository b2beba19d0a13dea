"""The decoder's parameter table, read from ``pd_params.def``.

``csrc/pd_params.def`` is the single source of every decoder option: the C core
expands it into ``pd_params``, its defaults and its checks, and the build installs it
beside this module, which parses it into :data:`PARAMS`. From it come
:class:`pafdecode.DecoderConfig`, the validation of every value and
:data:`RECORD_DTYPE`, a NumPy structured type laid out as the C struct, which the Numba
twin reads by field name and the Cython binding copies into ``pd_params`` (it checks
the layout against the C core's own offsets when it loads).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["PARAMS", "RECORD_DTYPE", "Param", "to_record", "markdown_table"]

_TYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "enum": np.int32}
_ROW = re.compile(
    r'^PD_PARAM\(\s*(\w+),\s*(\w+),\s*([^,]+),\s*([^,]+),\s*([^,]+),\s*([^,]+),'
    r'\s*"([^"]*)",\s*(\w+),\s*"([^"]*)"\s*\)\s*$')
_FLT_TINY = float(np.finfo(np.float32).tiny)
_FLT_MAX = float(np.finfo(np.float32).max)
_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Param:
    """One row of the table; see ``csrc/pd_params.def`` for the columns."""

    name: str
    type: str
    default: object        # the Python default: None for an option off by default
    minimum: float
    maximum: float
    open_min: bool
    off_zero: bool         # 0 in C, None in Python: off
    choices: tuple
    stage: str
    doc: str

    def range_text(self):
        """The accepted values, as the error messages and the docs say them."""
        if self.type == "enum":
            text = " or ".join(repr(c) for c in self.choices)
        elif self.type == "int":
            text = f"an integer in {_num(self.minimum)}..{_num(self.maximum)}"
        elif math.isinf(self.maximum):
            text = f"a number {'>' if self.open_min else '>='} {_num(self.minimum)}"
        else:
            low = "(" if self.open_min else "["
            text = f"a number in {low}{_num(self.minimum)}, {_num(self.maximum)}]"
        return text + (" or None (off)" if self.off_zero else "")

    def check(self, value):
        """`value` validated and normalised (int, float, str or None).

        Raises
        ------
        TypeError
            For a value of the wrong kind (a string for a number, a bool, ...).
        ValueError
            For a value out of range; the message names the option, the value as given
            and the range.
        """
        if value is None:
            if self.off_zero:
                return None
            raise ValueError(f"{self.name} must be {self.range_text()}, got None")
        if self.type == "enum":
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{self.name} must be {self.range_text()}, got {value!r}")
        if self.type == "int":
            return self._check_int(value)
        return self._check_real(value)

    def _check_int(self, value):
        if not isinstance(value, numbers.Integral):
            if not (math.isfinite(float(value)) and float(value).is_integer()):
                raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        result = int(value)
        if not self.minimum <= result <= self.maximum:
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        return result

    def _check_real(self, value):
        result = float(value)
        if not self._in_range(result):
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        if self.type == "float":
            # The core holds float32, and its decode flushes float32 denormals to
            # zero: the stored value must be in range too, and not silently 0 (for
            # some options "off").
            stored = float(np.float32(result)) if abs(result) <= _FLT_MAX else math.inf
            if not self._in_range(stored) or (stored != 0 and abs(stored) < _FLT_TINY):
                raise ValueError(f"{self.name} must be {self.range_text()} as a float32 "
                                 f"(normal or 0, at most {_FLT_MAX:.7g}), got {value!r}")
        return result

    def _in_range(self, value):
        low_ok = value > self.minimum if self.open_min else value >= self.minimum
        return math.isfinite(value) and low_ok and value <= self.maximum


def _num(value):
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _literal(text):
    text = text.strip()
    if text == "PD_UNBOUNDED":
        return math.inf
    return float(text)


def _parse(text):
    params = []
    for line in text.splitlines():
        if not line.startswith("PD_PARAM("):
            continue
        match = _ROW.match(line)
        if match is None:
            raise RuntimeError(f"pd_params.def: cannot read the row {line!r}")
        name, kind, default, low, high, flags, choices, stage, doc = match.groups()
        flag_set = {f.strip() for f in flags.split("|")} - {"0"}
        choice_tuple = tuple(choices.split("|")) if choices else ()
        value = _literal(default)
        off_zero = "PD_OFF_ZERO" in flag_set
        if kind == "enum":
            py_default = choice_tuple[int(value)]
        elif off_zero and value == 0:
            py_default = None
        elif kind == "int":
            py_default = int(value)
        else:
            py_default = value
        params.append(Param(name, kind, py_default, _literal(low), _literal(high),
                            "PD_OPEN_MIN" in flag_set, off_zero, choice_tuple, stage, doc))
    return tuple(params)


def _read_table():
    installed = resources.files(__package__).joinpath("pd_params.def")
    if installed.is_file():
        return installed.read_text()
    # Run from a source tree (the reference decoder needs no build).
    return (Path(__file__).resolve().parents[2] / "csrc" / "pd_params.def").read_text()


PARAMS = _parse(_read_table())
RECORD_DTYPE = np.dtype([(p.name, _TYPES[p.type]) for p in PARAMS], align=True)


def to_record(values):
    """A zero-dimensional record of :data:`RECORD_DTYPE` holding `values` (a mapping
    or DecoderConfig of validated options) as the C core reads them: None as 0, an
    enum as its index."""
    record = np.zeros((), RECORD_DTYPE)
    for p in PARAMS:
        value = values[p.name] if isinstance(values, dict) else getattr(values, p.name)
        if value is None:
            value = 0
        elif p.type == "enum":
            value = p.choices.index(value)
        record[p.name] = value
    return record


def markdown_table():
    """The table as Markdown, for docs/options.md."""
    rows = ["| option | default | accepted | stage | what it does |",
            "|---|---|---|---|---|"]
    for p in PARAMS:
        rows.append(f"| `{p.name}` | `{p.default!r}` | {p.range_text()} | {p.stage} | "
                    f"{p.doc}. |")
    return "\n".join(rows)
