"""Figures: valid PNGs, written atomically, headless, with the display mappings the preview states."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from freqprobe.plots import describe, write_spectrum_figures
from freqprobe.plots.preview import display_mapping, plot_preview
from freqprobe.plots.style import grid_shape, shifted_extent
from freqprobe.spectra import compute_dataset_spectrum


def synthetic_spectrum(classes: int = 3, channels: int = 1):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(30, channels, 16, 16, generator=generator)
    labels = torch.arange(30) % classes
    return compute_dataset_spectrum(images, labels, [f"class {k}" for k in range(classes)])


def assert_png(path) -> tuple[int, int]:
    assert path.stat().st_size > 0
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("classes", [1, 7])
def test_spectrum_figures_are_valid_pngs_for_any_class_count(classes, tmp_path):
    rc_before = dict(matplotlib.rcParams)
    paths = write_spectrum_figures(synthetic_spectrum(classes), describe("toy", "train", "none"), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())  # no temp files
    for path in paths.values():
        width, height = assert_png(path)
        assert width > 300 and height > 200
    assert dict(matplotlib.rcParams) == rc_before, "the paper style leaked into the user's matplotlib settings"


def test_figures_do_not_register_with_pyplot(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    write_spectrum_figures(synthetic_spectrum(), "toy", tmp_path)
    assert plt.get_fignums() == before


def test_preview_png_for_grey_and_rgb(tmp_path):
    for channels in (1, 3):
        originals = torch.rand(4, channels, 16, 16, generator=torch.Generator().manual_seed(channels))
        filtered = {"negated": -originals, "scaled": originals * 5}
        path = tmp_path / f"preview{channels}.png"
        plot_preview(originals, filtered, ["a", "b", "c", "d"], "toy", path)
        width, height = assert_png(path)
        assert height > width * 0.9  # 3 stages x 2 rows over 4 columns


def test_display_mapping_by_value_range():
    pixels = display_mapping(torch.tensor([0.0, 0.5, 1.0]))
    assert (pixels.kind, pixels.low, pixels.high) == ("pixels", 0.0, 1.0)
    ringing = display_mapping(torch.tensor([-0.01, 1.01]))  # tiny band-pass overshoot stays a pixel image
    assert ringing.kind == "pixels"
    zero_mean = torch.linspace(-0.3, 0.2, 1001)
    signed = display_mapping(zero_mean)
    assert (signed.kind, signed.low, signed.high) == ("signed", pytest.approx(-0.2975), pytest.approx(0.2975))
    assert "±0.3" in signed.describe()
    lopsided = display_mapping(torch.linspace(-0.1, 1.1, 1001))  # a low-pass image with ringing: not centred on 0
    assert (lopsided.kind, lopsided.low, lopsided.high) == ("stretched", pytest.approx(-0.094), pytest.approx(1.094))
    positive = display_mapping(torch.linspace(2.0, 7.0, 1001))
    assert (positive.kind, positive.low, positive.high) == ("stretched", pytest.approx(2.025), pytest.approx(6.975))


def test_display_range_ignores_a_few_extreme_pixels():
    values = torch.cat([torch.linspace(-0.2, 0.2, 10_000), torch.tensor([-13.0])])  # e.g. log of a near-zero term
    mapping = display_mapping(values)
    assert mapping.kind == "signed" and mapping.high == pytest.approx(0.198, abs=1e-3)


def test_describe_names_data_split_and_filter():
    assert describe("fashion-mnist", "val", "blur:1") == "Fashion-MNIST · val split · filter blur:1"
    text = describe("folder:x/cifar10-jpeg.tar.gz", "train", "a, b", note="CIFAR-10 (JPEG q75 copy)", window="hamming")
    assert text == "CIFAR-10 (JPEG q75 copy) · train split · filters a, b · Hamming window on mean-removed images"


@pytest.mark.parametrize("panels, shape", [(1, (1, 1)), (5, (1, 5)), (7, (2, 4)), (10, (2, 5)), (11, (3, 4))])
def test_grid_shape(panels, shape):
    rows, columns = grid_shape(panels)
    assert (rows, columns) == shape and rows * columns >= panels


@pytest.mark.parametrize("size", [8, 9, 28])
def test_shifted_extent_puts_pixel_centres_on_fftshifted_frequencies(size):
    left, right, bottom, top = shifted_extent(size, size)
    centres = np.linspace(left, right, 2 * size + 1)[1::2]
    np.testing.assert_allclose(centres, np.fft.fftshift(np.fft.fftfreq(size)), atol=1e-12)
    assert (bottom, top) == (left, right)


def test_wrap_title_breaks_only_at_separators_and_fits_the_width():
    from freqprobe.plots.sensitivity import TITLE_CHARS_PER_INCH, wrap_title

    title = "resnet20 · CIFAR-10 (JPEG q75 copy) test (1000 images) · filter highpass:2 · antialias"
    wrapped = wrap_title(title, 4.6)
    lines = wrapped.split("\n")
    assert lines == ["resnet20 · CIFAR-10 (JPEG q75 copy) test (1000 images)", "filter highpass:2 · antialias"]
    assert all(len(line) <= 4.6 * TITLE_CHARS_PER_INCH for line in lines)
    assert wrapped.replace("\n", " · ") == title
    assert wrap_title(title, 12.0) == title  # a wide figure keeps one line
