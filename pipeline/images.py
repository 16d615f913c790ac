"""Write PNG files the same way everywhere: deterministic bytes (no timestamps), written atomically."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from pipeline.files import write_bytes_atomically


def write_png(pixels: np.ndarray, path: str | Path, palette: np.ndarray | None = None) -> int:
    """Write a uint8 grey/RGB array, or palette indices with their (256, 3) palette, as a PNG; return its bytes."""
    from PIL import Image

    pixels = np.ascontiguousarray(pixels, np.uint8)  # (H, W) or (H, W, 3)
    buffer = io.BytesIO()
    if palette is None:
        Image.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    else:  # exact colours: the frame's indices are the palette's
        image = Image.frombuffer("P", (pixels.shape[1], pixels.shape[0]), pixels, "raw", "P", 0, 1)
        image.putpalette(np.asarray(palette, np.uint8).tobytes())
        image.save(buffer, format="PNG", optimize=False, compress_level=9)
    write_bytes_atomically(Path(path), buffer.getvalue())
    return len(buffer.getvalue())
