"""The one entry point that builds a model from any source of :mod:`freqprobe.models.sources` (used by ``train``,
``RunFolder.load_model`` and ``filters``), with its weights, input adaptation and a record of how it was made.

A registered name gives freqprobe's own ResNet (:func:`~freqprobe.models.registry.create_model`). Any other source
gives ``PixelSpaceModel(body, in_channels, mean, std, adapter)``: normalization first, so input filters, spectra and
attacks stay in pixel space [0, 1]. The order of work on an external body: build it (random or pretrained weights)
-> load a plain weights file into it -> re-make the classifier for ``num_classes`` -> adapt the stem to the data's
channels -> ``--small-input`` -> wrap. A file saved from a freqprobe model (keys ``normalize.*``/``body.*``) is
loaded into the wrapped model instead, after the same structural steps, which is how a run folder reloads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.normalize import Stats
from freqprobe.models.external_build import CHANNEL_ADAPTERS, PRETRAINED, BuiltModel, build_external
from freqprobe.models.sources import ModelSpec, canonical_model_args, parse_model_args, parse_model_spec

__all__ = ["CHANNEL_ADAPTERS", "PRETRAINED", "BuiltModel", "build_model", "check_output_shape"]


def build_model(
    model: str | ModelSpec,
    in_channels: int = 3,
    num_classes: int | None = 10,
    *,
    model_args: Iterable[str] | None = None,
    weights: str | os.PathLike | None = None,
    channel_adapter: str = "repeat",
    small_input: bool = False,
    mean: Stats | None = None,
    std: Stats | None = None,
    antialias: bool = False,
    conv=None,
    stem_conv=None,
    python_file: str | os.PathLike | None = None,
    width_multiplier: float = 1.0,
) -> BuiltModel:
    """Build ``model`` (a spec string of :data:`freqprobe.models.sources.GRAMMAR`) for (N, in_channels, H, W)
    pixel-space input.

    Args:
        num_classes: outputs; None keeps what the weights (or the library's default, 1000) have.
        model_args: ``KEY=VALUE`` texts, keyword arguments of an external factory.
        weights: None (random init), ``"pretrained"`` (torchvision's/timm's default weights from the local cache;
            their ImageNet mean/std become the normalization) or a ``.safetensors``/``.pt``/``.pth`` file.
        channel_adapter: for 1-channel data on a 3-channel network: ``repeat`` (the grey channel copied, a module
            after the normalization) or ``sum-stem`` (the stem's weights summed over its input channels).
        small_input: the CIFAR-port stem for 32x32 images (:func:`~freqprobe.models.stems.adapt_small_input`).
        antialias, conv, stem_conv: options of freqprobe's own ResNets only.
        width_multiplier: every layer's channels times this, for registered models (an external network's width
            is one of its own ``model_args``).
        python_file: load a ``py:FILE.py:callable`` factory from this file instead (a run folder's copy).

    ``record``: ``spec, kind, model_args, weights, weights_origin, channel_adapter, small_input, classifier,
    normalization {source, mean, std}`` and, for a factory file, ``file`` and ``file_sha256``.

    Raises:
        ConfigError: a bad spec, unknown name, option that does not apply, or data channels the network cannot take.
        WeightsError: unreadable weights, weights that do not fit (missing/unexpected keys in one line), or
            pretrained weights not in the local cache (which file to put where).

    Example:
        >>> built = build_model("resnet20", in_channels=1, num_classes=10)
        >>> built.record["kind"], type(built.model).__name__
        ('registered', 'ResNet')
    """
    spec = parse_model_spec(model)
    args = parse_model_args(model_args)
    record: dict[str, Any] = {"spec": spec.text, "kind": spec.kind, "model_args": canonical_model_args(model_args)}
    if not spec.is_external:
        built = _registered(spec, in_channels, num_classes, args, weights, small_input, mean, std, antialias, conv,
                            stem_conv, width_multiplier)
        record.update(built.record)
        return BuiltModel(built.model, record)
    for option, value in (("antialias", antialias), ("conv", conv), ("stem_conv", stem_conv),
                          ("width_multiplier", width_multiplier != 1.0)):
        if value:
            raise ConfigError(
                f"--{option.replace('_', '-')} applies to freqprobe's own ResNets, not to {spec.text!r}; drop it "
                f"(change an external network's layers in its own factory)"
            )
    if channel_adapter not in CHANNEL_ADAPTERS:
        raise ConfigError(f"channel adapter {channel_adapter!r} is not one of {', '.join(CHANNEL_ADAPTERS)}")
    return build_external(spec, args, record, in_channels, num_classes, weights, channel_adapter, small_input,
                          mean, std, python_file)


def check_model_name(model: str | ModelSpec) -> ModelSpec:
    """Fail now on a model that cannot be built by name: an unknown registered, torchvision or timm name (close
    matches listed), or a ``py:`` factory that cannot be imported. Returns the parsed spec.

    Raises:
        ConfigError: one line naming the model and the fix.
    """
    from freqprobe.models.external import check_library_name, load_factory
    from freqprobe.models.registry import MODELS

    spec = parse_model_spec(model)
    if spec.kind == "registered":
        MODELS.get(spec.name)
    elif spec.kind == "py":
        load_factory(spec)
    else:
        check_library_name(spec)
    return spec


def _registered(spec, in_channels, num_classes, args, weights, small_input, mean, std, antialias, conv, stem_conv,
                width_multiplier):
    from freqprobe.models.registry import create_model
    from freqprobe.models.weight_files import load_fitting, read_state_dict

    if args:
        raise ConfigError(f"--model-arg applies to tv:, timm: and py: models, not to {spec.text!r}; drop it")
    if small_input:
        raise ConfigError(f"--small-input adapts ImageNet stems; {spec.text!r} is built for small images already")
    if weights is not None and str(weights) == PRETRAINED:
        raise ConfigError(f"--weights pretrained is for tv: and timm: models; {spec.text!r} takes --weights FILE")
    model = create_model(
        spec.name, in_channels=in_channels, num_classes=num_classes or 10, antialias=antialias, mean=mean, std=std,
        conv=conv, stem_conv=stem_conv, width_multiplier=width_multiplier,
    )
    record: dict[str, Any] = {"weights": "random initialization", "normalization": _normalization("caller", model)}
    if weights is not None:
        load_fitting(model, read_state_dict(weights), str(weights), spec.text)
        record["weights"] = str(weights)
        record["normalization"] = _normalization(f"weights file {Path(weights).name}", model)
    return BuiltModel(model, record)


def _normalization(source: str, model: nn.Module) -> dict[str, Any]:
    normalize = getattr(model, "normalize", None)
    mean = normalize.mean.tolist() if normalize is not None else None
    std = normalize.std.tolist() if normalize is not None else None
    return {"source": source, "mean": mean, "std": std}


def check_output_shape(model: nn.Module, image_shape: tuple[int, int, int], num_classes: int, what: str) -> None:
    """One forward pass of two zero images in eval mode: the network must give (2, num_classes) logits.

    Raises:
        ConfigError: the network fails on the images or gives another shape (one line naming both).
    """
    reference = next(iter(model.parameters()), torch.empty(0))
    images = torch.zeros(2, *image_shape, dtype=reference.dtype, device=reference.device)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            output = model(images)
    except Exception as error:  # a user's network may raise anything on an input it cannot take
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise ConfigError(
            f"{what} fails on {image_shape[1]}x{image_shape[2]} images with {image_shape[0]} channel(s) ({reason}); "
            f"try --small-input, --channel-adapter or a model made for this size"
        ) from None
    finally:
        model.train(was_training)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (2, num_classes):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ConfigError(
            f"{what} gives {shape} for 2 images, not (2, {num_classes}) logits; make it return one logit per class"
        )
