"""Filter spec strings: ``name[:param[:param]]``, e.g. ``none``, ``blur:2``, ``band:0.1:0.25``.

The same strings name filters on the command line, in training configs and in run folders, so a filter's
canonical spec (:attr:`InputFilter.spec`) parses back to an equal filter.
"""

from __future__ import annotations

import math
from typing import Sequence

from freqprobe.errors import ConfigError


def split_spec(spec: str) -> tuple[str, tuple[str, ...]]:
    """``"Blur: 2"`` -> ``("blur", ("2",))``: the lower-case name and the raw parameter texts.

    Raises:
        ConfigError: spec not a non-empty string.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"filter spec must be a non-empty string such as 'blur:2', got {spec!r}")
    name, *params = (part.strip() for part in spec.split(":"))
    return name.lower(), tuple(params)


def parse_number(text: str, param_name: str) -> float:
    """One numeric spec parameter; the range is checked by the filter that receives it.

    Raises:
        ConfigError: ``text`` is not a finite number.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(f"{param_name} {text!r} is not a finite number")
    return value


def format_number(value: float) -> str:
    """Shortest text that parses back to ``value``: 2.0 -> '2', 0.1 -> '0.1'."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def format_spec(name: str, params: Sequence[float] = ()) -> str:
    """Canonical spec string: ``format_spec("band", (0.1, 0.25)) == "band:0.1:0.25"``."""
    return ":".join([name, *(format_number(value) for value in params)])
