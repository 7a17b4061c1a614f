"""Power spectra of image batches: |FFT2(x * w)|^2 / (H W) per channel, in ``torch.fft.fftfreq`` order.

The optional Hamming window is applied to the raw image, without removing its mean first, as the original
notebooks did; so a windowed spectrum keeps the (tapered) DC term and its leakage into the lowest frequencies.
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError

WINDOWS = ("hamming",)


def hamming_window_2d(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """The separable 2-D Hamming window, shape (H, W): the outer product of two symmetric 1-D windows.

    Symmetric (``numpy.hamming``) rather than periodic, so the window is mirror-symmetric about the image centre.
    """
    wy = torch.hamming_window(height, periodic=False, device=device, dtype=dtype)
    wx = torch.hamming_window(width, periodic=False, device=device, dtype=dtype)
    return wy[:, None] * wx[None, :]


def window_2d(name: str | None, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor | None:
    """The (H, W) window called ``name``, or None for no window; unknown names raise ConfigError."""
    if name is None or name == "none":
        return None
    if name == "hamming":
        return hamming_window_2d(height, width, device=device, dtype=dtype)
    raise ConfigError(f"unknown window {name!r}; valid: none, {', '.join(WINDOWS)}")


def power_spectrum(x: torch.Tensor, window: str | None = None) -> torch.Tensor:
    """Power spectrum of each channel of each image.

    x: float (N, C, H, W) (any leading dims work). Returns (..., H, W) = |FFT2(x * w)|^2 / (H W) in the dtype of x
    (float32 for float16/bfloat16 inputs), DC at [..., 0, 0]. With the 1/(H W) scaling, Parseval gives
    ``power.sum((-2, -1)) == (x * w).pow(2).sum((-2, -1))``.

    Raises ConfigError for a non-float tensor, fewer than two dims or an unknown window.

    >>> x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    >>> power = power_spectrum(x)
    >>> power.shape
    torch.Size([2, 3, 16, 16])
    >>> torch.allclose(power.sum((-2, -1)), x.square().sum((-2, -1)))
    True
    """
    if x.dim() < 2:
        raise ConfigError(f"power_spectrum needs images (..., H, W), got a tensor of shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ConfigError(
            f"power_spectrum needs float images in [0, 1], got dtype {x.dtype}; convert with freqprobe.data.to_float"
        )
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()  # FFTs of half tensors are restricted to powers of two and lose too much precision
    height, width = x.shape[-2:]
    w = window_2d(window, height, width, device=x.device, dtype=x.dtype)
    if w is not None:
        x = x * w
    spectrum = torch.fft.fft2(x)
    return (spectrum.real.square() + spectrum.imag.square()) / (height * width)
