"""Adversarial robustness in pixel space, the spectra of the perturbations, and a low-pass pre-filter defence.

Attacks (white-box, untargeted, on the cross-entropy of the true label), images float in [0, 1], ``eps`` in pixel
units (8/255 is a common L-infinity budget on CIFAR-10):

- FGSM (Goodfellow, Shlens, Szegedy 2015): one step of size eps along sign(grad) (linf) or grad / ||grad||_2 (l2).
- PGD (Madry et al. 2018): ``steps`` steps of ``step_size`` (default 2.5 eps / steps) from a random start in the
  ball, each followed by projection onto the eps ball around the clean image and onto [0, 1].

Every adversarial image is clamped to [0, 1] and lies within eps of its clean image in the chosen norm. Attacks run
through the input filter in float32 (perturb -> clamp -> filter -> model).

The defence puts a Gaussian blur of ``prefilter_sigma`` pixels in front of the pipeline. It is scored twice: against
the perturbations crafted without it (transferred, non-adaptive) and against a PGD that differentiates through the
blur (adaptive), since the first alone overstates any defence (Athalye, Carlini, Wagner 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.analysis.sensitivity.pipeline import (
    FilteredModel,
    InferenceSettings,
    build_pipeline,
    check_images_and_labels,
    predict,
    seeded_generator,
)
from freqprobe.errors import ConfigError
from freqprobe.specs import Interval, check_number, format_budget, format_number

METHODS = ("fgsm", "pgd")
NORMS = ("linf", "l2")
DEFAULT_STEPS = 10
DEFAULT_PREFILTER_SIGMA = 1.0
MAX_STEPS = 100_000
STEPS_RANGE = Interval(1, MAX_STEPS)
# Pixels live in [0, 1]: an linf budget past 1 moves nothing further. The l2 bound here is the diameter of the
# largest images freqprobe reads (3 x 1024 x 1024); AttackSpec.check_fits bounds it by the images at hand.
BUDGET_RANGES = {
    "linf": Interval(0, 1, low_open=True, unit="pixel units"),
    "l2": Interval(0, 1774, low_open=True, unit="pixel units"),
}


@dataclass(frozen=True)
class AttackSpec:
    """An attack: method ``fgsm`` | ``pgd``, budget ``eps`` in ``norm`` ``linf`` | ``l2`` (pixel units).

    ``eps_text``: the budget as the user wrote it (``"8/255"``), shown in titles and file names; without it,
    :func:`freqprobe.specs.format_budget` writes ``eps`` (``8/255`` for that float).
    """

    method: str = "pgd"
    eps: float = 8 / 255
    norm: str = "linf"
    steps: int = DEFAULT_STEPS
    step_size: float | None = None
    random_start: bool = True
    eps_text: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown attack {self.method!r}; valid: {', '.join(METHODS)}")
        if self.norm not in NORMS:
            raise ConfigError(f"unknown attack norm {self.norm!r}; valid: {', '.join(NORMS)}")
        check_number(self.eps, f"attack eps ({self.norm})", BUDGET_RANGES[self.norm])
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not STEPS_RANGE.contains(self.steps):
            raise ConfigError(f"attack steps must be a whole number in [1, {MAX_STEPS}], got {self.steps!r}")
        if self.step_size is not None:
            check_number(self.step_size, f"attack step size ({self.norm})", BUDGET_RANGES[self.norm])

    def check_fits(self, image_shape: tuple[int, ...]) -> None:
        """Refuse an l2 budget beyond the diameter sqrt(C H W) of the pixel cube [0, 1]^(C, H, W) of these images.

        Raises:
            ConfigError: naming eps or the step size and the range for this image shape.
        """
        if self.norm != "l2":
            return
        diameter = math.sqrt(math.prod(image_shape[-3:]))
        fits = Interval(0, round(diameter, 3), low_open=True, unit="pixel units (the diameter of the image cube)")
        check_number(self.eps, f"attack eps (l2) on {tuple(image_shape[-3:])} images", fits)
        if self.step_size is not None:
            check_number(self.step_size, f"attack step size (l2) on {tuple(image_shape[-3:])} images", fits)

    @property
    def resolved_step_size(self) -> float:
        """``step_size``, else 2.5 eps / steps (Madry et al.); FGSM takes one step of eps."""
        if self.method == "fgsm":
            return float(self.eps)
        return float(self.step_size) if self.step_size is not None else 2.5 * float(self.eps) / self.steps

    @property
    def budget(self) -> str:
        """``eps`` as written: ``eps_text`` (blanks removed), else :func:`~freqprobe.specs.format_budget`."""
        return "".join(self.eps_text.split()) if self.eps_text else format_budget(self.eps)

    @property
    def key(self) -> str:
        """A name for this attack in sensitivity.json, e.g. ``pgd-linf-eps8/255`` (files written before budgets
        were kept as written say ``pgd-linf-eps0.03137``; readers take any key)."""
        return f"{self.method}-{self.norm}-eps{self.budget}"

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "norm": self.norm,
            "eps": float(self.eps),
            "budget": self.budget,
            "steps": 1 if self.method == "fgsm" else self.steps,
            "step_size": self.resolved_step_size,
            "random_start": self.method == "pgd" and self.random_start,
        }


@dataclass
class SpectrumSummary:
    """Mean power spectrum (H, W, fftfreq order, channels averaged), its radial profile and the mean centroid."""

    mean_power: torch.Tensor
    radii: torch.Tensor
    radial_profile: torch.Tensor
    spectral_centroid: float

    def to_dict(self) -> dict:
        return {
            "mean_power": self.mean_power.tolist(),
            "radii": self.radii.tolist(),
            "radial_profile": self.radial_profile.tolist(),
            "spectral_centroid": self.spectral_centroid,
        }


@dataclass
class AttackResult:
    """Accuracies and spectra of one attack on one set of images."""

    attack: AttackSpec
    clean_accuracy: float
    robust_accuracy: float
    perturbation: SpectrumSummary
    clean: SpectrumSummary
    mean_l2: float
    mean_linf: float
    n_images: int
    seed: int = 0
    defence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            **self.attack.to_dict(),
            "clean_accuracy": self.clean_accuracy,
            "robust_accuracy": self.robust_accuracy,
            "n_images": self.n_images,
            "seed": self.seed,
            "precision": "fp32",
            "perturbation_mean_l2": self.mean_l2,
            "perturbation_mean_linf": self.mean_linf,
            "perturbation_spectrum": self.perturbation.to_dict(),
            "clean_spectrum": self.clean.to_dict(),
            "spectra": "freqprobe.spectra: |FFT2|^2 / (H W) averaged over images and channels; centroid in cycles/pixel",
            "prefilter_defence": self.defence,
        }


def fgsm(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    eps: float,
    norm: str = "linf",
    input_filter: nn.Module | None = None,
    batch_size: int = 256,
    device: str = "cpu",
) -> torch.Tensor:
    """FGSM adversarial images, float32 (N, C, H, W) in [0, 1] on the CPU."""
    return craft(model, images, labels, AttackSpec("fgsm", eps, norm), input_filter, batch_size, device=device)


def pgd(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    eps: float,
    norm: str = "linf",
    steps: int = DEFAULT_STEPS,
    step_size: float | None = None,
    random_start: bool = True,
    seed: int = 0,
    input_filter: nn.Module | None = None,
    batch_size: int = 256,
    device: str = "cpu",
) -> torch.Tensor:
    """PGD adversarial images, float32 (N, C, H, W) in [0, 1] on the CPU."""
    spec = AttackSpec("pgd", eps, norm, steps, step_size, random_start)
    return craft(model, images, labels, spec, input_filter, batch_size, seed, device)


def craft(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    attack: AttackSpec,
    input_filter: nn.Module | None = None,
    batch_size: int = 256,
    seed: int = 0,
    device: str = "cpu",
) -> torch.Tensor:
    """Adversarial images of ``attack`` against ``input_filter -> model``: float32 (N, C, H, W) on the CPU."""
    check_images_and_labels(images, labels)
    attack.check_fits(tuple(images.shape))
    pipeline = build_pipeline(model, input_filter, InferenceSettings(batch_size, "fp32", device), for_gradients=True)
    return _craft_on(pipeline, images, labels, attack, batch_size, seed)


def attack_analysis(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    attack: AttackSpec,
    input_filter: nn.Module | None = None,
    prefilter_sigma: float | None = DEFAULT_PREFILTER_SIGMA,
    boundary: str = "circular",
    batch_size: int = 256,
    seed: int = 0,
    device: str = "cpu",
) -> AttackResult:
    """Robust accuracy, perturbation and clean spectra, and the pre-filter defence (``prefilter_sigma`` None: none).

    The defence is ``blur:prefilter_sigma`` (``boundary``) applied to the pixel image before ``input_filter``; it is
    scored on the clean images, on the transferred adversarial images and against an adaptive PGD with the same
    budget (``attack.steps`` steps) that sees the blur.
    """
    check_images_and_labels(images, labels)
    attack.check_fits(tuple(images.shape))
    if prefilter_sigma is not None:
        check_prefilter_sigma(prefilter_sigma, tuple(images.shape))
    settings = InferenceSettings(batch_size, "fp32", device)
    pipeline = build_pipeline(model, input_filter, settings, for_gradients=True)
    labels = labels.cpu()
    adversarial = _craft_on(pipeline, images, labels, attack, batch_size, seed)
    images = images.float().cpu()
    delta = adversarial - images
    result = AttackResult(
        attack=attack,
        clean_accuracy=_accuracy(pipeline, images, labels, batch_size),
        robust_accuracy=_accuracy(pipeline, adversarial, labels, batch_size),
        perturbation=summarize_spectrum(delta),
        clean=summarize_spectrum(images),
        mean_l2=float(delta.flatten(1).norm(dim=1).mean()),
        mean_linf=float(delta.flatten(1).abs().amax(dim=1).mean()),
        n_images=len(images),
        seed=int(seed),
    )
    if prefilter_sigma is not None:
        result.defence = _score_prefilter(
            pipeline, images, labels, adversarial, attack, prefilter_sigma, boundary, batch_size, seed
        )
    return result


def check_prefilter_sigma(sigma: float, image_shape: tuple[int, ...] | None = None) -> float:
    """The defence's blur sigma in pixels: in (0, 4096], and with ``image_shape`` at most 4 x the longer image side
    (a wider blur is the image mean, see :func:`freqprobe.filters.checks.check_sigma_for_image`).

    Raises:
        ConfigError: one line naming the prefilter sigma and its range.
    """
    from freqprobe.filters.checks import SIGMA_RANGE, check_sigma_for_image

    try:
        value = check_number(sigma, "sigma", SIGMA_RANGE)
        if image_shape is not None:
            check_sigma_for_image(value, *image_shape[-2:])
    except ConfigError as error:
        raise ConfigError(f"prefilter (--prefilter-sigma): {error}; 0 skips the defence") from None
    return value


def summarize_spectrum(x: torch.Tensor) -> SpectrumSummary:
    """:class:`SpectrumSummary` of float images (N, C, H, W) with freqprobe.spectra's definitions."""
    from freqprobe.spectra import power_spectrum, radial_profile, spectral_centroid

    mean_power = power_spectrum(x.double()).mean(dim=(0, 1))
    radii, profile = radial_profile(mean_power)
    return SpectrumSummary(mean_power, radii, profile, float(spectral_centroid(x.double()).mean()))


