"""Small samples of the real data, read straight from the shared files (idx via gzip + numpy, JPEG via tarfile +
PIL), so the filter tests do not depend on ``freqprobe.data``."""

from __future__ import annotations

import gzip
import io
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

IDX_IMAGES_MAGIC = 2051


def read_idx_images(path, count: int) -> np.ndarray:
    """The first ``count`` images of an idx3 file as uint8 (count, 28, 28); only that prefix is decompressed."""
    with gzip.open(path, "rb") as handle:
        header = np.frombuffer(handle.read(16), dtype=">u4")
        assert header[0] == IDX_IMAGES_MAGIC, f"{path} is not an idx3 image file"
        rows, cols = int(header[2]), int(header[3])
        pixels = handle.read(count * rows * cols)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(count, rows, cols)


def read_cifar_jpegs(path, count: int) -> np.ndarray:
    """The first ``count`` training JPEGs of the CIFAR-10 tar, decoded to uint8 (count, 32, 32, 3)."""
    images = []
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.startswith("train/") and member.name.endswith(".jpg"):
                data = archive.extractfile(member).read()
                images.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
                if len(images) == count:
                    break
    assert len(images) == count, f"only {len(images)} training JPEGs in {path}"
    return np.stack(images)


@pytest.fixture(scope="session")
def fashion_uint8(shared_data) -> torch.Tensor:
    """64 real Fashion-MNIST training images, uint8 (64, 1, 28, 28)."""
    images = read_idx_images(shared_data / "fashion-mnist" / "train-images-idx3-ubyte.gz", 64)
    return torch.from_numpy(images.copy()).unsqueeze(1)


@pytest.fixture(scope="session")
def cifar_uint8(shared_data) -> torch.Tensor:
    """12 real CIFAR-10 (JPEG q75 copy) training images, uint8 (12, 3, 32, 32)."""
    images = read_cifar_jpegs(shared_data / "cifar10-jpeg.tar.gz", 12)
    return torch.from_numpy(images.copy()).permute(0, 3, 1, 2).contiguous()
