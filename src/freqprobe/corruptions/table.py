"""The parameter table of the 19 CIFAR-10-C corruptions at severities 1-5, and how they are adapted.

Source of every number: Hendrycks & Dietterich 2019, "Benchmarking Neural Network Robustness to Common Corruptions
and Perturbations" (ICLR), the parameters of the released CIFAR-10-C generator ``make_cifar_c.py``
(github.com/hendrycks/robustness, ImageNet-C/create_c/make_cifar_c.py), for 32x32 RGB images. The names are the file
names of the released data (``gaussian_noise.npy``, ...). The first 15 are the benchmark (mCE) set; speckle noise,
gaussian blur, spatter and saturate are the 4 extra (held-out) ones.

Adaptations, for every image size and for grey images:
- lengths in pixels (marked in ``lengths``; not defocus's disk radius, drawn on the integer grid) are multiplied by min(H, W) / 32 (0.875 on 28x28), so a corruption keeps
  its size relative to the image; elastic's table is in image sizes (IMSIZE x ...) and uses min(H, W) directly;
  zoom factors, pixelate factors, noise levels and blend weights have no unit and are kept;
- colour corruptions (brightness, saturate, spatter, frost, snow's greyscale lift) act on grey images repeated into
  RGB and return the ITU-R 601 luma; brightness on grey is exactly x + c; saturate leaves grey images unchanged at
  severities 1-3 (a grey pixel has no saturation to scale) and only its additive term acts at 4-5;
- fog draws its 32x32 plasma fractal (a power of two) and crops it to (H, W), as the original crops to the image.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = (
    "Hendrycks & Dietterich 2019 (ICLR), CIFAR-10-C generator make_cifar_c.py "
    "(github.com/hendrycks/robustness, ImageNet-C/create_c/make_cifar_c.py), parameters for 32x32"
)
SEVERITIES = (1, 2, 3, 4, 5)
FAMILIES = ("noise", "blur", "weather", "digital")


@dataclass(frozen=True)
class CorruptionParameters:
    """One corruption: its parameters at severities 1..5 (``values[s - 1]``), named by ``names``."""

    name: str
    family: str
    benchmark: bool
    names: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    lengths: tuple[str, ...] = ()  # parameters in pixels of a 32x32 image (scaled by min(H, W) / 32)
    note: str = ""

    def at(self, severity: int, scale: float = 1.0) -> dict[str, float]:
        """The parameters at ``severity`` (1..5), lengths multiplied by ``scale``."""
        values = self.values[severity - 1]
        return {
            key: value * scale if key in self.lengths else value for key, value in zip(self.names, values)
        }


def _single(name, family, benchmark, parameter, values, lengths=(), note=""):
    return CorruptionParameters(name, family, benchmark, (parameter,), tuple((v,) for v in values), lengths, note)


PARAMETERS: dict[str, CorruptionParameters] = {
    entry.name: entry
    for entry in (
        _single("gaussian_noise", "noise", True, "sigma", (0.04, 0.06, 0.08, 0.09, 0.10),
                note="x + N(0, sigma^2) per pixel and channel, clipped to [0, 1]"),
        _single("shot_noise", "noise", True, "photons", (500, 250, 100, 75, 50),
                note="Poisson(x * photons) / photons, clipped"),
        _single("impulse_noise", "noise", True, "amount", (0.01, 0.02, 0.03, 0.05, 0.07),
                note="salt and pepper: each pixel value replaced with probability amount by 0 or 1 (equal odds)"),
        CorruptionParameters(
            "defocus_blur", "blur", True, ("radius", "alias_sigma"),
            ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)), (),
            "disk of radius r on a 17x17 grid, smoothed by a 3x3 Gaussian (alias_sigma), reflect-101 borders; NOT "
            "scaled on smaller images: the disk is drawn on the integer grid, where radius 0.875 would drop to one "
            "pixel"),
        CorruptionParameters(
            "glass_blur", "blur", True, ("sigma", "max_delta", "iterations"),
            ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)), ("sigma",),
            "blur, quantize to 8 bits, swap each pixel with a random neighbour in [-d, d) (sequential sweep from the "
            "bottom-right, batched over images), blur again; Gaussian borders reflect (skimage: nearest)"),
        CorruptionParameters(
            "motion_blur", "blur", True, ("radius", "sigma"),
            ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)), ("radius", "sigma"),
            "one-sided Gaussian motion kernel of 2 ceil(radius) + 1 taps after ImageMagick's MotionBlurImage, "
            "angle uniform in [-45, 45) degrees per image, edges replicated (no PNG round trip)"),
        CorruptionParameters(
            "zoom_blur", "blur", True, ("max_zoom",),
            ((1.05,), (1.10,), (1.15,), (1.20,), (1.25,)), (),
            "mean of the image and its centre zooms by 1, 1.01, ..., max_zoom (bilinear)"),
        CorruptionParameters(
            "snow", "weather", True,
            ("mean", "std", "zoom", "threshold", "motion_radius", "motion_sigma", "blend"),
            ((0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
             (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)),
            ("motion_radius", "motion_sigma"),
            "Gaussian snow layer, zoomed, thresholded, motion-blurred at an angle in [-135, -45); image lifted towards "
            "1.5 luma + 0.5, layer and its 180-degree rotation added"),
        CorruptionParameters(
            "frost", "weather", True, ("image_weight", "frost_weight"),
            ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)), (),
            "SYNTHESIZED frost: the six frost photographs of the original are not available, so each image gets a "
            "seeded 1/f random field (power ~ |f|^-2, the slope of natural textures), min-max scaled to [0, 1]; "
            "x' = image_weight x + frost_weight frost, clipped. Not the published frost texture"),
        CorruptionParameters(
            "fog", "weather", True, ("strength", "decay"),
            ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)), (),
            "plasma fractal (diamond-square, 32x32, wibble decay) added with weight strength, then x max / (max + "
            "strength)"),
        _single("brightness", "weather", True, "shift", (0.05, 0.1, 0.15, 0.2, 0.3),
                note="HSV value + shift, clipped (exactly x V'/V per pixel)"),
        _single("contrast", "digital", True, "factor", (0.75, 0.5, 0.4, 0.3, 0.15),
                note="(x - mean) factor + mean with the per-image, per-channel mean, clipped"),
        CorruptionParameters(
            "elastic_transform", "digital", True, ("alpha", "sigma", "affine"),
            ((0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)), (),
            "table in image sizes (x min(H, W)): random affine moving 3 points by up to affine (reflect-101), then a "
            "displacement field of Gaussian-smoothed (sigma, truncate 3) uniform noise times alpha (reflect)"),
        _single("pixelate", "digital", True, "factor", (0.95, 0.9, 0.85, 0.75, 0.65),
                note="box-resize to int(side factor) and back (PIL's BOX filter as a matrix)"),
        _single("jpeg_compression", "digital", True, "quality", (80, 65, 58, 50, 40),
                note="PIL JPEG at this quality, per image (8-bit rounding first)"),
        _single("speckle_noise", "noise", False, "sigma", (0.06, 0.1, 0.12, 0.16, 0.2),
                note="x + x N(0, sigma^2), clipped"),
        _single("gaussian_blur", "blur", False, "sigma", (0.4, 0.6, 0.7, 0.8, 1.0), ("sigma",),
                note="Gaussian blur, truncate 4, reflect borders (skimage's default is nearest)"),
        CorruptionParameters(
            "spatter", "weather", False, ("mean", "std", "sigma", "threshold", "intensity_or_sigma", "mud"),
            ((0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0), (0.65, 0.3, 1, 0.69, 0.5, 0),
             (0.65, 0.1, 0.7, 0.69, 0.6, 1), (0.65, 0.1, 0.5, 0.68, 0.6, 1)), ("sigma",),
            "liquid layer N(mean, std) smoothed (sigma) and thresholded; water (mud 0) adds pale turquoise weighted by "
            "the layer scaled to max intensity_or_sigma -- an APPROXIMATION: the original's Canny/distance-transform/emboss "
            "shading of the drops is left out; mud (mud 1) is as published: brown where the mask smoothed with sigma intensity_or_sigma (a length, "
            "scaled in code) is >= 0.8"),
        CorruptionParameters(
            "saturate", "digital", False, ("scale", "shift"),
            ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)), (),
            "HSV saturation S scale + shift, clipped (hue and value kept)"),
    )
}

BENCHMARK = tuple(name for name, entry in PARAMETERS.items() if entry.benchmark)
EXTRA = tuple(name for name, entry in PARAMETERS.items() if not entry.benchmark)
ALL = BENCHMARK + EXTRA
