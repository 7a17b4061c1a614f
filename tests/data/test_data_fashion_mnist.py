"""Fashion-MNIST: the real files, the idx format checks, lookup folders, checksums and the decoded cache."""

from __future__ import annotations

import gzip
import hashlib
import os

import numpy as np
import pytest
import torch

from freqprobe.data import MissingDataError, fashion_mnist, load_dataset
from freqprobe.data.cache import cache_path
from freqprobe.errors import ChecksumError, DataError

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
REAL_CONTENT_MD5 = {
    "train": ("f4a8712d7a061bf5bd6d2ca38dc4d50a", "9018921c3c673c538a1fc5bad174d6f9"),
    "test": ("8181f5470baa50b63fa0f6fddb340f0a", "15d484375f8d13e6eb1aabb0c3f46965"),
}


def _reencoded_md5s(dataset) -> tuple[str, str]:
    """md5 of the idx files rebuilt from the loaded tensors: equal to the published sums only if every
    pixel and label came through unchanged and in order."""
    n = len(dataset)
    images = bytes.fromhex("00000803") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    images += dataset.images.numpy().tobytes()
    labels = bytes.fromhex("00000801") + n.to_bytes(4, "big") + dataset.labels.numpy().astype(np.uint8).tobytes()
    return hashlib.md5(images).hexdigest(), hashlib.md5(labels).hexdigest()


@pytest.mark.parametrize("train, count", [(True, 6000), (False, 1000)])
def test_real_fashion_mnist_loads_every_pixel(shared_data, train, count):
    dataset = load_dataset("fashion-mnist", train=train, root=shared_data)
    assert dataset.images.shape == (10 * count, 1, 28, 28)
    assert dataset.images.dtype == torch.uint8 and dataset.images.is_contiguous()
    assert dataset.labels.dtype == torch.int64
    assert dataset.classes == CLASSES
    assert dataset.class_counts() == [count] * 10
    assert dataset.split == ("train" if train else "test")
    assert dataset.source == str(shared_data / "fashion-mnist")
    assert _reencoded_md5s(dataset) == REAL_CONTENT_MD5["train" if train else "test"]


def test_found_in_debian_system_folder(shared_data, tmp_path, monkeypatch):
    system = tmp_path / "usr-share-datasets-fashion-mnist"
    system.mkdir()
    for file in (shared_data / "fashion-mnist").glob("t10k-*"):
        (system / file.name).symlink_to(file)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", (system,))
    dataset = load_dataset("fashion-mnist", train=False, root=tmp_path / "empty-root")
    assert dataset.source == str(system)
    assert len(dataset) == 10000


def test_raw_files_in_root_itself(fake_fashion, tmp_path, monkeypatch):
    fake_fashion.trust(monkeypatch)
    fake_fashion.write(tmp_path, compress=False)
    dataset = load_dataset("fashion-mnist", train=True, root=tmp_path)
    np.testing.assert_array_equal(dataset.images[:, 0].numpy(), fake_fashion.arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(dataset.labels.numpy(), fake_fashion.arrays["train-labels-idx1-ubyte"])
    assert dataset.source == str(tmp_path)


def test_missing_data_says_where_it_looked_and_how_to_get_it(tmp_path):
    with pytest.raises(MissingDataError) as error:
        load_dataset("fashion-mnist", root=tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / "fashion-mnist") in message and str(tmp_path) in message
    assert "freqprobe data download --dataset fashion-mnist" in message
    assert "folder:PATH" in message


def _write_images(tmp_path, fake_fashion, monkeypatch, data: bytes, gz: bool = True):
    fake_fashion.trust(monkeypatch)
    folder = tmp_path / "fashion-mnist"
    fake_fashion.write(folder)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_truncated_idx_names_the_file(tmp_path, fake_fashion, monkeypatch):
    data = fake_fashion.raw["train-images-idx3-ubyte"]
    path = _write_images(tmp_path, fake_fashion, monkeypatch, data[:-100])
    with pytest.raises(DataError, match="truncated") as error:
        load_dataset("fashion-mnist", root=tmp_path)
    assert str(path) in str(error.value)
    assert f"holds {len(data) - 100} bytes" in str(error.value)


def test_header_whose_dimensions_multiply_past_64_bits_is_truncated_with_the_true_size(
    tmp_path, fake_fashion, monkeypatch
):
    shape = (2**16, 2**24, 2**24)  # 2**64 pixels: an int64 product wraps to 0
    header = bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in shape)
    path = _write_images(tmp_path, fake_fashion, monkeypatch, header)
    with pytest.raises(DataError, match="truncated") as error:
        load_dataset("fashion-mnist", root=tmp_path)
    assert str(path) in str(error.value)
    assert f"({2**64 + 16} bytes) but it holds 16 bytes" in str(error.value)


