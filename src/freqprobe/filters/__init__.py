"""Input filters: Gaussian blur and high-pass, whitening, ideal band-pass, log-magnitude spectrum.

Pure functions on float (N, C, H, W) images in [0, 1], per channel, batched, differentiable, keeping dtype and
device, with thin ``nn.Module`` wrappers addressed by spec strings (``none``, ``blur:S``, ``highpass:S``,
``whiten``, ``band:LO:HI``, ``logmag``, and the spectrum interventions ``powerlaw:ALPHA``, ``phase``,
``amplitude-swap``) shared by the CLI and configs.

>>> import torch
>>> f = build_filter("blur:2")
>>> f(torch.rand(4, 3, 32, 32)).shape
torch.Size([4, 3, 32, 32])
"""

from freqprobe.filters.checks import BOUNDARIES
from freqprobe.filters.fourier_filters import amplitude_spectrum, band_mask, band_pass, log_magnitude, whiten
from freqprobe.filters.gaussian import gaussian_blur, gaussian_kernel1d, highpass
from freqprobe.filters.modules import (
    FILTERS,
    BandPass,
    GaussianBlur,
    HighPass,
    Identity,
    InputFilter,
    LogMagnitude,
    Whiten,
    build_filter,
    register_filter,
    spec_grammar,
)
from freqprobe.filters.intervention_modules import AmplitudeSwap, PhaseOnly, PowerLaw  # registers them
from freqprobe.filters.spectrum_interventions import (
    amplitude_swap,
    phase_only,
    powerlaw_spectrum,
    recombine,
    swap_partners,
)
from freqprobe.filters.stats import apply_in_batches, channel_stats

__all__ = [
    "AmplitudeSwap",
    "BOUNDARIES",
    "FILTERS",
    "BandPass",
    "GaussianBlur",
    "HighPass",
    "Identity",
    "InputFilter",
    "LogMagnitude",
    "PhaseOnly",
    "PowerLaw",
    "Whiten",
    "amplitude_spectrum",
    "amplitude_swap",
    "apply_in_batches",
    "band_mask",
    "band_pass",
    "build_filter",
    "channel_stats",
    "gaussian_blur",
    "gaussian_kernel1d",
    "highpass",
    "log_magnitude",
    "phase_only",
    "powerlaw_spectrum",
    "recombine",
    "register_filter",
    "spec_grammar",
    "swap_partners",
    "whiten",
]
