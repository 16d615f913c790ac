"""The explorer's activation levels (block floating point, 8 bits) and their chunk scripts (render/page_data.py).

    level     uint8: 0 = NaN/inf (drawn grey), 1..255 = 128 + round(clip(v / (scale / 2^k), -1, 1) * 127), so 128
              is exactly 0; scale = the larger |end| of the layer's colour domain (1 for tanh layers; a sequential
              layer [0, high] uses 128..255) and k the step's exponent
    exponent  per layer and step, 0..MAX_EXPONENT: the smallest k at which the layer's finite values at that
              step take at least FINE_LEVELS distinct levels, but no larger than its largest |value| allows (it
              must stay within scale / 2^k), and 0 where every value is 0. So the early steps of a deep layer,
              whose values are a few percent of the scale, get a finer scale of their own and the contrast view
              still shows their shapes; later steps keep k = 0, the fixed scale's levels as before. The fixed
              view colours a level at exponent k as the renderer colours its value, (level - 128) * scale /
              (127 * 2^k) (scale_tables: one table per exponent)
    chunk     one layer x one probe x one channel group: levels in (T, C, H, W) order, each step coded against
              a prediction, deflated (zlib, RLE strategy) and written as 7-bit text (pipeline/seven_bit.py).
              Step 0 is predicted as 128, step t as the step before rescaled to t's exponent (its offsets
              from 128 times 2^(k_t - k_t-1), halved with round half up when k falls). The residual (level -
              prediction, mod 256, as -128..127) of a step with k > 0 is coded once more within each map:
              minus the median predictor of its left, upper and upper-left residuals (LOCO-I: the smaller of
              left and up if upper-left is at least both, the larger if at most both, else left + up -
              upper-left; the first row minus the left, the first column minus the one above), mod 256
    script    (window.explorerChunks = window.explorerChunks || []).push(["<layer>", <probe>, <group>, "<text>"]);
              or, inside an HTML page (the one-file report, report/share.py), whose parser refuses the control
              characters the 7-bit text holds: [..., "<base64>", "base64"]

The page decodes chunks in templates/static/explorer-data.js; decode_chunk is its numpy twin.
"""

from __future__ import annotations

import base64
import functools
import json
import zlib

import numpy as np

from pipeline import seven_bit
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX

NAN_LEVEL = 0
ZERO_LEVEL = 128
HALF_RANGE = 127
FINE_LEVELS = 16  # distinct levels a step's layer is boosted to: a 4-bit picture of its shapes under contrast
MAX_EXPONENT = 7
CHUNK_HEAD = "(window.explorerChunks = window.explorerChunks || []).push("


def quantise(values: np.ndarray, scale: float) -> np.ndarray:
    """Return uint8 levels of activations: 128 + round(v / scale * 127), clipped to 1..255; NaN/inf -> 0."""
    values = np.asarray(values)
    if values.dtype == np.float16:  # the capture's dtype: one lookup per value through all 65,536 float16s
        return _float16_levels(float(scale))[values.view(np.uint16)]
    return _levels(values, scale)


@functools.lru_cache(maxsize=64)
def _float16_levels(scale: float) -> np.ndarray:
    """Return the level of every float16 (by its bits) at this scale."""
    table = _levels(np.arange(65536, dtype=np.uint16).view(np.float16), scale)
    table.flags.writeable = False
    return table


def _levels(values: np.ndarray, scale: float) -> np.ndarray:
    values = np.asarray(values, np.float32)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        scaled = np.clip(np.where(finite, values, 0) / np.float32(scale), -1, 1)
    levels = np.rint(scaled * np.float32(HALF_RANGE)).astype(np.int16) + ZERO_LEVEL
    return np.where(finite, levels, NAN_LEVEL).astype(np.uint8)


def _rows(array: np.ndarray) -> np.ndarray:
    """Return (T, ...) as (T, values), also for T = 0."""
    return array.reshape(len(array), int(np.prod(array.shape[1:], dtype=np.int64)))


