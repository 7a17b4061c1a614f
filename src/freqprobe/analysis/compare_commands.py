"""``freqprobe compare SWEEP_DIR --out DIR``: the links between input spectra, kernel spectra, accuracy and robustness
across the runs of a sweep. Only argparse is imported here; the work loads when the handler runs."""

from __future__ import annotations

import argparse

from freqprobe.plots.formats import add_format_argument

DEFAULT_SUBSET = 1000  # = freqprobe.analysis.compare.DEFAULT_SUBSET, repeated so that --help imports no numpy


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="one table of input centroid, kernel centroids, accuracy and robustness across a sweep's runs",
        description=(
            "For every complete run of one or more sweep folders: the spectral centroid of its filtered training "
            "images, each layer's mean kernel centroid (RUN/analysis/filters.json, else computed), its clean accuracy and the "
            "band-ablation, heat-map and attack summaries of RUN/analysis/sensitivity.json; Spearman rank "
            "correlations between them and scatter figures. Sweeps over band:LO:HI filters also get the train-band x "
            "test-band accuracy matrix. Runs that differ only in their seed are summarized as mean +- std per "
            "variant. Writes OUT/compare.csv, compare.md, band_matrix.csv, PNGs and compare.json."
        ),
    )
    parser.add_argument(
        "sweep_dir",
        metavar="SWEEP_DIR",
        nargs="+",
        help="the --out folder of freqprobe sweep or reproduce; several folders are compared as one table (e.g. a "
        "sweep and the sweep of its regularized twin)",
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
    add_format_argument(parser)
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from freqprobe.analysis.compare import COMPARE_MD, compare_sweep, write_comparison
    from freqprobe.io import prepare_output_dir

    out_dir = prepare_output_dir(args.out, "--out")  # before gathering the runs: a bad --out costs no minutes
    comparison = compare_sweep(
        args.sweep_dir,
        subset=args.subset,
        analyze=args.analyze,
        data_dir=args.data_dir,
        band_matrices=not args.no_band_matrix,
    )
    written = write_comparison(comparison, out_dir, args.figure_format)
    print(f"compared {len(comparison.rows)} runs of {comparison.sweep_dir}; summary in {out_dir / COMPARE_MD}")
    for note in comparison.notes:
        print(f"note: {note}")
    for path in written.values():
        print(f"wrote {path}")
    return 0
