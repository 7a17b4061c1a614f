"""Score a model under every corruption and severity, measure each corruption's perturbation spectrum, and tie the
two to the Fourier heat map (``freqprobe sensitivity RUN --corruptions``).

The evaluated pipeline is the sensitivity one: corrupt the clean pixel image -> input filter -> model. Errors are
fractions of the test images. With released data (:mod:`~freqprobe.corruptions.released`) the errors come from the
released images of the same test rows, while the perturbation spectra (which need the clean images the release does
not hold) come from the torch corruptions of the run's own test images.
"""

from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

from freqprobe.analysis.sensitivity.pipeline import InferenceSettings, build_pipeline, predict
from freqprobe.corruptions.generate import corrupt
from freqprobe.corruptions.released import ReleasedCorruptions
from freqprobe.corruptions.spectrum import BAND_TEXT, PerturbationSpectrum, predicted_error, summarize
from freqprobe.corruptions.summary import link_to_heat_map, summary_statistics
from freqprobe.corruptions.table import ALL, PARAMETERS, SEVERITIES, SOURCE
from freqprobe.errors import ConfigError

Progress = Callable[[str], None]

APPROXIMATIONS = (
    "frost: SYNTHESIZED texture (seeded 1/f random field) instead of the six frost photographs of the original",
    "spatter (water, severities 1-3): drops without the original's Canny/distance-transform/emboss shading",
    "motion blur and snow: ImageMagick's one-sided Gaussian kernel rebuilt in torch, without the PNG round trip",
    "gaussian and glass blur: reflect borders where skimage uses nearest",
)

DEFINITIONS = {
    "error": "share of the test images misclassified, per severity 1..5 (fraction)",
    "mean_error": "mean of the five severities' errors (fraction)",
    "perturbation_spectrum": "mean power spectrum of (corrupted - clean) over images, channels and severities, "
    "|FFT2|^2 / (H W), on the torch corruptions of the run's test images",
    "spectral_centroid": "sum |f| P / sum P over the full grid, DC included, cycles/pixel (freqprobe's definition)",
    "band_shares": "share of the perturbation power in each band: " + BAND_TEXT,
    "group": "the band holding the perturbation's spectral centroid",
    "mean_squared_perturbation": "mean over pixels of (corrupted - clean)^2 (pixel units^2, images in [0, 1])",
    "predicted_error": "Yin et al. 2019: the heat map's error averaged over frequencies weighted by the perturbation "
    "power (evaluated cells only)",
    "mean_corruption_error": "mean error over the 15 benchmark corruptions and 5 severities (fraction)",
    "mean_corruption_accuracy": "1 - mean_corruption_error",
    "group_accuracy": "mean accuracy over the benchmark corruptions of each frequency group and their severities",
    "mce": "Hendrycks & Dietterich: CE_c = sum_s E_s,c / sum_s E_s,c(baseline), mCE = mean of CE_c over the 15 "
    "benchmark corruptions, in percent",
}


def evaluate_corruptions(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    input_filter: nn.Module | None = None,
    *,
    names: tuple[str, ...] = ALL,
    seed: int = 0,
    settings: InferenceSettings | None = None,
    heat_map: torch.Tensor | None = None,
    released: ReleasedCorruptions | None = None,
    released_rows: torch.Tensor | None = None,
    progress: Progress | None = None,
) -> dict:
    """The ``corruptions`` section of sensitivity.json (see DESIGN.md) for float images (N, C, H, W) in [0, 1].

    Args:
        heat_map: (H, W) Fourier heat-map error, fftfreq order, NaN where not evaluated; None leaves the prediction out.
        released, released_rows: score on these rows of the released files instead of the torch corruptions.

    Raises:
        ConfigError: unknown corruption names, images and released files of different shapes.
    """
    settings = settings or InferenceSettings()
    unknown = [name for name in names if name not in PARAMETERS]
    if unknown:
        raise ConfigError(f"unknown corruption {unknown[0]!r}; valid: {', '.join(ALL)}")
    if released is not None:
        names = tuple(name for name in names if name in released.names)
        if tuple(images.shape[1:]) != released.image_shape:
            raise ConfigError(
                f"released corruption images are {released.image_shape} but the run's test images are "
                f"{tuple(images.shape[1:])}; --corruption-data fits CIFAR-10 runs only"
            )
    pipeline = build_pipeline(model, input_filter, settings)
    started = time.perf_counter()
    clean_error = _error(pipeline, images, labels, settings)
    results = {}
    for name in names:
        results[name] = _one_corruption(
            pipeline, name, images, labels, seed, settings, heat_map, released, released_rows
        )
        if progress is not None:
            entry = results[name]
            progress(f"corruptions: {name}: mean error {100 * entry['mean_error']:.1f}% (group {entry['group']})")
    section = {
        "source": "released CIFAR-10-C files" if released is not None else "synthesized in torch (freqprobe.corruptions)",
        "data": released.source if released is not None else None,
        "parameters_source": SOURCE,
        "frost": "synthesized 1/f texture, not the published frost photographs" if released is None else "released",
        "approximations": list(APPROXIMATIONS) if released is None else [],
        "seed": seed,
        "n_images": len(labels),
        "image_size": list(images.shape[-2:]),
        "clean_error": clean_error,
        "definitions": DEFINITIONS,
        "per_corruption": results,
        "seconds": time.perf_counter() - started,
        **settings.describe(),
    }
    section.update(summary_statistics(results))
    section["yin"] = link_to_heat_map(results) if heat_map is not None else None
    return section


def _one_corruption(pipeline, name, images, labels, seed, settings, heat_map, released, released_rows) -> dict:
    entry = PARAMETERS[name]
    spectrum = PerturbationSpectrum()
    errors, per_severity = [], []
    for severity in SEVERITIES:
        corrupted = corrupt(images, name, severity, seed=seed)
        one = PerturbationSpectrum()
        one.add(images, corrupted)
        spectrum.add(images, corrupted)
        per_severity.append(summarize(one.mean_power()))
        scored_labels = labels
        if released is not None:  # the release's own images and labels of the same test rows
            from freqprobe.data import to_float

            corrupted = to_float(released.images(name, severity, released_rows))
            scored_labels = released.labels[released_rows]
        errors.append(_error(pipeline, corrupted, scored_labels, settings))
    power = spectrum.mean_power()
    summary = summarize(power)
    return {
        "family": entry.family,
        "benchmark": entry.benchmark,
        "parameters": {str(s): entry.at(s, min(images.shape[-2:]) / 32) for s in SEVERITIES},
        "note": entry.note,
        "error": errors,
        "mean_error": sum(errors) / len(errors),
        **summary,
        "per_severity_spectrum": per_severity,
        "radial_power": _radial(power),
        "predicted_error": predicted_error(heat_map, power) if heat_map is not None else None,
    }


def _radial(power: torch.Tensor) -> dict:
    from freqprobe.spectra import radial_profile

    radii, profile = radial_profile(power)
    return {"radius": radii.tolist(), "power": profile.tolist()}


def _error(pipeline, images: torch.Tensor, labels: torch.Tensor, settings: InferenceSettings) -> float:
    predicted = predict(pipeline, images, settings.batch_size)
    return float((predicted != labels.cpu()).double().mean())
