"""Spectra of intermediate feature maps (``freqprobe features``): per layer the mean log-amplitude spectrum, its
radial profile, ΔLog-amplitude (Park & Kim 2022), the spectral centroid and, before each subsampling, the share of
energy above the new Nyquist limit.

Modules by concept: ``layers`` (which modules are measured, where the model subsamples), ``spectra`` (per-layer
sums and the statistics read from them, with their definitions), ``probe`` (forward hooks over batches),
``summary`` (``features.json`` of one or more runs), ``tracking`` (``train --track-features``).
"""

from freqprobe.analysis.features.layers import ProbeSite, default_sites, select_sites, subsampling_sites
from freqprobe.analysis.features.probe import FeatureSpectra, feature_spectra
from freqprobe.analysis.features.spectra import LOG_EPS, AliasingSums, LayerSums
from freqprobe.analysis.features.tracking import FeatureStatsCallback, tracking_batch

__all__ = [
    "LOG_EPS",
    "AliasingSums",
    "FeatureSpectra",
    "FeatureStatsCallback",
    "LayerSums",
    "ProbeSite",
    "default_sites",
    "feature_spectra",
    "select_sites",
    "subsampling_sites",
    "tracking_batch",
]
