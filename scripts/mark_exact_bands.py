"""Record exact radii in band ablations whose masks the exact-ring fix leaves unchanged (no re-run needed).

For every RUN/analysis/sensitivity.json under the given folders whose ``bands`` section lacks ``radii_exact``, this
takes each recorded radius as the default radius it stood for, k/S (S = min(H, W); the old code stored it rounded to
10 decimals), and compares the mask the old code built from the recorded float (float64 ``sqrt(fy^2 + fx^2) < r`` on
the rfft2 grid) with the exact mask of k/S (``freqprobe.fourier.radial_band_mask``). Only when every mask is
identical are the recorded accuracies those of the exact definition; then ``radii_exact`` is added and nothing else
changes. On 32x32 images (k/32 is exact in binary) they are identical; on 28x28 they are not. Runs with any
differing mask are listed and left for ``scripts/regenerate_bands.sh``.

    python scripts/mark_exact_bands.py results/bandpass results/cifar10-jpeg-resnet20-fast
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import torch

from freqprobe.fourier import frequency_axes, radial_band_mask
from freqprobe.io import atomic_write_json


def old_low_pass_mask(height: int, width: int, radius: float) -> torch.Tensor:
    fy, fx = frequency_axes(height, width, dtype=torch.float64)
    fx = fx[:, : width // 2 + 1].abs()
    return torch.sqrt(fy * fy + fx * fx) < radius


def image_size(run: Path) -> tuple[int, int]:
    config = json.loads((run / "config.json").read_text())
    shape = config.get("data", {}).get("image_shape")
    if not shape:
        sys.exit(f"mark_exact_bands: {run}/config.json records no data.image_shape")
    return int(shape[-2]), int(shape[-1])


def main(folders: list[str]) -> int:
    left = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("sensitivity.json")):
            document = json.loads(path.read_text())
            bands = document.get("bands")
            if not isinstance(bands, dict) or "low_pass_accuracy" not in bands or "radii_exact" in bands:
                continue
            height, width = image_size(path.parent.parent)
            side = min(height, width)
            exact = [Fraction(round(r * side), side) for r in bands["radii"]]
            same = all(abs(float(e) - r) < 1e-9 for r, e in zip(bands["radii"], exact)) and all(
                torch.equal(old_low_pass_mask(height, width, r), radial_band_mask(height, width, 0, e, onesided=True))
                for r, e in zip(bands["radii"], exact)
            )
            if not same:
                left.append(str(path))
                continue
            bands["radii_exact"] = [str(e) for e in exact]
            atomic_write_json(path, document)
            print(f"mark_exact_bands: {path}: {height}x{width}, all {len(exact)} masks identical; radii_exact added")
    for path in left:
        print(f"mark_exact_bands: {path}: masks differ; re-run with scripts/regenerate_bands.sh")
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["results"]))
