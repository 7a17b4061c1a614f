"""The released CIFAR-10-C format: files written here as released (uint8 (5 n, 32, 32, 3), labels (5 n,)), read from
a folder and from a tar checked against the published md5."""

from __future__ import annotations

import tarfile

import numpy as np
import pytest
import torch
from torch import nn

from freqprobe.corruptions.evaluation import evaluate_corruptions
from freqprobe.corruptions.released import open_release
from freqprobe.data import checksums
from freqprobe.errors import ChecksumError, DataError

NAMES = ("gaussian_noise", "fog", "jpeg_compression")


@pytest.fixture(scope="module")
def clean(shared_data):
    """12 CIFAR-10 (JPEG q75 copy) test images, uint8 (12, 3, 32, 32), and their labels."""
    from freqprobe.data import load_dataset

    test = load_dataset(f"folder:{shared_data / 'cifar10-jpeg.tar.gz'}", train=False, root=shared_data)
    return test.images[:12], test.labels[:12]


def _write_release(folder, images, labels, severity_offsets=(0, 0, 0, 0, 0)):
    """Every corruption file holds the images in reversed order, severity s with +offset[s-1] added (uint8 wraps)."""
    folder.mkdir(parents=True, exist_ok=True)
    hwc = images.numpy().transpose(0, 2, 3, 1)[::-1]
    blocks = [(hwc.astype(np.int64) + offset).astype(np.uint8) for offset in severity_offsets]
    for name in NAMES:
        np.save(folder / f"{name}.npy", np.concatenate(blocks))
    np.save(folder / "labels.npy", np.tile(labels.numpy()[::-1].astype(np.uint8), 5))
    return folder


def test_a_folder_in_the_released_format_is_read_by_severity_block(tmp_path, clean):
    images, labels = clean
    release = open_release(_write_release(tmp_path / "CIFAR-10-C", images, labels, (0, 1, 2, 3, 4)))
    assert release.names == list(NAMES) and release.per_severity == 12 and release.image_shape == (3, 32, 32)
    torch.testing.assert_close(release.labels, labels.flip(0))
    rows = torch.tensor([0, 5, 11])
    for severity in (1, 4):
        got = release.images("fog", severity, rows)
        expected = (images.flip(0)[rows].to(torch.int64) + severity - 1).to(torch.uint8)
        assert torch.equal(got, expected)


def test_released_images_are_scored_with_the_released_labels(tmp_path, clean):
    images, labels = clean
    release = open_release(_write_release(tmp_path / "release", images, labels))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)).eval()
    from freqprobe.data import to_float

    section = evaluate_corruptions(
        model, to_float(images), labels, names=NAMES, released=release, released_rows=torch.arange(11, -1, -1),
    )
    assert section["source"] == "released CIFAR-10-C files"
    for name in NAMES:  # the release holds the clean images: every severity errs as the clean images do
        assert section["per_corruption"][name]["error"] == [pytest.approx(section["clean_error"])] * 5


def test_an_archive_is_checked_against_the_published_md5_first(tmp_path, clean, monkeypatch):
    images, labels = clean
    folder = _write_release(tmp_path / "CIFAR-10-C", images, labels)
    archive = tmp_path / "CIFAR-10-C.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname="CIFAR-10-C")
    assert checksums.ARCHIVE_MD5["CIFAR-10-C.tar"] == "56bf5dcef84df0e2308c6dcbcbbd8499"  # Zenodo record 2535967
    with pytest.raises(ChecksumError, match="expected md5 56bf5dcef84df0e2308c6dcbcbbd8499"):
        open_release(archive)
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "CIFAR-10-C.tar", checksums.md5_of_file(archive))
    release = open_release(archive)
    assert release.names == list(NAMES)
    assert torch.equal(release.images("gaussian_noise", 2, torch.tensor([0])), images[-1:])


def test_files_not_in_the_released_shape_are_one_line_errors(tmp_path, clean):
    images, labels = clean
    folder = _write_release(tmp_path / "bad", images, labels)
    np.save(folder / "fog.npy", np.zeros((60, 32, 32, 3), dtype=np.float32))
    with pytest.raises(DataError, match=r"fog.npy must be uint8 \(60, H, W, C\)"):
        open_release(folder)
    (folder / "labels.npy").unlink()
    with pytest.raises(DataError, match="labels.npy is missing"):
        open_release(folder)
    with pytest.raises(DataError, match="does not exist"):
        open_release(tmp_path / "nowhere")
