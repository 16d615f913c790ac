"""Write matplotlib figures as small, byte-deterministic SVG for the page.

Use: `with matplotlib.rc_context(svg_rc("name")): ... svg_bytes(figure)` (`figure_svg` adds the size in
pixels; ANALYSIS_RC is the rc of the analysis' figures). The rc fixes the SVG hash salt (ids do not change
between runs) and keeps text as text in the page's sans-serif font; `svg_bytes` saves without a date and
`compact_svg` drops the metadata and rounds coordinates to 0.1 pt, which changes nothing a reader can see and
shrinks the file by a third or more.
"""

from __future__ import annotations

import io
import re
import warnings
from xml.sax.saxutils import escape


def svg_rc(salt: str) -> dict:
    """Return the matplotlib rc for the project's SVG figures, salted with the figure's own name."""
    return {"svg.hashsalt": salt, "svg.fonttype": "none", "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"]}


# The settling figure and the heat maps: one salt, smaller text, no top or right spine.
FIGURE_DPI = 100  # the heat maps' and the settling figure's (their Figure(dpi=...)): pixels per inch on the page
ANALYSIS_RC = dict(svg_rc("report-analysis-figures"), **{"font.size": 9, "axes.spines.top": False,
                                                         "axes.spines.right": False})


def _round_number(match: re.Match) -> str:
    """Return a decimal number of an SVG rounded to one decimal (0.1 pt), without a trailing zero."""
    text = f"{float(match.group(0)):.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def compact_svg(text: str) -> str:
    """Shrink matplotlib's SVG without changing the drawing: no metadata, coordinates to 0.1 pt, no no-op rotations."""
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r' transform="rotate\(-?0 [-\d.]+ [-\d.]+\)"', "", text)
    text = re.sub(r"(?<![\w#])-?\d+\.\d{2,}", _round_number, text)  # never inside ids, colours or base64
    return re.sub(r" ?\n\s*(?=[LMCQz])", " ", text)  # path commands on one line


def svg_bytes(figure) -> bytes:
    """Return a matplotlib Figure as deterministic, compact SVG bytes."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Text stays text (svg.fonttype none): the reader's browser draws Chinese labels in its own fonts, so a
        # glyph DejaVu Sans lacks only makes matplotlib's layout estimate its width.
        warnings.filterwarnings("ignore", message=r"Glyph \d+")  # "Glyph 20013 (...) missing from font(s) ..."
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return compact_svg(buffer.getvalue().decode("utf-8")).encode("utf-8")


def relabelled(svg: bytes, source: dict, target: dict) -> bytes:
    """Return an SVG drawn with the `source` labels with each label's text node now saying `target`'s (same keys).

    The words are text (svg.fonttype none), so another edition's figure is the same drawing with its words
    swapped instead of drawn again by matplotlib (the site's slowest step); list values swap item by item.
    """
    text = svg.decode("utf-8")
    for key, old in source.items():
        pairs = zip(old, target[key]) if isinstance(old, (list, tuple)) else [(old, target[key])]
        for before, after in pairs:
            text = text.replace(f">{escape(str(before))}</text>", f">{escape(str(after))}</text>")
    return text.encode("utf-8")


def svg_size(svg: bytes, dpi: float = FIGURE_DPI) -> tuple[int, int]:
    """Return the (width, height) in pixels of an SVG that matplotlib wrote (in points) from a `dpi` figure."""
    found = re.search(rb'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return int(round(float(found[1]) * dpi / 72)), int(round(float(found[2]) * dpi / 72))


def figure_svg(figure) -> tuple[bytes, tuple[int, int]]:
    """Return a matplotlib Figure as deterministic SVG bytes and its (width, height) in pixels."""
    width, height = figure.get_size_inches() * figure.dpi
    return svg_bytes(figure), (int(round(width)), int(round(height)))
