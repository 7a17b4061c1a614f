"""Seed summaries of a comparison: the runs of one variant (same dataset, model, filter and swept options, only the
seed differs) as mean, sample standard deviation and 95% confidence interval per numeric column
(:func:`freqprobe.stats.seed_summary`: Student-t for few seeds, BCa bootstrap from 10 on; none for one seed), and
their mean band-ablation curves.

A sweep with ``seeds = [0, 1, 2]`` answers "does band-pass conv beat ordinary conv?" only through these: one run per
row (``compare.md``'s runs table) mixes the effect with seed noise.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any, Sequence

from freqprobe.stats import SeedSummary, seed_summary
from freqprobe.tables import is_number, unique

# The run columns compare.md shows per variant, in display order (absent columns are left out); every numeric column
# is summarized (compare.json, variants.csv).
SUMMARY_COLUMNS = (
    "clean_accuracy",
    "robust_accuracy",
    "heatmap_mean_error",
    "heatmap_error_low",
    "heatmap_error_mid",
    "heatmap_error_high",
    "heatmap_centroid",
    "lowpass_r50",
    "highpass_r50",
    "shift_consistency",
    "kernel_centroid_first",
    "kernel_centroid_mean",
    "kernel_aliasing_mean",
    "params",
    "flops_per_image",
    "epochs",
    "train_seconds",
)
IDENTITY_FIELDS = ("dataset", "model", "filter")


@dataclass
class VariantSummary:
    """The runs of one variant: its identity (dataset, model, filter, swept options), member runs and statistics.

    ``stats[column]`` is :meth:`freqprobe.stats.SeedSummary.to_dict` (``mean, std, n, ci_low, ci_high, ci_method``)
    over the runs that have the column (``std`` and the interval None for n = 1); ``members`` are the runs' rows
    (not written: compare.json has them as ``rows``); ``band_curve`` holds the mean and std of the low-/high-pass accuracy at each radius when every member's band
    ablation used the same radii.
    """

    identity: dict[str, Any]
    runs: list[str]
    seeds: list[Any]
    stats: dict[str, dict[str, float | int | None]]
    band_curve: dict[str, Any] | None = None
    label: str = ""
    members: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def summary(self, column: str) -> SeedSummary | None:
        entry = self.stats.get(column)
        if entry is None:
            return None
        return SeedSummary(entry["mean"], entry["std"], entry["n"], entry["ci_low"], entry["ci_high"],
                           entry["ci_method"])

    def values_by_seed(self, column: str) -> dict[Any, Any]:
        """{seed: the column's value} over the members (for pairing with another variant's seeds)."""
        return {row.get("seed"): row.get(column) for row in self.members}

    def to_dict(self) -> dict:
        return {
            **self.identity,
            "label": self.label,
            "runs": self.runs,
            "seeds": self.seeds,
            "stats": self.stats,
            "band_curve": self.band_curve,
        }

    def cell(self, column: str, scale: float = 1.0, digits: int = 2) -> str:
        """``mean ± std [low, high] (n=N)`` (scaled), ``mean (n=1, no interval)`` for a single run, ``-`` when no
        run has the column."""
        summary = self.summary(column)
        return "-" if summary is None else summary.cell(scale, digits)


def summarize_variants(
    rows: Sequence[dict[str, Any]],
    options: Sequence[str],
    curves: dict[str, dict[str, Any]] | None = None,
) -> list[VariantSummary]:
    """Group ``rows`` (compare's runs table) by dataset, model, filter and ``options``; one summary per group in
    order of first appearance. ``curves`` maps a run name to its band ablation (``radii``, ``low_pass_accuracy``,
    ``high_pass_accuracy``)."""
    fields = (*IDENTITY_FIELDS, *options)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        key = json.dumps([row.get(name) for name in fields], sort_keys=True, default=str)
        groups.setdefault(key, []).append(row)
    summaries = []
    skipped = {*fields, "run", "seed"}
    numeric = [
        column for column in unique(key for row in rows for key in row)
        if column not in skipped and any(is_number(row.get(column)) for row in rows)
    ]
    for members in groups.values():
        stats = {}
        for column in numeric:
            values = [float(row[column]) for row in members if is_number(row.get(column))]
            if values:
                stats[column] = seed_summary(values).to_dict()
        member_curves = [(curves or {}).get(row["run"]) for row in members]
        summaries.append(
            VariantSummary(
                identity={name: members[0].get(name) for name in fields},
                runs=[row["run"] for row in members],
                seeds=[row.get("seed") for row in members],
                stats=stats,
                band_curve=mean_band_curve([curve for curve in member_curves if curve is not None]),
                members=list(members),
            )
        )
    label_variants(summaries, fields)
    return summaries


def mean_band_curve(curves: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Mean and sample std over runs of the low-/high-pass accuracy at each radius; None when there is no curve or
    the runs used different radii (averaging them would need interpolation the table does not state)."""
    if not curves:
        return None
    radii = [float(r) for r in curves[0]["radii"]]
    if any([float(r) for r in curve["radii"]] != radii for curve in curves):
        return None
    result: dict[str, Any] = {"radii": radii, "runs": len(curves)}
    for key in ("low_pass_accuracy", "high_pass_accuracy"):
        columns = list(zip(*(curve[key] for curve in curves)))
        result[f"{key}_mean"] = [statistics.fmean(column) for column in columns]
        result[f"{key}_std"] = [statistics.stdev(column) if len(column) > 1 else None for column in columns]
    return result


def label_variants(summaries: Sequence[VariantSummary], fields: Sequence[str]) -> None:
    """Name each variant by the fields that differ between variants of its dataset (e.g. ``conv=bandpass:gabor@stem``),
    leaving out unset ones (``spectral_reg=none``, ``apr=none``) where set ones remain; ``baseline`` when nothing differs."""
    varying = [
        name
        for name in fields
        if name != "dataset"
        and len({json.dumps(summary.identity.get(name), default=str) for summary in summaries}) > 1
    ]
    for summary in summaries:
        # an option left unset (None: no regularizer, say) is named only when nothing else tells the variant apart
        given = [name for name in varying if not _unset(name, summary.identity.get(name))]
        parts = [_field_text(name, summary.identity.get(name)) for name in (given or varying)]
        summary.label = ", ".join(parts) or "baseline"


def _unset(name: str, value: Any) -> bool:
    """An option left at nothing: None, or the text ``none`` that some options take (``--apr none``); a filter
    ``none`` is a filter like any other."""
    return value is None or (name != "filter" and value == "none")


def _field_text(name: str, value: Any) -> str:
    if name == "filter":
        return str(value)
    if value is None:
        return f"{name}=none"
    return f"{name}={value}"
