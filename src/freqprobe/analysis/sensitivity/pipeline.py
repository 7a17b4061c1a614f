"""The evaluated pipeline: pixel image -> input filter -> model, and fast batched prediction through it.

A model trained on filtered inputs only ever saw filtered images, so every sensitivity measurement perturbs the
*clean pixel image*, clamps it to [0, 1] where the perturbation is additive, and then passes it through the same
input filter (with the state fitted on the training split) before the model. :class:`FilteredModel` is that
composition; gradients flow through it, so attacks and gradient spectra are taken with respect to pixels.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import torch
from torch import nn

from freqprobe.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")
PIPELINE_ORDER = (
    "perturb the clean pixel image -> clamp to [0, 1] (additive perturbations) -> input filter (state fitted on the "
    "training split) -> model (its first module normalizes)"
)


class FilteredModel(nn.Module):
    """``model(input_filter(x))`` for float pixel images x (N, C, H, W) in [0, 1]; returns logits (N, K).

    The filter always runs in float32 (outside autocast: a Gaussian blur is a convolution, which autocast would move
    to bfloat16); the model runs under ``autocast_dtype`` when one is set, in channels_last when asked.
    """

    def __init__(
        self,
        model: nn.Module,
        input_filter: nn.Module | None = None,
        autocast_dtype: torch.dtype | None = None,
        channels_last: bool = False,
    ):
        super().__init__()
        self.model = model
        self.input_filter = input_filter if input_filter is not None else nn.Identity()
        self.autocast_dtype = autocast_dtype
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            x = self.input_filter(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.autocast_dtype is None:
            return self.model(x).float()
        with torch.autocast(x.device.type, dtype=self.autocast_dtype):
            return self.model(x).float()


@dataclass
class InferenceSettings:
    """How forward-only measurements run: device, batch size, precision and memory format.

    ``precision="auto"`` picks bfloat16 autocast on CPUs with native bf16 (AVX512-BF16 or AMX) and on CUDA, float32
    elsewhere; gradient-based measurements (attacks, gradient spectra) always run in float32.
    """

    batch_size: int = 500
    precision: str = "auto"
    device: str = "cpu"
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"batch size must be a positive integer, got {self.batch_size!r}")
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError):
            raise ConfigError(f"unknown device {self.device!r}; use cpu, cuda or cuda:N") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {self.device!r} requested but CUDA is not available; use --device cpu")

    def autocast_dtype(self) -> torch.dtype | None:
        """bfloat16 or None (float32), resolving ``auto`` for this machine."""
        if self.precision == "fp32":
            return None
        if self.precision == "bf16":
            return torch.bfloat16
        if torch.device(self.device).type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        return torch.bfloat16 if _cpu_has_native_bf16() else None

    def resolved_precision(self) -> str:
        return "bf16" if self.autocast_dtype() is not None else "fp32"

    def describe(self) -> dict:
        return {
            "precision": self.resolved_precision(),
            "channels_last": self.channels_last,
            "batch_size": self.batch_size,
            "device": str(self.device),
        }


FP32 = InferenceSettings(precision="fp32", channels_last=False)


def build_pipeline(
    model: nn.Module, input_filter: nn.Module | None, settings: InferenceSettings, for_gradients: bool = False
) -> FilteredModel:
    """An eval-mode copy of ``model`` behind ``input_filter`` on ``settings.device``; the caller's model is untouched.

    ``for_gradients`` forces float32 and the default memory format (the gradient is then exact up to float32).
    """
    device = torch.device(settings.device)
    model_copy = copy.deepcopy(model).eval().to(device)
    filter_copy = copy.deepcopy(input_filter).eval().to(device) if input_filter is not None else None
    channels_last = settings.channels_last and not for_gradients
    if channels_last:
        model_copy = model_copy.to(memory_format=torch.channels_last)
    autocast_dtype = None if for_gradients else settings.autocast_dtype()
    for parameter in model_copy.parameters():
        parameter.requires_grad_(False)  # input gradients only: no parameter gradients are ever accumulated
    return FilteredModel(model_copy, filter_copy, autocast_dtype, channels_last)


def predict(pipeline: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Predicted classes (N,) int64 on the CPU of float pixel images (N, C, H, W), batch by batch."""
    device = _device_of(pipeline)
    predictions = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].to(device, non_blocking=True)
            predictions.append(pipeline(batch).argmax(dim=1).cpu())
    return torch.cat(predictions) if predictions else torch.empty(0, dtype=torch.long)


def accuracy(pipeline: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> float:
    """Share of ``images`` (N, C, H, W) whose predicted class equals ``labels`` (N,)."""
    return float((predict(pipeline, images, batch_size) == labels.cpu()).double().mean())


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    input_filter: nn.Module | None = None,
    settings: InferenceSettings | None = None,
) -> float:
    """Accuracy (a fraction) of ``input_filter -> model`` on float pixel images (N, C, H, W) in [0, 1] with int labels
    (N,): how a trained run scores on images the caller perturbed (clamp them to [0, 1] first, as the analyses do).
    The caller's model is not modified.

    Raises:
        ConfigError: images that are not float (N, C, H, W) with N >= 1, or labels of another length.

    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    >>> _ = model[1].weight.data.copy_(torch.tensor([[1.0, 1, 1, 1], [-1.0, -1, -1, -1]]))
    >>> images = torch.stack([torch.full((1, 2, 2), 0.9), torch.full((1, 2, 2), 0.1)])
    >>> evaluate(model, images, torch.tensor([0, 1]))  # every image is class 0 to this model: one of two is right
    0.5
    """
    check_images_and_labels(images, labels)
    settings = settings or InferenceSettings()
    return accuracy(build_pipeline(model, input_filter, settings), images, labels, settings.batch_size)


def check_images_and_labels(images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
    """Float (N, C, H, W) pixel images with N >= 1, and int labels (N,) when given.

    Raises:
        ConfigError: wrong dtype or shape, naming the value and the fix.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ConfigError(f"images must be a float tensor (N, C, H, W), got {shape}")
    if not images.is_floating_point():
        raise ConfigError(
            f"images must be float pixel values in [0, 1], got dtype {images.dtype}; convert with freqprobe.data.to_float"
        )
    if len(images) == 0:
        raise ConfigError("no images given; pass at least one test image")
    if labels is None:
        return
    if labels.ndim != 1 or len(labels) != len(images) or labels.is_floating_point():
        raise ConfigError(
            f"labels must be an integer tensor (N,) with N = {len(images)} images, got {labels.dtype} "
            f"{tuple(labels.shape)}"
        )


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator: every random draw of a measurement depends only on its seed, not on global state."""
    return torch.Generator().manual_seed(int(seed))


def _device_of(module: nn.Module) -> torch.device:
    tensor = next(iter(module.parameters()), None)
    if tensor is None:
        tensor = next(iter(module.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def _cpu_has_native_bf16() -> bool:
    with contextlib.suppress(Exception):
        from freqprobe.train.fastpaths import cpu_has_native_bf16

        return cpu_has_native_bf16()
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
