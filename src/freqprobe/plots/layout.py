"""A layout check for drawn figures: no text cut by the figure edge, no two texts on top of each other, no legend
over a text outside it.

The check renders the figure with Agg at the saving resolution and reads the renderer's extent of every text that
was actually drawn (titles, axis and tick labels, legend entries, colour-bar labels, annotations). Rotated texts
(e.g. tick labels at 60 degrees) are compared as rotated rectangles, not by their axis-aligned boxes, which would
report neighbours that do not touch.

    >>> from freqprobe.plots.style import new_figure
    >>> fig = new_figure(2.0, 1.5)
    >>> ax = fig.add_subplot()
    >>> _ = ax.set_title("a title far wider than a figure two inches across could ever show")
    >>> any(problem.startswith("clipped: 'a title far wider") for problem in layout_problems(fig))
    True
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from freqprobe.plots.style import DPI

# Extents are in pixels at the saving resolution; overlaps and overhangs below this are rounding, not layout.
TOLERANCE_PIXELS = 1.0


@dataclass
class PlacedText:
    """A drawn text as a rectangle: its centre, unrotated width and height, and rotation (pixels, radians)."""

    artist: Text
    centre: tuple[float, float]
    width: float
    height: float
    angle: float
    box: tuple[float, float, float, float]  # axis-aligned x0, y0, x1, y1

    def name(self) -> str:
        text = " ".join(self.artist.get_text().split())
        return repr(text if len(text) <= 50 else text[:47] + "...")

    def corners(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [self.width / 2, self.height / 2]
        return half @ np.array([[c, s], [-s, c]]) + self.centre


def layout_problems(fig: Figure, dpi: float = DPI, tolerance: float = TOLERANCE_PIXELS) -> list[str]:
    """Every layout defect of ``fig`` as one line each (empty when the layout is clean).

    ``clipped: ...`` a text reaches past the figure edge; ``overlap: ...`` two texts intersect; ``legend covers
    ...`` a legend's frame covers a text that is not part of it (a title, a label, a bar value).
    """
    texts, legends = drawn_texts(fig, dpi)
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    for placed in texts:
        x0, y0, x1, y1 = placed.box
        if x0 < -tolerance or y0 < -tolerance or x1 > width + tolerance or y1 > height + tolerance:
            problems.append(
                f"clipped: {placed.name()} spans x {x0:.0f}..{x1:.0f}, y {y0:.0f}..{y1:.0f} px of a "
                f"{width:.0f} x {height:.0f} px figure"
            )
    for i, first in enumerate(texts):
        for second in texts[i + 1 :]:
            if rectangles_overlap(first, second, tolerance):
                problems.append(f"overlap: {first.name()} and {second.name()}")
    for legend, frame in legends:
        own = {id(text) for text in (*legend.get_texts(), legend.get_title())}
        for placed in texts:
            if id(placed.artist) not in own and rectangles_overlap(frame, placed, tolerance):
                problems.append(f"legend covers {placed.name()}")
    return problems


@contextlib.contextmanager
def checking_saved_figures(tolerance: float = TOLERANCE_PIXELS) -> Iterator[dict[str, list[str]]]:
    """Within the block, every figure saved (``Figure.savefig``) is checked after saving; yields {path as saved:
    its :func:`layout_problems`}, filled as figures are saved. Atomic saves write into a temporary folder under the
    final file name, so the base name of a key is the figure's file name."""
    found: dict[str, list[str]] = {}
    original = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        result = original(self, fname, *args, **kwargs)
        found[str(fname)] = layout_problems(self, kwargs.get("dpi") or DPI, tolerance)
        return result

    Figure.savefig = savefig
    try:
        yield found
    finally:
        Figure.savefig = original


def drawn_texts(fig: Figure, dpi: float = DPI) -> tuple[list[PlacedText], list[tuple[object, PlacedText]]]:
    """Draw ``fig`` at ``dpi``; return the non-empty texts that were drawn and each visible legend's frame."""
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    with _recording_text_draws() as drawn:
        canvas.draw()
    renderer = canvas.get_renderer()
    texts = [_placed(text, renderer) for text in _unique(drawn) if text.get_text().strip()]
    legends = [legend for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)] if legend is not None]
    frames = []
    for legend in legends:
        if legend.get_visible() and (legend.axes is None or legend.axes.get_visible()):
            box = legend.get_window_extent(renderer)
            frames.append((legend, _rectangle(legend, box, box.width, box.height, 0.0)))
    return [text for text in texts if text.width > 0 and text.height > 0], frames


def rectangles_overlap(a: PlacedText, b: PlacedText, tolerance: float = TOLERANCE_PIXELS) -> bool:
    """True when the rotated rectangles ``a`` and ``b`` intersect by more than ``tolerance`` pixels (separating
    axis theorem: two convex shapes are disjoint iff their projections on some edge normal do not overlap)."""
    ax0, ay0, ax1, ay1 = a.box
    bx0, by0, bx1, by1 = b.box
    if min(ax1, bx1) - max(ax0, bx0) <= tolerance or min(ay1, by1) - max(ay0, by0) <= tolerance:
        return False
    corners_a, corners_b = a.corners(), b.corners()
    for angle in (a.angle, a.angle + math.pi / 2, b.angle, b.angle + math.pi / 2):
        normal = np.array([math.cos(angle), math.sin(angle)])
        pa, pb = corners_a @ normal, corners_b @ normal
        if min(pa.max(), pb.max()) - max(pa.min(), pb.min()) <= tolerance:
            return False
    return True


@contextlib.contextmanager
def _recording_text_draws() -> Iterator[list[Text]]:
    """Collect every Text whose draw() runs: only those reach the image (ticks outside the view are never drawn)."""
    drawn: list[Text] = []
    original = Text.draw

    def draw(self, renderer):
        original(self, renderer)
        if self.get_visible():
            drawn.append(self)

    Text.draw = draw
    try:
        yield drawn
    finally:
        Text.draw = original


def _placed(text: Text, renderer) -> PlacedText:
    box = text.get_window_extent(renderer)
    angle = math.radians(text.get_rotation() % 180.0)
    c, s = abs(math.cos(angle)), abs(math.sin(angle))
    if min(c, s) < 1e-6:  # 0 or 90 degrees: the box is the rectangle (turned for 90)
        width, height = (box.width, box.height) if c > s else (box.height, box.width)
    else:  # the unrotated size, measured on an unrotated copy in the same font
        upright = Text(0, 0, text.get_text(), fontproperties=text.get_fontproperties())
        upright.set_figure(text.get_figure(root=True))
        size = upright.get_window_extent(renderer)
        width, height = size.width, size.height
    return _rectangle(text, box, width, height, angle)


def _rectangle(artist, box, width: float, height: float, angle: float) -> PlacedText:
    centre = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
    return PlacedText(artist, centre, width, height, angle, (box.x0, box.y0, box.x1, box.y1))


def _unique(items: list[Text]) -> list[Text]:
    return list({id(item): item for item in items}.values())
