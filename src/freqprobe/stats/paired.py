"""Paired differences between two variants matched by seed: variant - baseline for each seed both have, with the
interval of :func:`freqprobe.stats.intervals.seed_summary` over those differences (Student-t for few seeds).

Pairing by seed removes what a seed shares across variants (the split, the initialization stream, the data order),
so a difference can be resolved that two unpaired intervals would both cover.

>>> d = paired_difference({0: 0.930, 1: 0.925, 2: 0.935}, {0: 0.934, 1: 0.931, 2: 0.936})
>>> d.seeds, d.summary.n
([0, 1, 2], 3)
>>> d.describe("highpass:2", "none", scale=100.0, unit="points")
'highpass:2 - none: -0.37 points [-0.99, +0.26], n = 3'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from freqprobe.stats.intervals import CONFIDENCE, SeedSummary, seed_summary
from freqprobe.tables import is_number


@dataclass(frozen=True)
class PairedDifference:
    """``summary`` of the per-seed differences (variant - baseline) over ``seeds``, the seeds both sides have."""

    summary: SeedSummary
    seeds: list[Any]

    def to_dict(self) -> dict:
        return {**self.summary.to_dict(), "seeds": self.seeds}

    def describe(self, variant: str, baseline: str, scale: float = 1.0, unit: str = "", digits: int = 2) -> str:
        """``highpass:2 - none: -0.40 points [-0.90, +0.10], n = 3``; ``..., n = 1 (no interval)`` for one seed."""
        summary = self.summary
        unit_text = f" {unit}" if unit else ""
        text = f"{variant} - {baseline}: {scale * summary.mean:+.{digits}f}{unit_text}"
        if summary.has_interval:
            text += f" [{scale * summary.low:+.{digits}f}, {scale * summary.high:+.{digits}f}]"
        return text + f", n = {summary.n}" + ("" if summary.has_interval else " (no interval)")


def paired_difference(
    values: Mapping[Any, Any], baseline: Mapping[Any, Any], confidence: float = CONFIDENCE
) -> PairedDifference | None:
    """``values[seed] - baseline[seed]`` over the seeds where both are finite numbers, summarized; None when no seed
    matches."""
    seeds = [seed for seed in values if seed in baseline and is_number(values[seed]) and is_number(baseline[seed])]
    if not seeds:
        return None
    differences = [float(values[seed]) - float(baseline[seed]) for seed in seeds]
    return PairedDifference(seed_summary(differences, confidence), seeds)
