"""Compare layouts and zlib settings for the explorer's 8-bit activation chunks (render/page_data.py).

    python -m bench.explorer_encoding [build/capture.h5]

Each layout is one chunk per (layer, probe), the unit the page loads; sizes are summed over all chunks,
before base64 (which adds a third) and timed on one core.
"""

from __future__ import annotations

import sys
import time
import zlib

import numpy as np

from render.page_data import quantise


def _deflate(data: bytes, level: int, strategy: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    return packer.compress(data) + packer.flush()


def _step_delta(levels: np.ndarray, axis: int) -> np.ndarray:
    out = levels.copy()
    index = [slice(None)] * levels.ndim
    index[axis] = slice(1, None)
    previous = [slice(None)] * levels.ndim
    previous[axis] = slice(None, -1)
    out[tuple(index)] = levels[tuple(index)] - levels[tuple(previous)]  # uint8: mod 256
    return out


LAYOUTS = {  # name -> (T, H, W, C) levels of one probe -> bytes
    "levels as recorded (T,H,W,C)": lambda q: q.tobytes(),
    "step-major (T,C,H,W)": lambda q: np.ascontiguousarray(q.transpose(0, 3, 1, 2)).tobytes(),
    "step-delta (T,C,H,W)": lambda q: _step_delta(np.ascontiguousarray(q.transpose(0, 3, 1, 2)), 0).tobytes(),
    "pixel-major step-delta (C,H,W,T)": lambda q: _step_delta(np.ascontiguousarray(q.transpose(3, 1, 2, 0)),
                                                              3).tobytes(),
}
SETTINGS = {"zlib 9": (9, zlib.Z_DEFAULT_STRATEGY), "zlib 6": (6, zlib.Z_DEFAULT_STRATEGY),
            "zlib RLE": (9, zlib.Z_RLE)}


def main(path: str = "build/capture.h5") -> None:
    """Print the bytes and seconds of every layout x setting over all chunks of a capture."""
    with np.load(path, allow_pickle=False) as archive:
        names = [str(name) for name in archive["layer_names"]]
        layers = {name: quantise(archive[name], 1.0) for name in names}
    raw = sum(q.size for q in layers.values())
    print(f"{len(names)} layers, {raw / 1e6:.2f} MB of levels")
    print("| layout | setting | MB | MB as base64 | seconds |\n|---|---|---|---|---|")
    for layout, encode in LAYOUTS.items():
        chunks = [encode(q[:, probe]) for q in layers.values() for probe in range(q.shape[1])]
        for setting, (level, strategy) in SETTINGS.items():
            if layout != "step-delta (T,C,H,W)" and setting != "zlib 6":
                continue
            started = time.perf_counter()
            size = sum(len(_deflate(chunk, level, strategy)) for chunk in chunks)
            seconds = time.perf_counter() - started
            print(f"| {layout} | {setting} | {size / 1e6:.2f} | {4 * size / 3e6:.2f} | {seconds:.2f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
