"""Exact singular values of a convolutional layer as a linear operator on its input (Sedghi, Gupta, Long 2019).

Sedghi, Gupta and Long, "The Singular Values of Convolutional Layers", ICLR 2019: a stride-1 convolution with
circular padding on (I, H, W) inputs is block-diagonalized by the 2-D DFT, so its singular values are the union over
the H*W frequencies f of the singular values of the (O x I) matrix K(f) of kernel DFTs at f (taps wrapped modulo
H, W). This module extends that in two exact ways:

- **Stride (s_y, s_x)** (H, W divisible by it): subsampling maps output frequency g of the (H/s_y, W/s_x) grid to
  the s_y*s_x input frequencies f_a = g + a*(H/s_y, W/s_x) that alias onto it, so the operator splits into blocks
  [K(f_1) ... K(f_{s_y s_x})] / sqrt(s_y s_x) of shape (O, I*s_y*s_x), one per g (the factor makes the DFTs
  unitary). The padding offset multiplies each alias block by its own phase, a unitary change of basis that leaves
  the singular values unchanged.
- **Groups and dilation**: a grouped conv is block-diagonal over groups (union of the groups' values); a dilated
  kernel is the kernel with zeros between its taps.

A 1x1 kernel has the same DFT at every frequency, so its values are those of the (O, I) weight matrix, repeated.

The circular operator is the one analysed: the network's zero padding differs from it only at the image border.
Real kernels give K(-f) = conj K(f), whose singular values are equal, so only one frequency of each pair {g, -g} is
decomposed and its values counted twice.
"""

from __future__ import annotations

import torch

from freqprobe.analysis.aliasing import as_stride_pair
from freqprobe.errors import ConfigError