def _enough(levels: np.ndarray) -> np.ndarray:
    """Return per step of (T, ...) levels whether it holds at least FINE_LEVELS distinct finite levels."""
    def count(row: np.ndarray) -> int:
        return np.count_nonzero(np.bincount(row, minlength=256)[1:])

    rows = _rows(levels)
    # Every 8th value first: a subset's distinct levels are the step's too, so most steps need no full count.
    enough = np.array([count(row[::8]) >= FINE_LEVELS for row in rows], bool)
    enough[~enough] = [count(row) >= FINE_LEVELS for row in rows[~enough]]
    return enough


def _largest(values: np.ndarray) -> np.ndarray:
    """Return per step of (T, ...) activations the largest finite |value| (0 without any), as float32."""
    values = _rows(np.asarray(values))
    if values.dtype == np.float16:  # by the bits: finite magnitudes sort as their bits do, all below inf's 0x7C00
        bits = values.view(np.uint16) & np.uint16(0x7FFF)
        bits = np.where(bits < 0x7C00, bits, np.uint16(0)).max(axis=1, initial=0).astype(np.uint16)
        return bits.view(np.float16).astype(np.float32)
    magnitude = np.abs(values.astype(np.float32))
    return np.where(np.isfinite(magnitude), magnitude, 0).max(axis=1, initial=0)


def _reach(top: np.ndarray, scale: float, exponent: int) -> np.ndarray:
    """Return the |level - 128| of largest |values| at an exponent (the step's contrast extent there)."""
    scaled = np.clip(np.asarray(top, np.float32) / np.float32(scale / 2 ** exponent), -1, 1)
    return np.rint(scaled * np.float32(HALF_RANGE)).astype(np.int16)


