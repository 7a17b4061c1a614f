"""The training configuration: one flat dataclass, built from defaults, a preset, a TOML file and CLI flags.

Precedence, lowest first: field defaults < ``preset`` (per dataset kind) < TOML file < explicit CLI flags.
Every value is validated on construction, so a bad option fails with one line before any data is loaded.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from freqprobe.errors import ConfigError
from freqprobe.train.frequency_augment_spec import APR_MODES, canonical_noise_spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SCHEDULES = ("onecycle", "cosine", "step")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PADDING_MODES = ("reflect", "zero")
BOUNDARIES = ("circular", "reflect")


@dataclass
class TrainConfig:
    """Everything that determines a training run. Field names are the TOML keys and (with ``-``) the CLI flags."""

    dataset: str = ""
    model: str = "resnet20"  # a model spec (freqprobe.models.sources): NAME, tv:NAME, timm:NAME, py:...:callable
    model_args: list[str] = field(default_factory=list)  # --model-arg KEY=VALUE of external factories, canonical
    weights: str | None = None  # None (random init), "pretrained" or a .safetensors/.pt/.pth file
    channel_adapter: str = "repeat"  # 1-channel data on a 3-channel network: "repeat" | "sum-stem"
    small_input: bool = False  # CIFAR-port stem for an ImageNet network (3x3 stride 1, no max-pool)
    filter: str = "none"
    boundary: str = "circular"
    epochs: int = 10
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    schedule: str = "onecycle"
    warmup_fraction: float = 0.25  # onecycle: share of all steps spent rising from lr/25 to lr
    step_size: int = 50  # step schedule: epochs between decays
    step_gamma: float = 0.1  # step schedule: lr factor at each decay
    augment: bool = True
    crop_padding: int = 4
    padding_mode: str = "reflect"  # "reflect" | "zero": how random-crop padding is filled
    flip: bool = True
    cutout: int = 0  # side of the square cut out of every training image (pixels); 0: off
    augment_noise: str | None = None  # "gaussian:SIGMA" added to every training image (train.frequency_augment)
    apr: str = "none"  # amplitude-phase recombination: none | p | s | ps (train.frequency_augment)
    apr_probability: float = 0.5  # share of training images recombined by APR
    tta_flip: bool = False
    tta_translate: int = 0  # test-time augmentation also over shifts by (+t, +t) and (-t, -t) pixels; 0: off
    seed: int = 0
    val_fraction: float = 0.2
    split_seed: int = 0
    data_dir: str | None = None
    antialias: bool = False
    track_kernels: bool = False  # per-layer kernel statistics after every epoch, RUN/kernel_stats.jsonl
    track_features: bool = False  # per-layer feature-map spectra after every epoch, RUN/feature_stats.jsonl
    width_multiplier: float = 1.0  # every layer's channels x this (freqprobe.models.create_model), in (0, 16]
    conv: str = "standard"  # --conv spec (freqprobe.models.conv_spec), stored canonical: "bandpass:gabor@stem"
    spectral_reg: str | None = None  # --spectral-reg spec (freqprobe.train.regularizers), canonical; None: off
    precision: str = "auto"
    channels_last: str | bool = "auto"
    depthwise_fp32: str | bool = "auto"  # depthwise convolutions in fp32 under bf16/fp16 autocast (train.fastpaths)
    compile: bool = False
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    image_size: int | None = None  # folder datasets: short side resized to N, centre crop NxN; None: stored size
    subset: int | None = None  # train on the first N (stratified) training images: quick runs and tests
    limit_eval: int | None = None  # evaluate on the first N (stratified) validation and test images
    eval_batch_size: int = 256  # measured: bf16 CPU inference is ~1.7x faster at 256 than at 1024 (cache)
    preset: str | None = None

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/TOML-friendly values, keyed by field name."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A validated copy with some fields changed."""
        return config_from_dict({**self.to_dict(), **changes})


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TrainConfig))


def config_from_dict(values: Mapping[str, Any], source: str | None = None) -> TrainConfig:
    """A validated :class:`TrainConfig` from ``values`` (missing keys take their defaults; no preset is applied).

    Raises:
        ConfigError: an unknown key (the message lists the valid ones) or an invalid value; ``source`` (a file
            name) prefixes the message when given.
    """
    prefix = f"{source}: " if source else ""
    unknown = [key for key in values if key not in FIELD_NAMES]
    if unknown:
        raise ConfigError(f"{prefix}unknown config key {unknown[0]!r}; valid keys: {', '.join(FIELD_NAMES)}")
    try:
        return TrainConfig(**dict(values))
    except ConfigError as error:
        if not source:
            raise
        raise _keyed_error(f"{prefix}{error}", getattr(error, "key", None)) from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """The key/value pairs of a flat TOML config file.

    Raises:
        ConfigError: missing or unreadable file, a syntax error (with its line), a table or an unknown key
            (with the line it is on).
    """
    path = Path(path)
    text = _read_text(path)
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: invalid TOML: {error}; fix the syntax") from None
    for key, value in values.items():
        where = f"{path}:{_line_of_key(text, key)}"
        if isinstance(value, dict):
            raise ConfigError(f"{where}: table [{key}] is not allowed; write the training options as top-level keys")
        if key not in FIELD_NAMES:
            raise ConfigError(f"{where}: unknown config key {key!r}; valid keys: {', '.join(FIELD_NAMES)}")
    return values


