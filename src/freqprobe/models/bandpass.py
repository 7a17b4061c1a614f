"""Band-pass convolutions: every kernel is generated from a few learnable parameters of a band-pass family.

:class:`BandpassConv2d` is a drop-in for ``nn.Conv2d`` (same call signature, input and output shapes; groups and
dilation 1). Its ``weight`` is a read-only property holding the generated (out, in, kh, kw) kernels, so the kernel
spectrum analysis and the spectral regularizers treat it like any convolution.

The kernel families (``gabor``, ``dog``), their coordinates, formulas, bounds and measured band limits are in
:mod:`freqprobe.models.bandpass_families`.

Each component is scaled to unit L2 norm and multiplied by a learnable signed gain. ``per="pair"`` gives every
(output, input) kernel its own shape parameters and gains (``amplitude``, (out, in, C), C = 2 for gabor, 1 for dog);
``per="output"`` gives each output channel one shape, shared by all its inputs, and a learnable mixing matrix
``mixing`` (out, in, C): kernel[o, i] = sum_c mixing[o, i, c] component_c[o] / |component_c[o]|.

Parameter count per layer (O outputs, I inputs, any kernel size): gabor pair 5 O I, output 3 O + 2 O I; dog pair
3 O I, output 2 O + O I; plus O for a bias. A 3x3 ``nn.Conv2d`` has 9 O I.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.bandpass_families import FAMILIES

NYQUIST = 0.5
PER_MODES = ("pair", "output")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class BandpassConv2d(nn.Module):
    """A 2-D convolution whose kernels are learnable band-pass filters.

    The families: :mod:`freqprobe.models.bandpass_families`.

    Drop-in for ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=1, groups=1, bias,
    padding_mode)``: input (N, in_channels, H, W) -> output (N, out_channels, H', W') with H', W' as ``nn.Conv2d``.
    ``weight`` is the generated (out_channels, in_channels, kh, kw) tensor (recomputed on each access, differentiable
    with respect to the band parameters); it is not a Parameter, so the state dict holds only the band parameters.

    Args:
        kernel_size: odd int or pair of odd ints.
        family: ``"gabor"`` or ``"dog"`` (:data:`FAMILIES`).
        f_lo, f_hi: the band in cycles/pixel, 0 <= f_lo < f_hi <= 0.5, of the layer's own input (after one stride-2
            stage, [f_lo, f_hi] of a layer is [f_lo / 2, f_hi / 2] in the image's cycles/pixel).
        per: ``"pair"`` (shape parameters and gains per (out, in) kernel) or ``"output"`` (one shape per output
            channel, mixed over the inputs by a learnable (out, in, C) matrix).

    Parameters: the family's raw shape parameters (:attr:`shape_parameter_names`, each (O, I) for ``per="pair"`` or
    (O,) for ``per="output"``), the gains ``amplitude`` (``per="pair"``) or ``mixing`` (``per="output"``), both
    (O, I, C) with C the family's number of components (gabor 2: even, odd; dog 1), and ``bias`` (O,) if requested.

    Raises:
        ConfigError: unknown family/per/padding mode, an even kernel size or one below 3, a band outside [0, 0.5] or
            empty, dilation or groups other than 1, non-positive channel counts.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = False,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        family: str = "gabor",
        f_lo: float = 0.05,
        f_hi: float = 0.5,
        per: str = "pair",
    ):
        super().__init__()
        _check_channels(in_channels, out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _odd_kernel_size(kernel_size)
        self.stride = _pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", minimum=0)
        self.dilation = _only_one(dilation, "dilation")
        self.groups = _only_one(groups, "groups")[0]
        if padding_mode not in PADDING_MODES:
            raise ConfigError(f"unknown padding_mode {padding_mode!r}; valid: {', '.join(PADDING_MODES)}")
        self.padding_mode = padding_mode
        self.f_lo, self.f_hi = _checked_band(f_lo, f_hi)
        if per not in PER_MODES:
            raise ConfigError(f"unknown per {per!r} for a band-pass conv; valid: {', '.join(PER_MODES)}")
        self.per = per
        self.family = FAMILIES.get(family)(self.f_lo, self.f_hi, self.kernel_size)

        factory = {"device": device, "dtype": dtype}
        shape_dims = (out_channels, in_channels) if per == "pair" else (out_channels,)
        for name in self.family.shape_parameters:
            self.register_parameter(name, nn.Parameter(torch.empty(shape_dims, **factory)))
        self.gain_name = "amplitude" if per == "pair" else "mixing"
        gain_shape = (out_channels, in_channels, len(self.family.components))
        self.register_parameter(self.gain_name, nn.Parameter(torch.empty(gain_shape, **factory)))
        self.register_parameter("bias", nn.Parameter(torch.empty(out_channels, **factory)) if bias else None)
        self.reset_parameters()

    @property
    def shape_parameter_names(self) -> tuple[str, ...]:
        """Names of the raw band (shape) parameters; see :meth:`parameters_without_weight_decay`."""
        return self.family.shape_parameters

    def raw_shape_parameters(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in self.family.shape_parameters}

    def reset_parameters(self) -> None:
        """Random band parameters over the whole allowed range; gains N(0, 2 / (C in_channels)), so each kernel's
        expected squared norm is 2 / in_channels and a layer's output variance for white input matches Kaiming
        (He et al. 2015) fan-in initialization; bias 0."""
        with torch.no_grad():
            self.family.initialize(self.raw_shape_parameters())
            fan_in = self.in_channels * len(self.family.components)
            nn.init.normal_(getattr(self, self.gain_name), 0.0, math.sqrt(2.0 / fan_in))
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def parameters_without_weight_decay(self) -> list[nn.Parameter]:
        """The raw shape parameters: decaying them would pull logits to mid-range and orientations towards 0, a bias
        that has nothing to do with the kernels' size; only the gains (amplitude/mixing) carry the scale."""
        return list(self.raw_shape_parameters().values())

    def unit_shapes(self) -> torch.Tensor:
        """The unit-norm component shapes: (O, I, C, kh, kw) for ``per="pair"``, (O, C, kh, kw) for ``per="output"``."""
        reference = getattr(self, self.gain_name)
        ys, xs = tap_offsets(self.kernel_size, reference.dtype, reference.device)
        shapes = self.family.shapes(self.raw_shape_parameters(), ys, xs)
        norm = torch.linalg.vector_norm(shapes, dim=(-2, -1), keepdim=True)
        # The floor only matters for a degenerate shape (all taps ~0), where it keeps the kernel ~0 instead of NaN.
        return shapes / norm.clamp_min(torch.finfo(shapes.dtype).tiny ** 0.25)

    @property
    def weight(self) -> torch.Tensor:
        """The generated kernels, (out_channels, in_channels, kh, kw), differentiable."""
        shapes = self.unit_shapes()
        gains = getattr(self, self.gain_name)
        if self.per == "pair":
            return torch.einsum("oic,oicyx->oiyx", gains, shapes)
        return torch.einsum("oic,ocyx->oiyx", gains, shapes)

    def band_parameters(self) -> dict[str, torch.Tensor]:
        """The family's parameters in physical units plus the gains, detached: gabor ``frequency``, ``bandwidth``,
        ``sigma``, ``orientation`` (mod pi); dog ``peak_frequency``, ``narrow_scale``, ``wide_scale``,
        ``sigma_narrow``, ``sigma_wide``, ``ratio``; and ``amplitude`` or ``mixing`` (O, I, C). For gabor also
        ``norm`` sqrt(even^2 + odd^2) (each kernel's L2 norm with ``per="pair"``, as the two components are
        orthogonal) and ``phase`` atan2(-odd, even): the kernel is ~ norm * envelope * cos(2 pi f0 u + phase)."""
        with torch.no_grad():
            values = self.family.physical(self.raw_shape_parameters())
            gains = getattr(self, self.gain_name).detach().clone()
            values[self.gain_name] = gains
            if self.family.components == ("even", "odd"):
                values["norm"] = torch.linalg.vector_norm(gains, dim=-1)
                values["phase"] = torch.atan2(-gains[..., 1], gains[..., 0])
        return values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if self.padding_mode == "zeros":
            return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if isinstance(self.padding, str):
            raise ConfigError(f"padding {self.padding!r} needs padding_mode 'zeros'; give the padding as integers")
        pad_h, pad_w = self.padding
        x = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode=self.padding_mode)
        return F.conv2d(x, weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, family={self.family.name}, band=[{self.f_lo:g}, {self.f_hi:g}], per={self.per}"
        )
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text + ("" if self.bias is not None else ", bias=False")


