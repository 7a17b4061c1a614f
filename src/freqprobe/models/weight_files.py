"""Weights from elsewhere: ``.safetensors`` and PyTorch ``.pt``/``.pth`` state dicts, and the pretrained weights
torchvision and timm keep in their local caches (never downloaded here).

A state dict saved from ``nn.DataParallel``/DDP (``module.``) or from a wrapper (``model.``) has that prefix on
every key; :func:`strip_wrapper_prefixes` removes it. A mismatch with the model is one line naming the missing,
unexpected and mis-shaped keys (:class:`~freqprobe.models.io.WeightsError`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from freqprobe.models.io import WeightsError, weights_file_problem
from freqprobe.models.sources import ModelSpec

STATE_DICT_SUFFIXES = (".pt", ".pth")
WEIGHTS_SUFFIXES = (".safetensors", *STATE_DICT_SUFFIXES)
WRAPPER_PREFIXES = ("module.", "model.")
SHOWN_KEYS = 3


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file or of a ``.pt``/``.pth`` state dict (``torch.load(weights_only=True)``;
    a checkpoint ``{"state_dict": ...}`` or ``{"model": ...}`` gives its inner dict), wrapper prefixes stripped.

    Raises:
        WeightsError: a missing, corrupt or foreign file, or one that holds no tensors by name.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist; check the path")
    if path.suffix not in WEIGHTS_SUFFIXES:
        raise WeightsError(f"weights file {path} is not .safetensors, .pt or .pth; save a state dict in one of those")
    if path.suffix == ".safetensors":
        state = _read_safetensors(path)
    else:
        state = _read_torch_file(path)
    return strip_wrapper_prefixes(state)


def strip_wrapper_prefixes(state: Mapping[str, Any]) -> dict[str, Any]:
    """Remove ``module.``/``model.`` while every key starts with it (a prefix on only some keys is a real module name).

    Example:
        >>> sorted(strip_wrapper_prefixes({"module.model.fc.weight": 1, "module.model.fc.bias": 2}))
        ['fc.bias', 'fc.weight']
        >>> sorted(strip_wrapper_prefixes({"model.weight": 1, "head.weight": 2}))
        ['head.weight', 'model.weight']
    """
    state = dict(state)
    while state:
        prefix = next((p for p in WRAPPER_PREFIXES if all(key.startswith(p) for key in state)), None)
        if prefix is None:
            break
        state = {key[len(prefix):]: value for key, value in state.items()}
    return state


def load_fitting(module: nn.Module, state: Mapping[str, torch.Tensor], source: str, target: str) -> nn.Module:
    """``module.load_state_dict(state, strict=True)`` after checking keys and shapes (values cast to the module's
    dtypes and devices); returns ``module``.

    Raises:
        WeightsError: one line naming the missing keys, the unexpected ones and the first shape mismatch.
    """
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    misshaped = [
        f"{key} {tuple(state[key].shape)} vs {tuple(value.shape)}"
        for key, value in expected.items()
        if key in state and tuple(state[key].shape) != tuple(value.shape)
    ]
    if missing or unexpected or misshaped:
        parts = [
            _listing("missing", missing),
            _listing("unexpected", unexpected),
            _listing("shape (file vs model)", misshaped),
        ]
        raise WeightsError(
            f"weights {source} do not fit {target}: {'; '.join(part for part in parts if part)}; pass the model, "
            f"--model-arg, --num-classes and channels the weights were saved from"
        )
    module.load_state_dict(dict(state), strict=True)
    return module


def rename_by_order(
    state: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor], source: str
) -> dict[str, torch.Tensor]:
    """``state``'s tensors under ``reference``'s names, paired in order: for a checkpoint of the same architecture
    written by another implementation (``_blocks.0._depthwise_conv.weight`` for timm's ``blocks.0.0.conv_dw.weight``).

    Every pair must agree in shape and in the last part of its name (``weight``, ``running_var``), so a different
    layer order or architecture is refused rather than loaded.

    Raises:
        WeightsError: different key counts, or the first pair whose shapes differ (both names and shapes, and the
            source named).

    Example:
        >>> reference = nn.Conv2d(1, 2, 3, bias=False).state_dict()
        >>> renamed = rename_by_order({"_conv_stem.weight": torch.ones(2, 1, 3, 3)}, reference, "ckpt.pth")
        >>> list(renamed), float(renamed["weight"].sum())
        (['weight'], 18.0)
    """
    if len(state) != len(reference):
        raise WeightsError(f"{source} holds {len(state)} tensors where the model has {len(reference)}; it is another "
                           f"architecture: pick the model it was saved from")
    renamed = {}
    for (key, tensor), (name, expected) in zip(state.items(), reference.items()):
        # the last part (weight, bias, running_mean, ...) must agree too: a batch norm's four (C,) tensors would
        # otherwise pair in any order
        if tuple(tensor.shape) != tuple(expected.shape) or key.rsplit(".", 1)[-1] != name.rsplit(".", 1)[-1]:
            raise WeightsError(f"{source}: {key} {tuple(tensor.shape)} pairs with {name} {tuple(expected.shape)} in "
                               f"order; the layers differ: pick the model it was saved from")
        renamed[name] = tensor
    return renamed


def _listing(what: str, keys: list[str]) -> str:
    if not keys:
        return ""
    shown = ", ".join(keys[:SHOWN_KEYS]) + (", ..." if len(keys) > SHOWN_KEYS else "")
    return f"{len(keys)} {what} ({shown})"


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    problem = weights_file_problem(path)
    if problem is not None:
        raise WeightsError(f"weights file {path} {problem}; re-create or re-download it")
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as error:  # safetensors raises its own error types for foreign files
        raise WeightsError(f"weights file {path} is not a readable safetensors file ({_first_line(error)})") from None


def _read_torch_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and weights_only refusals all end here
        raise WeightsError(
            f"weights file {path} is not a PyTorch state dict readable with weights_only=True ({_first_line(error)}); "
            f"save model.state_dict() with torch.save"
        ) from None
    if isinstance(loaded, dict):
        for inner in ("state_dict", "model"):
            if isinstance(loaded.get(inner), dict):
                loaded = loaded[inner]
                break
    if not isinstance(loaded, dict) or not loaded or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise WeightsError(f"weights file {path} holds no state dict of tensors; save model.state_dict() with torch.save")
    return loaded


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


# ------------------------------------------------------------------------------------------- pretrained weights


@dataclass
class Pretrained:
    """A library's default pretrained weights found in its local cache, and their input normalization."""

    file: Path
    origin: str  # e.g. "torchvision ResNet18_Weights.IMAGENET1K_V1"
    mean: list[float]
    std: list[float]
    num_classes: int


def find_pretrained(spec: ModelSpec) -> Pretrained:
    """The default pretrained weights of a ``tv:``/``timm:`` model from the local cache (torch hub's checkpoints
    folder; the Hugging Face hub cache for timm), with their ImageNet mean and std.

    Raises:
        WeightsError: a registered or ``py:`` model, a model without pretrained weights, or weights not in the cache
            (one line: which file to put where).
    """
    if spec.kind == "tv":
        return _torchvision_pretrained(spec)
    if spec.kind == "timm":
        return _timm_pretrained(spec)
    raise WeightsError(
        f"--weights pretrained is for tv: and timm: models, not {spec.text!r}; pass --weights FILE instead"
    )


def _torchvision_pretrained(spec: ModelSpec) -> Pretrained:
    import torchvision.models

    try:
        weights = torchvision.models.get_model_weights(spec.name).DEFAULT
    except (ValueError, KeyError, AttributeError):
        raise WeightsError(f"torchvision has no pretrained weights for {spec.text!r}; pass --weights FILE") from None
    file_name = weights.url.rsplit("/", 1)[-1]
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    path = folder / file_name
    if not path.is_file():
        raise WeightsError(
            f"torchvision's pretrained weights of {spec.text!r} are not in the local cache: put {file_name} (from "
            f"{weights.url}) into {folder}/ (TORCH_HOME moves it), or pass --weights FILE"
        )
    transform = weights.transforms()
    return Pretrained(
        file=path,
        origin=f"torchvision {weights} ({file_name})",
        mean=[float(v) for v in transform.mean],
        std=[float(v) for v in transform.std],
        num_classes=len(weights.meta["categories"]),
    )


def _timm_pretrained(spec: ModelSpec) -> Pretrained:
    import timm.models

    config = timm.models.get_pretrained_cfg(spec.name)
    if config is None or not (config.hf_hub_id or config.url):
        raise WeightsError(f"timm has no pretrained weights for {spec.text!r}; pass --weights FILE")
    path = _timm_cached_file(config)
    if path is None:
        where = f"https://huggingface.co/{config.hf_hub_id}" if config.hf_hub_id else config.url
        raise WeightsError(
            f"timm's pretrained weights of {spec.text!r} are not in the local cache: put model.safetensors from "
            f"{where} into the Hugging Face hub cache ($HF_HOME/hub; `huggingface-cli download {config.hf_hub_id} "
            f"model.safetensors` does it where there is internet), or pass --weights FILE"
        )
    return Pretrained(
        file=path,
        origin=f"timm {config.hf_hub_id or config.url} ({path.name})",
        mean=[float(v) for v in config.mean],
        std=[float(v) for v in config.std],
        num_classes=int(config.num_classes),
    )


def _timm_cached_file(config) -> Path | None:
    if config.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        for file_name in ("model.safetensors", "pytorch_model.bin"):
            found = try_to_load_from_cache(config.hf_hub_id, file_name)
            if isinstance(found, str) and Path(found).is_file():
                return Path(found)
    if config.url:
        path = Path(torch.hub.get_dir()) / "checkpoints" / config.url.rsplit("/", 1)[-1]
        if path.is_file():
            return path
    return None
