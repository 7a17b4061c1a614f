"""One image size for folders of mixed sizes (``--image-size N``): resize the short side to N, centre-crop NxN.

The usual evaluation transform of ImageNet models (torchvision's ``Resize(N)`` then ``CenterCrop(N)``), done by
``torchvision.transforms.v2.functional`` on uint8 tensors, one batch per distinct source size: bilinear with
antialiasing, which on uint8 follows PIL's ``Image.resize(..., BILINEAR)`` (Pillow's separable triangle filter
widened by the scale factor).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np
import torch

from freqprobe.errors import ConfigError
from freqprobe.specs import Interval

# Larger than any image a CNN of this project reads; a bigger N is a typo.
IMAGE_SIZES = Interval(1, 4096, unit="pixels")


def check_image_size(size: object) -> int:
    """``size`` as an int, if it is an integer in IMAGE_SIZES.

    Raises:
        ConfigError: anything else, naming the value and the range.

    Example:
        >>> check_image_size(224)
        224
    """
    if isinstance(size, bool) or not isinstance(size, int) or not IMAGE_SIZES.contains(size):
        raise ConfigError(f"image_size must be an integer in {IMAGE_SIZES.describe()}, got {size!r}; e.g. 224")
    return size


def describe_resize(size: int) -> str:
    """The sentence every output that used ``--image-size`` carries.

    Example:
        >>> describe_resize(224)
        'short side resized to 224 pixels (bilinear, antialiased), centre-cropped to 224x224'
    """
    return f"short side resized to {size} pixels (bilinear, antialiased), centre-cropped to {size}x{size}"


def resize_center_crop(images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Decoded images of any sizes -> uint8 (N, C, size, size), in order.

    ``images``: (H, W) grey or (H, W, 3) colour uint8 arrays; any colour image makes the set RGB (grey ones
    repeated over three channels, as for same-size folders). Each image's short side becomes ``size`` (the long side
    ``int(size * long / short)``, torchvision's rule) and the central ``size`` x ``size`` square is kept (offsets
    ``round((side - size) / 2)``).

    Raises:
        ConfigError: a bad ``size``. ValueError: no images.

    Example:
        >>> wide = np.zeros((20, 40), dtype=np.uint8); wide[:, 10:30] = 200
        >>> resize_center_crop([wide, np.full((30, 10), 7, np.uint8)], 10).shape
        (2, 1, 10, 10)
    """
    check_image_size(size)
    if not images:
        raise ValueError("no images to resize")
    colour = any(image.ndim == 3 for image in images)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for index, image in enumerate(images):
        groups[image.shape].append(index)
    out = np.empty((len(images), 3 if colour else 1, size, size), dtype=np.uint8)
    for indices in groups.values():
        batch = torch.from_numpy(np.stack([images[i] for i in indices]))
        batch = batch.permute(0, 3, 1, 2) if batch.dim() == 4 else batch[:, None]
        if colour and batch.shape[1] == 1:
            batch = batch.expand(-1, 3, -1, -1)
        out[indices] = resize_center_crop_batch(batch, size).numpy()
    return out


def resize_center_crop_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, C, H, W) images of one size -> (N, C, size, size): the short side to ``size`` (bilinear,
    antialiased), then the central square, as :func:`resize_center_crop` does for each group of equal sizes.

    Raises:
        ConfigError: a bad ``size``.

    Example:
        >>> resize_center_crop_batch(torch.zeros(2, 3, 32, 48, dtype=torch.uint8), 64).shape
        torch.Size([2, 3, 64, 64])
    """
    from torchvision.transforms.v2 import functional as F

    check_image_size(size)
    return F.center_crop(F.resize(images.contiguous(), [size], antialias=True), [size, size])
