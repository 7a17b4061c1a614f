"""Which layers the feature-map spectra look at (``--layers``) and where a model subsamples.

Default sites, for any model: the input normalization (``normalize``, the input spectrum as the network sees it),
every convolution (:func:`freqprobe.analysis.model_source.conv_layers`), every top-level child of the body (for
freqprobe's ResNets: ``stem``, ``stem_bn`` and each stage ``layerK``) and every child of a top-level container (each
block ``layerK.i``). The body is ``model.body`` for a :class:`~freqprobe.models.PixelSpaceModel` (torchvision and timm
networks), else the model itself. Sites whose output is not a 4-D map of at least 2 x 2 pixels (pooling to 1 x 1,
the classifier) are left out when the images pass (:mod:`freqprobe.analysis.features.probe`).

``--layers`` replaces the default by the modules whose qualified name matches one of its comma-separated patterns:
a shell glob (``layer2.*``, ``*conv1``; :func:`fnmatch.fnmatchcase`) or, prefixed ``re:``, a regular expression
searched in the name (``re:layer[12]\\.0$``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from torch import nn

from freqprobe.analysis.aliasing import as_stride_pair
from freqprobe.analysis.model_source import conv_layers
from freqprobe.errors import ConfigError

KINDS = ("input", "conv", "stage", "block", "module")


@dataclass(frozen=True)
class ProbeSite:
    """One module whose output feature maps are measured; ``kind`` is one of :data:`KINDS`."""

    name: str
    kind: str
    module: nn.Module


def model_body(model: nn.Module) -> tuple[str, nn.Module]:
    """(prefix, body): ``("body.", model.body)`` for a pixel-space wrapper, else ``("", model)``."""
    from freqprobe.models.pixel_space import PixelSpaceModel

    if isinstance(model, PixelSpaceModel):
        return "body.", model.body
    return "", model


def default_sites(model: nn.Module) -> list[ProbeSite]:
    """The default sites of the module docstring, in definition order, each named once."""
    kinds: dict[str, str] = {}
    normalize = getattr(model, "normalize", None)
    if isinstance(normalize, nn.Module):
        kinds["normalize"] = "input"
    convs = {name for name, _ in conv_layers(model)}
    prefix, body = model_body(model)
    for child_name, child in body.named_children():
        top = prefix + child_name
        kinds.setdefault(top, "conv" if top in convs else ("stage" if _is_container(child) else "module"))
        if isinstance(child, (nn.Sequential, nn.ModuleList)):
            for block_name, _ in child.named_children():
                kinds.setdefault(f"{top}.{block_name}", "conv" if f"{top}.{block_name}" in convs else "block")
    for name in convs:
        kinds.setdefault(name, "conv")
    modules = dict(model.named_modules())
    return [ProbeSite(name, kinds[name], module) for name, module in modules.items() if name in kinds]


def select_sites(model: nn.Module, patterns: str | None = None) -> list[ProbeSite]:
    """The default sites, or the modules whose name matches ``patterns`` (comma-separated globs or ``re:`` regexes).

    Raises:
        ConfigError: an invalid regular expression, or patterns that match no module (naming a few that exist).
    """
    if patterns is None or not patterns.strip():
        return default_sites(model)
    matchers = [_matcher(text.strip()) for text in patterns.split(",") if text.strip()]
    defaults = {site.name: site.kind for site in default_sites(model)}
    convs = {name for name, _ in conv_layers(model)}
    chosen = [
        ProbeSite(name, defaults.get(name, "conv" if name in convs else "module"), module)
        for name, module in model.named_modules()
        if name and any(match(name) for match in matchers)
    ]
    if not chosen:
        names = [name for name, _ in model.named_modules() if name]
        raise ConfigError(
            f"--layers {patterns!r} matches no module of the model; names look like {', '.join(names[:6])}, ...: "
            f"use a glob such as 'layer1.*' or a regex such as 're:conv'"
        )
    return chosen


def subsampling_sites(model: nn.Module) -> list[tuple[str, nn.Module, tuple[int, int]]]:
    """(name, module, (s_y, s_x)) of every module with an integer ``stride`` above 1 (strided convs, pools, blur
    pools), in definition order; their input is where feature maps are subsampled. A strided module inside one
    already found (the blur pool of a shortcut) shares its input and is not counted again."""
    found: list[tuple[str, nn.Module, tuple[int, int]]] = []
    for name, module in model.named_modules():
        if any(name.startswith(f"{parent}.") for parent, _, _ in found):
            continue
        stride = getattr(module, "stride", None)
        if stride is None or isinstance(stride, bool):
            continue
        try:
            pair = as_stride_pair(tuple(stride) if isinstance(stride, (list, tuple)) else stride)
        except ConfigError:
            continue  # a stride attribute that is not a subsampling factor (None, floats)
        if pair != (1, 1):
            found.append((name, module, pair))
    return found


def _is_container(module: nn.Module) -> bool:
    return next(module.children(), None) is not None


def _matcher(pattern: str):
    if pattern.startswith("re:"):
        try:
            compiled = re.compile(pattern[3:])
        except re.error as error:
            raise ConfigError(f"--layers: {pattern!r} is not a valid regular expression ({error})") from None
        return lambda name: compiled.search(name) is not None
    return lambda name: fnmatch.fnmatchcase(name, pattern)
