"""Sweep specs: the TOML file that says which runs a sweep trains.

A spec has two tables and an optional third::

    [base]                        # TrainConfig fields shared by every run
    epochs = 10
    preset = "fast"

    [grid]                        # lists; the runs are their Cartesian product
    datasets = ["fashion-mnist", "cifar10"]  # datasets, models, filters, seeds: plural aliases of the fields
    filters = ["none", "blur:2", "highpass:2"]
    seeds = [0, 1, 2]
    antialias = [false, true]     # any other TrainConfig field

    [per_dataset.cifar10]         # optional: fields for the runs of one dataset only (over [base])
    epochs = 20

    [per_model.vgg11_bn]          # optional: fields for the runs of one model only, e.g. widths matched in FLOPs
    width_multiplier = 0.5

A run trains with: defaults < its dataset's preset recipe < [base] < [per_dataset."<its dataset>"] <
[per_model."<its model>"] < its grid values (see :mod:`freqprobe.sweeps.grid`). Every error is one line naming the file, and the line where known.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from freqprobe.errors import ConfigError
from freqprobe.train.config import FIELD_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

GRID_ALIASES = {"datasets": "dataset", "models": "model", "filters": "filter", "seeds": "seed"}
# The fields spelled out in every run name, in that order; other swept fields go into the name's hash.
NAMED_FIELDS = ("dataset", "model", "filter", "seed")
SPEC_TABLES = ("base", "grid", "per_dataset", "per_model")


@dataclass(frozen=True)
class SweepSpec:
    """What to run: ``base`` TrainConfig fields shared by all runs, ``grid`` field -> values to cross."""

    base: dict[str, Any]
    grid: dict[str, list]  # TrainConfig field names in canonical order: dataset, model, filter, others, seed
    source: str = "sweep spec"  # names the spec in error messages and in results.md
    per_dataset: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset -> fields of its runs only
    per_model: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> fields of its runs only

    def settings_for(self, swept: dict[str, Any]) -> dict[str, Any]:
        """What one grid point sets: [base] < its dataset's [per_dataset] table < its model's [per_model] table <
        its grid values."""
        dataset = swept.get("dataset", self.base.get("dataset"))
        model = swept.get("model", self.base.get("model"))
        return {**self.base, **self.per_dataset.get(dataset, {}), **self.per_model.get(model, {}), **swept}


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep spec TOML file; every error names the file (and the line where known)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"sweep spec {path} not found; pass a TOML file with [base] and [grid] tables "
            f"(example: experiments/example_sweep.toml)"
        )
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}; fix the syntax there") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save the sweep spec as a UTF-8 TOML file") from None
    return spec_from_dict(document, source=str(path), text=text)


def spec_from_dict(document: dict[str, Any], source: str = "sweep spec", text: str | None = None) -> SweepSpec:
    """Validate a parsed spec (``{"base": {...}, "grid": {...}}``) and put its grid in canonical order.

    ``text``, the TOML source, lets errors name the line of the offending key.
    """
    where = _Locator(source, text)
    for key in document:
        if key not in SPEC_TABLES:
            raise ConfigError(
                f"{where(None, key)}: unknown table or key {key!r}; a sweep spec has only [base], [grid] and "
                "[per_dataset.NAME] and [per_model.NAME] tables"
            )
    base = document.get("base", {})
    grid = document.get("grid")
    if not isinstance(base, dict):
        raise ConfigError(f"{where(None, 'base')}: 'base' must be a table: write [base], then field = value lines")
    if grid is None:
        raise ConfigError(f"{source} has no [grid] table; add one with at least one list, e.g. seeds = [0]")
    if not isinstance(grid, dict):
        raise ConfigError(f"{where(None, 'grid')}: 'grid' must be a table: write [grid], then field = [values] lines")
    fields = list(FIELD_NAMES)
    for key in base:
        if key not in fields:
            raise ConfigError(f"{where('base', key)}: unknown field {key!r} in [base]; {suggest_valid(key, fields)}")
    grid = _validated_grid(grid, base, fields, where)
    if "dataset" not in base and "dataset" not in grid:
        raise ConfigError(f"{source} names no dataset; add datasets = [\"fashion-mnist\"] to [grid]")
    datasets = grid.get("dataset", [base.get("dataset")])
    per_dataset = _validated_per_value("dataset", document.get("per_dataset", {}), datasets, grid, fields, where)
    models = grid.get("model", [base.get("model", "resnet20")])
    per_model = _validated_per_value("model", document.get("per_model", {}), models, grid, fields, where)
    return SweepSpec(base=dict(base), grid=grid, source=source, per_dataset=per_dataset, per_model=per_model)


def _validated_per_value(
    kind: str, tables: Any, values: list, grid: dict[str, list], fields: list[str], where: "_Locator"
) -> dict[str, dict[str, Any]]:
    """``[per_<kind>."NAME"]`` tables (kind: dataset or model): each names a dataset (model) of the sweep and sets
    fields not swept by the grid."""
    table_name = f"per_{kind}"
    if not isinstance(tables, dict) or not all(isinstance(table, dict) for table in tables.values()):
        raise ConfigError(
            f"{where(None, table_name)}: {table_name} must hold one table per {kind}: write "
            f'[{table_name}."NAME"], then field = value lines'
        )
    settable = [field_name for field_name in fields if field_name not in ("dataset", kind)]
    for name, table in tables.items():
        header = f'{table_name}."{name}"'
        if name not in values:
            raise ConfigError(
                f"{where(None, header)}: [{header}] names a {kind} this sweep does not train; its {kind}s: "
                f"{', '.join(map(str, values))}"
            )
        for key in table:
            if key not in settable:
                raise ConfigError(
                    f"{where(header, key)}: unknown field {key!r} in [{header}]; {suggest_valid(key, settable)}"
                )
            if key in grid:
                raise ConfigError(
                    f"{where(header, key)}: {key!r} is set in both [{header}] and [grid]; keep it in one place"
                )
    return {name: dict(table) for name, table in tables.items()}


class _Locator:
    """Turns (table, key) into ``file:line`` for error messages, or just ``file`` when the line is unknown."""

    def __init__(self, source: str, text: str | None):
        self.source = source
        self.lines = text.splitlines() if text else []

    def __call__(self, table: str | None, key: str) -> str:
        current: str | None = None
        key_pattern = re.compile(rf"^[\"']?{re.escape(key)}[\"']?\s*=")
        table, key_as_table = _unquoted(table), _unquoted(key)
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
            if header:
                current = _unquoted(header.group(1))
                if table is None and current == key_as_table:
                    return f"{self.source}:{number}"
            elif current == table and key_pattern.match(stripped):
                return f"{self.source}:{number}"
        return self.source


def _unquoted(name: str | None) -> str | None:
    """A TOML table path without its quotes and spaces: [per_dataset."cifar10"] and [per_dataset.cifar10] agree."""
    return None if name is None else re.sub(r"[\"'\s]", "", name)


def _validated_grid(grid: dict, base: dict, fields: list[str], where: _Locator) -> dict[str, list]:
    if not grid:
        raise ConfigError(f"{where(None, 'grid')}: [grid] is empty; add at least one list, e.g. seeds = [0]")
    # Suggest the plural spelling of the aliased fields; the singular is accepted too.
    valid_keys = list(GRID_ALIASES) + [name for name in fields if name not in GRID_ALIASES.values()]
    normalized: dict[str, list] = {}
    for key, values in grid.items():
        field_name = GRID_ALIASES.get(key, key)
        location = where("grid", key)
        if field_name not in fields:
            raise ConfigError(f"{location}: unknown grid field {key!r}; {suggest_valid(key, valid_keys)}")
        if field_name in normalized:
            raise ConfigError(f"{location}: [grid] sets {field_name!r} twice (singular and plural); keep one")
        if field_name in base:
            raise ConfigError(f"{location}: {field_name!r} is set in both [base] and [grid]; keep it in one place")
        normalized[field_name] = _validated_values(key, values, location)
    order = [name for name in NAMED_FIELDS[:3] if name in normalized]
    order += [name for name in normalized if name not in NAMED_FIELDS]
    order += ["seed"] if "seed" in normalized else []
    return {name: normalized[name] for name in order}


def _validated_values(key: str, values: Any, location: str) -> list:
    if not isinstance(values, list):
        raise ConfigError(f"{location}: grid.{key} must be a list, e.g. {key} = [{toml_literal(values)}]")
    if not values:
        raise ConfigError(f"{location}: grid.{key} is an empty list; give at least one value")
    seen: list = []
    for value in values:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{location}: grid.{key} must list strings, numbers or booleans, not {value!r}")
        # `1 == True` in Python: compare with the type so [1, true] is not reported as a duplicate.
        if any(type(value) is type(other) and value == other for other in seen):
            raise ConfigError(f"{location}: grid.{key} lists {toml_literal(value)} twice; remove the duplicate")
        seen.append(value)
    return list(values)


def suggest_valid(key: str, valid: Sequence[str]) -> str:
    """The tail of a one-line error for an unknown ``key``: the closest valid name, if any, then all of them."""
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid: {', '.join(valid)}"


def toml_literal(value: Any) -> str:
    """A value as TOML writes it: `true`, `"text"`, `0.5` (for messages and table cells)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)
