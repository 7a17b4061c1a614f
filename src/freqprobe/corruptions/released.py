"""The released CIFAR-10-C files (Hendrycks & Dietterich 2019, Zenodo record 2535967): ``<corruption>.npy`` of shape
(5 n, 32, 32, 3) uint8 -- severities 1..5 one after another, n = 10000 test images each -- and ``labels.npy`` (5 n,).

:func:`open_release` takes the folder of those files or the archive ``CIFAR-10-C.tar``; an archive is first checked
against its published md5 (:data:`freqprobe.data.checksums.ARCHIVE_MD5`), then read member by member.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np
import torch

from freqprobe.corruptions.table import ALL, SEVERITIES
from freqprobe.errors import ChecksumError, DataError

ARCHIVE_NAME = "CIFAR-10-C.tar"
LABELS_FILE = "labels.npy"


class ReleasedCorruptions:
    """The corruption files of one release: ``names`` present, ``labels`` (n,) of one severity block, and
    :meth:`images` of a corruption at a severity for chosen rows of a block."""

    def __init__(self, source: str, arrays: dict[str, np.ndarray], labels: np.ndarray):
        self.source = source
        self._arrays = arrays
        self.names = [name for name in ALL if name in arrays]
        self.per_severity = len(labels) // len(SEVERITIES)
        self.labels = torch.from_numpy(np.asarray(labels[: self.per_severity]).astype(np.int64))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        first = self._arrays[self.names[0]]
        return (int(first.shape[3]), int(first.shape[1]), int(first.shape[2]))

    def images(self, name: str, severity: int, rows: torch.Tensor) -> torch.Tensor:
        """uint8 (len(rows), C, H, W) of ``name`` at ``severity`` for ``rows`` of the block (test image indices)."""
        start = (severity - 1) * self.per_severity
        block = np.asarray(self._arrays[name][start + rows.numpy()])
        return torch.from_numpy(np.ascontiguousarray(block.transpose(0, 3, 1, 2)))


def open_release(path: str | os.PathLike) -> ReleasedCorruptions:
    """Read the released files from a folder or from ``CIFAR-10-C.tar`` (md5-checked first).

    Raises:
        ChecksumError: an archive whose md5 is not the published one.
        DataError: no corruption file, no labels.npy, or files whose shape is not the released one.
    """
    path = Path(path)
    if path.is_file():
        return _from_archive(path)
    if not path.is_dir():
        raise DataError(f"--corruption-data {path} does not exist; pass the CIFAR-10-C folder or {ARCHIVE_NAME}")
    labels_path = path / LABELS_FILE
    if not labels_path.is_file():
        raise DataError(f"{labels_path} is missing; pass the folder unpacked from {ARCHIVE_NAME}")
    arrays = {name: _load(path / f"{name}.npy", mmap=True) for name in ALL if (path / f"{name}.npy").is_file()}
    return _checked(str(path), arrays, _load(labels_path, mmap=False))


def _from_archive(path: Path) -> ReleasedCorruptions:
    from freqprobe.data import checksums

    expected = checksums.ARCHIVE_MD5.get(path.name) or checksums.ARCHIVE_MD5[ARCHIVE_NAME]
    actual = checksums.md5_of_file(path)
    if actual != expected:
        raise ChecksumError(path, expected, actual)
    arrays, labels = {}, None
    try:
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                stem = Path(member.name).stem
                if not member.isfile() or not member.name.endswith(".npy"):
                    continue
                if stem in ALL or member.name.endswith(LABELS_FILE):
                    data = np.load(io.BytesIO(archive.extractfile(member).read()), allow_pickle=False)
                    if member.name.endswith(LABELS_FILE):
                        labels = data
                    else:
                        arrays[stem] = data
    except (tarfile.TarError, ValueError, OSError) as error:
        raise DataError(f"{path} is not a readable CIFAR-10-C archive ({error}); download it again") from None
    if labels is None:
        raise DataError(f"{path} holds no {LABELS_FILE}; download {ARCHIVE_NAME} again")
    return _checked(str(path), arrays, labels)


def _load(path: Path, mmap: bool) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise DataError(f"{path} is not a readable .npy file ({error}); restore it from {ARCHIVE_NAME}") from None


def _checked(source: str, arrays: dict[str, np.ndarray], labels: np.ndarray) -> ReleasedCorruptions:
    if not arrays:
        raise DataError(f"{source} holds no corruption file (e.g. gaussian_noise.npy); pass the CIFAR-10-C folder")
    if labels.ndim != 1 or len(labels) == 0 or len(labels) % len(SEVERITIES):
        raise DataError(f"{source}: {LABELS_FILE} must be (5 n,) labels, got shape {labels.shape}")
    for name, array in arrays.items():
        if array.dtype != np.uint8 or array.ndim != 4 or array.shape[0] != len(labels) or array.shape[3] not in (1, 3):
            raise DataError(
                f"{source}: {name}.npy must be uint8 ({len(labels)}, H, W, C) like {LABELS_FILE}, got "
                f"{array.dtype} {array.shape}; restore it from {ARCHIVE_NAME}"
            )
    return ReleasedCorruptions(source, arrays, labels)
