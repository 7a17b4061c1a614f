"""Redraw the committed figures under a results folder from their stored JSON and metrics, recomputing nothing.

    PYTHONPATH=src python scripts/redraw_results.py results/fashion-mnist-resnet20-fast [--format pdf] [--check-layout]

What can be redrawn, and what needs the analysis rerun (dataset spectra, previews), is listed in
:mod:`freqprobe.redraw`. ``--check-layout`` also reports every clipped or overlapping text of each figure
(:mod:`freqprobe.plots.layout`) and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from freqprobe.plots.formats import add_format_argument
    from freqprobe.plots.layout import checking_saved_figures
    from freqprobe.redraw import redraw_folder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", metavar="DIR", help="results folders to redraw in place")
    add_format_argument(parser)
    parser.add_argument("--check-layout", action="store_true", help="report clipped or overlapping texts")
    args = parser.parse_args(argv)
    problems = 0
    with checking_saved_figures() as layout:
        for folder in args.folders:
            outcome = redraw_folder(folder, args.figure_format)
            for line in outcome.skipped:
                print(f"not redrawn: {line}")
            print(f"{folder}: {len(outcome.written)} figures redrawn")
    if args.check_layout:
        for saved, found in layout.items():
            for problem in found:
                problems += 1
                print(f"layout: {os.path.basename(saved)}: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
