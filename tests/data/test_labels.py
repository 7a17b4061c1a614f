"""freqprobe.data.labels: one name per dataset, one rule for the shared CIFAR-10 JPEG copy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from freqprobe.data.folder import folder_path
from freqprobe.data.labels import JPEG_COPY_LABEL, data_note, dataset_label, is_jpeg_copy

SHARED_SPEC = "folder:../shared/data/cifar10-jpeg.tar.gz"


@pytest.mark.parametrize(
    "name",
    [
        SHARED_SPEC,
        "folder:/data/cifar10-jpeg.tar.gz",
        "folder:/data/cifar10-jpeg",
        "folder:/data/cifar10-jpeg/",  # the archive unpacked into a folder of its own name
        "folder:cifar10-jpeg.tar.gz",
    ],
)
def test_the_shared_archive_or_its_folder_is_the_jpeg_copy(name):
    assert is_jpeg_copy(name)
    assert dataset_label(name) == JPEG_COPY_LABEL == "CIFAR-10 (JPEG q75 copy)"
    assert data_note(name) == JPEG_COPY_LABEL


@pytest.mark.parametrize(
    "name",
    [
        "folder:/x/cifar10-jpeg-other.tar.gz",  # a data set of the user's own that merely starts with the name
        "folder:/x/my-cifar10-jpeg.tar.gz",
        "folder:/x/cifar10-jpeg.tar.gz/train",
        "folder:/x/pets.tar",
        "cifar10",
        "cifar10-jpeg.tar.gz",  # not a folder: dataset, so not a path
    ],
)
def test_other_names_are_not_the_jpeg_copy(name):
    assert not is_jpeg_copy(name)
    assert data_note(name) is None
    assert dataset_label(name) != JPEG_COPY_LABEL


def test_the_real_shared_archive_is_recognized_by_its_recorded_source(shared_data):
    name = f"folder:{shared_data / 'cifar10-jpeg.tar.gz'}"
    source = str(folder_path(name))  # what ImageDataset.source records: an absolute path, no prefix
    assert (shared_data / "cifar10-jpeg.tar.gz").is_file()
    assert is_jpeg_copy(name) and is_jpeg_copy(None, source)
    assert dataset_label("folder:renamed", source) == JPEG_COPY_LABEL
    assert data_note("folder:renamed", source) == JPEG_COPY_LABEL


def test_a_source_outside_the_rule_leaves_the_label_alone():
    assert dataset_label("folder:/x/pets", "/x/pets") == "folder:/x/pets"
    assert data_note("folder:/x/pets", "/x/cifar10-jpeg-other") is None


def test_builtin_datasets_have_one_readable_name():
    assert dataset_label("fashion-mnist") == "Fashion-MNIST"
    assert dataset_label("cifar10") == "CIFAR-10"
    assert dataset_label("mnist") == "mnist"


def test_labels_import_no_torch():
    code = "import sys, freqprobe.data.labels; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
