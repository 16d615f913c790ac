"""The explorer's 8-bit activation levels and their chunk scripts (render/page_data.py writes them).

    level   uint8: 0 = NaN/inf (drawn grey), 1..255 = round(clip(v / scale, -1, 1) * 127) + 128,
            so 128 is exactly 0 and 255 levels span [-scale, +scale], scale = the larger |end| of the
            layer's colour domain (1 for tanh layers; a sequential layer [0, high] uses 128..255)
    fine    uint8, only at a layer's "fine steps" (render/page_data.py): 0 = NaN/inf, 1..63 =
            32 + round(clip(v / s, -1, 1) * 31), s = that step's own scale (the layer's largest finite |value|
            at the step, all probes and channels), so the contrast view gets 31 levels a side where the
            fixed scale gives fewer than FINE_BELOW
    chunk   one layer x one probe x one channel group: levels in (T, C, H, W) order, step-delta coded
            (step 0 as is, then each step minus the one before, mod 256), deflated (zlib level 8), base64;
            with fine steps, a second payload: their fine levels in (F, C, H, W) order, coded the same way
    script  (window.explorerChunks = window.explorerChunks || []).push(["<layer>", <probe>, <group>, "<base64>"]);
            or, with fine steps, [..., "<base64 levels>", "<base64 fine levels>"]
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
FINE_ZERO = 32
FINE_HALF = 31
FINE_BELOW = 4  # a step gets fine levels where its largest |level - 128| is below this (and its values not all 0)
ZLIB_LEVEL = 8  # ordinary deflate: 10% smaller than RLE (the room for the fine levels) for about 5 s on the default run
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


def fine_scales(values: np.ndarray) -> np.ndarray:
    """Return per step of (T, ...) activations the largest finite |value| (0 where none), as float32."""
    flat = np.asarray(values, np.float32).reshape(len(values), -1)
    magnitudes = np.where(np.isfinite(flat), np.abs(flat), np.float32(0))
    return magnitudes.max(axis=1) if flat.shape[1] else np.zeros(len(values), np.float32)


def fine_levels(values: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Return uint8 fine levels of (F, ...) activations, each step on its own scale (> 0): 32 + round(31 v / s)."""
    values = np.asarray(values, np.float32)
    scales = np.asarray(scales, np.float32).reshape((-1,) + (1,) * (values.ndim - 1))
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        scaled = np.clip(np.where(finite, values, 0) / scales, -1, 1)
    levels = np.rint(scaled * np.float32(FINE_HALF)).astype(np.int16) + FINE_ZERO
    return np.where(finite, levels, NAN_LEVEL).astype(np.uint8)


def _deflate(levels: np.ndarray) -> bytes:
    ordered = np.ascontiguousarray(np.asarray(levels, np.uint8).transpose(0, 3, 1, 2))  # (T, C, H, W)
    deltas = ordered.copy()
    deltas[1:] = ordered[1:] - ordered[:-1]  # uint8 arithmetic wraps mod 256
    packer = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, 15, 9)
    return packer.compress(deltas.tobytes()) + packer.flush()


def encode_chunk(levels: np.ndarray, fine: np.ndarray | None = None) -> list[bytes]:
    """Return the zlib payloads of one (T, H, W, C) chunk's levels (and (F, H, W, C) fine levels, if any),
    each step-delta coded in (T, C, H, W)."""
    payloads = [_deflate(levels)]
    if fine is not None and len(fine):
        payloads.append(_deflate(fine))
    return payloads


def decode_chunk(data: bytes, shape: tuple[int, int, int, int]) -> np.ndarray:
    """Return the (T, C, H, W) levels (or (F, C, H, W) fine levels) of one zlib payload (the page's decoder)."""
    deltas = np.frombuffer(zlib.decompress(data), np.uint8).reshape(shape)
    return np.cumsum(deltas, axis=0, dtype=np.uint8)


def chunk_script(layer: str, probe: int, group: int, data: bytes | list[bytes]) -> bytes:
    """Return the classic-script text that registers one chunk (its payloads) with the page."""
    payloads = [base64.b64encode(part).decode("ascii") for part in ([data] if isinstance(data, bytes) else data)]
    return f"{CHUNK_HEAD}{json.dumps([layer, probe, group, *payloads])});\n".encode("ascii")


def read_chunk_script(text: bytes) -> tuple[str, int, int, bytes]:
    """Return (layer, probe, group, zlib bytes of the levels) of a chunk script written by chunk_script."""
    layer, probe, group, payloads = read_chunk_payloads(text)
    return layer, probe, group, payloads[0]


def read_chunk_payloads(text: bytes) -> tuple[str, int, int, list[bytes]]:
    """Return (layer, probe, group, [zlib bytes of the levels, of the fine levels if any]) of a chunk script."""
    body = text.decode("ascii").strip()
    if not (body.startswith(CHUNK_HEAD) and body.endswith(");")):
        raise ValueError("not an explorer chunk script")
    layer, probe, group, *payloads = json.loads(body[len(CHUNK_HEAD):-2])
    return layer, probe, group, [base64.b64decode(payload) for payload in payloads]
