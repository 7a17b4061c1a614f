"""A spec's grid points: their resolved configuration, their run names, and which shard trains them.

Run names read ``<dataset>__<model>__<filter>__seed<seed>``, plus the other swept options as ``<field>-<value>`` when
the grid sweeps more than those four, e.g. ``fashion-mnist__resnet20__none__seed0__conv-bandpass-gabor-stem``. Sweep
folders written before these names (``...__seed0__3f9a0c1e``, 8 hex digits of a hash of the options) keep theirs:
:func:`freqprobe.sweeps.layout.expand_grid_in` adopts a recorded old name for its grid point.
Shards are 0-based: ``--shard i/n`` runs the grid points whose index ``% n == i``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from freqprobe.errors import ConfigError
from freqprobe.sweeps.spec import NAMED_FIELDS, SweepSpec, toml_literal
from freqprobe.train.config import TrainConfig, resolve_config


# Folder names stay well under the 255 bytes file systems allow, with room for the other parts.
MAX_OPTIONS_LABEL = 120


@dataclass(frozen=True)
class SweepRun:
    """One grid point: its position in the grid, its folder name, and its configuration."""

    index: int
    name: str
    settings: dict[str, Any]  # base + swept values, as the spec wrote them
    config: dict[str, Any]  # what it trains with: defaults < preset < settings (TrainConfig.to_dict())
    swept: dict[str, Any]  # this run's grid values

    @property
    def options(self) -> dict[str, Any]:
        """Swept fields other than dataset, model, filter and seed: the extra columns of the tables."""
        return {key: self.config[key] for key in self.swept if key not in NAMED_FIELDS}


def resolve_settings(settings: dict[str, Any]) -> TrainConfig:
    """The TrainConfig a run trains with: defaults < its preset (per dataset) < the spec's values."""
    return resolve_config(settings, {})


def expand_grid(spec: SweepSpec) -> list[SweepRun]:
    """The runs of ``spec`` in a stable order (seeds vary fastest); every configuration is validated here.

    Raises:
        ConfigError: one line naming the spec, the grid point and what is wrong with it.
    """
    keys = list(spec.grid)
    runs: list[SweepRun] = []
    checked: set[tuple] = set()
    for index, values in enumerate(itertools.product(*(spec.grid[key] for key in keys))):
        swept = dict(zip(keys, values))
        settings = spec.settings_for(swept)
        try:
            config = resolve_settings(settings).to_dict()
            check_names(config, checked)
        except ConfigError as error:
            raise ConfigError(f"{spec.source}: {describe_point(swept)}: {error}") from None
        options = {key: config[key] for key in swept if key not in NAMED_FIELDS}
        runs.append(SweepRun(index, run_name(config, options), settings, config, swept))
    _check_unique_names(runs, spec.source)
    return runs


def check_names(config: dict[str, Any], checked: set[tuple]) -> None:
    """Raise ConfigError for an unknown dataset or model or a bad filter spec now, not when the run's turn comes
    hours into the sweep. ``checked`` remembers the names already checked."""
    names = (config["dataset"], config["model"], config["filter"], config["boundary"])
    if names in checked:
        return
    # imported here: the registries of models and filters import torch, and the CLI's parser must not
    from freqprobe.data import DATASETS
    from freqprobe.filters import build_filter
    from freqprobe.models.build import check_model_name

    if not str(config["dataset"]).startswith("folder:"):
        DATASETS.get(config["dataset"])
    check_model_name(config["model"])
    build_filter(config["filter"], boundary=config["boundary"])
    checked.add(names)


def run_name(config: dict[str, Any], options: dict[str, Any] | None = None) -> str:
    """``dataset__model__filter__seedN`` (+ ``__hash`` of the other swept options): readable and stable."""
    parts = [
        dataset_slug(str(config["dataset"])),
        _slug(str(config["model"])),
        _slug(str(config["filter"])),
        f"seed{config['seed']}",
    ]
    if options:
        parts.append(options_label(options))
    return "__".join(parts)


def legacy_run_name(config: dict[str, Any], options: dict[str, Any]) -> str:
    """The name sweeps gave a grid point with other swept options before :func:`options_label`: a hash in place of
    the options (``..._seed0__3f9a0c1e``)."""
    return f"{run_name(config)}__{options_hash(options)}"


def options_label(options: dict[str, Any]) -> str:
    """The swept options as they read in a folder name, ``<field>-<value>`` joined by ``__``, in the grid's order; one
    longer than ``MAX_OPTIONS_LABEL`` characters is cut and ends with :func:`options_hash` to stay unique.

    >>> options_label({"conv": "bandpass:gabor@stem", "antialias": True, "lr": 0.05})
    'conv-bandpass-gabor-stem__antialias-true__lr-0.05'
    """
    label = "__".join(f"{_slug(key)}-{_slug(_value_text(value))}" for key, value in options.items())
    if len(label) <= MAX_OPTIONS_LABEL:
        return label
    return f"{label[:MAX_OPTIONS_LABEL - 9].rstrip('_-')}-{options_hash(options)}"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "-".join(_value_text(item) for item in value)
    return "none" if value is None else str(value)


def options_hash(options: dict[str, Any]) -> str:
    """8 hex digits that change with any option value and not with the order the options were written in."""
    canonical = json.dumps(options, sort_keys=True, default=str)
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:8]


def dataset_slug(dataset: str) -> str:
    """``folder:../data/cifar10-jpeg.tar.gz`` -> ``folder-cifar10-jpeg``; registry names stay as they are."""
    if dataset.startswith("folder:"):
        stem = re.sub(r"(\.tar\.gz|\.tgz|\.tar)$", "", Path(dataset[len("folder:"):].rstrip("/")).name)
        return "folder-" + _slug(stem)
    return _slug(dataset)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "x"


def describe_point(swept: dict[str, Any]) -> str:
    """``dataset="cifar10", seed=0``: a grid point as the spec wrote its values."""
    return ", ".join(f"{key}={toml_literal(value)}" for key, value in swept.items())


def _check_unique_names(runs: list[SweepRun], source: str) -> None:
    seen: dict[str, SweepRun] = {}
    for run in runs:
        if run.name in seen:
            raise ConfigError(
                f"{source}: grid points ({describe_point(seen[run.name].swept)}) and ({describe_point(run.swept)}) "
                f"share the run name {run.name}; make the dataset paths' file names or the values distinct"
            )
        seen[run.name] = run


# --------------------------------------------------------------------------------------------------------------
# Shards


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``, 0-based: ``0/2`` and ``1/2`` split a sweep in two.

    Raises:
        ConfigError: not ``i/n``, ``n < 1`` or ``i >= n``.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ConfigError(f"--shard {text!r} is not of the form i/n; use e.g. --shard 0/4 (0-based: 0/4 .. 3/4)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ConfigError(f"--shard {text}: the shard count must be at least 1, e.g. --shard 0/1")
    if index >= count:
        raise ConfigError(f"--shard {text} is out of range: shards are 0-based, use 0/{count} .. {count - 1}/{count}")
    return index, count


def shard_runs(runs: Iterable[SweepRun], index: int, count: int) -> list[SweepRun]:
    """The runs of shard ``index`` of ``count``: grid index % count == index."""
    return [run for run in runs if run.index % count == index]
