"""``freqprobe compare FOLDER... --out DIR``: the links between input spectra, kernel spectra, accuracy and robustness
across the runs of sweeps or of run folders given one by one. Only argparse is imported here; the work loads when the handler runs."""

from __future__ import annotations

import argparse

from freqprobe.plots.formats import add_format_argument

DEFAULT_SUBSET = 1000  # = freqprobe.analysis.compare.DEFAULT_SUBSET, repeated so that --help imports no numpy


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="one table of input centroid, kernel centroids, accuracy and robustness across a sweep's runs",
        description=(
            "For every complete run of one or more sweep folders, or of run folders given one by one: the spectral centroid of its filtered training "
            "images, each layer's mean kernel centroid (RUN/analysis/filters.json, else computed), its clean accuracy and the "
            "band-ablation, heat-map and attack summaries of RUN/analysis/sensitivity.json; Spearman rank "
            "correlations between them and scatter figures. Sweeps over band:LO:HI filters also get the train-band x "
            "test-band accuracy matrix. Runs that differ only in their seed form a variant: mean, std and a 95% "
            "confidence interval per column (Student-t for few seeds, BCa bootstrap from 10), paired differences "
            "against the --baseline variant matched by seed, and rank correlations across the variants' means with a "
            "seed-resampling interval and a permutation p-value (per dataset and model; partial correlations "
            "controlling for clean accuracy). Writes OUT/compare.csv, variants.csv, compare.md, band_matrix.csv, PNGs "
            "and compare.json."
        ),
    )
    parser.add_argument(
        "sweep_dir",
        metavar="FOLDER",
        nargs="+",
        help="the --out folder of freqprobe sweep or reproduce (its runs), or a run folder of freqprobe train "
        "(itself); several folders are compared as one table (e.g. a sweep and the sweep of its regularized twin, "
        "or runs trained one by one)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="for runs without sensitivity.json, measure band ablation (and an FGSM attack when available) on "
        "--subset test images",
    )
    parser.add_argument(
        "--subset",
        type=int,
        default=DEFAULT_SUBSET,
        metavar="N",
        help=f"images for input centroids (train), band matrix and --analyze (test) (default: {DEFAULT_SUBSET})",
    )
    parser.add_argument(
        "--data-dir", default=None, metavar="DIR", help="data root (default: each run's own, FREQPROBE_DATA, cache)"
    )
    parser.add_argument(
        "--no-band-matrix", action="store_true", help="skip the train-band x test-band evaluation of band sweeps"
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="FILTER|FIELD=VALUE,...",
        help="the baseline variant: a filter spec (e.g. none, blur:2) or FIELD=VALUE pairs of the identity fields and "
        "swept options (model=resnet20; augment_noise=none,apr=none); every other variant minus the one that differs "
        "from it only there, seed by seed, with 95%% intervals (default: none, when some run is unfiltered)",
    )
    parser.add_argument(
        "--features", action="append", default=[], metavar="FILE",
        help="a features.json of freqprobe features to take the runs' feature-map columns from (repeatable; each "
        "run's own analysis/features.json is read without it)",
    )
    add_format_argument(parser)
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from freqprobe.analysis.compare import COMPARE_MD, compare_sweep, write_comparison
    from freqprobe.analysis.compare.seed_tables import difference_lines
    from freqprobe.io import prepare_output_dir

    out_dir = prepare_output_dir(args.out, "--out")  # before gathering the runs: a bad --out costs no minutes
    comparison = compare_sweep(
        args.sweep_dir,
        subset=args.subset,
        analyze=args.analyze,
        data_dir=args.data_dir,
        band_matrices=not args.no_band_matrix,
        baseline=args.baseline,
        features=args.features,
    )
    written = write_comparison(comparison, out_dir, args.figure_format)
    print(f"compared {len(comparison.rows)} runs from {comparison.sweep_dir}; summary in {out_dir / COMPARE_MD}")
    lines = difference_lines(comparison, "clean_accuracy")
    if lines:
        print(f"clean test accuracy against {comparison.baseline}, paired by seed (95% interval; all columns in "
              f"{COMPARE_MD}):")
        print("\n".join(f"  {line}" for line in lines))
    for note in comparison.notes:
        print(f"note: {note}")
    for path in written.values():
        print(f"wrote {path}")
    return 0
