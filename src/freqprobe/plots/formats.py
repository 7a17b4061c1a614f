"""The file formats figures are written in, and the ``--format`` option every drawing command shares.

Imports nothing heavy (the CLI builds its parser from the command modules on every call).
"""

from __future__ import annotations

import argparse
from pathlib import PurePath

FIGURE_FORMATS = ("png", "pdf", "svg")
DEFAULT_FORMAT = "png"


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """``--format png|pdf|svg`` (default png): the file type of every figure the command draws."""
    parser.add_argument(
        "--format",
        dest="figure_format",
        choices=FIGURE_FORMATS,
        default=DEFAULT_FORMAT,
        help="file type of the figures: png (default; what the HTML report embeds), or vector pdf / svg for print; "
        "figures of another format already in the folder are left as they are",
    )


def figure_file(name: str, fmt: str = DEFAULT_FORMAT) -> str:
    """``name`` (``"band_ablation"`` or ``"band_ablation.png"``) with the suffix of ``fmt``.

    >>> figure_file("class_spectra.png", "pdf")
    'class_spectra.pdf'
    >>> figure_file("learning_curve")
    'learning_curve.png'
    """
    check_format(fmt)
    path = PurePath(name)
    stem = path.stem if path.suffix.lstrip(".") in FIGURE_FORMATS else path.name
    return str(path.with_name(f"{stem}.{fmt}"))


def check_format(fmt: str) -> str:
    """``fmt`` when it is one of FIGURE_FORMATS, else a ConfigError naming the valid ones."""
    if fmt not in FIGURE_FORMATS:
        from freqprobe.errors import ConfigError

        raise ConfigError(f"unknown figure format {fmt!r}; valid: {', '.join(FIGURE_FORMATS)}")
    return fmt