def conv_singular_values(
    weight: torch.Tensor,
    input_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """All singular values of the circular convolution: weight (O, I/groups, kh, kw), input (I, H, W).

    Returns float64 (n,) sorted descending with n = groups * (H/s_y)(W/s_x) * min(O/groups, I/groups * s_y s_x),
    the rank bound of the operator. Raises ConfigError when H or W is not divisible by the stride.
    """
    height, width = _size_pair(input_size)
    stride_y, stride_x = as_stride_pair(stride)
    if height % stride_y or width % stride_x:
        raise ConfigError(
            f"input {height}x{width} is not divisible by stride {stride_y}x{stride_x}; the exact singular values need "
            f"an input size that is (set --input-size accordingly)"
        )
    _check_groups(weight, groups)
    out_h, out_w = height // stride_y, width // stride_x
    if tuple(weight.shape[-2:]) == (1, 1):
        values = _pointwise_singular_values(weight, groups, out_h * out_w, stride_y * stride_x)
    else:
        blocks = operator_blocks(weight, (height, width), (stride_y, stride_x), dilation, groups)
        half, multiplicity = _conjugate_half(out_h, out_w, groups)
        values = torch.linalg.svdvals(blocks[half])  # (n_half, min(rows, cols))
        values = values.repeat_interleave(multiplicity.to(values.device), dim=0)
    return values.flatten().to(torch.float64).sort(descending=True).values


def spectral_norm(
    weight: torch.Tensor,
    input_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> float:
    """The largest singular value (the operator's Lipschitz constant in L2) of :func:`conv_singular_values`."""
    return float(conv_singular_values(weight, input_size, stride, dilation, groups)[0])


def operator_blocks(
    weight: torch.Tensor,
    input_size: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """The operator's diagonal blocks in the unitary Fourier bases: complex (groups * H' * W', O/g, I/g * s_y s_x).

    Block index is (group, g_y, g_x) row-major over the output grid (H', W') = (H/s_y, W/s_x). The float32 kernels of
    a trained net give complex64 blocks; float64 kernels give complex128.
    """
    _check_groups(weight, groups)
    out_channels, in_per_group = weight.shape[:2]
    height, width = input_size
    stride_y, stride_x = stride
    kernel = _periodic_kernel(_dilated(weight.detach(), dilation), height, width)
    response = torch.fft.fft2(kernel)  # (O, I/g, H, W)
    out_h, out_w = height // stride_y, width // stride_x
    out_per_group = out_channels // groups
    # Frequency index u = g + a * out_h (alias a of output frequency g) along each axis.
    blocks = response.reshape(groups, out_per_group, in_per_group, stride_y, out_h, stride_x, out_w)
    blocks = blocks.permute(0, 4, 6, 1, 2, 3, 5)  # (groups, g_y, g_x, O/g, I/g, a_y, a_x)
    blocks = blocks.reshape(groups * out_h * out_w, out_per_group, in_per_group * stride_y * stride_x)
    return blocks / (stride_y * stride_x) ** 0.5


def _pointwise_singular_values(weight: torch.Tensor, groups: int, n_frequencies: int, aliases: int) -> torch.Tensor:
    """A 1x1 kernel has the same DFT W at every frequency, and [W ... W] / sqrt(s_y s_x) (the strided block) has
    the same Gram matrix W W^T, hence the same non-zero singular values: those of W, once per output frequency,
    padded with zeros to the block's min(rows, columns)."""
    out_channels, in_per_group = weight.shape[:2]
    out_per_group = out_channels // groups
    per_group = weight.detach().reshape(groups, out_per_group, in_per_group)
    values = torch.linalg.svdvals(per_group)  # (groups, min(O/g, I/g))
    zeros = min(out_per_group, in_per_group * aliases) - values.shape[1]
    values = torch.nn.functional.pad(values, (0, zeros))
    return values.repeat_interleave(n_frequencies, dim=0)


def _conjugate_half(out_h: int, out_w: int, groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of one block of each conjugate pair {g, -g} of output frequencies, and how often its values occur.

    Blocks at g and -g (mod the output grid) are complex conjugates up to a unitary permutation of their columns,
    so they share singular values: the block of lower index stands for both (multiplicity 2); the frequencies equal
    to their own mirror (DC and the Nyquist ones) stand for themselves (multiplicity 1).
    """
    gy = torch.arange(out_h).reshape(-1, 1)
    gx = torch.arange(out_w).reshape(1, -1)
    index = (gy * out_w + gx).flatten()
    mirror = ((-gy % out_h) * out_w + (-gx % out_w)).flatten()
    keep = index <= mirror
    multiplicity = torch.where(index == mirror, 1, 2)[keep]
    offsets = (torch.arange(groups) * out_h * out_w).reshape(-1, 1)
    return (offsets + index[keep]).flatten(), multiplicity.repeat(groups)


def _periodic_kernel(weight: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Taps wrapped onto an (H, W) torus: (O, I, kh, kw) -> (O, I, H, W); kernels wider than the input fold over."""
    kh, kw = weight.shape[-2:]
    tiles_y, tiles_x = -(-kh // height), -(-kw // width)
    padded = torch.nn.functional.pad(weight, (0, tiles_x * width - kw, 0, tiles_y * height - kh))
    tiled = padded.reshape(*weight.shape[:2], tiles_y, height, tiles_x, width)
    return tiled.sum(dim=(2, 4))


def _dilated(weight: torch.Tensor, dilation: int | tuple[int, int]) -> torch.Tensor:
    """The kernel with d - 1 zeros between neighbouring taps: (O, I, kh, kw) -> (O, I, d(kh-1)+1, d(kw-1)+1)."""
    dy, dx = as_stride_pair(dilation)
    if (dy, dx) == (1, 1):
        return weight
    kh, kw = weight.shape[-2:]
    spread = weight.new_zeros(*weight.shape[:2], dy * (kh - 1) + 1, dx * (kw - 1) + 1)
    spread[..., ::dy, ::dx] = weight
    return spread


def _check_groups(weight: torch.Tensor, groups: int) -> None:
    if weight.ndim != 4:
        raise ConfigError(f"a Conv2d weight must be (out, in/groups, kh, kw), got shape {tuple(weight.shape)}")
    if not isinstance(groups, int) or groups < 1 or weight.shape[0] % groups:
        raise ConfigError(f"groups={groups!r} does not divide the {weight.shape[0]} output channels of the weight")


def _size_pair(size: int | tuple[int, int]) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or any(not isinstance(s, int) or s < 1 for s in pair):
        raise ConfigError(f"input size {size!r} is not a positive integer or (H, W) pair; use e.g. --input-size 32")
    return int(pair[0]), int(pair[1])
