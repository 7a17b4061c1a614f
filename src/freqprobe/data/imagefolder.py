"""``imagefolder:PATH`` datasets: one split laid out as ``<class>/*`` PNG/JPEG images (classes in sorted order), as
an ImageNet validation set usually is; a directory or a ``.tar``/``.tar.gz`` archive.

The images are the dataset's test split (what analyses read); it has no training split. Images of mixed sizes need
``--image-size N`` (:mod:`freqprobe.data.resize`), as for ``folder:PATH``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from freqprobe.data.cache import cached_tensors
from freqprobe.data.catalog import MissingDataError
from freqprobe.data.dataset import ImageDataset
from freqprobe.data.decode import decode_images
from freqprobe.data.folder import folder_path, read_image_tree, tree_fingerprint
from freqprobe.data.labels import IMAGEFOLDER_PREFIX
from freqprobe.data.resize import describe_resize
from freqprobe.errors import DataError

LAYOUT = "<class>/*.png|jpg (one folder per class)"
SPLIT = "test"


def load(name: str, split: str, image_size: int | None = None) -> ImageDataset:
    """The images of ``imagefolder:PATH`` as its ``test`` split; ``image_size`` N brings each to NxN.

    Raises:
        MissingDataError: PATH does not exist.
        DataError: the ``train`` split asked for, no ``<class>/image`` files, an undecodable image, or mixed sizes
            without ``image_size``; the line names the path and the fix.
    """
    path = folder_path(name, IMAGEFOLDER_PREFIX)
    if split != SPLIT:
        raise DataError(
            f"{name} is one evaluation split ({LAYOUT}) with no training images; analyse it, or train on "
            f"folder:PATH laid out as train/<class>/* and test/<class>/*"
        )
    if not path.exists():
        raise MissingDataError(f"image folder {path} does not exist; give a directory or .tar/.tar.gz holding {LAYOUT}")
    kind = "imagefolder" if image_size is None else f"imagefolder-{image_size}px"
    key = {"files": tree_fingerprint(path), "image_size": image_size}
    tensors, metadata = cached_tensors(kind, path, key, lambda: _decode(path, image_size))
    return ImageDataset(
        images=tensors["images"],
        labels=tensors["labels"],
        classes=json.loads(metadata["classes"]),
        name=name,
        source=str(path),
        split=SPLIT,
        resize=None if image_size is None else describe_resize(image_size),
    )


def _decode(path: Path, image_size: int | None) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    files = read_image_tree(path)
    chosen = sorted(parts for parts in files if len(parts) == 2)
    if not chosen:
        raise DataError(f"{path} holds no {LAYOUT}; put each class's images in a folder named after the class")
    in_archive = path.is_file()
    names = [f"{'/'.join(parts)} in {path}" if in_archive else str(path.joinpath(*parts)) for parts in chosen]
    images = decode_images([files[parts] for parts in chosen], names, image_size=image_size)
    classes = sorted({parts[0] for parts in chosen})
    index_of = {label: index for index, label in enumerate(classes)}
    labels = np.array([index_of[parts[0]] for parts in chosen], dtype=np.int64)
    tensors = {"images": torch.from_numpy(np.ascontiguousarray(images)), "labels": torch.from_numpy(labels)}
    return tensors, {"classes": json.dumps(classes)}
