"""freqprobe.spectra: power spectra, radial profiles, spectral centroids and per-class dataset spectra.

All grids are in cycles/pixel, ``torch.fft.fftfreq`` order (see :mod:`freqprobe.fourier`).

The public names load lazily (PEP 562): the CLI imports ``freqprobe.spectra.commands`` to build its parser, and
that must not import torch, so ``freqprobe --help`` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freqprobe.lazy import lazy_exports

_EXPORTS = {
    "spectral_centroid": "freqprobe.spectra.centroid",
    "spectral_centroid_of_power": "freqprobe.spectra.centroid",
    "DatasetSpectrum": "freqprobe.spectra.dataset",
    "centroid_histograms": "freqprobe.spectra.dataset",
    "compute_dataset_spectrum": "freqprobe.spectra.dataset",
    "discrimination_map": "freqprobe.spectra.dataset",
    "hamming_window_2d": "freqprobe.spectra.power",
    "power_spectrum": "freqprobe.spectra.power",
    "power_law_slope": "freqprobe.spectra.radial",
    "radial_bin_width": "freqprobe.spectra.radial",
    "radial_profile": "freqprobe.spectra.radial",
    "spectrum_summary": "freqprobe.spectra.summary",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from freqprobe.spectra.centroid import spectral_centroid, spectral_centroid_of_power
    from freqprobe.spectra.dataset import (
        DatasetSpectrum,
        centroid_histograms,
        compute_dataset_spectrum,
        discrimination_map,
    )
    from freqprobe.spectra.power import hamming_window_2d, power_spectrum
    from freqprobe.spectra.radial import power_law_slope, radial_bin_width, radial_profile
    from freqprobe.spectra.summary import spectrum_summary

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
