"""Apply a corruption by name and severity: ``corrupt(x, "fog", 3, seed=0)``, and the module form :class:`Corruption`.

The parameters come from :mod:`freqprobe.corruptions.table`, lengths scaled to the image (min(H, W) / 32). The draws
come from one CPU generator seeded from (seed, corruption, severity), so the corrupted images depend only on those
and on the images, never on global random state; large sets are corrupted in fixed chunks of
:data:`CHUNK_IMAGES` images, each with its own generator, so the result does not depend on a batch size either.
"""

from __future__ import annotations

import zlib
from typing import Callable

import torch
from torch import nn

from freqprobe.corruptions import blur, digital, noise, weather
from freqprobe.corruptions.common import check_images, length_scale
from freqprobe.corruptions.table import ALL, PARAMETERS, SEVERITIES
from freqprobe.errors import ConfigError

CHUNK_IMAGES = 500

Apply = Callable[[torch.Tensor, dict, torch.Generator, float], torch.Tensor]

_FUNCTIONS: dict[str, Apply] = {
    "gaussian_noise": lambda x, p, g, s: noise.gaussian_noise(x, p["sigma"], g),
    "shot_noise": lambda x, p, g, s: noise.shot_noise(x, p["photons"], g),
    "impulse_noise": lambda x, p, g, s: noise.impulse_noise(x, p["amount"], g),
    "speckle_noise": lambda x, p, g, s: noise.speckle_noise(x, p["sigma"], g),
    "defocus_blur": lambda x, p, g, s: blur.defocus_blur(x, p["radius"], p["alias_sigma"]),
    "glass_blur": lambda x, p, g, s: blur.glass_blur(x, p["sigma"], p["max_delta"], p["iterations"], g),
    "motion_blur": lambda x, p, g, s: blur.motion_blur(x, p["radius"], p["sigma"], g),
    "zoom_blur": lambda x, p, g, s: blur.zoom_blur(x, p["max_zoom"]),
    "gaussian_blur": lambda x, p, g, s: blur.gaussian_blur(x, p["sigma"]),
    "snow": lambda x, p, g, s: weather.snow(x, **p, generator=g),
    "frost": lambda x, p, g, s: weather.frost(x, p["image_weight"], p["frost_weight"], g),
    "fog": lambda x, p, g, s: weather.fog(x, p["strength"], p["decay"], g),
    "spatter": lambda x, p, g, s: weather.spatter(x, **p, generator=g, length_scale=s),
    "brightness": lambda x, p, g, s: digital.brightness(x, p["shift"]),
    "contrast": lambda x, p, g, s: digital.contrast(x, p["factor"]),
    "elastic_transform": lambda x, p, g, s: digital.elastic_transform(x, p["alpha"], p["sigma"], p["affine"], g),
    "pixelate": lambda x, p, g, s: digital.pixelate(x, p["factor"]),
    "jpeg_compression": lambda x, p, g, s: digital.jpeg_compression(x, p["quality"]),
    "saturate": lambda x, p, g, s: digital.saturate(x, p["scale"], p["shift"]),
}


def check_corruption(name: str, severity: int | None = None) -> None:
    """Raises ConfigError for an unknown name (listing the valid ones) or a severity outside 1..5."""
    if name not in PARAMETERS:
        raise ConfigError(f"unknown corruption {name!r}; valid: {', '.join(ALL)}")
    if severity is not None and severity not in SEVERITIES:
        raise ConfigError(f"corruption severity must be one of 1, 2, 3, 4, 5, got {severity!r}")


def corruption_seed(seed: int, name: str, severity: int, chunk: int = 0) -> int:
    """The generator seed of one chunk of one corruption at one severity (a stable hash, not Python's ``hash``)."""
    return zlib.crc32(f"{int(seed)}/{name}/{int(severity)}/{int(chunk)}".encode()) & 0x7FFFFFFF


def corrupt(
    x: torch.Tensor, name: str, severity: int, seed: int = 0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``x`` corrupted by ``name`` at ``severity`` (1..5): float (N, C, H, W) in [0, 1] -> the same shape/dtype/device.

    Without ``generator`` the images are cut into chunks of :data:`CHUNK_IMAGES`, each corrupted with the generator
    of :func:`corruption_seed` (seed, name, severity, chunk index).

    Raises:
        ConfigError: unknown name, severity outside 1..5, or images that are not float (N, C, H, W), C in {1, 3}.

    Example:
        >>> x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(corrupt(x, "fog", 3, seed=1), corrupt(x, "fog", 3, seed=1))
        True
    """
    check_corruption(name, severity)
    check_images(x)
    scale = length_scale(x)
    parameters = PARAMETERS[name].at(severity, scale)
    function = _FUNCTIONS[name]
    if generator is not None:
        return function(x, parameters, generator, scale)
    chunks = []
    for index, start in enumerate(range(0, len(x), CHUNK_IMAGES)):
        chunk_generator = torch.Generator().manual_seed(corruption_seed(seed, name, severity, index))
        chunks.append(function(x[start : start + CHUNK_IMAGES], parameters, chunk_generator, scale))
    return torch.cat(chunks) if chunks else x.clone()


class Corruption(nn.Module):
    """``corrupt(x, name, severity, seed)`` as a module (no parameters).

    Example:
        >>> module = Corruption("contrast", 5)
        >>> module(torch.full((1, 1, 4, 4), 0.5)).unique()
        tensor([0.5000])
    """

    def __init__(self, name: str, severity: int, seed: int = 0):
        super().__init__()
        check_corruption(name, severity)
        self.name, self.severity, self.seed = name, severity, seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corrupt(x, self.name, self.severity, self.seed)

    def extra_repr(self) -> str:
        return f"{self.name}, severity={self.severity}, seed={self.seed}"
