"""Model weights as safetensors files: written atomically, read back with one-line errors naming file and key."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import torch
from safetensors.torch import load_file
from safetensors.torch import save as serialize_safetensors
from torch import nn

from freqprobe.errors import FreqprobeError
from freqprobe.io import atomic_write_bytes


class WeightsError(FreqprobeError):
    """A weights file that is missing, unreadable, or does not fit the model it is loaded into."""


def save_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """Write ``model.state_dict()`` (parameters and persistent buffers) to ``path`` as safetensors, atomically.

    Tensors are stored contiguous on the CPU in their own dtype, so channels_last or GPU models save the same file.
    """
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    # serialized in memory and written by Python, so a full disk is an OSError that atomic_write_bytes reports
    atomic_write_bytes(path, serialize_safetensors(tensors, metadata={"format": "pt"}))


def load_weights(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a file written by :func:`save_weights` into ``model`` in place (values cast to the model's dtypes,
    copied to its device); returns ``model``.

    Raises:
        WeightsError: the file is missing or corrupt, or its keys or shapes differ from the model's (the message names
            the file and the first differing key).
    """
    path = Path(path)
    tensors = _read_tensors(path)
    expected = model.state_dict()
    _check_same_keys(path, expected, tensors)
    _check_same_shapes(path, expected, tensors)
    model.load_state_dict(tensors, strict=True)
    return model


def weights_file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not a complete safetensors file, in a few words, or None when it is one.

    Reads only the header: its 8-byte little-endian length, the JSON it announces, and the byte ranges of the tensors,
    which must tile the data section that fills the rest of the file exactly (so a truncated or padded file fails).
    Never raises.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                return f"is {size} bytes, shorter than a safetensors header"
            (header_length,) = struct.unpack("<Q", prefix)
            if header_length > size - 8:
                return f"announces a {header_length}-byte header but holds only {size} bytes (truncated)"
            header = json.loads(handle.read(header_length).decode("utf-8"))
    except FileNotFoundError:
        return "is missing"
    except OSError as error:
        return f"cannot be read ({error.strerror or type(error).__name__})"
    except (UnicodeDecodeError, ValueError):
        return "has a header that is not valid JSON (not a safetensors file)"
    return _data_section_problem(header, size - 8 - header_length)


def _data_section_problem(header: object, data_bytes: int) -> str | None:
    if not isinstance(header, dict):
        return "has a header that is not a JSON object (not a safetensors file)"
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(v, int) for v in offsets)):
            return f"has no valid data_offsets for tensor {name!r}"
        if not 0 <= offsets[0] <= offsets[1]:
            return f"has invalid data_offsets {offsets} for tensor {name!r}"
        end = max(end, offsets[1])
    if end != data_bytes:
        state = "truncated" if end > data_bytes else "trailing bytes"
        return f"holds {data_bytes} data bytes but its header describes {end} ({state})"
    return None


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist; check the path or train the model first")
    try:
        return load_file(str(path), device="cpu")
    except Exception as error:  # safetensors raises its own and OS errors for truncated or foreign files
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise WeightsError(
            f"weights file {path} is not a readable safetensors file ({reason}); re-create it with save_weights"
        ) from None


def _check_same_keys(path: Path, expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> None:
    missing = [key for key in expected if key not in found]
    if missing:
        raise WeightsError(
            f"weights file {path} lacks {len(missing)} tensor(s) of the model, first {missing[0]!r}; "
            f"it was saved from a different model or options (name, antialias, channels, classes)"
        )
    unexpected = sorted(key for key in found if key not in expected)
    if unexpected:
        raise WeightsError(
            f"weights file {path} has {len(unexpected)} tensor(s) the model lacks, first {unexpected[0]!r}; "
            f"it was saved from a different model or options (name, antialias, channels, classes)"
        )


def _check_same_shapes(path: Path, expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> None:
    for key, tensor in expected.items():
        if tuple(found[key].shape) != tuple(tensor.shape):
            raise WeightsError(
                f"weights file {path}: tensor {key!r} has shape {tuple(found[key].shape)} but the model expects "
                f"{tuple(tensor.shape)}; create the model with the options it was trained with (channels, classes)"
            )
