"""What the explorer's canvases must show, computed straight from the capture archive with numpy and render/palette.py.

The levels are recomputed here from the documented rules (render/page_levels.py's docstring: 128 + round(v / (scale
/ 2^k) * 127), NaN -> 0, each step's exponent k the smallest giving 16 distinct levels where the values fit; the
chunks' coding and their 7-bit text, pipeline/seven_bit.py), not imported from the code that writes them, and
compared with what the page drew.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from render.frames import BASE_CELL, PAPER_LEVEL, layer_frames, layer_layout
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX, PALETTE, grey_indices, value_indices

FINE_LEVELS, MAX_EXPONENT = 16, 7  # the documented exponent rule
UNSAFE = (0, 10, 13, 34, 60, 92)  # the 7-bit values a chunk's text pairs with the next (pipeline/seven_bit.py)


def step_exponent(values: np.ndarray, scale: float = 1.0) -> int:
    """Return one step's exponent by the documented rule: while the layer's finite levels at k take fewer than 16
    distinct values and its largest |value| fits scale / 2^(k+1), k grows (at most 7; 0 when every value is 0)."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    top = np.abs(finite).max() if finite.size else 0.0
    k = 0
    while (k < MAX_EXPONENT and 0 < top <= scale / 2 ** (k + 1)
           and len(np.unique(levels_of(finite, scale / 2 ** k))) < FINE_LEVELS):
        k += 1
    return k


def step_levels(values: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, int]:
    """Return (levels, exponent) of one step's activations (all of a layer's probes and channels)."""
    k = step_exponent(values, scale)
    return levels_of(values, scale / 2 ** k), k


def run_levels(values: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, list[int]]:
    """Return ((T, ...) levels, exponents) of a layer's steps."""
    steps = [step_levels(values[t], scale) for t in range(len(values))]
    return np.stack([levels for levels, _ in steps]), [k for _, k in steps]


def fixed_indices(level: np.ndarray, exponent: int = 0) -> np.ndarray:
    """Return the renderer's palette index of each level at an exponent on the fixed tanh scale (-1 .. +1)."""
    values = np.where(level == 0, np.nan, (level - 128) / (127.0 * 2 ** exponent))
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


def from_text(text: str) -> bytes:
    """Return the bytes of a chunk's 7-bit text: 7 bits per character below 128; a character c from 256 up holds
    UNSAFE[(c - 256) // 128] and then (c - 256) % 128, or (quotient 6) that last value alone."""
    groups = []
    for character in text:
        code = ord(character)
        if code < 128:
            assert code not in UNSAFE, f"an unsafe character {code} stands as itself"
            groups.append(code)
            continue
        pair, group = divmod(code - 256, 128)
        groups += [UNSAFE[pair], group] if pair < len(UNSAFE) else [group]
    bits = "".join(format(group, "07b") for group in groups)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits) - 7, 8))


def to_text(data: bytes) -> str:
    """Return the 7-bit text of bytes (from_text's inverse), pairing each unsafe group with the one after it."""
    bits = "".join(format(byte, "08b") for byte in data)
    bits += "0" * (-len(bits) % 7)
    groups = [int(bits[i:i + 7], 2) for i in range(0, len(bits), 7)]
    out, i = [], 0
    while i < len(groups):
        if groups[i] not in UNSAFE:
            out.append(chr(groups[i]))
            i += 1
        elif i + 1 < len(groups):
            out.append(chr(256 + 128 * UNSAFE.index(groups[i]) + groups[i + 1]))
            i += 2
        else:
            out.append(chr(256 + 128 * len(UNSAFE) + groups[i]))
            i += 1
    return "".join(out)


def _median(left, up, corner):
    """LOCO-I's prediction: the median of left, up and left + up - corner."""
    return np.median(np.stack([left, up, left + up - corner]), axis=0).astype(np.int64)


def _wrap(values):
    """Return integers mod 256 as -128..127."""
    return (np.asarray(values, np.int64) + 128) % 256 - 128


def _rescaled(previous: np.ndarray, shift: int) -> np.ndarray:
    """Return the prediction of a step from the levels before it: offsets from 128 times 2^shift (round half up)."""
    offsets = previous.astype(np.int64) - 128
    scaled = offsets * 2 ** shift if shift >= 0 else np.floor(offsets / 2 ** -shift + 0.5).astype(np.int64)
    return (128 + scaled) % 256


