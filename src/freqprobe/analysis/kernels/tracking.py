"""Kernel statistics per layer after every training epoch (``freqprobe train --track-kernels``)."""

from __future__ import annotations

import os

import torch

from freqprobe.analysis.kernels.layer_summary import summarize_layer
from freqprobe.analysis.kernels.responses import DEFAULT_GRID
from freqprobe.analysis.kernels.statistics import DEFAULT_CUTOFF, check_cutoff
from freqprobe.analysis.model_source import conv_layers, load_model_source, trace_conv_input_sizes
from freqprobe.errors import ConfigError
from freqprobe.io import append_jsonl

class KernelStatsCallback:
    """Per-layer kernel statistics after every epoch of training, to watch filters move.

    ``freqprobe train --track-kernels`` calls ``callback(0, model)`` before the first epoch of a fresh run and
    ``callback(epoch, model)`` after each completed epoch with the (unwrapped) model; each
    call appends ``{"epoch": epoch, "layers": [...]}`` to :attr:`history` and, with ``path``, one JSON line to that
    file (``freqprobe.io.append_jsonl``: a killed run loses at most the line being written). Each layer entry holds
    the scalar fields of :func:`summarize_layer` (spectral centroid mean/std, high-frequency ratio, filter quality,
    aliasing share); histograms, radial profiles and, unless ``singular_values``, singular values are left out to
    keep the per-epoch cost at a few hundred milliseconds even for ResNet-18.
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        grid: int = DEFAULT_GRID,
        cutoff: float = DEFAULT_CUTOFF,
        singular_values: bool = False,
        input_size: int = 32,
    ):
        self.path = path
        self.grid = grid
        self.cutoff = check_cutoff(cutoff)
        self.singular_values = singular_values
        self.input_size = input_size
        self.history: list[dict] = []

    def __call__(self, epoch: int, model: torch.nn.Module) -> dict:
        sizes: dict[str, tuple[int, int]] = {}
        if self.singular_values:
            source = load_model_source(model)
            sizes = trace_conv_input_sizes(model, source.in_channels, self.input_size, source.description)
        layers, skipped = [], []
        for name, module in conv_layers(model):
            try:
                summary = summarize_layer(name, module, self.grid, self.cutoff, sizes.get(name), self.singular_values)
            except ConfigError as error:  # a dilated kernel wider than the grid: recorded, never dropped silently
                skipped.append({"name": name, "reason": str(error)})
                continue
            layers.append({key: value for key, value in summary.items() if key not in _BULKY_FIELDS})
        record = {"epoch": int(epoch), "layers": layers}
        if skipped:
            record["skipped_layers"] = skipped
        self.history.append(record)
        if self.path is not None:
            append_jsonl(self.path, record)
        return record


_BULKY_FIELDS = ("histograms", "radial_profile", "singular_values", "per_group")
