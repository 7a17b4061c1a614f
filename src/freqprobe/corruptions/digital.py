"""Digital corruptions: contrast, elastic transform, pixelate, JPEG, and the two HSV ones, brightness (a weather
corruption in the paper) and saturate.

Parameters: :mod:`freqprobe.corruptions.table` (Hendrycks & Dietterich 2019). Float images (N, C, H, W) in [0, 1].
JPEG runs through PIL image by image (an encoder cannot be batched); everything else is batched. Contrast, brightness,
saturate and pixelate are differentiable; elastic is differentiable in the image.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F

from freqprobe.corruptions.common import back_to_channels, check_images, to_rgb, uniform
from freqprobe.filters import gaussian_blur as _gaussian


def contrast(x: torch.Tensor, factor: float) -> torch.Tensor:
    """``clamp((x - m) factor + m, 0, 1)``, m the mean of each image and channel.

    Example:
        >>> x = torch.tensor([[[[0.2, 0.6]]]])
        >>> contrast(x, 0.5)
        tensor([[[[0.3000, 0.5000]]]])
    """
    check_images(x)
    mean = x.mean(dim=(-2, -1), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0.0, 1.0)


def brightness(x: torch.Tensor, shift: float) -> torch.Tensor:
    """HSV value V = max over channels raised by ``shift`` and clipped, hue and saturation kept.

    With H and S fixed every channel is proportional to V, so the result is x V' / V (and V' where V = 0); on grey
    images it is ``clamp(x + shift, 0, 1)``.

    Example:
        >>> brightness(torch.tensor([[[[0.0, 0.5, 0.9]]]]), 0.2)
        tensor([[[[0.2000, 0.7000, 1.0000]]]])
    """
    check_images(x)
    value = x.amax(dim=1, keepdim=True)
    raised = (value + shift).clamp(0.0, 1.0)
    ratio = raised / value.clamp(min=1e-12)
    return torch.where(value > 0, x * ratio, raised.expand_as(x)).clamp(0.0, 1.0)


def saturate(x: torch.Tensor, scale: float, shift: float) -> torch.Tensor:
    """HSV saturation S -> clamp(S scale + shift, 0, 1), hue and value kept; grey images via RGB and luma.

    In HSV each channel is V (1 - S a_c(H)) with a_c depending on hue only, so a_c = (V - x_c) / (V - min) and the
    result is V - S' V a_c. A grey pixel has S = 0 and hue 0 (red), as in skimage, so a positive shift tints it red.

    Example:
        >>> x = torch.tensor([[[[1.0]], [[0.5]], [[0.5]]]])   # S = 0.5
        >>> saturate(x, 2.0, 0.0).flatten()
        tensor([1., 0., 0.])
    """
    check_images(x)
    rgb = to_rgb(x)
    value = rgb.amax(dim=1, keepdim=True)
    chroma = value - rgb.amin(dim=1, keepdim=True)
    saturation = torch.where(value > 0, chroma / value.clamp(min=1e-12), torch.zeros_like(value))
    red_hue = torch.tensor([0.0, 1.0, 1.0], dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    share = torch.where(chroma > 0, (value - rgb) / chroma.clamp(min=1e-12), red_hue.expand_as(rgb))
    new_saturation = (saturation * scale + shift).clamp(0.0, 1.0)
    out = value - new_saturation * value * share
    return back_to_channels(out.clamp(0.0, 1.0), x.shape[1])


def box_resize_matrix(source: int, target: int, dtype=torch.float64) -> torch.Tensor:
    """(target, source) matrix of PIL's BOX resampling along one axis (Image.resize(..., Image.BOX)).

    Output pixel i averages, with equal weights, the source pixels j whose centre lies in the box of width
    max(source / target, 1) around the output pixel's centre (i + 0.5) source / target: PIL's coefficient rule with
    its box filter (1 on (-0.5, 0.5]).

    Example:
        >>> box_resize_matrix(4, 2)
        tensor([[0.5000, 0.5000, 0.0000, 0.0000],
                [0.0000, 0.0000, 0.5000, 0.5000]], dtype=torch.float64)
    """
    scale = source / target
    filter_scale = max(scale, 1.0)
    support = 0.5 * filter_scale
    matrix = torch.zeros(target, source, dtype=torch.float64)
    for i in range(target):
        centre = (i + 0.5) * scale
        low = max(int(centre - support + 0.5), 0)
        high = min(int(centre + support + 0.5), source)
        for j in range(low, high):
            position = (j - centre + 0.5) / filter_scale
            if -0.5 < position <= 0.5:
                matrix[i, j] = 1.0
        matrix[i] /= matrix[i].sum()
    return matrix.to(dtype)


def pixelate(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Box-resize to (int(H factor), int(W factor)) and back to (H, W), as the original's two PIL BOX resizes.

    Example:
        >>> y = pixelate(torch.rand(1, 1, 32, 32), 0.5)
        >>> bool(torch.equal(y[..., 0::2, :], y[..., 1::2, :]))
        True
    """
    check_images(x)
    height, width = x.shape[-2:]
    small_h, small_w = int(height * factor), int(width * factor)
    down_h = box_resize_matrix(height, small_h, x.dtype).to(x.device)
    down_w = box_resize_matrix(width, small_w, x.dtype).to(x.device)
    up_h = box_resize_matrix(small_h, height, x.dtype).to(x.device)
    up_w = box_resize_matrix(small_w, width, x.dtype).to(x.device)
    rows = up_h @ down_h
    cols = up_w @ down_w
    return (rows @ x @ cols.T).clamp(0.0, 1.0)


