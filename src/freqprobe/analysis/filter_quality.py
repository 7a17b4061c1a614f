"""Filter-quality statistics of a convolution layer, after CNN-Filter-DB, and distances between kernel distributions.

Gavrikov and Keuper, "CNN Filter DB: An Empirical Investigation of Trained Convolutional Filters", CVPR 2022, judge
a layer's kernels by three numbers; freqprobe computes them as follows for a weight (O, I, kh, kw) whose n = O * I
kernels are flattened to the rows of X (n, kh*kw):

- **sparsity** -- the share of kernels whose taps all satisfy |w| < eps * max|W| (eps = 0.01, the maximum taken over
  the whole layer): kernels that have effectively died. A layer of zeros has sparsity 1.
- **variance entropy** -- with sigma_1..sigma_r the singular values of X - mean(X) (rows centred on the mean
  kernel, r = min(n, kh*kw)) and p_j = sigma_j^2 / sum_k sigma_k^2 the share of the kernels' variance along each
  principal direction:

      variance_entropy = -sum_j p_j log10 p_j                 (0 log 0 = 0; log10 as the authors' code)
      variance_entropy_normalized = variance_entropy / log10(kh*kw)   in [0, 1]

  0 means all kernels are one pattern up to scale (plus the mean); 1 means the variance is spread evenly over all
  kh*kw directions, i.e. the kernels look like isotropic noise -- the paper flags layers near that as degenerate.
  (The paper's own normalization divides by an empirical random-kernel baseline that depends on n; freqprobe uses
  the exact bound log10(kh*kw) instead.) Undefined (NaN) for 1x1 kernels and for fewer than 2 kernels.
- **orthogonality** -- of the O filters flattened to rows u_o (I*kh*kw) and scaled to unit length:

      orthogonality = 1 - sum_{o != o'} |u_o . u_o'| / (O (O - 1))    in [0, 1]

  1 for mutually orthogonal filters, 0 for filters that are all the same up to sign. Zero filters count as
  orthogonal to everything. NaN for a layer with one filter. In a grouped convolution filters of different groups
  read disjoint input channels (as operators they are orthogonal whatever their taps), so the statistic is taken
  within each group (:func:`orthogonality_by_group`) and the layer's value is the mean over the groups with at
  least two filters; a depthwise convolution (one filter per group) has none: NaN.

Distances between two models' layers (:func:`wasserstein_1d`): the 1-Wasserstein (earth mover's) distance between
the empirical distributions of a per-kernel statistic, W1 = integral |F_a(x) - F_b(x)| dx -- in the statistic's
units (cycles/pixel for the spectral centroid), 0 only for identical distributions, and defined for layers with
different kernel counts. (The paper compares distributions in a PCA basis of the taps; freqprobe compares the
spectral statistics, so that distances read on the same axis as the spectra.)
"""

from __future__ import annotations

import math

import torch

from freqprobe.errors import ConfigError

SPARSITY_EPS = 0.01


def sparsity(weight: torch.Tensor, eps: float = SPARSITY_EPS) -> float:
    """Share in [0, 1] of the layer's kernels whose taps are all below ``eps`` times the layer's max |tap|."""
    taps = _kernels_as_rows(weight, torch.float32 if weight.dtype != torch.float64 else torch.float64).abs()
    threshold = taps.max() * eps if taps.numel() else taps.new_tensor(0.0)
    if threshold == 0:
        return 1.0  # every tap is zero: every kernel is dead
    dead = (taps < threshold).all(dim=1)
    return float(dead.double().mean())


def variance_entropy(weight: torch.Tensor) -> tuple[float, float]:
    """(variance_entropy, variance_entropy_normalized) of the layer's kernels, see the module docstring."""
    rows = _kernels_as_rows(weight)
    n, k = rows.shape
    if k < 2 or n < 2:
        return float("nan"), float("nan")
    centred = rows - rows.mean(dim=0, keepdim=True)
    # Squared singular values of X are the eigenvalues of the k x k Gram matrix: one small eig per layer, not an
    # SVD of an (n, k) matrix with up to hundreds of thousands of rows.
    variances = torch.linalg.eigvalsh(centred.T @ centred).clamp_min(0.0)
    total = variances.sum()
    if total == 0:
        return 0.0, 0.0  # all kernels identical: one pattern, no spread
    shares = variances / total
    shares = shares[shares > 0]
    entropy = float(-(shares * torch.log10(shares)).sum())
    return entropy, entropy / math.log10(k)


