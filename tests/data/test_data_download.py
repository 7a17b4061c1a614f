"""The whole download path against a local HTTP server on 127.0.0.1 serving files in the canonical formats."""

from __future__ import annotations

import gzip
import hashlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from freqprobe.cli import main
from freqprobe.data import checksums, download, load_dataset, load_splits
from freqprobe.errors import ChecksumError, ConfigError, DataError

FASHION_FILES = [f"{s}-{k}-ubyte" for s in ("train", "t10k") for k in ("images-idx3", "labels-idx1")]


def serve_fashion(fake_fashion, server) -> None:
    for name, data in fake_fashion.raw.items():
        (server.folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))


def test_fashion_mnist_download_then_load(fake_fashion, http_server, tmp_path, monkeypatch):
    fake_fashion.trust(monkeypatch)
    serve_fashion(fake_fashion, http_server)
    root = tmp_path / "root"
    folder = download("fashion-mnist", root, mirror=http_server.url, progress=False)
    assert folder == root / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in FASHION_FILES)
    assert sorted(http_server.requests) == sorted(f"/files/{n}.gz" for n in FASHION_FILES)
    test = load_dataset("fashion-mnist", train=False, root=root)
    np.testing.assert_array_equal(test.images[:, 0].numpy(), fake_fashion.arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.labels.numpy(), fake_fashion.arrays["t10k-labels-idx1-ubyte"])


def test_present_valid_files_are_not_fetched_again(fake_fashion, http_server, tmp_path, monkeypatch):
    fake_fashion.trust(monkeypatch)
    serve_fashion(fake_fashion, http_server)
    download("fashion-mnist", tmp_path, mirror=http_server.url, progress=False)
    http_server.requests.clear()
    download("fashion-mnist", tmp_path, mirror=http_server.url, progress=False)
    assert http_server.requests == []


def test_repackaged_gz_counts_as_valid_by_its_contents(fake_fashion, http_server, tmp_path, monkeypatch):
    """Debian recompresses the .gz wrappers: the archive md5 differs, the decompressed md5 does not."""
    fake_fashion.trust(monkeypatch)
    serve_fashion(fake_fashion, http_server)
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name, data in fake_fashion.raw.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1, mtime=12345))
    download("fashion-mnist", tmp_path, mirror=http_server.url, progress=False)
    assert http_server.requests == []


def test_cifar10_download_then_load_splits(fake_cifar, http_server, tmp_path, monkeypatch):
    data = fake_cifar.write_archive(http_server.folder / "cifar-10-python.tar.gz")
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", hashlib.md5(data).hexdigest())
    monkeypatch.setenv("FREQPROBE_MIRROR", http_server.url)  # what --download uses for a mirror
    splits = load_splits("cifar10", root=tmp_path, val_fraction=0.25, seed=0, download=True)
    assert (tmp_path / "cifar-10-python.tar.gz").read_bytes() == data
    rows, labels = fake_cifar.split(["test_batch"])
    np.testing.assert_array_equal(splits.test.images.numpy().reshape(len(rows), -1), rows)
    train_count = sum(len(fake_cifar.batches[f"data_batch_{i}"][1]) for i in range(1, 6))
    assert len(splits.train) + len(splits.val) == train_count


def test_wrong_checksum_keeps_nothing_and_damages_nothing(fake_cifar, http_server, tmp_path, monkeypatch, capsys):
    served = fake_cifar.write_archive(http_server.folder / "cifar-10-python.tar.gz")
    expected = "0" * 32
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", expected)
    existing = tmp_path / "cifar-10-python.tar.gz"
    existing.write_bytes(b"an older, incomplete copy")
    with pytest.raises(ChecksumError) as error:
        download("cifar10", tmp_path, mirror=http_server.url, progress=True)
    message = str(error.value)
    assert "cifar-10-python.tar.gz" in message and http_server.url in message
    assert expected in message and hashlib.md5(served).hexdigest() in message
    assert "\n" not in message
    assert existing.read_bytes() == b"an older, incomplete copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-python.tar.gz", "served"]
    assert "cifar-10-python.tar.gz" in capsys.readouterr().err  # the progress bar went to stderr


def test_wrong_checksum_into_an_empty_root_leaves_no_file(fake_fashion, http_server, tmp_path, monkeypatch):
    fake_fashion.trust(monkeypatch)
    serve_fashion(fake_fashion, http_server)
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "train-labels-idx1-ubyte.gz", "f" * 32)
    root = tmp_path / "root"
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz"):
        download("fashion-mnist", root, mirror=http_server.url, progress=False)
    # train-images came first and was valid; the bad file and its temporary copy are gone.
    assert sorted(p.name for p in (root / "fashion-mnist").iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_http_404_is_one_line(http_server, tmp_path):
    with pytest.raises(DataError) as error:
        download("cifar10", tmp_path, mirror=http_server.url, progress=False)
    message = str(error.value)
    assert "HTTP 404" in message and f"{http_server.url}/cifar-10-python.tar.gz" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == [http_server.folder.parent]


def test_connection_refused_is_one_line(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DataError, match=rf"cannot reach http://127.0.0.1:{port}/cifar-10-python.tar.gz"):
        download("cifar10", tmp_path, mirror=f"http://127.0.0.1:{port}", progress=False)


def test_cli_download_in_a_fresh_process_knows_the_datasets(tmp_path):
    """``data download`` imports only the download module; the registry must still be complete."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mirror = f"http://127.0.0.1:{port}"
    argv = ["data", "download", "--dataset", "cifar10", "--data-dir", str(tmp_path), "--mirror", mirror]
    code = f"import sys; from freqprobe.cli import main; sys.exit(main({argv!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f"freqprobe: error: cannot reach http://127.0.0.1:{port}/cifar-10-python.tar.gz")


def test_file_mirror_works(fake_fashion, tmp_path, monkeypatch):
    fake_fashion.trust(monkeypatch)
    fake_fashion.write(tmp_path / "mirror")
    folder = download("fashion-mnist", tmp_path / "root", mirror=(tmp_path / "mirror").as_uri(), progress=False)
    assert len(list(folder.iterdir())) == 4


@pytest.mark.parametrize(
    "name, mirror, match",
    [
        ("imagenet", None, r"unknown dataset 'imagenet'; valid: cifar10, fashion-mnist, or folder:PATH"),
        ("folder:/tmp/x", None, "local folder dataset; there is nothing to download"),
        ("cifar10", "ftp://example.org", "must start with http://, https:// or file://"),
    ],
)
def test_impossible_requests_are_config_errors(name, mirror, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        download(name, tmp_path, mirror=mirror, progress=False)


def test_cli_download(fake_fashion, http_server, tmp_path, monkeypatch, capsys):
    fake_fashion.trust(monkeypatch)
    serve_fashion(fake_fashion, http_server)
    argv = ["data", "download", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path), "--mirror", http_server.url]
    code = main([*argv, "--quiet"])
    assert code == 0
    assert str(tmp_path / "fashion-mnist") in capsys.readouterr().out
    assert len(list((tmp_path / "fashion-mnist").iterdir())) == 4


def test_cli_download_error_is_one_line(http_server, tmp_path, capsys):
    code = main(["data", "download", "--dataset", "cifar10", "--data-dir", str(tmp_path), "--mirror", http_server.url])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("freqprobe: error: downloading") and "HTTP 404" in err[0]
