"""Spectral regularizers: a loss term on the frequency responses of a model's convolution kernels.

Spec (``--spectral-reg``, case-insensitive)::

    none                                     no regularizer (also None or "")
    highfreq:WEIGHT[:CUTOFF][@stem|@all]     WEIGHT * mean over layers of the layer's high-frequency share
    centroid:WEIGHT:TARGET[@stem|@all]       WEIGHT * mean over layers of (layer's spectral centroid - TARGET)^2

CUTOFF (default 0.25) and TARGET are in cycles/pixel. ``@all`` (default) selects every convolution with a kernel
larger than 1x1 (``nn.Conv2d`` or :class:`~freqprobe.models.bandpass.BandpassConv2d`); ``@stem`` the first one in
definition order (the ``stem`` of freqprobe's ResNets).

Definitions, identical to the kernel-spectrum analysis (``freqprobe.analysis.kernels``, grid 32): each (out, in)
kernel w is zero-padded to a G x G grid (G = 32) with power P(f) = |K(f)|^2 on the full fftfreq grid, and

    high-frequency share(w) = sum_{|f| > CUTOFF} P(f) / sum_f P(f)       (a frequency exactly on the cutoff is low)
    spectral centroid(w)    = sum_f |f| P(f) / sum_f P(f)                 (DC included: the dataset-spectra definition)

and a layer's value is the plain mean over its kernels. Both are scale-invariant, so the regularizer shapes the
kernels' spectra and leaves their size to the weight decay.

Closed form (no FFT per step): P(f) is a quadratic form in the taps, P(f) = w^T C(f) w with C(f)_{xy} =
cos(2 pi f . (x - y)), so any weighted sum sum_f g(f) P(f) = w^T A_g w with the (kh kw) x (kh kw) matrix
A_g[x, y] = Re DFT(g)[(x - y) mod G], computed once per kernel size. The denominator is sum_f P(f) = G^2 |w|^2
(Parseval). A step costs one (n, k^2) x (k^2, k^2) product per layer (n = out * in kernels), e.g. ~5 MFLOP for all
of ResNet-20, exact for the G x G grid.

A kernel of zeros has no spectrum: its share and centroid count as 0 (the dataset-spectra convention). The
denominator is clamped to at least 1e-8 times the layer's mean kernel energy, so a kernel far smaller than its
layer's others cannot produce huge gradients (the quantities are scale-invariant, so their gradient grows as
1 / |w|); every other kernel's value is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.fourier import radial_frequency
from freqprobe.specs import CORNER_RADIUS, Interval, format_number, parse_number

KINDS = ("highfreq", "centroid")
SCOPES = ("all", "stem")
DEFAULT_GRID = 32
DEFAULT_CUTOFF = 0.25
# Both quantities are shares or radii in [0, 0.707]: a weight past 1e6 only swamps the classification loss.
WEIGHT_RANGE = Interval(0, 1e6)
CUTOFF_RANGE = Interval(0, CORNER_RADIUS, low_open=True, high_open=True, unit="cycles/pixel")
TARGET_RANGE = Interval(0, CORNER_RADIUS, unit="cycles/pixel")
ENERGY_FLOOR = 1e-8
GRAMMAR = "none | highfreq:WEIGHT[:CUTOFF][@stem|@all] | centroid:WEIGHT:TARGET[@stem|@all]"
QUANTITY = {"highfreq": "high_frequency_ratio", "centroid": "centroid"}


@dataclass(frozen=True)
class RegularizerSpec:
    """A parsed ``--spectral-reg``. ``argument`` is the cutoff (highfreq) or the target centroid (centroid)."""

    kind: str
    weight: float
    argument: float
    scope: str = "all"

    @property
    def text(self) -> str:
        """Canonical spec string, e.g. ``highfreq:0.1:0.25@all``; parses back to an equal spec."""
        return f"{self.kind}:{format_number(self.weight)}:{format_number(self.argument)}@{self.scope}"


def parse_regularizer_spec(spec: str | RegularizerSpec | None) -> RegularizerSpec | None:
    """Parse a ``--spectral-reg`` value; None, "" and "none" give None (no regularizer).

    Raises:
        ConfigError: unknown kind or scope, a missing or non-numeric weight, a weight outside [0, 1e6], a cutoff
            outside (0, 0.707) or a target outside [0, 0.707] (one line naming the value and the valid range).
    """
    if spec is None or isinstance(spec, RegularizerSpec):
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"--spectral-reg must be a string such as 'highfreq:0.1', got {spec!r}")
    text = spec.strip().lower().replace(" ", "")
    if text in ("", "none"):
        return None
    body, _, scope = text.partition("@")
    if "@" in text and scope not in SCOPES:
        raise ConfigError(
            f"unknown scope '@{scope}' in --spectral-reg {spec!r}; valid: {', '.join('@' + s for s in SCOPES)}"
        )
    kind, *params = body.split(":")
    if kind not in KINDS:
        raise ConfigError(f"unknown spectral regularizer {kind!r} in --spectral-reg {spec!r}; valid: {GRAMMAR}")
    expected = (1, 2) if kind == "highfreq" else (2,)
    if len(params) not in expected:
        usage = "highfreq:WEIGHT[:CUTOFF]" if kind == "highfreq" else "centroid:WEIGHT:TARGET"
        raise ConfigError(f"--spectral-reg {spec!r} needs {usage}, e.g. {_EXAMPLES[kind]}")
    try:
        weight = parse_number(params[0], "weight", WEIGHT_RANGE)
        if kind == "highfreq":
            argument = parse_number(params[1], "cutoff", CUTOFF_RANGE) if len(params) == 2 else DEFAULT_CUTOFF
        else:
            argument = parse_number(params[1], "target", TARGET_RANGE)
    except ConfigError as error:
        raise ConfigError(f"--spectral-reg {spec!r}: {error}") from None
    return RegularizerSpec(kind, weight, argument, scope or "all")


_EXAMPLES = {"highfreq": "highfreq:0.1:0.25", "centroid": "centroid:1:0.2"}


# ---------------------------------------------------------------------------------------------------------------
# Kernel spectra in closed form
# ---------------------------------------------------------------------------------------------------------------


def weighting_matrix(weighting: torch.Tensor, kernel_size: tuple[int, int]) -> torch.Tensor:
    """A_g with sum_f g(f) |K(f)|^2 = w^T A_g w for every (kh, kw) kernel w flattened row-major.

    weighting: g on a (G_h, G_w) grid in fftfreq order, real and even (g(f) = g(-f)), G_h >= kh, G_w >= kw.
    Returns float64 (kh kw, kh kw), symmetric.
    """
    kh, kw = kernel_size
    grid_h, grid_w = weighting.shape
    transform = torch.fft.fft2(weighting.to(torch.float64)).real  # DFT(g)[d], real for an even g
    ys = torch.arange(kh).repeat_interleave(kw)
    xs = torch.arange(kw).repeat(kh)
    lag_y = (ys[:, None] - ys[None, :]) % grid_h
    lag_x = (xs[:, None] - xs[None, :]) % grid_w
    return transform[lag_y, lag_x]


def frequency_weightings(grid: int, cutoff: float) -> dict[str, torch.Tensor]:
    """The g(f) of the two statistics on a (grid, grid) fftfreq grid: ``radius`` |f| and ``above_cutoff``."""
    radius = radial_frequency(grid, grid, dtype=torch.float64)
    return {"radius": radius, "above_cutoff": (radius > cutoff).to(torch.float64)}


class KernelSpectrum:
    """Per-kernel weighted power sums in closed form for one grid and cutoff, matrices cached per kernel size,
    device and dtype."""

    def __init__(self, grid: int = DEFAULT_GRID, cutoff: float = DEFAULT_CUTOFF):
        self.grid, self.cutoff = grid, cutoff
        self._weightings = frequency_weightings(grid, cutoff)
        self._matrices: dict[tuple, torch.Tensor] = {}

    def matrix(self, name: str, kernel_size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        if kernel_size[0] > self.grid or kernel_size[1] > self.grid:
            raise ConfigError(f"a {kernel_size} kernel does not fit the {self.grid}x{self.grid} spectral grid")
        key = (name, kernel_size, like.device, like.dtype)
        if key not in self._matrices:
            matrix = weighting_matrix(self._weightings[name], kernel_size)
            self._matrices[key] = matrix.to(device=like.device, dtype=like.dtype)
        return self._matrices[key]

    def ratio(self, name: str, weight: torch.Tensor) -> torch.Tensor:
        """sum_f g(f) P(f) / sum_f P(f) per kernel: weight (O, I, kh, kw) -> (O * I,), differentiable.

        Computed in float32 (float64 for float64 weights) with autocast off: a bf16 quadratic form would lose the
        small high-frequency shares.
        """
        kernel_size = (int(weight.shape[-2]), int(weight.shape[-1]))
        with torch.autocast(device_type=weight.device.type, enabled=False):
            taps = weight.reshape(-1, kernel_size[0] * kernel_size[1])
            if taps.dtype != torch.float64:
                taps = taps.float()
            weighted = ((taps @ self.matrix(name, kernel_size, taps)) * taps).sum(dim=1)
            energy = taps.square().sum(dim=1) * (self.grid * self.grid)  # Parseval: sum_f P(f)
            floor = (ENERGY_FLOOR * energy.detach().mean()).clamp_min(torch.finfo(taps.dtype).tiny)
            return weighted / energy.clamp_min(floor)

    def high_frequency_share(self, weight: torch.Tensor) -> torch.Tensor:
        """Share of each kernel's power at |f| > cutoff: (O, I, kh, kw) -> (O * I,)."""
        return self.ratio("above_cutoff", weight)

    def centroid(self, weight: torch.Tensor) -> torch.Tensor:
        """Spectral centroid sum |f| P / sum P of each kernel in cycles/pixel: (O, I, kh, kw) -> (O * I,)."""
        return self.ratio("radius", weight)


