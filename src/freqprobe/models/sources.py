"""The one grammar for naming a model, parsed here for every command (``train``, ``filters``, the Python API).

    resnet20                      a registered name (``freqprobe.models.MODELS``)
    tv:NAME                       a torchvision classification model (``torchvision.models.get_model``)
    timm:NAME                     a timm model (``timm.create_model``)
    py:package.module:callable    the user's factory, imported from an installed module
    py:path/to/file.py:callable   the user's factory, loaded from a Python file

``--model-arg KEY=VALUE`` options (repeatable) become keyword arguments of the factory; values read as int, float,
true/false, else text. This module imports no torch, so the CLI parser and :class:`TrainConfig` validation use it
freely; building the model is :mod:`freqprobe.models.build`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

from freqprobe.errors import ConfigError

KINDS = ("registered", "tv", "timm", "py")
GRAMMAR = "NAME (registered) | tv:NAME | timm:NAME | py:package.module:callable | py:path/to/file.py:callable"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MODULE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model name. ``kind``: one of :data:`KINDS`; ``name``: the registered/torchvision/timm name, or for
    ``py`` the module path or file; ``attribute``: the factory's name (``py`` only)."""

    kind: str
    name: str
    attribute: str | None = None

    @property
    def text(self) -> str:
        """The canonical spec string (what config.json records)."""
        if self.kind == "registered":
            return self.name
        if self.kind == "py":
            return f"py:{self.name}:{self.attribute}"
        return f"{self.kind}:{self.name}"

    @property
    def is_external(self) -> bool:
        """Built outside freqprobe (wrapped in a :class:`~freqprobe.models.pixel_space.PixelSpaceModel`)."""
        return self.kind != "registered"

    @property
    def is_file(self) -> bool:
        """A ``py:`` factory read from a ``.py`` file (not an importable module)."""
        return self.kind == "py" and self.name.endswith(".py")


def parse_model_spec(text: Any) -> ModelSpec:
    """Parse a model name of :data:`GRAMMAR`. Only the form is checked: whether the name exists is checked when the
    model is built (that needs torchvision, timm or the user's code).

    Raises:
        ConfigError: an empty or malformed spec, naming it and the grammar.

    Example:
        >>> parse_model_spec("tv:mobilenet_v2")
        ModelSpec(kind='tv', name='mobilenet_v2', attribute=None)
        >>> parse_model_spec("py:nets/mynet.py:build").text
        'py:nets/mynet.py:build'
        >>> parse_model_spec("resnet20").is_external
        False
    """
    if isinstance(text, ModelSpec):
        return text
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"model {text!r} is not a model name; use {GRAMMAR}")
    text = text.strip()
    prefix, colon, rest = text.partition(":")
    if not colon:
        return ModelSpec("registered", text)
    if prefix in ("tv", "timm"):
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", rest):
            raise ConfigError(f"model {text!r}: {prefix}: needs a model name such as {prefix}:resnet18; use {GRAMMAR}")
        return ModelSpec(prefix, rest)
    if prefix == "py":
        return _parse_python_factory(text, rest)
    raise ConfigError(f"model {text!r} has an unknown prefix {prefix + ':'!r}; use {GRAMMAR}")


def _parse_python_factory(text: str, rest: str) -> ModelSpec:
    target, colon, attribute = rest.rpartition(":")
    if not colon or not target or not _IDENTIFIER.fullmatch(attribute):
        raise ConfigError(
            f"model {text!r}: py: needs a module or file and a callable, e.g. py:mypackage.nets:build or "
            f"py:mynet.py:build"
        )
    if not target.endswith(".py") and not _MODULE_PATH.fullmatch(target):
        raise ConfigError(
            f"model {text!r}: {target!r} is neither a dotted module name nor a .py file; e.g. py:mynet.py:build"
        )
    return ModelSpec("py", target, attribute)


def parse_model_arg_value(text: str) -> bool | int | float | str:
    """``true``/``false`` -> bool, an integer -> int, a finite number -> float, anything else stays text.

    Example:
        >>> [parse_model_arg_value(v) for v in ("true", "4", "0.5", "1e-3", "gelu")]
        [True, 4, 0.5, 0.001, 'gelu']
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def parse_model_args(items: Iterable[str] | None) -> dict[str, bool | int | float | str]:
    """``["width=2", "drop_rate=0.1"]`` -> ``{"width": 2, "drop_rate": 0.1}`` (a later key wins).

    Raises:
        ConfigError: an item without ``=`` or whose key is not a Python identifier.

    Example:
        >>> parse_model_args(["width=2", "act=relu", "bias=false"])
        {'width': 2, 'act': 'relu', 'bias': False}
    """
    parsed: dict[str, bool | int | float | str] = {}
    for item in items or ():
        if not isinstance(item, str):
            raise ConfigError(f"--model-arg {item!r} must be text KEY=VALUE, e.g. --model-arg width=2")
        key, equals, value = item.partition("=")
        key = key.strip()
        if not equals or not _IDENTIFIER.fullmatch(key):
            raise ConfigError(f"--model-arg {item!r} is not KEY=VALUE with a Python name as KEY; e.g. --model-arg width=2")
        parsed[key] = parse_model_arg_value(value)
    return parsed


def canonical_model_args(items: Iterable[str] | None) -> list[str]:
    """The model arguments as sorted ``KEY=VALUE`` texts of their parsed values (what config.json records), so
    ``width=02`` and ``width=2`` make the same run."""
    return [f"{key}={_value_text(value)}" for key, value in sorted(parse_model_args(items).items())]


def _value_text(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)

