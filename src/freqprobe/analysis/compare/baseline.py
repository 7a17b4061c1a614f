"""Paired differences against a baseline variant: for every variant, each numeric column minus the baseline's, seed
by seed (:func:`freqprobe.stats.paired_difference`, Student-t interval for few seeds).

The baseline of a variant is the variant of the same dataset, model and swept options whose filter is the chosen
one (``--baseline FILTER``; ``none`` by default when such a variant exists).
"""

from __future__ import annotations

from typing import Any, Sequence

from freqprobe.errors import ConfigError
from freqprobe.stats import paired_difference

DEFAULT_BASELINE = "none"


def check_baseline(baseline: str | None, filters: Sequence[str]) -> str | None:
    """The baseline filter to use: ``baseline`` when some run has it; None (no paired differences) when it was left
    at None and no run is unfiltered.

    Raises:
        ConfigError: an explicit ``baseline`` that no run was trained with.
    """
    if baseline is None:
        return DEFAULT_BASELINE if DEFAULT_BASELINE in filters else None
    if baseline not in filters:
        raise ConfigError(
            f"--baseline {baseline!r} matches no run; the compared runs have the filters {', '.join(sorted(set(filters)))}"
        )
    return baseline


def paired_differences(variants: Sequence[Any], baseline: str | None) -> list[dict]:
    """``{variant, baseline, dataset, column, mean, std, n, ci_low, ci_high, ci_method, seeds}`` for every variant
    other than its baseline and every column both have on a shared seed, in variant then column order."""
    if baseline is None:
        return []
    by_identity = {
        _identity_key(variant): variant for variant in variants if variant.identity.get("filter") == baseline
    }
    entries = []
    for variant in variants:
        reference = by_identity.get(_identity_key(variant))
        if reference is None or reference is variant:
            continue
        for column in variant.stats:
            if column not in reference.stats:
                continue
            difference = paired_difference(variant.values_by_seed(column), reference.values_by_seed(column))
            if difference is not None:
                entries.append({"variant": variant.label, "baseline": reference.label,
                                "dataset": variant.identity.get("dataset"), "column": column, **difference.to_dict()})
    return entries


def _identity_key(variant: Any) -> str:
    return repr(sorted((name, repr(value)) for name, value in variant.identity.items() if name != "filter"))
