"""The colour bar legend shown beside the animations: the scale, its domain and what the domain means."""

from __future__ import annotations

import numpy as np

from render.frames import INK_LEVEL, bar_indices, bar_labels
from render.label import paint_text, text_width
from render.palette import grey_index

PAPER = 255


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def legend_caption(scale: dict, activation: str | None = None) -> str:
    """Return the legend's caption: what the layer's domain is (fixed, or from the run's values) and 0 = white."""
    name = f"activation ({activation})" if activation else "activation"
    low, high = (float(end) for end in scale["domain"])
    if scale["kind"] == "fixed":
        return f"{name}: fixed domain {low:+g} .. {high:+g}, 0 = white".replace(": fixed domain +0", ": fixed domain 0")
    basis, clipped = scale.get("basis") or "the run's values", int(scale.get("clipped_values", 0))
    if scale["kind"] == "sequential":
        negatives = int(scale.get("negative_values", 0))
        dip = f"; {_count(negatives, 'negative value')} drawn white" if negatives else ""
        return (f"{name}: 0 .. {high:.3g} ({basis}; {_count(clipped, 'value')} above it drawn at the end{dip}), "
                "0 = white")
    return (f"{name}: ±{high:.3g} ({basis}; {_count(clipped, 'value')} beyond it drawn at the ends), 0 = white")


def _lines(text: str, font_size: int, width: int) -> list[str]:
    """Return `text` broken at spaces into lines no wider than `width` (a longer word stays whole)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", font_size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def colorbar_frame(scale: dict, activation: str | None = None, *, width: int = 582, font_size: int = 16,
                   nan_note: bool = True) -> np.ndarray:
    """Return an (H, W) uint8 palette-index image of a labelled horizontal colour bar (even sizes).

    The caption (`legend_caption`) is wrapped to the width; a signed domain has a tick at 0.
    """
    from render.palette import NAN_INDEX

    width += width % 2
    captions = _lines(legend_caption(scale, activation), font_size, width - 8)
    width = max(width, max(text_width(line, font_size) for line in captions) + 8)
    width += width % 2
    line = font_size + 8
    bar_height = 16
    head = line * len(captions)
    height = head + bar_height + 4 + line + 4
    height += height % 2
    canvas = np.full((height, width), grey_index(PAPER), np.uint8)  # (H, W)
    for row, text in enumerate(captions):
        paint_text(canvas, text, font_size, 4, 2 + row * line, ink=INK_LEVEL, paper=PAPER)
    swatch = 2 * bar_height if nan_note else 0
    bar_width = width - 8 - (swatch + 8 + text_width("NaN", font_size) + 8 if nan_note else 0)
    bar_width -= 1 - bar_width % 2  # odd, so that 0 has its own column
    top = head
    canvas[top - 1:top + bar_height + 1, 3:4 + bar_width + 1] = grey_index(INK_LEVEL + 96)
    canvas[top:top + bar_height, 4:4 + bar_width] = bar_indices(bar_width, bar_height, scale)
    low, high = bar_labels(scale)
    ticks = [(4, low), (4 + bar_width - 1, high)]
    if float(scale["domain"][0]) < 0:
        ticks.insert(1, (4 + bar_width // 2, "0"))
    for x, text in ticks:
        canvas[top + bar_height + 1:top + bar_height + 4, x] = grey_index(INK_LEVEL)
        left = min(max(0, x - text_width(text, font_size) // 2), width - text_width(text, font_size))
        paint_text(canvas, text, font_size, left, top + bar_height + 4, ink=INK_LEVEL, paper=PAPER)
    if nan_note:
        x = width - 4 - text_width("NaN", font_size) - 8 - swatch
        canvas[top:top + bar_height, x:x + swatch] = NAN_INDEX
        paint_text(canvas, "NaN", font_size, x + swatch + 6, top, ink=INK_LEVEL, paper=PAPER)
    return canvas
