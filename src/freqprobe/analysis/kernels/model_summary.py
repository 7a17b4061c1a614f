"""Whole models: one summary per convolution, as written to filters.json by ``freqprobe filters``, and the
per-layer comparison of two models' kernel distributions."""

from __future__ import annotations

import time

import torch

from freqprobe.analysis.aliasing import as_stride_pair
from freqprobe.analysis.filter_quality import wasserstein_1d
from freqprobe.analysis.kernels.layer_summary import add_time, analysis_weight, kernel_histograms, summarize_layer
from freqprobe.analysis.kernels.responses import DEFAULT_GRID
from freqprobe.analysis.kernels.statistics import (
    DEFAULT_CUTOFF,
    KernelStatistics,
    check_cutoff,
    kernel_statistics,
)
from freqprobe.analysis.model_source import (
    ModelSource,
    SourceLike,
    conv_layers,
    load_model_source,
    skipped_convolutions,
    trace_conv_input_sizes,
)
from freqprobe.errors import ConfigError

DEFINITIONS = {
    "frequency": "cycles/pixel on the full zero-padded grid x grid FFT grid (fftfreq order), |f| up to ~0.707",
    "normalized_power": "p(f) = |K(f)|^2 / sum_f |K(f)|^2 of each (output, input) kernel zero-padded to the grid",
    "spectral_centroid": "sum_f |f| p(f), DC included (the dataset-spectra definition); mean/std over the non-zero "
    "kernels (all-zero kernels are counted in zero_kernels and left out of every statistic)",
    "high_frequency_ratio": "sum of p(f) over |f| > cutoff (energy above the cutoff / total); mean over kernels",
    "orientation": "energy-weighted axial mean of the frequency angle phi = atan2(f_y, f_x) mod pi (doubled-angle "
    "mean) over f other than DC and the unpaired Nyquist row/column; 0 = horizontal frequency (vertical edges); "
    "histogram weighted by orientation_coherence",
    "orientation_coherence": "|sum P exp(2i phi)| / sum P over the same f: 0 isotropic, 1 one orientation",
    "radial_profile": "mean over kernels of p(f), averaged over annuli of |f| (freqprobe.spectra.radial_profile)",
    "singular_values": "of the layer as a circular convolution on its traced input size, stride included "
    "(Sedghi et al. 2019, exact via the kernel DFT); spectral_norm is the largest",
    "sparsity": "share of kernels whose taps are all below 1% of the layer's max |tap| (Gavrikov & Keuper 2022)",
    "variance_entropy": "-sum p_j log10 p_j of the variance shares p_j = s_j^2 / sum s^2 of the singular values of "
    "the centred (kernels, kh*kw) tap matrix; _normalized divides by log10(kh*kw)",
    "orthogonality": "1 - mean |cosine| between distinct output filters flattened over input channels and taps",
    "aliasing_share": "strided layers: energy of all kernels at frequencies above the new Nyquist limit "
    "(|f_y| > 0.5/s_y or |f_x| > 0.5/s_x) / their total energy, i.e. the share that folds back for a white input",
    "comparison": "per layer, 1-Wasserstein distance between the two models' per-kernel distributions",
    "dilation": "a dilated kernel is analysed as the kernel with dilation - 1 zeros between its taps (its response is "
    "K(dilation * f)); the grid must hold its extent dilation * (k - 1) + 1",
    "per_group": "grouped convolutions: per group (output channels g O/G.., input channels g I/G..) the mean centroid "
    "and high-frequency ratio of its kernels, its operator's spectral norm, its filters' orthogonality and its "
    "aliasing share; the layer's singular values are those of the block-diagonal operator (union over groups) and "
    "its orthogonality the mean over groups with two or more filters",
    "spatially_flat": "1x1 kernels: the same response at every frequency; reported, but left out of all-layer kernel "
    "means (compare's kernel_centroid_mean)",
    "notes": "per layer, why a value is null or how to read it",
    "skipped_layers": "convolutions freqprobe did not analyse, each with the reason",
}


