"""Fetch the canonical dataset files, verify their md5 and only then move them into place.

A download streams into a temporary file beside its destination; a checksum mismatch or a broken connection
removes the temporary file and leaves any existing file untouched. Files already present and valid are kept.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import socket
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from freqprobe.data import checksums
from freqprobe.data.catalog import DatasetSpec, RemoteFile, is_folder_name, lookup
from freqprobe.data.root import resolve_root
from freqprobe.errors import ChecksumError, ConfigError, DataError
from freqprobe.io import atomic_path

MIRROR_ENV = "FREQPROBE_MIRROR"
MIRROR_SCHEMES = ("http://", "https://", "file://")
TIMEOUT_S = 60
_CHUNK = 1 << 20


class DownloadChecksumError(ChecksumError):
    """A freshly downloaded file does not match its published md5; nothing was saved."""

    def __init__(self, url: str, destination: Path, expected: str, actual: str):
        self.path, self.expected, self.actual = destination, expected, actual
        DataError.__init__(
            self,
            f"checksum mismatch for {destination.name} downloaded from {url}: expected md5 {expected}, got {actual}; "
            f"nothing was saved to {destination}; retry, or use --mirror with a correct copy",
        )


def download(name: str, root=None, mirror: str | None = None, progress: bool = True) -> Path:
    """Download dataset ``name``'s canonical files into ``root`` (resolved like ``--data-dir``).

    mirror: a base URL (http, https or file) serving the same file names, replacing the canonical host;
    default ``$FREQPROBE_MIRROR`` if set (so ``--download`` can use a local mirror too).
    Returns the folder holding the files. Raises ConfigError (unknown name, folder dataset, bad mirror),
    DataError (HTTP error, unreachable host, short download) or ChecksumError (md5 mismatch).
    """
    if is_folder_name(name):
        raise ConfigError(f"{name} is a local folder dataset; there is nothing to download")
    spec = lookup(name)
    mirror = mirror or os.environ.get(MIRROR_ENV) or None
    _check_mirror(mirror)
    root = resolve_root(root)
    for remote in spec.files:
        destination = root / remote.subdir / remote.filename
        if destination.is_file() and is_valid_copy(destination):
            continue
        fetch(file_url(remote, mirror), destination, checksums.ARCHIVE_MD5.get(remote.filename), progress)
    return dataset_dir(spec, root)


def dataset_dir(spec: DatasetSpec, root: Path) -> Path:
    return root / spec.files[0].subdir


def file_url(remote: RemoteFile, mirror: str | None) -> str:
    """The canonical URL, or ``MIRROR/filename`` when a mirror is given."""
    return f"{mirror.rstrip('/')}/{remote.filename}" if mirror else remote.url


def is_valid_copy(path: Path) -> bool:
    """Whether ``path`` matches its published md5, or for a repackaged .gz, its decompressed md5."""
    expected = checksums.ARCHIVE_MD5.get(path.name)
    if expected is None or checksums.md5_of_file(path) == expected:
        return True
    content_expected = checksums.CONTENT_MD5.get(path.name.removesuffix(".gz"))
    if content_expected is None or path.suffix != ".gz":
        return False
    try:
        return checksums.md5_of_bytes(gzip.decompress(path.read_bytes())) == content_expected
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return False


def fetch(url: str, destination: Path, md5: str | None, progress: bool = True) -> Path:
    """Stream ``url`` to ``destination``, renaming into place only when its md5 equals ``md5`` (if given)."""
    with atomic_path(destination) as tmp:
        actual = _stream(url, tmp, progress, label=destination.name)
        if md5 is not None and actual != md5:
            raise DownloadChecksumError(url, destination, md5, actual)
    return destination


def _stream(url: str, target: Path, progress: bool, label: str) -> str:
    """Copy ``url`` into ``target`` with a progress bar on stderr; return the md5 of what was received."""
    from tqdm import tqdm

    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(target, "wb") as out:
            total = _content_length(response)
            with tqdm(total=total, unit="B", unit_scale=True, desc=label, file=sys.stderr, disable=not progress) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response's socket
        raise DataError(
            f"downloading {url} failed: HTTP {error.code} {error.reason}; check the URL or --mirror"
        ) from None
    except urllib.error.URLError as error:
        raise DataError(f"cannot reach {url}: {error.reason}; check your connection or use --mirror URL") from None
    except (socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException) as error:
        reason = error or type(error).__name__
        raise DataError(f"downloading {url} failed: {reason}; retry or use --mirror URL") from None
    if total is not None and received != total:
        raise DataError(f"downloading {url} stopped after {received} of {total} bytes; retry")
    return digest.hexdigest()


def _content_length(response) -> int | None:
    length = response.headers.get("Content-Length") if response.headers else None
    return int(length) if length and length.isdigit() else None


def _check_mirror(mirror: str | None) -> None:
    if mirror is not None and not mirror.startswith(MIRROR_SCHEMES):
        raise ConfigError(f"mirror URL {mirror!r} must start with http://, https:// or file://")
