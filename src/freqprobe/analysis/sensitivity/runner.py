"""``freqprobe sensitivity RUN``: load a run and its test images, run the requested analyses, write the results.

The run folder is read by :mod:`~freqprobe.analysis.sensitivity.run_folder`. Every analysis evaluates
``input filter -> model`` on perturbed clean pixel images (see
:data:`~freqprobe.analysis.sensitivity.pipeline.PIPELINE_ORDER`).

Results go to ``OUT/sensitivity.json``, one section per mode (``bands``, ``heatmap``, ``gradient_spectrum``,
``shift``, ``attacks``); a file from an earlier call for the same run is merged into, so modes can be run one after
another. The file is rewritten (atomically) after each mode, so finished modes survive an interruption.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import torch

from freqprobe.analysis.sensitivity.attacks import DEFAULT_PREFILTER_SIGMA, AttackSpec, attack_analysis
from freqprobe.analysis.sensitivity.bands import band_ablation
from freqprobe.analysis.sensitivity.gradient_spectrum import gradient_spectrum, rank_correlation
from freqprobe.analysis.sensitivity.heatmap import DEFAULT_EPS, fourier_heat_map
from freqprobe.analysis.sensitivity.heatmap_plan import HeatMapPlan, sampled_mean_estimate
from freqprobe.analysis.sensitivity.pipeline import PIPELINE_ORDER, InferenceSettings
from freqprobe.analysis.sensitivity.run_folder import LoadedRun, load_run, load_test_images, read_json_object
from freqprobe.analysis.sensitivity.shift import shift_consistency
from freqprobe.errors import ConfigError
from freqprobe.io import atomic_write_json, named_path, output_set, prepare_output_dir, relative_name

RESULTS_FILE = "sensitivity.json"
@dataclass
class SensitivityOptions:
    """Which analyses to run on a run folder and how; see :func:`run_sensitivity`."""

    bands: bool = False
    heatmap: bool = False
    gradient_spectrum: bool = False
    shift: bool = False
    attack: AttackSpec | None = None
    band_radii: list[float] | None = None
    heatmap_eps: float = DEFAULT_EPS
    heatmap_max_radius: float | None = None
    heatmap_stride: int = 1
    heatmap_sample: int | None = None
    shard: tuple[int, int] = (0, 1)
    max_shift: int | None = None
    prefilter_sigma: float | None = DEFAULT_PREFILTER_SIGMA
    subset: int | None = None
    batch_size: int = 500
    seed: int = 0
    precision: str = "auto"
    device: str = "cpu"
    data_dir: str | None = None
    progress: bool = True
    corruptions: bool = False
    corruption_data: str | None = None
    ce_baseline: str | None = None
    corruption_names: tuple[str, ...] | None = None  # None: all 19
    figure_format: str = "png"  # png | pdf | svg (freqprobe.plots.formats)

    def figure(self, name: str) -> str:
        """The file name of figure ``name`` (``"bands"``, ...) in the chosen format."""
        from freqprobe.plots.formats import figure_file
        from freqprobe.plots.sensitivity import FIGURES

        return figure_file(FIGURES[name], self.figure_format)

    def modes(self) -> list[str]:
        chosen = [name for name in ("bands", "heatmap", "gradient_spectrum", "shift") if getattr(self, name)]
        chosen += ["attack"] if self.attack is not None else []
        return chosen + (["corruptions"] if self.corruptions else [])


def run_sensitivity(run_dir: str | os.PathLike, out_dir: str | os.PathLike, options: SensitivityOptions) -> dict:
    """Run the modes chosen in ``options`` on ``run_dir``; write ``out_dir/sensitivity.json`` and the figures.

    Returns the whole (merged) content of sensitivity.json.

    Raises:
        ConfigError: no mode chosen, or ``out_dir`` already holds results of another run.
        FreqprobeError: unreadable run folder or data.
    """
    if not options.modes():
        raise ConfigError(
            "no analysis chosen; pass one or more of --bands, --heatmap, --gradient-spectrum, --shift, --attack, "
            "--corruptions"
        )
    settings = InferenceSettings(options.batch_size, options.precision, options.device)  # fail before loading
    plan = heatmap_plan(options)  # a bad stride, sample or shard fails before loading too
    if plan.shard[1] > 1 and options.modes() != ["heatmap"]:
        raise ConfigError("--shard splits the heat map only; run it with --heatmap alone, other modes in one call")
    out_dir = prepare_output_dir(out_dir, "--out")  # before the analyses: a bad --out costs no minutes
    results_path = out_dir / RESULTS_FILE
    # the run as seen from the results file, so committed outputs carry no machine paths
    run_name = relative_name(run_dir, out_dir)
    document = existing_results(results_path, run_name)
    if options.corruptions:
        from freqprobe.analysis.sensitivity.corruption_step import check_corruption_inputs

        check_corruption_inputs(document, options, results_path)  # before loading: a refusal costs no minutes
    from freqprobe.data import to_float

    run = load_run(run_dir)
    test = load_test_images(run.config, options.data_dir, options.subset)
    images, labels = to_float(test.images), test.labels
    document.update(_run_description(run_name, run, test, options))
    from freqprobe.plots.sensitivity import sensitivity_title

    title_for = partial(sensitivity_title, document)  # the gradient figure may show an earlier call's count
    title = title_for(len(labels))
    # Each step writes into the staging folder of an output set: its figure and the merged JSON land together.
    steps: list[tuple[str, Callable[[Path], None]]] = []
    if options.bands:
        steps.append(("bands", lambda to: _bands(document, run, images, labels, settings, options, title, to)))
    if options.heatmap:
        steps.append(("heatmap", lambda to: _heatmap(document, run, images, labels, settings, options, title, to)))
    if options.gradient_spectrum:
        steps.append(("gradient_spectrum", lambda to: _gradient(document, run, images, labels, options)))
    if options.shift:
        steps.append(("shift", lambda to: _shift(document, run, images, labels, settings, options, title, to)))
    if options.attack is not None:
        steps.append(("attack", lambda to: _attack(document, run, images, labels, options, title, to)))
    if options.corruptions:
        from freqprobe.analysis.sensitivity.corruption_step import corruption_step

        # after the heat map: Yin's prediction reads the heat map this call may just have measured
        steps.append(("corruptions", lambda to: corruption_step(
            document, run, images, labels, test, settings, options, title, to, add_figure, _say)))
    for name, step in steps:
        started = time.perf_counter()
        # Figures of earlier modes (and filters' files in a shared folder) stay: the set owns nothing else.
        with output_set(out_dir, RESULTS_FILE) as staging:
            step(staging)
            _say(options, f"sensitivity: {name} done in {time.perf_counter() - started:.1f} s")
            if name in ("heatmap", "gradient_spectrum"):
                link_gradient_and_heatmap(document, title_for, staging, options.figure("gradient_spectrum"))
            atomic_write_json(staging / RESULTS_FILE, json_safe(document))
    return document


# ------------------------------------------------------------------------------------------------------- modes


def _bands(document, run: LoadedRun, images, labels, settings, options: SensitivityOptions, title, out_dir) -> None:
    from freqprobe.plots.sensitivity import plot_band_ablation

    result = band_ablation(
        run.model, images, labels, run.input_filter, radii=options.band_radii, settings=settings
    ).to_dict()
    document["bands"] = result
    plot_band_ablation(result, title, out_dir / options.figure("bands"))
    add_figure(
        document, "bands", options.figure("bands"),
        f"Test accuracy of {title} when the test images keep only |f| < r (low-pass) or |f| >= r (high-pass), "
        f"ideal radial masks, r in cycles/pixel, before the input filter; dashed line: clean accuracy.",
    )


def _heatmap(document, run: LoadedRun, images, labels, settings, options: SensitivityOptions, title, out_dir) -> None:
    height, width = images.shape[-2:]
    plan = heatmap_plan(options)
    frequencies = plan.shard_pairs(height, width)
    if not frequencies:
        raise ConfigError(f"--shard {plan.shard[0]}/{plan.shard[1]} has no frequency pair: the selection has only "
                          f"{len(plan.selected(height, width))}; use fewer shards")
    with _progress_bar(options, len(frequencies), "heat map") as update:
        result = fourier_heat_map(
            run.model, images, labels, run.input_filter, eps=options.heatmap_eps, frequencies=frequencies,
            seed=options.seed, settings=settings, progress=update,
        ).to_dict()
    result["max_radius"] = options.heatmap_max_radius
    result.update(plan.describe(height, width))
    complete_heatmap(result, plan)
    document["heatmap"] = result
    draw_heatmap(document, title, out_dir, options.figure("heatmap"))


def heatmap_plan(options: SensitivityOptions) -> HeatMapPlan:
    """The heat map's frequency selection from the options (the sample is drawn with ``options.seed``)."""
    return HeatMapPlan(
        options.heatmap_max_radius, options.heatmap_stride, options.heatmap_sample, options.seed, options.shard
    )


