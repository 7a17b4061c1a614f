"""The external half of :func:`freqprobe.models.build.build_model`: a torchvision, timm or user network with its
weights, its classifier, its stem fitted to the data, wrapped in a :class:`PixelSpaceModel`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.external import build_library_body, build_python_body, file_digest
from freqprobe.models.normalize import Stats
from freqprobe.models.pixel_space import PixelSpaceModel, RepeatChannels
from freqprobe.models.sources import ModelSpec
from freqprobe.models.stems import adapt_small_input, classifier, replace_classifier, stem_in_channels, sum_stem_channels
from freqprobe.models.weight_files import find_pretrained, load_fitting, read_state_dict

WRAPPED_PREFIXES = ("normalize.", "adapter.", "body.")
CHANNEL_ADAPTERS = ("repeat", "sum-stem")
PRETRAINED = "pretrained"


@dataclass
class BuiltModel:
    """The model and what ``config.json`` records of its making (``record``, see
    :func:`freqprobe.models.build.build_model`)."""

    model: nn.Module
    record: dict[str, Any] = field(default_factory=dict)


def build_external(
    spec: ModelSpec,
    args: dict[str, Any],
    record: dict[str, Any],
    in_channels: int,
    num_classes: int | None,
    weights,
    channel_adapter: str,
    small_input: bool,
    mean: Stats | None,
    std: Stats | None,
    python_file,
) -> BuiltModel:
    what = f"model {spec.text!r}"
    pretrained = None
    wrapped_state = None
    if weights is None:
        body = _body(spec, num_classes, in_channels, args, python_file)
        record["weights"] = "random initialization"
    elif str(weights) == PRETRAINED:
        pretrained = find_pretrained(spec)
        body = _pretrained_body(spec, args, pretrained)
        record["weights"] = PRETRAINED
        record["weights_origin"] = pretrained.origin
    else:
        state = read_state_dict(weights)
        record["weights"] = str(weights)
        body = _body(spec, num_classes, in_channels, args, python_file)
        if any(key.startswith(WRAPPED_PREFIXES) for key in state):
            wrapped_state = state  # saved from a freqprobe model: loaded after wrapping
        else:
            _match_classifier(body, state, what)
            load_fitting(body, state, str(weights), spec.text)
    _note_python_file(spec, record, python_file)
    record["classifier"] = _fit_classifier(body, num_classes, what)
    adapter, record["channel_adapter"] = _adapt_channels(body, in_channels, channel_adapter, what)
    record["small_input"] = adapt_small_input(body, what) if small_input else {}
    if pretrained is not None:
        mean, std = _per_data_channel(pretrained.mean, in_channels), _per_data_channel(pretrained.std, in_channels)
    model = PixelSpaceModel(body, in_channels, mean, std, adapter)
    if wrapped_state is not None:
        load_fitting(model, wrapped_state, str(weights), spec.text)
    record["normalization"] = _normalization_record(model, pretrained, wrapped_state is not None, in_channels)
    return BuiltModel(model, record)


def _body(spec: ModelSpec, num_classes, in_channels, args, python_file) -> nn.Module:
    if spec.kind == "py":
        return build_python_body(spec, num_classes, in_channels, args, Path(python_file) if python_file else None)
    return build_library_body(spec, num_classes, args)


def _pretrained_body(spec: ModelSpec, args: dict[str, Any], pretrained) -> nn.Module:
    """The network with the library's class count and the cached weights loaded (timm through its own loader, which
    also applies the model's checkpoint filter)."""
    if spec.kind == "timm":
        import timm

        from freqprobe.models.external import check_library_name

        check_library_name(spec)
        return timm.create_model(
            spec.name, pretrained=True, pretrained_cfg_overlay={"file": str(pretrained.file)}, **args
        )
    body = build_library_body(spec, pretrained.num_classes, args)
    return load_fitting(body, read_state_dict(pretrained.file), str(pretrained.file), spec.text)


def _match_classifier(body: nn.Module, state: dict, what: str) -> None:
    """Re-make the head with the class count a plain weights file was saved with (rows of its weight), so the file
    loads before the head is re-made for the data's classes."""
    found = classifier(body)
    rows = state.get(f"{found[0]}.weight") if found is not None else None
    if rows is not None and rows.ndim == 2 and rows.shape[0] != found[1].out_features:
        replace_classifier(body, int(rows.shape[0]), what)


def _fit_classifier(body: nn.Module, num_classes: int | None, what: str) -> str:
    found = classifier(body)
    current = found[1].out_features if found is not None else None
    if num_classes is None or current is None or current == num_classes:
        return f"as built ({current} outputs)" if current is not None else "as built"
    if hasattr(body, "reset_classifier"):  # timm's own way keeps its head's structure
        body.reset_classifier(num_classes)
        name = classifier(body)[0]
    else:
        name = replace_classifier(body, num_classes, what)
    return f"{name} re-initialized for {num_classes} classes (the weights had {current})"


def _adapt_channels(body: nn.Module, in_channels: int, adapter: str, what: str) -> tuple[nn.Module | None, str]:
    wanted = stem_in_channels(body)
    if wanted is None or wanted == in_channels:
        return None, "none"
    if in_channels != 1:
        raise ConfigError(
            f"{what} takes {wanted}-channel images but the data has {in_channels}; give the factory the channel "
            f"count (e.g. --model-arg in_chans={in_channels} for timm) or use data with {wanted}"
        )
    if adapter == "repeat":
        return RepeatChannels(wanted), f"repeat: the grey channel copied to the network's {wanted} input channels"
    sum_stem_channels(body, what)
    return None, f"sum-stem: stem weights summed over its {wanted} input channels to take 1 channel"


def _per_data_channel(values: list[float], in_channels: int) -> list[float]:
    """Pretrained statistics for the data's channels: as they are, or averaged for grey data."""
    if len(values) == in_channels:
        return values
    return [sum(values) / len(values)] * in_channels


def _normalization_record(model: PixelSpaceModel, pretrained, from_file: bool, in_channels: int) -> dict[str, Any]:
    if pretrained is not None:
        averaged = " averaged over its 3 channels for grey data" if in_channels != len(pretrained.mean) else ""
        source = f"pretrained weights' metadata ({pretrained.origin}: ImageNet mean/std{averaged})"
    elif from_file:
        source = "the weights file (normalize.mean/std)"
    elif model.normalize.mean.abs().sum() == 0 and (model.normalize.std == 1).all():
        source = "none (mean 0, std 1)"
    else:
        source = "caller"
    return {"source": source, "mean": model.normalize.mean.tolist(), "std": model.normalize.std.tolist()}


def _note_python_file(spec: ModelSpec, record: dict[str, Any], python_file) -> None:
    if not spec.is_file:
        return
    path = Path(python_file) if python_file else Path(spec.name)
    record["file"] = str(path)  # as given, not resolved: config.json carries no machine paths it was not given
    record["file_sha256"] = file_digest(path)
