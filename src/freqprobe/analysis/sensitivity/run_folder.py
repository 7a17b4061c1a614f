"""A ``freqprobe train`` run folder as the sensitivity analyses need it: model, fitted input filter, config, test data.

A run folder holds ``config.json`` (the training config under ``"config"``, or flat; ``"data"`` may record
``image_shape`` and ``classes``), ``model.safetensors`` (weights and normalization buffers) and ``checkpoint.pt``
(whose ``filter_state`` is the input filter's state fitted on the training split, e.g. whiten's mean amplitude).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from torch import nn

from freqprobe.errors import ConfigError, DataError, FreqprobeError
from freqprobe.io import read_json_object as read_json_file

CHECKPOINT_FILE = "checkpoint.pt"


class LoadedRun(NamedTuple):
    """What :func:`load_run` returns: the eval-mode model, its input filter (fitted state loaded), the config.

    ``config`` is the flat training config (``dataset``, ``model``, ``filter``, ``boundary``, ``antialias``,
    ``data_dir``, ...) plus ``image_shape`` and ``classes`` when the run recorded them.
    """

    model: nn.Module
    input_filter: nn.Module
    config: dict[str, Any]


def load_run(run_dir: str | os.PathLike) -> LoadedRun:
    """The model, input filter and training config of a ``freqprobe train`` run folder.

    Raises:
        FreqprobeError: missing or unreadable files, a filter that needs fitted state but no checkpoint holds it.
    """
    from freqprobe.filters import build_filter

    folder = Path(run_dir)
    raw = read_json_object(folder / "config.json", f"{folder} is not a freqprobe run folder")
    config = _flat_training_config(raw)
    model = _load_run_model(folder, config)
    input_filter = build_filter(_filter_spec(raw, config), _filter_boundary(raw, config))
    _load_filter_state(folder, input_filter)
    return LoadedRun(model, input_filter.eval(), config)


def load_test_images(config: dict[str, Any], data_dir: str | None = None, subset: int | None = None):
    """The run's test split (an :class:`~freqprobe.data.ImageDataset`), optionally its first ``subset`` images
    taken round-robin over classes (stratified, deterministic).

    Data root: ``data_dir``, else the run's ``data_dir`` when that folder exists, else ``$FREQPROBE_DATA``/default.

    Raises:
        DataError: missing data, or test images whose shape differs from the images the run was trained on.
    """
    from freqprobe.data import load_dataset, resolve_root

    dataset = config.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        raise ConfigError("the run's config.json names no dataset; it is not a freqprobe run config")
    root = data_dir
    if root is None and config.get("data_dir") and Path(str(config["data_dir"])).is_dir():
        root = config["data_dir"]
    test = load_dataset(dataset, train=False, root=resolve_root(root))
    expected = config.get("image_shape")
    if expected is not None and list(test.image_shape) != list(expected):
        raise DataError(
            f"test images of {dataset} are {tuple(test.image_shape)} but the run was trained on {tuple(expected)}; "
            f"pass the --data-dir the run was trained with"
        )
    if subset is not None:
        if subset < 1:
            raise ConfigError(f"--subset must be a positive number of test images, got {subset}")
        if subset < len(test):
            from freqprobe.train.prepare import stratified_first

            test = test.select(stratified_first(test.labels, subset))
    return test


def _flat_training_config(raw: dict[str, Any]) -> dict[str, Any]:
    config = dict(raw["config"]) if isinstance(raw.get("config"), dict) else dict(raw)
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    for key in ("image_shape", "classes", "in_channels", "num_classes"):
        if key not in config and key in data:
            config[key] = data[key]
    return config


def _load_run_model(folder: Path, config: dict[str, Any]) -> nn.Module:
    """The registered model of the run with its weights (normalization buffers included), in eval mode.

    One loader for every run-folder reader (kernel analysis, sensitivity, compare): ``freqprobe.analysis.model_source``.
    """
    from freqprobe.analysis.model_source import load_model_source

    return load_model_source(folder).model.eval()


def _filter_spec(raw: dict[str, Any], config: dict[str, Any]) -> str:
    if isinstance(config.get("filter"), str):
        return config["filter"]
    if isinstance(raw.get("filter"), dict) and isinstance(raw["filter"].get("spec"), str):
        return raw["filter"]["spec"]
    return "none"


def _filter_boundary(raw: dict[str, Any], config: dict[str, Any]) -> str:
    if isinstance(config.get("boundary"), str):
        return config["boundary"]
    if isinstance(raw.get("filter"), dict) and isinstance(raw["filter"].get("boundary"), str):
        return raw["filter"]["boundary"]
    return "circular"


def _load_filter_state(folder: Path, input_filter: nn.Module) -> None:
    """Load the filter state fitted on the training split from checkpoint.pt (needed by fitted filters only)."""
    checkpoint = folder / CHECKPOINT_FILE
    if not getattr(input_filter, "requires_fit", False):
        return
    if not checkpoint.is_file():
        raise FreqprobeError(
            f"run folder {folder} has no {CHECKPOINT_FILE} with the fitted state of filter "
            f"{input_filter.spec!r}; copy the run's {CHECKPOINT_FILE} there or retrain the run"
        )
    from freqprobe.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint).filter_state
    try:
        input_filter.load_state_dict(state)
    except (RuntimeError, KeyError) as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise FreqprobeError(
            f"{checkpoint} holds no fitted state for filter {input_filter.spec!r} ({reason}); retrain the run"
        ) from None
    if not getattr(input_filter, "is_fitted", True):
        raise FreqprobeError(f"{checkpoint} holds an unfitted filter {input_filter.spec!r}; retrain the run")


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    return read_json_file(
        path, missing=f"{what}: {path} is missing; pass a folder written by freqprobe train", fix="restore or delete it"
    )
