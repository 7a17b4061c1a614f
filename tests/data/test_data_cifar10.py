"""CIFAR-10 in its canonical python form: fake batches with known pixels, archive and folder, bad input."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest
import torch

from freqprobe.data import MissingDataError, checksums, load_dataset
from freqprobe.errors import ChecksumError, DataError

TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.fixture
def cifar_archive(tmp_path, fake_cifar, monkeypatch):
    """A fake cifar-10-python.tar.gz under the root, its md5 put in the checksum table."""
    data = fake_cifar.write_archive(tmp_path / "cifar-10-python.tar.gz")
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", hashlib.md5(data).hexdigest())
    return tmp_path / "cifar-10-python.tar.gz"


@pytest.mark.parametrize("train", [True, False])
def test_archive_pixels_follow_the_cifar_row_layout(cifar_archive, fake_cifar, train):
    dataset = load_dataset("cifar10", train=train, root=cifar_archive.parent)
    rows, labels = fake_cifar.split(TRAIN if train else ["test_batch"])
    assert dataset.images.shape == (len(rows), 3, 32, 32)
    assert dataset.images.dtype == torch.uint8
    images = dataset.images.numpy()
    for n in range(len(rows)):
        for channel, y, x in [(0, 0, 0), (0, 0, 31), (1, 5, 7), (2, 31, 0), (2, 31, 31), (1, 16, 3)]:
            # R plane, then G plane, then B plane; each 32 rows of 32 pixels.
            assert images[n, channel, y, x] == rows[n, channel * 1024 + y * 32 + x]
    assert dataset.labels.tolist() == list(labels)
    assert dataset.classes == fake_cifar.classes
    assert dataset.source == str(cifar_archive)


def test_extracted_folder_in_the_cifar10_subfolder_loads_the_same(tmp_path, fake_cifar):
    fake_cifar.write_folder(tmp_path / "cifar10" / "cifar-10-batches-py")
    dataset = load_dataset("cifar10", train=True, root=tmp_path)
    rows, labels = fake_cifar.split(TRAIN)
    np.testing.assert_array_equal(dataset.images.numpy().reshape(len(rows), -1), rows)
    assert dataset.labels.tolist() == list(labels)


def test_archive_with_wrong_checksum_is_refused(tmp_path, fake_cifar):
    path = tmp_path / "cifar-10-python.tar.gz"
    data = fake_cifar.write_archive(path)
    with pytest.raises(ChecksumError) as error:
        load_dataset("cifar10", root=tmp_path)
    message = str(error.value)
    assert str(path) in message
    assert "c58f30108f718f92721af3b95e74349a" in message and hashlib.md5(data).hexdigest() in message


def test_truncated_archive_names_the_file(tmp_path, fake_cifar, monkeypatch):
    path = tmp_path / "cifar-10-python.tar.gz"
    data = fake_cifar.write_archive(path)
    path.write_bytes(data[: len(data) * 2 // 3])
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", hashlib.md5(data).hexdigest())
    with pytest.raises(DataError, match="truncated or corrupt") as error:
        load_dataset("cifar10", root=tmp_path)
    assert str(path) in str(error.value)


def test_archive_without_a_batch_names_it(tmp_path, fake_cifar, monkeypatch):
    members = fake_cifar.member_bytes()
    del members["data_batch_3"]
    data = fake_cifar.write_archive(tmp_path / "cifar-10-python.tar.gz", members)
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", hashlib.md5(data).hexdigest())
    with pytest.raises(DataError, match="lacks cifar-10-batches-py/data_batch_3"):
        load_dataset("cifar10", root=tmp_path)


def test_batch_with_wrong_row_length_is_corrupt(tmp_path, fake_cifar):
    fake_cifar.batches["test_batch"] = (fake_cifar.batches["test_batch"][0][:, :3000], [0] * 5)
    fake_cifar.write_folder(tmp_path / "cifar-10-batches-py")
    with pytest.raises(DataError, match=r"test_batch: 'data' is not a uint8 \(N, 3072\) array"):
        load_dataset("cifar10", train=False, root=tmp_path)


def test_pickle_that_calls_code_is_refused(tmp_path, fake_cifar):
    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    fake_cifar.write_folder(tmp_path / "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({b"data": Exploit()}))
    with pytest.raises(DataError, match="builtins.print is not allowed") as error:
        load_dataset("cifar10", train=False, root=tmp_path)
    assert str(tmp_path / "cifar-10-batches-py") + ":test_batch" in str(error.value)


def test_missing_cifar_says_where_it_looked(tmp_path):
    (tmp_path / "cifar10-jpeg.tar.gz").write_bytes(b"")  # the shared JPEG copy earns a hint
    with pytest.raises(MissingDataError) as error:
        load_dataset("cifar10", root=tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert "cifar-10-python.tar.gz" in message and str(tmp_path / "cifar10") in message
    assert "freqprobe data download --dataset cifar10" in message
    assert f"folder:{tmp_path / 'cifar10-jpeg.tar.gz'}" in message


def test_batches_pickled_by_numpy_1_load(tmp_path, fake_cifar):
    """The real batches name numpy.core.multiarray (numpy 1); numpy 2 calls it numpy._core.multiarray."""
    fake_cifar.write_folder(tmp_path / "cifar-10-batches-py")
    test_batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    data = test_batch.read_bytes()
    legacy = data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    assert legacy != data or b"numpy.core.multiarray\n" in data  # the protocol-2 GLOBAL opcode names the module
    test_batch.write_bytes(legacy)
    dataset = load_dataset("cifar10", train=False, root=tmp_path)
    rows, _ = fake_cifar.split(["test_batch"])
    np.testing.assert_array_equal(dataset.images.numpy().reshape(len(rows), -1), rows)
