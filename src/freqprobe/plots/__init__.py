"""freqprobe.plots: paper-ready figures, rendered headless (Agg, no pyplot) and saved atomically as PNG, PDF or SVG.

``style`` holds what every figure shares (``paper_style()``, ``new_figure()``, ``save_figure()``, ``describe()``);
``spectra`` draws dataset spectra, ``preview`` filtered example images. Names load lazily (PEP 562), so importing
``freqprobe.plots.style`` does not pull in torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freqprobe.lazy import lazy_exports

_EXPORTS = {
    "describe": "freqprobe.plots.style",
    "new_figure": "freqprobe.plots.style",
    "paper_style": "freqprobe.plots.style",
    "save_figure": "freqprobe.plots.style",
    "save_png": "freqprobe.plots.style",
    "plot_centroid_histograms": "freqprobe.plots.spectra",
    "plot_class_spectra": "freqprobe.plots.spectra",
    "plot_discrimination_map": "freqprobe.plots.spectra",
    "plot_radial_profiles": "freqprobe.plots.spectra",
    "write_spectrum_figures": "freqprobe.plots.spectra",
    "plot_preview": "freqprobe.plots.preview",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from freqprobe.plots.preview import plot_preview
    from freqprobe.plots.spectra import (
        plot_centroid_histograms,
        plot_class_spectra,
        plot_discrimination_map,
        plot_radial_profiles,
        write_spectrum_figures,
    )
    from freqprobe.plots.style import describe, new_figure, paper_style, save_figure, save_png

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
