"""The named datasets (``DATASETS`` registry) and the ``folder:PATH`` form, with the messages that list them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from freqprobe.data.dataset import ImageDataset
from freqprobe.data.labels import FOLDER_PREFIX, JPEG_COPY_ARCHIVE
from freqprobe.errors import ConfigError, DataError
from freqprobe.registry import Registry

FOLDER_FORM = "folder:PATH (a directory or .tar/.tar.gz archive with train/<class>/* and test/<class>/*)"


class MissingDataError(DataError):
    """The dataset's files are not where freqprobe looked; the message says where it looked and how to get them."""


@dataclass(frozen=True)
class RemoteFile:
    """One canonical download: stored as ``ROOT/subdir/filename``, fetched from ``url`` (or ``MIRROR/filename``)."""

    filename: str
    url: str
    subdir: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: its classes, canonical files, and ``load(root, split) -> ImageDataset`` (split train|test)."""

    name: str
    classes: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    load: Callable[[Path, str], ImageDataset]
    description: str


DATASETS: Registry[DatasetSpec] = Registry("dataset")

# Modules whose import registers a dataset; imported on first lookup, whichever module asks first.
DATASET_MODULES = ("freqprobe.data.cifar10", "freqprobe.data.fashion_mnist")


def _ensure_registered() -> None:
    for module in DATASET_MODULES:
        importlib.import_module(module)


def is_folder_name(name: str) -> bool:
    return name.startswith(FOLDER_PREFIX)


def dataset_names() -> list[str]:
    """Every accepted dataset name, the folder form last."""
    _ensure_registered()
    return [*DATASETS.names(), "folder:PATH", "imagefolder:PATH"]


def lookup(name: str) -> DatasetSpec:
    """The registered dataset ``name``; raises ConfigError listing the valid names and the folder form."""
    _ensure_registered()
    if name in DATASETS:
        return DATASETS.get(name)
    raise ConfigError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS.names())}, or {FOLDER_FORM}")


def missing_data_message(name: str, looked_in: list[str], root: Path, wanted: str) -> str:
    """One line: what was missing, where it looked, and the commands that fix it."""
    places = ", ".join(dict.fromkeys(looked_in))
    hint = _shared_copy_hint(name, root)
    return (
        f"{name} not found: looked for {wanted} in {places}; "
        f"run `freqprobe data download --dataset {name} --data-dir {root}` (or pass --download), "
        f"point --data-dir / FREQPROBE_DATA at the folder holding it, or use --dataset folder:PATH{hint}"
    )


def _shared_copy_hint(name: str, root: Path) -> str:
    # Offline machines carry CIFAR-10 only as a JPEG folder archive; point at it instead of leaving users guessing.
    jpeg_copy = root / JPEG_COPY_ARCHIVE
    if name == "cifar10" and jpeg_copy.is_file():
        return f"; {jpeg_copy} exists: try --dataset folder:{jpeg_copy}"
    return ""
