"""Palette-index frames -> MP4 (H.264) or WebM (VP9), GIF and PNG files (videos and GIFs by imageio); RenderSettings.

Videos (`VideoWriter`, one frame at a time): the palette is converted to BT.709 limited-range YUV
once; each frame becomes yuv420p by table look-ups (chroma sampled at the top-left of each 2x2, exact
because cells start on even pixels; an RGB overlay, the probe row of RGB probes, takes the mean of
each 2x2) and goes to imageio's FFMPEG writer (imageio-ffmpeg's ffmpeg), so ffmpeg only encodes. The
writer takes 8-bit images of 1, 3 or 4 channels, so a frame goes in as the one-channel (1.5 H, W)
image of its Y, Cb and Cr planes (the layout PyAV uses for yuv420p) and `input_params` tell ffmpeg
its real format and size (given after imageio's own, they win). `setparams` tags the stream BT.709
(ffmpeg 9 drops `-colorspace`-style output options for rawvideo input); `-fflags +bitexact
-flags:v +bitexact`, no metadata and a fixed thread count make the bytes reproducible.

GIF (`gif_bytes`, all frames at once): imageio's Pillow plugin. The frames go in as 8-bit images with the
palette (mode "L" + `palette`: Pillow keeps each index as it is), so the colours are exact; Pillow
stores each later frame's changed rectangle with its unchanged pixels transparent (`optimize`,
TRANSPARENT_INDEX) and shows identical frames as one longer frame.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.images import write_png as write_image
from render.page_data import strided_indices
from render.palette import PALETTE, TRANSPARENT_INDEX

H264_CRF = 20
H264_PRESET = "veryfast"
VP9_CRF = 34
VP9_SPEED = 8
ENCODER_THREADS = 2
_TAGS = ["-vf", "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
         "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1"]


@dataclass(frozen=True)
class RenderSettings:
    """Frame rate, encoder settings and GIF previews of a render (the render stage's key holds all of them)."""

    gif_budget_bytes: int | None = None  # largest GIF preview per layer; None: no previews (the page needs none)
    fps: float = 10  # video frames (snapshots) per second
    gif_min_frames: int = 40  # a preview drops to a smaller scale before it keeps fewer frames than this
    webm: bool = False  # also a VP9 WebM per layer
    crf: int = H264_CRF  # the MP4's H.264 quality (lower: better, larger)
    preset: str = H264_PRESET  # the MP4's x264 speed preset

    def __post_init__(self) -> None:
        """Refuse settings that cannot render."""
        if (self.gif_budget_bytes is not None and not self.gif_budget_bytes > 0) or not self.fps > 0 \
                or self.gif_min_frames < 2:
            raise ValueError(f"render settings need fps > 0, gif_budget_bytes > 0 (or None) and gif_min_frames >= 2; "
                             f"got {self}")


DEFAULT_SETTINGS = RenderSettings()  # what `make site` renders: 10 fps, no GIF previews, no WebM

_CODECS = {  # codec: (ffmpeg encoder, default crf, default preset, its options)
    "h264": ("libx264", H264_CRF, H264_PRESET, lambda crf, preset: [
        "-preset", preset, "-crf", str(crf), "-tune", "animation", "-threads", str(ENCODER_THREADS),
        "-movflags", "+faststart"]),
    "vp9": ("libvpx-vp9", VP9_CRF, VP9_SPEED, lambda crf, preset: [
        "-crf", str(crf), "-b:v", "0", "-deadline", "realtime", "-cpu-used", str(preset), "-row-mt", "1",
        "-threads", str(ENCODER_THREADS)]),
}


def _ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return BT.709 limited-range (Y, Cb, Cr) float planes of (..., 3) uint8 RGB."""
    rgb = rgb.astype(np.float64) / 255  # (..., 3)
    y = rgb @ np.array([0.2126, 0.7152, 0.0722])
    cb = (rgb[..., 2] - y) / 1.8556
    cr = (rgb[..., 0] - y) / 1.5748
    return 16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr


def _to_uint8(plane: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


_Y, _CB, _CR = (_to_uint8(table) for table in _ycbcr(PALETTE))  # (256,) look-up tables of the palette


def overlay_planes(overlay: tuple[int, int, np.ndarray]) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """Return (y, x, Y, Cb, Cr) of an RGB overlay at an even (y, x): chroma is the mean of each 2x2 square."""
    y0, x0, rgb = overlay
    h, w = rgb.shape[:2]
    if y0 % 2 or x0 % 2 or h % 2 or w % 2:
        raise ValueError(f"an RGB overlay must start on even pixels with even sides, got {(y0, x0, h, w)}")
    luma, cb, cr = _ycbcr(rgb)
    cb, cr = (plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)) for plane in (cb, cr))  # (h/2, w/2)
    return y0, x0, _to_uint8(luma), _to_uint8(cb), _to_uint8(cr)


def to_yuv420p(frame: np.ndarray, overlay: tuple | None = None) -> np.ndarray:
    """Return the (1.5 H, W) yuv420p planes (Y, then Cb, then Cr) of an even-sized palette-index frame.

    overlay: `overlay_planes(...)` of RGB pixels pasted over the frame (an RGB probe row).
    """
    height, width = frame.shape
    if height % 2 or width % 2:
        raise ValueError(f"yuv420p needs even frame sizes, got {width}x{height}; pad the frame")
    out = np.empty((height * 3 // 2, width), np.uint8)  # the planes one after the other, as ffmpeg reads them
    luma, chroma = out[:height], out[height:].reshape(2, height // 2, width // 2)  # views
    cb, cr = chroma
    np.take(_Y, frame, out=luma)
    corners = frame[::2, ::2]  # (H/2, W/2)
    np.take(_CB, corners, out=cb)
    np.take(_CR, corners, out=cr)
    if overlay is not None:
        y0, x0, y_part, cb_part, cr_part = overlay
        h, w = y_part.shape
        luma[y0:y0 + h, x0:x0 + w] = y_part
        cb[y0 // 2:y0 // 2 + h // 2, x0 // 2:x0 // 2 + w // 2] = cb_part
        cr[y0 // 2:y0 // 2 + h // 2, x0 // 2:x0 // 2 + w // 2] = cr_part
    return out


class VideoWriter:
    """Stream palette-index frames into an MP4 (codec "h264") or WebM (codec "vp9") file."""

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], codec: str = "h264", *, fps: float = 10,
                 crf: int | None = None, preset: str | int | None = None,
                 overlay: tuple[int, int, np.ndarray] | None = None):
        """Open the writer for (width, height) frames; `overlay` (y, x, RGB pixels) is pasted over every frame."""
        import imageio.v2 as imageio

        if codec not in _CODECS:
            raise ValueError(f"unknown codec {codec!r}: use one of {', '.join(_CODECS)}")
        if size[0] % 2 or size[1] % 2:
            raise ValueError(f"videos need even sizes, got {size[0]}x{size[1]}; pad the frames")
        encoder, default_crf, default_preset, options = _CODECS[codec]
        crf = default_crf if crf is None else crf
        preset = default_preset if preset is None else preset
        self.path, self.size, self.frames = Path(path), size, 0
        self._overlay = None if overlay is None else overlay_planes(overlay)
        self._partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.settings = {"codec": codec, "encoder": encoder, "crf": crf, "preset": preset, "fps": fps}
        self._writer = imageio.get_writer(
            self._partial, format="FFMPEG", mode="I", fps=fps, codec=encoder, quality=None, pixelformat="yuv420p",
            macro_block_size=1, ffmpeg_log_level="error", output_params=options(crf, preset) + _TAGS,
            input_params=["-pix_fmt", "yuv420p", "-s", f"{size[0]}x{size[1]}"])  # the planes' real format

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W) uint8 palette-index frame."""
        if frame.shape != (self.size[1], self.size[0]):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, the video {self.size[0]}x{self.size[1]}")
        self._writer.append_data(to_yuv420p(frame, self._overlay))
        self.frames += 1

    def close(self, keep: bool = True) -> None:
        """Finish the encoding (waits for ffmpeg), then move the file into place, or delete it if not `keep`."""
        self._writer.close()
        if keep:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(keep=kind is None)


def gif_bytes(frames: np.ndarray, durations_ms: Sequence[int], palette: np.ndarray = PALETTE) -> bytes:
    """Return a looping GIF of (T, H, W) uint8 palette-index frames, each shown for its duration (10 ms units)."""
    import imageio.v3 as iio

    durations = [int(duration) for duration in durations_ms]  # one frame: Pillow's single-image writer takes an int
    return iio.imwrite("<bytes>", np.asarray(frames, np.uint8), extension=".gif", plugin="pillow", mode="L",
                       is_batch=True, palette=np.asarray(palette, np.uint8).tobytes(), optimize=True,
                       transparency=TRANSPARENT_INDEX, disposal=1, loop=0,
                       duration=durations if len(durations) > 1 else durations[0])


def write_png(frame: np.ndarray, path: str | os.PathLike, palette: np.ndarray = PALETTE,
              overlay: tuple[int, int, np.ndarray] | None = None) -> int:
    """Write a palette-index frame as a palette PNG (exact colours, no timestamp, atomically); return its bytes.

    With an `overlay` (y, x, RGB pixels) the PNG is RGB: the frame's colours with the overlay pasted in.
    """
    if overlay is None:
        return write_image(frame, path, palette=palette)
    y0, x0, rgb = overlay
    pixels = np.asarray(palette, np.uint8)[frame]  # (H, W, 3)
    pixels[y0:y0 + rgb.shape[0], x0:x0 + rgb.shape[1]] = rgb
    return write_image(pixels, path)


# --- The GIF preview that fits a byte budget (fit_gif) ---------------------------------------------
# The GIF preview of a layer that fits a byte budget: the most frames that fit, else a smaller scale.
#
# Frames are taken every `stride` snapshots, always with the first (step 0) and the last, at strides
# from `first_stride` (the videos') up to the one that leaves `min_frames` frames. imageio writes a GIF
# whole (render/encode.py), so every attempt is encoded in full, and the search keeps attempts near the
# budget: it starts with the fewest frames, then tries the stride that the sizes seen so far predict
# (size ~ frames ** exponent, fitted to them), until the smallest stride that fits is found next to
# one that does not (or is `first_stride`). When even the fewest frames do not fit, the cell size is
# halved (scale 1 -> 1/2 -> 1/4) and the search starts again; at the smallest scale the frame count
# may drop to 2. Every attempt is recorded.

SCALES = (1.0, 0.5, 0.25)
END_HOLD_MS = 1500  # the last frame stays a little, so the loop's restart is readable
MAX_FRAME_MS = 250  # a strided preview plays at >= 4 frames per second
FIT_MARGIN = 0.97  # a predicted stride aims this far below the budget
EXPONENT = 0.6  # size ~ frames ** EXPONENT until two attempts measure it (more frames: smaller changes each)


def _largest_stride(count: int, floor: int) -> int:
    stride = max(1, count - 1)
    while stride > 1 and len(strided_indices(count, stride)) < floor:
        stride -= 1
    return stride


def frame_ms(stride: int, fps: float) -> int:
    """Return a preview frame's duration: the video's timeline, capped at MAX_FRAME_MS, in 10 ms units."""
    return int(min(MAX_FRAME_MS, max(20, round(stride * 1000 / fps / 10) * 10)))


def encode_gif(frames: Iterator[np.ndarray], count: int, duration_ms: int) -> bytes:
    """Return the GIF of `count` palette-index frames, each shown `duration_ms`, the last END_HOLD_MS longer."""
    first = next(frames)
    stacked = np.empty((count, *first.shape), np.uint8)  # (T, H, W), filled in place
    stacked[0] = first
    for row, frame in enumerate(frames, start=1):
        stacked[row] = frame
    return gif_bytes(stacked, [duration_ms] * (count - 1) + [duration_ms + END_HOLD_MS])


def _predicted_stride(count: int, sizes: dict[int, int], budget: int, low: int, high: int) -> int:
    """Return the stride in [low, high] whose GIF the measured {frames: bytes} predict just within the budget."""
    (frames, size), *others = sorted(sizes.items(), key=lambda item: abs(item[1] - budget))
    exponent = EXPONENT
    if others and others[0][0] != frames:  # the two attempts nearest the budget measure the exponent
        exponent = math.log(others[0][1] / size) / math.log(others[0][0] / frames)
        exponent = min(1.0, max(0.3, exponent)) if math.isfinite(exponent) else EXPONENT
    wanted = frames * (FIT_MARGIN * budget / size) ** (1 / exponent)  # frames predicted to fill the budget
    return min(high, max(low, math.ceil(count / max(wanted, 1))))


def fit_gif(make_frames: Callable[[int, Sequence[int]], Iterator[np.ndarray]], *, count: int, base_cell: int,
            fps: float, budget: int, min_frames: int = 40, first_stride: int = 1,
            scales: Sequence[float] = SCALES) -> tuple[bytes, dict]:
    """Return the GIF with the most frames within `budget` bytes and a record: stride, scale, frames, attempts.

    make_frames(cell, indices) yields palette-index frames of the given snapshots at a cell size.
    """
    if budget <= 0:
        raise ValueError(f"gif budget must be a positive number of bytes, got {budget}")
    attempts = []
    for position, scale in enumerate(scales):
        cell = max(2, int(round(base_cell * scale / 2)) * 2)
        floor = 2 if position == len(scales) - 1 else min(min_frames, count)
        high = _largest_stride(count, floor)  # the fewest frames this scale may show
        low, best, stride, sizes = min(max(1, first_stride), high), None, high, {}
        while True:
            indices = strided_indices(count, stride)
            data = encode_gif(make_frames(cell, indices), len(indices), frame_ms(stride, fps))
            sizes[len(indices)] = len(data)
            attempts.append({"scale": scale, "stride": stride, "frames": len(indices), "bytes": len(data),
                             "fits": len(data) <= budget})
            if len(data) <= budget:
                best, high = (stride, data), stride - 1
            else:
                low = stride + 1
            if best is None or low > high:
                break
            stride = _predicted_stride(count, sizes, budget, low, high)
        if best is not None:
            stride, data = best
            return data, {"scale": scale, "cell_px": cell, "stride": stride, "bytes": len(data),
                          "frames": len(strided_indices(count, stride)), "frame_ms": frame_ms(stride, fps),
                          "end_hold_ms": END_HOLD_MS, "budget_bytes": budget, "reduced": stride > 1 or scale != 1.0,
                          "attempts": attempts}
    raise ValueError(f"no GIF preview fits {budget} bytes even with 2 frames at scale {scales[-1]} "
                     f"(smallest attempt {min(a['bytes'] for a in attempts)} bytes); raise gif_budget_bytes")
