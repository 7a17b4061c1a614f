"""``folder:PATH`` datasets: real CIFAR-10 JPEGs, lossless PNG fixtures with exact pixels, layout and bad input,
the decoded cache, and one full load of the shared CIFAR-10 JPEG archive."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from freqprobe.data import MissingDataError, folder, load_dataset
from freqprobe.data.decode import decode_images
from freqprobe.data.cache import cache_path
from freqprobe.errors import ConfigError, DataError


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def pil_decode(data: bytes) -> np.ndarray:
    """Reference decoding, straight from PIL: (C, H, W)."""
    array = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return array.transpose(2, 0, 1)


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture
def grey_files() -> dict[str, bytes]:
    """Lossless greyscale 5x4 PNGs whose pixels encode (split, class, index)."""
    files = {}
    for split, per_class in (("train", 3), ("test", 1)):
        for label in ("b-class", "a-class"):  # written unsorted: loading must sort
            for index in range(per_class):
                value = {"train": 0, "test": 100}[split] + {"a-class": 0, "b-class": 50}[label] + index
                files[f"{split}/{label}/{index:02d}.png"] = png(np.full((4, 5), value, dtype=np.uint8))
    return files


def test_real_jpegs_from_a_tar_decode_like_pil(real_jpegs, tmp_path, write_tar):
    archive = write_tar(tmp_path / "tiny.tar.gz", real_jpegs)
    train = load_dataset(f"folder:{archive}", train=True)
    test = load_dataset(f"folder:{archive}", train=False)
    assert train.classes == ["airplane", "automobile", "bird"]
    assert train.images.shape == (12, 3, 32, 32) and test.images.shape == (6, 3, 32, 32)
    assert train.class_counts() == [4, 4, 4] and test.class_counts() == [2, 2, 2]
    expected_train = [name for name in sorted(real_jpegs) if name.startswith("train/")]
    for index, name in enumerate(expected_train):
        np.testing.assert_array_equal(train.images[index].numpy(), pil_decode(real_jpegs[name]))
        assert train.classes[train.labels[index]] == name.split("/")[1]
    assert train.name == f"folder:{archive}" and train.source == str(archive)


def test_directory_and_plain_tar_give_the_same_tensors(real_jpegs, tmp_path, write_tar):
    directory = write_tree(tmp_path / "tree", real_jpegs)
    archive = write_tar(tmp_path / "tiny.tar", real_jpegs, compress=False)
    from_dir = load_dataset(f"folder:{directory}", train=True)
    from_tar = load_dataset(f"folder:{archive}", train=True)
    assert torch.equal(from_dir.images, from_tar.images) and torch.equal(from_dir.labels, from_tar.labels)


def test_greyscale_folder_gives_one_channel_with_exact_pixels(grey_files, tmp_path):
    root = write_tree(tmp_path / "grey", grey_files)
    train = load_dataset(f"folder:{root}", train=True)
    test = load_dataset(f"folder:{root}", train=False)
    assert train.classes == ["a-class", "b-class"]
    assert train.images.shape == (6, 1, 4, 5)
    assert train.images[:, 0, 0, 0].tolist() == [0, 1, 2, 50, 51, 52]
    assert torch.all(train.images == train.images[:, :, :1, :1])  # every pixel of an image is its value
    assert train.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert test.images[:, 0, 0, 0].tolist() == [100, 150] and test.labels.tolist() == [0, 1]


def test_one_colour_image_makes_the_set_rgb(grey_files, tmp_path):
    colour = np.zeros((4, 5, 3), dtype=np.uint8)
    colour[..., 0], colour[..., 1], colour[..., 2] = 10, 20, 30
    grey_files["train/a-class/99.png"] = png(colour)
    root = write_tree(tmp_path / "mixed", grey_files)
    train = load_dataset(f"folder:{root}", train=True)
    assert train.images.shape == (7, 3, 4, 5)
    assert train.images[3, :, 2, 2].tolist() == [10, 20, 30]  # a-class/99.png sorts after 00..02
    assert train.images[0, :, 2, 2].tolist() == [0, 0, 0] and train.images[4, :, 0, 0].tolist() == [50, 50, 50]


def test_wrapping_top_folder_and_stray_files_are_tolerated(grey_files, tmp_path, write_tar):
    wrapped = {f"dataset/{name}": data for name, data in grey_files.items()}
    wrapped["dataset/README.txt"] = b"not an image"
    wrapped["dataset/train/a-class/notes.txt"] = b"ignored"
    archive = write_tar(tmp_path / "wrapped.tar.gz", wrapped)
    assert len(load_dataset(f"folder:{archive}", train=True)) == 6


def test_relative_path_is_relative_to_the_current_directory(grey_files, tmp_path, monkeypatch):
    write_tree(tmp_path / "data" / "grey", grey_files)
    monkeypatch.chdir(tmp_path / "data")
    dataset = load_dataset("folder:grey", train=True)
    assert dataset.source == str(tmp_path / "data" / "grey") and dataset.name == "folder:grey"


def test_wrong_size_image_names_file_and_both_sizes(grey_files, tmp_path, write_tar):
    grey_files["train/b-class/01.png"] = png(np.zeros((6, 7), dtype=np.uint8))
    archive = write_tar(tmp_path / "sizes.tar.gz", grey_files)
    with pytest.raises(DataError) as error:
        load_dataset(f"folder:{archive}")
    message = str(error.value)
    assert "train/b-class/01.png" in message and str(archive) in message
    assert "is 7x6 pixels but the other images are 5x4" in message


def test_pool_decoding_equals_serial_decoding(real_jpegs, grey_files, tmp_path, monkeypatch):
    """A 2-process pool (FREQPROBE_DECODE_WORKERS=2) decodes the same bytes in the same order, and reports
    bad images from inside a worker the same way."""
    names = sorted(real_jpegs)
    blobs = [real_jpegs[name] for name in names]
    serial = decode_images(blobs, names, workers=1)
    monkeypatch.setenv("FREQPROBE_DECODE_WORKERS", "2")
    assert np.array_equal(decode_images(blobs, names), serial)
    grey_files["train/b-class/01.png"] = b"\x89PNG garbage"
    root = write_tree(tmp_path / "pool", grey_files)
    with pytest.raises(DataError, match="cannot decode image .*b-class/01.png"):
        load_dataset(f"folder:{root}")
    monkeypatch.setenv("FREQPROBE_DECODE_WORKERS", "many")
    with pytest.raises(ConfigError, match="FREQPROBE_DECODE_WORKERS='many'"):
        decode_images(blobs, names)


def test_corrupt_image_names_the_file(grey_files, tmp_path):
    grey_files["test/a-class/00.png"] = grey_files["test/a-class/00.png"][:40]
    root = write_tree(tmp_path / "broken", grey_files)
    with pytest.raises(DataError, match="cannot decode image") as error:
        load_dataset(f"folder:{root}")
    assert str(root / "test" / "a-class" / "00.png") in str(error.value)


def test_corrupt_archive_names_the_file(grey_files, tmp_path, write_tar):
    archive = write_tar(tmp_path / "cut.tar.gz", grey_files)
    archive.write_bytes(archive.read_bytes()[:-60])
    with pytest.raises(DataError, match="cannot read archive") as error:
        load_dataset(f"folder:{archive}")
    assert str(archive) in str(error.value)


def test_layout_without_splits_is_explained(grey_files, tmp_path):
    flat = {name.replace("train/", "training/"): data for name, data in grey_files.items()}
    root = write_tree(tmp_path / "flat", flat)
    with pytest.raises(DataError, match=r"does not hold train/<class>/"):
        load_dataset(f"folder:{root}")


def test_test_class_without_training_images_is_refused(grey_files, tmp_path):
    grey_files["test/c-class/00.png"] = grey_files["test/a-class/00.png"]
    root = write_tree(tmp_path / "extra", grey_files)
    with pytest.raises(DataError, match="test/c-class/ is a class with no training images"):
        load_dataset(f"folder:{root}")


def test_missing_folder_and_empty_path(tmp_path):
    with pytest.raises(MissingDataError, match="does not exist") as error:
        load_dataset(f"folder:{tmp_path / 'nowhere'}")
    assert str(tmp_path / "nowhere") in str(error.value)
    with pytest.raises(ConfigError, match="names no path"):
        load_dataset("folder:")


def test_second_load_reads_only_the_cache(grey_files, tmp_path, monkeypatch, write_tar):
    archive = write_tar(tmp_path / "grey.tar.gz", grey_files)
    first = load_dataset(f"folder:{archive}", train=True)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again despite a valid cache")

    monkeypatch.setattr(folder, "decode_images", no_decoding)
    again = load_dataset(f"folder:{archive}", train=True)
    test = load_dataset(f"folder:{archive}", train=False)  # both splits were cached by the first read
    assert torch.equal(first.images, again.images) and len(test) == 2


def test_corrupt_cache_is_rebuilt_and_changes_are_noticed(grey_files, tmp_path, write_tar):
    archive = write_tar(tmp_path / "grey.tar.gz", grey_files)
    first = load_dataset(f"folder:{archive}", train=True)
    cached = cache_path("folder", archive)
    cached.write_bytes(cached.read_bytes()[:100])
    assert torch.equal(load_dataset(f"folder:{archive}", train=True).images, first.images)

    grey_files["train/a-class/00.png"] = png(np.full((4, 5), 77, dtype=np.uint8))
    before = archive.stat()
    write_tar(archive, grey_files)
    os.utime(archive, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert load_dataset(f"folder:{archive}", train=True).images[0, 0, 0, 0] == 77


def test_full_shared_cifar10_jpeg_archive(shared_data):
    """All 60k JPEGs of the shared copy: counts, classes, and images equal to PIL's decoding."""
    path = shared_data / "cifar10-jpeg.tar.gz"
    train = load_dataset(f"folder:{path}", train=True)
    test = load_dataset(f"folder:{path}", train=False)
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    assert train.classes == classes and test.classes == classes
    assert train.images.shape == (50000, 3, 32, 32) and test.images.shape == (10000, 3, 32, 32)
    assert train.class_counts() == [5000] * 10 and test.class_counts() == [1000] * 10
    with tarfile.open(path) as archive:
        for split, dataset, index in (("train", train, 0), ("train", train, 49999), ("test", test, 1234)):
            label = classes[dataset.labels[index]]
            position = index - dataset.class_counts()[0] * int(dataset.labels[index])
            names = sorted(n for n in archive.getnames() if n.startswith(f"{split}/{label}/"))
            expected = pil_decode(archive.extractfile(names[position]).read())
            np.testing.assert_array_equal(dataset.images[index].numpy(), expected)


