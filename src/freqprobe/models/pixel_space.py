"""Any classifier made to take pixel-space input: ``normalize -> adapter -> body``.

freqprobe's own ResNets carry :class:`~freqprobe.models.normalize.Normalize` as their first module, so input filters,
spectra and attacks all work on images in [0, 1]. :class:`PixelSpaceModel` gives the same contract to a network built
elsewhere (torchvision, timm, the user's own factory): the body keeps its own module names under ``body.``, so its
state dict is the original one with a ``body.`` prefix.
"""

from __future__ import annotations

import torch
from torch import nn

from freqprobe.models.normalize import Normalize, Stats


class PixelSpaceModel(nn.Module):
    """``body(adapter(normalize(x)))`` for float (N, in_channels, H, W) input in [0, 1] -> the body's output.

    ``adapter`` (default: identity) sits between the normalization and the body, e.g. a module that repeats one grey
    channel three times for a 3-channel body; ``normalize`` always has ``in_channels`` channels, the data's.

    Raises:
        ConfigError: ``in_channels < 1`` or bad ``mean``/``std`` (see :class:`Normalize`).

    Example:
        >>> body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
        >>> model = PixelSpaceModel(body, in_channels=3, mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])
        >>> model(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2, 10])
        >>> sorted(model.state_dict())[:3]
        ['body.0.bias', 'body.0.weight', 'body.3.bias']
    """

    def __init__(
        self,
        body: nn.Module,
        in_channels: int,
        mean: Stats | None = None,
        std: Stats | None = None,
        adapter: nn.Module | None = None,
    ):
        super().__init__()
        self.normalize = Normalize(in_channels, mean, std)
        self.adapter = adapter if adapter is not None else nn.Identity()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.adapter(self.normalize(x)))

    def set_normalization(self, mean: Stats | None = None, std: Stats | None = None) -> "PixelSpaceModel":
        """Load per-channel input statistics into ``normalize`` (``None`` leaves one unchanged); returns ``self``."""
        self.normalize.set(mean, std)
        return self


class RepeatChannels(nn.Module):
    """(N, 1, H, W) -> (N, copies, H, W), the grey channel repeated: a 3-channel network on grey data.

    Example:
        >>> RepeatChannels(3)(torch.ones(2, 1, 4, 4)).shape
        torch.Size([2, 3, 4, 4])
    """

    def __init__(self, copies: int):
        super().__init__()
        self.copies = copies

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, self.copies, -1, -1)

    def extra_repr(self) -> str:
        return f"copies={self.copies}"
