"""One self-contained HTML page: CSS inline, figures inlined as base64 PNG data URIs, no script, no network.

The page opens from a file, a mail attachment or an archive years later and looks the same: nothing it shows lives
outside it. With ``link_figures`` the figures are linked by relative path instead: a page of a few kB for a folder
that is kept whole (a repository, a web server), which shows its figures only beside them.
"""

from __future__ import annotations

import base64
import html
import os
import struct
from pathlib import Path
from urllib.parse import quote

from freqprobe.errors import FreqprobeError
from freqprobe.io import atomic_write_text, prepare_output_dir
from freqprobe.report.collect import REPORT_NAME, Figure, FolderReport, Section, collect_report, count
from freqprobe.report.markdown import markdown_to_html
from freqprobe.report.tables import Table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPORT_FILE = REPORT_NAME

CSS = """
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.45;
       color: #1d1d1f; background: #ffffff; margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 36px 0 6px; padding-top: 12px; border-top: 2px solid #d0d4da; }
h3 { font-size: 17px; margin: 22px 0 6px; }
h4, h5, h6 { font-size: 15px; margin: 16px 0 4px; }
p.lead { color: #3a3f47; max-width: 900px; }
p.kind { color: #5b6270; margin: 0 0 8px; font-style: italic; }
p.note { color: #5b6270; font-size: 13px; margin: 2px 0 6px; }
nav { background: #f4f6f8; border: 1px solid #e1e5ea; padding: 10px 16px; border-radius: 6px; }
nav ul { margin: 4px 0; padding-left: 20px; columns: 2; }
a { color: #0b5cad; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 6px 0 14px; }
.headline { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.headline h2 { flex-basis: 100%; margin-top: 18px; }
.headline .results { flex: 1 1 420px; min-width: 0; }
.headline figure { flex: 1 1 420px; margin: 0; max-width: 560px; }
table.facts { font-size: 14px; margin: 0 0 10px; }
table.facts th { background: none; border: none; border-bottom: 1px solid #e1e5ea; font-weight: 600; padding-left: 0; }
table.facts td { border: none; border-bottom: 1px solid #e1e5ea; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d7dbe0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 18px 0 26px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e1e5ea; }
figcaption { font-size: 13px; color: #3a3f47; max-width: 900px; margin-top: 4px; }
figcaption .file { color: #7a818c; font-family: ui-monospace, Menlo, Consolas, monospace; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f4f6f8; padding: 8px; overflow-x: auto; }
details { margin: 10px 0; }
summary { font-weight: 600; cursor: pointer; }
footer { margin-top: 48px; color: #7a818c; font-size: 12px; }
"""


