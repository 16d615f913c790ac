"""The explorer's 8-bit activation levels and their chunk scripts (render/page_data.py writes them).

    level   uint8: 0 = NaN/inf (drawn grey), 1..255 = round(clip(v / scale, -1, 1) * 127) + 128,
            so 128 is exactly 0 and 255 levels span [-scale, +scale], scale = the larger |end| of the
            layer's colour domain (1 for tanh layers; a sequential layer [0, high] uses 128..255)
    chunk   one layer x one probe x one channel group: levels in (T, C, H, W) order, step-delta coded
            (step 0 as is, then each step minus the one before, mod 256), deflated (zlib, RLE), base64
    script  (window.explorerChunks = window.explorerChunks || []).push(["<layer>", <probe>, <group>, "<base64>"]);
"""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np

from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX

NAN_LEVEL = 0
ZERO_LEVEL = 128
HALF_RANGE = 127
CHUNK_HEAD = "(window.explorerChunks = window.explorerChunks || []).push("


def quantise(values: np.ndarray, scale: float) -> np.ndarray:
    """Return uint8 levels of activations: 128 + round(v / scale * 127), clipped to 1..255; NaN/inf -> 0."""
    values = np.asarray(values)
    if values.dtype == np.float16:  # the capture's dtype: one lookup per value through all 65,536 float16s
        return _levels(np.arange(65536, dtype=np.uint16).view(np.float16), scale)[values.view(np.uint16)]
    return _levels(values, scale)


def _levels(values: np.ndarray, scale: float) -> np.ndarray:
    values = np.asarray(values, np.float32)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        scaled = np.clip(np.where(finite, values, 0) / np.float32(scale), -1, 1)
    levels = np.rint(scaled * np.float32(HALF_RANGE)).astype(np.int16) + ZERO_LEVEL
    return np.where(finite, levels, NAN_LEVEL).astype(np.uint8)


def dequantise(levels: np.ndarray, scale: float) -> np.ndarray:
    """Return the float32 activations that uint8 levels stand for (NaN for level 0)."""
    levels = np.asarray(levels, np.int16)
    values = (levels - ZERO_LEVEL).astype(np.float32) * np.float32(scale / HALF_RANGE)
    return np.where(levels == NAN_LEVEL, np.float32(np.nan), values)


def level_scale(domain) -> float:
    """Return the scale whose levels span a layer's colour domain (its larger |end|)."""
    return float(max(abs(float(domain[0])), abs(float(domain[1]))))


def fixed_table(scale: dict) -> np.ndarray:
    """Return the (256,) palette index of every level under the layer's scale (render.palette.scale_indices)."""
    from render.palette import scale_indices

    return scale_indices(dequantise(np.arange(256), level_scale(scale["domain"])), scale)


def contrast_extents(levels: np.ndarray) -> np.ndarray:
    """Return per step of (T, ...) levels the largest finite |level - 128| (at least 1)."""
    levels = np.asarray(levels)
    flat = levels.reshape(len(levels), -1)
    offsets = np.abs(flat.astype(np.int16) - ZERO_LEVEL)  # (T, values)
    offsets[flat == NAN_LEVEL] = 0
    return np.maximum(offsets.max(axis=1), 1).astype(np.int16)


def contrast_indices(levels: np.ndarray, extent: int) -> np.ndarray:
    """Return palette indices under the contrast scale: round half up of 95 * (level - 128) / extent."""
    offsets = np.asarray(levels, np.int64) - ZERO_LEVEL
    indices = CENTER_INDEX + (2 * CENTER_INDEX * offsets + extent) // (2 * extent)
    indices = np.clip(indices, 0, DIVERGING_SIZE - 1)
    return np.where(np.asarray(levels) == NAN_LEVEL, NAN_INDEX, indices).astype(np.uint8)


def encode_chunk(levels: np.ndarray) -> bytes:
    """Return the zlib bytes (RLE strategy) of one (T, H, W, C) chunk's levels, step-delta coded in (T, C, H, W)."""
    ordered = np.ascontiguousarray(np.asarray(levels, np.uint8).transpose(0, 3, 1, 2))  # (T, C, H, W)
    deltas = ordered.copy()
    deltas[1:] = ordered[1:] - ordered[:-1]  # uint8 arithmetic wraps mod 256
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return packer.compress(deltas.tobytes()) + packer.flush()


def decode_chunk(data: bytes, shape: tuple[int, int, int, int]) -> np.ndarray:
    """Return the (T, C, H, W) levels of one chunk's zlib bytes (the page's decoder, in numpy)."""
    deltas = np.frombuffer(zlib.decompress(data), np.uint8).reshape(shape)
    return np.cumsum(deltas, axis=0, dtype=np.uint8)


def chunk_script(layer: str, probe: int, group: int, data: bytes) -> bytes:
    """Return the classic-script text that registers one chunk with the page."""
    payload = base64.b64encode(data).decode("ascii")
    return f"{CHUNK_HEAD}{json.dumps([layer, probe, group, payload])});\n".encode("ascii")


def read_chunk_script(text: bytes) -> tuple[str, int, int, bytes]:
    """Return (layer, probe, group, zlib bytes) of a chunk script written by chunk_script."""
    body = text.decode("ascii").strip()
    if not (body.startswith(CHUNK_HEAD) and body.endswith(");")):
        raise ValueError("not an explorer chunk script")
    layer, probe, group, payload = json.loads(body[len(CHUNK_HEAD):-2])
    return layer, probe, group, base64.b64decode(payload)
