"""One layer's files: MP4 (+ WebM), poster PNG and GIF preview, drawn on the layer's scale; its manifest entry.

The video's frames are composed at `video_block` pixels per activation (VIDEO_BLOCK, more for maps
so small that cells would be under MIN_VIDEO_CELL pixels) and streamed to the encoders (ffmpeg runs
beside the composition); the poster is the last frame at full size (cells of about BASE_CELL); the
GIF preview composes its own selection afterwards. Nothing holds all frames of a layer. RGB probes
are pasted over the probe row of the MP4 and the poster in colour (render/probes.py); the GIF keeps
them grey.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.files import write_bytes_atomically
from render.encode import VideoWriter, write_png
from render.frames import BASE_CELL, GUTTER, PAPER_LEVEL, block_for, layer_frames, layer_layout
from render.legend import legend_caption
from render.palette import PALETTE, grey_index
from render.preview import fit_gif
from render.probes import probe_row_rgb

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


def _write_videos(frames, count: int, out_dir: Path, name: str, layout, overlay, *, fps, webm, crf, preset,
                  progress, stem: str) -> tuple[dict, float]:
    from tqdm import tqdm

    writers = {"mp4": VideoWriter(out_dir / f"{stem}.mp4", layout.width, layout.height, fps=fps, codec="h264",
                                  crf=crf, preset=preset, overlay=overlay)}
    if webm:
        writers["webm"] = VideoWriter(out_dir / f"{stem}.webm", layout.width, layout.height, fps=fps, codec="vp9",
                                      overlay=overlay)
    composing = [0.0]
    try:
        for frame in tqdm(_timed(frames, composing), total=count, desc=f"{name}", unit="frame", disable=not progress):
            for writer in writers.values():
                writer.write(frame)
    except BaseException:
        for writer in writers.values():
            writer.close(keep=False)
        raise
    for writer in writers.values():
        writer.close()
    return writers, composing[0]


def render_layer(capture, name: str, out_dir: Path, *, scale: dict, activation: str | None, shown: Sequence[int],
                 ranking: Sequence[int], cell: int = BASE_CELL, fps: float, gif_budget_bytes: int | None,
                 gif_min_frames: int, webm: bool,
                 crf: int, preset: str, progress: bool, stem: str | None = None,
                 video_indices: Sequence[int] | None = None) -> dict:
    """Write one layer's MP4 (+ WebM), poster PNG and GIF preview into out_dir; return its manifest entry.

    stem: the layer's file-name stem (pipeline.names.file_stems: "block1/conv" -> "block1-conv"); default the name.

    cell: the poster's cell size to aim at (whole pixels per activation; render_capture gives every layer the same).
    video_indices: the snapshots the videos show (default every one; render_capture passes the explorer's,
    every k-th of a long run, first and last included).
    """
    values = capture.activations[name]  # (T, N, H, W, C)
    count, probes, map_h, map_w, channels = values.shape
    steps = [int(step) for step in capture.steps]
    shown = [int(channel) for channel in shown]
    paper = PALETTE[grey_index(PAPER_LEVEL)]
    layout = layer_layout(values.shape, cell=cell, shown=shown)
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
    writers, composing = _write_videos(frames(movie_block, picks), len(picks), out_dir, name, video,
                                       probe_row_rgb(video, capture.probe_images, paper), fps=fps, webm=webm,
                                       crf=crf, preset=preset, progress=progress, stem=stem or name)
    for kind, writer in writers.items():
        files[kind] = files_entry(writer.path, frames=writer.frames, stride=video_stride, width=video.width,
                                  height=video.height,
                                  cell_px=video.cell, cell_size_px=[video.cell, video.cell_w], block_px=movie_block,
                                  pix_fmt="yuv420p", purpose=PURPOSES[kind], **writer.settings)
    video_seconds = time.perf_counter() - started
    started = time.perf_counter()
    poster = out_dir / f"{stem or name}.png"
    write_png(next(frames(block, [count - 1])), poster, overlay=probe_row_rgb(layout, capture.probe_images, paper))
    files["poster"] = files_entry(poster, width=layout.width, height=layout.height, step=steps[-1],
                                  purpose=PURPOSES["poster"])
    timings.update(frames_s=composing, encode_s=video_seconds - composing, poster_s=time.perf_counter() - started)

    timings["gif_s"] = 0.0
    if gif_budget_bytes is not None:  # previews only when asked for: the page draws from the data
        started = time.perf_counter()

        def small(cell: int):
            return layer_layout(values.shape, cell=cell, shown=shown)

        data, record = fit_gif(lambda cell, indices: frames(block_for(map_h, map_w, cell), indices),
                               lambda cell: (small(cell).width, small(cell).height), count=count,
                               base_cell=cell, fps=fps, budget=gif_budget_bytes, min_frames=gif_min_frames)
        gif = out_dir / f"{stem or name}.gif"
        write_bytes_atomically(gif, data)
        reached = small(record["cell_px"])  # the cell size asked for, rounded to whole pixels per activation
        record.update(cell_px=reached.cell, block_px=reached.cell // map_h, probe_color="grey")
        files["gif"] = {"path": gif.name, **record, "purpose": PURPOSES["gif"]}
        timings["gif_s"] = time.perf_counter() - started
    log.info("%s: frames %.2f s, encode %.2f s, gif %.2f s", name, timings["frames_s"], timings["encode_s"],
             timings["gif_s"])
    low, high = (float(end) for end in scale["domain"])
    return {
        "name": name, "file_stem": stem or name, "channels": channels, "map_size": [map_h, map_w], "frames": count,
        "activation": activation, "scale": scale, "channel_ranking": [int(c) for c in ranking],
        "shown_channels": shown, "width": layout.width, "height": layout.height, "cell_px": layout.cell,
        "cell_size_px": [layout.cell, layout.cell_w], "block_px": block, "gutter_px": GUTTER,
        "label_column_px": layout.label_column, "domain": [low, high],
        "domain_fixed_tanh": scale["kind"] == "fixed" and (activation or "").lower() == "tanh",
        "domain_caption": legend_caption(scale, activation), "nonfinite_values": int(scale["nonfinite_values"]),
        "out_of_domain_values": int(scale["clipped_values"]), "files": files, "_timings": timings,
    }
