"""Where a model to analyse comes from: a run folder, a model spec (``resnet20``, ``tv:NAME``, ``timm:NAME``,
``py:...``; :mod:`freqprobe.models.sources`) with optional weights, a weights file plus a model spec, or an nn.Module.

Also finds a model's convolutions and traces the spatial size of each one's input, which the exact singular values
need (:mod:`freqprobe.analysis.singular`).

A run folder is read through :class:`freqprobe.runs.RunFolder` (config, channels, classes, ``conv``, image size,
weights; one line naming the file and the fix when a piece is missing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import torch
from torch import nn

from freqprobe.errors import ConfigError, FreqprobeError

STATE_DICT_SUFFIXES = (".pt", ".pth")
DEFAULT_INPUT_SIZE = 32
IMAGENET_INPUT_SIZE = 224  # default dummy input of an external network without --small-input


@dataclass
class ModelSource:
    """A loaded model and what is known about the inputs it expects."""

    model: nn.Module
    description: str  # the path it came from, or "nn.Module <ClassName>"
    model_name: str | None  # registered name, when known
    in_channels: int
    input_size: int  # default side of the square dummy input used to trace layer input sizes
    dataset: str | None = None
    record: dict[str, Any] | None = None  # how the model was made (freqprobe.models.build.build_model's record)


SourceLike = Union[nn.Module, ModelSource, str, os.PathLike]


def load_model_source(
    source: SourceLike,
    model_name: str | None = None,
    in_channels: int | None = None,
    num_classes: int | None = None,
    *,
    weights: str | os.PathLike | None = None,
    model_args: list[str] | None = None,
    channel_adapter: str = "repeat",
    small_input: bool = False,
) -> ModelSource:
    """Resolve ``source``: an nn.Module, a :class:`ModelSource`, a run folder, a ``.safetensors``/``.pt``/``.pth``
    file (with ``model_name``, a model spec), or a model spec itself (with optional ``weights``: a file or
    ``"pretrained"``).

    A registered model needs ``in_channels`` with a weights file; an external one (``tv:``, ``timm:``, ``py:``)
    defaults to 3 channels and, without ``small_input``, a 224-pixel dummy input. ``num_classes`` defaults to the
    weights' (their classifier rows), else 10 (registered) or the library's 1000. For a run folder, explicit
    arguments override what config.json records.

    Raises:
        FreqprobeError: missing path, folder without config.json, file without model name or channels, weights that
            do not fit the model (one line naming the file and the fix), an unknown model name.
    """
    if isinstance(source, ModelSource):
        return source
    if isinstance(source, nn.Module):
        return _module_source(source, model_name, in_channels)
    path = Path(source)
    if path.is_dir():
        if weights is not None or model_args or small_input:
            raise ConfigError(
                f"{path} is a run folder, which records its model and weights; drop --weights, --model-arg and "
                f"--small-input (they are for a model name SOURCE)"
            )
        return _run_folder_source(path, model_name, in_channels, num_classes)
    options = dict(model_args=model_args, channel_adapter=channel_adapter, small_input=small_input)
    if path.is_file():
        if path.suffix not in (".safetensors", *STATE_DICT_SUFFIXES):
            raise FreqprobeError(f"{path} is neither a run folder nor a .safetensors/.pt/.pth weights file")
        if model_name is None:
            raise ConfigError(f"weights file {path} needs --model NAME (and --in-channels C for a registered model)")
        return _spec_source(model_name, path, in_channels, num_classes, options)
    if _looks_like_spec(str(source)):
        return _spec_source(str(source), weights, in_channels, num_classes, options)
    raise FreqprobeError(
        f"model source {path} does not exist; pass a run folder, a weights file, or a model name "
        f"(resnet20, tv:NAME, timm:NAME, py:module:callable)"
    )


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(qualified name, module) of every 2-D convolution in definition order.

    A convolution is an ``nn.Conv2d`` or any module exposing a 4-D ``weight`` with ``stride``, ``dilation`` and
    ``groups`` (a drop-in replacement whose weight is generated); transposed convolutions are not. Modules inside an
    included convolution are skipped, so a drop-in that wraps an ``nn.Conv2d`` counts once.
    """
    found: list[tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        if any(name.startswith(f"{parent}.") for parent, _ in found):
            continue
        if _is_conv2d(module):
            found.append((name, module))
    return found


def skipped_convolutions(model: nn.Module) -> list[dict[str, str]]:
    """Convolutions :func:`conv_layers` leaves out, each ``{"name", "type", "reason"}`` in definition order:
    transposed, 1-D and 3-D convolutions, quantized ones and lazy ones never run (no weight yet).

    Example:
        >>> from torch import nn
        >>> [entry["name"] for entry in skipped_convolutions(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv1d(2, 2, 3)))]
        ['1']
    """
    analysed = [name for name, _ in conv_layers(model)]
    skipped = []
    for name, module in model.named_modules():
        if name in analysed or any(name.startswith(f"{parent}.") for parent in analysed):
            continue
        reason = _unanalysable_reason(module)
        if reason is not None:
            skipped.append({"name": name, "type": type(module).__name__, "reason": reason})
    return skipped


def trace_conv_input_sizes(
    model: nn.Module, in_channels: int, input_size: int | tuple[int, int], description: str = "the model"
) -> dict[str, tuple[int, int]]:
    """Spatial (H, W) of each convolution's input for one dummy (1, in_channels, S, S) forward pass in eval mode.

    Convolutions the forward pass does not reach are absent from the result. The model's train/eval mode is restored.

    Raises:
        FreqprobeError: the model fails on the dummy input (wrong channels or a size it cannot take).
    """
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    sizes: dict[str, tuple[int, int]] = {}
    handles = [
        module.register_forward_pre_hook(_size_recorder(name, sizes)) for name, module in conv_layers(model)
    ]
    was_training = model.training
    reference = next(iter(model.parameters()), torch.empty(0))
    dummy = torch.zeros(1, in_channels, *size, dtype=reference.dtype, device=reference.device)
    try:
        model.eval()
        with torch.no_grad():
            model(dummy)
    except Exception as error:  # a user's model may raise anything on an input it cannot take
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise FreqprobeError(
            f"{description} fails on a dummy input of shape {tuple(dummy.shape)} ({reason}); "
            f"pass the input size and channels it expects (--input-size, --in-channels)"
        ) from None
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return sizes


def _module_source(model: nn.Module, model_name: str | None, in_channels: int | None) -> ModelSource:
    layers = conv_layers(model)
    if in_channels is None:
        if not layers:
            raise ConfigError(f"{type(model).__name__} has no Conv2d layer; nothing to analyse")
        first = layers[0][1]
        in_channels = int(first.weight.shape[1]) * int(first.groups)
    return ModelSource(
        model=model,
        description=f"nn.Module {type(model).__name__}",
        model_name=model_name,
        in_channels=in_channels,
        input_size=DEFAULT_INPUT_SIZE,
    )


def _run_folder_source(
    folder: Path, model_name: str | None, in_channels: int | None, num_classes: int | None
) -> ModelSource:
    from freqprobe.runs import RunFolder

    run = RunFolder(folder)
    name = model_name or run.model_name
    dataset = run.dataset
    model = run.load_model(name, in_channels, num_classes)
    channels = in_channels or run.in_channels()
    return ModelSource(model, str(folder), name, int(channels), run.image_shape()[1], dataset, run.model_source or None)


def _looks_like_spec(text: str) -> bool:
    """A registered model name, or text with a model-source prefix (``tv:``, ``timm:``, ``py:``)."""
    from freqprobe.models import MODELS

    return text in MODELS or text.partition(":")[0] in ("tv", "timm", "py")


def _spec_source(
    model: str, weights, in_channels: int | None, num_classes: int | None, options: dict[str, Any]
) -> ModelSource:
    from freqprobe.models.build import build_model
    from freqprobe.models.sources import parse_model_spec

    spec = parse_model_spec(model)
    if not spec.is_external and in_channels is None:
        raise ConfigError(f"model {spec.text!r} needs --in-channels C (the channels of the images it was trained on)")
    channels = int(in_channels or 3)
    if num_classes is None and not spec.is_external and weights is not None:
        num_classes = _classifier_rows(Path(weights))  # external models read it from their classifier's key
    built = build_model(spec.text, channels, num_classes, weights=weights, **options)
    if spec.is_external:
        size = DEFAULT_INPUT_SIZE if options.get("small_input") else IMAGENET_INPUT_SIZE
    else:
        size = DEFAULT_INPUT_SIZE
    description = str(weights) if weights is not None and str(weights) != "pretrained" else spec.text
    return ModelSource(built.model.eval(), description, spec.text, channels, size, record=built.record)


def _classifier_rows(weights: Path) -> int | None:
    """Rows of ``fc.weight`` in a safetensors file (the class count of freqprobe's ResNets), read from its header."""
    if weights.suffix != ".safetensors":
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt") as handle:
            if "fc.weight" in handle.keys():
                return int(handle.get_slice("fc.weight").get_shape()[0])
    except Exception:  # an unreadable file is reported by the weights loader with its own message
        return None
    return None


def _unanalysable_reason(module: nn.Module) -> str | None:
    """Why a convolution-like module is not analysed, or None for any other module."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return "transposed convolution (the adjoint of a convolution); freqprobe analyses forward 2-D convolutions"
    if isinstance(module, nn.modules.conv._ConvNd):
        if isinstance(module.weight, nn.parameter.UninitializedParameter):
            return "lazy convolution whose weight is not initialized yet; run one forward pass before the analysis"
        return f"{module.weight.ndim - 2}-D convolution; freqprobe analyses 2-D kernels only"
    if "conv" in type(module).__name__.lower() and callable(getattr(module, "weight", None)):
        return "quantized convolution (its weight is packed); analyse the float model before quantization"
    return None


def _is_conv2d(module: nn.Module) -> bool:
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return False
    if isinstance(module, nn.Conv2d):
        return not isinstance(module.weight, nn.parameter.UninitializedParameter)
    weight = getattr(module, "weight", None)
    has_geometry = all(hasattr(module, attribute) for attribute in ("stride", "dilation", "groups"))
    return isinstance(weight, torch.Tensor) and weight.ndim == 4 and has_geometry


def _size_recorder(name: str, sizes: dict[str, tuple[int, int]]):
    def record(_module: nn.Module, inputs: tuple[Any, ...]) -> None:
        if name not in sizes and inputs and isinstance(inputs[0], torch.Tensor) and inputs[0].ndim == 4:
            sizes[name] = (int(inputs[0].shape[-2]), int(inputs[0].shape[-1]))

    return record