def quantise_steps(values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (uint8 levels, int8 exponents) of (T, ...) activations, each step at its exponent (module docstring)."""
    values = np.asarray(values)
    levels = quantise(values, scale)
    exponents = np.zeros(len(values), np.int8)
    # Distinct levels are counted only where they could reach FINE_LEVELS (2 * extent + 1 of them at most),
    # and only steps whose largest |value| is at most half the scale can be boosted.
    extents = contrast_extents(levels)
    search = np.flatnonzero(extents <= (HALF_RANGE + 1) // 2)
    counted = search[2 * extents[search] + 1 >= FINE_LEVELS]
    search = np.setdiff1d(search, counted[_enough(levels[counted])])
    top = _largest(values[search])
    keep = (top > 0) & _fits(top, scale, 1)
    search, top = search[keep], top[keep]
    for exponent in range(1, MAX_EXPONENT + 1):
        if not search.size:
            break
        exponents[search] = exponent
        counted = 2 * _reach(top, scale, exponent) + 1 >= FINE_LEVELS
        enough = np.zeros(len(search), bool)
        if counted.any():
            levels[search[counted]] = quantise(values[search[counted]], scale / 2 ** exponent)
            enough[counted] = _enough(levels[search[counted]])
        more = ~enough & _fits(top, scale, exponent + 1) & (exponent < MAX_EXPONENT)
        done = ~more & ~counted  # stopping here without levels at this exponent yet
        if done.any():
            levels[search[done]] = quantise(values[search[done]], scale / 2 ** exponent)
        search, top = search[more], top[more]
    return levels, exponents


def _fits(top: np.ndarray, scale: float, exponent: int) -> np.ndarray:
    """Return whether largest |values| stay within the scale scale / 2^exponent (no level clipped)."""
    return np.asarray(top, np.float32) / np.float32(scale / 2 ** exponent) <= 1


def dequantise(levels: np.ndarray, scale: float, exponents=None) -> np.ndarray:
    """Return the float32 activations that (T, ...) levels at their steps' exponents stand for (NaN for level 0)."""
    levels = np.asarray(levels, np.int16)
    exponents = np.zeros(1, np.int32) if exponents is None else np.asarray(exponents, np.int32)
    unit = (np.float32(scale / HALF_RANGE) / np.exp2(exponents).astype(np.float32))
    values = (levels - ZERO_LEVEL).astype(np.float32) * unit.reshape((-1,) + (1,) * (levels.ndim - 1))
    return np.where(levels == NAN_LEVEL, np.float32(np.nan), values)


def level_scale(domain) -> float:
    """Return the scale whose levels span a layer's colour domain (its larger |end|)."""
    return float(max(abs(float(domain[0])), abs(float(domain[1]))))


def fixed_table(scale: dict) -> np.ndarray:
    """Return the (256,) palette index of every fixed-scale level under the layer's scale (palette.scale_indices)."""
    from render.palette import scale_indices

    return scale_indices(dequantise(np.arange(256), level_scale(scale["domain"])), scale)


def scale_tables(scale: dict, top_exponent: int) -> list[str]:
    """Return for exponents 1..top_exponent the base64 palette index (256 bytes) of every level, as fixed_table."""
    from render.palette import scale_indices

    domain_scale = level_scale(scale["domain"])
    return [base64.b64encode(scale_indices(dequantise(np.arange(256), domain_scale, [k]), scale).tobytes())
            .decode("ascii") for k in range(1, top_exponent + 1)]


def contrast_extents(levels: np.ndarray) -> np.ndarray:
    """Return per step of (T, ...) levels the largest finite |level - 128| (at least 1)."""
    flat = _rows(np.asarray(levels, np.uint8))
    high = flat.max(axis=1, initial=ZERO_LEVEL).astype(np.int16)
    low = flat.min(axis=1, initial=ZERO_LEVEL).astype(np.int16)
    for row in np.flatnonzero(low == NAN_LEVEL):  # NaN levels (0) are not values: the smallest of the others
        finite = flat[row][flat[row] != NAN_LEVEL]
        low[row] = finite.min(initial=ZERO_LEVEL)
    return np.maximum(np.maximum(high - ZERO_LEVEL, ZERO_LEVEL - low), 1).astype(np.int16)


def contrast_indices(levels: np.ndarray, extent: int) -> np.ndarray:
    """Return palette indices under the contrast scale: round half up of 95 * (level - 128) / extent."""
    offsets = np.asarray(levels, np.int64) - ZERO_LEVEL
    indices = CENTER_INDEX + (2 * CENTER_INDEX * offsets + extent) // (2 * extent)
    indices = np.clip(indices, 0, DIVERGING_SIZE - 1)
    return np.where(np.asarray(levels) == NAN_LEVEL, NAN_INDEX, indices).astype(np.uint8)


def _signed(values: np.ndarray) -> np.ndarray:
    """Return integers mod 256 as -128..127."""
    return (np.asarray(values, np.int32) + 128) % 256 - 128


def _predictions(previous: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Return the levels (mod 256) predicted from the steps before, rescaled by 2^shift (per step)."""
    shifts = np.asarray(shifts, np.int32).reshape((-1,) + (1,) * (previous.ndim - 1))
    offsets = np.asarray(previous, np.int32) - ZERO_LEVEL
    up, down = np.maximum(shifts, 0), np.maximum(-shifts, 0)
    return (ZERO_LEVEL + (((offsets << up) + ((1 << down) >> 1)) >> down)) % 256


def _median_predictions(residuals: np.ndarray) -> np.ndarray:
    """Return each map value's LOCO-I prediction from its left, upper and upper-left neighbours (..., H, W)."""
    predicted = np.zeros_like(residuals)
    predicted[..., 0, 1:] = residuals[..., 0, :-1]
    predicted[..., 1:, 0] = residuals[..., :-1, 0]
    left, up, corner = residuals[..., 1:, :-1], residuals[..., :-1, 1:], residuals[..., :-1, :-1]
    # The median of left, up and left + up - corner: the plane through the three, kept between left and up.
    predicted[..., 1:, 1:] = np.clip(left + up - corner, np.minimum(left, up), np.maximum(left, up))
    return predicted


def encode_chunk(levels: np.ndarray, exponents: np.ndarray) -> bytes:
    """Return the zlib bytes (RLE strategy) of one (T, H, W, C) chunk's levels at their exponents, coded as above."""
    ordered = np.ascontiguousarray(np.asarray(levels, np.uint8).transpose(0, 3, 1, 2))  # (T, C, H, W)
    exponents = np.asarray(exponents, np.int32)
    residuals = ordered.copy()  # uint8 arithmetic wraps mod 256: where the exponent stays, minus the step before
    residuals[0] ^= ZERO_LEVEL
    residuals[1:] -= ordered[:-1]
    rescaled = np.flatnonzero(exponents[1:] != exponents[:-1]) + 1
    if rescaled.size:
        predicted = _predictions(ordered[rescaled - 1], exponents[rescaled] - exponents[rescaled - 1])
        residuals[rescaled] = (ordered[rescaled] - predicted) % 256
    fine = np.flatnonzero(exponents > 0)
    if fine.size:
        signed = residuals[fine].view(np.int8).astype(np.int16)
        residuals[fine] = (signed - _median_predictions(signed)).astype(np.uint8)  # mod 256
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return packer.compress(residuals.tobytes()) + packer.flush()


def decode_chunk(data: bytes, shape: tuple[int, int, int, int], exponents: np.ndarray) -> np.ndarray:
    """Return the (T, C, H, W) levels of one chunk's zlib bytes (the page's decoder, in numpy)."""
    residuals = _signed(np.frombuffer(zlib.decompress(data), np.uint8).reshape(shape))
    exponents = np.asarray(exponents, np.int32)
    fine = residuals[exponents > 0]  # (F, C, H, W): undo the map coding in reading order
    for y in range(shape[2]):
        for x in range(shape[3]):
            if y and x:
                left, up, corner = fine[..., y, x - 1], fine[..., y - 1, x], fine[..., y - 1, x - 1]
                guess = np.clip(left + up - corner, np.minimum(left, up), np.maximum(left, up))
            else:
                guess = fine[..., y, x - 1] if x else fine[..., y - 1, x] if y else 0
            fine[..., y, x] = _signed(fine[..., y, x] + guess)
    residuals[exponents > 0] = fine
    levels = np.empty(shape, np.int32)
    for t in range(shape[0]):
        predicted = ZERO_LEVEL if t == 0 else _predictions(levels[t - 1:t], exponents[t:t + 1] - exponents[t - 1])[0]
        levels[t] = (predicted + residuals[t]) % 256
    return levels.astype(np.uint8)


def chunk_script(layer: str, probe: int, group: int, data: bytes, inline: bool = False) -> bytes:
    """Return the classic-script text (UTF-8) that registers one chunk with the page (`inline`: base64, for HTML)."""
    head = json.dumps([layer, probe, group])[:-1]
    if inline:
        return f'{CHUNK_HEAD}{head}, "{base64.b64encode(data).decode("ascii")}", "base64"]);\n'.encode("ascii")
    return f'{CHUNK_HEAD}{head}, "'.encode("ascii") + seven_bit.encode(data) + b'"]);\n'


def read_chunk_script(text: bytes) -> tuple[str, int, int, bytes]:
    """Return (layer, probe, group, zlib bytes) of a chunk script written by chunk_script."""
    body = text.decode("utf-8").strip()
    if not (body.startswith(CHUNK_HEAD) and body.endswith(");")):
        raise ValueError("not an explorer chunk script")
    layer, probe, group, payload, *coding = json.loads(body[len(CHUNK_HEAD):-2], strict=False)
    return layer, probe, group, base64.b64decode(payload) if coding == ["base64"] else seven_bit.decode(payload)


def inline_script(text: bytes) -> bytes:
    """Return a chunk script as chunk_script writes it for an HTML page (its payload in base64)."""
    return chunk_script(*read_chunk_script(text), inline=True)
