"""Mean, standard deviation and a 95% confidence interval of the values of one group of runs (one per seed).

Few seeds (n < ``BOOTSTRAP_MIN_N``) get the Student-t interval ``mean ± t(0.975, n-1) s / sqrt(n)``
(``scipy.stats.t``); from ``BOOTSTRAP_MIN_N`` seeds on, the bias-corrected and accelerated bootstrap interval of
the mean (``scipy.stats.bootstrap``, method ``BCa``, seeded), which does not assume normal seed noise. A group of
one value has no standard deviation and no interval (None), never an interval of zero width.

>>> s = seed_summary([93.0, 94.0, 95.0])
>>> round(s.mean, 3), round(s.std, 3), s.n, s.method
(94.0, 1.0, 3, 'Student-t')
>>> round(s.low, 3), round(s.high, 3)
(91.516, 96.484)
>>> seed_summary([93.0]).cell()
'93.00 (n=1, no interval)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from freqprobe.errors import ConfigError
from freqprobe.tables import is_number

CONFIDENCE = 0.95
BOOTSTRAP_MIN_N = 10  # below this the BCa acceleration and the percentile tails rest on too few distinct means
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0
METHOD_T = "Student-t"
METHOD_BCA = "BCa bootstrap"
METHOD_PERCENTILE = "percentile bootstrap"  # where BCa's jackknife acceleration is undefined (degenerate data)


@dataclass(frozen=True)
class SeedSummary:
    """``n`` values: their mean, sample standard deviation (n - 1; None for n = 1) and the ``CONFIDENCE`` interval
    of the mean (``low``, ``high``; None for n = 1) computed by ``method`` (None for n = 1)."""

    mean: float
    std: float | None
    n: int
    low: float | None
    high: float | None
    method: str | None

    @property
    def has_interval(self) -> bool:
        return self.low is not None

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "n": self.n, "ci_low": self.low, "ci_high": self.high,
                "ci_method": self.method}

    def cell(self, scale: float = 1.0, digits: int = 2) -> str:
        """``mean ± std [low, high] (n=N)`` scaled (e.g. 100 for percent); ``mean (n=1, no interval)`` for one value."""
        mean = f"{scale * self.mean:.{digits}f}"
        if not self.has_interval:
            return f"{mean} (n={self.n}, no interval)"
        return f"{mean} ± {scale * self.std:.{digits}f} [{scale * self.low:.{digits}f}, {scale * self.high:.{digits}f}] (n={self.n})"


def seed_summary(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    bootstrap_min_n: int = BOOTSTRAP_MIN_N,
    seed: int = BOOTSTRAP_SEED,
) -> SeedSummary:
    """Mean, std and interval of ``values`` (the finite numbers of it; None and NaN are left out).

    Raises:
        ConfigError: no finite value, or ``confidence`` outside (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence level {confidence!r} must lie strictly between 0 and 1, e.g. 0.95")
    data = np.array([float(value) for value in values if is_number(value)], dtype=np.float64)
    n = len(data)
    if n == 0:
        raise ConfigError("a seed summary needs at least one finite value; the group has none")
    mean = float(data.mean())
    if n == 1:
        return SeedSummary(mean, None, 1, None, None, None)
    std = float(data.std(ddof=1))
    if std == 0.0:
        return SeedSummary(mean, 0.0, n, mean, mean, METHOD_T)  # every seed agrees: the interval is the point
    if n >= bootstrap_min_n:
        for method, name in (("BCa", METHOD_BCA), ("percentile", METHOD_PERCENTILE)):
            low, high = _bootstrap_interval(data, confidence, seed, method)
            if math.isfinite(low) and math.isfinite(high):
                return SeedSummary(mean, std, n, low, high, name)
    low, high = t_interval(mean, std, n, confidence)
    return SeedSummary(mean, std, n, low, high, METHOD_T)


def t_interval(mean: float, std: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """``mean ± t_{(1+confidence)/2, n-1} std / sqrt(n)`` (``scipy.stats.t``)."""
    from scipy import stats

    half = float(stats.t.ppf(0.5 + confidence / 2.0, df=n - 1)) * std / math.sqrt(n)
    return mean - half, mean + half


def _bootstrap_interval(data: np.ndarray, confidence: float, seed: int, method: str) -> tuple[float, float]:
    import warnings

    from scipy import stats

    with warnings.catch_warnings():  # a degenerate resample distribution gives NaN, which the caller handles
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (data,), np.mean, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES, method=method,
            rng=np.random.default_rng(seed),
        )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def describe_method(summaries: Sequence[SeedSummary], confidence: float = CONFIDENCE) -> str:
    """One sentence naming the interval methods the summaries used, for a table's header."""
    used = sorted({summary.method for summary in summaries if summary.method})
    level = f"{100 * confidence:g}%"
    parts = {
        METHOD_T: f"Student-t over seeds (n < {BOOTSTRAP_MIN_N})",
        METHOD_BCA: f"BCa bootstrap of the mean (n >= {BOOTSTRAP_MIN_N}; {BOOTSTRAP_RESAMPLES} resamples, seed "
        f"{BOOTSTRAP_SEED})",
        METHOD_PERCENTILE: f"percentile bootstrap where BCa is undefined (n >= {BOOTSTRAP_MIN_N})",
    }
    if not used:
        return "mean of one seed per cell (n = 1): no standard deviation and no interval"
    methods = " or ".join(parts[name] for name in used)
    return f"mean ± sample std (n - 1) [{level} confidence interval of the mean: {methods}]; n = 1: no interval"
