"""Statistics over seeds and variants, one concept per module: ``intervals`` (mean, std and confidence interval of a
group of runs that differ only in seed), ``paired`` (differences against a baseline variant matched by seed),
``correlations`` (Spearman rho across variants' means, seed-resampling interval, permutation p-value) and ``partial``
(the same controlling for a third column, e.g. clean accuracy). numpy and scipy.stats only; nothing from the rest of
freqprobe but :mod:`freqprobe.tables` and :mod:`freqprobe.errors`, so sweeps, compare and report can all use it."""

from freqprobe.stats.correlations import RankCorrelation, format_p, rank_correlation_of_means
from freqprobe.stats.intervals import CONFIDENCE, SeedSummary, describe_method, seed_summary, t_interval
from freqprobe.stats.paired import PairedDifference, paired_difference
from freqprobe.stats.partial import partial_rank_correlation_of_means

__all__ = [
    "CONFIDENCE", "PairedDifference", "RankCorrelation", "SeedSummary", "describe_method", "format_p",
    "paired_difference", "partial_rank_correlation_of_means", "rank_correlation_of_means", "seed_summary",
    "t_interval",
]