def render_page(report: FolderReport, link_from: Path | None = None) -> str:
    """The whole HTML document of ``report``; figures embedded, or linked relative to the folder ``link_from``."""
    from freqprobe import __version__

    kept = ("Figures are linked by relative path: keep this page and its folder in place." if link_from is not None
            else "Self-contained: figures are embedded, nothing is loaded from elsewhere.")

    body = [
        f"<h1>{html.escape(report.title)}</h1>",
        f'<p class="lead">{html.escape(report.description)}</p>',
        headline_html(report, link_from),
        _contents(report.sections) if len(report.sections) > 1 else "",
        *(_section(section, link_from) for section in report.sections),
        f"<footer>Made by freqprobe {html.escape(__version__)} (freqprobe report) from "
        f"{html.escape(str(report.folder))}. {kept}</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(report.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def headline_html(report: FolderReport, link_from: Path | None = None) -> str:
    """The headline results (``id="headline"``): key numbers, the results table and the learning curve side by side
    when there is room, so they fill the first screen before any section."""
    headline = report.headline
    if headline.is_empty:
        return ""
    parts = []
    if headline.facts:
        rows = "\n".join(
            f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value in headline.facts
        )
        parts.append(f'<table class="facts">\n{rows}\n</table>')
    if headline.table is not None:
        parts.append(table_html(headline.table))
    results = f'<div class="results">\n{"".join(parts)}\n</div>' if parts else ""
    curve = figure_html(report.headline_figure, link_from) if report.headline_figure is not None else ""
    return f'<section id="headline" class="headline">\n<h2>Headline results</h2>\n{results}\n{curve}\n</section>'


def _contents(sections: list[Section]) -> str:
    items = "\n".join(
        f'<li><a href="#{section.anchor}">{html.escape(section.title)}</a>'
        + (f" ({count(len(section.figures), 'figure')})" if section.figures else "")
        + "</li>"
        for section in sections
    )
    return f"<nav><strong>Contents</strong>\n<ul>\n{items}\n</ul></nav>"


def _section(section: Section, link_from: Path | None = None) -> str:
    parts = [
        f'<section id="{section.anchor}">',
        f"<h2>{html.escape(section.title)}</h2>",
        f'<p class="kind">{html.escape(section.intro)}</p>',
        *(table_html(table) for table in section.tables),
        *(
            f'<div class="document"><p class="note">{html.escape(document.title)}:</p>\n'
            f"{markdown_to_html(document.markdown)}</div>"
            for document in section.documents
        ),
        *(figure_html(figure, link_from) for figure in section.figures),
        *(
            [f'<p class="note">Figures and analyses of this run: its own page, '
             f'<a href="{html.escape(quote(section.own_report))}">{html.escape(section.own_report)}</a></p>']
            if section.own_report else []
        ),
        "</section>",
    ]
    return "\n".join(parts)


def table_html(table: Table) -> str:
    """A titled HTML table; every cell is escaped text."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in table.header)
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    body = f'<div class="table-wrap"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table></div>'
    if table.collapsed:
        return f"<details><summary>{html.escape(table.title)}</summary>\n{note}\n{body}</details>"
    return f"<h3>{html.escape(table.title)}</h3>\n{note}\n{body}"


def figure_html(figure: Figure, link_from: Path | None = None) -> str:
    """A <figure> with the PNG inlined as a data URI (or, given ``link_from``, linked by its path relative to that
    folder), its pixel size, and its caption; a file that is not a readable PNG is named in a note instead (one
    broken figure does not cost the whole page)."""
    try:
        data = figure.path.read_bytes()
    except OSError:
        data = b""
    size = png_size(data)
    if size is None:
        return (
            f'<p class="note">Figure {html.escape(figure.relative)} is not a readable PNG and is left out; '
            f"re-create it with the command that made it.</p>"
        )
    if link_from is None:
        source = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    else:
        source = html.escape(quote(relative_link(figure.path, link_from)))
    caption = html.escape(figure.caption)
    return (
        f'<figure>\n<img src="{source}" width="{size[0]}" height="{size[1]}" '
        f'alt="{caption}">\n<figcaption>{caption} <span class="file">{html.escape(figure.relative)}</span>'
        f"</figcaption>\n</figure>"
    )


def relative_link(target: Path, page_folder: Path) -> str:
    """``target``'s path relative to ``page_folder``, '/'-separated, for a link in a page written there.

    Made from absolute paths without resolving symlinks: a browser resolves ``../`` in a file URL by text, so a link
    through a symlinked folder must be built as the reader's path spells it.

    Example:
        >>> relative_link(Path("/data/sweep/runs/a/fig.png"), Path("/data/pages"))
        '../sweep/runs/a/fig.png'
    """
    return Path(os.path.relpath(os.path.abspath(target), os.path.abspath(page_folder))).as_posix()


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None when ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def write_report(folder: str | os.PathLike, out: str | os.PathLike | None = None,
                 link_figures: bool = False) -> tuple[Path, FolderReport]:
    """Collect ``folder``, render it and write the page atomically to ``out`` (default ``folder/report.html``),
    its figures embedded, or linked by their paths relative to the page with ``link_figures``.

    Returns the path written and what the page shows.

    Raises:
        FreqprobeError: no such folder, nothing to report, or ``out`` is a folder.
    """
    path = Path(out) if out is not None else Path(folder) / REPORT_FILE
    if path.is_dir():
        raise FreqprobeError(f"--out {path} is a folder; give the HTML file to write, e.g. {path / REPORT_FILE}")
    report = collect_report(folder)  # reading is quick; it names a missing DIR better than a write check would
    for section in report.sections:  # a run's own page, named from where this page is written (--out elsewhere)
        if section.own_report:
            section.own_report = relative_link(Path(folder) / section.own_report, path.parent)
    prepare_output_dir(path.parent, "the folder of --out" if out is not None else "DIR")
    atomic_write_text(path, render_page(report, path.parent if link_figures else None))
    return path, report
