"""Spec-addressed filters of :mod:`freqprobe.filters.spectrum_interventions`: ``powerlaw:ALPHA``, ``phase`` and
``amplitude-swap``, registered in :data:`freqprobe.filters.FILTERS` when ``freqprobe.filters`` is imported."""

from __future__ import annotations

from typing import Sequence

import torch

from freqprobe.errors import ConfigError
from freqprobe.filters.checks import check_images
from freqprobe.filters.modules import InputFilter, Whiten, register_filter
from freqprobe.filters.spectrum_interventions import (
    ALPHA_RANGE,
    amplitude_swap,
    phase_only,
    powerlaw_spectrum,
    swap_partners,
)
from freqprobe.specs import check_number


@register_filter
class PowerLaw(InputFilter):
    """``powerlaw:ALPHA``: each image's power spectrum made c |f|^ALPHA, phase and energy kept
    (:func:`powerlaw_spectrum`)."""

    name = "powerlaw"
    param_names = ("ALPHA",)
    usage = "powerlaw:ALPHA (power ~ |f|^ALPHA, -8 <= ALPHA <= 8; natural images ~ -2)"

    def __init__(self, alpha: float):
        super().__init__()
        self.alpha = check_number(alpha, "ALPHA", ALPHA_RANGE)

    @property
    def params(self) -> tuple[float, ...]:
        return (self.alpha,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return powerlaw_spectrum(x, self.alpha)


@register_filter
class PhaseOnly(Whiten):
    """``phase``: each image's phase with the training split's mean amplitude spectrum (:func:`phase_only`).

    Fitted and saved as ``whiten`` is (the buffer ``mean_amplitude``, (C, H, W), in ``filter_state.safetensors``).
    """

    name = "phase"
    usage = "phase (the phase with the training split's mean amplitude; fitted on the training split)"

    @classmethod
    def from_params(cls, params: Sequence[float], boundary: str = "circular") -> InputFilter:
        return cls()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_fitted:
            raise ConfigError(
                "filter 'phase' is not fitted; call .fit(training_images) or load its state_dict before applying it"
            )
        return phase_only(x, self.mean_amplitude)


@register_filter
class AmplitudeSwap(InputFilter):
    """``amplitude-swap``: each image of a batch with the amplitude of another of the same batch and its own phase
    (:func:`amplitude_swap`); the pairing is :func:`swap_partners` of the batch size with seed 0, so a given batch
    always gives the same images (a batch of one is returned unchanged)."""

    name = "amplitude-swap"
    usage = "amplitude-swap (amplitude of another image of the batch, seeded pairing, own phase)"

    def __init__(self, seed: int = 0):
        super().__init__()
        self.seed = int(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x)
        if x.shape[0] < 2:
            return x  # its own amplitude: skip the FFT round trip and its rounding
        return amplitude_swap(x, swap_partners(x.shape[0], self.seed, device=x.device))