def complete_heatmap(result: dict, plan: HeatMapPlan) -> None:
    """Fields of a heat-map section that hold only for the whole selection: the sampled estimate with its interval
    and the projected cost of the full grid; ``complete`` says whether the section holds every selected pair."""
    from freqprobe.analysis.sensitivity.heatmap import basis_image_cost

    complete = plan.shard[1] == 1
    result["complete"] = complete
    cost = result["cost"] = basis_image_cost(result["cost"]["pair_seconds"] or math.nan, result["evaluated_pairs"],
                                             result["n_images"])
    per_pair = cost["seconds_per_basis_image"]
    grid_pairs = result["selection"]["grid_pairs"]
    cost["estimated_full_grid_seconds"] = per_pair * grid_pairs if per_pair is not None else None
    estimate = None
    if complete:
        estimate = sampled_mean_estimate(_map_tensor(result["error"]), plan)
    result["mean_error_estimate"] = estimate


def draw_heatmap(document: dict, title: str, out_dir: Path, filename: str | None = None) -> None:
    """The heat-map figure of ``document['heatmap']`` (``filename``, default fourier_heatmap.png) and its caption for
    the report."""
    from freqprobe.plots.sensitivity import FIGURES, plot_heat_map

    filename = filename or FIGURES["heatmap"]
    result = document["heatmap"]
    plot_heat_map(result, title, out_dir / filename)
    shard = result.get("shard") or {}
    part = ""
    if (shard.get("count") or 1) > 1 and shard.get("index") is not None:
        part = f" Shard {shard['index']} of {shard['count']} (0-based) only: merge the shards for the whole map."
    add_figure(
        document, "heatmap", filename,
        f"Fourier heat map of {title}: error rate when a Fourier basis image of L2 norm {result['eps']:g} per "
        f"channel (random sign per image and channel) is added to every test image, clamped to [0, 1], before the "
        f"input filter; DC at the centre, axes in cycles/pixel, grey cells not evaluated.{part}",
    )


