"""freqprobe.stats.correlations and .partial: rank correlations of variant means, intervals and exact p-values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from freqprobe.stats.correlations import rank_correlation_of_means, rank_pearson
from freqprobe.stats.partial import partial_rank_correlation_of_means


def single_seed(x, y):
    return [[(a, b)] for a, b in zip(x, y)]


@pytest.mark.parametrize("n", [4, 5, 6, 7])
def test_perfectly_ranked_variants_have_the_exact_permutation_p_value(n):
    x = np.arange(n, dtype=float)
    result = rank_correlation_of_means(single_seed(x, x ** 3))
    # two of the n! pairings reach |rho| = 1 (identity and reversal): p = 2 / n!
    assert result.rho == 1.0 and result.exact
    assert result.p_value == pytest.approx(2.0 / math.factorial(n), rel=1e-12)
    reversed_result = rank_correlation_of_means(single_seed(x, -x))
    assert reversed_result.rho == -1.0 and reversed_result.p_value == pytest.approx(2.0 / math.factorial(n))


def test_rho_is_scipy_spearman_of_the_means_and_single_seeds_have_no_interval():
    x, y = [0.1, 0.4, 0.2, 0.9, 0.5], [3.0, 1.0, 2.0, 5.0, 5.0]  # a tie in y: average ranks
    result = rank_correlation_of_means(single_seed(x, y))
    assert result.rho == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert result.low is None and result.high is None and result.seeds == [1] * 5
    assert "(no interval)" in result.describe() and "5 variants x 1 seed" in result.describe()
    batch = np.random.default_rng(0).normal(size=(6, 9))
    assert rank_pearson(batch[:3], batch[3:]) == pytest.approx(
        [stats.spearmanr(a, b).statistic for a, b in zip(batch[:3], batch[3:])])


def test_means_over_seeds_resampled_within_variants():
    rng = np.random.default_rng(11)
    centres = np.arange(6, dtype=float)
    variants = [[(c + rng.normal(0, 0.3), 2 * c + rng.normal(0, 0.3)) for _ in range(3)] for c in centres]
    means = np.array([np.mean(v, axis=0) for v in variants])
    result = rank_correlation_of_means(variants)
    assert result.rho == pytest.approx(stats.spearmanr(means[:, 0], means[:, 1]).statistic)
    assert result.n_variants == 6 and result.seeds == [3] * 6
    assert result.low <= result.rho <= result.high and result.high == 1.0
    assert rank_correlation_of_means(variants) == result  # seeded
    noisy = [[(c + rng.normal(0, 3.0), rng.normal(0, 3.0)) for _ in range(3)] for c in centres]
    wide = rank_correlation_of_means(noisy)
    assert wide.high - wide.low > 0.5  # seed noise as large as the spread: the interval says so


def test_undefined_cases():
    assert rank_correlation_of_means(single_seed([1.0, 2.0], [1.0, 2.0])).rho is None  # two variants
    constant = rank_correlation_of_means(single_seed([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]))
    assert constant.rho is None and constant.p_value is None
    missing = rank_correlation_of_means([[(1.0, None)], [(2.0, 3.0)], [(3.0, 4.0)], [(4.0, 6.0)]])
    assert missing.n_variants == 3


def test_partial_correlation_equals_the_first_order_formula_on_spearman_coefficients():
    rng = np.random.default_rng(5)
    z = rng.normal(size=9)
    x = z + rng.normal(scale=0.7, size=9)
    y = -z + 0.5 * x + rng.normal(scale=0.7, size=9)
    result = partial_rank_correlation_of_means([[(a, b, c)] for a, b, c in zip(x, y, z)])
    r_xy, r_xz, r_yz = (stats.spearmanr(a, b).statistic for a, b in ((x, y), (x, z), (y, z)))
    expected = (r_xy - r_xz * r_yz) / math.sqrt((1 - r_xz ** 2) * (1 - r_yz ** 2))
    assert result.rho == pytest.approx(expected, abs=1e-12)
    assert 0.0 < result.p_value <= 1.0 and not result.exact  # 9! > 9999 pairings: sampled


def test_partial_correlation_removes_a_shared_driver():
    # robust accuracy falls as clean accuracy rises; the filter statistic follows clean accuracy; each adds its own
    # noise (fixed draws), so given clean accuracy they are unrelated
    rng = np.random.default_rng(8)
    clean = np.linspace(0.87, 0.94, 8)
    statistic = clean + rng.normal(0.0, 0.01, size=8)
    robust = 1.0 - clean + rng.normal(0.0, 0.01, size=8)
    plain = rank_correlation_of_means(single_seed(statistic, robust))
    partial = partial_rank_correlation_of_means([[(s, r, c)] for s, r, c in zip(statistic, robust, clean)])
    assert plain.rho < -0.9 and plain.p_value < 0.01
    assert abs(partial.rho) < 0.2 and partial.p_value > 0.5
    assert partial_rank_correlation_of_means([[(1.0, 2.0, 3.0)]] * 3).rho is None  # too few variants
    exact = partial_rank_correlation_of_means([[(c, r, c)] for r, c in zip(robust, clean)])
    assert exact.rho is None  # the statistic is clean accuracy itself: nothing is left once it is removed
