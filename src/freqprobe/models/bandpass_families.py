"""Band-pass kernel families: the formulas that generate the taps of a kernel from a few raw parameters.

Coordinates: a kernel's taps sit at integer offsets (y, x) from its centre, y running down the rows and x across the
columns, -(k-1)/2 .. (k-1)/2 (odd kernel sizes only, so the centre is a tap). Frequencies are in cycles/pixel with the
project's convention (``freqprobe.fourier``): orientation 0 is a horizontal frequency (intensity varying along x).
Every raw parameter is unconstrained; the bounds below hold by construction, s(u) = 1 / (1 + exp(-u)).

Families (the band is [f_lo, f_hi], 0 <= f_lo < f_hi <= 0.5):

``gabor`` (Gabor 1946; Daugman 1985) -- centre frequency f0, bandwidth b, orientation theta; the phase is carried
by two gains on a quadrature pair (even and odd component)::

    b_max = (f_hi - f_lo) / (2 M),   b = b_max (1/R + (1 - 1/R) s(u_b))              M = 2, R = 2
    f0 = f_lo + M b + (f_hi - f_lo - 2 M b) s(u_f)                       so [f0 - M b, f0 + M b] lies in the band
    e(y, x) = exp(-2 pi^2 b^2 (x^2 + y^2))                     the envelope: a Gaussian of sigma = 1 / (2 pi b) px
    a(y, x) = 2 pi f0 (x cos theta + y sin theta)
    even = e cos(a) - e sum(e cos a) / sum(e)            the Morlet correction: sum(even) = 0 exactly
    odd  = e sin(a)                                      antisymmetric about the centre tap: sum(odd) = 0 exactly
    kernel = g_even even / |even| + g_odd odd / |odd|    ~ |g| e cos(a + phase), phase = atan2(-g_odd, g_even)

  The continuous response is a pair of Gaussian blobs of standard deviation b (in amplitude; b / sqrt 2 in power)
  at +-f0 (cos theta, sin theta), so the margin M = 2 (2.8 standard deviations of the power) keeps all but ~0.2% of
  the untruncated blobs' power inside the band; the bandwidth b is itself bounded to [b_max / 2, b_max]. The Morlet
  correction removes the DC leak with a Gaussian of the envelope's own width. Learning the phase through two linear
  gains instead of an angle keeps it as well conditioned as ordinary weights; the even and odd parts are orthogonal,
  so |kernel| = |(g_even, g_odd)|.

``dog`` (difference of Gaussians, Marr & Hildreth 1980) -- two widths, given by a ratio rho and the wide one's
frequency scale b_w::

    floor = max(f_lo, 1 / (2 pi max(kh, kw)))        the wide Gaussian is never wider than the kernel (sigma <= k)
    rho_max = min(4, f_hi / (H floor)),   rho = 1.25 + (rho_max - 1.25) s(u_r)                          H = 2.5
    b_w = floor + (f_hi / (H rho) - floor) s(u_w),   b_n = rho b_w
    G_b(y, x) = exp(-2 pi^2 b^2 (x^2 + y^2)) / sum(...)                  each Gaussian sums to 1 on the k x k taps
    g = G_{b_n} - G_{b_w}                                                                      so sum(g) = 0 exactly

  b is a Gaussian's spread in frequency (sigma = 1 / (2 pi b) pixels). The continuous response
  exp(-f^2 / 2 b_n^2) - exp(-f^2 / 2 b_w^2) rises from 0 at DC like f^2 (b_w >= f_lo bounds the power below f_lo),
  peaks at f_p = b_w sqrt(4 rho^2 ln(rho) / (rho^2 - 1)), inside [1.57 f_lo, 0.51 f_hi], and falls off like the
  narrow Gaussian, whose power above f_hi is ~exp(-H^2) of it (b_n <= f_hi / H). A band too narrow for that
  (rho_max < 1.25, i.e. f_hi < 3.125 floor) raises ConfigError.

Both families are band-pass and zero-mean: the response at DC is exactly 0 for every kernel, on any grid.
Truncation to k x k taps widens the response (a k-tap window smears it by ~1/k cycles/pixel), so the band limits are
tight for k >= 7 and loose for 3 x 3 (whose response is a trigonometric polynomial of degree 1); narrow bands need
larger kernels still. Measured share of power outside the band on 32 x 32 zero-padded power spectra, default band
[0.05, 0.5], 2000 kernels with raw logits uniform in [-6, 6] (tests/models/test_bandpass.py), mean / max:
gabor k=7 0.6% / 5.5%, k=3 8.2% / 24%; dog k=7 0.7% / 2.3%, k=3 11% / 14%.

:class:`~freqprobe.models.bandpass.BandpassConv2d` scales each component to unit L2 norm and combines the components
with learnable gains.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.registry import Registry

# Initial logits are drawn uniformly in s(u) in [0.05, 0.95]: the whole range, away from the flat ends of the sigmoid.
INIT_LOGIT = math.log(0.95 / 0.05)


class KernelFamily:
    """A band-pass kernel family on a fixed band and kernel size.

    ``shape_parameters`` names the raw parameters of one kernel shape (each a tensor of the same shape, (O, I) or
    (O,)); ``shapes(raw, ys, xs)`` maps them to C zero-mean, not yet normalized component kernels (..., C, kh, kw),
    C = len(``components``), which the layer normalizes and combines with learnable gains; ``physical(raw)`` gives
    the parameters in physical units (cycles/pixel, pixels, radians).
    """

    name: str = ""
    shape_parameters: tuple[str, ...] = ()
    components: tuple[str, ...] = ()

    def __init__(self, f_lo: float, f_hi: float, kernel_size: tuple[int, int]):
        self.f_lo, self.f_hi, self.kernel_size = f_lo, f_hi, kernel_size

    def initialize(self, raw: dict[str, torch.Tensor]) -> None:
        """Fill the raw parameters in place with a random draw covering the family's range."""
        for tensor in raw.values():
            nn.init.uniform_(tensor, -INIT_LOGIT, INIT_LOGIT)

    def shapes(self, raw: dict[str, torch.Tensor], ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def physical(self, raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        raise NotImplementedError


FAMILIES: Registry[type[KernelFamily]] = Registry("band-pass family")


def bounded(logit: torch.Tensor, low: torch.Tensor | float, high: torch.Tensor | float) -> torch.Tensor:
    """low + (high - low) s(logit): strictly inside (low, high) for every finite logit."""
    return low + (high - low) * torch.sigmoid(logit)


def squared_radius(ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    """x^2 + y^2 of every tap: (kh, 1) and (1, kw) offsets -> (kh, kw)."""
    return ys * ys + xs * xs


@FAMILIES.register("gabor")
class GaborFamily(KernelFamily):
    """Quadrature pairs of zero-mean Gabor kernels; formula and limits in the module docstring."""

    name = "gabor"
    shape_parameters = ("frequency_logit", "bandwidth_logit", "orientation")
    components = ("even", "odd")
    margin = 2.0  # M: the blob's centre is >= M bandwidths from both band edges
    bandwidth_ratio = 2.0  # R: the narrowest bandwidth is b_max / R

    def initialize(self, raw: dict[str, torch.Tensor]) -> None:
        nn.init.uniform_(raw["frequency_logit"], -INIT_LOGIT, INIT_LOGIT)
        nn.init.uniform_(raw["bandwidth_logit"], -INIT_LOGIT, INIT_LOGIT)
        nn.init.uniform_(raw["orientation"], 0.0, math.pi)

    def bandwidth(self, raw: dict[str, torch.Tensor]) -> torch.Tensor:
        """b in cycles/pixel, in [b_max / R, b_max]."""
        widest = (self.f_hi - self.f_lo) / (2.0 * self.margin)
        return bounded(raw["bandwidth_logit"], widest / self.bandwidth_ratio, widest)

    def frequency(self, raw: dict[str, torch.Tensor], bandwidth: torch.Tensor) -> torch.Tensor:
        """f0 in cycles/pixel, in [f_lo + M b, f_hi - M b]."""
        low = self.f_lo + self.margin * bandwidth
        return bounded(raw["frequency_logit"], low, self.f_hi - self.margin * bandwidth)

    def shapes(self, raw: dict[str, torch.Tensor], ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
        bandwidth = self.bandwidth(raw)
        frequency = self.frequency(raw, bandwidth)[..., None, None]
        theta = raw["orientation"][..., None, None]
        envelope = torch.exp(-2.0 * math.pi**2 * bandwidth[..., None, None] ** 2 * squared_radius(ys, xs))
        angle = 2.0 * math.pi * frequency * (xs * torch.cos(theta) + ys * torch.sin(theta))
        even = envelope * torch.cos(angle)
        # Subtracting the envelope's share of the even part's mean makes it sum to exactly 0 (no DC response); the
        # odd part is antisymmetric about the centre tap and sums to 0 already.
        even = even - envelope * even.sum(dim=(-2, -1), keepdim=True) / envelope.sum(dim=(-2, -1), keepdim=True)
        return torch.stack([even, envelope * torch.sin(angle)], dim=-3)

    def physical(self, raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        bandwidth = self.bandwidth(raw)
        return {
            "frequency": self.frequency(raw, bandwidth),
            "bandwidth": bandwidth,
            "sigma": 1.0 / (2.0 * math.pi * bandwidth),
            "orientation": torch.remainder(raw["orientation"], math.pi),
        }


@FAMILIES.register("dog")
class DogFamily(KernelFamily):
    """Differences of two normalized Gaussians; formula and limits in the module docstring."""

    name = "dog"
    shape_parameters = ("ratio_logit", "width_logit")
    components = ("dog",)
    min_ratio, max_ratio = 1.25, 4.0
    high_margin = 2.5  # H: the narrow Gaussian's frequency scale is at most f_hi / H

    def __init__(self, f_lo: float, f_hi: float, kernel_size: tuple[int, int]):
        super().__init__(f_lo, f_hi, kernel_size)
        self.floor = max(f_lo, 1.0 / (2.0 * math.pi * max(kernel_size)))
        self.ratio_limit = min(self.max_ratio, f_hi / (self.high_margin * self.floor))
        if self.ratio_limit < self.min_ratio:
            raise ConfigError(
                f"band [{f_lo}, {f_hi}] is too narrow for a difference of Gaussians (needs f_hi >= "
                f"{self.high_margin * self.min_ratio} * max(f_lo, {1.0 / (2.0 * math.pi * max(kernel_size)):.3g})); "
                f"widen the band or use family gabor"
            )

    def ratio(self, raw: dict[str, torch.Tensor]) -> torch.Tensor:
        """rho = sigma_wide / sigma_narrow = b_n / b_w, in [1.25, rho_max]."""
        return bounded(raw["ratio_logit"], self.min_ratio, self.ratio_limit)

    def wide_scale(self, raw: dict[str, torch.Tensor], ratio: torch.Tensor) -> torch.Tensor:
        """b_w in cycles/pixel, in [floor, f_hi / (H rho)]."""
        return bounded(raw["width_logit"], self.floor, self.f_hi / (self.high_margin * ratio))

    def shapes(self, raw: dict[str, torch.Tensor], ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
        ratio = self.ratio(raw)
        wide = self.wide_scale(raw, ratio)
        radius2 = squared_radius(ys, xs)
        narrow_gaussian = unit_sum_gaussian((ratio * wide)[..., None, None], radius2)
        return (narrow_gaussian - unit_sum_gaussian(wide[..., None, None], radius2)).unsqueeze(-3)

    def physical(self, raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        ratio = self.ratio(raw)
        wide = self.wide_scale(raw, ratio)
        peak = wide * torch.sqrt(4.0 * ratio**2 * torch.log(ratio) / (ratio**2 - 1.0))
        return {
            "peak_frequency": peak,
            "narrow_scale": ratio * wide,
            "wide_scale": wide,
            "sigma_narrow": 1.0 / (2.0 * math.pi * ratio * wide),
            "sigma_wide": 1.0 / (2.0 * math.pi * wide),
            "ratio": ratio,
        }


def unit_sum_gaussian(scale: torch.Tensor, radius2: torch.Tensor) -> torch.Tensor:
    """exp(-2 pi^2 b^2 r^2) normalized to sum 1 over the taps: scale (..., 1, 1), radius2 (kh, kw) -> (..., kh, kw)."""
    gaussian = torch.exp(-2.0 * math.pi**2 * scale**2 * radius2)
    return gaussian / gaussian.sum(dim=(-2, -1), keepdim=True)