def _gradient(document, run: LoadedRun, images, labels, options: SensitivityOptions) -> None:
    result = gradient_spectrum(
        run.model, images, labels, run.input_filter, batch_size=min(options.batch_size, 256), device=options.device
    ).to_dict()
    document["gradient_spectrum"] = result  # its figure is drawn by link_gradient_and_heatmap


def _shift(document, run: LoadedRun, images, labels, settings, options: SensitivityOptions, title, out_dir) -> None:
    from freqprobe.plots.sensitivity import plot_shift_consistency

    result = shift_consistency(
        run.model, images, labels, run.input_filter, max_shift=options.max_shift, seed=options.seed, settings=settings
    ).to_dict()
    result["antialias"] = bool(run.config.get("antialias", False))
    document["shift"] = result
    plot_shift_consistency(result, title, out_dir / options.figure("shift"))
    add_figure(
        document, "shift", options.figure("shift"),
        f"Shift consistency of {title}: share of test images whose predicted class is the same under two random "
        f"circular shifts of up to {result['max_shift'][0]} px (y) and {result['max_shift'][1]} px (x), beside "
        f"the clean accuracy and the accuracy on the shifted copies.",
    )


def _attack(document, run: LoadedRun, images, labels, options: SensitivityOptions, title, out_dir) -> None:
    from freqprobe.plots.sensitivity import attack_figure_file, plot_attack_spectra

    attack = options.attack
    result = attack_analysis(
        run.model, images, labels, attack, run.input_filter, prefilter_sigma=options.prefilter_sigma,
        boundary=str(run.config.get("boundary", "circular")), batch_size=min(options.batch_size, 256),
        seed=options.seed, device=options.device,
    ).to_dict()
    result["figure"] = attack_figure_file(result, options.figure_format)
    _forget_same_attack(document, result)
    document.setdefault("attacks", {})[attack.key] = result
    plot_attack_spectra(result, title, out_dir / result["figure"])
    defence = (
        f"; the title gives the accuracy with a {result['prefilter_defence']['prefilter']} pre-filter against the "
        f"same (transferred) perturbations and against an adaptive PGD through it"
        if result["prefilter_defence"] else ""
    )
    add_figure(
        document, f"attack:{attack.key}", result["figure"],
        f"{attack.method.upper()} ({attack.norm}, eps {attack.budget} in pixel units) on {title}: mean power "
        f"spectra (log10, DC at the centre) of the clean test images and of the adversarial perturbations, and "
        f"their radial profiles{defence}.",
    )


