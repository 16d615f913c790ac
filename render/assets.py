"""Render a Capture into a folder: per-layer MP4 (+ WebM), poster PNG, GIF preview, legend, curves, the
explorer's data (render/page_data.py) and the manifest, which says what each file is for ("purpose").

`render_capture(capture, out_dir)` does the work whatever is in out_dir; render/stage.py is the
stage that decides whether it is needed. The article stage reads `manifest.json` (schema in
`render/README.md`). Each layer's video frames are composed at VIDEO_BLOCK pixels per activation
and streamed to the encoders (ffmpeg runs beside the composition); the poster is the last frame at
full size (BASE_CELL cells); the GIF preview composes its own selection afterwards. Nothing holds all
frames of a layer.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from model.capture import Capture, snapshot_shape_problem
from pipeline.files import file_sha256, write_bytes_atomically
from render.curves import write_curves
from render.encode import H264_CRF, H264_PRESET, VideoWriter, write_png
from render.frames import BASE_CELL, GUTTER, Layout, layer_frames
from render.legend import colorbar_frame, legend_caption
from render.page_data import write_page_data
from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_RGB, PALETTE, symmetric_domain
from render.preview import fit_gif

MANIFEST_VERSION = 2
VIDEO_BLOCK = 2  # MP4 pixels per activation: yuv420p's 2x2 chroma then holds one activation's colour exactly
PURPOSES = {  # what each asset is for (manifest "purpose")
    "mp4": "download: every step at 2 pixels per activation, for sharing; players scale it; not played on the page",
    "webm": "download: the same frames as VP9",
    "poster": "the last step at full size: the page's picture without JavaScript, a download; the first "
              "layer's is the page's og:image",
    "gif": "preview for places without the page (README, chats); not copied into the site",
    "colorbar": "the colour legend in the reading guide",
    "svg": "the page's loss and accuracy figure",
    "png": "download: the loss and accuracy figure at 2x",
    "meta": "the explorer's tables (steps, palette, levels -> colours, contrast extents), inlined into the page",
    "chunk": "the explorer's activations for one layer and probe, a script the page loads when a view needs it",
}
LAYER_WORKERS = 2  # layers rendered at once (see render_capture)
TANH_DOMAIN = (-1.0, 1.0)
log = logging.getLogger("render")


_FIX = ("rebuild the capture (delete build/capture.npz and run `make site`) or pass layers=[...] to render fewer")


def expected_layers(capture) -> list[str]:
    """Return the layers the capture's config says were recorded (its own list when the config lacks one)."""
    try:
        names = capture.config.get("layer_names")
    except (TypeError, ValueError, AttributeError):
        names = None
    return [str(name) for name in names] if names else list(capture.activations)


def check_capture(capture, layers: Sequence[str]) -> None:
    """Raise ValueError, saying what to do, when the capture cannot be rendered for these layers."""
    for attribute in ("steps", "probe_images", "activations", "train_loss", "train_accuracy", "test_steps",
                      "test_loss", "test_accuracy"):
        if not hasattr(capture, attribute):
            raise ValueError(f"the capture has no `{attribute}`: pass a model.capture.Capture (Capture.load(path))")
    steps = np.asarray(capture.steps)
    probes = np.asarray(capture.probe_images)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"capture steps must be a non-empty (T,) array, got shape {steps.shape}; {_FIX}")
    if probes.ndim != 3 or probes.dtype != np.uint8:
        raise ValueError(f"probe_images must be (N, 28, 28) uint8, got {probes.shape} {probes.dtype}; {_FIX}")
    missing = [name for name in layers if name not in capture.activations]
    if missing:
        present = ", ".join(capture.activations) or "none"
        raise ValueError(f"the capture lacks layer(s) {', '.join(missing)} (it has {present}); "
                         f"{_FIX}")
    widths = _config_widths(capture)
    for name in layers:
        shape = np.shape(capture.activations[name])
        problem = snapshot_shape_problem(name, shape, steps.size, len(probes))
        if problem:
            raise ValueError(f"{problem}; {_FIX}")
        if name in widths and shape[4] != widths[name]:
            raise ValueError(f"layer {name} has {shape[4]} channels but the capture's config says {widths[name]}; "
                             f"{_FIX}")


def _config_widths(capture) -> dict[str, int]:
    try:
        config = capture.config
        return dict(zip(config["layer_names"], config["conv_widths"]))
    except (TypeError, ValueError, KeyError, AttributeError):
        return {}


def _files_entry(path: Path, **extra) -> dict:
    return {"path": path.name, "bytes": path.stat().st_size, **extra}