def code_levels(levels: np.ndarray, exponents) -> np.ndarray:
    """Return the uint8 residuals of (T, C, H, W) levels by the documented prediction (before zlib)."""
    levels = np.asarray(levels, np.int64)
    out = np.zeros(levels.shape, np.int64)
    for t in range(len(levels)):
        predicted = 128 if t == 0 else _rescaled(levels[t - 1], exponents[t] - exponents[t - 1])
        residual = _wrap(levels[t] - predicted)  # (C, H, W)
        if exponents[t] > 0:
            guess = np.zeros_like(residual)
            guess[:, 0, 1:] = residual[:, 0, :-1]
            guess[:, 1:, 0] = residual[:, :-1, 0]
            guess[:, 1:, 1:] = _median(residual[:, 1:, :-1], residual[:, :-1, 1:], residual[:, :-1, :-1])
            residual = residual - guess
        out[t] = residual % 256
    return out.astype(np.uint8)


def decode_levels(residuals: np.ndarray, exponents, map_size) -> np.ndarray:
    """Return the (T, C, H, W) levels of (T, values) uint8 residuals, undoing the documented prediction."""
    height, width = map_size
    residuals = _wrap(residuals.reshape(len(residuals), -1, height, width))
    levels = np.zeros(residuals.shape, np.int64)
    for t in range(len(residuals)):
        residual = residuals[t].copy()
        if exponents[t] > 0:  # reading order: each value's prediction comes from values already decoded
            for y in range(height):
                for x in range(width):
                    if y and x:
                        guess = _median(residual[:, y, x - 1], residual[:, y - 1, x], residual[:, y - 1, x - 1])
                    else:
                        guess = residual[:, y, x - 1] if x else residual[:, y - 1, x] if y else 0
                    residual[:, y, x] = _wrap(residual[:, y, x] + guess)
        predicted = 128 if t == 0 else _rescaled(levels[t - 1], exponents[t] - exponents[t - 1])
        levels[t] = (predicted + residual) % 256
    return levels


def read_chunk(path, meta: dict) -> tuple[str, int, int, np.ndarray]:
    """Return (layer, probe, group, (steps, values) levels) of a chunk script, decoded by its documented format
    with its layer's exponents and map size in `meta` (the explore.json the chunk belongs to)."""
    import json
    import re
    import zlib

    text = Path(path).read_bytes().decode("utf-8")
    match = re.fullmatch(r'\(window\.explorerChunks = window\.explorerChunks \|\| \[\]\)\.push\((\[.*\])\);\n', text,
                         re.S)
    assert match, f"{path} is not a chunk script"
    layer, probe, group, payload, *coding = json.loads(match.group(1), strict=False)
    data = base64.b64decode(payload) if coding == ["base64"] else from_text(payload)  # base64: inside an HTML page
    entry = next(entry for entry in meta["layers"] if entry["name"] == layer)
    exponents = entry["exponents"]
    residuals = np.frombuffer(zlib.decompress(data), np.uint8).reshape(len(exponents), -1)
    return layer, probe, group, decode_levels(residuals, exponents, entry["map_size"]).reshape(len(exponents), -1)


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


def scale_table(scale: dict, exponent: int = 0) -> np.ndarray:
    """Return the palette index of each of the 256 levels at an exponent under a layer's scale
    (render.palette.scale_indices)."""
    from render.palette import scale_indices

    level = np.arange(256)
    top = max(abs(scale["domain"][0]), abs(scale["domain"][1]))
    values = np.where(level == 0, np.nan, (level - 128) * top / (127.0 * 2 ** exponent))
    return scale_indices(values.astype(np.float32), scale).astype(np.int64)


def ranking(values: np.ndarray) -> list[int]:
    """Return channels by mean |value| at the last step over probes and positions, largest first (ties: lower)."""
    last = np.abs(np.nan_to_num(np.asarray(values[-1], np.float64), nan=0.0, posinf=0.0, neginf=0.0))
    activity = last.reshape(-1, last.shape[-1]).mean(axis=0)
    return sorted(range(activity.size), key=lambda c: (-activity[c], c))


def chunk_script_size(layer: str, probe: int, group: int, levels: np.ndarray, exponents) -> int:
    """Return the bytes of the chunk script of (T, H, W, c) levels at their exponents, by the documented format."""
    import json
    import zlib

    residuals = code_levels(np.asarray(levels).transpose(0, 3, 1, 2), list(exponents))
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    payload = to_text(packer.compress(residuals.tobytes()) + packer.flush())
    head = f"(window.explorerChunks = window.explorerChunks || []).push({json.dumps([layer, probe, group])[:-1]}"
    return len(f'{head}, "{payload}"]);\n'.encode())


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
