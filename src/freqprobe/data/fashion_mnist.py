"""Fashion-MNIST (Xiao et al. 2017): 60k + 10k greyscale 28x28 images in the idx format, 10 classes.

Looked up in ``ROOT/fashion-mnist/``, ``ROOT/`` and Debian's ``/usr/share/datasets/fashion-mnist``, as
``.gz`` or raw files. Each file is checked against the md5 of its decompressed contents, so both Zalando's
``.gz`` files and Debian's recompressed ones are accepted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from freqprobe.data import checksums
from freqprobe.data.cache import cached_tensors, fingerprint
from freqprobe.data.catalog import DATASETS, DatasetSpec, MissingDataError, RemoteFile, missing_data_message
from freqprobe.data.dataset import ImageDataset
from freqprobe.data.idx import parse_idx, read_idx_bytes
from freqprobe.errors import ChecksumError, DataError

NAME = "fashion-mnist"
SUBDIR = "fashion-mnist"
BASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGE_SIZE = 28

# split -> (images file, labels file), without the optional .gz
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Where Debian's dataset-fashion-mnist package installs the files; a tuple so tests can replace it.
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)


def search_dirs(root: Path) -> list[Path]:
    return list(dict.fromkeys([root / SUBDIR, root, *SYSTEM_DIRS]))


def locate(root: Path, split: str) -> tuple[Path, Path]:
    """(images file, labels file) of ``split`` from the first search folder holding both.

    Raises MissingDataError saying where it looked and how to get the files.
    """
    for directory in search_dirs(root):
        found = [_existing_variant(directory / name) for name in FILES[split]]
        if all(found):
            return found[0], found[1]
    wanted = " and ".join(f"{name}[.gz]" for name in FILES[split])
    raise MissingDataError(missing_data_message(NAME, [str(d) for d in search_dirs(root)], root, wanted))


def load(root: Path, split: str) -> ImageDataset:
    """The ``train`` or ``test`` split: images uint8 (N, 1, 28, 28), labels int64 (N,).

    Raises MissingDataError, DataError (truncated, corrupt, inconsistent files) or ChecksumError.
    """
    images_path, labels_path = locate(root, split)
    key = {
        "files": fingerprint([images_path, labels_path]),
        "md5": [_content_md5(images_path), _content_md5(labels_path)],
    }
    tensors, _ = cached_tensors(
        f"{NAME}-{split}", images_path.parent / FILES[split][0], key, lambda: _decode(images_path, labels_path)
    )
    return ImageDataset(
        images=tensors["images"],
        labels=tensors["labels"],
        classes=list(CLASSES),
        name=NAME,
        source=str(images_path.parent),
        split=split,
    )


def _decode(images_path: Path, labels_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    images = _read_verified(images_path, ndim=3)
    labels = _read_verified(labels_path, ndim=1)
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(
            f"{images_path} holds {images.shape[1]}x{images.shape[2]} images, expected "
            f"{IMAGE_SIZE}x{IMAGE_SIZE}; it is not a Fashion-MNIST file"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
            f"the two files come from different releases, download them again"
        )
    if len(labels) and int(labels.max()) >= len(CLASSES):
        raise DataError(f"{labels_path} holds label {int(labels.max())}, expected 0..{len(CLASSES) - 1}")
    return {
        "images": torch.from_numpy(images.copy()).unsqueeze(1).contiguous(),
        "labels": torch.from_numpy(labels.astype(np.int64)),
    }, {}


def _read_verified(path: Path, ndim: int) -> np.ndarray:
    data = read_idx_bytes(path)
    array = parse_idx(data, ndim, path)  # structure first: "truncated" says more than a checksum mismatch
    expected = _content_md5(path)
    if expected is not None:
        actual = checksums.md5_of_bytes(data)
        if actual != expected:
            raise ChecksumError(f"{path} (decompressed contents)", expected, actual)
    return array


def _content_md5(path: Path) -> str | None:
    return checksums.CONTENT_MD5.get(path.name.removesuffix(".gz"))


def _existing_variant(path: Path) -> Path | None:
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


DATASETS.register(NAME)(
    DatasetSpec(
        name=NAME,
        classes=CLASSES,
        files=tuple(
            RemoteFile(f"{name}.gz", f"{BASE_URL}/{name}.gz", SUBDIR) for pair in FILES.values() for name in pair
        ),
        load=load,
        description="Fashion-MNIST, 60k train + 10k test greyscale 28x28 images (Zalando idx files)",
    )
)
