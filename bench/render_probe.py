"""Run the render stage on a capture and split its time: frame composition, each encoding, memory.

Until the stages expose a `timings=` hook, the split is taken from outside: render.stage.layer_frames,
render.encode.to_yuv420p and render.stage.write_png are wrapped with timers, and the stage's per-layer
timings are read from its "render timings:" log line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import psutil


class StageProbe:
    """Time the render stage's parts from outside: frame composition, yuv conversion, PNG writing.

    render.stage composes frames with render.frames.layer_frames (a generator) and streams them to
    ffmpeg, which encodes in its own process at the same time; the time spent inside the generator
    is composition, the rest of the video phase is conversion, piping and waiting for ffmpeg.
    """

    def __init__(self):
        self.seconds = {"compose_video": 0.0, "compose_gif": 0.0, "yuv": 0.0, "png": 0.0}
        self.frames = {"video": 0, "gif": 0}
        self.log_timings = None

    def install(self):
        """Wrap the render internals with timers and listen for the stage's timings log line."""
        import logging

        import render.encode
        import render.stage

        probe = self
        original_frames = render.stage.layer_frames

        def layer_frames(*args, **kwargs):
            kind = "video" if kwargs.get("indices") is None and kwargs.get("cell", 56) == 56 else "gif"
            generator = original_frames(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    frame = next(generator)
                except StopIteration:
                    probe.seconds[f"compose_{kind}"] += time.perf_counter() - started
                    return
                probe.seconds[f"compose_{kind}"] += time.perf_counter() - started
                probe.frames[kind] += 1
                yield frame

        render.stage.layer_frames = layer_frames
        original_yuv = render.encode.to_yuv420p

        def to_yuv420p(frame):
            started = time.perf_counter()
            try:
                return original_yuv(frame)
            finally:
                probe.seconds["yuv"] += time.perf_counter() - started

        render.encode.to_yuv420p = to_yuv420p
        original_png = render.stage.write_png

        def write_png(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original_png(*args, **kwargs)
            finally:
                probe.seconds["png"] += time.perf_counter() - started

        render.stage.write_png = write_png

        class Catch(logging.Handler):
            def emit(self, record):
                message = record.getMessage()
                if message.startswith("render timings: "):
                    try:
                        probe.log_timings = json.loads(message.split(": ", 1)[1])
                    except json.JSONDecodeError:
                        pass

        logger = logging.getLogger("render")
        logger.addHandler(Catch())
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
            logger.propagate = False

    def parts(self, formats: list[str]) -> dict:
        """Return the stage's time split into composition and each format's encoding (thread-seconds)."""
        layers = {k: v for k, v in (self.log_timings or {}).items() if isinstance(v, dict)}
        video = sum(v.get("video_s", 0.0) for v in layers.values())
        gif = sum(v.get("gif_s", 0.0) for v in layers.values())
        posters = self.seconds["png"]
        parts = {
            "compose": self.seconds["compose_video"],  # all frames of all layers at full size, for the videos
            # the video phase minus composition and the poster PNG: yuv conversion, piping, waiting for ffmpeg
            "mp4": max(0.0, video - self.seconds["compose_video"] - posters) if layers else None,
            "gif": max(0.0, gif - self.seconds["compose_gif"]) if layers else None,  # LZW + size search
            "gif_compose": self.seconds["compose_gif"],
            "png": posters,  # posters and colour bars
            "curves": (self.log_timings or {}).get("curves_s"),
            "yuv": self.seconds["yuv"],
        }
        if "webm" in formats:
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
    import render.stage

    probe = StageProbe()
    probe.install()
    imported = time.perf_counter()
    build_dir = Path(arguments.build_dir)
    cpu_children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    from render.cache import render_if_stale

    entry = f"{render_if_stale.__module__}.render_if_stale"
    manifest = render_if_stale(capture, build_dir, gif_budget_bytes=int(arguments.gif_budget_mb * 1e6), progress=False)
    finished = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        stage_timings = json.loads((build_dir / "timings.json").read_text())
    except (OSError, json.JSONDecodeError):
        stage_timings = {}
    layers = manifest.get("layers", []) if isinstance(manifest, dict) else []
    formats = sorted({kind for layer in layers for kind in layer.get("files", {})})
    return {
        "entry": entry, "layer_workers": getattr(render.stage, "LAYER_WORKERS", 1), "frames": int(len(capture.steps)),
        "layers": len(capture.activations), "formats": formats,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "import_model_seconds": imported_model - started, "load_seconds": loaded - imported_model,
        "import_seconds": imported - loaded, "render_seconds": finished - imported,
        "process_seconds": finished - process_start,
        "parts": probe.parts(formats), "probe_seconds": probe.seconds, "probe_frames": probe.frames,
        "layer_timings": probe.log_timings,
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
