"""How tables, captions and figure titles name a dataset, and the one rule that recognizes the shared CIFAR-10
JPEG copy.

The shared machines carry CIFAR-10 only as ``cifar10-jpeg.tar.gz``, a JPEG quality-75 re-encoding whose high
frequencies differ from canonical CIFAR-10, so every place that shows its numbers names it "CIFAR-10 (JPEG q75
copy)". It is recognized by its file name alone: a ``folder:`` dataset or a data source path whose last component is
the archive ``cifar10-jpeg.tar.gz`` or the folder ``cifar10-jpeg`` it unpacks to, wherever it lies (relative,
absolute, with a trailing ``/``). Any other name (``cifar10-jpeg-other.tar.gz``, ``my-cifar10-jpeg``) is data of
the user's own, shown as given.

Imports no torch: the CLI parser and the plots use it.
"""

from __future__ import annotations

from pathlib import PurePath

FOLDER_PREFIX = "folder:"
IMAGEFOLDER_PREFIX = "imagefolder:"  # one split, class folders only (an ImageNet validation set)
JPEG_COPY_ARCHIVE = "cifar10-jpeg.tar.gz"
JPEG_COPY_FOLDER = "cifar10-jpeg"
JPEG_COPY_LABEL = "CIFAR-10 (JPEG q75 copy)"
DATASET_LABELS = {"cifar10": "CIFAR-10", "fashion-mnist": "Fashion-MNIST"}


def is_jpeg_copy(name: str | None, source: str | None = None) -> bool:
    """Whether the dataset ``name`` (``folder:PATH``) or its data ``source`` (a path, as ImageDataset.source) is the
    shared CIFAR-10 JPEG copy."""
    if name and name.startswith(FOLDER_PREFIX) and _names_jpeg_copy(name.removeprefix(FOLDER_PREFIX)):
        return True
    return bool(source) and _names_jpeg_copy(str(source).removeprefix(FOLDER_PREFIX))


def _names_jpeg_copy(path: str) -> bool:
    return PurePath(path).name in (JPEG_COPY_ARCHIVE, JPEG_COPY_FOLDER)


def data_note(name: str | None, source: str | None = None) -> str | None:
    """The caveat every result on this data must carry (spectrum.json ``data_note``), or None."""
    return JPEG_COPY_LABEL if is_jpeg_copy(name, source) else None


def dataset_label(name: str, source: str | None = None) -> str:
    """The name shown for a dataset: "Fashion-MNIST", "CIFAR-10", "CIFAR-10 (JPEG q75 copy)", else ``name`` as
    given."""
    if is_jpeg_copy(name, source):
        return JPEG_COPY_LABEL
    return DATASET_LABELS.get(name, name)
