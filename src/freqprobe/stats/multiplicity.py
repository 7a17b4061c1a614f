"""Adjusting p-values for the many tests of one comparison: a compare table tests every kernel or feature-map
statistic against every outcome, so a p-value below 0.05 among dozens is expected by chance alone.
``scipy.stats.false_discovery_control`` does the adjustment; this module only keeps the tests that could not be made
(None) out of the count."""

from __future__ import annotations

from typing import Sequence

from freqprobe.tables import is_number


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (q) of the finite ``p_values``, in their order; None stays None (a test
    that could not be made is not counted among the tests).

    >>> [round(q, 4) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.2])]
    [0.04, 0.0533, 0.0533, 0.2]
    """
    from scipy import stats

    finite = [index for index, p in enumerate(p_values) if is_number(p)]
    result: list[float | None] = [None] * len(p_values)
    if finite:
        adjusted = stats.false_discovery_control([float(p_values[index]) for index in finite], method="bh")
        for index, q in zip(finite, adjusted):
            result[index] = float(q)
    return result
