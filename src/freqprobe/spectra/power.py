"""Power spectra of image batches: |FFT2(x)|^2 / (H W) per channel, in ``torch.fft.fftfreq`` order.

A window exists to suppress the leakage of the jump between opposite image borders (the FFT treats an image as
periodic). Applied to the raw image it would also taper the image's mean, spreading the large DC peak over the lowest
frequencies, so that the spectral centroid would measure the window more than the image (CIFAR-10 JPEG test split:
0.0166 cycles/pixel unwindowed, 0.0311 windowed that way, 0.0176 as below). So each channel's mean m is removed
first, the rest is windowed, and the un-windowed DC power is added back:

    P(f) = |FFT2((x - m) w)(f)|^2 / (H W mean(w^2))  +  [f = 0] H W m^2

Dividing by mean(w^2) keeps the power of the zero-mean part comparable with the un-windowed spectrum (equal in
expectation for stationary content, by Parseval); H W m^2 is exactly the DC power |FFT2(x)(0)|^2 / (H W) of the
un-windowed image. A constant image therefore has the same spectrum with or without a window. Without a window
the formula reduces to the plain |FFT2(x)|^2 / (H W).
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

    x: float (N, C, H, W) (any leading dims work). Returns (..., H, W) in the dtype of x (float32 for float16/bfloat16
    inputs), DC at [..., 0, 0]: |FFT2(x)|^2 / (H W) without a window, so Parseval gives
    ``power.sum((-2, -1)) == x.pow(2).sum((-2, -1))``; with a window, the mean-removed form of the module docstring,
    whose total is ``H W m^2 + ((x - m) w).pow(2).sum() / mean(w^2)``. Raises ConfigError for non-float input, fewer
    than two dimensions or an unknown window name.

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
    if w is None:
        return _squared_magnitude(torch.fft.fft2(x)) / (height * width)
    mean = x.mean(dim=(-2, -1), keepdim=True)
    power = _squared_magnitude(torch.fft.fft2((x - mean) * w)) / (height * width * w.square().mean())
    power[..., 0, 0] += height * width * mean[..., 0, 0].square()
    return power


def _squared_magnitude(spectrum: torch.Tensor) -> torch.Tensor:
    return spectrum.real.square() + spectrum.imag.square()
