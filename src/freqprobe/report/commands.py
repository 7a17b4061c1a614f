"""``freqprobe report DIR [--out FILE]``: one self-contained HTML page for a run, sweep or analysis folder.

Only argparse is imported here; the report modules load when the handler runs.
"""

from __future__ import annotations

import argparse


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="one self-contained HTML page (figures inlined, no network) for a run, sweep or analysis folder",
        description=(
            "Collect the tables (metrics, configuration, results.md, reproduce.md, compare.md, JSON summaries) and "
            "every PNG figure of DIR and its sub-folders into one HTML file with inline CSS and base64-embedded "
            "figures, each captioned with what it plots and on which data. Needs no network and no JavaScript."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="a run, sweep, compare, spectrum, filters or sensitivity folder")
    parser.add_argument("--out", default=None, metavar="FILE", help="HTML file to write (default: DIR/report.html)")
    parser.add_argument(
        "--link-figures", action="store_true",
        help="link the PNGs by their paths relative to the page instead of embedding them: a page of a few kB for a "
        "folder kept whole (a repository, a web server); moved away from the folder, it shows no figures",
    )
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from freqprobe.report.collect import count
    from freqprobe.report.html import write_report

    path, report = write_report(args.folder, args.out, link_figures=args.link_figures)
    tables = sum(len(section.tables) + len(section.documents) for section in report.sections)
    print(
        f"{report.title}: {count(len(report.sections), 'folder')}, {count(tables, 'table')}, "
        f"{count(len(report.figures), 'figure')}; wrote {path}"
    )
    return 0
