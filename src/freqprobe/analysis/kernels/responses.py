"""Frequency responses, power spectra and autocorrelations of convolution kernels.

Every (output, input) kernel w of a ``Conv2d`` weight (O, I, kh, kw) is zero-padded to a G x G grid (default 32: a
3x3 kernel padded by 15 on each side, as the original notebooks did) and transformed:

    K(f) = sum_x w[x] exp(-2 pi i f . x),   P(f) = |K(f)|^2,   p(f) = P(f) / sum_f P(f)   (normalized power)

with f = (f_y, f_x) in cycles/pixel on the full fftfreq grid (:mod:`freqprobe.fourier`), f_y running down the rows.

The power is the DFT of the kernel's autocorrelation r(d) = sum_x w[x] w[x + d] (Wiener-Khinchin), so any
P-weighted sum sum_f g(f) P(f) equals sum_d r(d) G(d) with G the DFT of the weighting g (:func:`lag_coefficients`):
the statistics of :mod:`freqprobe.analysis.kernels.statistics` need only the 13 autocorrelation lags of a 3x3 kernel.
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError

DEFAULT_GRID = 32


def grid_pair(grid: int | tuple[int, int], kernel_size: tuple[int, int]) -> tuple[int, int]:
    """(G_h, G_w) from an int or pair; raises ConfigError if the grid is smaller than the kernel it must hold."""
    pair = (grid, grid) if isinstance(grid, int) else tuple(grid)
    if len(pair) != 2 or any(not isinstance(g, int) or g < 1 for g in pair):
        raise ConfigError(f"grid {grid!r} is not a positive integer; use e.g. --grid 32")
    if pair[0] < kernel_size[0] or pair[1] < kernel_size[1]:
        raise ConfigError(
            f"grid {pair[0]}x{pair[1]} is smaller than a {kernel_size[0]}x{kernel_size[1]} kernel; "
            f"use --grid {max(32, *kernel_size)} or more"
        )
    return int(pair[0]), int(pair[1])


def kernel_responses(weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID) -> torch.Tensor:
    """Frequency response K(f) of every kernel: weight (O, I, kh, kw) real -> complex (O, I, G_h, G_w), fftfreq order.

    One ``fft2`` call for the whole layer; taps sit at the grid's top-left corner (the position only changes the
    phase, never |K|).
    """
    check_weight(weight)
    grid_h, grid_w = grid_pair(grid, tuple(weight.shape[-2:]))
    return torch.fft.fft2(weight, s=(grid_h, grid_w))


def kernel_power_spectra(
    weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID, normalize: bool = True
) -> torch.Tensor:
    """P(f) = |K(f)|^2 of every kernel: (O, I, kh, kw) -> (O, I, G_h, G_w); with ``normalize`` each grid sums to 1
    (zero kernels stay all zero)."""
    power = kernel_responses(weight, grid).abs().square()
    if not normalize:
        return power
    total = power.sum(dim=(-2, -1), keepdim=True)
    return power / torch.where(total > 0, total, torch.ones_like(total))


def kernel_autocorrelation(weight: torch.Tensor) -> tuple[list[tuple[int, int]], torch.Tensor]:
    """Autocorrelation r(d) = sum_x w[x] w[x + d] of every kernel at the lags of one half-plane.

    weight (O, I, kh, kw) -> (lags, r) with lags [(0, 0), ...] the L = ((2kh-1)(2kw-1) + 1) / 2 lags with d_y > 0 or
    d_y == 0, d_x >= 0 (13 for 3x3; r(-d) = r(d) gives the rest) and r (O*I, L) in the weight's floating dtype.
    By Wiener-Khinchin, P(f) = sum_d r(d) exp(-2 pi i f . d) on any grid at least as large as the kernel.
    """
    check_weight(weight)
    kh, kw = weight.shape[-2:]
    taps = weight.detach().reshape(-1, kh, kw)
    if not taps.is_floating_point():
        taps = taps.to(torch.float32)
    lags = [(0, 0)] + [(0, dx) for dx in range(1, kw)]
    lags += [(dy, dx) for dy in range(1, kh) for dx in range(-kw + 1, kw)]
    columns = []
    for dy, dx in lags:
        # Overlap of the kernel with itself shifted by (dy, dx): rows y and y + dy, columns x and x + dx.
        head = taps[:, : kh - dy, max(0, -dx) : kw - max(0, dx)]
        tail = taps[:, dy:, max(0, dx) : kw - max(0, -dx)]
        columns.append((head * tail).sum(dim=(1, 2)))
    return lags, torch.stack(columns, dim=1)


def lag_coefficients(weightings: torch.Tensor, lags: list[tuple[int, int]]) -> torch.Tensor:
    """c_g(d) with sum_f g(f) P(f) = sum_{half-plane d} r(d) c_g(d): weightings (S, H, W) -> float64 (S, L).

    c_g(d) = Re G(d) for d = 0 and 2 Re G(d) otherwise, with G(d) = sum_f g(f) exp(-2 pi i f . d) the DFT of g read
    at d mod (H, W): real g makes G(-d) the conjugate of G(d), so each lag and its mirror add up to twice the real part.
    """
    height, width = weightings.shape[-2:]
    transform = torch.fft.fft2(weightings.to(torch.float64)).real
    rows = torch.tensor([dy % height for dy, _ in lags])
    cols = torch.tensor([dx % width for _, dx in lags])
    mirror_factor = torch.tensor([1.0 if lag == (0, 0) else 2.0 for lag in lags], dtype=torch.float64)
    return transform[:, rows, cols] * mirror_factor


def mean_normalized_power(weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID) -> torch.Tensor:
    """Mean over the non-zero kernels of the normalized power p(f): (O, I, kh, kw) -> float64 (G_h, G_w), sums to 1.

    Closed form: the mean of r(d) / r(0) over kernels, placed on the grid at d mod (G_h, G_w) together with its
    mirror -d, is the autocorrelation of the mean p; one FFT of that single grid gives p. NaN for a layer of zeros.
    """
    check_weight(weight)
    grid_pair(grid, tuple(weight.shape[-2:]))
    return mean_power_from_autocorrelation(*kernel_autocorrelation(weight), grid)


def mean_power_from_autocorrelation(
    lags: list[tuple[int, int]], correlation: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID
) -> torch.Tensor:
    """:func:`mean_normalized_power` from the output of :func:`kernel_autocorrelation` (lags, r (n, L))."""
    grid_h, grid_w = (grid, grid) if isinstance(grid, int) else grid
    nonzero = correlation[:, 0] > 0
    if not nonzero.any():
        return torch.full((grid_h, grid_w), float("nan"), dtype=torch.float64)
    kept = correlation[nonzero]
    mean = (kept / kept[:, :1]).mean(dim=0, dtype=torch.float64)
    lag_grid = torch.zeros(grid_h, grid_w, dtype=torch.float64)
    for (dy, dx), value in zip(lags, mean.tolist()):
        lag_grid[dy % grid_h, dx % grid_w] = value
        lag_grid[-dy % grid_h, -dx % grid_w] = value
    return torch.fft.fft2(lag_grid).real / (grid_h * grid_w)


def check_weight(weight: torch.Tensor) -> None:
    """Raises ConfigError unless ``weight`` is a real 4-d (out, in, kh, kw) tensor."""
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4 or weight.is_complex():
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ConfigError(f"a Conv2d weight must be a real (out, in, kh, kw) tensor, got {shape}")