def _score_prefilter(
    pipeline: FilteredModel,
    images: torch.Tensor,
    labels: torch.Tensor,
    adversarial: torch.Tensor,
    attack: AttackSpec,
    sigma: float,
    boundary: str,
    batch_size: int,
    seed: int,
) -> dict:
    from freqprobe.filters import build_filter

    blur = build_filter(f"blur:{format_number(sigma)}", boundary).to(_device_of(pipeline))
    defended = FilteredModel(pipeline.model, nn.Sequential(blur, pipeline.input_filter))
    adaptive_attack = AttackSpec("pgd", attack.eps, attack.norm, attack.steps, attack.step_size, True, attack.eps_text)
    adaptive = _craft_on(defended, images, labels, adaptive_attack, batch_size, seed)
    return {
        "prefilter": blur.spec,
        "boundary": boundary,
        "position": "pixel image -> blur -> input filter -> model",
        "clean_accuracy": _accuracy(defended, images, labels, batch_size),
        "transferred_accuracy": _accuracy(defended, adversarial, labels, batch_size),
        "adaptive_accuracy": _accuracy(defended, adaptive, labels, batch_size),
        "adaptive_attack": adaptive_attack.to_dict(),
        "note": "transferred: the perturbations crafted without the blur (non-adaptive); adaptive: PGD through it",
    }


