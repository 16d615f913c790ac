"""The explorer's data: every channel of every layer as 8-bit levels in small <script> files the page registers.

The page draws the activations itself (templates/static/explorer*.js), so it needs them, and from
file:// it cannot fetch() local files or read local images' pixels: each chunk is a classic script that
pushes its data onto `window.explorerChunks`, loaded when a view needs it (levels and scripts:
render/page_levels.py).

    chunk   one layer x one probe x one channel group: the layer's channels ranked most active first
            (pipeline.scales.channel_ranking) and cut into groups of GROUP_SIZE; group 0 holds the
            GROUP_SIZE most active, which the page shows first. Within a group, channels in index order.
    file    explore-<layer>-<probe>-<group>.js (flat beside the other assets, so the render stage can verify them)
    stride  the page keeps every k-th of the run's T snapshots, and always the first and last: k is the
            smallest whose chunks fit DATA_BUDGET_BYTES all together and whose levels, decoded, fit
            LEVELS_BUDGET_BYTES (what a browser holds once every view was opened, and what this module
            holds while it chooses k), the same for every layer, so one step control moves every view and
            the curves together. The MP4s show the same snapshots (render/assets.py); the archive keeps
            every step. Levels are read from the archive a block of steps at a time
            (capture/step_blocks.py): memory does not grow with the run.

`explore.json` (beside them) holds what the page needs to draw them: the kept steps, the stride, the
palette, and per layer: its exponent at each kept step (render/page_levels.py), its 256-entry level ->
palette-index table for its fixed colour scale (the renderer's own `scale_indices`: a sequential layer uses
the white-to-blue half) at exponent 0 (`fixed_table`) and, for each exponent up to its largest, the same
table for that exponent's levels (`fine_tables`: indices into `level_tables`, which holds each such table
once as base64, so layers on one scale share them), its largest |level - 128| per kept step (for the
per-layer contrast scale), its channel groups and their files, and the probe images (grey levels or RGB).
Same capture -> same bytes.

Measured (issue 22) with write_page_data on the default run (291 steps of 6 tanh layers, 10 probes) and
Fashion-MNIST seed 2: on the fixed scale alone, conv2-conv6 span 1-3 levels a side through their first ~60
steps (conv4 at step 30: 3 colours under contrast). With exponents for at least 16 distinct levels, conv4 at
step 30 takes exponent 5 and 18 colours. Step deltas of those fine levels cost 1.2-1.5 bits per value in zlib;
predicting each fine step's residuals within its maps (LOCO-I) cuts that by 25-30%, and 7-bit text instead
of base64 (8/7 instead of 4/3 of the zlib bytes) pays for the rest: the chunks take 3.89 MB and 4.58 MB
(3.98 MB and 4.65 MB before, in base64), and writing them takes 0.55 s and 0.62 s of CPU (0.47 s and 0.50 s).
"""

from __future__ import annotations

import base64
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from capture.schema import DATA_BUDGET_BYTES
from capture.step_blocks import step_blocks
from pipeline.files import write_bytes_atomically
from pipeline.names import file_stems
from pipeline.scales import MAX_SHOWN_CHANNELS
from render.frames import PAPER_LEVEL
from render.page_levels import (
    HALF_RANGE,
    NAN_LEVEL,
    ZERO_LEVEL,
    chunk_script,
    contrast_extents,
    encode_chunk,
    fixed_table,
    level_scale,
    quantise_steps,
    scale_tables,
)
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX, PALETTE, grey_indices

FORMAT_VERSION = 3
GROUP_SIZE = MAX_SHOWN_CHANNELS  # the page's first view of a layer shows what its video shows
# All chunk bytes together. GitHub Pages publishes sites up to 1 GB (files up to 100 MB) with a soft
# All levels decoded (1 byte per value kept): 4x the default run's 31.9 MB, so that run keeps every step,
# while a run 40x as long is thinned before its levels are read rather than after.
LEVELS_BUDGET_BYTES = 128_000_000
CHUNK_NAME = "explore-{layer}-{probe}-{group}.js"
META_NAME = "explore.json"


class PageDataError(ValueError):
    """Explorer data that cannot be written from what was given."""


def strided_indices(count: int, stride: int) -> list[int]:
    """Return every `stride`-th snapshot index of `count`, always with the first and the last."""
    indices = list(range(0, count, stride))
    if indices[-1] != count - 1:
        indices.append(count - 1)
    return indices


def channel_groups(ranking: list[int], size: int = GROUP_SIZE) -> list[list[int]]:
    """Return the ranking cut into groups of `size` (most active first), each group in channel order."""
    return [sorted(int(c) for c in ranking[start:start + size]) for start in range(0, len(ranking), size)]


