"""``folder:PATH`` datasets: a directory or ``.tar``/``.tar.gz`` archive with ``train/<class>/*`` and
``test/<class>/*`` PNG/JPEG images, classes in sorted order.

The archive is read once, both splits are decoded together and cached (keyed by path, size and mtime),
so the second load only reads the cache. Relative paths are relative to the current directory. A single
wrapping top-level folder (``cifar10/train/...``) is accepted.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import json
import lzma
import os
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from freqprobe.data.cache import cached_tensors, fingerprint
from freqprobe.data.catalog import MissingDataError
from freqprobe.data.dataset import ImageDataset
from freqprobe.data.decode import decode_images
from freqprobe.data.labels import FOLDER_PREFIX
from freqprobe.data.resize import describe_resize
from freqprobe.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FOLDER_SPLITS = ("train", "test")
LAYOUT = "train/<class>/*.png|jpg and test/<class>/*.png|jpg"
# One image file of a dataset is a few KiB; this stated bound stops a link to /dev/zero or a huge stray file.
MAX_IMAGE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class _Entry:
    """One image of the layout: its key in the file dict, split, class, and its name in messages."""

    parts: tuple[str, ...]
    split: str
    label: str
    display: str


def folder_path(name: str, prefix: str = FOLDER_PREFIX) -> Path:
    """``folder:PATH`` (or ``prefix`` PATH) -> absolute PATH (relative to the current directory); ConfigError when
    PATH is empty."""
    raw = name.removeprefix(prefix)
    if not raw:
        raise ConfigError(
            f"dataset {name!r} names no path; write {prefix}PATH, e.g. {prefix}../shared/data/cifar10-jpeg.tar.gz"
        )
    return Path(os.path.abspath(Path(raw).expanduser()))  # abspath also folds '..' for readable messages


def load(name: str, split: str, image_size: int | None = None) -> ImageDataset:
    """The ``train`` or ``test`` split of the folder dataset ``name`` (``folder:PATH``); ``image_size`` N brings
    every image to NxN (:mod:`freqprobe.data.resize`), None keeps the stored size.

    Raises MissingDataError when PATH does not exist, DataError for a corrupt archive, a wrong layout,
    an undecodable image or an image whose size differs from the others.
    """
    path = folder_path(name)
    if not path.exists():
        raise MissingDataError(
            f"folder dataset {path} does not exist; give a directory or .tar/.tar.gz archive holding {LAYOUT}"
        )
    wanted = [f"{split}_images", f"{split}_labels"]
    files = tree_fingerprint(path)
    kind = "folder" if image_size is None else f"folder-{image_size}px"  # one cache file per size
    build = lambda: _decode(path, image_size)  # noqa: E731
    tensors, metadata = cached_tensors(kind, path, {"files": files, "image_size": image_size}, build, wanted)
    return ImageDataset(
        images=tensors[f"{split}_images"],
        labels=tensors[f"{split}_labels"],
        classes=json.loads(metadata["classes"]),
        name=name,
        source=str(path),
        split=split,
        resize=None if image_size is None else describe_resize(image_size),
    )


def read_image_tree(path: Path) -> dict[tuple[str, ...], bytes]:
    """Path parts -> bytes of every image file in the directory or archive ``path`` (checked as for ``folder:``)."""
    return _read_archive(path) if path.is_file() else _read_directory(path)


def tree_fingerprint(path: Path) -> list:
    """What the decoded cache of ``path`` is keyed by: its image files' sizes and times (or the archive's)."""
    mode = _stat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise DataError(f"dataset {path} is {_kind(mode)}; give a directory or a .tar/.tar.gz archive")
    return _directory_fingerprint(path) if stat.S_ISDIR(mode) else fingerprint([path])


def _decode(path: Path, image_size: int | None) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    files = read_image_tree(path)
    entries = _organize(files, path)
    classes = sorted({entry.label for entry in entries if entry.split == "train"})
    _check_classes(entries, classes, path)
    images = decode_images(
        [files[entry.parts] for entry in entries], [entry.display for entry in entries], image_size=image_size
    )
    index_of = {name: index for index, name in enumerate(classes)}
    labels = np.array([index_of[entry.label] for entry in entries], dtype=np.int64)
    splits = np.array([entry.split for entry in entries])
    tensors = {}
    for split in FOLDER_SPLITS:
        chosen = splits == split
        tensors[f"{split}_images"] = torch.from_numpy(np.ascontiguousarray(images[chosen]))
        tensors[f"{split}_labels"] = torch.from_numpy(labels[chosen])
    return tensors, {"classes": json.dumps(classes)}


def _image_files(root: Path) -> list[tuple[tuple[str, ...], Path, os.stat_result]]:
    """(relative parts, path, stat) of every image file below ``root``, following symbolic links, sorted.

    Raises:
        DataError: a symbolic link loop or a broken link, an image name that is not a regular file (a FIFO or a
            device), or an image file larger than MAX_IMAGE_BYTES; the line names the path.
    """
    found = []
    pending = [(root, (), frozenset({_identity(_stat(root))}))]
    while pending:
        directory, parts, ancestors = pending.pop()
        for entry in sorted(_list(directory)):
            if entry.startswith("."):
                continue
            path = directory / entry
            status = _stat(path)
            if stat.S_ISDIR(status.st_mode):
                if _identity(status) in ancestors:
                    raise DataError(
                        f"{path} is a symbolic link loop (it leads back to a folder above it); remove or fix the link"
                    )
                pending.append((path, (*parts, entry), ancestors | {_identity(status)}))
            elif _is_image_name(entry):
                if not stat.S_ISREG(status.st_mode):
                    raise DataError(
                        f"{path} is {_kind(status.st_mode)}, not a regular image file; remove it or replace it"
                    )
                _check_image_size(status.st_size, str(path))
                found.append(((*parts, entry), path, status))
    return sorted(found, key=lambda item: item[0])


def _directory_fingerprint(root: Path) -> list[list]:
    """[path, size, mtime_ns, inode] of every image file below ``root``, through symbolic links (the cache key)."""
    return [[str(path), status.st_size, status.st_mtime_ns, status.st_ino] for _, path, status in _image_files(root)]


def _read_directory(root: Path) -> dict[tuple[str, ...], bytes]:
    """Relative path parts -> bytes for every image file below ``root`` (see :func:`_image_files`)."""
    return {parts: _read_image_file(path) for parts, path, _ in _image_files(root)}


def _list(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError as error:
        raise DataError(f"cannot list folder {directory}: {error.strerror}; check its permissions") from None


def _stat(path: Path) -> os.stat_result:
    """``os.stat`` through symbolic links, failures as one line naming the path."""
    try:
        return os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DataError(f"{path} is a symbolic link loop; remove or fix the link") from None
        if error.errno == errno.ENOENT and os.path.islink(path):
            raise DataError(f"{path} is a broken symbolic link (its target is missing); remove or fix it") from None
        raise DataError(f"cannot read {path}: {error.strerror}; check that it exists and is readable") from None


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _read_image_file(path: Path) -> bytes:
    """The bytes of an image file :func:`_image_files` found regular, at most MAX_IMAGE_BYTES."""
    try:
        # O_NONBLOCK: should the path turn into a FIFO after the stat, opening it must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise DataError(f"{path} is not a regular image file; remove it or replace it")
            data = file.read(MAX_IMAGE_BYTES + 1)
    except OSError as error:
        raise DataError(f"cannot read image {path}: {error.strerror}; check its permissions") from None
    _check_image_size(len(data), str(path))
    return data


def _check_image_size(size: int, name: str) -> None:
    if size > MAX_IMAGE_BYTES:
        limit = f"{MAX_IMAGE_BYTES // 2**20} MiB" if MAX_IMAGE_BYTES % 2**20 == 0 else f"{MAX_IMAGE_BYTES} bytes"
        raise DataError(
            f"image {name} has {size} bytes, over the {limit} limit of one image file; no dataset image is that "
            f"large, remove it or shrink it"
        )


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "a special file")


def _read_archive(path: Path) -> dict[tuple[str, ...], bytes]:
    """Member path parts -> bytes for every image in the archive; an image member must be a regular file of at
    most MAX_IMAGE_BYTES (DataError naming the member otherwise).

    The archive is decompressed into memory in one go and members are sliced out by offset: for 60k small
    JPEGs that is about twice as fast as tarfile's streaming reads, and the decoded tensor dwarfs it anyway.
    """
    files = {}
    try:
        raw = _decompressed(path.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            for member in archive:
                parts = tuple(p for p in member.name.split("/") if p not in ("", "."))
                if not (parts and _is_image_name(parts[-1])):
                    continue
                if not member.isfile():
                    raise DataError(
                        f"member {member.name} of archive {path} is not a regular file (a link or special file); "
                        f"store the image itself in the archive"
                    )
                _check_image_size(member.size, f"{member.name} in {path}")
                end = member.offset_data + member.size
                if end > len(raw):
                    raise tarfile.ReadError(f"member {member.name} runs past the end of the archive")
                files[parts] = raw[member.offset_data : end]
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError, OSError) as error:
        raise DataError(
            f"cannot read archive {path}: {error}; it is truncated, corrupt or not a .tar/.tar.gz file, fetch it again"
        ) from None
    return files


def _decompressed(data: bytes) -> bytes:
    """A gzip/bz2/xz-compressed tar -> the plain tar; a plain tar unchanged."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    return data


