"""Render a Capture into a folder: per-layer MP4 (+ WebM), poster PNG, GIF preview, legend, curves, the
explorer's data (render/page_data.py) and the manifest, which says what each file is for ("purpose").

`render_capture(capture, out_dir)` does the work whatever is in out_dir; render/stage.py is the
stage that decides whether it is needed. The article stage reads `manifest.json` (schema in
`render/README.md`). Each layer gets its colour scale from its values and activation
(pipeline/scales.py: fixed, sequential or diverging, one for the whole run) and shows its most
active channels (at most MAX_SHOWN_CHANNELS); render/layer_assets.py writes its files. Layers
sharing a scale share a colour bar file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from capture.archive import Capture
from pipeline.files import file_sha256, write_bytes_atomically
from pipeline.names import file_stems
from pipeline.scales import MAX_SHOWN_CHANNELS, channel_ranking, choose_scale
from render.curves import write_curves
from render.encode import DEFAULT_SETTINGS, RenderSettings, write_png
from render.frames import BASE_CELL, layer_layout
from render.inputs import check_capture, expected_layers, layer_activation
from render.layer_assets import PURPOSES, LayerPlan, files_entry, render_layer
from render.legend import colorbar_frame
from render.page_data import strided_indices, write_page_data
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_RGB, PALETTE
from render.probes import is_rgb

MANIFEST_VERSION = 2
LAYER_WORKERS = 2  # layers rendered at once (see render_capture)
TANH_COLORBAR = "colorbar.png"  # shared by every layer on the fixed tanh scale
log = logging.getLogger("render")


def file_entries(manifest: dict) -> list[dict]:
    """Return every file entry of a manifest (each layer's files, the curves, the explorer's data), with "path"."""
    entries = [entry for layer in manifest["layers"] for entry in layer["files"].values()]
    entries += [manifest["curves"][kind] for kind in ("svg", "png")]
    return entries + [manifest["explore"]["meta"]] + manifest["explore"]["chunks"]


def _layer_choices(capture, layers: Sequence[str], activations: Mapping[str, str | None]):
    """Return {layer: (activation, scale, ranking, shown channels)}, chosen from each layer's values."""

    def choose(name: str):
        values = capture.activations[name]
        activation = activations[name] if name in activations else layer_activation(capture, name)
        ranking = channel_ranking(values)
        return activation, choose_scale(values, activation), ranking, sorted(ranking[:MAX_SHOWN_CHANNELS])

    with ThreadPoolExecutor(max_workers=LAYER_WORKERS) as pool:  # bincount lets go of the GIL
        return dict(zip(layers, pool.map(choose, layers)))


def layer_cells(capture, layers: Sequence[str]) -> dict[str, int]:
    """Return each layer's poster cell size to aim at: BASE_CELL, except 1x1 maps (Dense), which take the
    most common cell of the other layers, so that every cell has one size where the maps allow it."""
    shapes = {name: np.shape(capture.activations[name]) for name in layers}
    sizes = [max(layout.cell, layout.cell_w) for layout in
             (layer_layout(shape) for shape in shapes.values() if shape[2:4] != (1, 1))]
    common = max(set(sizes), key=lambda size: (sizes.count(size), size)) if sizes else BASE_CELL
    return {name: common if shape[2:4] == (1, 1) else BASE_CELL for name, shape in shapes.items()}


def _colorbar_name(entry: dict) -> str:
    return TANH_COLORBAR if entry["domain_fixed_tanh"] else f"{entry['file_stem']}_colorbar.png"


