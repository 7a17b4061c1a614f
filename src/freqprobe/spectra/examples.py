"""Choosing example images: one per class in turn, deterministic."""

from __future__ import annotations

import torch


def one_per_class(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of ``n`` examples: the first image of each class (classes in index order), then the second, ...

    labels: int (N,). Returns int64 (min(n, N),). Classes without images are skipped.
    """
    labels = labels.to(torch.int64).cpu()
    order = torch.argsort(labels, stable=True)
    sorted_labels = labels[order]
    # Rank of each image within its class (0 for the first image of a class, 1 for the second, ...).
    class_starts = torch.searchsorted(sorted_labels, sorted_labels, right=False)
    rank = torch.arange(len(labels)) - class_starts
    # Sorting by (rank, class) interleaves the classes round-robin.
    key = rank * (int(labels.max()) + 1 if len(labels) else 1) + sorted_labels
    round_robin = order[torch.argsort(key, stable=True)]
    return round_robin[:n]