# ---------------------------------------------------------------------------------------------------------------
# Layer selection and the regularizer
# ---------------------------------------------------------------------------------------------------------------


def spectral_layers(model: nn.Module, scope: str = "all") -> list[tuple[str, nn.Module]]:
    """(name, module) of the convolutions a regularizer acts on: every ``nn.Conv2d`` / ``BandpassConv2d`` with a
    kernel larger than 1x1 in definition order (``"all"``), or the first of them (``"stem"``).

    Raises:
        ConfigError: unknown scope, or a model without such a convolution.
    """
    from freqprobe.models.bandpass import BandpassConv2d

    if scope not in SCOPES:
        raise ConfigError(f"unknown layer scope {scope!r}; valid: {', '.join(SCOPES)}")
    layers = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, (nn.Conv2d, BandpassConv2d)) and _kernel_area(module) > 1
    ]
    if not layers:
        raise ConfigError(f"{type(model).__name__} has no convolution larger than 1x1 for a spectral regularizer")
    return layers[:1] if scope == "stem" else layers


class SpectralRegularizer:
    """The loss term of a :class:`RegularizerSpec` on fixed layers of a model (chosen by name when built).

    ``penalty(model)`` -> scalar tensor to add to the loss each step (differentiable; same device as the weights);
    ``values(model)`` -> {layer name: the layer's mean share or centroid} (tensors, differentiable);
    ``summary(model)`` -> JSON-ready dict for the epoch log.
    """

    def __init__(self, spec: RegularizerSpec, layer_names: list[str], grid: int = DEFAULT_GRID):
        self.spec = spec
        self.layer_names = list(layer_names)
        cutoff = spec.argument if spec.kind == "highfreq" else DEFAULT_CUTOFF
        self.spectrum = KernelSpectrum(grid, cutoff)

    @property
    def quantity(self) -> str:
        """``high_frequency_ratio`` or ``centroid``: what each layer's value is."""
        return QUANTITY[self.spec.kind]

    def layers(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        modules = dict(model.named_modules())
        missing = [name for name in self.layer_names if name not in modules]
        if missing:
            raise ConfigError(f"spectral regularizer: the model has no layer {missing[0]!r}; build it for this model")
        return [(name, modules[name]) for name in self.layer_names]

    def values(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """Each selected layer's mean over kernels of the high-frequency share or the spectral centroid."""
        measure = self.spectrum.high_frequency_share if self.spec.kind == "highfreq" else self.spectrum.centroid
        return {name: measure(module.weight).mean() for name, module in self.layers(model)}

    def penalty(self, model: nn.Module) -> torch.Tensor:
        """WEIGHT * mean over layers of the share (highfreq) or of (centroid - TARGET)^2 (centroid)."""
        values = torch.stack(list(self.values(model).values()))
        if self.spec.kind == "centroid":
            values = (values - self.spec.argument).square()
        return self.spec.weight * values.mean()

    def summary(self, model: nn.Module) -> dict:
        """``{"spectral_reg": spec, "spectral_penalty": float, "spectral_<quantity>": mean over layers,
        "spectral_<quantity>_by_layer": {name: float}}``, computed without gradients."""
        with torch.no_grad():
            values = {name: float(value) for name, value in self.values(model).items()}
            penalty = float(self.penalty(model))
        return {
            "spectral_reg": self.spec.text,
            "spectral_penalty": penalty,
            f"spectral_{self.quantity}": sum(values.values()) / len(values),
            f"spectral_{self.quantity}_by_layer": values,
        }


def build_regularizer(spec: str | RegularizerSpec | None, model: nn.Module) -> SpectralRegularizer | None:
    """The regularizer of a ``--spectral-reg`` spec on ``model``'s layers, or None for no regularizer.

    Build it on the plain model (before DDP or ``torch.compile`` wrapping) and pass the same plain model to
    ``penalty``/``summary``: layers are looked up by their names in it.
    """
    parsed = parse_regularizer_spec(spec)
    if parsed is None:
        return None
    names = [name for name, _ in spectral_layers(model, parsed.scope)]
    return SpectralRegularizer(parsed, names)


def _kernel_area(module: nn.Module) -> int:
    size = module.kernel_size
    return int(size[0]) * int(size[1]) if isinstance(size, tuple) else int(size) ** 2
