"""Attacks: analytic FGSM/PGD on a linear model, the eps ball and clamp range, spectra and the pre-filter defence."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from sensitivity_models import LinearScoreModel, SmallCNN

from freqprobe.analysis.sensitivity import AttackSpec, attack_analysis, fgsm, pgd
from freqprobe.errors import ConfigError
from freqprobe.filters import gaussian_blur

EPS = 0.03


def _linear_problem(count=40, channels=2, size=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    weight = 0.2 * torch.randn(channels, size, size, generator=generator)
    images = 0.3 + 0.4 * torch.rand(count, channels, size, size, generator=generator)  # no clamping at eps
    model = LinearScoreModel(weight, bias=0.0)
    with torch.no_grad():
        model.bias.fill_(-float(model.score(images).median()))  # balanced classes near the boundary
        labels = (model.score(images) < 0).long()  # class 0 when s > 0: every image starts correct
    return model, images, labels, weight


def _signed(labels: torch.Tensor) -> torch.Tensor:
    """-1 for class 0 (the attack lowers s), +1 for class 1, shaped to broadcast over images."""
    return (labels.float() * 2 - 1).view(-1, 1, 1, 1)


def test_fgsm_linf_on_a_linear_model_is_eps_sign_w(device):
    model, images, labels, weight = _linear_problem()
    adversarial = fgsm(model, images, labels, EPS, "linf", device=str(device))
    torch.testing.assert_close(adversarial - images, _signed(labels) * EPS * weight.sign(), atol=1e-6, rtol=0)


def test_fgsm_l2_on_a_linear_model_is_eps_w_over_its_norm():
    model, images, labels, weight = _linear_problem()
    adversarial = fgsm(model, images, labels, 0.5, "l2")
    expected = _signed(labels) * 0.5 * weight / weight.norm()
    torch.testing.assert_close(adversarial - images, expected, atol=1e-6, rtol=0)


def test_pgd_linf_on_a_linear_model_reaches_the_optimal_corner(device):
    model, images, labels, weight = _linear_problem()
    adversarial = pgd(model, images, labels, EPS, "linf", steps=10, seed=1, device=str(device))
    torch.testing.assert_close(adversarial - images, _signed(labels) * EPS * weight.sign(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("norm, eps", [("linf", 8 / 255), ("l2", 0.5)])
def test_pgd_stays_in_the_eps_ball_and_the_pixel_range_and_raises_the_loss(norm, eps):
    model = SmallCNN(1, 12, 5, seed=0)
    generator = torch.Generator().manual_seed(2)
    images = torch.rand(20, 1, 12, 12, generator=generator)
    images[:, :, :3] = 0.0  # saturated pixels: the clamp must hold
    images[:, :, -3:] = 1.0
    labels = torch.randint(0, 5, (20,), generator=generator)
    adversarial = pgd(model, images, labels, eps, norm, steps=5, seed=3)
    delta = (adversarial - images).flatten(1)
    assert float(adversarial.min()) >= 0.0 and float(adversarial.max()) <= 1.0
    if norm == "linf":
        assert float(delta.abs().max()) <= eps + 1e-6
    else:
        assert float(delta.norm(dim=1).max()) <= eps + 1e-5
    with torch.no_grad():
        assert F.cross_entropy(model(adversarial), labels) > F.cross_entropy(model(images), labels)


def test_attack_analysis_of_a_linear_model_matches_the_closed_forms(device):
    model, images, labels, weight = _linear_problem(count=60)
    sigma, eps = 1.0, 0.006  # eps * ||w||_1 ~ 0.1, below the spread of the scores
    spec = AttackSpec("fgsm", eps, "linf")
    result = attack_analysis(model, images, labels, spec, prefilter_sigma=sigma, device=str(device))
    with torch.no_grad():
        score = model.score(images)
    direction = (1 - 2 * labels).float()  # +1 for class 0: correct while direction * s > 0
    assert result.clean_accuracy == 1.0
    expected_robust = float((direction * score > eps * weight.abs().sum()).double().mean())
    assert 0.1 < expected_robust < 0.9
    assert result.robust_accuracy == pytest.approx(expected_robust)
    # every perturbation is +-eps sign(w): its mean power spectrum is eps^2 |FFT(sign w)|^2 / (H W)
    expected_power = eps**2 * torch.fft.fft2(weight.sign().double()).abs().square().mean(dim=0) / 64
    torch.testing.assert_close(result.perturbation.mean_power, expected_power, rtol=1e-4, atol=1e-12)
    assert result.mean_linf == pytest.approx(eps, rel=1e-4)
    # the defended score is <B w, x> + b (a symmetric circular blur is self-adjoint)
    blurred_weight = gaussian_blur(weight.unsqueeze(0), sigma).squeeze(0)
    with torch.no_grad():
        defended_score = model.score(gaussian_blur(images, sigma))
        transferred_shift = eps * float((weight.sign() * blurred_weight).sum())
    defence = result.defence
    assert defence["clean_accuracy"] == pytest.approx(float((direction * defended_score > 0).double().mean()))
    assert defence["transferred_accuracy"] == pytest.approx(
        float((direction * defended_score > transferred_shift).double().mean())
    )
    # the adaptive PGD finds the optimal corner eps sign(B w) of the defended model
    assert defence["adaptive_accuracy"] == pytest.approx(
        float((direction * defended_score > eps * blurred_weight.abs().sum()).double().mean())
    )
    assert defence["adaptive_accuracy"] <= defence["transferred_accuracy"]


def test_attack_spectra_of_clean_images_use_the_freqprobe_definitions():
    from freqprobe.spectra import spectral_centroid

    model, images, labels, _ = _linear_problem(count=10)
    result = attack_analysis(model, images, labels, AttackSpec("pgd", EPS, "linf", steps=3), prefilter_sigma=None)
    assert result.defence == {}
    assert result.clean.spectral_centroid == pytest.approx(float(spectral_centroid(images.double()).mean()))
    assert result.clean.radii[0] == 0.0 and len(result.clean.radii) == len(result.clean.radial_profile)
    assert result.to_dict()["steps"] == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "cw"}, "unknown attack"),
        ({"norm": "l1"}, "unknown attack norm"),
        ({"eps": 0.0}, "eps"),
        ({"steps": 0}, "steps"),
        ({"step_size": -1.0}, "step size"),
        ({"eps": 1e308}, r"attack eps \(linf\) 1e\+308 is out of range; use a value in \(0, 1\] pixel units"),
        ({"eps": 1.5, "norm": "l2", "step_size": 1e300}, r"attack step size \(l2\) 1e\+300 is out of range"),
        ({"steps": 10**9}, r"steps must be a whole number in \[1, 100000\]"),
    ],
)
def test_bad_attack_parameters_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        AttackSpec(**{"method": "pgd", "eps": 0.1, **kwargs})


def test_an_l2_budget_beyond_the_image_cube_and_a_blur_wider_than_the_image_are_refused():
    model, images, labels, _ = _linear_problem(count=4, channels=2, size=8)  # diameter sqrt(128) ~ 11.3
    with pytest.raises(ConfigError, match=r"attack eps \(l2\) on \(2, 8, 8\) images 20 is out of range; use a value in \(0, 11.314\]"):
        attack_analysis(model, images, labels, AttackSpec("fgsm", 20.0, "l2"))
    with pytest.raises(ConfigError, match=r"--prefilter-sigma.*sigma 40 is beyond 4 x the 8x8-pixel image side.*\(0, 32\]"):
        attack_analysis(model, images, labels, AttackSpec("fgsm", 0.1), prefilter_sigma=40.0)