def _organize(files: dict[tuple[str, ...], bytes], path: Path) -> list[_Entry]:
    """The images laid out as split/class/file (below an optional wrapping folder), in load order:
    train then test, classes sorted, file names sorted. Anything else in the tree is ignored."""
    depth = _layout_depth(files, path)
    chosen = [parts for parts in files if len(parts) == depth + 3 and parts[depth] in FOLDER_SPLITS]
    chosen.sort(key=lambda parts: (FOLDER_SPLITS.index(parts[depth]), parts[depth + 1], parts[depth + 2]))
    in_archive = path.is_file()
    return [
        _Entry(
            parts=parts,
            split=parts[depth],
            label=parts[depth + 1],
            display=f"{'/'.join(parts)} in {path}" if in_archive else str(path.joinpath(*parts)),
        )
        for parts in chosen
    ]


def _layout_depth(files: dict[tuple[str, ...], bytes], path: Path) -> int:
    for depth in (0, 1):
        present = {parts[depth] for parts in files if len(parts) == depth + 3}
        if set(FOLDER_SPLITS) <= present:
            return depth
    raise DataError(f"{path} does not hold {LAYOUT}; arrange the images that way (classes as folder names)")


def _check_classes(entries: list[_Entry], classes: list[str], path: Path) -> None:
    stray = sorted({entry.label for entry in entries if entry.split == "test"} - set(classes))
    if stray:
        raise DataError(
            f"{path}: test/{stray[0]}/ is a class with no training images; add train/{stray[0]}/ images or remove it"
        )


def _is_image_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES)
