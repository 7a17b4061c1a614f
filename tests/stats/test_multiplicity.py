"""freqprobe.stats.multiplicity: Benjamini-Hochberg q-values, by hand and against scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from freqprobe.stats import benjamini_hochberg


def test_benjamini_hochberg_by_hand_and_against_scipy():
    # sorted p (0.01, 0.03, 0.04, 0.2), m = 4: p m / rank = 0.04, 0.06, 0.0533, 0.2; q is the running minimum from
    # the top, so 0.06 falls to 0.0533; None is no test and is not counted in m
    q = benjamini_hochberg([0.01, None, 0.04, 0.03, 0.2])
    assert q[1] is None
    assert [q[0], q[2], q[3], q[4]] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])
    p = np.random.default_rng(5).uniform(0, 0.2, 30)
    assert benjamini_hochberg(p.tolist()) == pytest.approx(stats.false_discovery_control(p).tolist())
    assert benjamini_hochberg([None, None]) == [None, None] and benjamini_hochberg([]) == []
    assert benjamini_hochberg([float("nan"), 0.01]) == [None, pytest.approx(0.01)]  # NaN: no test, m = 1
