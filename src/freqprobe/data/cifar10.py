"""CIFAR-10 (Krizhevsky 2009) in its canonical python form: pickled batches in ``cifar-10-python.tar.gz``.

Read straight from the archive (verified against its published md5) or from the extracted
``cifar-10-batches-py/`` folder. Each batch row is 3072 bytes: the 32x32 red plane, then green, then blue,
row-major, so it reshapes to (3, 32, 32) without reordering. Unpickling allows numpy arrays only.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np
import torch

from freqprobe.data import checksums
from freqprobe.data.cache import cached_tensors, fingerprint
from freqprobe.data.catalog import DATASETS, DatasetSpec, MissingDataError, RemoteFile, missing_data_message
from freqprobe.data.dataset import ImageDataset
from freqprobe.errors import ChecksumError, DataError

NAME = "cifar10"
ARCHIVE = "cifar-10-python.tar.gz"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
META = "batches.meta"
MEMBERS = (*TRAIN_BATCHES, *TEST_BATCHES, META)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SIZE = 32
ROW_BYTES = 3 * SIZE * SIZE


def candidates(root: Path) -> list[Path]:
    """Where the archive or the extracted folder may be, in order of preference (verifiable archive first)."""
    return [root / ARCHIVE, root / NAME / ARCHIVE, root / BATCH_DIR, root / NAME / BATCH_DIR]


def locate(root: Path) -> Path:
    """The archive or extracted batch folder; raises MissingDataError saying where it looked."""
    for candidate in candidates(root):
        if candidate.is_file() if candidate.name == ARCHIVE else candidate.is_dir():
            return candidate
    looked = [str(c.parent) for c in candidates(root)]
    raise MissingDataError(missing_data_message(NAME, looked, root, f"{ARCHIVE} or {BATCH_DIR}/"))


def load(root: Path, split: str) -> ImageDataset:
    """The ``train`` (50k) or ``test`` (10k) split: images uint8 (N, 3, 32, 32), labels int64 (N,).

    Raises MissingDataError, DataError (corrupt archive, missing or malformed batch) or ChecksumError.
    """
    source = locate(root)
    key = {"files": fingerprint([source]), "md5": checksums.ARCHIVE_MD5.get(ARCHIVE)}
    tensors, metadata = cached_tensors(
        NAME, source, key, lambda: _decode(source), wanted=[f"{split}_images", f"{split}_labels"]
    )
    return ImageDataset(
        images=tensors[f"{split}_images"],
        labels=tensors[f"{split}_labels"],
        classes=json.loads(metadata["classes"]),
        name=NAME,
        source=str(source),
        split=split,
    )


def _decode(source: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    members = _read_archive(source) if source.is_file() else _read_folder(source)
    classes = _parse_meta(members[META], f"{source}:{META}")
    tensors = {}
    for split, batches in (("train", TRAIN_BATCHES), ("test", TEST_BATCHES)):
        parsed = [_parse_batch(members[b], f"{source}:{b}", len(classes)) for b in batches]
        tensors[f"{split}_images"] = torch.from_numpy(np.concatenate([images for images, _ in parsed]))
        tensors[f"{split}_labels"] = torch.from_numpy(np.concatenate([labels for _, labels in parsed]))
    return tensors, {"classes": json.dumps(classes)}


def _read_archive(path: Path) -> dict[str, bytes]:
    """The batch files inside the archive, read in one pass; verifies the archive's md5 afterwards."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                parts = member.name.removeprefix("./").split("/")
                if member.isfile() and len(parts) == 2 and parts[0] == BATCH_DIR and parts[1] in MEMBERS:
                    found[parts[1]] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(
            f"cannot read {path}: {error}; the archive is truncated or corrupt, delete it and download it again"
        ) from None
    missing = [name for name in MEMBERS if name not in found]
    if missing:
        raise DataError(
            f"{path} lacks {BATCH_DIR}/{missing[0]}; it is not the complete {ARCHIVE}, download it again"
        )
    # After parsing, so that a truncated archive reports "truncated" rather than only a mismatching sum.
    expected = checksums.ARCHIVE_MD5.get(ARCHIVE)
    if expected is not None:
        actual = checksums.md5_of_file(path)
        if actual != expected:
            raise ChecksumError(path, expected, actual)
    return found


def _read_folder(folder: Path) -> dict[str, bytes]:
    missing = [name for name in MEMBERS if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder} lacks {missing[0]}; extract the complete {ARCHIVE} there again")
    return {name: (folder / name).read_bytes() for name in MEMBERS}


def _parse_meta(data: bytes, where: str) -> list[str]:
    meta = _unpickle(data, where)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"{where} has no list of label_names; the file is corrupt, download the archive again")
    return [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]


def _parse_batch(data: bytes, where: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> (uint8 (N, 3, 32, 32), int64 (N,))."""
    batch = _unpickle(data, where)
    pixels = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    well_formed = isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.ndim == 2
    if not well_formed or pixels.shape[1] != ROW_BYTES:
        shape = getattr(pixels, "shape", None)
        raise DataError(
            f"{where}: 'data' is not a uint8 (N, {ROW_BYTES}) array (got {shape}); download the archive again"
        )
    labels = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if labels.shape != (len(pixels),):
        raise DataError(f"{where}: {len(pixels)} images but {labels.size} labels; download the archive again")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"{where}: labels outside 0..{num_classes - 1}; download the archive again")
    return np.ascontiguousarray(pixels.reshape(-1, 3, SIZE, SIZE)), labels


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Refuses every global except what pickled numpy arrays need, so a tampered batch cannot run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        if module.startswith("numpy.core") and hasattr(np, "_core"):
            module = module.replace("numpy.core", "numpy._core", 1)  # numpy 2 renamed it; avoid its warning
        return super().find_class(module, name)


def _unpickle(data: bytes, where: str) -> object:
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as error:  # noqa: BLE001 - pickle raises many types on garbage
        raise DataError(f"cannot unpickle {where}: {error}; the file is corrupt, download the archive again") from None


DATASETS.register(NAME)(
    DatasetSpec(
        name=NAME,
        classes=CLASSES,
        files=(RemoteFile(ARCHIVE, URL, ""),),
        load=load,
        description="CIFAR-10, 50k train + 10k test RGB 32x32 images (canonical python pickles)",
    )
)
