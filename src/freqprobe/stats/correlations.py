"""Rank correlation across variants, computed on the variants' means over their seeds, with an interval from
resampling seeds within variants and a permutation p-value.

A variant is a group of runs that differ only in their seed; each run gives a pair (x, y). The statistic is
Spearman's rho (average ranks for ties) between the variants' mean x and mean y, so seed noise enters once per
variant instead of as extra "points". Uncertainty:

- interval: percentile bootstrap over seeds: every resample draws each variant's runs with replacement (x and y of
  a run together), recomputes the means and rho; the ``CONFIDENCE`` central range of those rhos. With one seed per
  variant nothing is resampled and there is no interval (None): the seed noise is not measured.
- p-value: ``scipy.stats.permutation_test`` of the pairing of the means (``permutation_type="pairings"``,
  two-sided): exact over all n! pairings when n! <= ``PERMUTATIONS``, else ``PERMUTATIONS`` random ones, seeded.

>>> c = rank_correlation_of_means([[(1.0, 2.0)], [(2.0, 3.0)], [(3.0, 5.0)], [(4.0, 4.5)], [(5.0, 9.0)]])
>>> round(c.rho, 2), c.n_variants, c.seeds, c.low is None
(0.9, 5, [1, 1, 1, 1, 1], True)
>>> round(c.p_value, 4)   # 5 of the 120 pairings reach rho >= 0.9, 5 rho <= -0.9
0.0833
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from freqprobe.stats.intervals import CONFIDENCE
from freqprobe.tables import is_number

MIN_VARIANTS = 3
RESAMPLES = 2000
PERMUTATIONS = 40320  # = 8!: exact p-values up to eight variants (the original table's Fashion-MNIST rows)
SEED = 0

Pairs = Sequence[Sequence[float]]  # one variant: the (x, y[, z]) values of its runs


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman rho of the variants' means, its seed-resampling interval (None with one seed per variant) and its
    permutation p-value; None where fewer than ``MIN_VARIANTS`` variants or a constant side leave rho undefined.
    ``seeds`` lists each variant's number of runs."""

    rho: float | None
    n_variants: int
    seeds: list[int]
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    exact: bool = False  # the p-value enumerated every pairing

    def to_dict(self) -> dict:
        return {"rho": self.rho, "n": self.n_variants, "n_variants": self.n_variants, "seeds_per_variant":
                self.seeds, "ci_low": self.low, "ci_high": self.high, "p_value": self.p_value,
                "p_exact": self.exact}

    def describe(self, digits: int = 2) -> str:
        """``rho = +0.90 [+0.70, +1.00], p = 0.033; 5 variants x 3 seeds`` (what is undefined said so)."""
        if self.rho is None:
            return f"rho undefined; {self.sizes()}"
        interval = (
            f" [{self.low:+.{digits}f}, {self.high:+.{digits}f}]" if self.low is not None else " (no interval)"
        )
        return f"rho = {self.rho:+.{digits}f}{interval}, p = {format_p(self.p_value)}; {self.sizes()}"

    def sizes(self) -> str:
        """``8 variants x 1 seed`` or ``6 variants x 2-3 seeds``."""
        if not self.seeds:
            return "0 variants"
        low, high = min(self.seeds), max(self.seeds)
        count = str(low) if low == high else f"{low}-{high}"
        return f"{self.n_variants} variants x {count} seed{'' if high == 1 else 's'}"


def format_p(p: float | None) -> str:
    if p is None:
        return "-"
    return f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


def rank_correlation_of_means(
    variants: Sequence[Pairs], resamples: int = RESAMPLES, permutations: int = PERMUTATIONS, seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> RankCorrelation:
    """Spearman rho of the variants' mean x and mean y (each variant a list of (x, y) per run; runs where either is
    not a finite number and variants left empty are dropped), with interval and p-value as the module says
    (``resamples`` / ``permutations`` 0: rho alone, without interval / p-value)."""
    groups = finite_groups(variants, width=2)
    seeds = [len(group) for group in groups]
    if len(groups) < MIN_VARIANTS:
        return RankCorrelation(None, len(groups), seeds)
    means = np.array([group.mean(axis=0) for group in groups])  # (V, 2)
    if np.ptp(means[:, 0]) == 0 or np.ptp(means[:, 1]) == 0:
        return RankCorrelation(None, len(groups), seeds)
    rho = float(rank_pearson(means[:, 0], means[:, 1]))
    p_value, exact = permutation_p_value(means[:, 0], means[:, 1], permutations, seed) if permutations else (None, False)
    low, high = resampled_interval(groups, _rho_of_resampled_means, resamples, seed, confidence)
    return RankCorrelation(_clip(rho), len(groups), seeds, low, high, p_value, exact)


def finite_groups(variants: Sequence[Pairs], width: int) -> list[np.ndarray]:
    """Each variant's runs as a (runs, width) float array, keeping the runs whose values are all finite numbers;
    variants with no such run are left out."""
    groups = []
    for variant in variants:
        kept = [[float(value) for value in run[:width]] for run in variant if all(is_number(v) for v in run[:width])]
        if kept:
            groups.append(np.array(kept, dtype=np.float64))
    return groups


def rank_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho along the last axis (Pearson correlation of average ranks, ``scipy.stats.rankdata``); batched,
    NaN where a side is constant."""
    from scipy import stats

    return pearson(stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1))


def pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis, batched; NaN where a side is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (xc * yc).sum(axis=-1) / np.where(denominator > 0, denominator, 1.0), np.nan)


def permutation_p_value(x: np.ndarray, y: np.ndarray, permutations: int, seed: int,
                        statistic=None) -> tuple[float, bool]:
    """Two-sided p-value of ``statistic(x, y)`` (default Spearman rho) under random pairing of x with y
    (``scipy.stats.permutation_test``); exact when n! <= ``permutations``. Only x is permuted: permuting y as well
    gives the same null distribution over n!^2 orderings, which would push small n past exact enumeration."""
    from scipy import stats

    statistic = statistic or rank_pearson
    result = stats.permutation_test(
        (x,), lambda permuted, axis=-1: statistic(permuted, np.broadcast_to(y, permuted.shape)),
        permutation_type="pairings", vectorized=True, n_resamples=permutations, alternative="two-sided",
        rng=np.random.default_rng(seed),
    )
    return float(min(1.0, result.pvalue)), math.factorial(len(x)) <= permutations


def resampled_interval(groups: list[np.ndarray], statistic, resamples: int, seed: int,
                       confidence: float) -> tuple[float | None, float | None]:
    """Percentile interval of ``statistic(means)`` over ``resamples`` draws of each variant's runs with replacement;
    (None, None) when every variant has one run (nothing to resample) or no resample defines the statistic."""
    if resamples < 1 or all(len(group) == 1 for group in groups):
        return None, None
    rng = np.random.default_rng(seed)
    means = np.empty((resamples, len(groups), groups[0].shape[1]))
    for index, group in enumerate(groups):
        draws = rng.integers(0, len(group), size=(resamples, len(group)))
        means[:, index, :] = group[draws].mean(axis=1)
    values = statistic(means)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None, None
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return _clip(float(low)), _clip(float(high))


def _rho_of_resampled_means(means: np.ndarray) -> np.ndarray:
    return rank_pearson(means[..., 0], means[..., 1])


def _clip(value: float) -> float:
    return max(-1.0, min(1.0, value))