def _timed(frames, seconds: list[float]):
    """Yield from `frames`, adding the time spent producing them to seconds[0]."""
    iterator = iter(frames)
    while True:
        started = time.perf_counter()
        try:
            frame = next(iterator)
        except StopIteration:
            return
        finally:
            seconds[0] += time.perf_counter() - started
        yield frame


def file_entries(manifest: dict) -> list[dict]:
    """Return every file entry of a manifest (each layer's files, the curves, the explorer's data), with "path"."""
    entries = [entry for layer in manifest["layers"] for entry in layer["files"].values()]
    entries += [manifest["curves"][kind] for kind in ("svg", "png")]
    return entries + [manifest["explore"]["meta"]] + manifest["explore"]["chunks"]


def _layer_domain(values: np.ndarray, bounded: bool) -> tuple[tuple[float, float], dict]:
    finite = np.isfinite(values)
    stats = {"nonfinite_values": int(values.size - np.count_nonzero(finite))}
    if bounded:
        with np.errstate(invalid="ignore"):
            stats["out_of_domain_values"] = int(np.count_nonzero(np.abs(values[finite].astype(np.float32)) > 1.0))
        return TANH_DOMAIN, stats
    low, high = symmetric_domain(values)
    return (round(low, 6), round(high, 6)), stats


def render_layer(capture, name: str, out_dir: Path, *, bounded: bool, fps: float, gif_budget_bytes: int | None,
                 gif_min_frames: int, webm: bool, crf: int, preset: str, progress: bool) -> dict:
    """Write one layer's MP4 (+ WebM), poster PNG and GIF preview into out_dir; return its manifest entry."""
    from tqdm import tqdm

    values = capture.activations[name]  # (T, N, H, W, C)
    count, probes, map_h, map_w, channels = values.shape
    steps = [int(step) for step in capture.steps]
    domain, stats = _layer_domain(values, bounded)
    layout = Layout(probes=probes, channels=channels, cell=BASE_CELL)
    video_cell = VIDEO_BLOCK * max(map_h, map_w)
    video = Layout(probes=probes, channels=channels, cell=video_cell)

    def frames(cell: int = BASE_CELL, indices: Sequence[int] | None = None):
        return layer_frames(values, capture.probe_images, name=name, steps=steps, domain=domain, bounded=bounded,
                            cell=cell, indices=indices)

    files: dict[str, dict] = {}
    timings = {}
    started = time.perf_counter()
    writers = {"mp4": VideoWriter(out_dir / f"{name}.mp4", video.width, video.height, fps=fps, codec="h264",
                                  crf=crf, preset=preset)}
    if webm:
        writers["webm"] = VideoWriter(out_dir / f"{name}.webm", video.width, video.height, fps=fps, codec="vp9")
    composing = [0.0]
    try:
        for frame in tqdm(_timed(frames(video_cell), composing), total=count, desc=f"{name}", unit="frame",
                          disable=not progress):
            for writer in writers.values():
                writer.write(frame)
    except BaseException:
        for writer in writers.values():
            writer.close(keep=False)
        raise
    for writer in writers.values():
        writer.close()
    for kind, writer in writers.items():
        files[kind] = _files_entry(writer.path, frames=writer.frames, width=video.width, height=video.height,
                                   cell_px=video_cell, block_px=VIDEO_BLOCK, pix_fmt="yuv420p",
                                   purpose=PURPOSES[kind], **writer.settings)
    video_seconds = time.perf_counter() - started
    started = time.perf_counter()
    poster = out_dir / f"{name}.png"
    write_png(next(frames(BASE_CELL, [count - 1])), poster)
    files["poster"] = _files_entry(poster, width=layout.width, height=layout.height, step=steps[-1],
                                   purpose=PURPOSES["poster"])
    timings.update(frames_s=composing[0], encode_s=video_seconds - composing[0],
                   poster_s=time.perf_counter() - started)

    timings["gif_s"] = 0.0
    if gif_budget_bytes is not None:  # previews only when asked for: the page draws from the data
        started = time.perf_counter()

        def size_at(cell: int) -> tuple[int, int]:
            small = Layout(probes=probes, channels=channels, cell=cell)
            return small.width, small.height

        data, record = fit_gif(lambda cell, indices: frames(cell, indices), size_at, count=count,
                               base_cell=BASE_CELL, fps=fps, budget=gif_budget_bytes, min_frames=gif_min_frames)
        gif = out_dir / f"{name}.gif"
        write_bytes_atomically(gif, data)
        files["gif"] = {"path": gif.name, **record, "purpose": PURPOSES["gif"]}
        timings["gif_s"] = time.perf_counter() - started
    log.info("%s: frames %.2f s, encode %.2f s, gif %.2f s", name, timings["frames_s"], timings["encode_s"],
             timings["gif_s"])
    block = BASE_CELL // map_h if BASE_CELL % map_h == 0 and map_h == map_w else None
    return {
        "name": name, "channels": channels, "map_size": [map_h, map_w], "frames": count,
        "width": layout.width, "height": layout.height, "cell_px": BASE_CELL, "block_px": block,
        "gutter_px": GUTTER, "domain": [float(domain[0]), float(domain[1])], "domain_fixed_tanh": bounded,
        "domain_caption": legend_caption(domain, bounded), **stats, "files": files,
        "_timings": timings,
    }


