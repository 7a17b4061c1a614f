"""Decode many small PNG/JPEG images into one uint8 (N, C, H, W) array, in a 2-process pool when it pays.

All images must share one size. Greyscale-only sets give C=1; any colour image makes the whole set RGB (C=3),
greyscale images then repeated over the three channels.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections import Counter
from typing import Sequence

import numpy as np

from freqprobe.errors import ConfigError, DataError

FORMATS = ("PNG", "JPEG")
WORKERS_ENV = "FREQPROBE_DECODE_WORKERS"
# Below this many images a pool costs more to start than it saves.
POOL_THRESHOLD = 4096
_GREY_MODES = {"L", "1", "LA", "La", "I;8"}
_COLOUR_MODES = {"RGB", "RGBA", "RGBa", "RGBX", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"}


def decode_images(
    blobs: Sequence[bytes], names: Sequence[str], workers: int | None = None, image_size: int | None = None
) -> np.ndarray:
    """Encoded images -> uint8 (N, C, H, W). ``names`` label each image in error messages.

    image_size: bring images of any sizes to ``image_size`` x ``image_size``
    (:func:`freqprobe.data.resize.resize_center_crop`); None keeps the stored size, which all must share.

    workers: decoding processes (default ``$FREQPROBE_DECODE_WORKERS`` or min(2, CPUs)); 1 decodes here.
    Raises DataError naming the file for an undecodable image, an unsupported pixel format, or an image
    whose size differs from the others (the expected size is the most common one).
    """
    decoded = _decode_all(blobs, _worker_count(workers, len(blobs)))
    for name, item in zip(names, decoded):
        if isinstance(item, str):
            raise DataError(f"cannot decode image {name}: {item}")
    if image_size is not None:
        from freqprobe.data.resize import resize_center_crop

        return resize_center_crop(decoded, image_size)
    return _stack(decoded, names)


def _decode_all(blobs: Sequence[bytes], workers: int) -> list[np.ndarray | str]:
    if workers <= 1:
        return _decode_chunk(blobs)
    chunk = max(256, -(-len(blobs) // (workers * 8)))
    chunks = [blobs[start : start + chunk] for start in range(0, len(blobs), chunk)]
    # fork: the children need only PIL and numpy, which are already imported; spawning would re-import torch.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_decode_chunk, chunks)
    return [item for part in results for item in part]


def _worker_count(requested: int | None, count: int) -> int:
    """An explicit request (argument or environment) is obeyed; the automatic choice skips small sets."""
    if requested is None:
        requested = _configured_workers()
    if requested is None:
        requested = min(2, os.cpu_count() or 1) if count >= POOL_THRESHOLD else 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, requested)


def _configured_workers() -> int | None:
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if not configured:
        return None
    if not configured.isdigit():
        raise ConfigError(f"{WORKERS_ENV}={configured!r} must be a whole number of processes (1 = no pool)")
    return int(configured)


def _decode_chunk(blobs: Sequence[bytes]) -> list[np.ndarray | str]:
    """Each blob -> (H, W) for greyscale, (H, W, 3) for colour, or an error string (exceptions do not pickle well)."""
    return [_decode_one(blob) for blob in blobs]


def _decode_one(blob: bytes) -> np.ndarray | str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(blob), formats=FORMATS) as image:
            if image.mode in ("L", "RGB"):
                return np.asarray(image)
            if image.mode in _GREY_MODES:
                return np.asarray(image.convert("L"))
            if image.mode in _COLOUR_MODES:
                return np.asarray(image.convert("RGB"))
            return f"unsupported pixel format {image.mode!r}; convert it to 8-bit greyscale or RGB"
    except UnidentifiedImageError:
        return "not a PNG or JPEG image; remove it or convert it"
    except (OSError, SyntaxError, ValueError) as error:
        return f"{error}; the file is truncated or corrupt"


class MixedImageSizes(DataError):
    """A folder's images differ in size and no ``--image-size`` brings them to one."""


def _stack(decoded: Sequence[np.ndarray], names: Sequence[str]) -> np.ndarray:
    if not decoded:
        raise ValueError("no images to stack")
    sizes = Counter(item.shape[:2] for item in decoded)
    height, width = sizes.most_common(1)[0][0]
    for name, item in zip(names, decoded):
        if item.shape[:2] != (height, width):
            h, w = item.shape[:2]
            raise MixedImageSizes(
                f"image {name} is {w}x{h} pixels but the other images are {width}x{height}; "
                f"resize it to {width}x{height}, remove it, or pass --image-size N (short side to N, centre crop)"
            )
    if all(item.ndim == 2 for item in decoded):
        return np.stack(decoded)[:, None]
    # A grey image in a colour set is repeated over the three channels.
    colour = [item if item.ndim == 3 else np.repeat(item[:, :, None], 3, axis=2) for item in decoded]
    return np.ascontiguousarray(np.stack(colour).transpose(0, 3, 1, 2))