def _craft_on(
    pipeline: nn.Module, images: torch.Tensor, labels: torch.Tensor, attack: AttackSpec, batch_size: int, seed: int
) -> torch.Tensor:
    device = _device_of(pipeline)
    generator = seeded_generator(seed)
    parts = []
    for start in range(0, len(images), batch_size):
        clean = images[start : start + batch_size].float().to(device)
        target = labels[start : start + batch_size].to(device)
        # the random start is drawn on the CPU so the result does not depend on the device
        if attack.method == "fgsm":
            adversarial = _step(pipeline, clean, clean, target, attack.norm, float(attack.eps), float(attack.eps))
        else:
            adversarial = _pgd_batch(pipeline, clean, target, attack, generator)
        parts.append(adversarial.detach().cpu())
    return torch.cat(parts)


def _pgd_batch(
    pipeline: nn.Module, clean: torch.Tensor, target: torch.Tensor, attack: AttackSpec, generator: torch.Generator
) -> torch.Tensor:
    eps = float(attack.eps)
    adversarial = clean
    if attack.random_start:
        start = _random_in_ball(clean.shape, eps, attack.norm, generator).to(clean.device)
        adversarial = (clean + start).clamp(0.0, 1.0)
    for _ in range(attack.steps):
        adversarial = _step(pipeline, clean, adversarial, target, attack.norm, attack.resolved_step_size, eps)
    return adversarial


