"""``freqprobe features RUN [RUN ...] --out DIR``: spectra of the intermediate feature maps of trained runs.

Only argparse is imported at module level: the CLI builds its parser on every call.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FEATURES_FILE = "features.json"


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "features",
        help="feature-map spectra per layer: ΔLog-amplitude across depth, centroids, aliasing before subsampling",
        description=(
            "Pass test images (the run's own filter applied) through each run's model and measure, per layer, the "
            "mean log-amplitude spectrum of its feature maps, its radial profile, ΔLog-amplitude (Nyquist bin minus "
            "DC; Park & Kim 2022), the spectral centroid, and before each subsampling the share of energy above "
            "the new Nyquist limit. Writes DIR/features.json and PNG figures (one ΔLog curve per run)."
        ),
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN",
        help="run folders written by freqprobe train; or, with --dataset, one model that no run holds: a model name "
        "(tv:NAME, timm:NAME, py:..., registered) with --weights FILE|pretrained, or a weights file with --model",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument(
        "--subset", type=_positive_int, default=500, metavar="N",
        help="the first N test images, taken round-robin over classes (default: 500)",
    )
    parser.add_argument(
        "--layers", default=None, metavar="PATTERN",
        help="measure only modules whose name matches: comma-separated globs ('layer2.*') or regexes "
        "('re:conv[12]$'); default: the input, every convolution, each stem/stage and block",
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, default=64, metavar="B", help="images per forward pass (default: 64)"
    )
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="data root (default: the run's, else "
                        "$FREQPROBE_DATA)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    model = parser.add_argument_group("a model given by name or weights file (not a run folder)")
    model.add_argument(
        "--dataset", default=None, metavar="NAME",
        help="whose test images to pass (fashion-mnist, cifar10, folder:PATH, imagefolder:PATH); no input filter",
    )
    model.add_argument(
        "--image-size", type=_positive_int, default=None, metavar="N",
        help="bring the chosen test images to NxN: short side resized (bilinear, antialiased), centre crop; e.g. "
        "224 for an ImageNet network",
    )
    model.add_argument("--model", default=None, metavar="NAME", help="model name of a weights file RUN")
    model.add_argument("--num-classes", type=_positive_int, default=None, metavar="K",
                       help="classifier outputs (default: the weights', else the library's)")
    from freqprobe.train.commands import add_model_source_arguments

    add_model_source_arguments(model)
    parser.set_defaults(handler=run_features)


def run_features(args: argparse.Namespace) -> int:
    from freqprobe.analysis.features.summary import (
        analyze_model_features,
        analyze_run_features,
        features_document,
        relative_run_name,
    )
    from freqprobe.io import atomic_write_json, output_set, prepare_output_dir
    from freqprobe.plots.features import captions, write_feature_figures

    model_options = _model_options(args)
    out_dir = prepare_output_dir(args.out, "--out")  # before the analysis: a bad --out costs no minutes
    if args.dataset is not None:
        runs = [analyze_model_features(
            args.runs[0], args.dataset, image_size=args.image_size, subset=args.subset, layers=args.layers,
            batch_size=args.batch_size, data_dir=args.data_dir, device=args.device, model_options=model_options,
        )]
        if Path(runs[0]["run"]).exists():  # a weights file: named from the output folder, no machine path
            runs[0]["run"] = relative_run_name(runs[0]["run"], out_dir)
    else:
        runs = [
            analyze_run_features(run, args.subset, args.layers, args.batch_size, args.data_dir, args.device,
                                 name=relative_run_name(run, out_dir))
            for run in args.runs
        ]
    document = features_document(runs, args.subset, args.layers)
    owned = ["features_*.png"]  # a grid per run: a later call with fewer runs must not leave stale grids
    with output_set(out_dir, FEATURES_FILE, owns=owned) as staging:
        figures = write_feature_figures(document, staging)
        document["figures"] = {name: path.name for name, path in figures.items()}
        document["captions"] = captions(len(runs))
        atomic_write_json(staging / FEATURES_FILE, document)
    for run in runs:
        _print_summary(run)
    print(f"wrote {out_dir / FEATURES_FILE}")
    for name in document["figures"].values():
        print(f"wrote {out_dir / name}")
    return 0


def _model_options(args: argparse.Namespace) -> dict:
    """The options of a model given by name or file; each refused in one line where it cannot apply."""
    from freqprobe.errors import ConfigError

    given = {
        "--model": args.model, "--num-classes": args.num_classes, "--weights": args.weights,
        "--model-arg": args.model_args, "--channel-adapter": args.channel_adapter, "--small-input": args.small_input,
        "--image-size": args.image_size,
    }  # fmt: skip
    if args.dataset is None:
        used = [flag for flag, value in given.items() if value is not None]
        if used:
            raise ConfigError(f"{', '.join(used)} apply to a model given by name or file, with --dataset NAME; a run "
                              f"folder records its model and data: drop them")
        return {}
    if len(args.runs) != 1:
        raise ConfigError(f"--dataset takes one model by name or file, got {len(args.runs)}: {' '.join(args.runs)}; "
                          f"pass run folders without --dataset, or one model per call")
    if Path(args.runs[0]).is_dir():
        raise ConfigError(f"{args.runs[0]} is a run folder, measured on its own test data through its own filter; "
                          f"drop --dataset (it is for a model given by name or weights file)")
    if Path(args.runs[0]).is_file() and args.weights is not None:
        raise ConfigError(f"{args.runs[0]} is a weights file already; drop --weights, or pass a model name as SOURCE")
    if not Path(args.runs[0]).exists() and args.model is not None:
        raise ConfigError(f"--model names the model of a weights file; {args.runs[0]} is a model name already: drop "
                          f"--model")
    return {
        "model_name": args.model, "num_classes": args.num_classes, "weights": args.weights,
        "model_args": args.model_args, "channel_adapter": args.channel_adapter or "repeat",
        "small_input": bool(args.small_input),
    }  # fmt: skip


def _print_summary(run: dict) -> None:
    if (run.get("model_source") or {}).get("weights") == "random initialization":
        print(f"note: {run['run']} has randomly initialized weights (no --weights): these are the spectra of an "
              f"untrained network")
    print(f"{run['run']}: {run['model']} on {run['dataset_label']} (filter {run['filter']}), {run['n_images']} test "
          f"images, {len(run['layers'])} layers, {run['seconds']:.1f} s")
    print(f"{'layer':<24} {'kind':<6} {'C x H x W':>12} {'ΔLog-amp':>9} {'at f':>6} {'centroid':>9}  "
          "(ΔLog: natural log, Nyquist bin − DC; f and centroid in cycles/pixel)")
    for layer in run["layers"]:
        shape = "x".join(str(size) for size in layer["shape"])
        print(f"{layer['name']:<24} {layer['kind']:<6} {shape:>12} {layer['delta_log_amplitude']:9.3f} "
              f"{layer['delta_frequency']:6.3f} {layer['spectral_centroid']:9.4f}")
    for site in run["subsampling"]:
        share = site["aliasing_share"]
        text = "-" if share is None else f"{100 * share:.2f}%"
        print(f"before {site['name']} (stride {site['stride'][0]}x{site['stride'][1]}): {text} of the input maps' "
              f"energy above the new Nyquist {site['new_nyquist'][0]:g} cycles/pixel")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value
