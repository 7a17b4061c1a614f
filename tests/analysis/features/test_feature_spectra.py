"""Feature-map spectra against analytic oracles: layers that emit known maps, and a Gaussian blur layer."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from freqprobe.analysis.features import LOG_EPS, feature_spectra
from freqprobe.errors import ConfigError
from freqprobe.filters import build_filter, gaussian_blur
from freqprobe.spectra import radial_profile


class Emit(nn.Module):
    """Ignores its input's values and emits the fixed map ``pattern`` (H, W) on every channel of every image."""

    def __init__(self, pattern: torch.Tensor, channels: int = 3):
        super().__init__()
        self.channels = channels
        self.register_buffer("pattern", pattern)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pattern.expand(x.shape[0], self.channels, *self.pattern.shape).to(x.dtype)


def grid(size: int = 16):
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                          indexing="ij")
    return y, x


def layer(result, name):
    return next(entry for entry in result.to_dict()["layers"] if entry["name"] == name)


def test_a_sinusoid_gives_its_centroid_and_park_kim_corner_delta():
    size, a, b = 16, 1.0, 0.5
    y, x = grid(size)
    fy, fx = 3 / 16, 4 / 16  # |f| = 5/16
    sinusoid = a + b * torch.cos(2 * math.pi * (fy * y + fx * x))
    checker = a + b * (-1.0) ** (y + x)  # all its AC amplitude at the corner (0.5, 0.5)
    net = nn.ModuleDict({"sin": Emit(sinusoid), "checker": Emit(checker)})
    net.forward = lambda images: (net["sin"](images), net["checker"](images))
    result = feature_spectra(net, torch.zeros(5, 1, size, size), layers="sin,checker", batch_size=2)
    sin_entry, checker_entry = layer(result, "sin"), layer(result, "checker")
    # power a^2 H W at DC and b^2 H W / 4 at each of +-f: centroid = |f| (b^2 / 2) / (a^2 + b^2 / 2)
    assert sin_entry["spectral_centroid"] == pytest.approx(5 / 16 * (b * b / 2) / (a * a + b * b / 2), rel=1e-6)
    # amplitude a H W at DC and b H W at the corner
    area = size * size
    expected = math.log(b * area + LOG_EPS) - math.log(a * area + LOG_EPS)
    assert checker_entry["delta_log_amplitude_corner"] == pytest.approx(expected, abs=1e-6)
    assert checker_entry["corner_frequency"] == [0.5, 0.5]
    assert checker_entry["spectral_centroid"] == pytest.approx(math.sqrt(0.5) * b * b / (a * a + b * b), rel=1e-6)
    assert sin_entry["maps"] == 5 * 3 and sin_entry["shape"] == [3, size, size]


