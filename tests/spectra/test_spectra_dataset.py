"""Per-class dataset spectra on synthetic images, against a per-image numpy computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqprobe.errors import ConfigError
from freqprobe.spectra import centroid_histograms, compute_dataset_spectrum, discrimination_map


def random_dataset(n: int = 53, classes: int = 4, channels: int = 3, size: int = 12, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(n, channels, size, size, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, classes, (n,), generator=generator)
    return images, labels, [f"class{k}" for k in range(classes)]


def numpy_per_image(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Channel-averaged power (N, H, W) and centroid (N,), one image at a time."""
    _, _, height, width = images.shape
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    powers, centroids = [], []
    for image in images:
        power = np.abs(np.fft.fft2(image)) ** 2 / (height * width)
        powers.append(power.mean(axis=0))
        centroids.append(np.mean([(radius * p).sum() / p.sum() for p in power]))
    return np.array(powers), np.array(centroids)


def test_per_class_means_and_centroids_match_a_per_image_loop():
    images, labels, classes = random_dataset()
    result = compute_dataset_spectrum(images, labels, classes, batch_size=10)
    powers, centroids = numpy_per_image(images.numpy())
    np.testing.assert_allclose(result.centroids.numpy(), centroids, rtol=1e-10)
    for k in range(len(classes)):
        members = labels.numpy() == k
        np.testing.assert_allclose(result.mean_power[k].numpy(), powers[members].mean(0), rtol=1e-10)
        np.testing.assert_allclose(
            result.mean_amplitude[k].numpy(), np.sqrt(powers_per_channel(images[members])).mean((0, 1)), rtol=1e-10
        )
    mean, std = result.centroid_moments()
    for k in range(len(classes)):
        members = labels.numpy() == k
        assert mean[k].item() == pytest.approx(centroids[members].mean(), rel=1e-10)
        assert std[k].item() == pytest.approx(centroids[members].std(), rel=1e-9)
    np.testing.assert_allclose(result.overall_mean_power().numpy(), powers.mean(0), rtol=1e-10)


def powers_per_channel(images: torch.Tensor) -> np.ndarray:
    height, width = images.shape[-2:]
    return np.abs(np.fft.fft2(images.numpy())) ** 2 / (height * width)


def test_batch_size_does_not_change_the_result():
    images, labels, classes = random_dataset(seed=1)
    small = compute_dataset_spectrum(images, labels, classes, batch_size=9)
    whole = compute_dataset_spectrum(images, labels, classes, batch_size=1000)
    torch.testing.assert_close(small.mean_power, whole.mean_power, rtol=1e-12, atol=0)
    torch.testing.assert_close(small.centroids, whole.centroids, rtol=1e-12, atol=0)


def test_uint8_images_are_scaled_to_unit_range():
    images, labels, classes = random_dataset(n=8, seed=2)
    as_bytes = (images * 255).round().to(torch.uint8)
    from_bytes = compute_dataset_spectrum(as_bytes, labels, classes)
    from_float = compute_dataset_spectrum(as_bytes.double() / 255, labels, classes)
    torch.testing.assert_close(from_bytes.mean_power, from_float.mean_power, rtol=1e-5, atol=1e-9)


def test_transform_and_window_are_applied_before_the_fft():
    images, labels, classes = random_dataset(n=9, channels=1, seed=3)
    result = compute_dataset_spectrum(images, labels, classes, transform=lambda x: 1.0 - x, window="hamming")
    plain = compute_dataset_spectrum(images, labels, classes, transform=lambda x: 1.0 - x)
    _, plain_centroids = numpy_per_image(1.0 - images.numpy())
    np.testing.assert_allclose(plain.centroids.numpy(), plain_centroids, rtol=1e-10)
    # The window acts on the transformed image with its mean removed; its DC power stays the un-windowed one.
    flipped = 1.0 - images.numpy()
    mean = flipped.mean(axis=(-2, -1), keepdims=True)
    window = np.outer(np.hamming(12), np.hamming(12))
    windowed, _ = numpy_per_image((flipped - mean) * window)
    expected = windowed / np.mean(window**2)
    expected[:, 0, 0] += 144 * (mean[:, :, 0, 0] ** 2).mean(axis=1)
    np.testing.assert_allclose(result.mean_power.numpy()[0], expected[labels.numpy() == 0].mean(axis=0), rtol=1e-9)
    assert result.window == "hamming"