def band_shape_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The raw shape parameters of every :class:`BandpassConv2d` in ``model``: the ones to exempt from weight decay
    (see :meth:`BandpassConv2d.parameters_without_weight_decay`)."""
    found: list[nn.Parameter] = []
    for module in model.modules():
        if isinstance(module, BandpassConv2d):
            found.extend(module.parameters_without_weight_decay())
    return found


def tap_offsets(kernel_size: tuple[int, int], dtype: torch.dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column offsets of the taps from the kernel's centre: (kh, 1) and (1, kw)."""
    kh, kw = kernel_size
    ys = torch.arange(kh, dtype=dtype, device=device).reshape(kh, 1) - (kh - 1) / 2
    xs = torch.arange(kw, dtype=dtype, device=device).reshape(1, kw) - (kw - 1) / 2
    return ys, xs


def bandpass_parameter_count(
    in_channels: int, out_channels: int, family: str = "gabor", per: str = "pair", bias: bool = False
) -> int:
    """Parameters of one :class:`BandpassConv2d` (independent of the kernel size)."""
    kind = FAMILIES.get(family)
    if per not in PER_MODES:
        raise ConfigError(f"unknown per {per!r} for a band-pass conv; valid: {', '.join(PER_MODES)}")
    kernels = out_channels * in_channels
    shapes = len(kind.shape_parameters) * (kernels if per == "pair" else out_channels)
    return shapes + len(kind.components) * kernels + (out_channels if bias else 0)


def _check_channels(in_channels: object, out_channels: object) -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _pair(value: object, name: str, minimum: int = 1) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair):
        raise ConfigError(f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _odd_kernel_size(value: object) -> tuple[int, int]:
    pair = _pair(value, "kernel_size")
    if pair[0] % 2 == 0 or pair[1] % 2 == 0 or min(pair) < 3:
        raise ConfigError(f"band-pass kernels need an odd kernel_size >= 3 (a centre tap), got {value!r}; use 3 or 7")
    return pair


def _only_one(value: object, name: str) -> tuple[int, int]:
    pair = _pair(value, name)
    if pair != (1, 1):
        raise ConfigError(f"BandpassConv2d supports only {name}=1, got {value!r}")
    return pair


def _checked_band(f_lo: object, f_hi: object) -> tuple[float, float]:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (f_lo, f_hi))
    if not numbers or not (0.0 <= f_lo < f_hi <= NYQUIST):
        raise ConfigError(
            f"band [{f_lo}, {f_hi}] must satisfy 0 <= f_lo < f_hi <= {NYQUIST} cycles/pixel; e.g. f_lo=0.05, f_hi=0.5"
        )
    return float(f_lo), float(f_hi)
