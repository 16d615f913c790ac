"""Read a layer's snapshots a block of steps at a time, so that no stage holds a whole (T, N, H, W, C) layer.

    for positions, block in step_blocks(values, indices):   # block: (len(positions), N, H, W, C) ndarray
        ...
    for snapshot in iter_steps(values, indices):              # one (N, H, W, C) snapshot at a time
        ...

`values` is anything indexable by a step range: a `capture.hdf5.LazyLayer` (the archive's layers,
read where indexed) or an ndarray. A block covers at most CHUNK_ROWS consecutive steps aligned with
the archive's chunks (capture/schema.py), so each compressed chunk is read and inflated once however
the steps are picked, and memory holds one block whatever the run's length. Written by hand: h5py's
own chunk cache (1 MB per dataset by default) is smaller than one chunk of a conv layer, so stepping
through `values[t]` would inflate every chunk 64 times. No h5py here: it reads through `values`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from capture.schema import CHUNK_ROWS


def step_blocks(values, indices: Sequence[int] | None = None,
                size: int = CHUNK_ROWS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (positions in `indices`, their snapshots) block by block, in order (all steps by default)."""
    count = len(values)
    if indices is None:
        for start in range(0, count, size):
            stop = min(count, start + size)
            yield np.arange(start, stop), np.asarray(values[start:stop])
        return
    wanted = np.asarray(indices, np.int64)
    if wanted.size and (wanted.min() < -count or wanted.max() >= count):
        raise IndexError(f"step index out of range for {count} snapshots")
    wanted = wanted % max(count, 1)
    windows = wanted // size
    start = 0
    while start < wanted.size:  # a run of consecutive picks in one aligned window is one read
        stop = start + 1
        while stop < wanted.size and windows[stop] == windows[start]:
            stop += 1
        picks = wanted[start:stop]
        low, high = int(picks.min()), int(picks.max())
        block = np.asarray(values[low:high + 1])
        yield np.arange(start, stop), block[picks - low]
        start = stop


def iter_steps(values, indices: Sequence[int] | None = None, size: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    """Yield the selected snapshots one (N, H, W, C) array at a time, reading a block of steps at once."""
    for _, block in step_blocks(values, indices, size):
        yield from block


def take_steps(values, indices: Sequence[int], transform=None) -> np.ndarray:
    """Return the selected snapshots stacked, each block passed through `transform` (e.g. to uint8) as it is read."""
    stacked = None
    for positions, block in step_blocks(values, indices):
        block = block if transform is None else transform(block)
        if stacked is None:  # the result is the only whole-length array: blocks are converted as they come
            stacked = np.empty((len(indices), *block.shape[1:]), block.dtype)
        stacked[positions] = block
    if stacked is None:
        empty = np.asarray(values[:0])
        return empty if transform is None else transform(empty)
    return stacked
