"""``freqprobe sensitivity RUN --out DIR``: which frequencies the whole trained network is sensitive to.

Only argparse is imported at module level: the CLI builds its parser on every call, and torch loads only when the
handler runs.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction

METHODS = ("fgsm", "pgd")
NORMS = ("linf", "l2")
PRECISIONS = ("auto", "fp32", "bf16")


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "sensitivity",
        help="band ablation, Fourier heat map, gradient spectrum, shift consistency and attacks of a trained run",
        description=(
            "Measure the frequency sensitivity of a trained run on its test images: accuracy under ideal low-/high-"
            "pass (--bands), the Fourier heat map (--heatmap), the input-gradient spectrum (--gradient-spectrum), "
            "shift consistency (--shift) and adversarial attacks with the spectra of their perturbations (--attack). "
            "Perturbations act on the clean pixel image, clamped to [0, 1], before the run's own input filter. "
            "Writes DIR/sensitivity.json (merged with an earlier file of the same run) and PNG figures."
        ),
    )
    parser.add_argument("run", metavar="RUN", nargs="?", help="run folder written by freqprobe train (not with --merge)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    modes = parser.add_argument_group("analyses (one or more)")
    modes.add_argument("--bands", action="store_true", help="accuracy of low-/high-passed test images over the radius")
    modes.add_argument("--heatmap", action="store_true", help="Fourier heat map (Yin et al. 2019)")
    modes.add_argument(
        "--gradient-spectrum", action="store_true", help="mean power spectrum of the loss gradient w.r.t. the input"
    )
    modes.add_argument("--shift", action="store_true", help="shift consistency under random circular shifts")
    modes.add_argument("--attack", choices=METHODS, default=None, help="adversarial attack (needs --eps)")
    modes.add_argument("--all", action="store_true", help="--bands --heatmap --gradient-spectrum --shift")
    modes.add_argument(
        "--band-radii", type=_radii, default=None, metavar="R1,R2,...",
        help="radii (cycles/pixel) of the band ablation, exact as written, e.g. 0,5/28,0.25 (default: 0, 1/S, "
        "2/S, ... past the corner 0.707)",
    )
    heat = parser.add_argument_group("heat map")
    heat.add_argument(
        "--heatmap-eps", type=_positive_number, default=None, metavar="E",
        help="L2 norm of each basis perturbation per channel, pixel units (default 4.0; with --heatmap and no "
        "--attack, --eps sets it too)",
    )
    heat.add_argument(
        "--heatmap-max-radius", type=_non_negative_number, default=None, metavar="R",
        help="evaluate only frequencies with |f| <= R cycles/pixel (default: the whole grid)",
    )
    heat.add_argument(
        "--heatmap-stride", type=_positive_int, default=1, metavar="K",
        help="evaluate only frequencies whose signed indices (ky, kx) are both multiples of K: a sub-grid with DC "
        "(default: 1, every frequency)",
    )
    heat.add_argument(
        "--heatmap-sample", type=_positive_int, default=None, metavar="N",
        help="evaluate N conjugate pairs drawn at random (seeded by --seed) from the selection, and estimate the "
        "mean error of the whole selection with a 95%% confidence interval",
    )
    heat.add_argument(
        "--shard", default=None, metavar="i/n",
        help="evaluate only shard i of n (0-based) of the selected frequencies, for one machine or array task each; "
        "join the shard folders with --merge (heat map only)",
    )
    heat.add_argument(
        "--merge", nargs="+", default=None, metavar="DIR",
        help="merge the heat-map shards in these folders (each written with --shard i/n) into --out; no RUN",
    )
    attack = parser.add_argument_group("attack")
    attack.add_argument("--eps", type=_positive_number, default=None, metavar="E",
                        help="attack budget in pixel units, e.g. 8/255 (linf) or 0.5 (l2)")
    attack.add_argument("--norm", choices=NORMS, default="linf", help="attack norm (default: linf)")
    attack.add_argument("--steps", type=_positive_int, default=10, metavar="K", help="PGD steps (default: 10)")
    attack.add_argument("--step-size", type=_positive_number, default=None, metavar="A",
                        help="PGD step size in pixel units (default: 2.5 eps / steps)")
    attack.add_argument(
        "--prefilter-sigma", type=_non_negative_number, default=1.0, metavar="S",
        help="sigma (pixels) of the Gaussian low-pass defence scored against transferred and adaptive attacks; "
        "0 skips it (default: 1.0)",
    )
    shift = parser.add_argument_group("shift")
    shift.add_argument("--max-shift", type=_non_negative_int, default=None, metavar="P",
                       help="largest circular shift in pixels per axis (default: H // 4)")
    general = parser.add_argument_group("general")
    general.add_argument("--subset", type=_positive_int, default=None, metavar="N",
                         help="use the first N test images, taken round-robin over classes (default: all)")
    general.add_argument("--batch-size", type=_positive_int, default=500, metavar="B",
                         help="images per forward pass (default: 500; gradients use at most 256)")
    general.add_argument("--seed", type=int, default=0, help="seed of random signs, shifts and PGD starts (default 0)")
    general.add_argument("--precision", choices=PRECISIONS, default="auto",
                         help="forward-only analyses: bf16 autocast where the CPU has native bf16 (auto), or fixed; "
                         "gradients and attacks always run in fp32")
    general.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    general.add_argument("--data-dir", metavar="DIR", default=None,
                         help="data root (default: the run's data_dir if present, else $FREQPROBE_DATA)")
    general.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from freqprobe.analysis.sensitivity.runner import RESULTS_FILE, SensitivityOptions, run_sensitivity
    from freqprobe.errors import ConfigError

    if args.merge is not None:
        return _merge_command(args)
    if args.run is None:
        raise ConfigError("sensitivity needs a RUN folder (or --merge DIR... to join heat-map shards)")
    shard = (0, 1)
    if args.shard is not None:
        from freqprobe.sweeps.grid import parse_shard

        shard = parse_shard(args.shard)

    attack = None
    if args.attack is not None:
        if args.eps is None:
            raise ConfigError(f"--attack {args.attack} needs --eps (pixel units, e.g. 8/255 for linf)")
        from freqprobe.analysis.sensitivity.attacks import AttackSpec

        try:
            attack = AttackSpec(args.attack, args.eps, args.norm, args.steps, args.step_size)
        except ConfigError as error:
            raise ConfigError(f"--attack {args.attack} --norm {args.norm}: {error}; fix --eps, --step-size or --steps") from None
    if args.prefilter_sigma:
        from freqprobe.analysis.sensitivity.attacks import check_prefilter_sigma

        check_prefilter_sigma(args.prefilter_sigma)
    heatmap_eps = args.heatmap_eps
    if heatmap_eps is None:
        heatmap_eps = args.eps if (args.eps is not None and args.attack is None) else 4.0
    options = SensitivityOptions(
        bands=args.bands or args.all,
        heatmap=args.heatmap or args.all,
        gradient_spectrum=args.gradient_spectrum or args.all,
        shift=args.shift or args.all,
        attack=attack,
        band_radii=args.band_radii,
        heatmap_eps=heatmap_eps,
        heatmap_max_radius=args.heatmap_max_radius,
        heatmap_stride=args.heatmap_stride,
        heatmap_sample=args.heatmap_sample,
        shard=shard,
        max_shift=args.max_shift,
        prefilter_sigma=args.prefilter_sigma or None,
        subset=args.subset,
        batch_size=args.batch_size,
        seed=args.seed,
        precision=args.precision,
        device=args.device,
        data_dir=args.data_dir,
        progress=not args.quiet,
    )
    document = run_sensitivity(args.run, args.out, options)
    if not args.quiet:
        print(_summary(document))
        print(f"wrote {args.out}/{RESULTS_FILE}")
    return 0


def _merge_command(args: argparse.Namespace) -> int:
    from freqprobe.analysis.sensitivity.heatmap_merge import merge_heatmap_shards
    from freqprobe.analysis.sensitivity.runner import RESULTS_FILE
    from freqprobe.errors import ConfigError

    chosen = [flag for flag, on in (("RUN", args.run), ("--bands", args.bands), ("--heatmap", args.heatmap),
                                    ("--gradient-spectrum", args.gradient_spectrum), ("--shift", args.shift),
                                    ("--attack", args.attack), ("--all", args.all), ("--shard", args.shard)) if on]
    if chosen:
        raise ConfigError(f"--merge joins finished heat-map shards; leave out {', '.join(chosen)}")
    document = merge_heatmap_shards(args.merge, args.out)
    if not args.quiet:
        print(_summary(document))
        print(f"wrote {args.out}/{RESULTS_FILE}")
    return 0


def _summary(document: dict) -> str:
    lines = [f"{document.get('model')} on {document.get('dataset')} ({document.get('test_images')} test images)"]
    if "bands" in document:
        lines.append(f"  bands: clean accuracy {document['bands']['clean_accuracy']:.4f}")
    if "heatmap" in document:
        heat = document["heatmap"]
        lines.append(f"  heat map: mean error {heat['mean_error']:.4f} over the evaluated cells (clean "
                     f"{heat['clean_error']:.4f}), {heat['evaluated_pairs']} frequency pairs in {heat['seconds']:.1f} s")
        cost = heat.get("cost") or {}
        if cost.get("seconds_per_basis_image") is not None:
            lines.append(f"  heat map cost: {cost['seconds_per_basis_image']:.3f} s per basis image on "
                         f"{heat['n_images']} images; the full grid ({heat['selection']['grid_pairs']} pairs) would "
                         f"take about {cost['estimated_full_grid_seconds']:.0f} s here")
        estimate = heat.get("mean_error_estimate")
        if estimate:
            lines.append(f"  heat map estimate: mean error {estimate['mean_error']:.4f}, 95% CI "
                         f"[{estimate['ci_low']:.4f}, {estimate['ci_high']:.4f}] from {estimate['sampled_pairs']} of "
                         f"{estimate['population_pairs']} pairs")
        shard = heat.get("shard") or {}
        if shard.get("index") is not None and shard.get("count", 1) > 1:
            lines.append(f"  heat map shard {shard['index']}/{shard['count']}: merge all shards with --merge")
    if "gradient_spectrum" in document:
        rho = document["gradient_spectrum"].get("rank_correlation_with_heatmap")
        lines.append("  gradient spectrum" + (f": Spearman rho with heat map {rho:.3f}" if rho is not None else ""))
    if "shift" in document:
        lines.append(f"  shift consistency {document['shift']['consistency']:.4f}")
    for key, result in document.get("attacks", {}).items():
        line = f"  {key}: robust accuracy {result['robust_accuracy']:.4f} (clean {result['clean_accuracy']:.4f})"
        defence = result.get("prefilter_defence") or {}
        if defence:
            line += (f"; {defence['prefilter']} prefilter: transferred {defence['transferred_accuracy']:.4f}, "
                     f"adaptive {defence['adaptive_accuracy']:.4f}")
        lines.append(line)
    return "\n".join(lines)


def _number(text: str) -> float:
    """A float or a fraction such as 8/255."""
    try:
        value = float(Fraction(text.strip())) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (write e.g. 0.03 or 8/255)") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def _non_negative_number(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def _radii(text: str) -> list[Fraction]:
    """Exact radii ("5/28" and "0.25" as written) so a radius on a ring of the grid is classified as defined."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r} holds no radius (write e.g. 0,0.1,0.25,0.5 or 5/28)")
    values = []
    for part in parts:
        _non_negative_number(part)  # the same message as other numbers for text that is no finite number >= 0
        values.append(Fraction(part))
    return values


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative integer")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
