"""Per-channel normalization as the model's first module, so everything outside the model works in pixel space."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from freqprobe.errors import ConfigError

Stats = Sequence[float] | torch.Tensor


class Normalize(nn.Module):
    """``(x - mean[c]) / std[c]`` per channel; ``mean`` and ``std`` are buffers, so they travel with the weights.

    Input and output: float (N, C, H, W). The defaults (mean 0, std 1) make it the identity; the trainer loads the
    statistics of the filtered training split with :meth:`set`.

    Raises:
        ConfigError: ``num_channels < 1``, or statistics of the wrong length, non-finite, or with ``std <= 0``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, num_channels: int, mean: Stats | None = None, std: Stats | None = None):
        super().__init__()
        if num_channels < 1:
            raise ConfigError(f"Normalize needs num_channels >= 1, got {num_channels}")
        self.num_channels = num_channels
        self.register_buffer("mean", torch.zeros(num_channels))
        self.register_buffer("std", torch.ones(num_channels))
        self.set(mean, std)

    def set(self, mean: Stats | None = None, std: Stats | None = None) -> "Normalize":
        """Replace the statistics in place (``None`` leaves that one unchanged); returns ``self``."""
        if mean is not None:
            self.mean.copy_(_checked_stats("mean", mean, self.num_channels, positive=False))
        if std is not None:
            self.std.copy_(_checked_stats("std", std, self.num_channels, positive=True))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, self.num_channels, 1, 1)
        # Subtract-then-divide (not a fused scale/shift) so the result equals the textbook formula bit for bit.
        return (x - self.mean.view(shape)) / self.std.view(shape)

    def extra_repr(self) -> str:
        return f"{self.num_channels}, mean={self.mean.tolist()}, std={self.std.tolist()}"


def _checked_stats(name: str, values: Stats, num_channels: int, positive: bool) -> torch.Tensor:
    """Validate user statistics and return them as a float64 CPU vector of length ``num_channels``."""
    try:
        vector = torch.as_tensor(values, dtype=torch.float64).detach().cpu().flatten()
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(f"normalization {name} must be a list of {num_channels} numbers, got {values!r}") from None
    if vector.numel() != num_channels:
        raise ConfigError(
            f"normalization {name} has {vector.numel()} values but the model has {num_channels} input channels; "
            f"give one value per channel"
        )
    if not torch.isfinite(vector).all():
        raise ConfigError(f"normalization {name} must be finite, got {vector.tolist()}")
    if positive and not (vector > 0).all():
        raise ConfigError(f"normalization std must be > 0 for every channel, got {vector.tolist()}")
    return vector