def analyze_kernels(
    model_or_source: SourceLike,
    grid: int = DEFAULT_GRID,
    cutoff: float = DEFAULT_CUTOFF,
    input_size: int | tuple[int, int] | None = None,
    *,
    model_name: str | None = None,
    in_channels: int | None = None,
    num_classes: int | None = None,
    compare: SourceLike | None = None,
    singular_values: bool = True,
) -> dict:
    """Kernel frequency responses of every convolution of a model: the content of ``filters.json``.

    ``model_or_source``: an nn.Module, a run folder, a weights file (with ``model_name`` and ``in_channels``) or a
    :class:`~freqprobe.analysis.model_source.ModelSource`. ``input_size`` is the side (or (H, W)) of the dummy input
    whose forward pass gives each layer's input size for the singular values (default: 28 for fashion-mnist runs,
    else 32). Convolutions that cannot be analysed (transposed, 1-D/3-D, quantized, a dilated kernel wider than the
    grid) are listed in ``skipped_layers`` with the reason.
    ``compare``: a second model (same kinds, same options) whose per-layer kernel distributions are compared.
    ``singular_values=False`` skips the exact singular values (``spectral_norm`` is then None): for ResNet-18 they
    cost several times more than everything else together (see :mod:`freqprobe.analysis.singular`).

    Returns a JSON-ready dict: top-level metadata (source, model, grid, cutoff, input size, definitions, timings),
    ``layers`` (one summary per convolution, see :func:`summarize_layer`) and, with ``compare``, ``comparison``.
    """
    cutoff = check_cutoff(cutoff)
    started = time.perf_counter()
    source = load_model_source(model_or_source, model_name, in_channels, num_classes)
    size = input_size or source.input_size
    layers, skipped, timings = _analyze_model(source, grid, cutoff, size, singular_values)
    result = {
        "source": source.description,
        "model": source.model_name or type(source.model).__name__,
        "dataset": source.dataset,
        "model_source": source.record,
        "in_channels": source.in_channels,
        "input_size": size if isinstance(size, int) else list(size),
        "grid": grid,
        "cutoff": cutoff,
        "definitions": dict(DEFINITIONS),
        "totals": {
            "conv_layers": len(layers),
            "kernels": sum(layer["kernels"] for layer in layers),
            "conv_parameters": sum(layer["parameters"] for layer in layers),
            "grouped_layers": sum(layer["groups"] > 1 for layer in layers),
            "spatially_flat_layers": sum(layer["spatially_flat"] for layer in layers),
            "skipped_layers": len(skipped),
        },
        "seconds": {**timings, "total": time.perf_counter() - started},
        "layers": layers,
        "skipped_layers": skipped,
    }
    if compare is not None:
        other = load_model_source(compare, model_name, in_channels, num_classes)
        result["comparison"] = compare_kernels(source.model, other.model, grid, cutoff)
        result["comparison"]["source"] = other.description
        result["seconds"]["total"] = time.perf_counter() - started
    return result


def kernel_statistics_by_layer(
    model: torch.nn.Module, grid: int = DEFAULT_GRID, cutoff: float = DEFAULT_CUTOFF
) -> dict[str, KernelStatistics]:
    """{layer name: :class:`KernelStatistics`} for every convolution of ``model`` whose (dilated) kernel fits the
    grid."""
    found = {}
    for name, module in conv_layers(model):
        try:
            found[name] = kernel_statistics(
                analysis_weight(module), grid, cutoff, as_stride_pair(module.stride), module.dilation
            )
        except ConfigError:
            continue  # listed among the unmatched layers of the comparison
    return found


def compare_kernels(
    model_a: torch.nn.Module, model_b: torch.nn.Module, grid: int = DEFAULT_GRID, cutoff: float = DEFAULT_CUTOFF
) -> dict:
    """Per-layer distances between two models' kernel distributions, layers matched by name and kernel size.

    For each matched layer: 1-Wasserstein distances of the per-kernel spectral centroid (cycles/pixel) and
    high-frequency ratio, the differences of their means (b - a), and model b's per-kernel histograms (counts on the
    edges of the layer summaries). Layers in only one model, or without non-zero kernels, are listed as unmatched.
    """
    stats_a = kernel_statistics_by_layer(model_a, grid, cutoff)
    stats_b = kernel_statistics_by_layer(model_b, grid, cutoff)
    layers, unmatched = [], sorted(set(stats_a) ^ set(stats_b))
    for name, a in stats_a.items():
        b = stats_b.get(name)
        if b is None:
            continue
        if not (a.nonzero.any() and b.nonzero.any()):
            unmatched.append(name)
            continue
        entry = {"name": name}
        for key in ("spectral_centroid", "high_frequency_ratio"):
            values_a, values_b = getattr(a, key)[a.nonzero], getattr(b, key)[b.nonzero]
            entry[f"{key}_wasserstein"] = wasserstein_1d(values_a, values_b)
            entry[f"{key}_mean_difference"] = float(values_b.mean() - values_a.mean())
        # Model b's histograms on the same edges as model a's, so figures can overlay them.
        entry.update({f"{key}_histogram": value["counts"] for key, value in kernel_histograms(b, grid).items()})
        layers.append(entry)
    return {"measure": "1-Wasserstein distance per layer", "layers": layers, "unmatched_layers": unmatched}


def _analyze_model(
    source: ModelSource, grid: int, cutoff: float, size: int | tuple[int, int], singular_values: bool
) -> tuple[list[dict], list[dict], dict[str, float]]:
    """(layer summaries, skipped layers {name, type, reason}, seconds per part)."""
    layers = conv_layers(source.model)
    skipped = skipped_convolutions(source.model)
    if not layers:
        reasons = "; ".join(f"{entry['name']}: {entry['reason']}" for entry in skipped)
        raise ConfigError(f"{source.description} has no 2-D convolution to analyse" + (f" ({reasons})" if reasons else ""))
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    sizes = trace_conv_input_sizes(source.model, source.in_channels, size, source.description)
    add_time(timings, "trace", clock)
    summaries = []
    for name, module in layers:
        try:
            summaries.append(summarize_layer(name, module, grid, cutoff, sizes.get(name), singular_values, timings))
        except ConfigError as error:  # a dilated kernel wider than the grid: listed, never dropped silently
            skipped.append({"name": name, "type": type(module).__name__, "reason": str(error)})
    if not summaries:
        reasons = "; ".join(f"{entry['name']}: {entry['reason']}" for entry in skipped)
        raise ConfigError(f"{source.description}: no convolution could be analysed ({reasons})")
    return summaries, skipped, timings
