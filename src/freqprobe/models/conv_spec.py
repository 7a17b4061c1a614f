"""``--conv`` specs: which convolution builds a model's 3x3 layers, as the ``conv``/``stem_conv`` factories of
:func:`freqprobe.models.create_model`.

Grammar (case-insensitive, no spaces needed)::

    standard                                        nn.Conv2d everywhere (the default)
    bandpass[:FAMILY][:KEY=VALUE...][@SCOPE]        BandpassConv2d (freqprobe.models.bandpass)

    FAMILY   gabor (default) | dog
    SCOPE    all (default): every 3x3 conv, stem included | stem: the stem only
    KEY      lo=F_LO (default 0.05), hi=F_HI (default 0.5): the band in cycles/pixel
             per=pair (default) | output: shape parameters per (out, in) kernel, or per output channel plus mixing
             k=K: odd kernel size >= the model's (3); padding grows by (K - 3) / 2 so every output keeps its shape

e.g. ``bandpass:gabor@stem``, ``bandpass:dog@all``, ``bandpass:gabor:k=7:lo=0.1:hi=0.45@stem``,
``bandpass:dog:per=output``. 1x1 projection shortcuts always stay ``nn.Conv2d``. :func:`parse_conv_spec` returns a
:class:`ConvSpec` whose ``text`` is the canonical spec (defaults left out), which parses back to an equal spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.bandpass import PER_MODES, BandpassConv2d
from freqprobe.models.bandpass_families import FAMILIES
from freqprobe.models.blocks import ConvFactory
from freqprobe.specs import Interval, format_number, parse_integer, parse_number

KINDS = ("standard", "bandpass")
SCOPES = ("all", "stem")
OPTION_KEYS = ("lo", "hi", "per", "k")
# The band of a layer's own input lies within Nyquist; the layer itself checks lo < hi.
BAND_EDGE = Interval(0, 0.5, unit="cycles/pixel")
# A stated bound: on the 28-32 pixel images of the datasets a kernel past 63 taps sees only padding, and the
# generated weight (out x in x k x k) of a much larger one would not fit in memory.
KERNEL_SIZES = Interval(3, 63)
GRAMMAR = "standard | bandpass[:FAMILY][:lo=F:hi=F:per=pair|output:k=K][@stem|@all]"


@dataclass(frozen=True)
class ConvSpec:
    """A parsed ``--conv`` spec. ``kind`` "standard" ignores every other field."""

    kind: str = "standard"
    family: str = "gabor"
    scope: str = "all"
    f_lo: float = 0.05
    f_hi: float = 0.5
    per: str = "pair"
    kernel_size: int | None = None  # None: the size the model asks for

    @property
    def text(self) -> str:
        """The canonical spec string: ``standard`` or ``bandpass:FAMILY[:options]@SCOPE`` without default options."""
        if self.kind == "standard":
            return "standard"
        default = ConvSpec(kind="bandpass")
        parts = ["bandpass", self.family]
        if self.f_lo != default.f_lo:
            parts.append(f"lo={format_number(self.f_lo)}")
        if self.f_hi != default.f_hi:
            parts.append(f"hi={format_number(self.f_hi)}")
        if self.per != default.per:
            parts.append(f"per={self.per}")
        if self.kernel_size is not None:
            parts.append(f"k={self.kernel_size}")
        return ":".join(parts) + f"@{self.scope}"


def parse_conv_spec(spec: str | ConvSpec | None) -> ConvSpec:
    """Parse a ``--conv`` value (None and "" mean ``standard``); see the module docstring for the grammar.

    Raises:
        ConfigError: unknown kind, family, scope or option, or an impossible value (one line listing the valid ones).
    """
    if isinstance(spec, ConvSpec):
        return spec
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return ConvSpec()
    if not isinstance(spec, str):
        raise ConfigError(f"--conv must be a string such as 'bandpass:gabor@stem', got {spec!r}")
    text = spec.strip().lower().replace(" ", "")
    body, scope = _split_scope(text, spec)
    kind, *parts = body.split(":")
    if kind not in KINDS:
        raise ConfigError(f"unknown conv kind {kind!r} in --conv {spec!r}; valid: {GRAMMAR}")
    if kind == "standard":
        if parts or scope is not None:
            raise ConfigError(f"--conv {spec!r}: 'standard' takes no family, options or scope; write 'standard'")
        return ConvSpec()
    family = "gabor"
    if parts and "=" not in parts[0]:
        family = parts.pop(0)
        if family not in FAMILIES:
            raise ConfigError(
                f"unknown band-pass family {family!r} in --conv {spec!r}; valid: {', '.join(FAMILIES.names())}"
            )
    options = _parse_options(parts, spec)
    parsed = ConvSpec(kind="bandpass", family=family, scope=scope or "all", **options)
    _check_buildable(parsed, spec)
    return parsed


def conv_factories(spec: str | ConvSpec | None) -> tuple[ConvFactory | None, ConvFactory | None]:
    """``(conv, stem_conv)`` for :func:`freqprobe.models.create_model`: ``(None, None)`` for ``standard``,
    ``(bandpass, None)`` for ``@all`` (the stem follows ``conv``), ``(None, bandpass)`` for ``@stem``."""
    parsed = parse_conv_spec(spec)
    if parsed.kind == "standard":
        return None, None
    factory = bandpass_factory(parsed)
    return (factory, None) if parsed.scope == "all" else (None, factory)


def conv_model_kwargs(spec: str | ConvSpec | None) -> dict[str, ConvFactory | None]:
    """``{"conv": ..., "stem_conv": ...}``: ``create_model(name, ..., **conv_model_kwargs(spec))``."""
    conv, stem_conv = conv_factories(spec)
    return {"conv": conv, "stem_conv": stem_conv}


def bandpass_factory(spec: ConvSpec) -> ConvFactory:
    """A :class:`~freqprobe.models.blocks.ConvFactory` building :class:`BandpassConv2d` layers for ``spec``.

    With ``k=K`` a request for a k x k conv with padding p builds a K x K one with padding p + (K - k) / 2, which has
    the same output size for every input size and stride.
    """

    def build(
        *, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = True
    ) -> BandpassConv2d:
        size, pad = kernel_size, padding
        if spec.kernel_size is not None:
            if spec.kernel_size < kernel_size:
                raise ConfigError(
                    f"--conv {spec.text}: k={spec.kernel_size} is smaller than the model's {kernel_size}x{kernel_size} "
                    f"convs; use k >= {kernel_size}"
                )
            size, pad = spec.kernel_size, padding + (spec.kernel_size - kernel_size) // 2
        return BandpassConv2d(
            in_channels,
            out_channels,
            size,
            stride=stride,
            padding=pad,
            bias=bias,
            family=spec.family,
            f_lo=spec.f_lo,
            f_hi=spec.f_hi,
            per=spec.per,
        )

    return build


def is_conv_layer(module: nn.Module) -> bool:
    """An ``nn.Conv2d`` or a :class:`BandpassConv2d` (the convolutions counted by :func:`count_parameters`)."""
    return isinstance(module, (nn.Conv2d, BandpassConv2d))


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Parameter counts of ``model``: ``total``; ``conv`` (every ``nn.Conv2d`` and :class:`BandpassConv2d`, biases
    included); ``bandpass`` (the band-pass convs alone); ``other`` (``total - conv``: BN, fc, ...).

    Shared parameters count once. For a band-pass conv the count is its band parameters and gains, not the size of
    its generated ``weight``.
    """
    seen: set[int] = set()

    def fresh(parameters) -> int:
        count = 0
        for parameter in parameters:
            if id(parameter) not in seen:
                seen.add(id(parameter))
                count += parameter.numel()
        return count

    conv = bandpass = 0
    for module in model.modules():
        if isinstance(module, BandpassConv2d):
            own = fresh(module.parameters(recurse=False))
            bandpass += own
            conv += own
        elif isinstance(module, nn.Conv2d):
            conv += fresh(module.parameters(recurse=False))
    total = conv + fresh(model.parameters())
    return {"total": total, "conv": conv, "bandpass": bandpass, "other": total - conv}


