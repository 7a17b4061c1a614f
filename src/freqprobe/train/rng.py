"""Random streams derived from (seed, purpose, epoch, rank), so no hidden RNG state has to survive a restart.

Each epoch's permutation and augmentation draw from generators seeded only by these keys: a run resumed at epoch
``e`` draws exactly what the uninterrupted run drew at epoch ``e``.
"""

from __future__ import annotations

import hashlib

import torch

STREAMS = ("init", "permutation", "augment")


def derive_seed(seed: int, stream: str, *keys: int) -> int:
    """A 63-bit seed mixing ``seed``, the stream name and integer keys (hash-based: nearby inputs decorrelate)."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}")
    text = ":".join([str(seed), stream, *map(str, keys)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def generator(seed: int, stream: str, *keys: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` for one stream."""
    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(seed, stream, *keys))
    return gen
