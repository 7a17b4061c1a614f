"""Numbers in spec strings (``blur:2``, ``bandpass:lo=0.1``, ``highfreq:0.1:0.25``): one parser, one range check,
one formatter, shared by the filter specs, ``--conv`` and ``--spectral-reg``.

A number is parsed from the text of one spec field with a name for messages, must be finite and lie in a stated
:class:`Interval`; :func:`format_number` writes it back so that it parses to the same float. Callers put their own
context (the whole spec and its grammar) in front of the one-line :class:`~freqprobe.errors.ConfigError`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from freqprobe.errors import ConfigError

# The largest |f| on a sampled grid: the corner (0.5, 0.5) of the spectrum, in cycles/pixel.
CORNER_RADIUS = math.sqrt(0.5)


@dataclass(frozen=True)
class Interval:
    """The valid values of one number: ``low`` and ``high`` (None: unbounded), each closed or open.

    Example:
        >>> Interval(0, 0.5, low_open=True).describe()
        '(0, 0.5]'
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""

    def contains(self, value: float) -> bool:
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def describe(self) -> str:
        """``[0, 0.707]``, ``> 0``, ``<= 1`` ..., followed by the unit if any."""
        if self.low is not None and self.high is not None:
            text = (
                f"{'(' if self.low_open else '['}{_short(self.low)}, "
                f"{_short(self.high)}{')' if self.high_open else ']'}"
            )
        elif self.low is not None:
            text = f"{'>' if self.low_open else '>='} {_short(self.low)}"
        elif self.high is not None:
            text = f"{'<' if self.high_open else '<='} {_short(self.high)}"
        else:
            text = "any finite number"
        return f"{text} {self.unit}".rstrip()


ANY = Interval()
POSITIVE = Interval(0, None, low_open=True)
NON_NEGATIVE = Interval(0, None)


def check_number(value: object, name: str, interval: Interval = ANY) -> float:
    """``value`` as a float, if it is a finite real number in ``interval``.

    Raises:
        ConfigError: not a real number (bools are refused), not finite, or outside ``interval``; the line names
            ``name``, the value and the valid range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if not interval.contains(number):
        raise ConfigError(f"{name} {format_number(number)} is out of range{_use(interval)}")
    return number


def parse_number(text: str, name: str, interval: Interval = ANY) -> float:
    """The number written in one spec field, checked as :func:`check_number`.

    Raises:
        ConfigError: ``text`` is not a finite number or lies outside ``interval``.

    Example:
        >>> parse_number("0.25", "cutoff", Interval(0, 0.5))
        0.25
    """
    try:
        value = float(str(text).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(f"{name} {text!r} is not a finite number{_use(interval)}")
    return check_number(value, name, interval)


def parse_integer(text: str, name: str, interval: Interval = ANY) -> int:
    """A whole number written in one spec field (digits, optional sign), checked against ``interval``.

    Raises:
        ConfigError: ``text`` is not a whole number or lies outside ``interval``.
    """
    stripped = str(text).strip()
    if not stripped.lstrip("+-").isdigit():
        raise ConfigError(f"{name} {text!r} is not a whole number{_use(interval, 'a whole number')}")
    value = int(stripped)
    if not interval.contains(value):
        raise ConfigError(f"{name} {value} is out of range{_use(interval, 'a whole number')}")
    return value


def format_number(value: float, digits: int | None = None) -> str:
    """Shortest text that parses back to ``value`` (2.0 -> '2', 0.1 -> '0.1', 1e20 -> '1e+20'), or rounded to
    ``digits`` significant digits for messages.

    Example:
        >>> format_number(2.0), format_number(0.1), format_number(1e20), format_number(0.70710678, 3)
        ('2', '0.1', '1e+20', '0.707')
    """
    value = float(value)
    if digits is not None:
        return f"{value:.{digits}g}"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


# Pixel budgets are usually written in 8-bit grey levels: k/255.
GREY_LEVELS = 255


def format_budget(value: float) -> str:
    """A pixel-unit budget as a user writes it: ``k/255`` when ``value`` is exactly that float and the decimal
    form is longer (0.2 stays 0.2, not 51/255), else :func:`format_number`.

    Example:
        >>> format_budget(8 / 255), format_budget(0.5), format_budget(0.2), format_budget(0.03137)
        ('8/255', '0.5', '0.2', '0.03137')
    """
    value = float(value)
    decimal = format_number(value)
    levels = round(value * GREY_LEVELS)
    fraction = f"{levels}/{GREY_LEVELS}"
    if levels > 0 and levels / GREY_LEVELS == value and len(fraction) < len(decimal):
        return fraction
    return decimal


def budget_file_text(budget: str) -> str:
    """``budget`` (``"8/255"``) in a form a file name can hold: ``"8over255"``.

    Example:
        >>> budget_file_text("8/255"), budget_file_text("0.5")
        ('8over255', '0.5')
    """
    return budget.replace("/", "over")


def _short(value: float) -> str:
    """A bound as written in messages: exact when short (4096, 0.5), else 3 significant digits (0.707)."""
    exact = format_number(value)
    return exact if len(exact) <= 8 else format_number(value, 3)


def _use(interval: Interval, what: str = "a value") -> str:
    """'; use a value in [0, 0.5]' (or '> 0', ...), or '' for an unbounded interval."""
    if interval.low is None and interval.high is None:
        return ""
    described = interval.describe()
    return f"; use {what} {described if interval.low is None or interval.high is None else 'in ' + described}"
