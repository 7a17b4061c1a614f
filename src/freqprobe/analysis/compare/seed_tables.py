"""The statistics of a comparison as its files show them: the variants table (compare.md and variants.csv: mean,
std and 95% interval over seeds, n beside each), the paired differences against the baseline, the rank and partial
correlation sections, and the figure captions that state n and the interval method (compare.json ``captions``)."""

from __future__ import annotations

import csv
import io
from typing import Any, Sequence

from freqprobe.analysis.compare.statistics import CORRELATION_METHOD, PARTIAL_METHOD
from freqprobe.analysis.compare.table import Comparison
from freqprobe.analysis.compare.variants import SUMMARY_COLUMNS
from freqprobe.data.labels import dataset_label
from freqprobe.run_columns import COST_COLUMNS, PERCENT_COLUMNS
from freqprobe.stats import PairedDifference, SeedSummary, describe_method, format_p
from freqprobe.tables import csv_cell, markdown_table, unique

VARIANTS_CSV = "variants.csv"
VARIANT_CSV_COLUMNS = ("mean", "std", "n", "ci_low", "ci_high", "ci_method")


def variant_sizes(variants: Sequence[Any]) -> str:
    """``8 variants x 1 seed``, ``6 variants x 2-3 seeds``."""
    counts = [len(variant.runs) for variant in variants]
    if not counts:
        return "no variants"
    low, high = min(counts), max(counts)
    seeds = str(low) if low == high else f"{low}-{high}"
    return f"{len(counts)} variant{'s' if len(counts) != 1 else ''} x {seeds} seed{'' if high == 1 else 's'}"


def _summaries(variants: Sequence[Any]) -> list[SeedSummary]:
    return [variant.summary(column) for variant in variants for column in variant.stats]


def _scale_digits(column: str) -> tuple[float, int]:
    if column in PERCENT_COLUMNS:
        return 100.0, 2
    if column in COST_COLUMNS:
        return 1.0, 0
    return 1.0, 4


def format_variant_section(comparison: Comparison) -> list[str]:
    """Mean ± std [95% interval] (n) over seeds per variant and shown column; one line when every variant has a
    single seed (the runs table then holds the same numbers, and there is no interval)."""
    variants = comparison.variants
    if not variants:
        return []
    lines = ["", "## Variants: mean ± std [95% interval] over seeds", ""]
    if not any(len(variant.runs) > 1 for variant in variants):
        return lines + [f"Every variant has one seed ({variant_sizes(variants)}): n = 1, no standard deviation and no "
                        "interval; the runs table above holds the values, variants.csv the same per variant.", ""]
    shown = [name for name in SUMMARY_COLUMNS if any(name in variant.stats for variant in variants)]
    lines += [
        f"One row per variant (the runs that differ only in their seed; {variant_sizes(variants)}): "
        f"{describe_method(_summaries(variants))}. Percent as above; seconds and parameter counts as recorded in "
        f"each run's metrics.json. Every numeric column is in variants.csv.",
        "",
    ]
    rows = []
    for variant in variants:
        cells = [dataset_label(str(variant.identity.get("dataset"))), variant.label, str(len(variant.runs))]
        for name in shown:
            scale, digits = _scale_digits(name)
            cells.append(variant.cell(name, scale=scale, digits=digits))
        rows.append(cells)
    return lines + markdown_table(["dataset", "variant", "runs", *shown], rows)


def format_paired_section(comparison: Comparison) -> list[str]:
    """``highpass:2 - none: -0.40 points [-0.90, +0.10], n = 3`` per variant, for each shown column."""
    entries = comparison.paired_differences
    if not entries:
        return []
    lines = [
        "",
        f"## Paired differences against `{comparison.baseline}` (matched by seed)",
        "",
        "Each variant minus its baseline (the variant of the same dataset, model and options except for what "
        f"`{comparison.baseline}` names), seed by seed, over the seeds both have; mean with the 95% interval of the mean difference (Student-t for fewer "
        "than 10 seeds, BCa bootstrap from 10 on; n = 1: no interval). Accuracies in percentage points.",
        "",
    ]
    for column in (name for name in SUMMARY_COLUMNS if any(entry["column"] == name for entry in entries)):
        lines += [f"### {column}", ""] + [f"- {line}" for line in difference_lines(comparison, column)] + [""]
    return lines