def _check(capture, scales: dict, rankings: dict) -> None:
    """Refuse what the page cannot show, before anything is written."""
    for name in scales:
        if name not in capture.activations:
            raise PageDataError(f"no layer {name!r} in the capture: pass scales for its layers "
                                f"({', '.join(capture.activations)})")
        values = capture.activations[name]
        if values.ndim != 5:
            raise PageDataError(f"layer {name!r} has shape {values.shape}, not (T, N, H, W, C): store it reshaped")
        if sorted(int(c) for c in rankings.get(name, ())) != list(range(values.shape[-1])):
            raise PageDataError(f"the ranking of layer {name!r} must list each of its {values.shape[-1]} channels "
                                "once (pipeline.scales.channel_ranking)")
        low, high = (float(end) for end in scales[name]["domain"])
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise PageDataError(f"layer {name!r} has colour domain {[low, high]}: it must be finite with low < high")
    images = np.asarray(capture.probe_images)
    if images.dtype != np.uint8 or not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)):
        raise PageDataError(f"probe images must be (N, H, W) or (N, H, W, 3) uint8, got {images.shape} "
                            f"{images.dtype}: convert them for display first")


def read_levels(values, indices: list[int], scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (levels, exponents) of a layer's selected snapshots, read a block of steps at a time."""
    levels, exponents = None, np.zeros(len(indices), np.int8)
    for positions, block in step_blocks(values, indices):
        block_levels, exponents[positions] = quantise_steps(block, scale)
        if levels is None:  # the only whole-length array: blocks are converted as they come
            levels = np.empty((len(indices), *block_levels.shape[1:]), np.uint8)
        levels[positions] = block_levels
    return (quantise_steps(np.asarray(values[:0]), scale)[0] if levels is None else levels), exponents


def _encode(levels: dict, groups: dict, indices: list[int], workers: int, inline: bool = False) -> dict:
    """Return {(layer, probe, group): chunk script} of the kept snapshots; levels: {layer: (levels, exponents)}."""
    jobs = [(name, probe, group) for name in levels for probe in range(levels[name][0].shape[1])
            for group in range(len(groups[name]))]

    def encode(job):
        name, probe, group = job
        chunk = levels[name][0][indices, probe][..., groups[name][group]]  # (T', H, W, c)
        return chunk_script(name, probe, group, encode_chunk(chunk, levels[name][1][indices]), inline)

    with ThreadPoolExecutor(max_workers=workers) as pool:  # zlib lets go of the GIL
        return dict(zip(jobs, pool.map(encode, jobs)))


def levels_stride(shapes: list[tuple], budget: int) -> int:
    """Return the smallest stride at which the kept snapshots of layers of these (T, ...) shapes fit `budget` bytes."""
    count = int(shapes[0][0])
    per_step = sum(int(np.prod(shape[1:])) for shape in shapes)
    # A stride s keeps at least count / s snapshots, so none below count * per_step / budget can fit.
    stride = max(1, (count * per_step) // max(budget, 1))
    while stride < count - 1 and len(strided_indices(count, stride)) * per_step > budget:
        stride += 1
    return min(stride, max(count - 1, 1))


def choose_stride(levels: dict, groups: dict, count: int, budget: int, workers: int,
                  inline: bool = False) -> tuple[int, dict]:
    """Return (the smallest stride whose chunk scripts fit `budget` bytes, those scripts)."""
    def size(scripts: dict) -> int:
        return sum(len(text) for text in scripts.values())

    scripts = _encode(levels, groups, strided_indices(count, 1), workers, inline)
    total, fits, fails = size(scripts), (1, scripts), 0
    if total <= budget or count <= 2:
        return fits
    fits = None
    stride = 1
    while fits is None:  # grow by the bytes' excess (they shrink about as 1 / stride), then search between
        stride = min(count - 1, max(stride + 1, math.ceil(stride * total / budget)))
        scripts = _encode(levels, groups, strided_indices(count, stride), workers, inline)
        total = size(scripts)
        if total <= budget or stride == count - 1:  # first and last only: the fewest the page can have
            fits = (stride, scripts)
        else:
            fails = stride
    while fits[0] - fails > 1:  # the smallest fitting stride, taking bytes as falling with the stride
        middle = (fits[0] + fails) // 2
        scripts = _encode(levels, groups, strided_indices(count, middle), workers, inline)
        if size(scripts) <= budget:
            fits = (middle, scripts)
        else:
            fails = middle
    return fits


def probe_pixels(images: np.ndarray) -> tuple[str, str]:
    """Return ("grey" | "rgb", base64 pixels): the renderer's grey ramp levels, or the RGB bytes as they are."""
    images = np.asarray(images, np.uint8)
    if images.ndim == 4:
        return "rgb", base64.b64encode(np.ascontiguousarray(images).tobytes()).decode("ascii")
    return "grey", base64.b64encode(PALETTE[grey_indices(images)][..., 0].tobytes()).decode("ascii")


def write_page_data(capture, out_dir: str | Path, scales: dict[str, dict], rankings: dict[str, list[int]], *,
                    workers: int = 2, budget_bytes: int | None = None,
                    levels_budget_bytes: int | None = None, inline: bool = False) -> dict:
    """Write every layer's chunk scripts and explore.json into out_dir; return the manifest's "explore" entry.

    scales: {layer: pipeline.scales.choose_scale dict}, rankings: {layer: channels, most active first};
    inline: the chunks are for an HTML page (the one-file report), so their payloads are base64.
    """
    _check(capture, scales, rankings)
    budget_bytes = DATA_BUDGET_BYTES if budget_bytes is None else budget_bytes  # read now: tests may patch them
    levels_budget_bytes = LEVELS_BUDGET_BYTES if levels_budget_bytes is None else levels_budget_bytes
    out_dir = Path(out_dir)
    names = list(scales)
    stems = file_stems(names)
    count = len(capture.steps)
    # Thin first where the levels would pass their budget (a multiple of this stride keeps a subset of these
    # steps, first and last included), then take the smallest multiple whose chunks fit the bytes budget.
    base = levels_stride([np.shape(capture.activations[name]) for name in names], levels_budget_bytes)
    read = strided_indices(count, base)
    levels = {name: read_levels(capture.activations[name], read, level_scale(scales[name]["domain"]))
              for name in names}
    groups = {name: channel_groups(rankings[name]) for name in names}
    multiple, scripts = choose_stride(levels, groups, len(read), budget_bytes, workers, inline)
    kept = strided_indices(len(read), multiple)  # positions in `read`
    stride, indices = base * multiple, [read[position] for position in kept]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for (name, probe, group), text in scripts.items():
        path = out_dir / CHUNK_NAME.format(layer=stems[name], probe=probe, group=group)
        write_bytes_atomically(path, text)
        files[name, probe, group] = {"path": path.name, "bytes": len(text)}
    layers, tables = [], []  # tables: each boosted level table once (layers on one scale share theirs)
    for name in names:
        _, probes, height, width, channels = levels[name][0].shape
        scale, exponents = scales[name], levels[name][1][kept]
        layers.append({
            "name": name, "channels": int(channels), "map_size": [int(height), int(width)],
            "scale": level_scale(scale["domain"]), "kind": scale["kind"],
            "domain": [float(end) for end in scale["domain"]], "basis": scale.get("basis", ""),
            "basis_terms": scale.get("basis_terms"),
            "fixed_table": fixed_table(scale).tolist(),
            "fine_tables": [_place(tables, table) for table in scale_tables(scale, int(exponents.max(initial=0)))],
            "exponents": exponents.tolist(), "contrast_extents": contrast_extents(levels[name][0][kept]).tolist(),
            "groups": [{"channels": channels_of, "files": [files[name, probe, group] for probe in range(probes)]}
                       for group, channels_of in enumerate(groups[name])]})
    images = np.asarray(capture.probe_images, np.uint8)
    color, pixels = probe_pixels(images)
    class_names = capture.meta.get("dataset", {}).get("class_names") or []
    labels = [int(label) for label in capture.probe_labels]
    steps = [int(step) for step in np.asarray(capture.steps)[indices]]
    meta = {"format_version": FORMAT_VERSION, "stride": stride, "snapshots": count, "steps": steps,
            "budget_bytes": budget_bytes, "group_size": GROUP_SIZE,
            "nan_level": NAN_LEVEL, "zero_level": ZERO_LEVEL, "half_range": HALF_RANGE,
            "center_index": CENTER_INDEX, "nan_index": NAN_INDEX, "table_size": DIVERGING_SIZE,
            "palette": PALETTE[:NAN_INDEX + 1].tolist(), "probe_size": [int(s) for s in images.shape[1:3]],
            "probe_color": color, "probe_pixels": pixels, "probe_labels": labels,
            "probe_names": [str(class_names[label]) if 0 <= label < len(class_names) else str(label)
                            for label in labels],
            "paper": [PAPER_LEVEL] * 3, "curves": _curves(capture), "layers": layers, "level_tables": tables}
    text = json.dumps(meta, separators=(",", ":"), sort_keys=True) + "\n"
    write_bytes_atomically(out_dir / META_NAME, text.encode("ascii"))
    chunks = [dict(files[job]) for job in scripts]
    return {"format_version": FORMAT_VERSION, "stride": stride, "snapshots": count, "steps_shown": len(steps),
            "budget_bytes": budget_bytes, "bytes": sum(chunk["bytes"] for chunk in chunks),
            "meta": {"path": META_NAME, "bytes": len(text)}, "chunks": chunks}


def _place(items: list, item) -> int:
    """Return the index of item in items, appending it first when it is not there."""
    if item not in items:
        items.append(item)
    return items.index(item)


def _rounded(values) -> list:
    """Return floats to 5 significant digits (None for NaN/inf), for JSON."""
    return [float(f"{value:.5g}") if np.isfinite(value) else None for value in np.asarray(values, np.float64)]


def _curves(capture) -> dict:
    """Return the per-step training metrics and the test points the page's readout quotes."""
    return {"train_loss": _rounded(capture.train_loss), "train_accuracy": _rounded(capture.train_accuracy),
            "test_steps": [int(step) for step in capture.test_steps], "test_loss": _rounded(capture.test_loss),
            "test_accuracy": _rounded(capture.test_accuracy)}
