"""``freqprobe sensitivity RUN --out DIR``: which frequencies the whole trained network is sensitive to.

Only argparse is imported at module level: the CLI builds its parser on every call, and torch loads only when the
handler runs.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from pathlib import Path

from freqprobe.plots.formats import add_format_argument

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
        "--corruptions", action="store_true",
        help="error under the 19 CIFAR-10-C corruptions at severities 1-5 (generated in torch, seeded), each "
        "corruption's perturbation spectrum and frequency group, and the error predicted from the Fourier heat map "
        "(needs a heat map in OUT/sensitivity.json or --heatmap)",
    )
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
    attack.add_argument("--eps", type=_written_budget, default=None, metavar="E",
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
    corrupt = parser.add_argument_group("corruptions")
    corrupt.add_argument(
        "--corruption-data", metavar="DIR", default=None,
        help="score on the released CIFAR-10-C .npy files (a folder, or CIFAR-10-C.tar checked against its published "
        "md5) instead of the generated corruptions; CIFAR-10 runs only",
    )
    corrupt.add_argument(
        "--corruption-names", metavar="A,B,...", default=None,
        help="evaluate only these corruptions (names as the released files: gaussian_noise, fog, ...; default: all 19)",
    )
    corrupt.add_argument(
        "--ce-baseline", metavar="RUN", default=None,
        help="run folder (or its sensitivity.json) analysed with --corruptions whose errors normalize the mCE",
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
    add_format_argument(general)
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
            attack = AttackSpec(
                args.attack, float(args.eps), args.norm, args.steps, args.step_size, eps_text=args.eps.text
            )
        except ConfigError as error:
            raise ConfigError(f"--attack {args.attack} --norm {args.norm}: {error}; fix --eps, --step-size or --steps") from None
    if args.prefilter_sigma:
        from freqprobe.analysis.sensitivity.attacks import check_prefilter_sigma

        check_prefilter_sigma(args.prefilter_sigma)
    heatmap_eps = args.heatmap_eps
    if heatmap_eps is None:
        heatmap_eps = float(args.eps) if (args.eps is not None and args.attack is None) else 4.0
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
        corruptions=args.corruptions,
        corruption_data=args.corruption_data,
        ce_baseline=args.ce_baseline,
        corruption_names=_corruption_names(args.corruption_names),
        figure_format=args.figure_format,
    )
    if (args.corruption_data or args.ce_baseline or args.corruption_names) and not args.corruptions:
        raise ConfigError("--corruption-data, --corruption-names and --ce-baseline belong to --corruptions; add --corruptions")
    before = _file_stamps(Path(args.out))
    document = run_sensitivity(args.run, args.out, options)
    if not args.quiet:
        print(_summary(document))
        for path in _written_files(Path(args.out), RESULTS_FILE, document, before):
            print(f"wrote {path}")
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
    """What the analyses found, fractions of images in percent as every command prints them."""
    from freqprobe.tables import format_accuracy as pct

    from freqprobe.data.labels import dataset_label

    shown = dataset_label(str(document.get("dataset")), document.get("data_source"))
    lines = [f"{document.get('model')} on {shown} ({document.get('test_images')} test images)"]
    if "bands" in document:
        lines.append(f"  bands: clean accuracy {pct(document['bands']['clean_accuracy'])}")
    if "heatmap" in document:
        heat = document["heatmap"]
        lines.append(f"  heat map: mean error {pct(heat['mean_error'])} over the evaluated cells (clean "
                     f"{pct(heat['clean_error'])}), {heat['evaluated_pairs']} frequency pairs in {heat['seconds']:.1f} s")
        cost = heat.get("cost") or {}
        if cost.get("seconds_per_basis_image") is not None:
            lines.append(f"  heat map cost: {cost['seconds_per_basis_image']:.3f} s per basis image on "
                         f"{heat['n_images']} images; the full grid ({heat['selection']['grid_pairs']} pairs) would "
                         f"take about {cost['estimated_full_grid_seconds']:.0f} s here")
        estimate = heat.get("mean_error_estimate")
        if estimate:
            lines.append(f"  heat map estimate: mean error {pct(estimate['mean_error'])}, 95% CI "
                         f"[{pct(estimate['ci_low'])}, {pct(estimate['ci_high'])}] from {estimate['sampled_pairs']} of "
                         f"{estimate['population_pairs']} pairs")
        shard = heat.get("shard") or {}
        if shard.get("index") is not None and shard.get("count", 1) > 1:
            lines.append(f"  heat map shard {shard['index']}/{shard['count']}: merge all shards with --merge")
    if "gradient_spectrum" in document:
        rho = document["gradient_spectrum"].get("rank_correlation_with_heatmap")
        lines.append("  gradient spectrum" + (f": Spearman rho with heat map {rho:.3f}" if rho is not None else ""))
    if "shift" in document:
        lines.append(f"  shift consistency {pct(document['shift']['consistency'])} of test images keep their class")
    for key, result in document.get("attacks", {}).items():
        line = f"  {key}: robust accuracy {pct(result['robust_accuracy'])} (clean {pct(result['clean_accuracy'])})"
        defence = result.get("prefilter_defence") or {}
        if defence:
            line += (f"; {defence['prefilter']} prefilter: transferred {pct(defence['transferred_accuracy'])}, "
                     f"adaptive {pct(defence['adaptive_accuracy'])}")
        lines.append(line)
    if "corruptions" in document:
        section = document["corruptions"]
        line = (f"  corruptions ({section['source']}): mean corruption accuracy "
                f"{pct(section['mean_corruption_accuracy'])} over {len(section['benchmark_corruptions'])} benchmark "
                f"corruptions x 5 severities")
        accuracy = section["group_accuracy"]
        line += "; by perturbation band " + ", ".join(
            f"{band} {pct(value)}" for band, value in accuracy.items())
        if section.get("mce"):
            line += f"; mCE {section['mce']['mce']:.1f}% of {section['mce']['baseline']}"
        rho = (section.get("yin") or {}).get("spearman_rho")
        if rho is not None:
            line += f"; Spearman rho (heat-map prediction vs error) {rho:.3f}"
        lines.append(line)
    return "\n".join(lines)


def _corruption_names(text: str | None) -> tuple[str, ...] | None:
    """The names of --corruption-names, checked (one line naming an unknown name and the valid ones)."""
    if text is None:
        return None
    from freqprobe.corruptions import check_corruption

    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        from freqprobe.errors import ConfigError

        raise ConfigError(f"--corruption-names {text!r} names no corruption; write e.g. gaussian_noise,fog")
    for name in names:
        check_corruption(name)
    return names
def _file_stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of each file directly in ``folder``: what a later look compares to see what was written."""
    if not folder.is_dir():
        return {}
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in folder.iterdir() if path.is_file()}


def _written_files(folder: Path, results_file: str, document: dict, before: dict[str, tuple[int, int]]) -> list[Path]:
    """The results file and those of its figures that this call (re)wrote, in the order the JSON lists them; figures
    of earlier calls that the merged JSON still lists are not named again."""
    figures = document.get("figures") if isinstance(document.get("figures"), dict) else {}
    names = [results_file, *(str(name) for name in figures.values())]
    now = _file_stamps(folder)
    return [folder / name for name in dict.fromkeys(names) if name in now and now[name] != before.get(name)]


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


class _WrittenNumber(float):
    """A parsed number that keeps its text: the attack budget is shown and named as written (8/255)."""

    text: str


def _written_budget(text: str) -> _WrittenNumber:
    value = _WrittenNumber(_positive_number(text))
    value.text = text.strip()
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
