"""Rank correlations between the columns of a comparison, across variants on their means over seeds
(:func:`freqprobe.stats.rank_correlation_of_means`: Spearman rho, seed-resampling interval, permutation p-value),
per group of one dataset and model (pooled only beside those), and partial rank correlations of the filter
statistics with the robustness columns controlling for clean accuracy (:mod:`freqprobe.stats.partial`)."""

from __future__ import annotations

from collections import Counter

from typing import Any, Sequence

import numpy as np

from freqprobe.errors import ConfigError
from freqprobe.run_columns import FILTER_STATISTIC_COLUMNS, LAYER_PREFIX, PARTIAL_CONTROL, ROBUSTNESS_COLUMNS
from freqprobe.stats import benjamini_hochberg, partial_rank_correlation_of_means, rank_correlation_of_means
from freqprobe.stats.correlations import PERMUTATIONS, RESAMPLES, SEED
from freqprobe.tables import is_number, unique

MIN_PAIRS = 3
CORRELATION_METHOD = (
    "Spearman rank correlation (average ranks for ties) across variants, on each variant's mean over its seeds; "
    f"interval: 95% percentile bootstrap resampling seeds within variants ({RESAMPLES} resamples, seed {SEED}; none "
    f"when every variant has one seed); p: two-sided permutation test of the pairing of the means "
    f"(scipy.stats.permutation_test, exact over all n! pairings when n! <= {PERMUTATIONS}, else {PERMUTATIONS} "
    f"random pairings, seed {SEED})"
)
PARTIAL_METHOD = (
    "partial Spearman correlation controlling for clean accuracy: Pearson correlation of the residuals of rank(x) and "
    "rank(y) after a least-squares line on rank(clean accuracy), across variants' means; interval and p as above "
    "(p permutes the residuals); numpy/scipy, not statsmodels (not a dependency; one least-squares fit per side); "
    "q: Benjamini-Hochberg false-discovery-rate adjusted p over the tests of one group "
    "(scipy.stats.false_discovery_control)"
)


def spearman(x: Sequence[float | None], y: Sequence[float | None]) -> tuple[float | None, int]:
    """Spearman's rank correlation (``scipy.stats.spearmanr``, average ranks for ties) of the pairs where both values
    are finite numbers, and the number of such pairs. None when fewer than 3 pairs remain or either side is constant.

    Raises:
        ConfigError: ``x`` and ``y`` differ in length.
    """
    from scipy import stats

    if len(x) != len(y):
        raise ConfigError(f"spearman needs two sequences of one length, got {len(x)} and {len(y)}")
    pairs = np.array([(float(a), float(b)) for a, b in zip(x, y) if is_number(a) and is_number(b)], dtype=np.float64)
    count = len(pairs)
    if count < MIN_PAIRS or np.ptp(pairs[:, 0]) == 0 or np.ptp(pairs[:, 1]) == 0:
        return None, count  # scipy would warn and return NaN for a constant side
    rho = float(stats.spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
    return max(-1.0, min(1.0, rho)), count


def variant_values(variants: Sequence[Any], columns: Sequence[str]) -> list[list[tuple]]:
    """Per variant, the (columns...) values of each of its runs (``VariantSummary.members``)."""
    return [[tuple(row.get(column) for column in columns) for row in variant.members] for variant in variants]


def correlation_matrix(variants: Sequence[Any], columns: Sequence[str]) -> dict[str, dict[str, dict]]:
    """``{a: {b: RankCorrelation.to_dict()}}`` over every pair of ``columns``, across ``variants``' means; the
    diagonal is rho = 1 without interval or test."""
    matrix: dict[str, dict[str, dict]] = {a: {} for a in columns}
    for i, a in enumerate(columns):
        for b in columns[i:]:
            if a == b:
                entry = rank_correlation_of_means(variant_values(variants, (a, a)), resamples=0, permutations=0)
                entry = entry.to_dict()
            else:
                entry = rank_correlation_of_means(variant_values(variants, (a, b))).to_dict()
            matrix[a][b] = matrix[b][a] = entry
    return matrix


def variant_groups(variants: Sequence[Any]) -> dict[str, list[Any]]:
    """Variants by dataset, or by dataset and model when several models each have several variants (a filter sweep
    over models); with one variant per model (architectures compared) the models are what varies within a dataset.
    Empty for a single group (the pooled matrix is then that group's)."""
    models = unique(variant.identity.get("model") for variant in variants)
    per_model = Counter((variant.identity.get("dataset"), variant.identity.get("model")) for variant in variants)
    by_model = len(models) > 1 and max(per_model.values()) > 1
    groups: dict[str, list[Any]] = {}
    for variant in variants:
        key = str(variant.identity.get("dataset"))
        if by_model:
            key += f" / {variant.identity.get('model')}"
        groups.setdefault(key, []).append(variant)
    return groups if len(groups) > 1 else {}


def correlations_by_group(variants: Sequence[Any], columns: Sequence[str]) -> dict[str, dict[str, dict[str, dict]]]:
    """One correlation matrix per dataset (and model) when the variants span several; empty for one group."""
    return {key: correlation_matrix(members, columns) for key, members in variant_groups(variants).items()}


def layer_correlations(variants: Sequence[Any], layer_columns: Sequence[str]) -> list[dict]:
    """Rank correlation of the input centroid with each layer's mean kernel centroid across variants, layer order."""
    result = []
    for index, column in enumerate(layer_columns):
        entry = rank_correlation_of_means(variant_values(variants, ("input_centroid", column))).to_dict()
        result.append({"layer": column.removeprefix(LAYER_PREFIX), "index": index, **entry})
    return result


def partial_correlations(variants: Sequence[Any], columns: Sequence[str]) -> list[dict]:
    """Each filter statistic against each robustness column present in ``columns``, controlling for clean accuracy:
    ``{group, x, y, control, rho, ci_low, ci_high, p_value, q_value, tests_in_group, n_variants, seeds_per_variant,
    plain_rho}`` per dataset (and model) group, then pooled over groups only when there are several (marked ``group:
    "all pooled"``). ``q_value`` adjusts ``p_value`` for the group's many tests
    (:func:`freqprobe.stats.benjamini_hochberg`)."""
    if PARTIAL_CONTROL not in columns:
        return []
    xs = [name for name in FILTER_STATISTIC_COLUMNS if name in columns]
    ys = [name for name in ROBUSTNESS_COLUMNS if name in columns]
    groups = variant_groups(variants) or {_single_group(variants): list(variants)}
    if len(groups) > 1:
        groups["all pooled"] = list(variants)
    entries = []
    for group, members in groups.items():
        group_entries = []
        for x in xs:
            for y in ys:
                partial = partial_rank_correlation_of_means(variant_values(members, (x, y, PARTIAL_CONTROL)))
                plain = rank_correlation_of_means(variant_values(members, (x, y)), resamples=0, permutations=0)
                group_entries.append({"group": group, "x": x, "y": y, "control": PARTIAL_CONTROL,
                                      **partial.to_dict(), "plain_rho": plain.rho})
        q_values = benjamini_hochberg([entry["p_value"] for entry in group_entries])
        tested = sum(q is not None for q in q_values)
        for entry, q in zip(group_entries, q_values):
            entry.update(q_value=q, tests_in_group=tested)
        entries += group_entries
    return entries


def _single_group(variants: Sequence[Any]) -> str:
    return " / ".join(unique(str(variant.identity.get("dataset")) for variant in variants))