def config_from_toml(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """A :class:`TrainConfig` from a TOML file: its ``preset`` (if any) first, then the file, then ``overrides``
    (the CLI flags the user typed).

    Raises:
        ConfigError: as :func:`read_toml`, or an invalid value; a bad value that comes from the file is reported
            as ``FILE:LINE``.
    """
    path = Path(path)
    values = read_toml(path)
    overrides = dict(overrides or {})
    try:
        return resolve_config(values, overrides)
    except ConfigError as error:
        key = getattr(error, "key", None)
        if key in values and key not in overrides:
            line = _line_of_key(_read_text(path), key)
            raise _keyed_error(f"{path}:{line}: {error}", key) from None
        raise


def resolve_config(file_values: Mapping[str, Any], flag_values: Mapping[str, Any]) -> TrainConfig:
    """Merge defaults < preset < ``file_values`` < ``flag_values``; the preset is chosen by the merged
    ``preset`` and ``dataset`` keys (flags win over the file for both).

    Raises:
        ConfigError: an unknown preset, key or invalid value.
    """
    from freqprobe.train.presets import preset_values

    merged = {**file_values, **flag_values}
    preset = merged.get("preset")
    base = preset_values(preset, merged.get("dataset") or "") if preset else {}
    return config_from_dict({**base, **merged})


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read ({error}); pass a UTF-8 TOML file") from None


def _keyed_error(message: str, key: str | None) -> ConfigError:
    """A ConfigError that remembers which config key it is about, so callers can point at the key's source."""
    error = ConfigError(message)
    error.key = key  # type: ignore[attr-defined]
    return error


def _line_of_key(text: str, key: str) -> int | str:
    """The 1-based line where ``key`` is assigned (or a table header), '?' when not found."""
    pattern = re.compile(rf"^\s*(\[\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return "?"


# ---------------------------------------------------------------------------------------------------- validation


def _validate(config: TrainConfig) -> None:
    _check_type(config, "dataset", str)
    _check_type(config, "model", str)
    _check_type(config, "filter", str)
    _check_choice(config, "boundary", BOUNDARIES)
    _check_int(config, "epochs", minimum=1)
    _check_int(config, "batch_size", minimum=1)
    _check_positive_float(config, "lr")
    _check_float_range(config, "momentum", 0.0, 1.0, high_open=True)
    _check_type(config, "nesterov", bool)
    _check_float_range(config, "weight_decay", 0.0, math.inf)
    _check_float_range(config, "label_smoothing", 0.0, 1.0, high_open=True)
    _check_choice(config, "schedule", SCHEDULES)
    _check_float_range(config, "warmup_fraction", 0.0, 1.0, high_open=True)
    _check_int(config, "step_size", minimum=1)
    _check_positive_float(config, "step_gamma")
    _check_type(config, "augment", bool)
    _check_int(config, "crop_padding", minimum=0)
    _check_choice(config, "padding_mode", PADDING_MODES)
    _check_type(config, "flip", bool)
    _check_int(config, "cutout", minimum=0)
    config.augment_noise = _canonical_noise(config.augment_noise)
    _check_choice(config, "apr", APR_MODES)
    _check_float_range(config, "apr_probability", 0.0, 1.0)
    _check_type(config, "tta_flip", bool)
    _check_int(config, "tta_translate", minimum=0)
    _check_int(config, "seed", minimum=0)
    _check_float_range(config, "val_fraction", 0.0, 1.0, low_open=True, high_open=True)
    _check_int(config, "split_seed", minimum=0)
    _check_optional(config, "data_dir", str)
    _check_type(config, "antialias", bool)
    _check_type(config, "track_kernels", bool)
    _check_type(config, "track_features", bool)
    _check_float_range(config, "width_multiplier", 0.0, 16.0, low_open=True)
    config.conv = _canonical_conv(config.conv)
    config.spectral_reg = _canonical_spectral_reg(config.spectral_reg)
    _check_model_source(config)
    _check_choice(config, "precision", PRECISIONS)
    config.channels_last = _normalized_auto_bool("channels_last", config.channels_last)
    config.depthwise_fp32 = _normalized_auto_bool("depthwise_fp32", config.depthwise_fp32)
    _check_type(config, "compile", bool)
    _check_device(config.device)
    _check_optional_int(config, "image_size", minimum=1)
    if config.image_size is not None and config.image_size > 4096:
        _fail("image_size", config.image_size, "at most 4096 pixels")
    _check_optional_int(config, "subset", minimum=2)
    _check_optional_int(config, "limit_eval", minimum=1)
    _check_int(config, "eval_batch_size", minimum=1)
    _check_optional(config, "preset", str)
    config.lr = float(config.lr)
    if config.nesterov and config.momentum == 0:
        raise _keyed_error("nesterov = true needs momentum > 0; set momentum (e.g. 0.9) or nesterov = false", "nesterov")


def _fail(name: str, value: Any, wanted: str) -> None:
    raise _keyed_error(f"{name} must be {wanted}, got {value!r}", name)


def _check_type(config: TrainConfig, name: str, kind: type) -> None:
    value = getattr(config, name)
    if kind is bool and not isinstance(value, bool):
        _fail(name, value, "true or false")
    if not isinstance(value, kind):
        _fail(name, value, f"a {kind.__name__}")


def _check_optional(config: TrainConfig, name: str, kind: type) -> None:
    if getattr(config, name) is not None:
        _check_type(config, name, kind)


def _check_int(config: TrainConfig, name: str, minimum: int) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(name, value, f"an integer >= {minimum}")


def _check_optional_int(config: TrainConfig, name: str, minimum: int) -> None:
    if getattr(config, name) is not None:
        _check_int(config, name, minimum)


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(name, value, "a finite number")
    return float(value)


def _check_positive_float(config: TrainConfig, name: str) -> None:
    value = _as_float(name, getattr(config, name))
    if value <= 0:
        _fail(name, value, "> 0")
    setattr(config, name, value)


def _check_float_range(
    config: TrainConfig, name: str, low: float, high: float, low_open: bool = False, high_open: bool = False
) -> None:
    value = getattr(config, name)
    number = _as_float(name, value)
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        _fail(name, value, f"in {interval}")
    setattr(config, name, float(number))


def _check_choice(config: TrainConfig, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(config, name)
    if value not in choices:
        _fail(name, value, f"one of {', '.join(choices)}")


def _normalized_auto_bool(name: str, value: Any) -> str | bool:
    """``auto``, or the bool of true/on/false/off."""
    if isinstance(value, bool) or value == "auto":
        return value
    if value in ("on", "true"):
        return True
    if value in ("off", "false"):
        return False
    _fail(name, value, "auto, true or false")
    return value  # unreachable


def _canonical_noise(value: Any) -> str | None:
    """The canonical ``--augment-noise`` spec (``gaussian:0.1``), None when off."""
    if value is None or value == "none":
        return None
    if not isinstance(value, str):
        _fail("augment_noise", value, "a string such as 'gaussian:0.1'")
    try:
        return canonical_noise_spec(value)
    except ConfigError as error:
        raise _keyed_error(str(error), "augment_noise") from None


def _canonical_conv(value: Any) -> str:
    """The canonical text of a ``--conv`` spec, so equal layers give equal configs (and resume checks agree)."""
    if value is None or value == "standard":
        return "standard"  # the common case needs no torch import
    if not isinstance(value, str):
        _fail("conv", value, "a string such as 'standard' or 'bandpass:gabor@stem'")
    from freqprobe.models.conv_spec import parse_conv_spec

    try:
        return parse_conv_spec(value).text
    except ConfigError as error:
        raise _keyed_error(str(error), "conv") from None


def _canonical_spectral_reg(value: Any) -> str | None:
    """The canonical text of a ``--spectral-reg`` spec (e.g. ``highfreq:0.1:0.25@all``), None when off."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if not isinstance(value, str):
        _fail("spectral_reg", value, "a string such as 'highfreq:0.1' or 'none'")
    from freqprobe.train.regularizers import parse_regularizer_spec

    try:
        return parse_regularizer_spec(value).text
    except ConfigError as error:
        raise _keyed_error(str(error), "spectral_reg") from None


def _check_model_source(config: TrainConfig) -> None:
    """The model spec and its options, canonical; options that do not apply to the kind of model are refused."""
    from freqprobe.models.sources import canonical_model_args, parse_model_spec

    try:
        spec = parse_model_spec(config.model)
    except ConfigError as error:
        raise _keyed_error(str(error), "model") from None
    config.model = spec.text
    if isinstance(config.model_args, str) or not isinstance(config.model_args, (list, tuple)):
        _fail("model_args", config.model_args, 'a list of "KEY=VALUE" texts')
    try:
        config.model_args = canonical_model_args(config.model_args)
    except ConfigError as error:
        raise _keyed_error(str(error), "model_args") from None
    _check_optional(config, "weights", str)
    _check_choice(config, "channel_adapter", ("repeat", "sum-stem"))
    _check_type(config, "small_input", bool)
    if spec.is_external:
        for key, off in (("antialias", False), ("conv", "standard")):
            if getattr(config, key) != off:
                raise _keyed_error(
                    f"{key} applies to freqprobe's own ResNets, not to {spec.text!r}; drop it (change an external "
                    f"network's layers in its own factory)", key,
                )
        return
    for key, off, why in (
        ("model_args", [], "--model-arg applies to tv:, timm: and py: models"),
        ("small_input", False, "--small-input adapts ImageNet stems; registered models are built for small images"),
    ):
        if getattr(config, key) != off:
            raise _keyed_error(f"{why}, not to {spec.text!r}; drop it", key)
    if config.weights == "pretrained":
        raise _keyed_error(f"weights = pretrained is for tv: and timm: models; {spec.text!r} takes a file", "weights")


def _check_device(value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", value):
        _fail("device", value, "auto, cpu, cuda or cuda:N")