def difference_lines(comparison: Comparison, column: str) -> list[str]:
    """``Fashion-MNIST: highpass:2 - none: -0.40 points [-0.90, +0.10], n = 3``, one per variant with ``column``."""
    scale, digits = _scale_digits(column)
    unit = "points" if column in PERCENT_COLUMNS else ""
    return [_describe_difference(entry, scale, unit, digits)
            for entry in comparison.paired_differences if entry["column"] == column]


def _describe_difference(entry: dict, scale: float, unit: str, digits: int) -> str:
    summary = SeedSummary(entry["mean"], entry["std"], entry["n"], entry["ci_low"], entry["ci_high"],
                          entry["ci_method"])
    text = PairedDifference(summary, entry["seeds"]).describe(entry["variant"], entry["baseline"], scale, unit, digits)
    return text if entry["dataset"] is None else f"{dataset_label(str(entry['dataset']))}: {text}"


def format_correlation_sections(comparison: Comparison) -> list[str]:
    """The rank correlation matrices (per dataset/model group first, pooled after them), the layer correlations and
    the partial correlations."""
    metric = comparison.metric_columns
    lines = ["", "## Spearman rank correlations across variants", ""]
    lines += [
        f"{CORRELATION_METHOD}. Each cell: rho [interval] p (number of variants with both values); "
        f"{variant_sizes(comparison.variants)}; - where fewer than 3 variants or a constant column leave rho undefined.",
        "",
    ]
    for group, matrix in comparison.correlations_by_group.items():
        lines += [f"### {_group_label(group)} only", ""] + _correlation_table(matrix, metric) + [""]
    if comparison.correlations_by_group:
        lines += [
            "### All variants pooled",
            "",
            "Over several datasets (or models) the pooled ranks mostly sort the groups (their accuracies and input "
            "centroids differ): read the per-group matrices above for links within a group.",
            "",
        ]
    lines += _correlation_table(comparison.correlations, metric)
    if comparison.layer_correlations:
        lines += ["", "## Input centroid vs each layer's mean kernel centroid", "",
                  "Across variants' means, as above.", ""]
        layer_rows = [[entry["layer"], _rho_cell(entry)] for entry in comparison.layer_correlations]
        lines += markdown_table(["layer", "Spearman rho [interval] p (variants)"], layer_rows)
    lines += format_partial_section(comparison)
    return lines


def format_partial_section(comparison: Comparison) -> list[str]:
    entries = comparison.partial_correlations
    if not entries:
        return []
    lines = ["", "## Partial rank correlations controlling for clean accuracy", "", f"{PARTIAL_METHOD[0].upper()}"
             f"{PARTIAL_METHOD[1:]}. Plain rho beside it for reference.", ""]
    rows = [
        [_group_label(entry["group"]), entry["x"], entry["y"], _signed(entry["plain_rho"]), _rho_cell(entry, p=False),
         format_p(entry["p_value"]), _q_cell(entry), _sizes(entry)]
        for entry in entries
    ]
    return lines + markdown_table(
        ["group", "filter statistic", "robustness", "plain rho", "partial rho [interval]", "p", "q (BH, group)",
         "variants x seeds"], rows
    )


def _q_cell(entry: dict) -> str:
    # compare.json written before q-values existed has none: shown as "-" rather than failing the report
    q = entry.get("q_value")
    return "-" if q is None else f"{format_p(q)} of {entry.get('tests_in_group')}"


def format_variants_csv(comparison: Comparison) -> str:
    """One line per variant and numeric column: identity, label, then mean, std, n, interval and its method, and the
    paired difference against the baseline (empty without one); accuracies as fractions."""
    fields = list(comparison.variants[0].identity) if comparison.variants else []
    paired = {(entry["variant"], entry["dataset"], entry["column"]): entry for entry in comparison.paired_differences}
    difference_columns = [f"difference_{name}" for name in VARIANT_CSV_COLUMNS] + ["difference_seeds"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*fields, "variant", "runs", "column", *VARIANT_CSV_COLUMNS, "baseline", *difference_columns])
    for variant in comparison.variants:
        for column, entry in variant.stats.items():
            difference = paired.get((variant.label, variant.identity.get("dataset"), column))
            tail = [""] * (len(difference_columns) + 1)
            if difference is not None:
                tail = [difference["baseline"], *(csv_cell(difference[name]) for name in VARIANT_CSV_COLUMNS),
                        " ".join(str(seed) for seed in difference["seeds"])]
            writer.writerow([*(csv_cell(variant.identity.get(name)) for name in fields), variant.label,
                             len(variant.runs), column, *(csv_cell(entry[name]) for name in VARIANT_CSV_COLUMNS),
                             *tail])
    return buffer.getvalue()


