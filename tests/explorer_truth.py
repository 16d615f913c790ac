"""What the explorer's canvases must show, computed straight from the capture archive with numpy and render/palette.py.

The levels are recomputed here from the documented rule (128 + round(v * 127), NaN -> 0; render/page_data.py's
docstring), not imported from the code that writes them, and compared with what the page drew.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from render.frames import BASE_CELL, PAPER_LEVEL, layer_frames, layer_layout
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
    frame = next(layer_frames(values, probe_images, name="layer", steps=steps,
                              scale={"kind": "fixed", "domain": [-1.0, 1.0]},
                              indices=[t]))  # (frame H, frame W)
    layout = layer_layout(values.shape)  # the frame's own layout (cells of BASE_CELL, a column of row numbers)
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


def levels_of(values: np.ndarray, scale: float) -> np.ndarray:
    """Return the 8-bit levels of activations on a layer's level scale: 128 + round(v / scale * 127), NaN -> 0."""
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    scaled = np.rint(np.clip(np.where(finite, values, 0.0) / scale, -1, 1) * 127) + 128
    return np.where(finite, scaled, 0).astype(np.int64)


def scale_table(scale: dict) -> np.ndarray:
    """Return the palette index of each of the 256 levels under a layer's scale (render.palette.scale_indices)."""
    from render.palette import scale_indices

    level = np.arange(256)
    top = max(abs(scale["domain"][0]), abs(scale["domain"][1]))
    values = np.where(level == 0, np.nan, (level - 128) * top / 127.0)
    return scale_indices(values.astype(np.float32), scale).astype(np.int64)


def ranking(values: np.ndarray) -> list[int]:
    """Return channels by mean |value| at the last step over probes and positions, largest first (ties: lower)."""
    last = np.abs(np.nan_to_num(np.asarray(values[-1], np.float64), nan=0.0, posinf=0.0, neginf=0.0))
    activity = last.reshape(-1, last.shape[-1]).mean(axis=0)
    return sorted(range(activity.size), key=lambda c: (-activity[c], c))


def chunk_script_size(layer: str, probe: int, group: int, levels: np.ndarray) -> int:
    """Return the bytes of the chunk script of (T, H, W, c) levels, by the documented format."""
    import json
    import zlib

    ordered = np.ascontiguousarray(np.asarray(levels, np.uint8).transpose(0, 3, 1, 2))
    deltas = ordered.copy()
    deltas[1:] = ordered[1:] - ordered[:-1]
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    payload = base64.b64encode(packer.compress(deltas.tobytes()) + packer.flush()).decode("ascii")
    head = "(window.explorerChunks = window.explorerChunks || []).push("
    return len(f"{head}{json.dumps([layer, probe, group, payload])});\n")


def grid_blocks(pixels: np.ndarray, info: dict, rows: int, cols: int, map_size) -> np.ndarray:
    """Return (rows, cols, H, W, 3) colours at each activation's block centre, checking every block is one colour."""
    height, width = map_size
    block, gutter = int(info["block"]), info["gutter"]
    out = np.zeros((rows, cols, height, width, 3), np.uint8)
    for r in range(rows):
        for c in range(cols):
            y = gutter + r * (info["cellHeight"] + gutter)
            x = gutter + c * (info["cell"] + gutter) + info["inset"]
            region = pixels[y:y + height * block, x:x + width * block].reshape(height, block, width, block, 3)
            centre = region[:, block // 2, :, block // 2]  # (H, W, 3)
            assert (region == centre[:, None, :, None]).all(), "a block is not one colour: not nearest-neighbour"
            out[r, c] = centre
    return out
