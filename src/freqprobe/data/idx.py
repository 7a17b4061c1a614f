"""The idx file format of (Fashion-)MNIST: a magic number, big-endian uint32 dimensions, then raw uint8 data.

Magic: two zero bytes, a type code (0x08 = unsigned byte, the only one these datasets use), the number of
dimensions. Every structural problem raises DataError naming the file.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from freqprobe.errors import DataError

UBYTE = 0x08


def read_idx_bytes(path: Path) -> bytes:
    """The decompressed contents of ``path`` (gunzipped when it ends in ``.gz``); DataError if that fails."""
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(
            f"cannot decompress {path}: {error}; the file is truncated or corrupt, delete it and download it again"
        ) from None


def parse_idx(data: bytes, ndim: int, path: Path) -> np.ndarray:
    """Decode idx ``data`` holding an unsigned-byte array of ``ndim`` dimensions -> uint8 array of that shape.

    Raises DataError naming ``path`` for a wrong magic number, a truncated file or trailing bytes.
    """
    expected_magic = (UBYTE << 8) | ndim
    if len(data) < 4:
        raise DataError(f"{path} is truncated: {len(data)} bytes, too short for an idx header; download it again")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"{path} has magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(an idx{ndim}-ubyte file); it is not the right idx file or is corrupt, download it again"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{path} is truncated inside its header ({len(data)} bytes); download it again")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    # Python ints: four uint32 dimensions can multiply past 64 bits, where numpy's product would wrap around.
    expected_size = header_size + math.prod(shape)
    if len(data) < expected_size:
        raise DataError(
            f"{path} is truncated: its header declares shape {shape} ({expected_size} bytes) "
            f"but it holds {len(data)} bytes; download it again"
        )
    if len(data) > expected_size:
        raise DataError(
            f"{path} has {len(data) - expected_size} bytes after the shape {shape} its header declares; "
            f"the file is corrupt, download it again"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
