"""Decoded-data cache: tensors decoded from dataset files, stored as safetensors in the cache folder.

One cache file per source (dataset kind + absolute path). The file records a key made of the sources'
fingerprints (path, size, mtime) and the checksums they were verified against, so a changed source or a
changed checksum table rebuilds it. Decoded data is only cached after it has been verified: a cache hit
stands for "verified once". A corrupt or unreadable cache file is rebuilt, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch

from freqprobe.data.root import resolve_cache_dir
from freqprobe.errors import WriteError
from freqprobe.io import atomic_save

FORMAT_VERSION = 1
_KEY_FIELD = "freqprobe_cache_key"

Tensors = dict[str, torch.Tensor]
Metadata = dict[str, str]


def fingerprint(paths: Iterable[Path]) -> list[list]:
    """[absolute path, size, mtime_ns, inode] for each file; a directory contributes every file below it (sorted)."""
    entries = []
    for path in paths:
        path = Path(path).absolute()
        if path.is_dir():
            for file in sorted(_walk_files(path)):
                entries.append(_stat_entry(file))
        else:
            entries.append(_stat_entry(path))
    return entries


def cached_tensors(
    kind: str,
    source: Path,
    key: object,
    build: Callable[[], tuple[Tensors, Metadata]],
    wanted: Sequence[str] | None = None,
) -> tuple[Tensors, Metadata]:
    """Return ``build()``'s tensors and metadata, from the cache when its recorded ``key`` matches.

    kind: a short label for the file name (``fashion-mnist-train``, ``cifar10``, ``folder``).
    source: the dataset's location, naming the cache file. key: anything JSON-serializable that changes
    whenever the decoded result would. wanted: load only these tensors (all if None).
    """
    # Hashed so that a directory with 60k files does not put megabytes of metadata in the cache header.
    key_text = hashlib.sha256(
        json.dumps([FORMAT_VERSION, kind, str(source), key], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    path = cache_path(kind, source)
    hit = _read(path, key_text, wanted)
    if hit is not None:
        return hit
    tensors, metadata = build()
    _write(path, key_text, tensors, metadata)
    if wanted is not None:
        tensors = {name: tensors[name] for name in wanted}
    return tensors, metadata


def cache_path(kind: str, source: Path) -> Path:
    digest = hashlib.sha256(str(Path(source).absolute()).encode("utf-8")).hexdigest()[:20]
    return resolve_cache_dir() / f"{kind}-{digest}.safetensors"


def _read(path: Path, key_text: str, wanted: Sequence[str] | None) -> tuple[Tensors, Metadata] | None:
    if not path.is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            if metadata.get(_KEY_FIELD) != key_text:
                return None
            names = list(wanted) if wanted is not None else list(handle.keys())
            tensors = {name: handle.get_tensor(name) for name in names}
    except Exception:  # noqa: BLE001 - any unreadable cache (truncated, garbage, missing tensor) is a miss
        return None
    metadata.pop(_KEY_FIELD, None)
    return tensors, metadata


def _write(path: Path, key_text: str, tensors: Tensors, metadata: Metadata) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    contiguous = {name: tensor.contiguous() for name, tensor in tensors.items()}
    full_metadata = {**metadata, _KEY_FIELD: key_text}
    try:
        atomic_save(path, lambda tmp: save_file(contiguous, str(tmp), metadata=full_metadata))
    except (OSError, WriteError, SafetensorError) as error:
        # A read-only or full cache folder only costs speed; the data itself is fine.
        warnings.warn(f"could not write the decoded-data cache {path}: {error}", RuntimeWarning, stacklevel=3)


def _walk_files(root: Path) -> Iterable[Path]:
    for directory, _, files in os.walk(root):
        for name in files:
            yield Path(directory, name)


def _stat_entry(path: Path) -> list:
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino]
