"""Feature-map columns of a run's row, from the ``features.json`` that ``freqprobe features`` writes.

A run's feature spectra are found in its own ``RUN/analysis/features.json`` (``freqprobe features RUN --out
RUN/analysis``), else in any ``features.json`` given to ``compare --features`` that has an entry for the run (the
entry's ``run`` is the run folder relative to that file's folder). The columns (meanings in
:data:`freqprobe.run_columns.METRIC_COLUMNS`) summarize the per-layer numbers over the run's convolutions, so runs of
one architecture and of different ones share them. The per-layer ΔLog-amplitude and kernel centroid against
relative depth are kept for the depth-profile figure.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any, Sequence

from freqprobe.errors import ConfigError
from freqprobe.tables import number_or_none

FEATURES_JSON = "features.json"


class FeatureSpectra:
    """The runs' entries of the ``features.json`` files given to compare, looked up by run folder."""

    def __init__(self, paths: Sequence[str | os.PathLike] = ()):
        self.paths = [Path(path) for path in paths]
        self._entries: dict[Path, tuple[dict, Path]] = {}
        for path in self.paths:
            for entry in _entries_of(path, strict=True):
                self._entries.setdefault(_run_path(entry, path), (entry, path))

    def of_run(self, run_dir: Path, own_file: Path | None) -> tuple[dict, Path] | None:
        """(entry, file) of the run: its own analysis file first (an entry naming it, or its only entry), then the
        given files; None when neither has it."""
        if own_file is not None:
            entries = _entries_of(own_file, strict=False)
            for entry in entries:
                if _run_path(entry, own_file) == run_dir.resolve():
                    return entry, own_file
            if len(entries) == 1:
                return entries[0], own_file
        return self._entries.get(run_dir.resolve())


def feature_columns(entry: dict) -> dict[str, float | None]:
    """The run's feature-map columns from its ``features.json`` entry: mean ΔLog-amplitude and mean spectral
    centroid over its convolutions' outputs, ΔLog-amplitude of the deepest convolution, mean aliasing share over its
    subsampling sites (None where the entry has no such layer or site)."""
    convolutions = _convolutions(entry)
    deltas = _numbers(layer.get("delta_log_amplitude") for layer in convolutions)
    centroids = _numbers(layer.get("spectral_centroid") for layer in convolutions)
    shares = _numbers(site.get("aliasing_share") for site in entry.get("subsampling", []))
    last = number_or_none(convolutions[-1].get("delta_log_amplitude")) if convolutions else None
    return {
        "feature_delta_log_mean": statistics.fmean(deltas) if deltas else None,
        "feature_delta_log_last": last,
        "feature_centroid_mean": statistics.fmean(centroids) if centroids else None,
        "feature_aliasing_mean": statistics.fmean(shares) if shares else None,
    }


def depth_profile(entry: dict) -> list[tuple[float, float]]:
    """(relative depth, ΔLog-amplitude) of each convolution output in forward order (:func:`relative_depth`)."""
    convolutions = _convolutions(entry)
    return relative_depth([number_or_none(layer.get("delta_log_amplitude")) for layer in convolutions])


def shaped_layers(layers: Sequence[dict]) -> list[dict]:
    """The convolutions of ``filters.json`` but the spatially flat (1x1) ones, whose spectrum is the grid's, not the
    training's."""
    return [layer for layer in layers if not layer.get("spatially_flat")]


def kernel_depth_profile(layers: Sequence[dict]) -> list[tuple[float, float]]:
    """(relative depth, mean kernel centroid) of each convolution of ``filters.json`` but the 1x1 ones
    (:func:`shaped_layers`)."""
    return relative_depth([number_or_none(layer.get("spectral_centroid_mean")) for layer in shaped_layers(layers)])


def relative_depth(values: Sequence[float | None]) -> list[tuple[float, float]]:
    """(rank / (count - 1), value) of each value in order, 0 for a single one; the ranks count the missing values
    too, which are then left out."""
    last = max(1, len(values) - 1)
    return [(rank / last, value) for rank, value in enumerate(values) if value is not None]


def _convolutions(entry: dict) -> list[dict]:
    """The entry's convolution outputs in forward order."""
    return sorted((layer for layer in entry.get("layers", []) if layer.get("kind") == "conv"),
                  key=lambda layer: layer.get("depth", 0))


def _entries_of(path: Path, strict: bool) -> list[dict]:
    """The ``runs`` of a features.json; a file given by the user that is not one raises, a run's own is skipped."""
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
        if not isinstance(runs, list):
            raise TypeError
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        if strict:
            raise ConfigError(
                f"{path} is not a features.json of freqprobe features; pass the file that command wrote"
            ) from None
        return []
    return [entry for entry in runs if isinstance(entry, dict)]


def _run_path(entry: dict, file: Path) -> Path:
    return (file.parent / str(entry.get("run", ""))).resolve()


def _numbers(values) -> list[float]:
    return [number for number in (number_or_none(value) for value in values) if number is not None]
