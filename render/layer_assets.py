"""One layer's files: MP4 (+ WebM), poster PNG and GIF preview, drawn on the layer's scale; its manifest entry.

The video's frames are composed at `video_block` pixels per activation (VIDEO_BLOCK, more for maps
so small that cells would be under MIN_VIDEO_CELL pixels) and streamed to the encoders (ffmpeg runs
beside the composition, one frame at a time); the poster is the last frame at full size (cells of
about BASE_CELL); the GIF preview composes its own selection afterwards and holds it while imageio
writes it. RGB probes are pasted over the probe row of the MP4 and the poster in colour
(render/probes.py); the GIF keeps them grey. `LayerPlan` is what render_capture chose for the layer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.files import write_bytes_atomically
from render.encode import RenderSettings, VideoWriter, fit_gif, write_png
from render.frames import BASE_CELL, GUTTER, PAPER_LEVEL, block_for, layer_frames, layer_layout
from render.legend import legend_caption
from render.palette import PALETTE, grey_index
from render.probes import probe_row_rgb

CODECS = {"mp4": "h264", "webm": "vp9"}
VIDEO_BLOCK = 2  # MP4 pixels per activation: yuv420p's 2x2 chroma then holds one activation's colour exactly
MIN_VIDEO_CELL = 14  # a 7x7 map at 2 px; a Dense layer's 1x1 map gets 14 px blocks, not 2
PURPOSES = {  # what each asset is for (manifest "purpose")
    "mp4": "download: every step (every k-th of a long run, as the explorer) at 2 pixels per activation (more for "
           "maps under 7 px), for sharing; players scale it; not played on the page",
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
log = logging.getLogger("render")


def video_block(map_h: int, map_w: int) -> int:
    """Return the MP4's pixels per activation: VIDEO_BLOCK, or the even block that makes cells MIN_VIDEO_CELL."""
    wanted = -(-MIN_VIDEO_CELL // max(map_h, map_w))
    return max(VIDEO_BLOCK, wanted + wanted % 2)


def files_entry(path: Path, **extra) -> dict:
    """Return a manifest file entry: the file's name and size, and `extra`."""
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


@dataclass(frozen=True)
class LayerPlan:
    """What render_capture chose for one layer: its file stem, activation, colour scale, channels, poster cell."""

    name: str
    stem: str  # the file-name stem (pipeline.names.file_stems: "block1/conv" -> "block1-conv")
    activation: str | None
    scale: dict  # pipeline.scales.choose_scale
    ranking: Sequence[int]  # every channel, most active first
    shown: Sequence[int]  # the channels drawn, in order
    cell: int = BASE_CELL  # the poster's cell size to aim at (render_capture gives every layer the same)


def _write_videos(frames, count: int, paths: dict[str, Path], layout, overlay, settings: RenderSettings,
                  progress: bool) -> tuple[dict, float]:
    """Encode `frames` into each of `paths` ({"mp4": path, "webm": path}); return the writers, composing seconds."""
    from tqdm import tqdm

    size = (layout.width, layout.height)
    writers = {kind: VideoWriter(path, size, CODECS[kind], fps=settings.fps, overlay=overlay,
                                 **({"crf": settings.crf, "preset": settings.preset} if kind == "mp4" else {}))
               for kind, path in paths.items()}
    composing = [0.0]
    try:
        for frame in tqdm(_timed(frames, composing), total=count, desc=paths["mp4"].stem, unit="frame",
                          disable=not progress):
            for writer in writers.values():
                writer.write(frame)
    except BaseException:
        for writer in writers.values():
            writer.close(keep=False)
        raise
    for writer in writers.values():
        writer.close()
    return writers, composing[0]


def _write_gif(frames, values_shape, plan: LayerPlan, path: Path, settings: RenderSettings,
               first_stride: int) -> dict:
    """Write the layer's GIF preview within the budget (render/encode.py); return its manifest entry."""
    map_h, map_w = values_shape[2:4]
    data, record = fit_gif(lambda cell, indices: frames(block_for(map_h, map_w, cell), indices),
                           count=values_shape[0], base_cell=plan.cell, fps=settings.fps,
                           budget=settings.gif_budget_bytes, min_frames=settings.gif_min_frames,
                           first_stride=first_stride)
    write_bytes_atomically(path, data)
    reached = layer_layout(values_shape, cell=record["cell_px"], shown=plan.shown)  # whole pixels per activation
    record.update(cell_px=reached.cell, block_px=reached.cell // map_h, width=reached.width, height=reached.height,
                  probe_color="grey")
    return {"path": path.name, **record, "purpose": PURPOSES["gif"]}


def render_layer(capture, plan: LayerPlan, out_dir: Path, settings: RenderSettings, *,
                 video_indices: Sequence[int] | None = None, progress: bool = True) -> dict:
    """Write one layer's MP4 (+ WebM), poster PNG and GIF preview into out_dir; return its manifest entry.

    video_indices: the snapshots the videos show (default every one; render_capture passes the explorer's,
    every k-th of a long run, first and last included).
    """
    name, stem, scale, shown = plan.name, plan.stem, plan.scale, [int(channel) for channel in plan.shown]
    values = capture.activations[name]  # (T, N, H, W, C)
    count, probes, map_h, map_w, channels = values.shape
    steps = [int(step) for step in capture.steps]
    paper = PALETTE[grey_index(PAPER_LEVEL)]
    layout = layer_layout(values.shape, cell=plan.cell, shown=shown)
    block = layout.cell // map_h
    movie_block = video_block(map_h, map_w)
    video = layer_layout(values.shape, block=movie_block, shown=shown)

    def frames(block: int, indices: Sequence[int] | None = None):
        return layer_frames(values, capture.probe_images, name=name, steps=steps, scale=scale, block=block,
                            shown=shown, indices=indices)

    files: dict[str, dict] = {}
    timings = {}
    started = time.perf_counter()
    picks = list(range(count)) if video_indices is None else [int(index) for index in video_indices]
    video_stride = picks[1] - picks[0] if len(picks) > 1 else 1
    paths = {kind: out_dir / f"{stem}.{kind}" for kind in (("mp4", "webm") if settings.webm else ("mp4",))}
    writers, composing = _write_videos(frames(movie_block, picks), len(picks), paths, video,
                                       probe_row_rgb(video, capture.probe_images, paper), settings, progress)
    for kind, writer in writers.items():
        files[kind] = files_entry(writer.path, frames=writer.frames, stride=video_stride, width=video.width,
                                  height=video.height,
                                  cell_px=video.cell, cell_size_px=[video.cell, video.cell_w], block_px=movie_block,
                                  pix_fmt="yuv420p", purpose=PURPOSES[kind], **writer.settings)
    video_seconds = time.perf_counter() - started
    started = time.perf_counter()
    poster = out_dir / f"{stem}.png"
    write_png(next(frames(block, [count - 1])), poster, overlay=probe_row_rgb(layout, capture.probe_images, paper))
    files["poster"] = files_entry(poster, width=layout.width, height=layout.height, step=steps[-1],
                                  purpose=PURPOSES["poster"])
    timings.update(frames_s=composing, encode_s=video_seconds - composing, poster_s=time.perf_counter() - started)
    timings["gif_s"] = 0.0
    if settings.gif_budget_bytes is not None:  # previews only when asked for: the page draws from the data
        started = time.perf_counter()
        files["gif"] = _write_gif(frames, values.shape, plan, out_dir / f"{stem}.gif", settings, video_stride)
        timings["gif_s"] = time.perf_counter() - started
    log.info("%s: frames %.2f s, encode %.2f s, gif %.2f s", name, timings["frames_s"], timings["encode_s"],
             timings["gif_s"])
    low, high = (float(end) for end in scale["domain"])
    return {
        "name": name, "file_stem": stem, "channels": channels, "map_size": [map_h, map_w], "frames": count,
        "activation": plan.activation, "scale": scale, "channel_ranking": [int(c) for c in plan.ranking],
        "shown_channels": shown, "width": layout.width, "height": layout.height, "cell_px": layout.cell,
        "cell_size_px": [layout.cell, layout.cell_w], "block_px": block, "gutter_px": GUTTER,
        "label_column_px": layout.label_column, "domain": [low, high],
        "domain_fixed_tanh": scale["kind"] == "fixed" and (plan.activation or "").lower() == "tanh",
        "domain_caption": legend_caption(scale, plan.activation), "nonfinite_values": int(scale["nonfinite_values"]),
        "out_of_domain_values": int(scale["clipped_values"]), "files": files, "_timings": timings,
    }