def render_capture(capture: Capture, out_dir: str | os.PathLike, settings: RenderSettings = DEFAULT_SETTINGS, *,
                   layers: Sequence[str] | None = None, activations: Mapping[str, str | None] | None = None,
                   progress: bool = True, timings: dict | None = None) -> dict:
    """Render every layer's animations, previews and legend, and the curves, into out_dir; return the manifest.

    settings: fps, encoders, GIF previews (render/encode.py; none by default). activations: {layer:
    activation name} overriding the capture's (meta["recorded_layers"], else its meta["layers"] rows,
    else tanh). `timings`, when given, is filled with seconds per layer and stage (kept out of the
    manifest, which is deterministic).
    """
    layers = list(dict.fromkeys(layers if layers is not None else expected_layers(capture)))
    if not layers:
        raise ValueError("no layers to render: pass layer names, or a capture whose config lists its layers")
    check_capture(capture, layers)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)  # no manifest while the files change: a failed run has none
    timings = {} if timings is None else timings
    started = time.perf_counter()
    choices = _layer_choices(capture, layers, dict(activations or {}))
    timings["scales_s"] = time.perf_counter() - started
    cells = layer_cells(capture, layers)
    stems = file_stems(layers)  # "block1/conv" -> "block1-conv": nested layers' names hold a slash
    # The explorer's data first: its stride (1 unless the run is long) is the videos' too, so that the page,
    # the MP4s and their step counters show the same snapshots; the archive keeps every step.
    started = time.perf_counter()
    explore = write_page_data(capture, out_dir, {name: choices[name][1] for name in layers},
                              {name: choices[name][2] for name in layers})
    explore["meta"]["purpose"] = PURPOSES["meta"]
    explore["chunk_purpose"] = PURPOSES["chunk"]
    timings["explore_s"] = time.perf_counter() - started
    kept = strided_indices(len(capture.steps), explore["stride"])

    def render_one(name: str) -> dict:
        activation, scale, ranking, shown = choices[name]
        plan = LayerPlan(name=name, stem=stems[name], activation=activation, scale=scale, ranking=ranking,
                         shown=shown, cell=cells[name])
        return render_layer(capture, plan, out_dir, settings, video_indices=kept, progress=progress)

    # Two layers at a time: while one layer's frames are composed in Python, the other's ffmpeg
    # encodes, so both cores stay busy. Results keep the model's layer order.
    with ThreadPoolExecutor(max_workers=LAYER_WORKERS) as pool:
        entries = list(pool.map(render_one, layers))
    colorbars: dict[str, tuple] = {}  # one file per distinct legend (caption + scale), named by its first layer
    for name, entry in zip(layers, entries):
        timings[name] = entry.pop("_timings")
        legend = json.dumps([entry["domain_caption"], entry["scale"]["kind"], entry["domain"]])
        if legend not in colorbars:
            frame = colorbar_frame(entry["scale"], entry["activation"])
            colorbars[legend] = (_colorbar_name(entry), frame.shape)
            write_png(frame, out_dir / colorbars[legend][0])
        path, (height, width) = out_dir / colorbars[legend][0], colorbars[legend][1]
        # its own size, so that the page's <img> keeps the legend's proportions
        entry["files"]["colorbar"] = dict(files_entry(path, purpose=PURPOSES["colorbar"]), width=int(width),
                                          height=int(height))
    started = time.perf_counter()
    curves = write_curves(capture, out_dir)
    for kind in ("svg", "png"):
        curves[kind]["purpose"] = PURPOSES[kind]
    timings["curves_s"] = time.perf_counter() - started
    steps = np.asarray(capture.steps)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "fps": settings.fps,
        "gif_budget_bytes": settings.gif_budget_bytes,
        "gif_min_frames": settings.gif_min_frames,
        "steps": {"count": int(steps.size), "first": int(steps[0]), "last": int(steps[-1])},
        "probes": int(len(capture.probe_images)),
        "probe_labels": [int(label) for label in np.asarray(capture.probe_labels)],
        "probe_color": "rgb" if is_rgb(capture.probe_images) else "grey",
        "colors": {"table_size": DIVERGING_SIZE, "negative": PALETTE[0].tolist(),
                   "zero": PALETTE[CENTER_INDEX].tolist(), "positive": PALETTE[DIVERGING_SIZE - 1].tolist(),
                   "nan": list(NAN_RGB)},
        "layers": entries,
        "curves": curves,
        "explore": explore,
    }
    for entry in file_entries(manifest):
        entry["sha256"] = file_sha256(out_dir / entry["path"])  # a reused asset is checked against it
    write_bytes_atomically(out_dir / "manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    log.info("render timings: %s", json.dumps(timings))
    return manifest
