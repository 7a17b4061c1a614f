"""``freqprobe data info`` and ``freqprobe data download``, and the dataset options other commands share.

Only argparse is imported at module level: the CLI builds its parser from here on every call.
"""

from __future__ import annotations

import argparse
import sys

DATASET_HELP = (
    "cifar10, fashion-mnist, folder:PATH (a directory or .tar/.tar.gz with train/<class>/*, test/<class>/*), or "
    "imagefolder:PATH (<class>/* only: one test split, for analyses)"
)
DATA_DIR_HELP = "data root (default: $FREQPROBE_DATA, else ~/.cache/freqprobe)"


def add_dataset_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--dataset`` (required), ``--data-dir``, ``--download``, ``--val-fraction`` (0.2), ``--split-seed`` (0)."""
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", required=required, metavar="D", help=DATASET_HELP)
    group.add_argument("--data-dir", metavar="DIR", default=None, help=DATA_DIR_HELP)
    group.add_argument("--download", action="store_true", help="download the canonical files if they are missing")
    group.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        metavar="F",
        help="share of each class's training images held out for validation (default: 0.2)",
    )
    group.add_argument(
        "--split-seed", type=int, default=0, metavar="S", help="seed of the train/validation split (default: 0)"
    )
    group.add_argument(
        "--image-size",
        type=int,
        default=None,
        metavar="N",
        help="folder:/imagefolder: images of any sizes: resize the short side to N pixels (bilinear, antialiased) "
        "and centre-crop NxN (default: keep the stored size; mixed sizes are refused)",
    )


def splits_from_args(args: argparse.Namespace):
    """The :class:`freqprobe.data.Splits` that the options of :func:`add_dataset_arguments` describe."""
    from freqprobe.data.splits import load_splits

    return load_splits(
        args.dataset,
        root=args.data_dir,
        val_fraction=args.val_fraction,
        seed=args.split_seed,
        download=args.download,
        image_size=getattr(args, "image_size", None),
    )


def add_commands(subparsers) -> None:
    data = subparsers.add_parser(
        "data",
        help="dataset information and downloads",
        description="Inspect and download datasets: cifar10, fashion-mnist, folder:PATH.",
    )
    data.set_defaults(handler=lambda args: _print_help(data))
    commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    info = commands.add_parser(
        "info",
        help="counts per split and class, image size, channels, where the files were found",
        description="Print counts per split (train/val/test) and class, image size, channels and the data source.",
    )
    add_dataset_arguments(info)
    info.set_defaults(handler=run_info)

    fetch = commands.add_parser(
        "download",
        help="download and verify the canonical files",
        description="Download the canonical files of a dataset with a progress bar and verify their md5 sums.",
    )
    fetch.add_argument("--dataset", required=True, metavar="D", help="cifar10 or fashion-mnist")
    fetch.add_argument("--data-dir", metavar="DIR", default=None, help=DATA_DIR_HELP)
    fetch.add_argument("--mirror", metavar="URL", default=None, help="base URL serving the same file names")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(handler=run_download)


def run_info(args: argparse.Namespace) -> int:
    splits = splits_from_args(args)
    print(format_info(splits, args.val_fraction, args.split_seed))
    return 0


def run_download(args: argparse.Namespace) -> int:
    from freqprobe.data.downloading import download

    folder = download(args.dataset, args.data_dir, mirror=args.mirror, progress=not args.quiet)
    print(f"{args.dataset}: canonical files verified in {folder}")
    return 0


def format_info(splits, val_fraction: float, split_seed: int) -> str:
    """A plain-text table: header lines, then one row per class with train/val/test counts, then totals. The shared
    CIFAR-10 JPEG copy gets the note line ``freqprobe spectrum`` prints for it."""
    from freqprobe.data.labels import data_note

    train, val, test = splits.train, splits.val, splits.test
    channels, height, width = train.image_shape
    counts = {split.split: split.class_counts() for split in (train, val, test)}
    name_width = max(len("class"), len("total"), *(len(name) for name in train.classes))
    lines = [
        f"dataset:  {train.name}",
        f"source:   {train.source}" + (f" ({train.resize})" if train.resize else ""),
        *([f"note:     {note}"] if (note := data_note(train.name, train.source)) else []),
        f"images:   {height}x{width} pixels, {channels} channel{'s' if channels != 1 else ''}, uint8",
        f"classes:  {train.num_classes}",
        f"split:    validation = {val_fraction:g} of each training class, seed {split_seed}; test untouched",
        "",
        f"{'class':<{name_width}}  {'train':>7}  {'val':>7}  {'test':>7}",
    ]
    for index, name in enumerate(train.classes):
        row = (counts[s][index] for s in ("train", "val", "test"))
        lines.append(f"{name:<{name_width}}  " + "  ".join(f"{c:>7}" for c in row))
    lines.append(f"{'total':<{name_width}}  " + "  ".join(f"{len(s):>7}" for s in (train, val, test)))
    return "\n".join(lines)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2
