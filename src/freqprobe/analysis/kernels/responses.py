"""Frequency responses, power spectra and autocorrelations of convolution kernels.

Every (output, input) kernel w of a ``Conv2d`` weight (O, I, kh, kw) is zero-padded to a G x G grid (default 32: a
3x3 kernel padded by 15 on each side, as the original notebooks did) and transformed:

    K(f) = sum_x w[x] exp(-2 pi i f . x),   P(f) = |K(f)|^2,   p(f) = P(f) / sum_f P(f)   (normalized power)

with f = (f_y, f_x) in cycles/pixel on the full fftfreq grid (:mod:`freqprobe.fourier`), f_y running down the rows.

The power is the DFT of the kernel's autocorrelation r(d) = sum_x w[x] w[x + d] (Wiener-Khinchin), so any
P-weighted sum sum_f g(f) P(f) equals sum_d r(d) G(d) with G the DFT of the weighting g (:func:`lag_coefficients`):
the statistics of :mod:`freqprobe.analysis.kernels.statistics` need only the 13 autocorrelation lags of a 3x3 kernel.

A **dilated** kernel (dilation d) is the kernel with d - 1 zeros between its taps, so K_d(f) = K(d f): on a G-point
grid its response at index k is the undilated response at index d k mod G (:func:`kernel_responses`), and its
autocorrelation is r at the lags scaled by d (:func:`dilated_lags`). Neither forms the zero-stuffed kernel.
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError

DEFAULT_GRID = 32


def grid_pair(grid: int | tuple[int, int], kernel_size: tuple[int, int]) -> tuple[int, int]:
    """(G_h, G_w) from an int or pair; raises ConfigError if the grid is smaller than the kernel it must hold
    (``kernel_size`` is the dilated extent d (k - 1) + 1 for a dilated kernel, see :func:`dilated_size`)."""
    pair = (grid, grid) if isinstance(grid, int) else tuple(grid)
    if len(pair) != 2 or any(not isinstance(g, int) or g < 1 for g in pair):
        raise ConfigError(f"grid {grid!r} is not a positive integer; use e.g. --grid 32")
    if pair[0] < kernel_size[0] or pair[1] < kernel_size[1]:
        raise ConfigError(
            f"grid {pair[0]}x{pair[1]} is smaller than a {kernel_size[0]}x{kernel_size[1]} kernel; "
            f"use --grid {max(32, *kernel_size)} or more"
        )
    return int(pair[0]), int(pair[1])


def kernel_responses(
    weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID, dilation: int | tuple[int, int] = 1
) -> torch.Tensor:
    """Frequency response K(f) of every kernel: weight (O, I, kh, kw) real -> complex (O, I, G_h, G_w), fftfreq order.

    One ``fft2`` call for the whole layer; taps sit at the grid's top-left corner (the position only changes the
    phase, never |K|). With ``dilation`` (d_y, d_x) the response is the dilated kernel's, K(d f), read from the
    undilated transform at the indices d k mod G.

    Raises:
        ConfigError: not a real 4-d weight, a bad dilation, or a grid smaller than the (dilated) kernel.

    Example:
        >>> import torch
        >>> kernel_responses(torch.ones(1, 1, 3, 3), grid=8)[0, 0, 0, 0].real.item()  # K(0) = sum of the taps
        9.0
    """
    check_weight(weight)
    dy, dx = check_dilation(dilation)
    grid_h, grid_w = grid_pair(grid, dilated_size(tuple(weight.shape[-2:]), (dy, dx)))
    response = torch.fft.fft2(weight, s=(grid_h, grid_w))
    if (dy, dx) == (1, 1):
        return response
    rows = (torch.arange(grid_h) * dy) % grid_h
    cols = (torch.arange(grid_w) * dx) % grid_w
    return response[..., rows.to(response.device), :][..., cols.to(response.device)]


def kernel_power_spectra(
    weight: torch.Tensor,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    normalize: bool = True,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """P(f) = |K(f)|^2 of every kernel: (O, I, kh, kw) -> (O, I, G_h, G_w); with ``normalize`` each grid sums to 1
    (zero kernels stay all zero). ``dilation`` as in :func:`kernel_responses`."""
    power = kernel_responses(weight, grid, dilation).abs().square()
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


def mean_normalized_power(
    weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID, dilation: int | tuple[int, int] = 1
) -> torch.Tensor:
    """Mean over the non-zero kernels of the normalized power p(f): (O, I, kh, kw) -> float64 (G_h, G_w), sums to 1.

    Closed form: the mean of r(d) / r(0) over kernels, placed on the grid at d mod (G_h, G_w) together with its
    mirror -d, is the autocorrelation of the mean p; one FFT of that single grid gives p. NaN for a layer of zeros.
    """
    check_weight(weight)
    pair = check_dilation(dilation)
    grid_pair(grid, dilated_size(tuple(weight.shape[-2:]), pair))
    lags, correlation = kernel_autocorrelation(weight)
    return mean_power_from_autocorrelation(dilated_lags(lags, pair), correlation, grid)


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
    # Added, not assigned: on a grid shorter than twice the kernel, distinct lags wrap onto one cell and both count.
    for (dy, dx), value in zip(lags, mean.tolist()):
        lag_grid[dy % grid_h, dx % grid_w] += value
        if (dy, dx) != (0, 0):
            lag_grid[-dy % grid_h, -dx % grid_w] += value
    return torch.fft.fft2(lag_grid).real / (grid_h * grid_w)


def dilated_lags(lags: list[tuple[int, int]], dilation: int | tuple[int, int]) -> list[tuple[int, int]]:
    """The lags of the dilated kernel's autocorrelation: r_d(d * lag) = r(lag), zero at every other lag. Scaling by
    positive factors keeps each lag in the half-plane :func:`kernel_autocorrelation` uses."""
    dy, dx = check_dilation(dilation)
    return [(dy * ly, dx * lx) for ly, lx in lags]


def dilated_size(kernel_size: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Extent d (k - 1) + 1 of a dilated kernel along each axis."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))


def check_dilation(dilation: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """(d_y, d_x) from an int or pair; raises ConfigError unless both are integers >= 1."""
    pair = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)
    if len(pair) != 2 or any(not isinstance(d, int) or d < 1 for d in pair):
        raise ConfigError(f"dilation {dilation!r} is not a positive integer or a pair of them; use e.g. 2 or (2, 2)")
    return int(pair[0]), int(pair[1])


def check_weight(weight: torch.Tensor) -> None:
    """Raises ConfigError unless ``weight`` is a real 4-d (out, in, kh, kw) tensor."""
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4 or weight.is_complex():
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ConfigError(f"a Conv2d weight must be a real (out, in, kh, kw) tensor, got {shape}")
