"""Deterministic, seeded, stratified train/validation split of a training set; the test set is never touched."""

from __future__ import annotations

import math

import numpy as np
import torch

from freqprobe.data.dataset import Splits
from freqprobe.errors import ConfigError


def stratified_split(
    labels: torch.Tensor, val_fraction: float = 0.2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(train_idx, val_idx), both int64, ascending, disjoint, together every index of ``labels`` (N,).

    Each class contributes round(val_fraction * its count) images (halves rounded up) to validation,
    chosen by a per-class random permutation drawn, class by class in label order, from one
    ``torch.Generator`` seeded with ``seed``: the same seed gives the same indices on any machine.
    Raises ConfigError unless 0 <= val_fraction < 1.
    """
    check_val_fraction(val_fraction)
    labels_np = torch.as_tensor(labels).cpu().numpy()
    if labels_np.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels_np.shape}")
    generator = torch.Generator().manual_seed(int(seed))
    in_val = np.zeros(len(labels_np), dtype=bool)
    # Index bookkeeping in numpy: torch's CPU sort/unique/nonzero cost ~0.4 s on 60k labels on 2 busy cores.
    for label in np.unique(labels_np):
        members = np.flatnonzero(labels_np == label)
        order = torch.randperm(len(members), generator=generator).numpy()
        n_val = math.floor(val_fraction * len(members) + 0.5)
        in_val[members[order[:n_val]]] = True
    return torch.from_numpy(np.flatnonzero(~in_val)), torch.from_numpy(np.flatnonzero(in_val))


def check_val_fraction(val_fraction: float) -> None:
    if not (isinstance(val_fraction, (int, float)) and 0.0 <= val_fraction < 1.0):
        raise ConfigError(f"val_fraction {val_fraction!r} must lie in [0, 1); 0.2 keeps 20% for validation")


def load_splits(
    name: str,
    root=None,
    val_fraction: float = 0.2,
    seed: int = 0,
    download: bool = False,
    image_size: int | None = None,
) -> Splits:
    """Train/val carved from the training files by :func:`stratified_split`, test from the test files.

    Raises what :func:`freqprobe.data.load_dataset` raises, and ConfigError for a bad ``val_fraction`` or one that
    leaves the validation split (val_fraction > 0) or the training split empty on this dataset.
    """
    from freqprobe.data.loading import load_dataset

    check_val_fraction(val_fraction)
    full_train = load_dataset(name, train=True, root=root, download=download, image_size=image_size)
    test = load_dataset(name, train=False, root=root, download=download, image_size=image_size)
    train_idx, val_idx = stratified_split(full_train.labels, val_fraction, seed)
    _check_both_splits_hold_images(full_train.labels, train_idx, val_idx, val_fraction, name)
    return Splits(
        train=full_train.select(train_idx, split="train"),
        val=full_train.select(val_idx, split="val"),
        test=test,
    )


def _check_both_splits_hold_images(
    labels: torch.Tensor, train_idx: torch.Tensor, val_idx: torch.Tensor, val_fraction: float, name: str
) -> None:
    """One line naming the empty split, the option, its value and the fraction that fixes it on this dataset."""
    largest = int(np.bincount(torch.as_tensor(labels).cpu().numpy()).max()) if len(labels) else 0
    if largest == 1 and (len(train_idx) == 0 or (val_fraction > 0 and len(val_idx) == 0)):
        split = "training" if len(train_idx) == 0 else "validation"
        raise ConfigError(
            f"--val-fraction {val_fraction:g} leaves the {split} split of {name} empty: each class has one training "
            f"image, too few to hold some out; add training images or use --val-fraction 0"
        )
    if val_fraction > 0 and len(val_idx) == 0 and largest:
        # a class gives floor(f n + 0.5) images: at least one from f = 0.5 / n for the largest class
        minimum = _first_fraction(lambda f: math.floor(f * largest + 0.5) >= 1, 0.5 / largest, up=True)
        raise ConfigError(
            f"--val-fraction {val_fraction:g} leaves the validation split of {name} empty (its largest class has "
            f"{largest} training images); use --val-fraction {minimum:g} or more"
        )
    if len(train_idx) == 0 and largest:
        maximum = _first_fraction(lambda f: math.floor(f * largest + 0.5) <= largest - 1, 1 - 0.5 / largest, up=False)
        raise ConfigError(
            f"--val-fraction {val_fraction:g} leaves the training split of {name} empty (its largest class has "
            f"{largest} training images); use --val-fraction {maximum:g} or less"
        )


def _first_fraction(works, bound: float, up: bool) -> float:
    """The round (3 significant digits) fraction nearest ``bound`` on the side ``up`` for which ``works`` holds."""
    digits = max(2, 2 - math.floor(math.log10(min(bound, 1 - bound))))
    scale = 10**digits
    step = 1 if up else -1
    candidate = (math.ceil(bound * scale) if up else math.floor(bound * scale)) / scale
    while not works(candidate):
        candidate = (round(candidate * scale) + step) / scale
    return candidate
