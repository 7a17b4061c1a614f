"""A ``freqprobe train`` run folder as the sensitivity analyses need it: model, fitted input filter, config, test data.

The folder is read through :class:`freqprobe.runs.RunFolder` (its policy for a missing piece applies: one line naming
the file and the fix, nothing refitted).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from torch import nn

from freqprobe.errors import ConfigError, DataError
from freqprobe.io import read_json_object as read_json_file
from freqprobe.runs import RunFolder


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
    run = RunFolder(run_dir)
    run.dataset  # a config.json that names no dataset is not a run config: say so before loading weights
    return LoadedRun(run.load_model(), run.load_input_filter(), run.config)


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
    test = load_dataset(dataset, train=False, root=resolve_root(root), image_size=config.get("image_size"))
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


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    return read_json_file(
        path, missing=f"{what}: {path} is missing; pass a folder written by freqprobe train", fix="restore or delete it"
    )