def _split_scope(text: str, spec: str) -> tuple[str, str | None]:
    if "@" not in text:
        return text, None
    body, scope = text.split("@", 1)
    if scope not in SCOPES:
        raise ConfigError(
            f"unknown scope '@{scope}' in --conv {spec!r}; valid: {', '.join('@' + name for name in SCOPES)}"
        )
    return body, scope


def _parse_options(parts: list[str], spec: str) -> dict:
    options: dict = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or key not in OPTION_KEYS:
            raise ConfigError(
                f"unknown option {part!r} in --conv {spec!r}; valid: {', '.join(k + '=' for k in OPTION_KEYS)} "
                f"(the family, if given, comes first)"
            )
        if key == "per":
            if value not in PER_MODES:
                raise ConfigError(f"per={value!r} in --conv {spec!r} is unknown; valid: {', '.join(PER_MODES)}")
            options["per"] = value
        elif key == "k":
            options["kernel_size"] = _kernel_size(value, spec)
        else:
            options["f_lo" if key == "lo" else "f_hi"] = _band_edge(value, key, spec)
    return options


def _kernel_size(value: str, spec: str) -> int:
    try:
        size = parse_integer(value, "k", KERNEL_SIZES)
    except ConfigError as error:
        raise ConfigError(f"--conv {spec!r}: {error} (odd, such as 7)") from None
    if size % 2 == 0:
        raise ConfigError(f"--conv {spec!r}: k={size} must be odd (a centre tap), such as 7")
    return size


def _band_edge(value: str, key: str, spec: str) -> float:
    try:
        return parse_number(value, key, BAND_EDGE)
    except ConfigError as error:
        raise ConfigError(f"--conv {spec!r}: {error}; e.g. {key}=0.25") from None


def _check_buildable(spec: ConvSpec, original: str) -> None:
    """Build one tiny layer, so an impossible band fails at parse time with the spec in the message."""
    try:
        BandpassConv2d(1, 1, spec.kernel_size or 3, family=spec.family, f_lo=spec.f_lo, f_hi=spec.f_hi, per=spec.per)
    except ConfigError as error:
        raise ConfigError(f"--conv {original!r}: {error}") from None