def _step(
    pipeline: nn.Module,
    clean: torch.Tensor,
    current: torch.Tensor,
    target: torch.Tensor,
    norm: str,
    step_size: float,
    eps: float,
) -> torch.Tensor:
    """One ascent step on the summed cross-entropy, then projection onto the eps ball around ``clean`` and [0, 1]."""
    with torch.enable_grad():
        current = current.detach().requires_grad_(True)
        loss = F.cross_entropy(pipeline(current), target, reduction="sum")
        (gradient,) = torch.autograd.grad(loss, current)
    with torch.no_grad():
        moved = current + step_size * _ascent_direction(gradient, norm)
        return (clean + _project(moved - clean, norm, eps)).clamp(0.0, 1.0)


def _ascent_direction(gradient: torch.Tensor, norm: str) -> torch.Tensor:
    """sign(g) for linf; g / ||g||_2 per image for l2 (0 where the gradient vanishes)."""
    if norm == "linf":
        return gradient.sign()
    norms = gradient.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return torch.where(norms > 0, gradient / norms.clamp_min(1e-30), torch.zeros_like(gradient))


def _project(delta: torch.Tensor, norm: str, eps: float) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    norms = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return delta * torch.clamp(eps / norms.clamp_min(1e-30), max=1.0)


def _random_in_ball(shape: torch.Size, eps: float, norm: str, generator: torch.Generator) -> torch.Tensor:
    """linf: uniform in the cube; l2: a uniformly random direction at a radius uniform in [0, eps]."""
    if norm == "linf":
        return (torch.rand(shape, generator=generator) * 2 - 1) * eps
    direction = torch.randn(shape, generator=generator)
    direction = direction / direction.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return direction * torch.rand(shape[0], 1, 1, 1, generator=generator) * eps


def _accuracy(pipeline: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> float:
    return float((predict(pipeline, images, batch_size) == labels).double().mean())


def _device_of(module: nn.Module) -> torch.device:
    tensor = next(iter(module.parameters()), None)
    return tensor.device if tensor is not None else torch.device("cpu")
