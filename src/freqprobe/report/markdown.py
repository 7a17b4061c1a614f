"""The small Markdown subset freqprobe writes (results.md, reproduce.md, compare.md) rendered as HTML.

Supported: ATX headings, paragraphs, ``-``/``*`` bullet lists, pipe tables (``\\|`` is a literal bar), fenced code
blocks, and inline ``code``, ``**bold**`` and ``*emphasis*``. Everything else is shown as escaped text, so no input can
inject markup into the page.
"""

from __future__ import annotations

import html
import re

from freqprobe.tables import split_markdown_row

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def markdown_to_html(text: str, heading_offset: int = 2) -> str:
    """HTML for ``text``; headings are moved down ``heading_offset`` levels (a report's sections own h1/h2)."""
    lines = text.splitlines()
    blocks: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
        elif line.strip().startswith("```"):
            index = _code_block(lines, index, blocks)
        elif _HEADING.match(line):
            level, content = _HEADING.match(line).groups()
            shown = min(6, len(level) + heading_offset)
            blocks.append(f"<h{shown}>{inline(content)}</h{shown}>")
            index += 1
        elif _is_table_start(lines, index):
            index = _table(lines, index, blocks)
        elif _BULLET.match(line):
            index = _bullet_list(lines, index, blocks)
        else:
            index = _paragraph(lines, index, blocks)
    return "\n".join(blocks)


def inline(text: str) -> str:
    """Escape ``text`` and apply inline code, bold and emphasis (code spans are left verbatim)."""
    parts = _CODE.split(text)
    rendered = []
    for position, part in enumerate(parts):
        if position % 2:  # inside backticks
            rendered.append(f"<code>{html.escape(part)}</code>")
        else:
            escaped = html.escape(part)
            escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
            rendered.append(_EMPHASIS.sub(r"<em>\1</em>", escaped))
    return "".join(rendered)


def _is_table_start(lines: list[str], index: int) -> bool:
    if "|" not in lines[index] or index + 1 >= len(lines):
        return False
    separator = split_markdown_row(lines[index + 1])
    return bool(separator) and all(_SEPARATOR_CELL.match(cell) for cell in separator)


def _table(lines: list[str], index: int, blocks: list[str]) -> int:
    header = split_markdown_row(lines[index])
    index += 2
    rows = []
    while index < len(lines) and lines[index].strip().startswith("|"):
        rows.append(split_markdown_row(lines[index]))
        index += 1
    head = "".join(f"<th>{inline(cell)}</th>" for cell in header)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in _fit(row, len(header))) + "</tr>" for row in rows
    )
    blocks.append(
        f'<div class="table-wrap"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table></div>'
    )
    return index


def first_table(text: str) -> tuple[list[str], list[list[str]], str] | None:
    """The first pipe table of ``text``: (header, rows padded or cut to the header's width, the last paragraph line
    above it), or None when there is none. Cells are plain text (``\\|`` read back as a bar).

    >>> first_table("# T\\n\\nIn percent.\\n\\n| a | b |\\n| --- | --- |\\n| 1 | 2 \\\\| 3 |\\n")
    (['a', 'b'], [['1', '2 | 3']], 'In percent.')
    """
    lines = text.splitlines()
    for index in range(len(lines)):
        if _is_table_start(lines, index):
            header = split_markdown_row(lines[index])
            end = index + 2
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            rows = [_fit(split_markdown_row(line), len(header)) for line in lines[index + 2:end]]
            above = [line.strip() for line in lines[:index] if line.strip() and not _HEADING.match(line)]
            return header, rows, above[-1] if above else ""
    return None


def _fit(row: list[str], width: int) -> list[str]:
    """Pad or cut a row to the header's width (hand-edited tables are not always regular)."""
    return (row + [""] * width)[:width]


def _bullet_list(lines: list[str], index: int, blocks: list[str]) -> int:
    items = []
    while index < len(lines) and _BULLET.match(lines[index]):
        items.append(f"<li>{inline(_BULLET.match(lines[index]).group(1))}</li>")
        index += 1
    blocks.append("<ul>\n" + "\n".join(items) + "\n</ul>")
    return index


def _code_block(lines: list[str], index: int, blocks: list[str]) -> int:
    index += 1
    body = []
    while index < len(lines) and not lines[index].strip().startswith("```"):
        body.append(lines[index])
        index += 1
    blocks.append(f"<pre>{html.escape(chr(10).join(body))}</pre>")
    return index + 1  # past the closing fence (or the end)


def _paragraph(lines: list[str], index: int, blocks: list[str]) -> int:
    body = []
    while index < len(lines) and lines[index].strip() and not _starts_block(lines, index):
        body.append(lines[index].strip())
        index += 1
    blocks.append(f"<p>{inline(' '.join(body))}</p>")
    return index


def _starts_block(lines: list[str], index: int) -> bool:
    line = lines[index]
    return bool(
        _HEADING.match(line) or _BULLET.match(line) or line.strip().startswith("```") or _is_table_start(lines, index)
    )
