"""freqprobe.data: datasets as uint8 (N, C, H, W) tensors, their splits, downloads and caches.

Names: ``cifar10``, ``fashion-mnist``, ``folder:PATH``. See DESIGN.md for the contract.

The public names load lazily (PEP 562): the CLI imports ``freqprobe.data.commands`` to build its parser,
and that must not import torch, so ``freqprobe --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freqprobe.lazy import lazy_exports

# public name -> module defining it. DATASETS and friends come through ``loading`` so that the datasets
# have registered themselves before anyone looks at the registry.
_EXPORTS = {
    "ImageDataset": "freqprobe.data.dataset",
    "Splits": "freqprobe.data.dataset",
    "to_float": "freqprobe.data.dataset",
    "resolve_root": "freqprobe.data.root",
    "resolve_cache_dir": "freqprobe.data.root",
    "load_dataset": "freqprobe.data.loading",
    "DATASETS": "freqprobe.data.loading",
    "DatasetSpec": "freqprobe.data.loading",
    "MissingDataError": "freqprobe.data.loading",
    "dataset_names": "freqprobe.data.loading",
    "load_splits": "freqprobe.data.splits",
    "stratified_split": "freqprobe.data.splits",
    "download": "freqprobe.data.downloading",
    "add_dataset_arguments": "freqprobe.data.commands",
    "splits_from_args": "freqprobe.data.commands",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from freqprobe.data.commands import add_dataset_arguments, splits_from_args
    from freqprobe.data.dataset import ImageDataset, Splits, to_float
    from freqprobe.data.downloading import download
    from freqprobe.data.loading import DATASETS, DatasetSpec, MissingDataError, dataset_names, load_dataset
    from freqprobe.data.root import resolve_cache_dir, resolve_root
    from freqprobe.data.splits import load_splits, stratified_split

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