def _forget_same_attack(document: dict, result: dict) -> None:
    """Drop an earlier entry of the same attack under another key (files written before budgets were kept as
    written name 8/255 ``eps0.03137``), so a re-run replaces it instead of listing it twice."""
    same = ("method", "norm", "eps", "steps", "step_size")
    attacks = document.get("attacks") or {}
    for key in [key for key, old in attacks.items() if all(old.get(name) == result.get(name) for name in same)]:
        old = attacks.pop(key)
        document.get("figures", {}).pop(f"attack:{key}", None)
        document.get("captions", {}).pop(old.get("figure"), None)


def link_gradient_and_heatmap(
    document: dict, title_for: Callable[[int], str], out_dir: Path, filename: str | None = None
) -> None:
    """Spearman rho of the two maps when both exist; the gradient figure shows the heat map beside it then."""
    gradient = document.get("gradient_spectrum")
    if gradient is None:
        return
    from freqprobe.plots.sensitivity import FIGURES, GRADIENT_SCALE_NOTE, plot_gradient_spectrum

    filename = filename or FIGURES["gradient_spectrum"]
    heat_map = document.get("heatmap")
    correlation = None
    if heat_map is not None:
        correlation = rank_correlation(_map_tensor(gradient["power"]), _map_tensor(heat_map["error"]))
        gradient["rank_correlation_with_heatmap"] = correlation
        gradient["rank_correlation_note"] = (
            "Spearman rho over the frequencies the heat map covers; heat map on "
            f"{heat_map['n_images']} images, gradient spectrum on {gradient['n_images']}"
        )
    title = title_for(gradient["n_images"])
    plot_gradient_spectrum(gradient, heat_map, title, out_dir / filename, correlation)
    beside = (
        "; right: the Fourier heat map, with Spearman's rank correlation of the two maps in the title"
        if heat_map is not None else ""
    )
    add_figure(
        document, "gradient_spectrum", filename,
        f"Mean power spectrum (log10, DC at the centre) of the gradient of the cross-entropy with respect to the "
        f"input pixels of {title}{beside}. {GRADIENT_SCALE_NOTE}",
    )


def add_figure(document: dict, name: str, filename: str, caption: str) -> None:
    """Record a figure for ``freqprobe report``: ``figures`` {name: file} in order, ``captions`` {file: text}."""
    document.setdefault("figures", {})[name] = filename
    document.setdefault("captions", {})[filename] = caption


# --------------------------------------------------------------------------------------------------- results


def existing_results(path: Path, run_name: str) -> dict[str, Any]:
    if not path.exists():
        return {}
    document = read_json_object(path, "cannot merge into the results file")
    previous = document.get("run")
    # older files name the run by its absolute path; a relative name is relative to the results file's folder
    if previous is not None and named_path(path.parent, previous) != named_path(path.parent, run_name):
        raise ConfigError(
            f"{path} holds results of run {previous}, not {run_name}; choose another --out for this run"
        )
    return document


def _run_description(run_name: str, run: LoadedRun, test, options: SensitivityOptions) -> dict[str, Any]:
    config = run.config
    return {
        "run": run_name,
        "model": config.get("model"),
        "dataset": config.get("dataset"),
        "filter": getattr(run.input_filter, "spec", config.get("filter")),
        "boundary": config.get("boundary", "circular"),
        "antialias": bool(config.get("antialias", False)),
        "pipeline": PIPELINE_ORDER,
        "test_images": len(test),
        "test_selection": (
            f"first {len(test)} test images taken round-robin over classes" if options.subset else "whole test split"
        ),
        "seed": options.seed,
    }


def _map_tensor(rows: list[list[float | None]]) -> torch.Tensor:
    """A (H, W) float64 map from JSON rows, null -> NaN."""
    return torch.tensor([[math.nan if v is None else v for v in row] for row in rows], dtype=torch.float64)


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has neither); tensors become lists."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, torch.Tensor):
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _say(options: SensitivityOptions, message: str) -> None:
    if options.progress:
        print(message, flush=True)


class _progress_bar:
    """A tqdm bar on stderr fed by ``progress(done, total)`` callbacks; silent when progress is off."""

    def __init__(self, options: SensitivityOptions, total: int, label: str):
        self.enabled, self.total, self.label = options.progress, total, label
        self.bar = None

    def __enter__(self) -> Callable[[int, int], None]:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, desc=self.label, unit="freq", leave=False)

        def update(done: int, _total: int) -> None:
            if self.bar is not None:
                self.bar.update(done - self.bar.n)

        return update

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
