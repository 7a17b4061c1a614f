"""Fixtures for the data tests: small files in the canonical formats, written here byte by byte, and a local
HTTP server on 127.0.0.1 serving them."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from freqprobe.data import checksums, fashion_mnist

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    """The idx encoding: 0x00 0x00, type 0x08 (ubyte), ndim, big-endian uint32 dims, raw bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@dataclass
class FakeFashion:
    """Fake Fashion-MNIST arrays and their idx encodings, by canonical (uncompressed) file name."""

    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self):
        self.raw = {name: idx_bytes(array) for name, array in self.arrays.items()}

    def write(self, folder: Path, compress: bool = True) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.raw.items():
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / name).write_bytes(data)

    def trust(self, monkeypatch) -> None:
        """Put the fakes' sums into the checksum tables, as the real files' sums are."""
        for name, data in self.raw.items():
            monkeypatch.setitem(checksums.CONTENT_MD5, name, md5(data))
            monkeypatch.setitem(checksums.ARCHIVE_MD5, f"{name}.gz", md5(gzip.compress(data, mtime=0)))


@pytest.fixture
def fake_fashion() -> FakeFashion:
    rng = np.random.default_rng(1)
    train_labels = np.tile(np.arange(10, dtype=np.uint8), 3)  # 3 per class
    test_labels = np.arange(10, dtype=np.uint8)
    return FakeFashion(
        {
            "train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
            "train-labels-idx1-ubyte": train_labels,
            "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
            "t10k-labels-idx1-ubyte": test_labels,
        }
    )


@pytest.fixture(autouse=True)
def _no_system_fashion_mnist(monkeypatch):
    """Tests decide themselves where Fashion-MNIST may be found; a machine's Debian copy must not leak in."""
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", ())


@dataclass
class FakeCifar:
    """Fake CIFAR-10 batches: rows of 3072 bytes (R plane, G plane, B plane), labels, label names."""

    batches: dict[str, tuple[np.ndarray, list[int]]]
    classes: list[str]

    def member_bytes(self) -> dict[str, bytes]:
        members = {}
        for name, (data, labels) in self.batches.items():
            batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data, b"filenames": []}
            members[name] = pickle.dumps(batch, protocol=2)
        meta = {b"label_names": [c.encode() for c in self.classes], b"num_vis": 3072, b"num_cases_per_batch": 4}
        members["batches.meta"] = pickle.dumps(meta, protocol=2)
        return members

    def write_archive(self, path: Path, members: dict[str, bytes] | None = None) -> bytes:
        """Write cifar-10-python.tar.gz at ``path``; return its bytes."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            _add_dir(archive, "cifar-10-batches-py")
            for name, data in (members or self.member_bytes()).items():
                _add_file(archive, f"cifar-10-batches-py/{name}", data)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue())
        return buffer.getvalue()

    def write_folder(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.member_bytes().items():
            (folder / name).write_bytes(data)

    def split(self, names) -> tuple[np.ndarray, np.ndarray]:
        data = np.concatenate([self.batches[n][0] for n in names])
        labels = np.concatenate([self.batches[n][1] for n in names])
        return data, labels


@pytest.fixture
def fake_cifar() -> FakeCifar:
    rng = np.random.default_rng(2)
    batches = {}
    for index, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        count = 4 + index % 2  # batches of unequal size catch concatenation mistakes
        data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, count)]
        batches[name] = (data, labels)
    return FakeCifar(batches, CIFAR_CLASSES)


def _add_dir(archive: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    archive.addfile(info)


def _add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _write_tar(path: Path, files: dict[str, bytes], compress: bool = True) -> Path:
    with tarfile.open(path, mode="w:gz" if compress else "w") as archive:
        for name, data in files.items():
            _add_file(archive, name, data)
    return path


@pytest.fixture
def write_tar():
    """``write_tar(path, {member: bytes}, compress=True) -> path``: a .tar.gz (or plain .tar) archive."""
    return _write_tar


@dataclass
class Server:
    """A static file server on 127.0.0.1 (a thread), serving ``folder`` and logging every requested path."""

    folder: Path
    url: str
    requests: list[str]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """Files written to ``server.folder`` are served under ``server.url`` (a base URL with a path part,
    so mirror URLs are exercised beyond the host)."""
    root = tmp_path / "served"
    folder = root / "files"
    folder.mkdir(parents=True)
    requests: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(folder, f"http://127.0.0.1:{server.server_address[1]}/files", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def real_jpegs(shared_data) -> dict[str, bytes]:
    """A handful of real CIFAR-10 JPEGs from the shared archive: 3 classes x 4 train, 2 test; member -> bytes."""
    wanted_classes = ("airplane", "automobile", "bird")
    chosen: dict[str, bytes] = {}
    with tarfile.open(shared_data / "cifar10-jpeg.tar.gz", mode="r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[1] not in wanted_classes:
                continue
            split, label, _ = parts
            limit = 4 if split == "train" else 2
            if sum(1 for name in chosen if name.startswith(f"{split}/{label}/")) < limit:
                chosen[member.name] = archive.extractfile(member).read()
            if len(chosen) == 3 * (4 + 2):
                break
    assert len(chosen) == 18, "the shared archive lacks the expected train/<class>/ layout"
    return chosen
