"""Networks built outside freqprobe: torchvision and timm classifiers by name, and the user's own factories.

Each builder returns the bare network (the *body*); :mod:`freqprobe.models.build` adapts its input and wraps it in a
:class:`~freqprobe.models.pixel_space.PixelSpaceModel`. Unknown names list the closest valid ones
(``difflib.get_close_matches``), since torchvision has ~80 and timm ~1300 names.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any, Callable

from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.sources import ModelSpec

CLOSE_MATCHES = 5


def torchvision_names() -> list[str]:
    """Every torchvision classification model name (``torchvision.models.list_models(module=torchvision.models)``)."""
    import torchvision.models

    return sorted(torchvision.models.list_models(module=torchvision.models))


def timm_names() -> list[str]:
    import timm

    return timm.list_models()


def check_library_name(spec: ModelSpec) -> None:
    """Fail on a ``tv:``/``timm:`` name the library does not have, listing close matches.

    Raises:
        ConfigError: the unknown name and up to five close valid ones.
    """
    if spec.kind == "tv":
        _check_known(spec, torchvision_names(), "torchvision classification model", "torchvision.models.list_models()")
    elif spec.kind == "timm":
        _check_known(spec, timm_names(), "timm model", "timm.list_models()")


def _check_known(spec: ModelSpec, names: list[str], what: str, listing: str) -> None:
    if spec.name in names:
        return
    close = difflib.get_close_matches(spec.name, names, n=CLOSE_MATCHES, cutoff=0.6)
    hint = f"close: {', '.join(spec.kind + ':' + name for name in close)}" if close else f"see {listing}"
    raise ConfigError(f"unknown {what} {spec.name!r} in model {spec.text!r}; {hint}")


def build_library_body(spec: ModelSpec, num_classes: int | None, model_args: dict[str, Any]) -> nn.Module:
    """A torchvision or timm network with random weights; ``num_classes`` None keeps the library's default
    (1000 ImageNet classes).

    Raises:
        ConfigError: an unknown name, or keyword arguments the constructor refuses (its message, one line).
    """
    check_library_name(spec)
    kwargs = dict(model_args)
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if spec.kind == "tv":
        import torchvision.models

        return _call_factory(spec, lambda **kw: torchvision.models.get_model(spec.name, weights=None, **kw), kwargs)
    import timm

    return _call_factory(spec, lambda **kw: timm.create_model(spec.name, pretrained=False, **kw), kwargs)


def build_python_body(
    spec: ModelSpec, num_classes: int | None, in_channels: int, model_args: dict[str, Any], file: Path | None = None
) -> nn.Module:
    """Call the user's factory with ``model_args`` as keywords, plus ``num_classes`` and ``in_channels`` when its
    signature names them (or takes ``**kwargs``) and the model arguments do not set them. ``file`` overrides the
    spec's ``.py`` path (a run folder's copy of it).

    Raises:
        ConfigError: a file or module that cannot be imported, a missing or non-callable attribute, a factory that
            fails or returns something that is not an ``nn.Module`` (one line, with the factory's own error).
    """
    factory = load_factory(spec, file)
    kwargs = dict(model_args)
    for key, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if value is not None and key not in kwargs and _accepts_keyword(factory, key):
            kwargs[key] = value
    return _call_factory(spec, factory, kwargs)


def load_factory(spec: ModelSpec, file: Path | None = None) -> Callable[..., Any]:
    """The callable named by a ``py:`` spec (imported once; a file is loaded as a module named after its digest)."""
    module = _load_file_module(file or Path(spec.name), spec) if spec.is_file else _import_module(spec)
    factory = getattr(module, spec.attribute or "", None)
    if factory is None:
        raise ConfigError(f"model {spec.text!r}: {spec.name} has no attribute {spec.attribute!r}; name its factory")
    if not callable(factory):
        raise ConfigError(f"model {spec.text!r}: {spec.name}.{spec.attribute} is not callable; name a function or class")
    return factory


def file_digest(path: Path) -> str:
    """sha256 of a factory file (recorded in config.json so a reader can tell whether the file changed)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _import_module(spec: ModelSpec):
    try:
        return importlib.import_module(spec.name)
    except ImportError as error:
        raise ConfigError(
            f"model {spec.text!r}: cannot import {spec.name} ({error}); install it or put it on PYTHONPATH"
        ) from None


def _load_file_module(path: Path, spec: ModelSpec):
    if not path.is_file():
        raise ConfigError(f"model {spec.text!r}: file {path} does not exist; give the path of your .py file")
    resolved = path.resolve()
    name = f"freqprobe_user_model_{file_digest(resolved)[:16]}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(module_spec)
    # the file's own folder first on the path while it runs, so it can import its sibling modules
    sys.path.insert(0, str(resolved.parent))
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # the user's code may raise anything
        raise ConfigError(f"model {spec.text!r}: {path} failed to load ({_first_line(error)}); fix the file") from None
    finally:
        sys.path.remove(str(resolved.parent))
    sys.modules[name] = module
    return module


def _accepts_keyword(factory: Callable[..., Any], key: str) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == key or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _call_factory(spec: ModelSpec, factory: Callable[..., Any], kwargs: dict[str, Any]) -> nn.Module:
    try:
        model = factory(**kwargs)
    except Exception as error:  # torchvision, timm and user factories raise TypeError, ValueError, ...
        given = ", ".join(f"{key}={value!r}" for key, value in kwargs.items()) or "no arguments"
        raise ConfigError(
            f"model {spec.text!r} could not be built with {given} ({_first_line(error)}); check --model-arg"
        ) from None
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model {spec.text!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