def render_capture(capture: Capture, out_dir: str | os.PathLike, *, fps: float = 10, gif_budget_bytes: int = 5_000_000,
                   gif_min_frames: int = 40, layers: Sequence[str] | None = None,
                   bounded_layers: Collection[str] | None = None, webm: bool = False, crf: int = H264_CRF,
                   preset: str = H264_PRESET, progress: bool = True, timings: dict | None = None) -> dict:
    """Render every layer's animations, previews and legend, and the curves, into out_dir; return the manifest.

    bounded_layers: layers whose activation is tanh (domain fixed to [-1, 1]); None = all of them.
    Other layers get the symmetric domain +- their largest |value| over the run. `timings`, when
    given, is filled with seconds per layer and stage (kept out of the manifest, which is deterministic).
    """
    if fps <= 0 or (gif_budget_bytes is not None and gif_budget_bytes <= 0) or gif_min_frames < 2:
        raise ValueError(f"need fps > 0, gif_budget_bytes > 0 and gif_min_frames >= 2; got fps={fps}, "
                         f"gif_budget_bytes={gif_budget_bytes}, gif_min_frames={gif_min_frames}")
    layers = list(dict.fromkeys(layers if layers is not None else expected_layers(capture)))
    if not layers:
        raise ValueError("no layers to render: pass layer names, or a capture whose config lists its layers")
    check_capture(capture, layers)
    bounded_layers = set(layers) if bounded_layers is None else set(bounded_layers)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)  # no manifest while the files change: a failed run has none
    entries = []
    timings = {} if timings is None else timings

    def render_one(name: str) -> dict:
        return render_layer(capture, name, out_dir, bounded=name in bounded_layers, fps=fps,
                            gif_budget_bytes=gif_budget_bytes, gif_min_frames=gif_min_frames, webm=webm, crf=crf,
                            preset=preset, progress=progress)

    # Two layers at a time: while one layer's frames are composed in Python, the other's ffmpeg
    # encodes, so both cores stay busy. Results keep the model's layer order.
    with ThreadPoolExecutor(max_workers=LAYER_WORKERS) as pool:
        rendered = list(pool.map(render_one, layers))
    for name, entry in zip(layers, rendered):
        timings[name] = entry.pop("_timings")
        colorbar = out_dir / ("colorbar.png" if entry["domain_fixed_tanh"] else f"{name}_colorbar.png")
        if colorbar.name not in {done["files"]["colorbar"]["path"] for done in entries}:
            write_png(colorbar_frame(tuple(entry["domain"]), entry["domain_fixed_tanh"]), colorbar)
        entry["files"]["colorbar"] = _files_entry(colorbar, purpose=PURPOSES["colorbar"])
        entries.append(entry)
    started = time.perf_counter()
    curves = write_curves(capture, out_dir)
    for kind in ("svg", "png"):
        curves[kind]["purpose"] = PURPOSES[kind]
    timings["curves_s"] = time.perf_counter() - started
    started = time.perf_counter()
    explore = write_page_data(capture, out_dir, {entry["name"]: tuple(entry["domain"]) for entry in entries})
    explore["meta"]["purpose"] = PURPOSES["meta"]
    explore["chunk_purpose"] = PURPOSES["chunk"]
    timings["explore_s"] = time.perf_counter() - started
    steps = np.asarray(capture.steps)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "fps": fps,
        "gif_budget_bytes": gif_budget_bytes,
        "gif_min_frames": gif_min_frames,
        "steps": {"count": int(steps.size), "first": int(steps[0]), "last": int(steps[-1])},
        "probes": int(len(capture.probe_images)),
        "probe_labels": [int(label) for label in np.asarray(capture.probe_labels)],
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
