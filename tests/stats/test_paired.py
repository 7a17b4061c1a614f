"""freqprobe.stats.paired: differences matched by seed, with Student-t intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from freqprobe.stats.paired import paired_difference


def test_difference_matches_seeds_and_scipy_paired_t_interval():
    variant = {0: 0.931, 1: 0.926, 2: 0.940, 5: 0.9}  # seed 5 has no baseline: left out
    baseline = {0: 0.936, 1: 0.928, 2: 0.941, 3: 0.93}
    difference = paired_difference(variant, baseline)
    assert difference.seeds == [0, 1, 2]
    a, b = np.array([0.931, 0.926, 0.940]), np.array([0.936, 0.928, 0.941])
    reference = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert difference.summary.mean == pytest.approx(np.mean(a - b), abs=1e-15)
    assert (difference.summary.low, difference.summary.high) == pytest.approx((reference.low, reference.high))
    text = difference.describe("highpass:2", "none", scale=100.0, unit="points", digits=1)
    assert text == f"highpass:2 - none: -0.3 points [{100 * reference.low:+.1f}, {100 * reference.high:+.1f}], n = 3"


def test_seeds_from_one_distribution_give_an_interval_containing_zero():
    rng = np.random.default_rng(2026)
    seeds = range(3)
    variant = {seed: value for seed, value in zip(seeds, rng.normal(0.93, 0.004, size=3))}
    baseline = {seed: value for seed, value in zip(seeds, rng.normal(0.93, 0.004, size=3))}
    difference = paired_difference(variant, baseline)
    assert difference.summary.low < 0.0 < difference.summary.high
    # and over many fixed draws the 95% interval covers the true difference 0 about 95% of the time
    covered = 0
    for _ in range(400):
        a, b = rng.normal(0.93, 0.004, size=3), rng.normal(0.93, 0.004, size=3)
        summary = paired_difference(dict(enumerate(a)), dict(enumerate(b))).summary
        covered += summary.low <= 0.0 <= summary.high
    assert 0.91 <= covered / 400 <= 0.99


def test_a_real_shift_is_resolved_and_one_seed_has_no_interval():
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 0.002, size=3)
    shared = rng.normal(0.93, 0.01, size=3)  # what a seed shares across variants: pairing removes it
    difference = paired_difference(dict(enumerate(shared - 0.02 + noise)), dict(enumerate(shared)))
    assert difference.summary.high < 0.0
    single = paired_difference({0: 0.9}, {0: 0.92, 1: 0.93})
    assert single.summary.n == 1 and single.summary.low is None
    assert single.describe("blur:2", "none", scale=100.0, unit="points") == "blur:2 - none: -2.00 points, n = 1 (no interval)"
    assert paired_difference({4: 0.9}, {0: 0.9}) is None
