"""``nn.Module`` wrappers of the filter functions, the ``FILTERS`` registry and :func:`build_filter`.

A filter is addressed by its spec string (:mod:`freqprobe.filters.spec`); :attr:`InputFilter.spec` gives the
canonical string back. Statistics a filter needs (the mean amplitude spectrum of ``whiten``) are registered buffers,
fitted on the training split only, so they travel in a ``state_dict``.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import torch
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.filters.batches import iter_float_batches
from freqprobe.filters.checks import check_band, check_boundary, check_images, check_sigma
from freqprobe.filters.fourier_filters import band_pass, log_magnitude, whiten
from freqprobe.filters.gaussian import gaussian_blur, highpass
from freqprobe.filters.spec import format_spec, parse_number, split_spec
from freqprobe.registry import Registry


class InputFilter(nn.Module):
    """Base class: a filter of float (N, C, H, W) pixel-space images, applied per channel.

    Subclasses set ``name`` (the spec name), ``param_names`` (the numeric spec parameters, in order), ``usage``
    (the spec grammar shown in errors) and implement :meth:`forward` and :attr:`params`.
    """

    name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()
    usage: ClassVar[str] = ""
    requires_fit: ClassVar[bool] = False

    def __init__(self, boundary: str = "circular"):
        super().__init__()
        self.boundary = check_boundary(boundary)

    @classmethod
    def from_params(cls, params: Sequence[float], boundary: str = "circular") -> "InputFilter":
        """Build from parsed spec parameters; Fourier-domain filters are periodic and ignore ``boundary``."""
        return cls(*params)

    @property
    def params(self) -> tuple[float, ...]:
        return ()

    @property
    def spec(self) -> str:
        """Canonical spec string, e.g. ``"blur:2"``; ``build_filter(f.spec, f.boundary)`` rebuilds ``f``."""
        return format_spec(self.name, self.params)

    @property
    def is_fitted(self) -> bool:
        return True

    def fit(self, images: torch.Tensor, batch_size: int = 2048) -> "InputFilter":
        """Fit statistics on (N, C, H, W) uint8 or float training images; a no-op for stateless filters."""
        return self

    def extra_repr(self) -> str:
        return f"spec={self.spec!r}"


FILTERS: Registry[type[InputFilter]] = Registry("filter")


def register_filter(cls: type[InputFilter]) -> type[InputFilter]:
    """Class decorator: register ``cls`` in :data:`FILTERS` under ``cls.name``."""
    return FILTERS.register(cls.name)(cls)


@register_filter
class Identity(InputFilter):
    """``none``: the images unchanged (the baseline)."""

    name = "none"
    usage = "none"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x)
        return x


class _GaussianFilter(InputFilter):
    param_names = ("sigma",)

    def __init__(self, sigma: float, boundary: str = "circular"):
        super().__init__(boundary)
        self.sigma = check_sigma(sigma)

    @classmethod
    def from_params(cls, params: Sequence[float], boundary: str = "circular") -> InputFilter:
        return cls(*params, boundary=boundary)

    @property
    def params(self) -> tuple[float, ...]:
        return (self.sigma,)

    def extra_repr(self) -> str:
        return f"spec={self.spec!r}, boundary={self.boundary!r}"


@register_filter
class GaussianBlur(_GaussianFilter):
    """``blur:S``: Gaussian low-pass with sigma S pixels (:func:`gaussian_blur`)."""

    name = "blur"
    usage = "blur:S (sigma in pixels, 0 < S <= 4 x the image side)"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_blur(x, self.sigma, self.boundary)


@register_filter
class HighPass(_GaussianFilter):
    """``highpass:S``: the image minus ``blur:S`` (:func:`highpass`), negative values kept."""

    name = "highpass"
    usage = "highpass:S (sigma in pixels, 0 < S <= 4 x the image side)"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return highpass(x, self.sigma, self.boundary)


@register_filter
class Whiten(InputFilter):
    """``whiten``: divide each spectrum by the training split's mean amplitude spectrum (:func:`whiten`).

    The mean amplitude, (C, H, W) in fftfreq order, is the buffer ``mean_amplitude``; it is empty until
    :meth:`fit` or ``load_state_dict``.
    """

    name = "whiten"
    usage = "whiten (fitted on the training split)"
    requires_fit = True

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = float(eps)
        self.register_buffer("mean_amplitude", torch.empty(0))

    @property
    def is_fitted(self) -> bool:
        return self.mean_amplitude.numel() > 0

    @torch.no_grad()
    def fit(self, images: torch.Tensor, batch_size: int = 2048) -> "Whiten":
        """Mean |FFT2| per channel of (N, C, H, W) uint8 or float training images, accumulated in float64.

        Raises:
            ConfigError: images not (N, C, H, W) uint8/float, bad batch size.
            DataError: no images.
        """
        total = None
        for _, batch in iter_float_batches(images, batch_size, device=self.mean_amplitude.device):
            work = batch.float() if batch.dtype not in (torch.float32, torch.float64) else batch
            batch_sum = torch.fft.fft2(work).abs().sum(dim=0, dtype=torch.float64)
            total = batch_sum if total is None else total + batch_sum
        self.mean_amplitude = (total / images.shape[0]).to(self.mean_amplitude.dtype)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_fitted:
            raise ConfigError(
                "filter 'whiten' is not fitted; call .fit(training_images) or load its state_dict before applying it"
            )
        return whiten(x, self.mean_amplitude, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # an unfitted filter holds an empty buffer: take the saved shape so a fresh build_filter("whiten") loads
        saved = state_dict.get(prefix + "mean_amplitude")
        if saved is not None and saved.shape != self.mean_amplitude.shape:
            self.mean_amplitude = torch.empty(
                saved.shape, dtype=self.mean_amplitude.dtype, device=self.mean_amplitude.device
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


@register_filter
class BandPass(InputFilter):
    """``band:LO:HI``: ideal radial band-pass keeping LO <= |f| < HI cycles/pixel (:func:`band_pass`)."""

    name = "band"
    param_names = ("LO", "HI")
    usage = "band:LO:HI (radii in cycles/pixel, 0 <= LO < 0.707, LO < HI; Nyquist 0.5, corner ~0.707)"

    def __init__(self, low: float, high: float):
        super().__init__()
        self.low, self.high = check_band(low, high)

    @property
    def params(self) -> tuple[float, ...]:
        return (self.low, self.high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return band_pass(x, self.low, self.high)


@register_filter
class LogMagnitude(InputFilter):
    """``logmag``: the fftshifted log-magnitude spectrum as the input image (:func:`log_magnitude`)."""

    name = "logmag"
    usage = "logmag"

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return log_magnitude(x, self.eps)


def spec_grammar() -> str:
    """The accepted spec forms, one per registered filter, for error messages and ``--help``."""
    return " | ".join(FILTERS.get(name).usage for name in FILTERS)


def build_filter(spec: str, boundary: str = "circular") -> InputFilter:
    """The filter named by ``spec`` (``none``, ``blur:S``, ``highpass:S``, ``whiten``, ``band:LO:HI``, ``logmag``).

    Args:
        spec: spec string; the name is case-insensitive and spaces around ``:`` are ignored.
        boundary: ``"circular"`` or ``"reflect"``; used by ``blur`` and ``highpass`` (the Fourier-domain filters
            are periodic by definition and accept but ignore it).

    Raises:
        ConfigError: unknown filter name (lists the valid forms), wrong number of parameters, non-numeric
            parameter, sigma outside (0, 4096] pixels, LO outside [0, 0.707), LO >= HI, unknown boundary. A sigma
            beyond 4 x the image side is refused when the filter meets the images.

    Example:
        >>> build_filter("band:0.1:0.25").spec
        'band:0.1:0.25'
    """
    boundary = check_boundary(boundary)
    name, texts = split_spec(spec)
    if name not in FILTERS:
        raise ConfigError(f"unknown filter {name!r} in spec {spec!r}; valid: {spec_grammar()}")
    cls = FILTERS.get(name)
    if len(texts) != len(cls.param_names):
        raise ConfigError(
            f"filter spec {spec!r} has {len(texts)} parameter(s), {name!r} takes {len(cls.param_names)}; "
            f"write it as {cls.usage}"
        )
    try:
        values = [parse_number(text, param) for text, param in zip(texts, cls.param_names)]
        return cls.from_params(values, boundary)
    except ConfigError as error:
        raise ConfigError(f"filter spec {spec!r}: {error}; write it as {cls.usage}") from None
