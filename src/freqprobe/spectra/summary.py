"""The JSON form of a dataset spectrum: metadata, definitions in words, and per-class numbers."""

from __future__ import annotations

import torch

from freqprobe import __version__
from freqprobe.data.labels import data_note
from freqprobe.spectra.dataset import DEFAULT_HISTOGRAM_BINS, DatasetSpectrum
from freqprobe.spectra.radial import power_law_slope, radial_profile

ALL_CLASSES = "all"

DEFINITIONS = {
    "frequency": "spatial frequency in cycles/pixel on the full FFT grid (fftfreq order); Nyquist is 0.5, the corner "
    "radius ~0.707; |f| = sqrt(fy^2 + fx^2)",
    "power_spectrum": "P(f) = |FFT2(x)(f)|^2 / (H W) for each channel of each image x, pixel values in [0, 1] after "
    "the filter, then averaged over channels. With a window w (the separable 2-D Hamming window, outer product of two "
    "symmetric 1-D windows): the channel's mean m is removed before windowing and its un-windowed DC power added "
    "back, P(f) = |FFT2((x - m) w)(f)|^2 / (H W mean(w^2)) + [f = 0] H W m^2, so the window only suppresses the "
    "leakage of the jump between opposite image borders (the '+' cross through DC), a constant image has the same "
    "spectrum with or without it, and dividing by mean(w^2) keeps the power level of the zero-mean part comparable",
    "mean_power_spectrum": "per class, the mean over its images of the channel-averaged power spectrum",
    "spectral_centroid": "per image: sum over the full FFT grid of |f| P(f) divided by sum of P(f), DC included, "
    "computed per channel and then averaged over channels; an all-zero image counts as 0",
    "spectral_centroid_mean": "mean of the per-image spectral centroids of the class, cycles/pixel",
    "spectral_centroid_std": "population standard deviation (ddof 0) of the per-image spectral centroids, cycles/pixel",
    "radial_profile": "mean of the class's mean power spectrum over annuli of |f|: annulus k holds the frequencies "
    "with round(|f| / d) = k (ties outward), d = 1 / min(H, W), radius = k d for k = 0 .. floor(min(H, W) / 2); bin 0 is DC "
    "alone; the grid corners beyond the Nyquist radius 0.5 are left out",
    "radial_slope": "least-squares slope of log(power) against log(radius) over the radial-profile bins with "
    "0 < radius <= 0.5 (DC excluded); about -2 for natural images",
    "centroid_histogram": "counts of the per-image spectral centroids of the class in bins [e_i, e_i+1) (the last bin "
    "also holds its right edge) on edges shared by all classes; counts sum to n_images",
    "discrimination_map": "figure only: for class k at frequency f, the number of other classes whose mean amplitude "
    "spectrum (mean over images of sqrt(P), channels averaged) is strictly lower than class k's",
}


def class_summary(
    power: torch.Tensor, centroids: torch.Tensor, n_bins: int | None, histogram: tuple[torch.Tensor, torch.Tensor]
) -> dict:
    """The JSON entry of one class (or of all images): power (H, W) mean power, centroids (n,) of its images."""
    radii, profile = radial_profile(power, n_bins)
    edges, counts = histogram
    n_images = int(centroids.numel())
    return {
        "n_images": n_images,
        "spectral_centroid_mean": float(centroids.mean()) if n_images else None,
        "spectral_centroid_std": float(centroids.std(correction=0)) if n_images else None,
        "radial_slope": _finite_or_none(power_law_slope(radii, profile)) if n_images else None,
        "radial_profile": {"radius": radii.tolist(), "power": profile.tolist()},
        "centroid_histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def spectrum_summary(
    result: DatasetSpectrum,
    metadata: dict,
    n_bins: int | None = None,
    histogram_bins: int = DEFAULT_HISTOGRAM_BINS,
) -> dict:
    """The content of ``spectrum.json``: ``metadata`` (dataset, source, split, filter, ...) first, then the numbers.

    ``classes`` maps each class name to :func:`class_summary`; ``all`` is the same over every image of the split.
    """
    edges, counts = result.centroid_histograms(histogram_bins)
    height, width = result.image_size
    per_class = {
        name: class_summary(result.mean_power[k], result.centroids[result.labels == k], n_bins, (edges, counts[k]))
        for k, name in enumerate(result.classes)
    }
    everything = class_summary(result.overall_mean_power(), result.centroids, n_bins, (edges, counts.sum(0)))
    summary = {
        **metadata,
        "window": result.window or "none",
        "n_images": result.n_images,
        "image_size": [height, width],
        "freqprobe_version": __version__,
        "definitions": DEFINITIONS,
        "classes": per_class,
        ALL_CLASSES: everything,
    }
    note = data_note(str(metadata.get("dataset", "")), str(metadata.get("source", "")))
    if note:
        summary["data_note"] = note
    return summary


def _finite_or_none(value: float) -> float | None:
    # JSON has no NaN; a slope that cannot be fitted is reported as null.
    return value if value == value and abs(value) != float("inf") else None
