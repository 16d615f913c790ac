"""Run the render stage on a capture and split its time: frame composition, each encoding, memory.

The split comes from the stage's own `timings=` hook (`render.stage.run`): per layer, the seconds
spent composing the video frames, encoding them (yuv conversion, piping to ffmpeg and waiting for it),
writing the poster and making the GIF preview (its own smaller frames included), and the curves.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import psutil

LAYER_PARTS = {"compose": "frames_s", "mp4": "encode_s", "gif": "gif_s", "png": "poster_s"}


def time_parts(timings: dict, formats: list[str]) -> dict:
    """Return the stage's time split into composition and each format's encoding, summed over layers."""
    layers = [value for value in timings.values() if isinstance(value, dict)]
    parts = {part: sum(layer.get(key, 0.0) for layer in layers) if layers else None
             for part, key in LAYER_PARTS.items()}
    parts["curves"] = timings.get("curves_s")
    if "webm" in formats:  # both videos are encoded from the same frames, in one phase
        parts["mp4+webm"] = parts.pop("mp4")
    return parts


def rss_mb() -> float:
    """Return this process's current resident memory in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def run_render(arguments, process_start: float) -> dict:
    """Load a capture and run the render stage on it, as `generate.py render` does after the capture stage."""
    import numpy  # noqa: F401 - imported before the baseline, as the stage would

    started = time.perf_counter()
    baseline_mb = rss_mb()
    from model.capture import Capture

    imported_model = time.perf_counter()
    capture = Capture.load(arguments.capture)
    loaded = time.perf_counter()
    loaded_mb = rss_mb()
    import render.assets
    import render.stage
    from pipeline.layout import Layout

    imported = time.perf_counter()
    build_dir = Path(arguments.build_dir)
    layout = Layout(build_dir, build_dir / "site")  # the render stage never writes the site
    from pipeline.ownership import BUILD, Marker, new_id, read_marker, write_marker

    if read_marker(build_dir) is None:  # bench/runs.py's fresh folder under bench/out, holding only the capture
        write_marker(build_dir, Marker(BUILD, new_id()))
    budget = arguments.gif_budget_mb
    settings = render.stage.RenderSettings(gif_budget_bytes=None if budget is None else int(budget * 1e6))
    cpu_children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    timings: dict = {}
    manifest = render.stage.run(capture, layout, settings, progress=False, timings=timings)
    finished = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        stage_timings = json.loads(layout.timings.read_text())
    except (OSError, json.JSONDecodeError):
        stage_timings = {}
    layers = manifest.get("layers", [])
    formats = sorted({kind for layer in layers for kind in layer.get("files", {})})
    return {
        "entry": "render.stage.run", "layer_workers": getattr(render.assets, "LAYER_WORKERS", 1),
        "frames": int(len(capture.steps)), "layers": len(capture.activations), "formats": formats,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "import_model_seconds": imported_model - started, "load_seconds": loaded - imported_model,
        "import_seconds": imported - loaded, "render_seconds": finished - imported,
        "process_seconds": finished - process_start,
        "parts": time_parts(timings, formats), "layer_timings": timings,
        "ffmpeg_cpu_seconds": (children.ru_utime + children.ru_stime)
                              - (cpu_children_before.ru_utime + cpu_children_before.ru_stime),
        "baseline_rss_mb": baseline_mb, "after_load_rss_mb": loaded_mb,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_maxrss_mb": children.ru_maxrss / 1024,
        "stage_timings": stage_timings,
        "gifs": {layer["name"]: {k: layer["files"]["gif"].get(k) for k in ("stride", "scale", "frames", "bytes")}
                 | {"attempts": len(layer["files"]["gif"].get("attempts", []))}
                 for layer in layers if "gif" in layer.get("files", {})},
    }
