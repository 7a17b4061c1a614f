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

Cost: the blocks are formed for that half of the output frequencies only, transposed, by one matrix product of
DFT factors with the kernel taps (no (O, I, H, W) transform of the whole grid), a bounded number of frequencies at
a time (``BLOCK_BYTES``), and each chunk goes to one batched ``torch.linalg.svdvals``. The chunks run on a pool of
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

BLOCK_BYTES = 64 * 2**20  # memory held by the chunks of operator blocks being decomposed at one time
CHUNKS_PER_WORKER = 4  # measured: with one or two chunks a worker, a ResNet-50's layers left a core idle ~30% of the time


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


def transposed_blocks(
    weight: torch.Tensor,
    input_size: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    frequencies: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """The operator's diagonal blocks in the unitary Fourier bases, transposed and contiguous: complex
    (F * groups, s_y s_x * I/g, O/g), one per output frequency (g_y[f], g_x[f]) of ``frequencies`` (default: every
    frequency of the (H/s_y, W/s_x) output grid, row-major), then group. Block B (O/g, s_y s_x * I/g) has a column
    per alias (a_y, a_x) of the input frequencies k = g + a (H/s_y, W/s_x) that fold onto g, then input channel.
    Float32 kernels give complex64 blocks; float64 give complex128.

    Block f, read as B^T, is sum over taps t of E[f, a, t] W[o, i, t]: one matrix product of the (F s_y s_x, taps)
    DFT factors with the (taps, I/g O/g) weights, whose result is already laid out block by block (the transpose has
    the block's singular values). Forming the blocks this way writes each entry once, where a per-axis DFT and a
    permutation of the (F, O, I) result took several passes over the blocks (measured: block formation was 40% of the
    thread time of a ResNet-50's singular values).
    """
    _check_groups(weight, groups)
    height, width = input_size
    stride_y, stride_x = stride
    out_h, out_w = height // stride_y, width // stride_x
    if frequencies is None:
        grid_y, grid_x = torch.meshgrid(torch.arange(out_h), torch.arange(out_w), indexing="ij")
        frequencies = (grid_y.flatten(), grid_x.flatten())
    gy, gx = frequencies
    out_channels, in_per_group, kh, kw = weight.shape
    out_per_group = out_channels // groups
    complex_dtype = torch.complex128 if weight.dtype == torch.float64 else torch.complex64
    factors = _alias_tap_factors(gy, gx, input_size, stride, (kh, kw), as_stride_pair(dilation))
    aliases, taps = factors.shape[1:]
    # (taps, groups, I/g, O/g): column (g, i, o) of the product is entry (i, o) of group g's transposed block
    weights = weight.detach().reshape(groups, out_per_group, in_per_group, taps).permute(3, 0, 2, 1)
    weights = weights.reshape(taps, -1).to(complex_dtype)
    product = (factors.reshape(-1, taps).to(complex_dtype) @ weights).reshape(
        len(gy), aliases, groups, in_per_group, out_per_group
    )
    if groups > 1 and aliases > 1:
        product = product.transpose(1, 2)  # (F, groups, aliases, I/g, O/g): a copy, for strided grouped layers only
    return product.reshape(len(gy) * groups, aliases * in_per_group, out_per_group)


def _alias_tap_factors(
    gy: torch.Tensor,
    gx: torch.Tensor,
    size: tuple[int, int],
    stride: tuple[int, int],
    kernel: tuple[int, int],
    dilation: tuple[int, int],
) -> torch.Tensor:
    """complex128 (F, s_y s_x, kh kw): exp(-2 pi i (k_y d_y u / H + k_x d_x v / W)) / sqrt(s_y s_x) for the input
    frequencies k = g + a (H/s_y, W/s_x) aliasing onto each output frequency g, tap (u, v); the factor makes the
    DFTs unitary."""
    (height, width), (stride_y, stride_x) = size, stride
    ky = gy.reshape(-1, 1) + torch.arange(stride_y) * (height // stride_y)  # (F, s_y)
    kx = gx.reshape(-1, 1) + torch.arange(stride_x) * (width // stride_x)  # (F, s_x)
    along_y = _dft_matrix(ky, kernel[0], dilation[0], height)  # (F, s_y, kh)
    along_x = _dft_matrix(kx, kernel[1], dilation[1], width)  # (F, s_x, kw)
    factors = along_y[:, :, None, :, None] * along_x[:, None, :, None, :]  # (F, s_y, s_x, kh, kw)
    return factors.reshape(len(gy), stride_y * stride_x, -1) / math.sqrt(stride_y * stride_x)


def _blockwise_singular_values(
    weight: torch.Tensor,
    size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """(groups, H' W' min(O/g, I/g s_y s_x)) from the blocks of one member of each conjugate pair, in chunks of
    frequencies decomposed in parallel (each chunk at most ``BLOCK_BYTES`` / workers)."""
    out_h, out_w = size[0] // stride[0], size[1] // stride[1]
    gy, gx, multiplicity = _conjugate_half(out_h, out_w)
    workers = max(1, torch.get_num_threads())
    block_bytes = weight.shape[0] * weight.shape[1] * stride[0] * stride[1] * 16
    # at least CHUNKS_PER_WORKER chunks a worker, taken as workers free up, so unequal chunks still end together
    chunks_wanted = max(CHUNKS_PER_WORKER * workers, -(-len(gy) * block_bytes // max(1, BLOCK_BYTES // workers)))
    per_chunk = max(1, -(-len(gy) // chunks_wanted))
    chunks = list(zip(gy.split(per_chunk), gx.split(per_chunk), multiplicity.split(per_chunk)))

    def decompose(chunk) -> torch.Tensor:
        chunk_y, chunk_x, counts = chunk
        blocks = transposed_blocks(weight, size, stride, dilation, groups, (chunk_y, chunk_x))
        values = torch.linalg.svdvals(blocks)  # (F * groups, min(rows, cols)): a block's transpose, same values
        values = values.reshape(len(chunk_y), groups, -1).repeat_interleave(counts, dim=0)
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


def _conjugate_half(out_h: int, out_w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(g_y, g_x, multiplicity) of one frequency of each conjugate pair {g, -g} of the (H', W') output grid.

    Blocks at g and -g (mod the output grid) are complex conjugates up to a unitary permutation of their columns,
    so they share singular values. Rows 0 < g_y < H'/2 have their mirrors in rows not kept (multiplicity 2); in the
    rows equal to their own mirror (0 and H'/2) only g_x <= -g_x mod W' is kept, with multiplicity 2, or 1 for the
    frequencies equal to their own mirror (DC and the Nyquist ones).
    """
    gy = torch.arange(out_h // 2 + 1).reshape(-1, 1)
    gx = torch.arange(out_w).reshape(1, -1)
    mirror_row = (-gy) % out_h == gy
    mirror_x = (-gx) % out_w
    keep = ~mirror_row | (gx <= mirror_x)
    multiplicity = torch.where(mirror_row & (gx == mirror_x), 1, 2)
    gy, gx = torch.broadcast_tensors(gy, gx)
    return gy[keep], gx[keep], multiplicity.expand_as(keep)[keep]


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
