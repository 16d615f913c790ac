"""The explorer's data: every layer's activations as 8-bit levels in small <script> files the page registers.

The page draws the activations itself (templates/static/explorer*.js), so it needs them, and from
file:// it cannot fetch() local files or read local images' pixels: each (layer, probe) chunk is a
classic script that pushes its data onto `window.explorerChunks`, loaded when a view needs it.

    level   uint8: 0 = NaN/inf (drawn grey), 1..255 = round(clip(v / scale, -1, 1) * 127) + 128,
            so 128 is exactly 0 and 255 levels span [-scale, +scale] (scale = 1 for tanh layers)
    chunk   one layer x one probe: levels in (T, C, H, W) order, step-delta coded (step 0 as is,
            then each step minus the one before, mod 256), deflated (zlib, RLE strategy), base64
    file    explore-<layer>-<probe>.js:  (window.explorerChunks = window.explorerChunks || []).push(
                                     ["<layer>", <probe>, "<base64>"]);

`explore.json` (beside them) holds what the page needs to draw them: the steps, the palette, each
layer's 256-entry level -> palette-index table for its fixed colour domain (the renderer's own
`value_indices`), its largest |level - 128| per step (for the per-layer contrast scale) and its files.
Measured on the default run (291 steps, 31.9 MB of levels; `python -m bench.explorer_encoding`): step-delta
(T, C, H, W) chunks deflated with zlib's RLE strategy take 2.98 MB (3.98 MB as base64) in 0.25 s, against
6.1 MB for the levels as recorded, 3.1 MB for pixel-major time series, and 2.83 MB / 2.63 MB for ordinary
zlib levels 6 / 9, which take 6x / 80x as long. Same capture -> same bytes.
"""

from __future__ import annotations

import base64
import json
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pipeline.files import write_bytes_atomically
from render.frames import PAPER_LEVEL
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX, PALETTE, grey_indices, value_indices

FORMAT_VERSION = 1
NAN_LEVEL = 0
ZERO_LEVEL = 128
HALF_RANGE = 127
CHUNK_NAME = "explore-{layer}-{probe}.js"  # flat beside the other assets, so the render stage can verify them
META_NAME = "explore.json"
_CHUNK_HEAD = "(window.explorerChunks = window.explorerChunks || []).push("


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


def fixed_table(scale: float, domain: tuple[float, float]) -> np.ndarray:
    """Return the (256,) palette index of every level under the layer's fixed colour domain."""
    return value_indices(dequantise(np.arange(256), scale), domain)


def contrast_extents(levels: np.ndarray) -> np.ndarray:
    """Return per step of (T, ...) levels the largest finite |level - 128| (at least 1)."""
    levels = np.asarray(levels)
    offsets = np.abs(levels.reshape(len(levels), -1).astype(np.int16) - ZERO_LEVEL)  # (T, values)
    offsets[levels.reshape(len(levels), -1) == NAN_LEVEL] = 0
    return np.maximum(offsets.max(axis=1), 1).astype(np.int16)


def contrast_indices(levels: np.ndarray, extent: int) -> np.ndarray:
    """Return palette indices under the contrast scale: round half up of 95 * (level - 128) / extent."""
    offsets = np.asarray(levels, np.int64) - ZERO_LEVEL
    indices = CENTER_INDEX + (2 * CENTER_INDEX * offsets + extent) // (2 * extent)
    indices = np.clip(indices, 0, DIVERGING_SIZE - 1)
    return np.where(np.asarray(levels) == NAN_LEVEL, NAN_INDEX, indices).astype(np.uint8)


def encode_chunk(levels: np.ndarray) -> bytes:
    """Return the zlib bytes (RLE strategy) of one (T, H, W, C) probe's levels, step-delta coded in (T, C, H, W)."""
    ordered = np.ascontiguousarray(np.asarray(levels, np.uint8).transpose(0, 3, 1, 2))  # (T, C, H, W)
    deltas = ordered.copy()
    deltas[1:] = ordered[1:] - ordered[:-1]  # uint8 arithmetic wraps mod 256
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return packer.compress(deltas.tobytes()) + packer.flush()


def decode_chunk(data: bytes, shape: tuple[int, int, int, int]) -> np.ndarray:
    """Return the (T, C, H, W) levels of one chunk's zlib bytes (the page's decoder, in numpy)."""
    deltas = np.frombuffer(zlib.decompress(data), np.uint8).reshape(shape)
    return np.cumsum(deltas, axis=0, dtype=np.uint8)


