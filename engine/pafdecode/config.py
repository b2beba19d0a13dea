"""DecoderConfig: every decoder option in one frozen, validated object.

Its fields, defaults, ranges and one-line docs come from the parameter table
(``csrc/pd_params.def``, parsed by :mod:`pafdecode._params`); what each option does and
what it was measured to gain is in ``docs/options.md``.
"""

from __future__ import annotations

import dataclasses

from ._params import PARAMS

__all__ = ["DecoderConfig"]


def _docstring():
    lines = [
        "Every option of the decoder, validated once; frozen.",
        "",
        "Build one from a preset (:meth:`openpose`, :meth:`default`, :meth:`crowd`,",
        ":meth:`noisy`) or by keyword, and derive others with :meth:`replace`. An",
        "unknown keyword is a TypeError; a value out of range a ValueError naming the",
        "option, the value and the accepted range. ``docs/options.md`` explains each",
        "option and its measured effect.",
        "",
        "Parameters",
        "----------",
    ]
    for p in PARAMS:
        lines.append(f"{p.name} : {p.range_text()}, default {p.default!r}")
        lines.append(f"    {p.doc} (stage: {p.stage}).")
    return "\n".join(lines)


class _ConfigMethods:
    """Presets and helpers; the fields come from the parameter table."""

    __slots__ = ()

    def __post_init__(self):
        for p in PARAMS:
            object.__setattr__(self, p.name, p.check(getattr(self, p.name)))

    def replace(self, **changes):
        """A copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    def as_dict(self):
        """The options as a dict, in table order."""
        return {p.name: getattr(self, p.name) for p in PARAMS}

    @classmethod
    def openpose(cls):
        """OpenPose's rules: each peak belongs to one person, fragments are not joined,
        limbs are chosen by their PAF scores alone."""
        return cls(shared_peak_score=None, join_fragments=None, limb_length_prior=None,
                   rival_margin=None)

    @classmethod
    def default(cls):
        """The defaults: shared peaks, the limb length prior, rivalled limbs adding no
        evidence, and fragment joining."""
        return cls()

    @classmethod
    def crowd(cls):
        """Crowds: the defaults with merged peaks split (0.3), the best measured setting
        on rendered crowds of 20 to 100 people (docs/options.md)."""
        return cls(split_merged_peaks=0.3)

    @classmethod
    def noisy(cls):
        """Noisy fields: a peak needs 3x3 support (0.15), merged peaks split (1.0)."""
        return cls(peak_support=0.15, split_merged_peaks=1.0)


DecoderConfig = dataclasses.make_dataclass(
    "DecoderConfig",
    [(p.name, object, dataclasses.field(default=p.default)) for p in PARAMS],
    bases=(_ConfigMethods,),
    frozen=True,
    kw_only=True,
    namespace={"__module__": __name__},
)
DecoderConfig.__doc__ = _docstring()
