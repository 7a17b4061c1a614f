"""``freqprobe spectrum`` (per-class dataset spectra) and ``freqprobe preview`` (images before/after filters).

Only argparse is imported at module level: the CLI builds its parser from here on every call, and torch and
matplotlib load only when a handler runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from freqprobe.data.commands import add_dataset_arguments
from freqprobe.plots.formats import add_format_argument, figure_file

SPLIT_CHOICES = ("train", "val", "test")
BOUNDARY_CHOICES = ("circular", "reflect")
WINDOW_CHOICES = ("none", "hamming")
FILTER_HELP = (
    "input filter spec: none, blur:S, highpass:S, whiten, band:LO:HI, logmag, powerlaw:ALPHA, phase, amplitude-swap"
)
SPECTRUM_FILE = "spectrum.json"
PREVIEW_FILE = "preview.png"
PREVIEW_JSON = "preview.json"


def add_commands(subparsers) -> None:
    _add_spectrum_command(subparsers)
    _add_preview_command(subparsers)


def _add_spectrum_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "spectrum",
        help="per-class power spectra, radial profiles and spectral centroids of a dataset split",
        description=(
            "Compute, per class of one split, the mean power spectrum (channels averaged), its radial profile and "
            "power-law slope, and the per-image spectral centroid, optionally after an input filter. Writes "
            f"OUT/{SPECTRUM_FILE} and PNG figures. Filters that need statistics (whiten) are fitted on the train split."
        ),
    )
    add_dataset_arguments(parser)
    _add_filter_options(parser, multiple=False)
    parser.add_argument(
        "--split", choices=SPLIT_CHOICES, default="train", help="which split to analyse (default: train)"
    )
    parser.add_argument(
        "--window",
        choices=WINDOW_CHOICES,
        default="none",
        help="taper each image with a 2-D Hamming window before the FFT, after removing each channel's mean (its DC "
        "power is added back), to suppress the border-jump leakage; default: none (class_spectra_hamming.png then "
        "shows the windowed class spectra beside the unwindowed figures)",
    )
    parser.add_argument("--batch-size", type=int, default=512, metavar="N", help="images per FFT batch (default: 512)")
    parser.add_argument(
        "--histogram-bins", type=int, default=40, metavar="N", help="bins of the centroid histograms (default: 40)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    add_format_argument(parser)
    parser.set_defaults(handler=run_spectrum)


def _add_preview_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="example images before and after input filters, with their spectra",
        description=(
            "Draw one example image per class, unfiltered and after each --filter, each above its log power "
            f"spectrum, into OUT/{PREVIEW_FILE}. Filters that need statistics (whiten) are fitted on the train split."
        ),
    )
    add_dataset_arguments(parser)
    _add_filter_options(parser, multiple=True)
    parser.add_argument(
        "--split", choices=SPLIT_CHOICES, default="test", help="split the examples come from (default: test)"
    )
    parser.add_argument(
        "--n", type=int, default=None, metavar="N",
        help="number of examples, one per class in turn (default: one image of each class)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    add_format_argument(parser)
    parser.set_defaults(handler=run_preview)


def _add_filter_options(parser: argparse.ArgumentParser, multiple: bool) -> None:
    if multiple:
        parser.add_argument(
            "--filter", dest="filters", action="append", required=True, metavar="F", help=FILTER_HELP + " (repeatable)"
        )
    else:
        parser.add_argument("--filter", default="none", metavar="F", help=FILTER_HELP + " (default: none)")
    parser.add_argument(
        "--boundary",
        choices=BOUNDARY_CHOICES,
        default="circular",
        help="image boundary of the Gaussian filters (blur, highpass): circular = FFT filtering (default), reflect",
    )


def run_spectrum(args: argparse.Namespace) -> int:
    from freqprobe.data import splits_from_args
    from freqprobe.filters import build_filter
    from freqprobe.io import atomic_write_json, output_set, prepare_output_dir
    from freqprobe.plots import describe, write_spectrum_figures
    from freqprobe.plots.spectra import FIGURE_FILES, WINDOWED_CLASS_SPECTRA, write_windowed_class_spectra
    from freqprobe.spectra.dataset import compute_dataset_spectrum
    from freqprobe.data.labels import data_note
    from freqprobe.spectra.summary import spectrum_summary

    out_dir = prepare_output_dir(args.out, "--out")
    _check_positive("--batch-size", args.batch_size)
    _check_positive("--histogram-bins", args.histogram_bins)
    input_filter = build_filter(args.filter, args.boundary)  # before loading data: a typo fails at once
    window = None if args.window == "none" else args.window
    splits = splits_from_args(args)
    data = _chosen_split(splits, args)
    fitted_on = _fit_on_train(input_filter, splits)
    result = compute_dataset_spectrum(
        data.images, data.labels, data.classes, transform=input_filter, window=window, batch_size=args.batch_size
    )
    metadata = {
        "dataset": data.name,
        "source": data.source,
        "split": args.split,
        "val_fraction": args.val_fraction,
        "split_seed": args.split_seed,
        "filter": input_filter.spec,
        "boundary": args.boundary,
        "filter_fitted_on": fitted_on,
        "channels": int(data.images.shape[1]),
    }
    summary = spectrum_summary(result, metadata, histogram_bins=args.histogram_bins)
    note = data_note(data.name, data.source)
    title = describe(data.name, args.split, input_filter.spec, note, window)
    windowed = None
    if window is None:  # the windowed view beside the unwindowed one, whose "+" cross is the border discontinuity
        windowed = compute_dataset_spectrum(
            data.images, data.labels, data.classes, transform=input_filter, window="hamming", batch_size=args.batch_size
        )
    # One set: a kill while it is written leaves the previous spectrum whole, never new figures beside an old JSON.
    fmt = args.figure_format
    owned = [figure_file(name, fmt) for name in (*FIGURE_FILES.values(), WINDOWED_CLASS_SPECTRA)]
    with output_set(out_dir, SPECTRUM_FILE, owns=owned) as staging:
        figures = write_spectrum_figures(result, title, staging, fmt)
        if windowed is not None:
            windowed_title = describe(data.name, args.split, input_filter.spec, note, "hamming")
            figures["class_spectra_hamming"] = write_windowed_class_spectra(windowed, windowed_title, staging, fmt)
        summary["figures"] = {name: path.name for name, path in figures.items()}
        atomic_write_json(staging / SPECTRUM_FILE, summary)
    figures = {name: out_dir / path.name for name, path in figures.items()}
    _print_spectrum_report(summary, out_dir, figures)
    return 0


def run_preview(args: argparse.Namespace) -> int:
    import torch

    from freqprobe.data import splits_from_args, to_float
    from freqprobe.filters import build_filter
    from freqprobe.io import atomic_write_json, output_set, prepare_output_dir
    from freqprobe.plots import describe
    from freqprobe.plots.preview import plot_preview
    from freqprobe.spectra.examples import one_per_class
    from freqprobe.data.labels import data_note

    out_dir = prepare_output_dir(args.out, "--out")
    if args.n is not None:
        _check_positive("--n", args.n)
    filters = [build_filter(spec, args.boundary) for spec in args.filters]
    splits = splits_from_args(args)
    data = _chosen_split(splits, args)
    for input_filter in filters:
        _fit_on_train(input_filter, splits)
    indices = one_per_class(data.labels, args.n if args.n is not None else data.num_classes)
    originals = to_float(data.images[indices])
    with torch.no_grad():
        filtered = {f.spec: f(originals) for f in filters}
    names = [data.classes[int(label)] for label in data.labels[indices]]
    title = describe(data.name, args.split, ", ".join(filtered), data_note(data.name, data.source))
    figure = figure_file(PREVIEW_FILE, args.figure_format)
    path = out_dir / figure
    with output_set(out_dir, PREVIEW_JSON, owns=[figure]) as staging:
        plot_preview(originals, filtered, names, title, staging / figure)
        # The report's captions read what the figure shows from this file.
        atomic_write_json(
            staging / PREVIEW_JSON,
            {
                "dataset": data.name,
                "source": data.source,
                "data_note": data_note(data.name, data.source),
                "split": args.split,
                "n_images": len(indices),
                "filter": ", ".join(filtered),
                "boundary": args.boundary,
                "classes": names,
                "figures": {"preview": figure},
            },
        )
    print(f"preview of {len(indices)} {args.split} images, filters {', '.join(filtered)}: wrote {path}")
    return 0


def _chosen_split(splits, args: argparse.Namespace):
    from freqprobe.errors import ConfigError

    data = getattr(splits, args.split)
    if len(data) == 0:
        raise ConfigError(
            f"the {args.split} split of {data.name} is empty (--val-fraction {args.val_fraction:g}); "
            f"choose another --split or a larger --val-fraction"
        )
    return data


def _fit_on_train(input_filter, splits) -> str | None:
    """Fit a filter that needs statistics on the train split (never val or test); returns what it was fitted on."""
    if not input_filter.requires_fit:
        return None
    input_filter.fit(splits.train.images)
    return f"train split ({len(splits.train)} images)"


def _check_positive(option: str, value: int) -> None:
    from freqprobe.errors import ConfigError

    if value < 1:
        raise ConfigError(f"{option} must be a positive integer, got {value}")


def _print_spectrum_report(summary: dict, out_dir: Path, figures: dict[str, Path]) -> None:
    everything = summary["all"]
    slope = everything["radial_slope"]
    print(
        f"{summary['dataset']} {summary['split']} split, filter {summary['filter']}, window {summary['window']}: "
        f"{summary['n_images']} images, spectral centroid {everything['spectral_centroid_mean']:.4f} "
        f"± {everything['spectral_centroid_std']:.4f} cycles/pixel, radial slope "
        f"{'n/a' if slope is None else f'{slope:.2f}'}"
    )
    if "data_note" in summary:
        print(f"note: {summary['data_note']}")
    print(f"wrote {out_dir / SPECTRUM_FILE}")
    for path in figures.values():
        print(f"wrote {path}")
