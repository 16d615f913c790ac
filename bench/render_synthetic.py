"""Benchmark: time and memory of the render stage on a synthetic capture of the real shapes.

`python -m bench.render_synthetic [OUTDIR] [--webm] [--any]` prints the composition time of all frames (no
encoding), the whole stage's time per layer and encoding, the sizes written, and the peak memory
of this process (reset after building the capture) and of its ffmpeg children. `--any` uses a
user-model shape instead of the article's: RGB probes, ReLU conv layers of 32 and 64 channels at
32x32 and 16x16 (16 shown each) and a 128-unit linear Dense layer, each on its own data-chosen scale.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil


def _rss_kib(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss // 1024
    except psutil.Error:  # a child that has exited meanwhile
        return 0


def _peak_rss_kib() -> int:
    """Return this process's peak RSS since the last reset (VmHWM: psutil has no peak, and clear_refs resets it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _watch_memory(stop: threading.Event, peaks: dict) -> None:
    me = psutil.Process()
    while not stop.wait(0.05):
        children = sum(_rss_kib(child) for child in me.children())
        total = _rss_kib(me) + children
        peaks["children_kib"] = max(peaks.get("children_kib", 0), children)
        peaks["total_kib"] = max(peaks.get("total_kib", 0), total)


def main(argv: list[str]) -> int:
    """Run the benchmark and print its numbers."""
    from render.assets import render_capture
    from render.encode import to_yuv420p
    from render.frames import layer_frames
    from render.inputs import layer_activation
    from render.scales import choose_scale, shown_channels
    from render.synthetic import synthetic_capture

    webm = "--webm" in argv
    positional = [arg for arg in argv if not arg.startswith("--")]
    out_dir = Path(positional[0]) if positional else Path(tempfile.mkdtemp(prefix="render-bench-"))
    if "--any" in argv:
        capture = synthetic_capture(layers=("conv_a", "conv_b", "dense"), widths=(32, 64, 128),
                                    sizes=(32, 16, 1), activations=("relu", "relu", "linear"), rgb=True,
                                    origin="builder")
    else:
        capture = synthetic_capture()
    print(f"cores: {os.cpu_count()}, shapes: " + ", ".join(f"{k} {v.shape}" for k, v in capture.activations.items()))
    started = time.perf_counter()
    for name, values in capture.activations.items():
        scale = choose_scale(values, layer_activation(capture, name))
        for frame in layer_frames(values, capture.probe_images, name=name, steps=capture.steps, scale=scale,
                                  shown=shown_channels(values)):
            to_yuv420p(frame)
    print(f"all frames of all layers, composed + converted to yuv420p: {time.perf_counter() - started:.2f} s")
    if Path("/proc/self/clear_refs").exists():  # reset the peak (VmHWM) to now: psutil cannot
        Path("/proc/self/clear_refs").write_text("5")
    before = _rss_kib(psutil.Process())
    peaks: dict = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_memory, args=(stop, peaks), daemon=True)
    watcher.start()
    timings: dict = {}
    started = time.perf_counter()
    manifest = render_capture(capture, out_dir, webm=webm, progress=False, timings=timings)
    total = time.perf_counter() - started
    stop.set()
    watcher.join()
    print(f"render_capture total: {total:.2f} s (webm={webm}) into {out_dir}")
    print(json.dumps({k: ({n: round(s, 2) for n, s in v.items()} if isinstance(v, dict) else round(v, 2))
                      for k, v in timings.items()}))
    for layer in manifest["layers"]:
        files, gif = layer["files"], layer["files"]["gif"]
        print(f"{layer['name']}: {layer['scale']['kind']} {layer['domain']}, channels {layer['shown_channels']}")
        sizes = ", ".join(f"{kind} {entry['bytes'] / 1e6:.2f} MB" for kind, entry in files.items())
        print(f"{layer['name']} {layer['width']}x{layer['height']}: {sizes}; gif stride {gif['stride']} "
              f"scale {gif['scale']} frames {gif['frames']} ({len(gif['attempts'])} attempts)")
    print(f"memory: this process {before / 1024:.0f} MiB before rendering (synthetic capture built), "
          f"peak {_peak_rss_kib() / 1024:.0f} MiB; "
          f"ffmpeg children {peaks.get('children_kib', 0) / 1024:.0f} MiB, "
          f"sampled total {peaks.get('total_kib', 0) / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
