"""Palette-index frames -> MP4 (H.264), WebM (VP9), GIF and PNG files, streamed one frame at a time.

Videos: the palette is converted to BT.709 limited-range YUV once; each frame becomes yuv420p by
table look-ups (chroma sampled at the top-left of each 2x2, exact because cells start on even
pixels) and is piped to ffmpeg through `imageio_ffmpeg.write_frames`, so ffmpeg only encodes.
`-fflags +bitexact -flags:v +bitexact` and a fixed thread count make the bytes reproducible. The
stream is tagged BT.709 (matrix, primaries, transfer; limited range) with `setparams`: ffmpeg 9
drops `-colorspace`-style output options for rawvideo input.

GIF: a small streaming writer (Pillow only does the LZW), one global palette = the frame palette,
so colours are exact; after the first frame only the changed rectangle is stored, with unchanged
pixels in it made transparent, which LZW packs into almost nothing. Pillow's own `save_all`
keeps every frame in memory and is not used.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np

from pipeline.images import write_png as write_image
from render.palette import PALETTE, TRANSPARENT_INDEX

H264_CRF = 20
H264_PRESET = "veryfast"
VP9_CRF = 34
ENCODER_THREADS = 2


def _ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return BT.709 limited-range (Y, Cb, Cr) float planes of (..., 3) uint8 RGB."""
    rgb = rgb.astype(np.float64) / 255  # (..., 3)
    y = rgb @ np.array([0.2126, 0.7152, 0.0722])
    cb = (rgb[..., 2] - y) / 1.8556
    cr = (rgb[..., 0] - y) / 1.5748
    return 16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr


