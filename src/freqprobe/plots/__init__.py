"""freqprobe.plots: paper-ready figures, rendered headless (Agg, no pyplot) and saved atomically as PNG.

``style`` holds what every figure shares (``paper_style()``, ``new_figure()``, ``save_png()``, ``describe()``);
``spectra`` draws dataset spectra, ``preview`` filtered example images. Names load lazily (PEP 562), so importing
``freqprobe.plots.style`` does not pull in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "describe": "freqprobe.plots.style",
    "new_figure": "freqprobe.plots.style",
    "paper_style": "freqprobe.plots.style",
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
    from freqprobe.plots.style import describe, new_figure, paper_style, save_png


def __getattr__(name: str):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'freqprobe.plots' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
