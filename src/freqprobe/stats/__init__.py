"""Statistics over seeds and variants, one concept per module: ``intervals`` (mean, std and confidence interval of a
group of runs that differ only in seed), ``paired`` (differences against a baseline variant matched by seed),
``correlations`` (Spearman rho across variants' means, seed-resampling interval, permutation p-value), ``partial``
(the same controlling for a third column, e.g. clean accuracy) and ``multiplicity`` (Benjamini-Hochberg q-values over
the many tests of one comparison). numpy and scipy.stats only; nothing from the rest of freqprobe but :mod:`freqprobe.tables` and :mod:`freqprobe.errors`, so sweeps, compare and report can all use it."""

from freqprobe.stats.correlations import RankCorrelation, format_p, rank_correlation_of_means
from freqprobe.stats.intervals import CONFIDENCE, SeedSummary, describe_method, seed_summary, t_interval
from freqprobe.stats.multiplicity import benjamini_hochberg
from freqprobe.stats.paired import PairedDifference, paired_difference
from freqprobe.stats.partial import partial_rank_correlation_of_means

__all__ = [
    "CONFIDENCE", "PairedDifference", "RankCorrelation", "SeedSummary", "benjamini_hochberg", "describe_method",
    "format_p", "paired_difference", "partial_rank_correlation_of_means", "rank_correlation_of_means",
    "seed_summary", "t_interval",
]
