"""What the explorer's canvases must show, computed straight from capture.npz with numpy and render/palette.py.

The levels are recomputed here from the documented rule (128 + round(v * 127), NaN -> 0; render/page_data.py's
docstring), not imported from the code that writes them, and compared with what the page drew.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from render.frames import BASE_CELL, PAPER_LEVEL, Layout, layer_frames
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX, PALETTE, grey_indices, value_indices


def levels(values: np.ndarray) -> np.ndarray:
    """Return the 8-bit levels of tanh activations: 128 + round(v * 127) in 1..255, 0 for NaN/inf."""
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    scaled = np.rint(np.clip(np.where(finite, values, 0.0), -1, 1) * 127) + 128
    return np.where(finite, scaled, 0).astype(np.int64)


def fixed_indices(level: np.ndarray) -> np.ndarray:
    """Return the renderer's palette index of each level on the fixed tanh scale (-1 .. +1)."""
    values = np.where(level == 0, np.nan, (level - 128) / 127.0)
    return value_indices(values.astype(np.float32), (-1.0, 1.0)).astype(np.int64)


def contrast_indices(level: np.ndarray, extent: int) -> np.ndarray:
    """Return the palette index under the per-step contrast scale: 95 + round half up of 95 * k / extent."""
    k = level - 128
    indices = np.clip(CENTER_INDEX + (2 * CENTER_INDEX * k + extent) // (2 * extent), 0, DIVERGING_SIZE - 1)
    return np.where(level == 0, NAN_INDEX, indices)


def step_extent(step_levels: np.ndarray) -> int:
    """Return the largest |level - 128| of one step's finite levels (at least 1)."""
    finite = step_levels[step_levels != 0]
    return max(1, int(np.abs(finite - 128).max())) if finite.size else 1


def renderer_indices(values: np.ndarray, probe_images: np.ndarray, steps: list[int], t: int) -> np.ndarray:
    """Return (C, N, H, W) palette indices of the renderer's own frame at snapshot t, read at block centres."""
    _, probes, height, width, channels = values.shape
    frame = next(layer_frames(values, probe_images, name="layer", steps=steps, domain=(-1.0, 1.0),
                              indices=[t]))  # (frame H, frame W)
    layout = Layout(probes=probes, channels=channels, cell=BASE_CELL)
    block = BASE_CELL // height
    out = np.zeros((channels, probes, height, width), np.int64)
    for c in range(channels):
        for n in range(probes):
            y, x = layout.cell_origin(c + 1, n)
            out[c, n] = frame[y + block // 2:y + BASE_CELL:block, x + block // 2:x + BASE_CELL:block]
    return out


def read_chunk(path, steps: int) -> tuple[str, int, int, np.ndarray]:
    """Return (layer, probe, group, (steps, values) levels) of a chunk script, decoded by its documented format."""
    import json
    import re
    import zlib

    text = Path(path).read_text("ascii")
    match = re.fullmatch(r'\(window\.explorerChunks = window\.explorerChunks \|\| \[\]\)\.push\((\[.*\])\);\n', text,
                         re.S)
    assert match, f"{path} is not a chunk script"
    layer, probe, group, payload = json.loads(match.group(1))
    deltas = np.frombuffer(zlib.decompress(base64.b64decode(payload)), np.uint8)
    return layer, probe, group, np.cumsum(deltas.reshape(steps, -1), axis=0) % 256  # undo the step deltas


def decode_png(data_url: str) -> np.ndarray:
    """Return the (H, W, 3) RGB pixels of a canvas's PNG data URL."""
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def cell_blocks(pixels: np.ndarray, cell: int, gutter: int, rows: int, cols: int, side: int) -> np.ndarray:
    """Return (rows, cols, side, side, block, block, 3): every activation's block of device pixels."""
    block = cell // side
    pitch = cell + gutter
    out = np.zeros((rows, cols, side, side, block, block, 3), np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = gutter + r * pitch, gutter + c * pitch
            region = pixels[y:y + cell, x:x + cell]  # (cell, cell, 3)
            out[r, c] = region.reshape(side, block, side, block, 3).transpose(0, 2, 1, 3, 4)
    return out


def gutter_pixels(pixels: np.ndarray, cell: int, gutter: int, rows: int, cols: int) -> np.ndarray:
    """Return the pixels of the gutter lines between and around the cells."""
    pitch = cell + gutter
    ys = [r * pitch + i for r in range(rows + 1) for i in range(gutter)]
    xs = [c * pitch + i for c in range(cols + 1) for i in range(gutter)]
    return np.concatenate([pixels[ys].reshape(-1, 3), pixels[:, xs].reshape(-1, 3)])


PAPER_RGB = np.array([PAPER_LEVEL] * 3, np.uint8)
INDEX_OF_RGB = {tuple(int(v) for v in PALETTE[i]): i for i in range(NAN_INDEX + 1)}


def palette_indices(rgb: np.ndarray) -> np.ndarray:
    """Return the palette index of each RGB colour (-1 for a colour not in the diverging table or NaN grey)."""
    flat = rgb.reshape(-1, 3)
    return np.array([INDEX_OF_RGB.get(tuple(int(v) for v in colour), -1) for colour in flat]).reshape(rgb.shape[:-1])


def probe_colours(probe_images: np.ndarray) -> np.ndarray:
    """Return the (N, 28, 28, 3) colours the renderer draws the probe images in (its grey ramp)."""
    return PALETTE[grey_indices(np.asarray(probe_images, np.uint8))]
