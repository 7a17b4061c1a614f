"""Train band x test band accuracy: every band-trained model of a sweep on test images passed through every band."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Callable, Sequence

from freqprobe.analysis.compare.data import RunData
from freqprobe.analysis.compare.runs import UNFILTERED, RunRecord

EVAL_BATCH = 500

Log = Callable[[str], None]


@dataclass
class BandMatrix:
    """Accuracy of models trained on one band (rows) on test images passed through each band (columns).

    ``accuracy[i][j]`` is the mean over the runs (seeds) of row i; ``per_run`` keeps each run's row.
    """

    dataset: str
    model: str
    train_filters: list[str]
    test_filters: list[str]
    accuracy: list[list[float]]
    runs: list[int]  # runs averaged per row
    n_images: int
    per_run: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "train_filters": self.train_filters,
            "test_filters": self.test_filters,
            "accuracy": self.accuracy,
            "runs": self.runs,
            "n_images": self.n_images,
            "per_run": self.per_run,
        }



def is_band_spec(spec: str) -> bool:
    return spec.strip().lower().startswith("band:")



def band_order_key(spec: str) -> tuple:
    """Unfiltered first, then bands by (low, high) edge."""
    if not is_band_spec(spec):
        return (0, 0.0, 0.0)
    from freqprobe.filters import build_filter

    low, high = build_filter(spec).params
    return (1, low, high)



def band_groups(runs: Sequence[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    """Runs trained on a band or unfiltered, grouped by (dataset, model); only groups with at least one band."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in runs:
        if is_band_spec(run.filter) or run.filter == UNFILTERED:
            groups.setdefault((run.dataset, run.model), []).append(run)
    return {key: members for key, members in groups.items() if any(is_band_spec(run.filter) for run in members)}



def band_matrix(
    runs: Sequence[RunRecord], data: RunData, subset: int, log: Log = lambda message: None
) -> BandMatrix:
    """Evaluate every run of one (dataset, model) group on the first ``subset`` test images after each band.

    The test filters are the group's bands plus ``none`` (the unfiltered images). Each model carries its own
    normalization (fitted on its filtered training split) in its weights.
    """
    from freqprobe.filters import apply_in_batches, build_filter

    specs = sorted({run.filter for run in runs} | {UNFILTERED}, key=band_order_key)
    train_filters = [spec for spec in specs if any(run.filter == spec for run in runs)]
    test = data.test_subset(runs[0], subset)
    filtered = {spec: apply_in_batches(build_filter(spec), test.images) for spec in specs}
    per_run: dict[str, dict[str, float]] = {}
    for run in runs:
        log(f"compare: band matrix: evaluating {run.name} on {len(specs)} test bands")
        model = run.run.load_model()
        per_run[run.name] = {spec: model_accuracy(model, filtered[spec], test.labels) for spec in specs}
    rows, counts = [], []
    for train_filter in train_filters:
        members = [per_run[run.name] for run in runs if run.filter == train_filter]
        rows.append([statistics.fmean(member[spec] for member in members) for spec in specs])
        counts.append(len(members))
    return BandMatrix(
        dataset=runs[0].dataset,
        model=runs[0].model,
        train_filters=train_filters,
        test_filters=specs,
        accuracy=rows,
        runs=counts,
        n_images=len(test.labels),
        per_run=per_run,
    )



def model_accuracy(model, images, labels, batch_size: int = EVAL_BATCH) -> float:
    """Share of float pixel images (N, C, H, W) classified as ``labels`` by ``model`` (eval mode)."""
    import torch

    correct = 0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            logits = model(images[start : start + batch_size])
            correct += int((logits.argmax(dim=1) == labels[start : start + batch_size]).sum())
    return correct / max(1, len(images))
