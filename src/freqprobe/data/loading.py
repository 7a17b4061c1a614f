"""``load_dataset``: one entry point for the named datasets and ``folder:PATH``."""

from __future__ import annotations

from freqprobe.data import cifar10, fashion_mnist  # noqa: F401 - importing registers them in DATASETS
from freqprobe.data import folder, imagefolder
from freqprobe.data.catalog import DATASETS, DatasetSpec, MissingDataError, dataset_names, is_folder_name, lookup
from freqprobe.data.dataset import ImageDataset
from freqprobe.data.labels import IMAGEFOLDER_PREFIX
from freqprobe.data.resize import check_image_size
from freqprobe.data.root import resolve_root
from freqprobe.errors import ConfigError

__all__ = ["DATASETS", "DatasetSpec", "MissingDataError", "dataset_names", "load_dataset"]


def load_dataset(
    name: str, train: bool = True, root=None, download: bool = False, image_size: int | None = None
) -> ImageDataset:
    """The training (``train=True``) or test split of dataset ``name`` as one uint8 (N, C, H, W) tensor.

    name: ``cifar10``, ``fashion-mnist``, ``folder:PATH`` or ``imagefolder:PATH`` (one test split of class
    folders). root: data root (``--data-dir``; default ``$FREQPROBE_DATA`` or ``~/.cache/freqprobe``); ignored by the
    folder forms, whose PATH is relative to the current directory. download: fetch the canonical files first when
    they are missing. image_size: N brings a folder's images of any sizes to NxN (short side to N, centre crop).
    Raises ConfigError (unknown name, a bad image_size or one given for a named dataset), MissingDataError (where it
    looked, how to get it), DataError or ChecksumError (corrupt, truncated or mismatching files).
    """
    split = "train" if train else "test"
    if image_size is not None:
        check_image_size(image_size)
    if name.startswith(IMAGEFOLDER_PREFIX):
        return imagefolder.load(name, split, image_size)
    if is_folder_name(name):
        return folder.load(name, split, image_size)
    if image_size is not None:
        raise ConfigError(
            f"image_size applies to folder:PATH and imagefolder:PATH datasets; {name} keeps its own size, drop it"
        )
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
