"""Feature-map spectra after every training epoch (``freqprobe train --track-features``), on one fixed small batch."""

from __future__ import annotations

import os

import torch
from torch import nn

from freqprobe.analysis.features.probe import feature_spectra
from freqprobe.io import append_jsonl

TRACKED_IMAGES = 64
_BULKY_FIELDS = ("mean_log_amplitude", "radial_profile")


class FeatureStatsCallback:
    """Per-layer feature-map statistics of ``model`` on the fixed ``images`` after every epoch.

    ``callback(epoch, model)`` runs :func:`~freqprobe.analysis.features.feature_spectra` on ``images`` (float
    (N, C, H, W), already through the run's input filter: the trainer passes the first :data:`TRACKED_IMAGES`
    validation images taken round-robin over classes), appends ``{"epoch", "n_images", "layers",
    "subsampling"}`` to :attr:`history` and, with ``path``, as one JSON line to that file. Each layer keeps the scalar
    fields of ``features.json`` (ΔLog-amplitude, centroid, ...); the grids and radial profiles are left out.
    The model's train/eval mode is restored; the images go to the device of the model's parameters.
    """

    def __init__(self, images: torch.Tensor, path: str | os.PathLike | None = None, layers: str | None = None):
        self.images = images
        self.path = path
        self.layers = layers
        self.history: list[dict] = []

    def __call__(self, epoch: int, model: nn.Module) -> dict:
        reference = next(iter(model.parameters()), None)
        device = reference.device if reference is not None else torch.device("cpu")
        result = feature_spectra(model, self.images, layers=self.layers, batch_size=len(self.images), device=device)
        summary = result.to_dict(grids=False)
        record = {
            "epoch": int(epoch),
            "n_images": summary["n_images"],
            "layers": [{key: value for key, value in layer.items() if key not in _BULKY_FIELDS}
                       for layer in summary["layers"]],
            "subsampling": summary["subsampling"],
        }
        self.history.append(record)
        if self.path is not None:
            append_jsonl(self.path, record)
        return record


def tracking_batch(images: torch.Tensor, labels: torch.Tensor, count: int = TRACKED_IMAGES) -> torch.Tensor:
    """The first ``count`` of ``images`` taken round-robin over ``labels`` (deterministic, classes balanced)."""
    from freqprobe.train.prepare import stratified_first

    return images[stratified_first(labels, min(count, len(labels)))]
