"""The Markdown subset of results.md / reproduce.md / compare.md, rendered to HTML."""

from __future__ import annotations

from freqprobe.report.markdown import inline, markdown_to_html


def test_pipe_table_with_escaped_bar_and_inline_code():
    text = "| filter | acc |\n| --- | ---: |\n| `band:0:0.2` | 91.2 \\| 0.3 |\n| none |\n"
    html = markdown_to_html(text)
    assert "<thead><tr><th>filter</th><th>acc</th></tr></thead>" in html
    assert "<tr><td><code>band:0:0.2</code></td><td>91.2 | 0.3</td></tr>" in html
    assert "<tr><td>none</td><td></td></tr>" in html  # short rows are padded to the header


def test_headings_move_down_and_blocks_separate():
    html = markdown_to_html("# Sweep results\n\nsome **bold** and *em* text\ncontinued\n\n- one\n- two `x<y`\n")
    assert html.splitlines() == [
        "<h3>Sweep results</h3>",
        "<p>some <strong>bold</strong> and <em>em</em> text continued</p>",
        "<ul>",
        "<li>one</li>",
        "<li>two <code>x&lt;y</code></li>",
        "</ul>",
    ]


def test_a_paragraph_stops_at_a_table_and_code_is_verbatim():
    html = markdown_to_html("Accuracy:\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```\n<raw> **x**\n```\n")
    assert html.startswith("<p>Accuracy:</p>\n<div class=\"table-wrap\"><table>")
    assert "<pre>&lt;raw&gt; **x**</pre>" in html


def test_everything_is_escaped():
    assert inline("<script>alert('x')</script> a*b*c 2 * 3") == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; a*b*c 2 * 3"
    )
    assert "<th>a | b</th><th>c</th>" in markdown_to_html("| a \\| b | c |\n| --- | --- |")
