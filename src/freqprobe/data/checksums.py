"""Published checksums of the canonical dataset files, and the md5 helpers that check them.

The tables are plain module-level dicts, looked up at call time, so tests can swap in the sums of small fake
files written in the canonical formats.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# md5 of each canonical download, by file name (cs.toronto.edu; the Zalando README).
ARCHIVE_MD5: dict[str, str] = {
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    # CIFAR-10-C (Hendrycks & Dietterich 2019), Zenodo record 2535967 v1, 2,918,471,680 bytes, md5 as listed there
    "CIFAR-10-C.tar": "56bf5dcef84df0e2308c6dcbcbbd8499",
}

# md5 of the decompressed contents, by file name. Repackaged copies (Debian's dataset-fashion-mnist recompresses
# the .gz wrappers) differ from ARCHIVE_MD5 but must match these.
CONTENT_MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}

_CHUNK = 1 << 20


def md5_of_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_of_file(path: Path) -> str:
    """md5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
