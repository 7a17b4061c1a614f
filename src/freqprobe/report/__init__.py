"""freqprobe.report: one self-contained HTML page (``freqprobe report DIR``) for a run, sweep or analysis folder.

``collect`` finds the tables, Markdown files and figures of a folder tree and captions the figures (``captions``);
``tables`` reads freqprobe's JSON files into tables, ``markdown`` renders its Markdown tables, ``html`` writes the
page. Importing this package loads nothing heavy: the CLI builds its parser from ``freqprobe.report.commands``.
"""

from __future__ import annotations

from freqprobe.lazy import lazy_exports

_EXPORTS = {
    "write_report": "freqprobe.report.html",
    "render_page": "freqprobe.report.html",
    "collect_report": "freqprobe.report.collect",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
