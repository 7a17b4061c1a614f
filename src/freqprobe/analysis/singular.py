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

Cost: the blocks are formed for that half of the output frequencies only, by two small DFT-matrix products over the
kernel taps (no (O, I, H, W) transform of the whole grid), a bounded number of frequency rows at a time
(``BLOCK_BYTES``), and each chunk goes to one batched ``torch.linalg.svdvals``. The chunks run on a pool of
``torch.get_num_threads()`` workers, each with single-threaded LAPACK: the blocks are small (at most a few hundred
rows), where LAPACK's own threading gains little and, on a loaded machine, spins (measured: a batch of 512x512 complex
SVDs 10x to 70x slower in CPU time with 2 threads than with 1 on a 2-core host running other jobs). A 1x1
convolution needs one eigen-decomposition of the (smaller) float64 Gram matrix of its weight.
"""

from __future__ import annotations

import math

import torch

from freqprobe.analysis.aliasing import as_stride_pair
from freqprobe.errors import ConfigError
from freqprobe.parallel import map_single_threaded, single_threaded_torch

BLOCK_BYTES = 64 * 2**20  # memory held by one chunk of operator blocks


def conv_singular_values(
    weight: torch.Tensor,
    input_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """All singular values of the circular convolution: weight (O, I/groups, kh, kw), input (I, H, W).

    Returns float64 (n,) sorted descending with n = groups * (H/s_y)(W/s_x) * min(O/groups, I/groups * s_y s_x),
    the rank bound of the operator: the union over groups of :func:`grouped_singular_values`.

    Raises:
        ConfigError: H or W not divisible by the stride, bad sizes, groups or weight shape.

    Example:
        >>> import torch
        >>> conv_singular_values(torch.ones(1, 1, 3, 3), 4)[:2].tolist()  # |K(f)|: 9 at DC, then 3
        [9.0, 3.0]
    """
    values = grouped_singular_values(weight, input_size, stride, dilation, groups)
    return values.flatten().sort(descending=True).values


def grouped_singular_values(
    weight: torch.Tensor,
    input_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """The singular values of each group's operator: float64 (groups, n / groups), each row sorted descending.

    A grouped convolution is block-diagonal over its groups (group g maps input channels g I/G.. to output channels
    g O/G..), so the layer's values are the union of the rows; a depthwise convolution's row c is |K_c(f)| over the
    grid (stride 1).
    """
    height, width = _size_pair(input_size)
    stride_y, stride_x = as_stride_pair(stride)
    if height % stride_y or width % stride_x:
        raise ConfigError(
            f"input {height}x{width} is not divisible by stride {stride_y}x{stride_x}; the exact singular values need "
            f"an input size that is (set --input-size accordingly)"
        )
    _check_groups(weight, groups)
    dilation_pair = as_stride_pair(dilation)
    out_h, out_w = height // stride_y, width // stride_x
    if tuple(weight.shape[-2:]) == (1, 1):
        values = _pointwise_singular_values(weight, groups, out_h * out_w, stride_y * stride_x)
    else:
        values = _blockwise_singular_values(weight, (height, width), (stride_y, stride_x), dilation_pair, groups)
    return values.sort(dim=1, descending=True).values


def spectral_norm(
    weight: torch.Tensor,
    input_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> float:
    """The largest singular value (the operator's Lipschitz constant in L2) of :func:`conv_singular_values`."""
    return float(grouped_singular_values(weight, input_size, stride, dilation, groups)[:, 0].max())


def operator_blocks(
    weight: torch.Tensor,
    input_size: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    rows: torch.Tensor | None = None,
) -> torch.Tensor:
    """The operator's diagonal blocks in the unitary Fourier bases: complex (R * W' * groups, O/g, I/g * s_y s_x).

    One block per output frequency (g_y, g_x, group), row-major over g_y in ``rows`` (default: all H' = H/s_y rows),
    g_x in 0..W'-1 (W' = W/s_x), then group. A block's columns are input channel, then alias a_y, a_x of the input
    frequencies f = g + a (H', W') that fold onto g. Float32 kernels give complex64 blocks; float64 give complex128.
    """
    _check_groups(weight, groups)
    height, width = input_size
    stride_y, stride_x = stride
    dy, dx = as_stride_pair(dilation)
    out_h, out_w = height // stride_y, width // stride_x
    rows = torch.arange(out_h) if rows is None else rows
    out_channels, in_per_group, kh, kw = weight.shape
    complex_dtype = torch.complex128 if weight.dtype == torch.float64 else torch.complex64
    # Input frequency indices: k_y = g_y + a_y H' for the chosen rows, k_x = g_x + a_x W' for all columns.
    ky = rows.reshape(-1, 1) + torch.arange(stride_y).reshape(1, -1) * out_h  # (R, s_y)
    kx = torch.arange(out_w).reshape(1, -1) + torch.arange(stride_x).reshape(-1, 1) * out_w  # (s_x, W')
    dft_y = _dft_matrix(ky, kh, dy, height).to(complex_dtype)  # (R, s_y, kh)
    dft_x = _dft_matrix(kx, kw, dx, width).to(complex_dtype)  # (s_x, W', kw)
    taps = weight.detach().to(complex_dtype)
    along_x = torch.einsum("oiuv,axv->oiuax", taps, dft_x)  # (O, I/g, kh, s_x, W')
    response = torch.einsum("oiuax,rbu->rxoiba", along_x, dft_y)  # (R, W', O, I/g, s_y, s_x)
    blocks = response.reshape(len(rows) * out_w * groups, out_channels // groups, in_per_group * stride_y * stride_x)
    return blocks / math.sqrt(stride_y * stride_x)


def _blockwise_singular_values(
    weight: torch.Tensor,
    size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """(groups, H' W' min(O/g, I/g s_y s_x)) from the blocks of one member of each conjugate pair, in chunks of
    output-frequency rows decomposed in parallel."""
    out_h, out_w = size[0] // stride[0], size[1] // stride[1]
    out_channels, in_per_group = weight.shape[:2]
    workers = max(1, torch.get_num_threads())
    block_bytes = out_channels * in_per_group * stride[0] * stride[1] * 16
    rows_per_chunk = max(1, BLOCK_BYTES // workers // max(1, block_bytes * out_w))
    chunks = torch.arange(out_h // 2 + 1).split(rows_per_chunk)

    def decompose(chunk: torch.Tensor) -> torch.Tensor:
        blocks = operator_blocks(weight, size, stride, dilation, groups, rows=chunk)
        keep, multiplicity = _conjugate_half(chunk, out_h, out_w)
        blocks = blocks.reshape(len(chunk) * out_w, groups, *blocks.shape[1:])[keep]
        values = torch.linalg.svdvals(blocks)  # (n_kept, groups, min(rows, cols))
        values = values.repeat_interleave(multiplicity, dim=0)
        return values.transpose(0, 1).reshape(groups, -1)

    return torch.cat(map_single_threaded(decompose, chunks), dim=1).to(torch.float64)


def _dft_matrix(frequencies: torch.Tensor, taps: int, dilation: int, size: int) -> torch.Tensor:
    """exp(-2 pi i k (d u) / N) for frequency indices k (any shape) and taps u = 0..taps-1 at spacing d: (..., taps).

    The phase is reduced modulo N in integers first, so large k d u lose no precision."""
    positions = torch.arange(taps) * dilation
    phase = (frequencies.unsqueeze(-1) * positions) % size
    return torch.polar(torch.ones((), dtype=torch.float64), -2 * math.pi * phase.to(torch.float64) / size)


def _pointwise_singular_values(weight: torch.Tensor, groups: int, n_frequencies: int, aliases: int) -> torch.Tensor:
    """A 1x1 kernel has the same DFT W at every frequency, and [W ... W] / sqrt(s_y s_x) (the strided block) has
    the same Gram matrix W W^T, hence the same non-zero singular values: those of W, once per output frequency,
    padded with zeros to the block's min(rows, columns). They come from the eigenvalues of the smaller float64 Gram
    matrix (exact to ~1e-8 of the largest value, below float32 weights' own rounding)."""
    out_channels, in_per_group = weight.shape[:2]
    out_per_group = out_channels // groups
    per_group = weight.detach().reshape(groups, out_per_group, in_per_group).to(torch.float64)
    with single_threaded_torch():  # one small eigenproblem: LAPACK threads would only spin
        gram = per_group @ per_group.mT if out_per_group <= in_per_group else per_group.mT @ per_group
        values = torch.linalg.eigvalsh(gram).clamp_min(0.0).sqrt().flip(-1)  # (groups, min(O/g, I/g))
    zeros = min(out_per_group, in_per_group * aliases) - values.shape[1]
    values = torch.nn.functional.pad(values, (0, zeros))
    return values.repeat(1, n_frequencies)


def _conjugate_half(rows: torch.Tensor, out_h: int, out_w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which blocks of ``rows`` (g_y <= H'/2) x all g_x stand for a conjugate pair {g, -g}, and how often their
    values occur.

    Blocks at g and -g (mod the output grid) are complex conjugates up to a unitary permutation of their columns,
    so they share singular values. Rows 0 < g_y < H'/2 have their mirrors in rows not computed (multiplicity 2);
    in the rows equal to their own mirror (0 and H'/2) only g_x <= -g_x mod W' is kept, with multiplicity 2, or 1
    for the frequencies equal to their own mirror (DC and the Nyquist ones).
    """
    gy = rows.reshape(-1, 1)
    gx = torch.arange(out_w).reshape(1, -1)
    mirror_row = (-gy) % out_h == gy
    mirror_x = (-gx) % out_w
    keep = ~mirror_row | (gx <= mirror_x)
    multiplicity = torch.where(mirror_row & (gx == mirror_x), 1, 2).expand_as(keep)
    return keep.flatten(), multiplicity[keep].flatten()


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
