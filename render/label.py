"""Text as coverage masks, drawn offline and deterministically with Pillow's bundled Aileron font.

The font is Pillow's `ImageFont.load_default(size)` (Aileron Regular, embedded in Pillow) with
the BASIC layout engine, so the same text gives the same pixels with or without libraqm. Its
digits are tabular, so a step counter does not jitter. It has no U+2212: write "-" for minus.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def _font(size: int):
    from PIL import ImageFont

    font = ImageFont.load_default(size=size)
    if isinstance(font, ImageFont.FreeTypeFont):
        font = font.font_variant(layout_engine=ImageFont.Layout.BASIC)
    return font


def line_height(size: int) -> int:
    """Return the height in pixels of one line of text at font `size` (ascent + descent)."""
    ascent, descent = _font(size).getmetrics()
    return ascent + descent


def text_width(text: str, size: int) -> int:
    """Return the advance width in pixels of `text` at font `size`."""
    return int(np.ceil(_font(size).getlength(text)))


def text_mask(text: str, size: int, height: int | None = None) -> np.ndarray:
    """Draw `text` into an (height, width) uint8 coverage mask (255 = ink), baseline-stable for a size."""
    from PIL import Image, ImageDraw

    height = line_height(size) if height is None else height
    canvas = Image.new("L", (max(1, text_width(text, size)), height), 0)
    ImageDraw.Draw(canvas).text((0, (height - line_height(size)) // 2), text, fill=255, font=_font(size))
    return np.asarray(canvas, np.uint8).copy()  # (height, width)


def paint_text(canvas: np.ndarray, text: str, size: int, x: int, y: int, *, ink: int = 0, paper: int = 255,
               height: int | None = None) -> int:
    """Draw `text` into a palette-index canvas in place, blending grey `ink` over grey `paper`; return its width."""
    from render.palette import grey_indices

    mask = text_mask(text, size, height).astype(np.float32) / 255  # (h, w) coverage
    levels = np.rint(paper + (ink - paper) * mask).astype(np.uint8)
    h = min(mask.shape[0], canvas.shape[0] - y)
    w = min(mask.shape[1], canvas.shape[1] - x)
    if h > 0 and w > 0:
        canvas[y:y + h, x:x + w] = grey_indices(levels[:h, :w])
    return mask.shape[1]
