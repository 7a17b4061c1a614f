"""Which frequencies a Fourier heat map evaluates: a radius limit, a stride over the grid, a seeded random sample,
and one shard of the result, so that a 224x224 map (25,312 conjugate pairs) can be cut down or split over machines.

Selection, in this order, over the canonical pairs (:func:`~freqprobe.analysis.sensitivity.heatmap.canonical_frequencies`):

1. ``max_radius``: only |f| <= R cycles/pixel;
2. ``stride`` K: only frequencies whose signed indices (k_y, k_x) (fftfreq order, k in [-N/2, N/2)) are both
   multiples of K -- a sub-grid that keeps DC and is closed under conjugation;
3. ``sample`` n: n pairs drawn uniformly without replacement (``torch.randperm`` seeded with ``seed``) from what is
   left, returned in row-major order;
4. ``shard`` (i, n): the pairs whose position in that list is i mod n (0-based, as ``freqprobe sweep --shard``).

Each cell is evaluated exactly as in the full map (the random signs are shared by all frequencies), so a subset's
cells equal the full map's, and the shards of a map merge into it exactly
(:mod:`~freqprobe.analysis.sensitivity.heatmap_merge`).

A random sample estimates the mean error over the cells of the population it was drawn from (after steps 1-2):
with m_j = 1 or 2 cells per pair (DC and the Nyquist frequencies are their own conjugates), N pairs and M = sum m_j
cells in the population, y_j = N m_j e_j / M has population mean equal to that cell mean, and the sample mean of y
over the n drawn pairs is unbiased for it; its 95% interval is the Student-t interval
y_bar +- t_{0.975, n-1} s_y / sqrt(n) sqrt(1 - n/N) (simple random sampling without replacement, finite-population
correction; Cochran, "Sampling Techniques", 1977, ch. 2). It covers the sampling of frequencies only: the test
images and the random signs are fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from freqprobe.analysis.sensitivity.heatmap import Frequency, canonical_frequencies, conjugate
from freqprobe.errors import ConfigError

CONFIDENCE = 0.95


@dataclass(frozen=True)
class HeatMapPlan:
    """The frequencies to evaluate; see the module docstring for the order of the steps."""

    max_radius: float | None = None
    stride: int = 1
    sample: int | None = None
    seed: int = 0
    shard: tuple[int, int] = (0, 1)

    def __post_init__(self) -> None:
        if not isinstance(self.stride, int) or self.stride < 1:
            raise ConfigError(f"--heatmap-stride {self.stride!r} must be a positive integer (1 = every frequency)")
        if self.sample is not None and (not isinstance(self.sample, int) or self.sample < 2):
            raise ConfigError(f"--heatmap-sample {self.sample!r} must be an integer >= 2 (an interval needs two)")
        index, count = self.shard
        if not (isinstance(index, int) and isinstance(count, int) and 0 <= index < count):
            raise ConfigError(f"--shard {index}/{count} is out of range: shards are 0-based, use 0/{count} .. "
                              f"{count - 1}/{count}")

    def population(self, height: int, width: int) -> list[Frequency]:
        """The pairs within ``max_radius`` on the stride's sub-grid (steps 1-2)."""
        pairs = canonical_frequencies(height, width, self.max_radius)
        if self.stride == 1:
            return pairs
        return [pair for pair in pairs if _on_subgrid(pair, height, width, self.stride)]

    def selected(self, height: int, width: int) -> list[Frequency]:
        """All pairs the plan evaluates over every shard (steps 1-3), row-major.

        Raises:
            ConfigError: nothing left, or a sample larger than the population.
        """
        population = self.population(height, width)
        if not population:
            raise ConfigError(
                f"the heat-map selection (max radius {self.max_radius}, stride {self.stride}) leaves no frequency of "
                f"the {height}x{width} grid; lower --heatmap-stride or raise --heatmap-max-radius"
            )
        if self.sample is None:
            return population
        if self.sample > len(population):
            raise ConfigError(
                f"--heatmap-sample {self.sample} exceeds the {len(population)} frequency pairs selected; use at most "
                f"{len(population)} or leave it out for the whole selection"
            )
        drawn = torch.randperm(len(population), generator=torch.Generator().manual_seed(int(self.seed)))
        return [population[index] for index in sorted(drawn[: self.sample].tolist())]

    def shard_pairs(self, height: int, width: int) -> list[Frequency]:
        """The pairs this shard evaluates (step 4)."""
        index, count = self.shard
        return self.selected(height, width)[index::count]

    def describe(self, height: int, width: int) -> dict:
        """The plan as recorded in sensitivity.json's ``heatmap`` section."""
        index, count = self.shard
        return {
            "selection": {
                "max_radius": self.max_radius,
                "stride": self.stride,
                "sample": self.sample,
                "sample_seed": self.seed if self.sample is not None else None,
                "grid_pairs": len(canonical_frequencies(height, width)),
                "population_pairs": len(self.population(height, width)),
                "selected_pairs": len(self.selected(height, width)),
                "order": "|f| <= max_radius, then signed indices multiples of stride, then a uniform sample without "
                "replacement (torch.randperm seeded with sample_seed), then shard i takes positions i mod n",
            },
            "shard": {"index": index, "count": count},
        }


def sampled_mean_estimate(error: torch.Tensor, plan: HeatMapPlan) -> dict | None:
    """The population's mean cell error estimated from a random sample's cells, with its 95% interval (module
    docstring); None unless the plan samples. ``error``: (H, W) with the sampled pairs filled (NaN elsewhere).

    Raises:
        ConfigError: a sampled pair has no value (merge every shard first).
    """
    if plan.sample is None:
        return None
    from scipy import stats

    height, width = error.shape
    population = plan.population(height, width)
    cells = sum(_cells(pair, height, width) for pair in population)
    values = []
    for pair in plan.selected(height, width):
        value = float(error[pair])
        if math.isnan(value):
            raise ConfigError(f"heat-map pair {pair} of the sample has no value; merge every shard before estimating")
        values.append(len(population) * _cells(pair, height, width) * value / cells)
    sample = torch.tensor(values, dtype=torch.float64)
    n, total = len(values), len(population)
    mean = float(sample.mean())
    half_width = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * float(sample.std()) / math.sqrt(n)
    half_width *= math.sqrt(1.0 - n / total)
    return {
        "mean_error": mean,
        "ci_low": mean - half_width,
        "ci_high": mean + half_width,
        "confidence": CONFIDENCE,
        "sampled_pairs": n,
        "population_pairs": total,
        "method": "mean cell error of the population (radius and stride selection) from a simple random sample of "
        "pairs without replacement: Student-t interval with finite-population correction, over the sampling of "
        "frequencies only (images and signs fixed)",
    }


def _on_subgrid(pair: Frequency, height: int, width: int, stride: int) -> bool:
    ky, kx = pair
    signed_y = ky - height if ky >= (height + 1) // 2 else ky
    signed_x = kx - width if kx >= (width + 1) // 2 else kx
    return signed_y % stride == 0 and signed_x % stride == 0


def _cells(pair: Frequency, height: int, width: int) -> int:
    """Cells of the grid a pair fills: 1 for a frequency that is its own conjugate, else 2."""
    return 1 if conjugate(pair, height, width) == pair else 2
