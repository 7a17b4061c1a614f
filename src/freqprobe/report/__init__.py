"""freqprobe.report: one self-contained HTML page (``freqprobe report DIR``) for a run, sweep or analysis folder.

``collect`` finds the tables, Markdown files and figures of a folder tree and captions the figures (``captions``);
``tables`` reads freqprobe's JSON files into tables, ``markdown`` renders its Markdown tables, ``html`` writes the
page. Importing this package loads nothing heavy: the CLI builds its parser from ``freqprobe.report.commands``.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "write_report": "freqprobe.report.html",
    "render_page": "freqprobe.report.html",
    "collect_report": "freqprobe.report.collect",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'freqprobe.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
