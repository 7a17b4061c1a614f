"""Example images before and after input filters, each above its log power spectrum.

Display mapping, chosen per row from the values (and written into the figure):
- rows within [0, 1] (up to a small ringing tolerance, clipped) are shown as pixels: 0 black, 1 white;
- otherwise the range is the row's 0.5th..99.5th percentile [lo, hi] (values beyond are clipped, so a few extreme
  pixels do not wash the rest out). When it straddles 0 roughly evenly (high-pass, whitened, band-pass without DC:
  zero-mean images) the scale is symmetric, [-m, m] with m = max(|lo|, |hi|), 0 at its centre: a diverging colour map
  for one channel, mid-grey for RGB. Else (e.g. a low-pass band with ringing) it is stretched linearly from lo to hi.
Spectra are log10 of the channel-averaged power |FFT2|^2 / (H W), DC at the centre, on one scale for all rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from freqprobe.plots.style import SIGNED_CMAP, SPECTRUM_CMAP, new_figure, paper_style, save_figure
from freqprobe.spectra.power import power_spectrum

PIXEL_TOLERANCE = 0.02
CLIP_PERCENTILE = 0.5
# A range counts as centred on 0 when its shorter side is at least this share of its longer side.
SYMMETRY_RATIO = 0.25
LOG_DYNAMIC_RANGE = 6.0
PANEL_INCHES = 1.15

CAPTION = (
    "Display: rows within [0, 1] as pixels (0 black, 1 white). Other rows: range = 0.5..99.5th percentile of the row "
    "(beyond: clipped); if it straddles 0, a symmetric scale ±m with 0 at its centre (white for grey images, mid-grey "
    "for RGB), else stretched linearly. Spectra: log$_{10}$ |FFT2|$^2$/(HW), channels averaged, DC at centre, "
    "one scale for all rows."
)


@dataclass
class DisplayMapping:
    """How one row of images is turned into colours."""

    kind: str   # "pixels" | "signed" | "stretched"
    low: float
    high: float

    def describe(self) -> str:
        if self.kind == "pixels":
            return "pixels 0..1"
        if self.kind == "signed":
            return f"symmetric ±{self.high:.2g}"
        return f"{self.low:.2g}..{self.high:.2g}"


def display_mapping(images: torch.Tensor) -> DisplayMapping:
    """Pick the mapping of a row of float images (n, C, H, W) from their values (see the module docstring)."""
    values = images.detach().to(torch.float64).cpu().numpy().ravel()
    low, high = float(values.min()), float(values.max())
    if low >= -PIXEL_TOLERANCE and high <= 1 + PIXEL_TOLERANCE:
        return DisplayMapping("pixels", 0.0, 1.0)
    low, high = (float(v) for v in np.percentile(values, [CLIP_PERCENTILE, 100 - CLIP_PERCENTILE]))
    if low < 0 < high and min(-low, high) >= SYMMETRY_RATIO * max(-low, high):
        extent = max(-low, high)
        return DisplayMapping("signed", -extent, extent)
    return DisplayMapping("stretched", low, max(high, low + 1e-12))


def plot_preview(
    originals: torch.Tensor,
    filtered: dict[str, torch.Tensor],
    class_names: list[str],
    title: str,
    path: str | os.PathLike,
) -> None:
    """Figure: columns are examples; for the originals and each filter, a row of images and a row of spectra.

    originals: float (n, C, H, W) in [0, 1]; filtered: {filter spec: float (n, C, H, W)}; class_names: n names.
    """
    stages = {"original": originals, **filtered}
    spectra = {name: _log_spectra(images) for name, images in stages.items()}
    every = np.concatenate([s.ravel() for s in spectra.values()])
    spectrum_high = float(every.max())
    spectrum_low = max(float(np.percentile(every, 1.0)), spectrum_high - LOG_DYNAMIC_RANGE)
    n_examples = originals.shape[0]
    n_rows = 2 * len(stages)
    with paper_style():
        fig = new_figure(PANEL_INCHES * n_examples + 2.2, PANEL_INCHES * n_rows + 1.4)
        # Square image axes are shrunk after the layout is solved, which leaves the row labels a few pixels past the
        # left edge with the default padding.
        fig.get_layout_engine().set(w_pad=0.1)
        axes = fig.subplots(n_rows, n_examples, squeeze=False)
        for stage_index, (name, images) in enumerate(stages.items()):
            image_axes, spectrum_axes = axes[2 * stage_index], axes[2 * stage_index + 1]
            mapping = display_mapping(images)
            shown = _draw_images(image_axes, images, mapping)
            _row_colour_bar(fig, image_axes, shown, mapping)
            image_axes[0].set_ylabel(f"{name}\n{mapping.describe()}", fontsize=8)
            spectrum_shown = None
            for ax, spectrum in zip(spectrum_axes, spectra[name]):
                spectrum_shown = ax.imshow(spectrum, cmap=SPECTRUM_CMAP, vmin=spectrum_low, vmax=spectrum_high)
            fig.colorbar(spectrum_shown, ax=list(spectrum_axes), shrink=0.9, aspect=8, label="log$_{10}$ power")
            spectrum_axes[0].set_ylabel(f"{name}\nspectrum", fontsize=8)
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax, name in zip(axes[0], class_names):
            ax.set_title(name, fontsize=8)
        fig.suptitle(f"Input filters: examples and their spectra\n{title}")
        fig.supxlabel(CAPTION, fontsize=7, wrap=True)
        save_figure(fig, path)


def _draw_images(row_axes, images: torch.Tensor, mapping: DisplayMapping):
    """Draw each image of the row with ``mapping``; returns the last AxesImage when a colour bar applies, else None."""
    array = images.detach().to(torch.float64).cpu().numpy()
    channels = array.shape[1]
    shown = None
    for ax, image in zip(row_axes, array):
        if channels == 1:
            cmap = SIGNED_CMAP if mapping.kind == "signed" else "gray"
            shown = ax.imshow(image[0], cmap=cmap, vmin=mapping.low, vmax=mapping.high)
        else:
            ax.imshow(_rgb(image, mapping))
    return shown if channels == 1 else None


def _rgb(image: np.ndarray, mapping: DisplayMapping) -> np.ndarray:
    """(C, H, W) -> (H, W, 3) in [0, 1] under ``mapping``; more than 3 channels shows the first three."""
    scaled = (image[:3] - mapping.low) / (mapping.high - mapping.low)
    return np.clip(scaled, 0.0, 1.0).transpose(1, 2, 0)


def _row_colour_bar(fig, row_axes, shown, mapping: DisplayMapping) -> None:
    if shown is not None:
        fig.colorbar(shown, ax=list(row_axes), shrink=0.9, aspect=8, label="value")
    else:
        # RGB rows have no colour map; keep the grid aligned with an invisible bar of the same size.
        from matplotlib.cm import ScalarMappable

        bar = fig.colorbar(ScalarMappable(cmap="gray"), ax=list(row_axes), shrink=0.9, aspect=8)
        bar.ax.set_visible(False)


def _log_spectra(images: torch.Tensor) -> np.ndarray:
    """(n, C, H, W) float -> (n, H, W) log10 channel-averaged power, fftshifted."""
    power = power_spectrum(images.detach().to(torch.float64)).mean(dim=1)
    shifted = torch.fft.fftshift(power, dim=(-2, -1)).cpu().numpy()
    return np.log10(np.maximum(shifted, np.finfo(np.float64).tiny))