def test_histograms_match_numpy_and_sum_to_the_class_counts():
    images, labels, classes = random_dataset(n=200, seed=4)
    result = compute_dataset_spectrum(images, labels, classes)
    edges, counts = result.centroid_histograms(n_bins=15)
    assert counts.sum(1).tolist() == result.counts.tolist() == np.bincount(labels.numpy(), minlength=4).tolist()
    for k in range(len(classes)):
        expected, expected_edges = np.histogram(result.centroids.numpy()[labels.numpy() == k], bins=edges.numpy())
        assert counts[k].tolist() == expected.tolist()
    assert edges[0].item() == result.centroids.min().item() and edges[-1].item() == result.centroids.max().item()


def test_histogram_values_on_edges_follow_numpy():
    values = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0], dtype=torch.float64)
    edges, counts = centroid_histograms(values, torch.zeros(5, dtype=torch.long), 1, n_bins=4)
    expected, _ = np.histogram(values.numpy(), bins=edges.numpy())
    assert counts[0].tolist() == expected.tolist() == [1, 1, 1, 2]


def test_histogram_of_identical_values_keeps_them_all():
    edges, counts = centroid_histograms(torch.full((5,), 0.2), torch.tensor([0, 0, 1, 1, 1]), 3, n_bins=4)
    assert counts.sum(1).tolist() == [2, 3, 0]
    assert edges[0].item() < 0.2 < edges[-1].item()


def test_empty_class_gets_zero_spectrum_not_nan():
    images, labels, _ = random_dataset(n=10, classes=2, seed=5)
    result = compute_dataset_spectrum(images, labels, ["a", "b", "never"])
    assert result.counts.tolist()[2] == 0
    assert torch.count_nonzero(result.mean_power[2]) == 0
    assert not torch.isnan(result.centroid_moments()[0]).any()


def test_discrimination_map_counts_classes_with_lower_amplitude():
    amplitude = torch.tensor([[[1.0, 5.0]], [[2.0, 5.0]], [[3.0, 0.0]]])  # 3 classes, 1 x 2 grid
    counts = discrimination_map(amplitude)
    # frequency 0: strictly ordered 1 < 2 < 3; frequency 1: a tie at 5 does not count as lower
    assert counts[:, 0, 0].tolist() == [0, 1, 2]
    assert counts[:, 0, 1].tolist() == [1, 1, 0]


def test_discrimination_map_of_real_result_is_a_count_in_range():
    images, labels, classes = random_dataset(n=40, seed=6)
    result = compute_dataset_spectrum(images, labels, classes)
    counts = result.discrimination_map()
    assert counts.shape == (4, 12, 12) and counts.dtype == torch.int64
    assert counts.min().item() >= 0 and counts.max().item() <= 3
    # at every frequency the ranks of distinct amplitudes are a permutation of 0..K-1
    assert torch.all(counts.sum(0) == 0 + 1 + 2 + 3)


def test_radial_slopes_one_per_class():
    images, labels, classes = random_dataset(n=30, seed=7)
    result = compute_dataset_spectrum(images, labels, classes)
    slopes = result.radial_slopes()
    assert len(slopes) == 4 and all(math.isfinite(s) for s in slopes)


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (torch.rand(3, 12, 12), torch.zeros(3, dtype=torch.long), "(N, C, H, W)"),
        (torch.rand(3, 1, 12, 12), torch.zeros(4, dtype=torch.long), "labels"),
        (torch.rand(0, 1, 12, 12), torch.zeros(0, dtype=torch.long), "no images"),
        (torch.rand(2, 1, 12, 12), torch.tensor([0, 7]), "labels must lie"),
        (torch.ones(2, 1, 12, 12, dtype=torch.int32), torch.tensor([0, 1]), "uint8"),
    ],
)
def test_bad_inputs_raise_one_line_errors(images, labels, message):
    with pytest.raises(ConfigError) as error:
        compute_dataset_spectrum(images, labels, ["a", "b"])
    assert message in str(error.value) and "\n" not in str(error.value)


def test_thread_setting_is_restored_and_does_not_change_results():
    images, labels, classes = random_dataset(n=20, seed=8)
    before = torch.get_num_threads()
    single = compute_dataset_spectrum(images, labels, classes, num_threads=1)
    assert torch.get_num_threads() == before
    unchanged = compute_dataset_spectrum(images, labels, classes, num_threads=None)
    torch.testing.assert_close(single.mean_power, unchanged.mean_power, rtol=1e-12, atol=0)
