"""Sensitivity of the whole network to frequencies: band ablation, Fourier heat map, input-gradient spectrum,
shift consistency and adversarial attacks with the spectra of their perturbations.

Every function takes a model, an input filter (or None) and float pixel images (N, C, H, W) in [0, 1] with int64
labels (N,); perturbations act on the clean pixel image, which is clamped to [0, 1] and then passed through the input
filter and the model (:data:`PIPELINE_ORDER`). ``freqprobe sensitivity RUN --out DIR`` runs them on a run folder.

    from freqprobe.analysis.sensitivity import load_run, fourier_heat_map
    model, input_filter, config = load_run("runs/cifar10-none")
    heat = fourier_heat_map(model, images, labels, input_filter, eps=4.0)
"""

from freqprobe.analysis.sensitivity.attacks import (
    AttackResult,
    AttackSpec,
    attack_analysis,
    craft,
    fgsm,
    pgd,
    summarize_spectrum,
)
from freqprobe.analysis.sensitivity.bands import BandAblation, band_ablation, default_radii, high_pass, low_pass
from freqprobe.analysis.sensitivity.gradient_spectrum import (
    GradientSpectrum,
    gradient_spectrum,
    input_gradients,
    rank_correlation,
)
from freqprobe.analysis.sensitivity.heatmap import (
    FourierHeatMap,
    canonical_frequencies,
    conjugate,
    fourier_basis,
    fourier_heat_map,
)
from freqprobe.analysis.sensitivity.pipeline import (
    PIPELINE_ORDER,
    FilteredModel,
    InferenceSettings,
    build_pipeline,
    evaluate,
)
from freqprobe.analysis.sensitivity.run_folder import LoadedRun, load_run, load_test_images
from freqprobe.analysis.sensitivity.runner import SensitivityOptions, run_sensitivity
from freqprobe.analysis.sensitivity.shift import ShiftConsistency, roll_each, shift_consistency

__all__ = [
    "PIPELINE_ORDER",
    "AttackResult",
    "AttackSpec",
    "BandAblation",
    "FilteredModel",
    "FourierHeatMap",
    "GradientSpectrum",
    "InferenceSettings",
    "LoadedRun",
    "SensitivityOptions",
    "ShiftConsistency",
    "attack_analysis",
    "band_ablation",
    "build_pipeline",
    "canonical_frequencies",
    "conjugate",
    "craft",
    "default_radii",
    "evaluate",
    "fgsm",
    "fourier_basis",
    "fourier_heat_map",
    "gradient_spectrum",
    "high_pass",
    "input_gradients",
    "load_run",
    "load_test_images",
    "low_pass",
    "pgd",
    "rank_correlation",
    "roll_each",
    "run_sensitivity",
    "shift_consistency",
    "summarize_spectrum",
]
