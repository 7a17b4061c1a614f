"""Per-layer sums of feature-map spectra, accumulated batch by batch, and the statistics read from them.

Definitions (each feature map is one channel of one image; FFTs in float32, sums in float64):

- **Mean log-amplitude spectrum**: mean over channels and images of log(|FFT2(y)| + 1e-6), (H, W) in fftfreq order,
  the map's mean *not* removed (DC included), as Park & Kim 2022 ("How do vision transformers work?", ICLR, Fig. 2)
  compute it; 1e-6 keeps the log of an all-zero (dead ReLU) map finite, and is their constant.
- **Radial profile**: :func:`freqprobe.spectra.radial_profile` of that grid (annuli 1/min(H, W) wide, DC alone in
  bin 0, up to the Nyquist radius 0.5 cycles/pixel).
- **ΔLog-amplitude**: the profile at its last bin (|f| = 0.5 cycles/pixel, 1 Nyquist, for an even side;
  floor(S/2)/S for an odd side S, stated per layer) minus the profile at DC. Park & Kim read the diagonal instead; the
  value at their corner frequency (f_y, f_x) = (floor(H/2)/H, floor(W/2)/W) minus DC is given too.
- **Spectral centroid**: sum |f| P / sum P of each map's power P = |FFT2(y)|^2 / (H W), the definition of
  :func:`freqprobe.spectra.spectral_centroid_of_power`, read from the ``rfft2`` half grid with each frequency
  counted as often as it stands for (tests check equality), averaged over maps. It is the definition of the dataset
  spectra and of the kernels; an all-zero map counts as 0, and the share of such maps is reported.
- **Aliasing share** before a subsampling of stride (s_y, s_x): the share of the input maps' energy (all maps,
  DC included) at frequencies above the new Nyquist limit, :func:`freqprobe.analysis.aliasing.alias_mask`, the same
  region as the kernels' aliasing share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from freqprobe.analysis.aliasing import alias_mask
from freqprobe.fourier import radial_frequency
from freqprobe.parallel import map_single_threaded
from freqprobe.spectra.radial import radial_profile

LOG_EPS = 1e-6
NYQUIST = 0.5


CHUNK_BYTES = 4 * 2**20  # float32 maps per FFT chunk: the chunk's transforms stay in cache (measured ~2.5x faster
# than one transform of a whole batch of large maps, whose elementwise passes are memory-bound)


@dataclass
class BatchSpectrum:
    """What one batch of maps (B, C, H, W) contributes to the sums, computed once however many sites read it."""

    shape: tuple[int, int, int]
    maps: int
    log_amplitude_sum: torch.Tensor  # (H, W // 2 + 1) float64: sum over maps of log(|FFT2| + LOG_EPS)
    power_sum: torch.Tensor | None  # (H, W // 2 + 1) float64: sum over maps of |FFT2|^2, if asked for
    centroid_sum: float
    zero_maps: int


@torch.no_grad()
def batch_spectrum(maps: torch.Tensor, power: bool = True) -> BatchSpectrum:
    """Sums of the half-grid spectra of ``maps`` (B, C, H, W), transformed a few images at a time, the chunks
    spread over torch's threads (:func:`freqprobe.parallel.map_single_threaded`: measured ~15% faster than
    torch's own threading of each transform on 2 cores). ``power=False`` leaves out ``power_sum`` (one pass less;
    only subsampling sites read it)."""
    height, width = maps.shape[-2:]
    step = max(1, CHUNK_BYTES // max(1, maps[0].numel() * 4))
    maps = maps.detach().float()
    weights = _half_grid_weights(height, width, maps.device)
    starts = range(0, maps.shape[0], step)
    workers = max(1, min(torch.get_num_threads(), len(starts)))
    shares = [starts[worker::workers] for worker in range(workers)]  # each worker's chunks, summed in its thread
    parts = map_single_threaded(lambda share: _chunk_sums(maps, share, step, weights, power), shares)
    return BatchSpectrum(
        shape=tuple(int(size) for size in maps.shape[1:]),
        maps=int(maps.shape[0] * maps.shape[1]),
        log_amplitude_sum=sum(part[0] for part in parts).cpu(),
        power_sum=sum(part[1] for part in parts).cpu() if power else None,
        centroid_sum=sum(part[2] for part in parts),
        zero_maps=sum(part[3] for part in parts),
    )


def _chunk_sums(maps: torch.Tensor, starts, step: int, weights: torch.Tensor, with_power: bool):
    """(log-amplitude sum, power sum, centroid sum, zero maps) of the chunks of ``step`` images at ``starts``."""
    log_sum = power_sum = 0.0
    centroid_sum, zero_maps = 0.0, 0
    for first in starts:
        chunk = _contiguous_images(maps[first:first + step])
        # Real maps have Hermitian spectra: the rfft2 half grid holds every amplitude, at half the cost of fft2.
        transform = torch.fft.rfft2(chunk)
        power = transform.real.square().add_(transform.imag.square())  # |F|^2, (b, C, H, W // 2 + 1)
        sums = power.flatten(-2) @ weights  # (b, C, 2): sum |f| P and sum P over the full grid (P = |F|^2 / HW)
        weighted, total = sums[..., 0], sums[..., 1]
        centroids = torch.where(total > 0, weighted / torch.where(total > 0, total, torch.ones_like(total)), 0.0)
        zero_maps += int((total == 0).sum())
        centroid_sum += float(centroids.sum(dtype=torch.float64))
        if with_power:
            power_sum = power_sum + power.sum(dim=(0, 1)).double()
        log_sum = log_sum + power.sqrt_().add_(LOG_EPS).log_().sum(dim=(0, 1)).double()
    return log_sum, power_sum, centroid_sum, zero_maps


def _contiguous_images(maps: torch.Tensor) -> torch.Tensor:
    """``maps`` (b, C, H, W) in contiguous layout. A channels_last batch is copied image by image as a 2-D
    (H W, C) -> (C, H W) transpose into a preallocated tensor, which torch does cache-blocked: measured ~3.5x faster
    than ``.contiguous()`` on (256, 56, 56) maps."""
    if maps.is_contiguous() or not maps.is_contiguous(memory_format=torch.channels_last):
        return maps.contiguous()
    batch, channels, height, width = maps.shape
    out = torch.empty((batch, channels, height * width), dtype=maps.dtype, device=maps.device)
    pixels_by_channel = maps.permute(0, 2, 3, 1).reshape(batch, height * width, channels)  # a view: no copy
    for index in range(batch):
        out[index].copy_(pixels_by_channel[index].t())
    return out.reshape(batch, channels, height, width)


@dataclass
class LayerSums:
    """Running sums of one layer's feature-map spectra; :meth:`add` takes a batch (B, C, H, W)."""

    name: str
    kind: str
    shape: tuple[int, int, int] | None = None
    maps: int = 0
    log_amplitude_sum: torch.Tensor | None = None
    centroid_sum: float = 0.0
    zero_maps: int = 0

    def add(self, maps: torch.Tensor) -> None:
        """Add a batch of maps (B, C, H, W); a batch of another (C, H, W) than the first raises ConfigError."""
        self.add_spectrum(batch_spectrum(maps, power=False))

    def add_spectrum(self, batch: BatchSpectrum) -> None:
        """Add a batch's :func:`batch_spectrum` (shared by the sites that see the same tensor)."""
        from freqprobe.errors import ConfigError

        if self.shape is None:
            self.shape = batch.shape
        elif batch.shape != self.shape:
            raise ConfigError(
                f"layer {self.name} gave maps of shape {batch.shape} after {self.shape}; feature spectra need images "
                f"of one size"
            )
        self.zero_maps += batch.zero_maps
        self.centroid_sum += batch.centroid_sum
        log_sum = batch.log_amplitude_sum
        self.log_amplitude_sum = log_sum.clone() if self.log_amplitude_sum is None else self.log_amplitude_sum + log_sum
        self.maps += batch.maps

    def summary(self, depth: int, grids: bool = True) -> dict:
        """The layer's entry of ``features.json`` (see the module docstring); ``grids=False`` leaves out the (H, W)
        mean log-amplitude grid (per-epoch tracking)."""
        height, width = self.shape[-2:]
        mean_log = full_grid(self.log_amplitude_sum / self.maps, width)
        radii, profile = radial_profile(mean_log)
        corner = (height // 2, width // 2)
        entry = {
            "name": self.name,
            "kind": self.kind,
            "depth": depth,
            "shape": list(self.shape),
            "maps": self.maps,
            "delta_log_amplitude": float(profile[-1] - profile[0]),
            "delta_frequency": float(radii[-1]),
            "delta_frequency_nyquist": float(radii[-1]) / NYQUIST,
            "delta_log_amplitude_corner": float(mean_log[corner] - mean_log[0, 0]),
            "corner_frequency": [corner[0] / height, corner[1] / width],
            "spectral_centroid": self.centroid_sum / self.maps,
            "zero_map_share": self.zero_maps / self.maps,
            "radial_profile": {"radii": radii.tolist(), "log_amplitude": profile.tolist()},
        }
        if grids:
            entry["mean_log_amplitude"] = mean_log.tolist()
        return entry


def full_grid(half: torch.Tensor, width: int) -> torch.Tensor:
    """The (H, W) fftfreq grid of an even function of frequency from its ``rfft2`` half (H, W // 2 + 1):
    g(-f) = g(f), so column kx > W // 2 is column W - kx read at the negated row."""
    height = half.shape[0]
    missing = torch.arange(width // 2 + 1, width)
    rows = (-torch.arange(height)) % height
    return torch.cat([half, half[rows][:, width - missing]], dim=1)


def _half_grid_weights(height: int, width: int, device) -> torch.Tensor:
    """(H (W // 2 + 1), 2): columns |f| m and m, m = how many full-grid frequencies each half-grid one stands for
    (1 for kx = 0 and, for even W, kx = W / 2; else 2, its mirror image included). ``P_half @ weights`` gives the
    full grid's sum |f| P and sum P, so the centroid is exactly :func:`spectral_centroid_of_power` of the full grid."""
    radius = radial_frequency(height, width, dtype=torch.float32)[:, : width // 2 + 1]
    multiplicity = torch.full((width // 2 + 1,), 2.0)
    multiplicity[0] = 1.0
    if width % 2 == 0:
        multiplicity[-1] = 1.0
    multiplicity = multiplicity.expand(height, -1)
    return torch.stack([(radius * multiplicity).flatten(), multiplicity.flatten()], dim=1).to(device)


@dataclass
class AliasingSums:
    """Energy of the maps entering one subsampling, in all and above its new Nyquist limit."""

    name: str
    stride: tuple[int, int]
    total: float = 0.0
    aliased: float = 0.0
    shape: tuple[int, int, int] | None = None
    _mask: torch.Tensor | None = field(default=None, repr=False)

    def add(self, maps: torch.Tensor) -> None:
        self.add_spectrum(batch_spectrum(maps))

    def add_spectrum(self, batch: BatchSpectrum) -> None:
        """Add the energy of a batch's :func:`batch_spectrum` of the maps entering the subsampling."""
        height, width = batch.shape[-2:]
        self.shape = batch.shape
        if self._mask is None or self._mask.shape != (height, width // 2 + 1):
            weights = _half_grid_weights(height, width, "cpu")[:, 1].reshape(height, width // 2 + 1)
            aliased = alias_mask(height, width, self.stride)[:, : width // 2 + 1]
            self._mask = torch.stack([weights, weights * aliased]).double()  # (2, H, W // 2 + 1): all, aliased
        sums = (self._mask * batch.power_sum).sum(dim=(-2, -1))
        self.total += float(sums[0])
        self.aliased += float(sums[1])

    def summary(self) -> dict:
        share = self.aliased / self.total if self.total > 0 else math.nan
        return {
            "name": self.name,
            "stride": list(self.stride),
            "input_shape": list(self.shape) if self.shape else None,
            "new_nyquist": [NYQUIST / self.stride[0], NYQUIST / self.stride[1]],
            "aliasing_share": None if math.isnan(share) else share,
        }
