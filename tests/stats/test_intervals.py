"""freqprobe.stats.intervals against scipy.stats on fixed data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from freqprobe.errors import ConfigError
from freqprobe.stats.intervals import BOOTSTRAP_MIN_N, METHOD_BCA, METHOD_T, seed_summary

THREE_SEEDS = [93.56, 93.12, 93.91]


def test_few_seeds_get_the_student_t_interval_of_scipy():
    summary = seed_summary(THREE_SEEDS)
    reference = stats.ttest_1samp(THREE_SEEDS, 0.0).confidence_interval(0.95)
    assert summary.method == METHOD_T and summary.n == 3
    assert summary.mean == pytest.approx(np.mean(THREE_SEEDS), abs=1e-12)
    assert summary.std == pytest.approx(np.std(THREE_SEEDS, ddof=1), abs=1e-12)
    assert (summary.low, summary.high) == pytest.approx((reference.low, reference.high), abs=1e-12)
    # and by hand: t(0.975, 2) = 4.302652729749464
    half = 4.302652729749464 * np.std(THREE_SEEDS, ddof=1) / np.sqrt(3)
    assert summary.high - summary.mean == pytest.approx(half, rel=1e-12)


def test_other_confidence_levels_follow_scipy():
    summary = seed_summary(THREE_SEEDS, confidence=0.8)
    reference = stats.ttest_1samp(THREE_SEEDS, 0.0).confidence_interval(0.8)
    assert (summary.low, summary.high) == pytest.approx((reference.low, reference.high), abs=1e-12)


def test_many_seeds_get_the_seeded_bca_bootstrap_of_scipy():
    values = np.random.default_rng(7).normal(90.0, 0.5, size=BOOTSTRAP_MIN_N + 2)
    summary = seed_summary(values.tolist())
    reference = stats.bootstrap((values,), np.mean, n_resamples=9999, method="BCa", rng=np.random.default_rng(0))
    assert summary.method == METHOD_BCA
    assert summary.low == pytest.approx(reference.confidence_interval.low, abs=1e-12)
    assert summary.high == pytest.approx(reference.confidence_interval.high, abs=1e-12)
    assert summary.low < summary.mean < summary.high
    assert seed_summary(values.tolist()) == summary  # seeded: the same numbers every time


def test_one_seed_has_no_std_and_no_interval_shown_as_such():
    summary = seed_summary([93.56])
    assert (summary.n, summary.std, summary.low, summary.high, summary.method) == (1, None, None, None, None)
    assert summary.cell() == "93.56 (n=1, no interval)"
    assert "±" not in summary.cell() and "[" not in summary.cell()
    assert summary.to_dict() == {"mean": 93.56, "std": None, "n": 1, "ci_low": None, "ci_high": None,
                                 "ci_method": None}


def test_cells_scale_and_none_values_are_left_out():
    summary = seed_summary([0.9, None, 0.92, float("nan")])
    assert summary.n == 2
    low, high = stats.ttest_1samp([90.0, 92.0], 0.0).confidence_interval(0.95)
    assert summary.cell(scale=100.0) == f"91.00 ± 1.41 [{low:.2f}, {high:.2f}] (n=2)"


def test_agreeing_seeds_have_a_point_interval_and_bad_input_is_one_line():
    summary = seed_summary([0.5, 0.5, 0.5])
    assert (summary.std, summary.low, summary.high) == (0.0, 0.5, 0.5)
    with pytest.raises(ConfigError, match="at least one finite value"):
        seed_summary([None, float("inf")])
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        seed_summary([1.0, 2.0], confidence=95)


def test_a_bca_interval_that_scipy_leaves_undefined_falls_back_to_the_percentile_bootstrap(monkeypatch):
    from freqprobe.stats import intervals

    real = intervals._bootstrap_interval
    monkeypatch.setattr(intervals, "_bootstrap_interval",
                        lambda data, confidence, seed, method: (float("nan"),) * 2 if method == "BCa"
                        else real(data, confidence, seed, method))
    values = np.random.default_rng(1).normal(size=12)
    summary = seed_summary(values.tolist())
    reference = stats.bootstrap((values,), np.mean, n_resamples=9999, method="percentile",
                                rng=np.random.default_rng(0))
    assert summary.method == intervals.METHOD_PERCENTILE
    assert (summary.low, summary.high) == pytest.approx(
        (reference.confidence_interval.low, reference.confidence_interval.high))