# ---------------------------------------------------------------------------------------------------------------
# links and special files
# ---------------------------------------------------------------------------------------------------------------


def test_class_folders_and_splits_that_are_symbolic_links_are_followed(grey_files, tmp_path):
    plain = write_tree(tmp_path / "plain", grey_files)
    linked = tmp_path / "linked"
    (linked / "train").mkdir(parents=True)
    (linked / "train" / "a-class").symlink_to(plain / "train" / "a-class")  # a linked class folder
    (linked / "train" / "b-class").symlink_to(plain / "train" / "b-class")
    (linked / "test").symlink_to(plain / "test")  # a linked split
    for train in (True, False):
        expected = load_dataset(f"folder:{plain}", train=train)
        got = load_dataset(f"folder:{linked}", train=train)
        assert got.classes == expected.classes == ["a-class", "b-class"]
        assert torch.equal(got.images, expected.images) and torch.equal(got.labels, expected.labels)


def test_a_symbolic_link_loop_is_one_line_naming_it(grey_files, tmp_path):
    root = write_tree(tmp_path / "loop", grey_files)
    (root / "train" / "a-class" / "again").symlink_to(root / "train")
    with pytest.raises(DataError) as error:
        load_dataset(f"folder:{root}")
    assert str(error.value) == (
        f"{root / 'train' / 'a-class' / 'again'} is a symbolic link loop (it leads back to a folder above it); "
        f"remove or fix the link"
    )
    (root / "train" / "a-class" / "again").unlink()
    (root / "train" / "a-class" / "self").symlink_to(root / "train" / "a-class" / "self")  # ELOOP from the kernel
    with pytest.raises(DataError, match=r"a-class/self is a symbolic link loop; remove or fix the link"):
        load_dataset(f"folder:{root}")


