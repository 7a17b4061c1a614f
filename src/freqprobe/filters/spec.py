"""Filter spec strings: ``name[:param[:param]]``, e.g. ``none``, ``blur:2``, ``band:0.1:0.25``.

The same strings name filters on the command line, in training configs and in run folders, so a filter's
canonical spec (:attr:`InputFilter.spec`) parses back to an equal filter. Numbers are parsed and formatted by
:mod:`freqprobe.specs`, as in ``--conv`` and ``--spectral-reg``; each filter checks the range of its own.
"""

from __future__ import annotations

from typing import Sequence

from freqprobe.errors import ConfigError
from freqprobe.specs import format_number, parse_number

__all__ = ["split_spec", "parse_number", "format_number", "format_spec"]


def split_spec(spec: str) -> tuple[str, tuple[str, ...]]:
    """``"Blur: 2"`` -> ``("blur", ("2",))``: the lower-case name and the raw parameter texts.

    Raises:
        ConfigError: spec not a non-empty string.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"filter spec must be a non-empty string such as 'blur:2', got {spec!r}")
    name, *params = (part.strip() for part in spec.split(":"))
    return name.lower(), tuple(params)


def format_spec(name: str, params: Sequence[float] = ()) -> str:
    """Canonical spec string: ``format_spec("band", (0.1, 0.25)) == "band:0.1:0.25"``."""
    return ":".join([name, *(format_number(value) for value in params)])
