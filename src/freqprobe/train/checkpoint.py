"""The resumable checkpoint, written atomically at the end of every epoch.

It holds everything a resumed run needs to continue bit-identically on the same machine: model (with BatchNorm
statistics and the normalization buffers), optimizer (momentum buffers), GradScaler state, the number of completed
epochs and steps, the fitted filter state, the normalization statistics and the per-epoch history (from which
``metrics.jsonl`` is rewritten). Random streams derive from (seed, epoch), so there is no RNG state to save.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from freqprobe.errors import FreqprobeError
from freqprobe.io import atomic_write_bytes

CHECKPOINT_FORMAT = 1


@dataclass
class TrainingState:
    """What a checkpoint restores. ``epoch`` counts completed epochs; ``step`` completed optimizer steps."""

    epoch: int
    step: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scaler: dict[str, Any] | None
    filter_state: dict[str, torch.Tensor]
    mean: list[float]
    std: list[float]
    config: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)


def save_checkpoint(path: str | Path, state: TrainingState) -> None:
    """Write ``state`` to ``path`` atomically (a kill mid-write leaves the previous checkpoint intact)."""
    payload = {"format": CHECKPOINT_FORMAT, **state.__dict__}
    payload["model"] = {key: value.detach().cpu() for key, value in state.model.items()}
    payload["filter_state"] = {key: value.detach().cpu() for key, value in state.filter_state.items()}
    # Serialized in memory, written by Python: torch.save writing a file itself turns a full disk into a
    # RuntimeError without errno, a Python write gives the OSError (ENOSPC, ...) that freqprobe.io reports in one line.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getbuffer())


def load_checkpoint(path: str | Path) -> TrainingState:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors only, no pickled code).

    Raises:
        FreqprobeError: unreadable or foreign file, naming it and the fix.
    """
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise FreqprobeError(
            f"checkpoint {path} cannot be read ({reason}); delete it and restart the run with --force"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise FreqprobeError(
            f"checkpoint {path} is not a freqprobe checkpoint of format {CHECKPOINT_FORMAT}; restart with --force"
        )
    payload.pop("format")
    return TrainingState(**payload)
