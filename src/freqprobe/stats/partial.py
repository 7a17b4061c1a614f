"""Partial rank correlation of x and y controlling for z, across variants, on the variants' means.

Robust accuracy tends to rise as clean accuracy falls, so a filter statistic that lowers clean accuracy correlates
with robustness through that alone. The partial Spearman correlation removes it: rank x, y and z across the
variants, regress rank(x) and rank(y) each on rank(z) (least squares with an intercept) and take the Pearson
correlation of the two residuals. Written with numpy on scipy's ranks rather than with statsmodels, which is not a
dependency of freqprobe and would add nothing here but one least-squares fit per side.

Interval and p-value as for :mod:`freqprobe.stats.correlations`: seeds resampled within variants (x, y, z of a run
together), and ``scipy.stats.permutation_test`` of the pairing of the two residual vectors (permutation of
residuals, Kennedy 1995, "Randomization tests in econometrics", J. Bus. Econ. Stat. 13(1)).

>>> x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; z = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
>>> y = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0]   # tracks z; x adds nothing once z is known
>>> c = partial_rank_correlation_of_means([[(a, b, c)] for a, b, c in zip(x, y, z)])
>>> c.rho is None   # x is z: no variation of x is left after removing z
True
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from freqprobe.stats.correlations import (
    PERMUTATIONS,
    RESAMPLES,
    SEED,
    Pairs,
    RankCorrelation,
    finite_groups,
    pearson,
    permutation_p_value,
    resampled_interval,
)
from freqprobe.stats.intervals import CONFIDENCE

MIN_VARIANTS = 4  # with three, the residuals keep one degree of freedom and correlate +-1 whatever the data
RESIDUAL_TOLERANCE = 1e-9


def partial_rank_correlation_of_means(
    variants: Sequence[Pairs], resamples: int = RESAMPLES, permutations: int = PERMUTATIONS, seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> RankCorrelation:
    """Partial Spearman rho of x and y given z over the variants' means (each variant a list of (x, y, z) per run);
    None when fewer than ``MIN_VARIANTS`` variants remain or a residual is constant (e.g. x is a function of z)."""
    groups = finite_groups(variants, width=3)
    seeds = [len(group) for group in groups]
    if len(groups) < MIN_VARIANTS:
        return RankCorrelation(None, len(groups), seeds)
    means = np.array([group.mean(axis=0) for group in groups])
    residual_x, residual_y = rank_residuals(means)
    if not (_varies(residual_x) and _varies(residual_y)):
        return RankCorrelation(None, len(groups), seeds)
    rho = float(pearson(residual_x, residual_y))
    p_value, exact = permutation_p_value(residual_x, residual_y, permutations, seed, statistic=pearson)
    low, high = resampled_interval(groups, _partial_of_resampled_means, resamples, seed, confidence)
    return RankCorrelation(max(-1.0, min(1.0, rho)), len(groups), seeds, low, high, p_value, exact)


def rank_residuals(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of rank(x) and rank(y) after a least-squares line on rank(z), along the variant axis (-2) of
    ``means`` (..., V, 3); batched."""
    from scipy import stats

    ranks = stats.rankdata(means, axis=-2)
    centred = ranks - ranks.mean(axis=-2, keepdims=True)
    z = centred[..., 2]
    z_power = (z * z).sum(axis=-1, keepdims=True)
    residuals = []
    for column in (0, 1):
        side = centred[..., column]
        slope = np.where(z_power > 0, (side * z).sum(axis=-1, keepdims=True) / np.where(z_power > 0, z_power, 1.0), 0.0)
        residuals.append(side - slope * z)
    return residuals[0], residuals[1]


def _partial_of_resampled_means(means: np.ndarray) -> np.ndarray:
    residual_x, residual_y = rank_residuals(means)
    limit = RESIDUAL_TOLERANCE * means.shape[-2]  # ranks run 1..V: residuals below this are rounding
    tiny = (np.abs(residual_x).max(axis=-1) < limit) | (np.abs(residual_y).max(axis=-1) < limit)
    return np.where(tiny, np.nan, pearson(residual_x, residual_y))


def _varies(residual: np.ndarray) -> bool:
    return bool(np.abs(residual).max() > RESIDUAL_TOLERANCE * len(residual))
