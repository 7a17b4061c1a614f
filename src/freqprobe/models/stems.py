"""Structural edits that fit a network built for ImageNet to freqprobe's data: the input stem and the classifier.

- :func:`sum_stem_channels`: a 3-channel stem takes 1-channel input with its weights summed over the input channels
  (the response to a grey image repeated three times is unchanged: conv(w, [x, x, x]) = conv(sum_c w_c, x); timm's
  ``adapt_input_conv`` does the same for ``in_chans=1``).
- :func:`adapt_small_input`: the stem of a CIFAR port (He et al. 2016, Sec. 4.2): a 7x7 stride-2 stem becomes 3x3
  stride 1 (re-initialized), a 3x3 stride-2 stem keeps its weights at stride 1, and the max-pool right after the stem
  goes, so a 32x32 image keeps 32x32 feature maps into the first stage instead of 8x8.
- :func:`replace_classifier`: the last ``nn.Linear`` re-made for another number of classes (fine-tuning).
"""

from __future__ import annotations

import torch
from torch import nn

from freqprobe.errors import ConfigError


def first_conv(body: nn.Module, what: str = "the model") -> tuple[str, nn.Conv2d]:
    """(qualified name, module) of the first ``nn.Conv2d`` in definition order, the network's stem.

    Raises:
        ConfigError: the network has no ``nn.Conv2d``.
    """
    for name, module in body.named_modules():
        if isinstance(module, nn.Conv2d):
            return name, module
    raise ConfigError(f"{what} has no nn.Conv2d, so its input stem cannot be adapted; give it a convolutional stem")


def stem_in_channels(body: nn.Module) -> int | None:
    """Input channels of the first ``nn.Conv2d`` (None for a network without one)."""
    for module in body.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    return None


def sum_stem_channels(body: nn.Module, what: str = "the model") -> nn.Module:
    """Make the stem take 1 channel: its weight summed over the input channels (in place; returns ``body``).

    Raises:
        ConfigError: no ``nn.Conv2d``, or a grouped stem (a sum over channels would mix the groups).
    """
    name, conv = first_conv(body, what)
    if conv.groups != 1:
        raise ConfigError(f"{what}: the stem {name} is a grouped convolution; use --channel-adapter repeat instead")
    summed = _conv_like(conv, in_channels=1)
    with torch.no_grad():
        summed.weight.copy_(conv.weight.sum(dim=1, keepdim=True))
        if conv.bias is not None:
            summed.bias.copy_(conv.bias)
    body.set_submodule(name, summed)
    return body


def adapt_small_input(body: nn.Module, what: str = "the model") -> dict[str, str]:
    """The CIFAR-port stem (see the module docstring), in place; returns what changed, for config.json.

    Raises:
        ConfigError: a stem that is neither 7x7 nor 3x3 at stride 2 (e.g. a 4x4 stride-4 patchify stem or a ViT's
            16x16 patches), naming the model.
    """
    name, conv = first_conv(body, what)
    kernel, stride = tuple(conv.kernel_size), tuple(conv.stride)
    changes: dict[str, str] = {}
    if kernel == (7, 7) and stride == (2, 2):
        body.set_submodule(name, _conv_like(conv, kernel_size=3, stride=1, padding=1))
        changes[name] = "7x7 stride 2 -> 3x3 stride 1 (re-initialized)"
    elif kernel == (3, 3) and stride == (2, 2):
        conv.stride = (1, 1)
        changes[name] = "3x3 stride 2 -> stride 1 (weights kept)"
    else:
        raise ConfigError(
            f"--small-input cannot adapt {what}: its stem {name} is {kernel[0]}x{kernel[1]} stride "
            f"{stride[0]} (it handles 7x7 or 3x3 stride-2 stems); drop --small-input or feed larger images"
        )
    pool = _max_pool_after_stem(body, name)
    if pool is not None:
        body.set_submodule(pool, nn.Identity())
        changes[pool] = "max-pool removed"
    return changes


def classifier(body: nn.Module) -> tuple[str, nn.Linear] | None:
    """(qualified name, module) of the last ``nn.Linear`` in definition order, the classifier head."""
    found = None
    for name, module in body.named_modules():
        if isinstance(module, nn.Linear):
            found = (name, module)
    return found


def replace_classifier(body: nn.Module, num_classes: int, what: str = "the model") -> str:
    """Re-make the last ``nn.Linear`` with ``num_classes`` outputs (PyTorch's default init); returns its name.

    Raises:
        ConfigError: the network has no ``nn.Linear`` head.
    """
    found = classifier(body)
    if found is None:
        raise ConfigError(f"{what} has no nn.Linear classifier to re-make for {num_classes} classes")
    name, linear = found
    body.set_submodule(name, nn.Linear(linear.in_features, num_classes, bias=linear.bias is not None))
    return name


def _conv_like(conv: nn.Conv2d, **changes) -> nn.Conv2d:
    settings = dict(
        in_channels=conv.in_channels, out_channels=conv.out_channels, kernel_size=conv.kernel_size,
        stride=conv.stride, padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
        bias=conv.bias is not None, padding_mode=conv.padding_mode,
    )
    settings.update(changes)
    return nn.Conv2d(**settings).to(device=conv.weight.device, dtype=conv.weight.dtype)


def _max_pool_after_stem(body: nn.Module, stem: str) -> str | None:
    """The first ``nn.MaxPool2d`` after the stem and before the next convolution (ResNet's, DenseNet's,
    ShuffleNet's), or None."""
    seen_stem = False
    for name, module in body.named_modules():
        if name == stem:
            seen_stem = True
        elif seen_stem and isinstance(module, nn.Conv2d):
            return None
        elif seen_stem and isinstance(module, nn.MaxPool2d):
            return name
    return None