@pytest.mark.parametrize("size", [16, 15])
def test_an_impulse_on_a_constant_gives_the_known_delta_log_amplitude(size):
    """c + delta has amplitude 1 at every frequency but DC, where it is c H W + 1: every annulus reads log 1."""
    c = 0.25
    impulse = torch.full((size, size), c, dtype=torch.float64)
    impulse[3, 5] += 1.0
    result = feature_spectra(nn.Sequential(Emit(impulse, channels=2)), torch.zeros(4, 1, size, size))
    entry = layer(result, "0")
    expected = math.log(1 + LOG_EPS) - math.log(c * size * size + 1 + LOG_EPS)
    assert entry["delta_log_amplitude"] == pytest.approx(expected, abs=1e-5)
    assert entry["delta_frequency"] == pytest.approx((size // 2) / size)
    assert entry["delta_frequency_nyquist"] == pytest.approx((size // 2) / size / 0.5)


def test_a_gaussian_blur_layer_lowers_the_log_amplitude_by_its_transfer_function(device):
    sigma = 1.0
    net = nn.Sequential(nn.Identity(), build_filter(f"blur:{sigma:g}")).to(device)
    images = torch.rand(24, 2, 32, 32, generator=torch.Generator().manual_seed(0))
    result = feature_spectra(net, images, layers="0,1", batch_size=10, device=device)
    before, after = layer(result, "0"), layer(result, "1")
    impulse = torch.zeros(1, 1, 32, 32, dtype=torch.float64)
    impulse[..., 0, 0] = 1.0
    log_transfer = torch.fft.fft2(gaussian_blur(impulse, sigma)).abs().log()[0, 0]  # log|H(f)|, fftfreq order
    difference = torch.tensor(after["mean_log_amplitude"], dtype=torch.float64) - torch.tensor(
        before["mean_log_amplitude"], dtype=torch.float64)
    # exact up to the float32 FFT, whose rounding (relative to the DC amplitude) grows as |H| falls (1e-3 at |H| ~ e^-6)
    strong = log_transfer > -4
    assert torch.allclose(difference[strong], log_transfer[strong], atol=1e-4)
    assert torch.allclose(difference, log_transfer, atol=0.02)
    _, transfer_profile = radial_profile(log_transfer)
    profile_difference = (torch.tensor(after["radial_profile"]["log_amplitude"], dtype=torch.float64)
                          - torch.tensor(before["radial_profile"]["log_amplitude"], dtype=torch.float64))
    assert torch.allclose(profile_difference, transfer_profile, atol=5e-3)
    # and the sampled kernel's transfer follows the continuous Gaussian's exp(-2 pi^2 sigma^2 |f|^2) at low |f|
    radii = torch.tensor(after["radial_profile"]["radii"], dtype=torch.float64)
    low = radii <= 0.25
    assert torch.allclose(transfer_profile[low], -2 * math.pi ** 2 * sigma ** 2 * radii[low] ** 2, atol=0.05)
    assert after["spectral_centroid"] < before["spectral_centroid"]


def test_aliasing_share_before_a_subsampling_is_the_energy_above_the_new_nyquist():
    y, x = grid(16)
    a, b = 1.0, 0.5
    net = nn.Sequential(Emit(a + b * (-1.0) ** (y + x)), nn.AvgPool2d(2), nn.Conv2d(3, 3, 3, stride=2, padding=1))
    result = feature_spectra(net, torch.zeros(3, 1, 16, 16)).to_dict()
    pool, conv = result["subsampling"]
    assert (pool["name"], pool["stride"], pool["new_nyquist"]) == ("1", [2, 2], [0.25, 0.25])
    assert pool["aliasing_share"] == pytest.approx(b * b / (a * a + b * b), rel=1e-6)
    assert conv["name"] == "2" and conv["input_shape"] == [3, 8, 8]
    assert conv["aliasing_share"] == pytest.approx(0.0, abs=1e-9)  # the 2x2 average removes the checkerboard


def test_sums_do_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1))
    images = torch.rand(10, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    whole = feature_spectra(net, images, batch_size=10).to_dict()
    pieces = feature_spectra(net, images, batch_size=3).to_dict()
    for one, other in zip(whole["layers"], pieces["layers"]):
        assert one["delta_log_amplitude"] == pytest.approx(other["delta_log_amplitude"], rel=1e-6)
        assert one["spectral_centroid"] == pytest.approx(other["spectral_centroid"], rel=1e-6)
    assert whole["subsampling"][0]["aliasing_share"] == pytest.approx(pieces["subsampling"][0]["aliasing_share"])


def test_layers_that_give_no_map_are_skipped_and_an_unmatched_pattern_is_one_line():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    result = feature_spectra(net, torch.rand(2, 1, 8, 8))
    assert [entry.name for entry in result.layers] == ["0"] and result.skipped == ["1", "2", "3"]
    with pytest.raises(ConfigError, match="matches no module"):
        feature_spectra(net, torch.rand(2, 1, 8, 8), layers="layer9.*")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        feature_spectra(net, torch.rand(2, 1, 8, 8), layers="re:(")
    with pytest.raises(ConfigError, match="at least 2 x 2"):
        feature_spectra(net, torch.rand(2, 1, 8, 8), layers="1")


@pytest.mark.parametrize("size", [(12, 12), (9, 14), (10, 7)])
def test_half_grid_sums_equal_the_full_grid_definitions(size):
    """rfft2 with multiplicities gives exactly the full-grid mean log-amplitude, centroid and aliasing share."""
    from freqprobe.analysis.aliasing import aliasing_share_of_power
    from freqprobe.analysis.features import AliasingSums, LayerSums
    from freqprobe.spectra import power_spectrum, spectral_centroid_of_power

    maps = torch.randn(3, 4, *size, generator=torch.Generator().manual_seed(2)) + 0.3
    maps[0, 1] = 0.0  # a dead map
    sums = LayerSums("x", "conv")
    sums.add(maps)
    entry = sums.summary(depth=0)
    full_log = torch.log(torch.fft.fft2(maps.double()).abs() + LOG_EPS).mean(dim=(0, 1))
    assert torch.allclose(torch.tensor(entry["mean_log_amplitude"], dtype=torch.float64), full_log, atol=1e-5)
    centroids = spectral_centroid_of_power(power_spectrum(maps.double()))
    assert entry["spectral_centroid"] == pytest.approx(float(centroids.mean()), rel=1e-6)
    assert entry["zero_map_share"] == pytest.approx(1 / 12)
    aliasing = AliasingSums("pool", (2, 3))
    aliasing.add(maps)
    expected = aliasing_share_of_power(power_spectrum(maps.double()).sum(dim=(0, 1)), (2, 3))
    assert aliasing.summary()["aliasing_share"] == pytest.approx(float(expected), rel=1e-6)


def _flat(entry):
    return [value for row in entry["mean_log_amplitude"] for value in row]


def _entries(net, images, layers):
    result = feature_spectra(net, images, layers=layers, batch_size=3)
    return {entry["name"]: entry for entry in result.to_dict()["layers"]}


def test_an_in_place_relu_after_a_measured_layer_is_transformed_again():
    """Spectra are shared between sites that see the same tensor, but an in-place op in between makes it another
    tensor version: the ReLU's entry must be that of the rectified maps, the conv's that of the raw ones."""
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 4, 3, padding=1)
    images = torch.rand(7, 1, 12, 12)
    in_place = _entries(nn.Sequential(conv, nn.ReLU(inplace=True)), images, "0,1")
    copied = _entries(nn.Sequential(conv, nn.ReLU(inplace=False)), images, "0,1")
    for name in ("0", "1"):
        assert in_place[name]["spectral_centroid"] == pytest.approx(copied[name]["spectral_centroid"], rel=1e-6)
        assert _flat(in_place[name]) == pytest.approx(_flat(copied[name]), rel=1e-6)
    assert in_place["0"]["spectral_centroid"] != pytest.approx(in_place["1"]["spectral_centroid"], rel=1e-3)


def test_a_stage_and_its_last_block_share_one_spectrum_and_chunking_changes_nothing(monkeypatch):
    from freqprobe.analysis.features import spectra

    torch.manual_seed(0)
    net = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)))
    images = torch.rand(5, 3, 16, 16)
    whole = _entries(net, images, "0,0.1")
    assert whole["0"]["mean_log_amplitude"] == whole["0.1"]["mean_log_amplitude"]
    monkeypatch.setattr(spectra, "CHUNK_BYTES", 1)  # one image per transform
    chunked = _entries(net, images, "0,0.1")
    assert chunked["0.1"]["spectral_centroid"] == pytest.approx(whole["0.1"]["spectral_centroid"], rel=1e-6)
    assert _flat(chunked["0.1"]) == pytest.approx(_flat(whole["0.1"]), rel=1e-5)


def test_channels_last_maps_give_the_spectra_of_their_contiguous_copy():
    from freqprobe.analysis.features.spectra import batch_spectrum

    torch.manual_seed(0)
    maps = torch.randn(3, 5, 6, 8)
    plain = batch_spectrum(maps)
    last = batch_spectrum(maps.contiguous(memory_format=torch.channels_last))
    assert torch.equal(plain.log_amplitude_sum, last.log_amplitude_sum)
    assert torch.equal(plain.power_sum, last.power_sum)
    assert last.centroid_sum == plain.centroid_sum and last.maps == 15