def orthogonality(weight: torch.Tensor, groups: int = 1) -> float:
    """1 - mean |cosine| between distinct filters (flattened over input channels and taps) of the same group, see
    the module docstring; NaN when no group has two filters."""
    per_group = orthogonality_by_group(weight, groups)
    finite = per_group[torch.isfinite(per_group)]
    return float(finite.mean()) if finite.numel() else float("nan")


def orthogonality_by_group(weight: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """The orthogonality of each group's O/groups filters: float64 (groups,), NaN for groups of one filter.

    Raises:
        ConfigError: ``groups`` does not divide the output channels.
    """
    if not isinstance(groups, int) or groups < 1 or weight.shape[0] % groups:
        raise ConfigError(f"groups={groups!r} does not divide the {weight.shape[0]} output channels of the weight")
    # float32 cosines are exact to ~1e-7, far below any difference that matters; float64 weights stay float64.
    dtype = torch.float64 if weight.dtype == torch.float64 else torch.float32
    filters = weight.detach().reshape(groups, weight.shape[0] // groups, -1).to("cpu", dtype)
    count = filters.shape[1]
    if count < 2:
        return torch.full((groups,), float("nan"), dtype=torch.float64)
    norms = filters.norm(dim=2, keepdim=True)
    unit = filters / torch.where(norms > 0, norms, torch.ones_like(norms))
    cosines = (unit @ unit.mT).abs()
    off_diagonal = cosines.sum(dim=(1, 2), dtype=torch.float64) - cosines.diagonal(dim1=1, dim2=2).sum(
        dim=1, dtype=torch.float64
    )
    return 1.0 - off_diagonal / (count * (count - 1))


def filter_quality(weight: torch.Tensor, eps: float = SPARSITY_EPS, groups: int = 1) -> dict[str, float]:
    """All CNN-Filter-DB statistics of one layer: sparsity, variance_entropy(_normalized), orthogonality (within
    groups for a grouped convolution)."""
    entropy, normalized = variance_entropy(weight)
    return {
        "sparsity": sparsity(weight, eps),
        "variance_entropy": entropy,
        "variance_entropy_normalized": normalized,
        "orthogonality": orthogonality(weight, groups),
    }


def wasserstein_1d(a: torch.Tensor, b: torch.Tensor) -> float:
    """1-Wasserstein distance between the empirical distributions of samples a (n,) and b (m,); NaNs are ignored.

    Exact: the integral of |F_a - F_b| over the merged sorted support, one sort and two searches.
    """
    a = _finite_samples(a, "a")
    b = _finite_samples(b, "b")
    support = torch.cat([a, b]).sort().values
    gaps = support.diff()
    cdf_a = torch.searchsorted(a.sort().values, support[:-1], right=True).double() / a.numel()
    cdf_b = torch.searchsorted(b.sort().values, support[:-1], right=True).double() / b.numel()
    return float(((cdf_a - cdf_b).abs() * gaps).sum())


def _finite_samples(values: torch.Tensor, name: str) -> torch.Tensor:
    values = torch.as_tensor(values).detach().flatten().to("cpu", torch.float64)
    values = values[torch.isfinite(values)]
    if values.numel() == 0:
        raise ConfigError(f"wasserstein_1d: sample {name} has no finite values; both layers need non-zero kernels")
    return values


def _kernels_as_rows(weight: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(O, I, kh, kw) -> (O*I, kh*kw) of ``dtype`` on the CPU."""
    if weight.ndim != 4:
        raise ConfigError(f"a Conv2d weight must be (out, in, kh, kw), got shape {tuple(weight.shape)}")
    return weight.detach().reshape(-1, weight.shape[-2] * weight.shape[-1]).to("cpu", dtype)