def figure_captions(comparison: Comparison) -> dict[str, str]:
    """Captions of compare's figures that state n and the interval method (the report shows them)."""
    sizes = variant_sizes(comparison.variants)
    methods = describe_method(_summaries(comparison.variants))
    rho = ("Spearman rho across the variants' means in each title, with its 95% seed-resampling interval (none with "
           "one seed per variant) and permutation p")
    used = " or ".join(sorted({summary.method for summary in _summaries(comparison.variants) if summary.method}))
    scatter = (f"one point per variant ({sizes}) at its mean over seeds, error bars its 95% interval "
               f"({used or 'none: one seed per variant'}; none for a variant of one seed); {rho}")
    captions = {
        "scatter_input_centroid.png": "Input spectral centroid of each variant's filtered training data against its "
        f"kernel centroids, accuracy and robustness: {scatter}",
        "scatter_kernel_centroid.png": f"First-layer kernel centroid against accuracy and robustness: {scatter}",
        "correlations.png": f"Spearman rank correlations between the run statistics across the variants' means "
        f"({sizes}); intervals and permutation p-values in compare.md",
        "layer_correlations.png": f"Spearman rank correlation between the input centroid and each convolution's mean "
        f"kernel centroid across the variants' means ({sizes}), layer by layer",
        "variant_summary.png": f"Each variant's clean and robust accuracy, heat-map error in three bands and "
        f"first-layer kernel centroid ({sizes}): {methods}; the bars are the means, the error bars the intervals",
        "variant_band_curves.png": f"Band ablation per variant ({sizes}): mean low-pass and high-pass test accuracy "
        "over the radius, with a band of one sample standard deviation over seeds",
        "scatter_strongest_link.png": f"Per group, the strongest Spearman correlation between a characteristic "
        f"(input, kernel or feature-map statistic) and an outcome (clean accuracy, robustness) across the variants' "
        f"means ({sizes}): each variant at its mean with its 95% interval; chosen as the largest |rho| of all the pairs "
        "the title counts, so its p-value is not corrected for that choice",
        "depth_profiles.png": f"Per variant ({sizes}), against relative depth (a convolution's rank in forward order "
        "over the count minus one): each convolution's mean kernel spectral centroid and its feature maps' "
        "ΔLog-amplitude (Nyquist minus DC); mean over seeds, band the 95% Student-t interval (none for one seed)",
        "corruption_profile.png": "Per corruption of the runs' `--corruptions` (mean over its 5 severities, "
        "ordered by the frequency group of their perturbation), "
        + (f"each variant's accuracy minus its baseline's (`{comparison.baseline}`), paired by seed"
           if comparison.baseline else "each variant's accuracy")
        + f" ({sizes}): {methods}; the bars are the means, the error bars the intervals",
    }
    return {name: text for name, text in captions.items() if name in set(comparison.figures.values())}


def _correlation_table(matrix: dict[str, dict[str, dict]], metric: Sequence[str]) -> list[str]:
    rows = [[name] + [_rho_cell(matrix[name][other]) for other in metric] for name in metric]
    return markdown_table(["", *metric], rows)


def _rho_cell(entry: dict, p: bool = True) -> str:
    if entry["rho"] is None:
        return f"- ({entry['n']})"
    text = _signed(entry["rho"])
    if entry.get("ci_low") is not None:
        text += f" [{entry['ci_low']:+.2f}, {entry['ci_high']:+.2f}]"
    if p and entry.get("p_value") is not None:
        text += f" p={format_p(entry['p_value'])}"
    return f"{text} ({entry['n']})" if p else text


def _sizes(entry: dict) -> str:
    seeds = entry.get("seeds_per_variant") or []
    if not seeds:
        return str(entry["n"])
    low, high = min(seeds), max(seeds)
    return f"{entry['n']} x {low if low == high else f'{low}-{high}'}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _group_label(group: str) -> str:
    if group == "all pooled":
        return group
    dataset, _, model = group.partition(" / ")
    return " / ".join(unique([dataset_label(dataset), *([model] if model else [])]))
