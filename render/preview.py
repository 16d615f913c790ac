"""The GIF preview of a layer that fits a byte budget: fewer frames first, then a smaller scale.

Frames are taken every `stride` snapshots, always with the first (step 0) and the last. The
search starts at full scale with every frame; an attempt stops as soon as it passes the budget,
and the size it reached predicts the next stride. When even `min_frames` frames do not fit, the
cell size is halved (scale 1 -> 1/2 -> 1/4) and the search starts again; at the smallest scale
the frame count may drop to 2. Every attempt is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from render.encode import GifWriter

SCALES = (1.0, 0.5, 0.25)
END_HOLD_MS = 1500  # the last frame stays a little, so the loop's restart is readable
MAX_FRAME_MS = 250  # a strided preview plays at >= 4 frames per second


def strided_indices(count: int, stride: int) -> list[int]:
    """Return every `stride`-th index of `count` snapshots, always with the first and the last."""
    if count < 1 or stride < 1:
        raise ValueError(f"need count >= 1 and stride >= 1, got count={count}, stride={stride}")
    picked = list(range(0, count, stride))
    if picked[-1] != count - 1:
        picked.append(count - 1)
    return picked


def _largest_stride(count: int, floor: int) -> int:
    stride = max(1, count - 1)
    while stride > 1 and len(strided_indices(count, stride)) < floor:
        stride -= 1
    return stride


def frame_ms(stride: int, fps: float) -> int:
    """Return a preview frame's duration: the video's timeline, capped at MAX_FRAME_MS, in 10 ms units."""
    return int(min(MAX_FRAME_MS, max(20, round(stride * 1000 / fps / 10) * 10)))


def encode_gif(frames: Iterator[np.ndarray], width: int, height: int, *, count: int, duration_ms: int,
               budget: int | None = None) -> tuple[bytes | None, dict]:
    """Encode `count` frames into a GIF; return (its bytes, or None once it passed `budget`; progress)."""
    writer = GifWriter(width, height)
    first = 0
    for done, frame in enumerate(frames, start=1):
        writer.write(frame, duration_ms + (END_HOLD_MS if done == count else 0))
        first = first or writer.bytes
        if budget is not None and writer.bytes > budget:
            return None, {"bytes": writer.bytes, "frames": done, "first_bytes": first}
    data = writer.getvalue()
    progress = {"bytes": len(data), "frames": count, "first_bytes": first}
    return (None if budget is not None and len(data) > budget else data), progress


def fit_gif(make_frames: Callable[[int, Sequence[int]], Iterator[np.ndarray]],
            frame_size: Callable[[int], tuple[int, int]], *, count: int, base_cell: int, fps: float,
            budget: int, min_frames: int = 40, scales: Sequence[float] = SCALES) -> tuple[bytes, dict]:
    """Return the largest GIF within `budget` bytes and a record: stride, scale, frames, size, attempts.

    make_frames(cell, indices) yields palette-index frames of the given snapshots at a cell size;
    frame_size(cell) gives their (width, height).
    """
    if budget <= 0:
        raise ValueError(f"gif budget must be a positive number of bytes, got {budget}")
    attempts = []
    for position, scale in enumerate(scales):
        cell = max(2, int(round(base_cell * scale / 2)) * 2)
        width, height = frame_size(cell)
        floor = 2 if position == len(scales) - 1 else min(min_frames, count)
        limit = _largest_stride(count, floor)
        stride = 1
        while True:
            indices = strided_indices(count, stride)
            duration = frame_ms(stride, fps)
            data, progress = encode_gif(make_frames(cell, indices), width, height, count=len(indices),
                                        duration_ms=duration, budget=budget)
            attempts.append({"scale": scale, "stride": stride, "frames": len(indices), "bytes": progress["bytes"],
                             "complete": progress["frames"] == len(indices), "fits": data is not None})
            if data is not None:
                return data, {"scale": scale, "cell_px": cell, "stride": stride, "frames": len(indices),
                              "frame_ms": duration, "end_hold_ms": END_HOLD_MS, "width": width, "height": height,
                              "bytes": len(data), "budget_bytes": budget, "reduced": stride > 1 or scale != 1.0,
                              "attempts": attempts}
            if stride >= limit:
                break
            per_frame = (progress["bytes"] - progress["first_bytes"]) / max(progress["frames"] - 1, 1)
            estimate = progress["first_bytes"] + per_frame * (len(indices) - 1)  # the whole attempt's bytes
            stride = min(limit, max(stride + 1, math.ceil(stride * estimate / (0.93 * budget))))
    raise ValueError(f"no GIF preview fits {budget} bytes even with 2 frames at scale {scales[-1]} "
                     f"(smallest attempt {min(a['bytes'] for a in attempts)} bytes); raise gif_budget_bytes")