def test_a_fifo_with_an_image_name_is_refused_without_being_opened(grey_files, tmp_path):
    import threading

    root = write_tree(tmp_path / "fifo", grey_files)
    fifo = root / "train" / "a-class" / "x.jpg"
    os.mkfifo(fifo)

    def writer():  # lets a reader that does open the FIFO go on (to a decode error), so the test never hangs
        with open(fifo, "wb") as stream:
            stream.write(b"junk")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(DataError) as error:
            load_dataset(f"folder:{root}")
    finally:
        release = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # unblocks the writer if nobody opened the FIFO
        thread.join()
        os.close(release)
    assert str(error.value) == f"{fifo} is a FIFO, not a regular image file; remove it or replace it"


def test_a_link_to_a_device_is_refused(grey_files, tmp_path):
    root = write_tree(tmp_path / "device", grey_files)
    (root / "test" / "b-class" / "zero.png").symlink_to("/dev/null")
    with pytest.raises(DataError, match=r"b-class/zero.png is a character device, not a regular image file"):
        load_dataset(f"folder:{root}")


def test_an_image_file_past_the_size_bound_is_refused_naming_it(grey_files, tmp_path):
    root = write_tree(tmp_path / "huge", grey_files)
    huge = root / "train" / "b-class" / "huge.png"
    with open(huge, "wb") as stream:  # sparse: costs no disk
        stream.truncate(folder.MAX_IMAGE_BYTES + 1)
    with pytest.raises(DataError) as error:
        load_dataset(f"folder:{root}")
    assert str(error.value).startswith(f"image {huge} has {64 * 2**20 + 1} bytes, over the 64 MiB limit of one image")


def test_archive_members_must_be_regular_files_within_the_size_bound(grey_files, tmp_path, monkeypatch):
    archive = tmp_path / "linked.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in grey_files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("train/a-class/zero.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/dev/zero"
        tar.addfile(link)
    with pytest.raises(DataError, match=r"member train/a-class/zero.png of archive .*linked.tar is not a regular file"):
        load_dataset(f"folder:{archive}")
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as tar:
        for name, data in grey_files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(folder, "MAX_IMAGE_BYTES", 60)  # the fixture PNGs are 70-odd bytes
    with pytest.raises(DataError, match=r"image train/b-class/00.png in .*plain.tar has \d+ bytes, over the 60 bytes"):
        load_dataset(f"folder:{plain}")
