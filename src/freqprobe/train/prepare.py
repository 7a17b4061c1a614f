"""The airbench-style data path: whole splits as tensors, filtered once, before any augmentation.

The input filter is fitted on the training split only and applied ONCE to every split in batches (filter before
augmentation: random crops and flips then act on filtered images). The per-channel normalization loaded into the
model is the mean/std of the filtered training split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from freqprobe.errors import ConfigError
from freqprobe.train.config import TrainConfig

FILTER_POSITION = (
    "before augmentation: the input filter (fitted on the training split only) is applied once to every split; "
    "random crops and flips then act on the filtered images; normalization uses the filtered training split's "
    "per-channel mean/std"
)
FILTER_BATCH = 2048


@dataclass
class PreparedData:
    """Filtered float32 (N, C, H, W) splits with their labels, and what was fitted on the training split."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: list[str]
    mean: torch.Tensor
    std: torch.Tensor
    input_filter: torch.nn.Module
    source: str
    resize: str | None  # how the images were brought to one size (--image-size), None: as stored
    seconds: float

    @property
    def in_channels(self) -> int:
        return int(self.train_images.shape[1])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.train_images.shape[2]), int(self.train_images.shape[3])

    def summary(self) -> dict:
        """Sizes for config.json and metrics.json."""
        return {
            "train_images": len(self.train_labels),
            "val_images": len(self.val_labels),
            "test_images": len(self.test_labels),
            "image_shape": [self.in_channels, *self.image_size],
            "classes": list(self.classes),
            "source": self.source,
            "resize": self.resize,
            "normalization_mean": self.mean.tolist(),
            "normalization_std": self.std.tolist(),
        }


def stratified_first(labels: torch.Tensor, count: int) -> torch.Tensor:
    """Indices of the first ``count`` items taken round-robin over classes, in their original order.

    Every class keeps its own order; item k of class c is taken before item k + 1 of any class, so the classes stay
    balanced (as far as each has items) and the choice is deterministic.
    """
    labels = labels.cpu()
    rank_within_class = torch.empty_like(labels)
    for label in labels.unique():
        members = (labels == label).nonzero().flatten()
        rank_within_class[members] = torch.arange(len(members))
    order = torch.argsort(rank_within_class * len(labels) + torch.arange(len(labels)))
    return order[:count].sort().values


def fit_input_filter(config: TrainConfig):
    """The run's input filter fitted on its training split exactly as :func:`prepare_data` fits it (for filters that
    need fitting; others are returned as built). Deterministic: the split comes from the config alone."""
    from freqprobe.filters import build_filter

    input_filter = build_filter(config.filter, boundary=config.boundary)
    if input_filter.requires_fit:
        train = _take_subset(_load_splits(config).train, config.subset, config.dataset)
        input_filter.fit(train.images, batch_size=FILTER_BATCH)
    return input_filter


def _load_splits(config: TrainConfig):
    from freqprobe.data import load_splits, resolve_root

    return load_splits(
        config.dataset,
        root=resolve_root(config.data_dir),
        val_fraction=config.val_fraction,
        seed=config.split_seed,
        image_size=config.image_size,
    )


def prepare_data(config: TrainConfig, filter_state: dict | None = None) -> PreparedData:
    """Load the splits of ``config.dataset``, take ``subset``/``limit_eval``, fit and apply the filter (on CPU).

    ``filter_state`` (from a checkpoint) replaces the freshly fitted filter statistics, so a resumed run uses exactly
    the filter it started with.

    Raises:
        ConfigError, DataError: unknown dataset or filter, missing data, a subset larger than the training split.
    """
    from freqprobe.filters import apply_in_batches, build_filter, channel_stats

    started = time.perf_counter()
    input_filter = build_filter(config.filter, boundary=config.boundary)  # fail on a bad spec before loading data
    splits = _load_splits(config)
    train = _take_subset(splits.train, config.subset, config.dataset)
    val = _take_first(splits.val, config.limit_eval)
    test = _take_first(splits.test, config.limit_eval)
    if filter_state:
        input_filter.load_state_dict(filter_state)
    elif input_filter.requires_fit:
        input_filter.fit(train.images, batch_size=FILTER_BATCH)
    mean, std = channel_stats(input_filter, train.images, batch_size=FILTER_BATCH)
    return PreparedData(
        train_images=apply_in_batches(input_filter, train.images, batch_size=FILTER_BATCH),
        train_labels=train.labels,
        val_images=apply_in_batches(input_filter, val.images, batch_size=FILTER_BATCH),
        val_labels=val.labels,
        test_images=apply_in_batches(input_filter, test.images, batch_size=FILTER_BATCH),
        test_labels=test.labels,
        classes=list(splits.train.classes),
        mean=mean,
        std=std,
        input_filter=input_filter,
        source=str(splits.train.source),
        resize=splits.train.resize,
        seconds=time.perf_counter() - started,
    )


def _take_subset(split, subset: int | None, dataset: str):
    if subset is None:
        return split
    if subset > len(split):
        raise ConfigError(
            f"subset {subset} exceeds the {len(split)} training images of {dataset}; lower subset or drop it"
        )
    return split.select(stratified_first(split.labels, subset))


def _take_first(split, limit: int | None):
    if limit is None or limit >= len(split):
        return split
    return split.select(stratified_first(split.labels, limit))
