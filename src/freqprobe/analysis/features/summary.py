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


def analyze_model_features(
    source: str | os.PathLike,
    dataset: str,
    *,
    image_size: int | None = None,
    subset: int | None = DEFAULT_SUBSET,
    layers: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    data_dir: str | None = None,
    device: str = "cpu",
    model_options: dict | None = None,
) -> dict:
    """A model that no run folder holds (``tv:resnet50 --weights pretrained``, a weights file with its model spec),
    measured on the test split of ``dataset``: the first ``subset`` images round-robin over classes, no input filter,
    each brought to ``image_size`` x ``image_size`` when given (short side resized, bilinear antialiased, centre
    crop: the usual evaluation transform of ImageNet models).

    ``model_options``: ``model_name``, ``weights``, ``model_args``, ``channel_adapter``, ``small_input`` and
    ``num_classes`` of :func:`freqprobe.analysis.model_source.load_model_source`; the network is built for the
    data's channels.

    Raises:
        FreqprobeError: an unknown model or dataset, weights that do not fit, missing data, bad ``layers``.
    """
    from freqprobe.analysis.model_source import load_model_source
    from freqprobe.data import load_dataset, resolve_root
    from freqprobe.data.labels import dataset_label
    from freqprobe.data.decode import MixedImageSizes
    from freqprobe.data.resize import describe_resize, resize_center_crop_batch
    from freqprobe.errors import FreqprobeError
    from freqprobe.train.prepare import stratified_first

    try:  # the images as stored; only the chosen ones are resized (a whole split at 224 px would be gigabytes)
        test = load_dataset(dataset, train=False, root=resolve_root(data_dir))
        resized_before = False
    except MixedImageSizes:
        if image_size is None:
            raise
        test = load_dataset(dataset, train=False, root=resolve_root(data_dir), image_size=image_size)
        resized_before = True
    if subset is not None and subset < len(test):
        test = test.select(stratified_first(test.labels, subset))
    images = test.images
    if image_size is not None and not resized_before:
        images = resize_center_crop_batch(images, image_size)
    options = dict(model_options or {})
    model_name, num_classes = options.pop("model_name", None), options.pop("num_classes", None)
    loaded = load_model_source(source, model_name, int(test.image_shape[0]), num_classes, **options)
    try:
        result = feature_spectra(loaded.model.to(device), images, None, layers, batch_size, device)
    except FreqprobeError:
        raise
    except Exception as error:  # a library model may raise anything on an input size it cannot take
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise FreqprobeError(
            f"{loaded.description} fails on the {tuple(images.shape[1:])} images of {dataset} ({reason}); pass the "
            f"input size it expects with --image-size (e.g. 224)"
        ) from None
    return {
        "run": loaded.description,
        "model": loaded.model_name,
        "model_source": loaded.record,
        "dataset": test.name,
        "dataset_label": dataset_label(test.name, test.source),
        "filter": "none",
        "resize": None if image_size is None else describe_resize(image_size),
        "test_images": len(test),
        "test_selection": "first N test images round-robin over classes" if subset else "all test images",
        **result.to_dict(),
    }


def features_document(runs: list[dict], subset: int | None, layers: str | None) -> dict:
    """The whole ``features.json``: settings, definitions, one section per run."""
    return {
        "subset": subset,
        "layers": layers or "default (input, every convolution, top-level children of the body, their children)",
        "pipeline": "test image (uint8 -> float [0, 1]) -> the run's input filter (none for a model given by name or "
        "file) -> model; maps by forward hooks",
        "definitions": DEFINITIONS,
        "runs": runs,
    }


def relative_run_name(run_dir: str | os.PathLike, out_dir: Path) -> str:
    from freqprobe.io import relative_name

    return relative_name(run_dir, out_dir)
