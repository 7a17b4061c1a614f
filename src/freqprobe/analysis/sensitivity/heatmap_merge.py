"""``freqprobe sensitivity --merge DIR... --out OUT``: the shards of one Fourier heat map merged into one
sensitivity.json, cell for cell what a single call would have written.

Each shard folder holds the sensitivity.json of ``freqprobe sensitivity RUN --heatmap --shard i/n`` (any job runner
or SLURM array: one call per shard, each into its own folder). The merge checks that the shards belong together (the
same run, test images, seed, eps, precision, batch size and frequency selection, each shard index 0..n-1 exactly
once, no cell evaluated twice), unites their cells, sums their seconds, and writes OUT/sensitivity.json (merged into
an existing file of the same run) with the figure. The cost per basis image is recomputed over all shards.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import torch

from freqprobe.analysis.sensitivity.heatmap_plan import HeatMapPlan
from freqprobe.analysis.sensitivity.run_folder import read_json_object
from freqprobe.analysis.sensitivity.runner import (
    RESULTS_FILE,
    complete_heatmap,
    draw_heatmap,
    existing_results,
    json_safe,
    link_gradient_and_heatmap,
)
from freqprobe.errors import ConfigError
from freqprobe.io import atomic_write_json, named_path, output_set, prepare_output_dir, relative_name

RUN_IDENTITY = ("model", "dataset", "filter", "boundary", "antialias", "test_images", "test_selection", "seed")
HEATMAP_IDENTITY = (
    "eps", "n_images", "clean_error", "seed", "precision", "batch_size", "channels_last", "max_radius",
    "selection", "frequencies_y", "frequencies_x",
)


def merge_heatmap_shards(folders: Sequence[str | os.PathLike], out_dir: str | os.PathLike) -> dict:
    """Merge the heat maps of the shard folders into ``out_dir/sensitivity.json``; returns the merged document.

    Raises:
        ConfigError: the shards do not belong together, one is missing or repeated, or ``out_dir`` holds another
            run's results (one line naming the folder and the fix).
    """
    shards = [(Path(folder), _shard_document(Path(folder))) for folder in folders]
    heatmap = merge_heatmaps([(str(folder), document) for folder, document in shards])
    out_dir = prepare_output_dir(out_dir, "--out")
    first_folder, first = shards[0]
    run_name = relative_name(named_path(first_folder, first["run"]), out_dir)
    document = existing_results(out_dir / RESULTS_FILE, run_name)
    document.update({key: value for key, value in first.items() if key not in ("heatmap", "figures", "captions")})
    document["run"] = run_name
    document["heatmap"] = heatmap
    with output_set(out_dir, RESULTS_FILE) as staging:
        draw_heatmap(document, document_title(document, heatmap["n_images"]), staging)
        link_gradient_and_heatmap(document, lambda count: document_title(document, count), staging)
        atomic_write_json(staging / RESULTS_FILE, json_safe(document))
    return document


def merge_heatmaps(documents: Sequence[tuple[str, dict]]) -> dict:
    """The merged ``heatmap`` section of shard documents [(name, sensitivity.json content)], see the module
    docstring."""
    if not documents:
        raise ConfigError("--merge needs the folders of the heat-map shards, e.g. --merge shard-0 shard-1")
    first_name, first = documents[0]
    for name, document in documents[1:]:
        _check_same(first_name, first, name, document)
    count = first["heatmap"]["shard"]["count"]
    indices = sorted(document["heatmap"]["shard"]["index"] for _, document in documents)
    if indices != list(range(count)):
        missing = sorted(set(range(count)) - set(indices))
        repeated = sorted({index for index in indices if indices.count(index) > 1})
        raise ConfigError(
            f"the heat map was split into {count} shards; missing {missing or 'none'}, repeated {repeated or 'none'}: "
            f"pass each shard's folder once"
        )
    error = _united_cells(documents)
    sections = [document["heatmap"] for _, document in documents]
    merged = dict(sections[0])
    merged["error"] = [[None if math.isnan(value) else value for value in row] for row in error.tolist()]
    finite = error[~torch.isnan(error)]
    merged["mean_error"] = float(finite.mean())
    merged["max_error"] = float(finite.max())
    merged["evaluated_pairs"] = sum(section["evaluated_pairs"] for section in sections)
    merged["seconds"] = sum(section["seconds"] for section in sections)
    pair_seconds = [section.get("cost", {}).get("pair_seconds") for section in sections]
    merged["cost"] = {"pair_seconds": sum(pair_seconds) if None not in pair_seconds else math.nan}
    merged["shard"] = {"index": None, "count": count, "merged_from": [name for name, _ in documents],
                       "devices": [section.get("device") for section in sections]}
    selection = merged["selection"]
    plan = HeatMapPlan(selection["max_radius"], selection["stride"], selection["sample"],
                       selection["sample_seed"] or 0)
    complete_heatmap(merged, plan)
    return merged


def document_title(document: dict, count: int) -> str:
    """The figure title of a sensitivity document: model · dataset test (N images) · filter [· antialias]."""
    from freqprobe.data.labels import dataset_label

    parts = [str(document.get("model", "model")), f"{dataset_label(str(document.get('dataset')))} test ({count} "
             f"images)", f"filter {document.get('filter')}"]
    if document.get("antialias"):
        parts.append("antialias")
    return " · ".join(parts)


def _shard_document(folder: Path) -> dict:
    document = read_json_object(folder / RESULTS_FILE, "cannot merge heat-map shards")
    heatmap = document.get("heatmap")
    if not isinstance(heatmap, dict) or not isinstance(heatmap.get("shard"), dict) or "error" not in heatmap:
        raise ConfigError(f"{folder / RESULTS_FILE} has no heat-map shard; write one with freqprobe sensitivity RUN "
                          f"--heatmap --shard i/n --out {folder}")
    if heatmap["shard"].get("index") is None:
        raise ConfigError(f"{folder / RESULTS_FILE} holds an already merged heat map; pass the shard folders")
    return document


def _check_same(first_name: str, first: dict, name: str, document: dict) -> None:
    """Refuse a shard that differs from the first in anything that decides its cells."""
    if Path(str(first.get("run"))).name != Path(str(document.get("run"))).name:
        raise ConfigError(f"{name} holds run {document.get('run')}, {first_name} run {first.get('run')}; merge "
                          f"shards of one run")
    checks = [(key, first.get(key), document.get(key)) for key in RUN_IDENTITY]
    checks += [(f"heatmap.{key}", first["heatmap"].get(key), document["heatmap"].get(key)) for key in HEATMAP_IDENTITY]
    checks.append(("shard count", first["heatmap"]["shard"]["count"], document["heatmap"]["shard"]["count"]))
    for key, expected, found in checks:
        if expected != found:
            raise ConfigError(f"{name} differs from {first_name} in {key} ({found!r} vs {expected!r}); every shard "
                              f"must be run with the same options")


def _united_cells(documents: Sequence[tuple[str, dict]]) -> torch.Tensor:
    """(H, W) float64 with every shard's evaluated cells; a cell evaluated by two shards is refused."""
    grids = [(name, _grid(document["heatmap"]["error"])) for name, document in documents]
    united = torch.full_like(grids[0][1], math.nan)
    for name, grid in grids:
        evaluated = ~torch.isnan(grid)
        if (evaluated & ~torch.isnan(united)).any():
            raise ConfigError(f"{name} evaluates cells another shard evaluated too; pass each shard's folder once")
        united[evaluated] = grid[evaluated]
    return united


def _grid(rows: list[list[float | None]]) -> torch.Tensor:
    return torch.tensor([[math.nan if value is None else value for value in row] for row in rows], dtype=torch.float64)
