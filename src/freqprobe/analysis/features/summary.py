"""``features.json``: the feature-map spectra of one or more trained runs on their own test images."""

from __future__ import annotations

import os
from pathlib import Path

from freqprobe.analysis.features.probe import DEFAULT_BATCH_SIZE, feature_spectra
from freqprobe.analysis.features.spectra import LOG_EPS

DEFAULT_SUBSET = 500

DEFINITIONS = {
    "mean_log_amplitude": f"mean over channels and images of log(|FFT2(map)| + {LOG_EPS:g}) (natural log), the "
    "map's mean not removed (DC included), (H, W) grid in fftfreq order (DC at [0][0]); FFTs in float32",
    "radial_profile": "that grid averaged over annuli of width 1/min(H, W) cycles/pixel, DC alone in bin 0, up to "
    "the Nyquist radius 0.5 (freqprobe.spectra.radial_profile)",
    "delta_log_amplitude": "radial profile at its last bin (delta_frequency, cycles/pixel; 0.5 = the Nyquist "
    "frequency for an even side) minus at DC, as in Park & Kim 2022 (How do vision transformers work?, Fig. 2)",
    "delta_log_amplitude_corner": "mean log-amplitude at corner_frequency (f_y, f_x), the end of Park & Kim's "
    "diagonal, minus at DC",
    "spectral_centroid": "sum |f| P / sum P of each map's power P = |FFT2|^2 / (H W), cycles/pixel, DC included, "
    "averaged over maps (freqprobe.spectra.spectral_centroid_of_power, as for dataset spectra and kernels; an "
    "all-zero map counts as 0, see zero_map_share)",
    "aliasing_share": "share of the energy of the maps entering a subsampling of stride (s_y, s_x) at |f_y| > "
    "0.5/s_y or |f_x| > 0.5/s_x (freqprobe.analysis.aliasing.alias_mask), all maps and DC included",
    "depth": "order in which the layer first produced maps in the forward pass",
}


def analyze_run_features(
    run_dir: str | os.PathLike,
    subset: int | None = DEFAULT_SUBSET,
    layers: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    data_dir: str | None = None,
    device: str = "cpu",
    name: str | None = None,
) -> dict:
    """One run's section of ``features.json``: the run's test images (the first ``subset`` round-robin over
    classes), through its own input filter, into its model.

    Raises:
        FreqprobeError: an incomplete run folder, missing data, bad ``layers``.
    """
    from freqprobe.analysis.sensitivity.run_folder import load_run, load_test_images
    from freqprobe.data.labels import dataset_label

    loaded = load_run(run_dir)
    test = load_test_images(loaded.config, data_dir=data_dir, subset=subset)
    model = loaded.model.to(device)
    result = feature_spectra(model, test.images, loaded.input_filter.to(device), layers, batch_size, device)
    return {
        "run": name if name is not None else str(run_dir),
        "model": loaded.config.get("model"),
        "dataset": test.name,
        "dataset_label": dataset_label(test.name, test.source),
        "filter": loaded.config.get("filter", "none"),
        "test_images": len(test),
        "test_selection": "first N test images round-robin over classes" if subset else "all test images",
        **result.to_dict(),
    }


def features_document(runs: list[dict], subset: int | None, layers: str | None) -> dict:
    """The whole ``features.json``: settings, definitions, one section per run."""
    return {
        "subset": subset,
        "layers": layers or "default (input, every convolution, top-level children of the body, their children)",
        "pipeline": "test image (uint8 -> float [0, 1]) -> the run's input filter -> model; maps by forward hooks",
        "definitions": DEFINITIONS,
        "runs": runs,
    }


def relative_run_name(run_dir: str | os.PathLike, out_dir: Path) -> str:
    from freqprobe.io import relative_name

    return relative_name(run_dir, out_dir)