def _to_uint8(plane: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def _yuv_tables(palette: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return BT.709 limited-range (Y, Cb, Cr) uint8 look-up tables of a (256, 3) palette."""
    return tuple(_to_uint8(t) for t in _ycbcr(palette))


_Y, _CB, _CR = _yuv_tables(PALETTE)


def overlay_planes(overlay: tuple[int, int, np.ndarray]) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """Return (y, x, Y, Cb, Cr) of an RGB overlay at an even (y, x): chroma is the mean of each 2x2 square."""
    y0, x0, rgb = overlay
    h, w = rgb.shape[:2]
    if y0 % 2 or x0 % 2 or h % 2 or w % 2:
        raise ValueError(f"an RGB overlay must start on even pixels with even sides, got {(y0, x0, h, w)}")
    luma, cb, cr = _ycbcr(rgb)
    cb, cr = (plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)) for plane in (cb, cr))  # (h/2, w/2)
    return y0, x0, _to_uint8(luma), _to_uint8(cb), _to_uint8(cr)


def to_yuv420p(frame: np.ndarray, overlay: tuple | None = None) -> bytes:
    """Return the yuv420p bytes (Y plane, then Cb, then Cr) of an even-sized palette-index frame.

    overlay: `overlay_planes(...)` of RGB pixels pasted over the frame (an RGB probe row).
    """
    if frame.shape[0] % 2 or frame.shape[1] % 2:
        raise ValueError(f"yuv420p needs even frame sizes, got {frame.shape[1]}x{frame.shape[0]}; pad the frame")
    corners = frame[::2, ::2]  # (H/2, W/2)
    planes = [np.take(_Y, frame), np.take(_CB, corners), np.take(_CR, corners)]
    if overlay is not None:
        y0, x0, luma, cb, cr = overlay
        h, w = luma.shape
        planes[0][y0:y0 + h, x0:x0 + w] = luma
        for plane, part in zip(planes[1:], (cb, cr)):
            plane[y0 // 2:y0 // 2 + h // 2, x0 // 2:x0 // 2 + w // 2] = part
    return b"".join(plane.tobytes() for plane in planes)


_CODECS = {
    "h264": ("libx264", lambda crf, preset, threads: [
        "-preset", preset, "-crf", str(crf), "-tune", "animation", "-threads", str(threads),
        "-movflags", "+faststart"]),
    "vp9": ("libvpx-vp9", lambda crf, preset, threads: [
        "-crf", str(crf), "-b:v", "0", "-deadline", "realtime", "-cpu-used", str(preset),
        "-row-mt", "1", "-threads", str(threads)]),
}


class VideoWriter:
    """Stream palette-index frames into an MP4 (codec "h264") or WebM (codec "vp9") file."""

    def __init__(self, path: str | os.PathLike, width: int, height: int, *, fps: float = 10, codec: str = "h264",
                 crf: int | None = None, preset: str | int | None = None, threads: int = ENCODER_THREADS,
                 overlay: tuple[int, int, np.ndarray] | None = None):
        """Start ffmpeg; `overlay` (y, x, RGB pixels) is pasted over every frame (an RGB probe row)."""
        import imageio_ffmpeg

        if codec not in _CODECS:
            raise ValueError(f"unknown codec {codec!r}: use one of {', '.join(_CODECS)}")
        if width % 2 or height % 2:
            raise ValueError(f"videos need even sizes, got {width}x{height}; pad the frames")
        encoder, options = _CODECS[codec]
        crf = (H264_CRF if codec == "h264" else VP9_CRF) if crf is None else crf
        preset = (H264_PRESET if codec == "h264" else 8) if preset is None else preset
        self.path, self.size, self.frames = Path(path), (width, height), 0
        self._overlay = None if overlay is None else overlay_planes(overlay)
        self._partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.settings = {"codec": codec, "encoder": encoder, "crf": crf, "preset": preset, "fps": fps}
        output = options(crf, preset, threads) + [
            "-vf", "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1"]
        self._sink = imageio_ffmpeg.write_frames(
            str(self._partial), (width, height), pix_fmt_in="yuv420p", pix_fmt_out="yuv420p", fps=fps,
            quality=None, codec=encoder, macro_block_size=1, ffmpeg_log_level="error", output_params=output)
        self._sink.send(None)

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W) uint8 palette-index frame."""
        if frame.shape != (self.size[1], self.size[0]):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, the video {self.size[0]}x{self.size[1]}")
        self._sink.send(to_yuv420p(frame, self._overlay))
        self.frames += 1

    def close(self, keep: bool = True) -> None:
        """Finish the encoding (waits for ffmpeg), then move the file into place, or delete it if not `keep`."""
        self._sink.close()
        if keep:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(keep=kind is None)


def _lzw(pixels: np.ndarray) -> bytes:
    """Return the GIF image data (min code size, sub-blocks, terminator) of (h, w) palette indices."""
    from PIL import Image

    image = Image.frombuffer("P", (pixels.shape[1], pixels.shape[0]), np.ascontiguousarray(pixels), "raw", "P", 0, 1)
    return b"\x08" + image.tobytes("gif", "P") + b"\x00"


class GifWriter:
    """Stream palette-index frames into an animated GIF held in memory; `bytes` can stop it early."""

    def __init__(self, width: int, height: int, *, loop: int = 0, palette: np.ndarray = PALETTE):
        self.size = (width, height)
        self.frames = 0
        self._out = io.BytesIO()
        self._previous: np.ndarray | None = None
        self._pending: tuple[bytes, bytes, int] | None = None  # (extension tail, image, duration)
        header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0)
        header += np.asarray(palette, np.uint8).tobytes()
        header += b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00"
        self._out.write(header)

    @property
    def bytes(self) -> int:
        """Return the size written so far, the pending frame included."""
        pending = len(self._pending[1]) + 8 if self._pending else 0
        return self._out.tell() + pending

    def write(self, frame: np.ndarray, duration_ms: int) -> None:
        """Append one (H, W) uint8 palette-index frame shown for `duration_ms` (rounded to 10 ms)."""
        if frame.shape != (self.size[1], self.size[0]):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, the GIF {self.size[0]}x{self.size[1]}")
        if self._previous is None:
            x0, y0, part, transparent = 0, 0, frame, False
        else:
            changed = frame != self._previous  # (H, W)
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            if rows.size == 0:  # identical: show the previous frame longer
                self._pending = (self._pending[0], self._pending[1], self._pending[2] + duration_ms)
                return
            y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            part = np.where(changed[y0:y1, x0:x1], frame[y0:y1, x0:x1], np.uint8(TRANSPARENT_INDEX))
            transparent = True
        self._flush()
        descriptor = b"," + struct.pack("<HHHHB", x0, y0, part.shape[1], part.shape[0], 0)
        self._pending = (bytes([0x05 if transparent else 0x04]), descriptor + _lzw(part), duration_ms)
        self._previous = frame.copy()
        self.frames += 1

    def _flush(self) -> None:
        if self._pending is None:
            return
        flags, image, duration = self._pending
        delay = int(round(duration / 10))
        self._out.write(b"!\xf9\x04" + flags + struct.pack("<HB", delay, TRANSPARENT_INDEX) + b"\x00" + image)
        self._pending = None

    def getvalue(self) -> bytes:
        """Finish the GIF and return its bytes."""
        self._flush()
        return self._out.getvalue() + b";"


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
