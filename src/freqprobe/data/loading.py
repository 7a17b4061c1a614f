"""``load_dataset``: one entry point for the named datasets and ``folder:PATH``."""

from __future__ import annotations

from freqprobe.data import cifar10, fashion_mnist  # noqa: F401 - importing registers them in DATASETS
from freqprobe.data import folder
from freqprobe.data.catalog import DATASETS, DatasetSpec, MissingDataError, dataset_names, is_folder_name, lookup
from freqprobe.data.dataset import ImageDataset
from freqprobe.data.root import resolve_root

__all__ = ["DATASETS", "DatasetSpec", "MissingDataError", "dataset_names", "load_dataset"]


def load_dataset(name: str, train: bool = True, root=None, download: bool = False) -> ImageDataset:
    """The training (``train=True``) or test split of dataset ``name`` as one uint8 (N, C, H, W) tensor.

    name: ``cifar10``, ``fashion-mnist`` or ``folder:PATH``. root: data root (``--data-dir``; default
    ``$FREQPROBE_DATA`` or ``~/.cache/freqprobe``); ignored by ``folder:``, whose PATH is relative to the current
    directory. download: fetch the canonical files first when they are missing.
    Raises ConfigError (unknown name), MissingDataError (where it looked, how to get it), DataError or
    ChecksumError (corrupt, truncated or mismatching files).
    """
    split = "train" if train else "test"
    if is_folder_name(name):
        return folder.load(name, split)
    spec = lookup(name)
    root = resolve_root(root)
    try:
        return spec.load(root, split)
    except MissingDataError:
        if not download:
            raise
    from freqprobe.data.downloading import download as fetch_dataset

    fetch_dataset(name, root)
    return spec.load(root, split)
