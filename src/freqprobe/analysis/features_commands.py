"""``freqprobe features RUN [RUN ...] --out DIR``: spectra of the intermediate feature maps of trained runs.

Only argparse is imported at module level: the CLI builds its parser on every call.
"""

from __future__ import annotations

import argparse

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
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by freqprobe train")
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
    parser.set_defaults(handler=run_features)


def run_features(args: argparse.Namespace) -> int:
    from freqprobe.analysis.features.summary import analyze_run_features, features_document, relative_run_name
    from freqprobe.io import atomic_write_json, output_set, prepare_output_dir
    from freqprobe.plots.features import captions, write_feature_figures

    out_dir = prepare_output_dir(args.out, "--out")  # before the analysis: a bad --out costs no minutes
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


def _print_summary(run: dict) -> None:
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