def test_bad_magic_names_the_file(tmp_path, fake_fashion, monkeypatch):
    labels_in_images_file = fake_fashion.raw["train-labels-idx1-ubyte"]
    path = _write_images(tmp_path, fake_fashion, monkeypatch, labels_in_images_file)
    with pytest.raises(DataError, match=r"magic number 0x00000801, expected 0x00000803") as error:
        load_dataset("fashion-mnist", root=tmp_path)
    assert str(path) in str(error.value)


def test_trailing_bytes_are_corruption(tmp_path, fake_fashion, monkeypatch):
    data = fake_fashion.raw["train-images-idx3-ubyte"] + b"\0" * 7
    path = _write_images(tmp_path, fake_fashion, monkeypatch, data)
    with pytest.raises(DataError, match="7 bytes after") as error:
        load_dataset("fashion-mnist", root=tmp_path)
    assert str(path) in str(error.value)


def test_truncated_gzip_names_the_file(tmp_path, fake_fashion, monkeypatch):
    compressed = gzip.compress(fake_fashion.raw["train-images-idx3-ubyte"])
    path = _write_images(tmp_path, fake_fashion, monkeypatch, compressed[: len(compressed) // 2], gz=False)
    with pytest.raises(DataError, match="cannot decompress") as error:
        load_dataset("fashion-mnist", root=tmp_path)
    assert str(path) in str(error.value)


def test_wellformed_file_with_wrong_contents_fails_its_checksum(tmp_path, fake_fashion, monkeypatch):
    original = fake_fashion.raw["train-images-idx3-ubyte"]
    tampered = bytearray(original)
    tampered[16] ^= 1  # first pixel: the idx structure stays valid
    path = _write_images(tmp_path, fake_fashion, monkeypatch, bytes(tampered))
    with pytest.raises(ChecksumError) as error:
        load_dataset("fashion-mnist", root=tmp_path)
    assert error.value.expected == hashlib.md5(original).hexdigest()
    assert error.value.actual == hashlib.md5(bytes(tampered)).hexdigest()
    message = str(error.value)
    assert str(path) in message and error.value.expected in message and error.value.actual in message


def test_image_and_label_counts_must_agree(tmp_path, fake_fashion, monkeypatch):
    fake_fashion.arrays["train-labels-idx1-ubyte"] = fake_fashion.arrays["train-labels-idx1-ubyte"][:-1]
    fake_fashion.__post_init__()
    fake_fashion.trust(monkeypatch)
    fake_fashion.write(tmp_path)
    with pytest.raises(DataError, match="30 images but .* 29 labels"):
        load_dataset("fashion-mnist", root=tmp_path)


def test_second_load_comes_from_the_cache(tmp_path, fake_fashion, monkeypatch):
    fake_fashion.trust(monkeypatch)
    fake_fashion.write(tmp_path / "fashion-mnist")
    first = load_dataset("fashion-mnist", train=False, root=tmp_path)

    def no_decoding(*args):
        raise AssertionError("decoded again despite a valid cache")

    monkeypatch.setattr(fashion_mnist, "_decode", no_decoding)
    second = load_dataset("fashion-mnist", train=False, root=tmp_path)
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)


def test_corrupt_cache_is_rebuilt(tmp_path, fake_fashion, monkeypatch):
    fake_fashion.trust(monkeypatch)
    folder = tmp_path / "fashion-mnist"
    fake_fashion.write(folder)
    first = load_dataset("fashion-mnist", train=False, root=tmp_path)
    cached = cache_path("fashion-mnist-test", folder / "t10k-images-idx3-ubyte")
    assert cached.is_file()
    cached.write_bytes(b"\x10\x00garbage")
    again = load_dataset("fashion-mnist", train=False, root=tmp_path)
    assert torch.equal(first.images, again.images)
    assert cached.stat().st_size > 10 * 28 * 28  # rewritten with real tensors


def test_changed_file_invalidates_the_cache(tmp_path, fake_fashion, monkeypatch):
    fake_fashion.trust(monkeypatch)
    folder = tmp_path / "fashion-mnist"
    fake_fashion.write(folder)
    load_dataset("fashion-mnist", train=False, root=tmp_path)
    labels_path = folder / "t10k-labels-idx1-ubyte.gz"
    data = gzip.decompress(labels_path.read_bytes())
    before = labels_path.stat()
    labels_path.write_bytes(gzip.compress(data[:-1] + bytes([data[-1] ^ 1])))
    # Coarse file-system clocks can give a rewrite within one tick the same mtime; make the change visible.
    os.utime(labels_path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ChecksumError):  # re-verified, not served from the stale cache
        load_dataset("fashion-mnist", train=False, root=tmp_path)
