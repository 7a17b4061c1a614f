"""Every sensitivity mode on a network of every convolution kind (patchify stem, LayerNorm, depthwise 7x7, 1x1, GELU,
grouped stride-3, dilated, 11x11, pooling) on non-square images, each checked against the measurement done by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from freqprobe.analysis.sensitivity.attacks import AttackSpec, attack_analysis
from freqprobe.analysis.sensitivity.bands import band_ablation, low_pass
from freqprobe.analysis.sensitivity.gradient_spectrum import gradient_spectrum
from freqprobe.analysis.sensitivity.heatmap import fourier_basis, fourier_heat_map
from freqprobe.analysis.sensitivity.pipeline import InferenceSettings
from freqprobe.analysis.sensitivity.shift import shift_consistency
from freqprobe.models.pixel_space import PixelSpaceModel

FP32 = InferenceSettings(batch_size=16, precision="fp32", channels_last=False)


@pytest.fixture
def network_and_data(every_convolution):
    model = PixelSpaceModel(every_convolution, in_channels=3, mean=[0.5] * 3, std=[0.25] * 3).eval()
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(16, 3, 48, 72, generator=generator)
    with torch.no_grad():
        labels = model(images).argmax(dim=1)  # correct on clean images, so perturbations can only hurt
    return model, images, labels


def test_band_ablation_matches_the_masked_images_classified_by_hand(network_and_data):
    model, images, labels = network_and_data
    result = band_ablation(model, images, labels, radii=[0, "1/12", "1/2", 1], settings=FP32)
    assert result.clean_accuracy == 1.0
    with torch.no_grad():
        by_hand = float((model(low_pass(images, "1/12")).argmax(dim=1) == labels).double().mean())
    assert result.low_pass_accuracy[1] == by_hand
    assert result.low_pass_accuracy[-1] == 1.0 and result.high_pass_accuracy[0] == 1.0


def test_heat_map_cell_matches_the_perturbed_images_classified_by_hand(network_and_data):
    model, images, labels = network_and_data
    result = fourier_heat_map(model, images, labels, eps=20.0, frequencies=[(3, 5), (0, 36)], seed=2, settings=FP32)
    signs = torch.randint(0, 2, (16, 3, 1, 1), generator=torch.Generator().manual_seed(2)) * 2 - 1
    basis = fourier_basis(48, 72, (3, 5))
    with torch.no_grad():
        wrong = model((images + 20.0 * signs * basis).clamp(0, 1)).argmax(dim=1) != labels
    assert result.error[3, 5].item() == float(wrong.double().mean()) == result.error[-3, -5].item()
    assert int((~torch.isnan(result.error)).sum()) == 3  # (3, 5), its conjugate, and the self-conjugate (0, 36)


def test_gradient_spectrum_is_the_power_of_autograd_gradients(network_and_data):
    model, images, labels = network_and_data
    result = gradient_spectrum(model, images, labels, batch_size=5)
    x = images.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), labels, reduction="sum")
    (gradient,) = torch.autograd.grad(loss, x)
    power = np.abs(np.fft.fft2(gradient.double().numpy())) ** 2 / (48 * 72)
    np.testing.assert_allclose(result.power.numpy(), power.mean(axis=(0, 1)), rtol=1e-4, atol=1e-12)


def test_shift_consistency_and_attacks_run_and_agree_with_their_definitions(network_and_data):
    model, images, labels = network_and_data
    shift = shift_consistency(model, images, labels, max_shift=(4, 6), seed=0, settings=FP32)
    assert 0.0 <= shift.consistency <= 1.0 and shift.clean_accuracy == 1.0 and shift.max_shift == (4, 6)
    attack = attack_analysis(model, images, labels, AttackSpec("fgsm", 8 / 255), prefilter_sigma=1.0)
    assert attack.clean_accuracy == 1.0 and 0.0 <= attack.robust_accuracy <= 1.0
    assert attack.mean_linf == pytest.approx(8 / 255, rel=1e-5)
    assert attack.perturbation.to_dict()["spectral_centroid"] > 0