def jpeg_compression(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Each image rounded to 8 bits, encoded by PIL as JPEG at ``quality`` and decoded (not differentiable).

    Example:
        >>> y = jpeg_compression(torch.rand(2, 3, 32, 32), 80)
        >>> tuple(y.shape), y.dtype
        ((2, 3, 32, 32), torch.float32)
    """
    from PIL import Image

    check_images(x)
    pixels = (x.detach().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()
    decoded = np.empty_like(pixels)
    for index, image in enumerate(pixels):
        picture = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        array = np.asarray(Image.open(buffer))
        decoded[index] = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(decoded).to(device=x.device, dtype=x.dtype) / 255.0


def elastic_transform(
    x: torch.Tensor, alpha: float, sigma: float, affine: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A random affine warp, then a smooth random displacement field; parameters in image sizes (x min(H, W)).

    The affine map moves the points c + (s, s), c + (s, -s), c - (s, s) (c = side // 2, s = side // 3) by uniform
    offsets in [-affine, affine) pixels and is applied with bilinear sampling and reflect-101 borders (cv2.warpAffine);
    the displacement is a uniform [-1, 1) field per axis smoothed by a Gaussian of ``sigma`` (truncate 3, reflect)
    times ``alpha``, applied bilinearly with half-sample reflection (scipy map_coordinates, mode reflect).

    Example:
        >>> y = elastic_transform(torch.rand(2, 1, 28, 28), 0.1, 0.03, 0.03, torch.Generator().manual_seed(0))
        >>> tuple(y.shape)
        (2, 1, 28, 28)
    """
    check_images(x)
    n, channels, height, width = x.shape
    side = min(height, width)
    alpha, sigma, affine = alpha * side, sigma * side, affine * side
    centre, half = float(side // 2), float(side // 3)
    source = torch.tensor(
        [[centre + half, centre + half], [centre + half, centre - half], [centre - half, centre - half]],
        dtype=torch.float64,
    )
    target = source + uniform((n, 3, 2), generator, -affine, affine, source)
    warped = _affine_warp(x, source, target)
    if alpha == 0 or sigma == 0:
        return warped.clamp(0.0, 1.0)
    field = uniform((n, 2, height, width), generator, -1.0, 1.0, x)
    field = _gaussian(field, sigma, boundary="reflect", truncate=3.0) * alpha
    ys = torch.arange(height, dtype=x.dtype, device=x.device).reshape(1, height, 1) + field[:, 1]
    xs = torch.arange(width, dtype=x.dtype, device=x.device).reshape(1, 1, width) + field[:, 0]
    grid = torch.stack([(2 * xs + 1) / width - 1, (2 * ys + 1) / height - 1], dim=-1)
    moved = F.grid_sample(warped, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return moved.clamp(0.0, 1.0)


def _affine_warp(x: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """dst(p) = src(M^-1 p) for the affine M taking ``source`` (3, 2) to each image's ``target`` (N, 3, 2) points."""
    n, _, height, width = x.shape
    ones = torch.ones(3, 1, dtype=torch.float64)
    homogeneous = torch.cat([source, ones], dim=1)                    # (3, 3): rows (x, y, 1)
    forward = torch.linalg.solve(homogeneous, target).transpose(1, 2)  # (N, 2, 3): p' = A p + t
    linear, shift = forward[:, :, :2], forward[:, :, 2:]
    inverse = torch.linalg.inv(linear)
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64),
                            indexing="ij")
    points = torch.stack([xs.flatten(), ys.flatten()])                 # (2, H W)
    sampled = inverse @ (points[None] - shift)                          # (N, 2, H W)
    gx = 2 * sampled[:, 0] / max(width - 1, 1) - 1
    gy = 2 * sampled[:, 1] / max(height - 1, 1) - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(n, height, width, 2).to(dtype=x.dtype, device=x.device)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=True)