def chunk_script(layer: str, probe: int, data: bytes) -> bytes:
    """Return the classic-script text that registers one chunk with the page."""
    payload = base64.b64encode(data).decode("ascii")
    return f"{_CHUNK_HEAD}{json.dumps([layer, probe, payload])});\n".encode("ascii")


def read_chunk_script(text: bytes) -> tuple[str, int, bytes]:
    """Return (layer, probe, zlib bytes) of a chunk script written by chunk_script."""
    body = text.decode("ascii").strip()
    if not (body.startswith(_CHUNK_HEAD) and body.endswith(");")):
        raise ValueError("not an explorer chunk script")
    layer, probe, payload = json.loads(body[len(_CHUNK_HEAD):-2])
    return layer, probe, base64.b64decode(payload)


def layer_scale(domain: tuple[float, float]) -> float:
    """Return the scale whose levels span a layer's colour domain (its larger |end|)."""
    return float(max(abs(domain[0]), abs(domain[1])))


def write_page_data(capture, out_dir: str | Path, domains: dict[str, tuple[float, float]], *,
                    workers: int = 2) -> dict:
    """Write every layer's chunk scripts and explore.json into out_dir; return the manifest entry."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    levels = {name: quantise(capture.activations[name], layer_scale(domain)) for name, domain in domains.items()}
    jobs = [(name, probe) for name in levels for probe in range(levels[name].shape[1])]

    def write(job: tuple[str, int]) -> dict:
        name, probe = job
        path = out_dir / CHUNK_NAME.format(layer=name, probe=probe)
        write_bytes_atomically(path, chunk_script(name, probe, encode_chunk(levels[name][:, probe])))
        return {"path": path.name, "bytes": path.stat().st_size}

    with ThreadPoolExecutor(max_workers=workers) as pool:  # zlib lets go of the GIL
        files = dict(zip(jobs, pool.map(write, jobs)))
    layers = []
    for name, domain in domains.items():
        _, probes, height, width, channels = levels[name].shape
        scale = layer_scale(domain)
        layers.append({"name": name, "channels": int(channels), "map_size": [int(height), int(width)],
                       "scale": scale, "domain": [float(domain[0]), float(domain[1])],
                       "fixed_table": fixed_table(scale, domain).tolist(),
                       "contrast_extents": contrast_extents(levels[name]).tolist(),
                       "files": [files[name, probe] for probe in range(probes)]})
    probes = grey_indices(np.asarray(capture.probe_images, np.uint8))  # (N, 28, 28) palette indices (greys)
    class_names = capture.meta.get("dataset", {}).get("class_names") or [str(i) for i in range(10)]
    meta = {"format_version": FORMAT_VERSION, "steps": [int(step) for step in capture.steps],
            "nan_level": NAN_LEVEL, "zero_level": ZERO_LEVEL, "half_range": HALF_RANGE,
            "center_index": CENTER_INDEX, "nan_index": NAN_INDEX, "table_size": DIVERGING_SIZE,
            "palette": PALETTE[:NAN_INDEX + 1].tolist(), "probe_size": list(probes.shape[1:]),
            "probe_labels": [int(label) for label in capture.probe_labels],
            "probe_grey": base64.b64encode(PALETTE[probes][..., 0].tobytes()).decode("ascii"),
            "probe_names": [str(class_names[int(label)]) for label in capture.probe_labels],
            "paper": [PAPER_LEVEL] * 3, "curves": _curves(capture), "layers": layers}
    text = json.dumps(meta, separators=(",", ":"), sort_keys=True) + "\n"
    write_bytes_atomically(out_dir / META_NAME, text.encode("ascii"))
    return {"format_version": FORMAT_VERSION, "meta": {"path": META_NAME, "bytes": len(text)},
            "chunks": [dict(files[job]) for job in jobs]}


def _rounded(values) -> list:
    """Return floats to 5 significant digits (None for NaN/inf), for JSON."""
    return [float(f"{value:.5g}") if np.isfinite(value) else None for value in np.asarray(values, np.float64)]


def _curves(capture) -> dict:
    """Return the per-step training metrics and the test points the page's readout quotes."""
    return {"train_loss": _rounded(capture.train_loss), "train_accuracy": _rounded(capture.train_accuracy),
            "test_steps": [int(step) for step in capture.test_steps], "test_loss": _rounded(capture.test_loss),
            "test_accuracy": _rounded(capture.test_accuracy)}
