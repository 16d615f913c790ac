"""The colour bar legend shown beside the animations: the scale, its domain and what the domain means."""

from __future__ import annotations

import numpy as np

from render.frames import INK_LEVEL, bar_indices, bar_labels
from render.label import paint_text, text_width
from render.palette import grey_index

PAPER = 255


def legend_caption(domain: tuple[float, float], bounded: bool) -> str:
    """Return the legend's caption: a fixed tanh domain, or the run's symmetric maximum."""
    if bounded:
        return "activation (tanh): fixed domain -1 .. +1, 0 = white"
    return f"activation: domain ±{domain[1]:.3g} = ± largest |value| of the whole run, 0 = white"


def colorbar_frame(domain: tuple[float, float], bounded: bool, *, width: int = 582, font_size: int = 16,
                   nan_note: bool = True) -> np.ndarray:
    """Return an (H, W) uint8 palette-index image of a labelled horizontal colour bar (even sizes)."""
    from render.palette import NAN_INDEX

    caption = legend_caption(domain, bounded)
    width = max(width, text_width(caption, font_size) + 8)
    width += width % 2
    line = font_size + 8
    bar_height = 16
    height = line + bar_height + 4 + line + 4
    height += height % 2
    canvas = np.full((height, width), grey_index(PAPER), np.uint8)  # (H, W)
    paint_text(canvas, caption, font_size, 4, 2, ink=INK_LEVEL, paper=PAPER)
    swatch = 2 * bar_height if nan_note else 0
    bar_width = width - 8 - (swatch + 8 + text_width("NaN", font_size) + 8 if nan_note else 0)
    bar_width -= 1 - bar_width % 2  # odd, so that 0 has its own column
    top = line
    canvas[top - 1:top + bar_height + 1, 3:4 + bar_width + 1] = grey_index(INK_LEVEL + 96)
    canvas[top:top + bar_height, 4:4 + bar_width] = bar_indices(bar_width, bar_height)
    low, high = bar_labels(domain, bounded)
    ticks = ((4, low), (4 + bar_width // 2, "0"), (4 + bar_width - 1, high))
    for x, text in ticks:
        canvas[top + bar_height + 1:top + bar_height + 4, x] = grey_index(INK_LEVEL)
        left = min(max(0, x - text_width(text, font_size) // 2), width - text_width(text, font_size))
        paint_text(canvas, text, font_size, left, top + bar_height + 4, ink=INK_LEVEL, paper=PAPER)
    if nan_note:
        x = width - 4 - text_width("NaN", font_size) - 8 - swatch
        canvas[top:top + bar_height, x:x + swatch] = NAN_INDEX
        paint_text(canvas, "NaN", font_size, x + swatch + 6, top, ink=INK_LEVEL, paper=PAPER)
    return canvas
