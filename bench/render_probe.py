"""The render stage on a capture in a fresh process, its time split; prints its numbers as one JSON line.

    python bench/render_probe.py --capture ARCHIVE --build-dir DIR

The split comes from the stage's own `timings=` hook (`render.stage.run`): per layer, the seconds
spent composing the video frames, encoding them (yuv conversion, piping to ffmpeg and waiting for it),
writing the poster and making the GIF preview (its own smaller frames included), and the curves.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import psutil

LAYER_PARTS = {"compose": "frames_s", "mp4": "encode_s", "gif": "gif_s", "png": "poster_s"}


def time_parts(timings: dict) -> dict:
    """Return the stage's time split into composition and each format's encoding, summed over layers."""
    layers = [value for value in timings.values() if isinstance(value, dict)]
    parts = {part: sum(layer.get(key, 0.0) for layer in layers) if layers else None
             for part, key in LAYER_PARTS.items()}
    return parts | {"curves": timings.get("curves_s")}


def children_cpu_seconds() -> float:
    """Return the CPU seconds of this process's reaped children (the ffmpeg encoders)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_render(arguments) -> dict:
    """Load a capture and run the render stage on it, as `generate.py render` does after the capture stage."""
    from capture.archive import Capture

    capture = Capture.load(arguments.capture)
    loaded_mb = psutil.Process().memory_info().rss / 2**20
    import render.assets
    import render.stage
    from pipeline.layout import Layout
    from pipeline.ownership import BUILD, Marker, new_id, read_marker, write_marker

    build_dir = Path(arguments.build_dir)
    layout = Layout(build_dir, build_dir / "site")  # the render stage never writes the site
    if read_marker(build_dir) is None:  # bench/runs.py's fresh folder under bench/out, holding only the capture
        write_marker(build_dir, Marker(BUILD, new_id()))
    ffmpeg_before, timings = children_cpu_seconds(), {}
    started = time.perf_counter()
    manifest = render.stage.run(capture, layout, render.stage.RenderSettings(), progress=False, timings=timings)
    finished = time.perf_counter()
    formats = sorted({kind for layer in manifest.get("layers", []) for kind in layer.get("files", {})})
    return {
        "entry": "render.stage.run", "layer_workers": getattr(render.assets, "LAYER_WORKERS", 1),
        "frames": int(len(capture.steps)), "layers": len(capture.activations), "formats": formats,
        "tensorflow_imported": "tensorflow" in sys.modules, "render_seconds": finished - started,
        "parts": time_parts(timings), "layer_timings": timings,
        "ffmpeg_cpu_seconds": children_cpu_seconds() - ffmpeg_before, "after_load_rss_mb": loaded_mb,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> None:
    """Parse the flags, render, print the numbers as one JSON line (bench/runs.py starts it in a fresh process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", required=True, help="the capture archive to render")
    parser.add_argument("--build-dir", required=True, help="where the assets go")
    arguments = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project's packages
    print(json.dumps(run_render(arguments)), flush=True)


if __name__ == "__main__":
    main()
