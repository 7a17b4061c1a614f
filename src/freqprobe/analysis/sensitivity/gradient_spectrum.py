"""Gradient spectrum: the mean power spectrum of the loss gradient with respect to the input pixels.

The cheap alternative to the Fourier heat map (one backward pass per image instead of one forward pass per image and
frequency): where the gradient of the cross-entropy has power, a small perturbation changes the loss most to first
order. For a linear score w . x the gradient of every image is a multiple of w, so the map is |FFT(w)|^2 up to a
factor. The gradient is taken through the input filter, in float32, with the model in eval mode.

Agreement with a heat map is summarised by Spearman's rank correlation over the frequencies both maps cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.analysis.sensitivity.pipeline import InferenceSettings, build_pipeline, check_images_and_labels


@dataclass
class GradientSpectrum:
    """Mean over images of |FFT2(dL/dx)|^2 / (H W): ``channel_power`` (C, H, W) and its channel mean ``power`` (H, W).

    Both are float64 in fftfreq order (DC at [0, 0]); ``gradient_norm`` is the mean per-image L2 norm of dL/dx.
    """

    power: torch.Tensor
    channel_power: torch.Tensor
    gradient_norm: float
    n_images: int
    settings: dict = field(default_factory=dict)

    def normalized(self) -> torch.Tensor:
        """``power`` scaled to sum 1, to compare shapes across models."""
        total = float(self.power.sum())
        return self.power / total if total > 0 else self.power.clone()

    def to_dict(self) -> dict:
        return {
            "power": self.power.tolist(),
            "order": "fftfreq (DC at [0][0]); mean over images and channels of |FFT2(dL/dx)|^2 / (H W)",
            "loss": "cross-entropy of the true label, gradient with respect to the clean pixel image",
            "mean_gradient_l2_norm": self.gradient_norm,
            "n_images": self.n_images,
            **self.settings,
        }


def input_gradients(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    input_filter: nn.Module | None = None,
    batch_size: int = 256,
    device: str = "cpu",
) -> torch.Tensor:
    """dL_n/dx_n of each image's own cross-entropy, float32 (N, C, H, W) on the CPU (eval mode, float32)."""
    check_images_and_labels(images, labels)
    pipeline = build_pipeline(model, input_filter, InferenceSettings(batch_size, "fp32", device), for_gradients=True)
    return _gradients(pipeline, images, labels, batch_size)


def gradient_spectrum(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    input_filter: nn.Module | None = None,
    batch_size: int = 256,
    device: str = "cpu",
) -> GradientSpectrum:
    """Mean power spectrum of the per-image loss gradient, images float (N, C, H, W) in [0, 1], labels (N,)."""
    check_images_and_labels(images, labels)
    pipeline = build_pipeline(model, input_filter, InferenceSettings(batch_size, "fp32", device), for_gradients=True)
    _, channels, height, width = images.shape
    power_sum = torch.zeros(channels, height, width, dtype=torch.float64)
    norm_sum = 0.0
    for start in range(0, len(images), batch_size):
        gradient = _gradients(pipeline, images[start : start + batch_size], labels[start : start + batch_size], batch_size)
        spectrum = torch.fft.fft2(gradient.double())
        power_sum += (spectrum.real.square() + spectrum.imag.square()).sum(dim=0) / (height * width)
        norm_sum += float(gradient.double().flatten(1).norm(dim=1).sum())
    channel_power = power_sum / len(images)
    return GradientSpectrum(
        power=channel_power.mean(dim=0),
        channel_power=channel_power,
        gradient_norm=norm_sum / len(images),
        n_images=len(images),
        settings={"precision": "fp32", "batch_size": batch_size, "device": str(device)},
    )


def rank_correlation(first: torch.Tensor, second: torch.Tensor) -> float:
    """Spearman's rho (``scipy.stats.spearmanr``) between two maps of one shape over the cells where both are finite.

    Returns NaN when fewer than 3 such cells remain or either map is constant on them.
    """
    a = torch.as_tensor(first, dtype=torch.float64).flatten()
    b = torch.as_tensor(second, dtype=torch.float64).flatten()
    if a.shape != b.shape:
        raise ValueError(f"maps of different sizes: {a.numel()} and {b.numel()} cells")
    both = torch.isfinite(a) & torch.isfinite(b)
    if int(both.sum()) < 3:
        return float("nan")
    from scipy import stats

    kept_a, kept_b = a[both].numpy(), b[both].numpy()
    if kept_a.min() == kept_a.max() or kept_b.min() == kept_b.max():
        return float("nan")  # undefined; scipy would warn before returning NaN
    return float(stats.spearmanr(kept_a, kept_b).statistic)


def _gradients(pipeline: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> torch.Tensor:
    device = next(iter(pipeline.parameters()), torch.empty(0)).device
    parts = []
    for start in range(0, len(images), batch_size):
        with torch.enable_grad():
            batch = images[start : start + batch_size].float().to(device).requires_grad_(True)
            # summed (not mean) loss: each image's gradient is that of its own loss, whatever the batch size
            loss = F.cross_entropy(pipeline(batch), labels[start : start + batch_size].to(device), reduction="sum")
            (gradient,) = torch.autograd.grad(loss, batch)
        parts.append(gradient.detach().cpu())
    return torch.cat(parts)

