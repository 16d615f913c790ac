"""The probe row: probe images (grey (N, H, W) or RGB (N, H, W, 3) uint8) fitted into a layer's cells.

A probe image is enlarged by the largest whole factor that fits the cell (or, when it is larger than
the cell, reduced by keeping every s-th pixel) and centred on the paper grey, so its pixels stay
square and crisp. Frames are palette-index images, so the probe row of a frame is always grey (an
RGB probe by its BT.709 luma); an RGB capture's probe row in colour is an overlay, the exact RGB
pixels of the row, that the MP4 and PNG writers paste over the frame after the palette look-up
(render/encode.py). The GIF preview keeps the grey row (one 256-colour palette).
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.2126, 0.7152, 0.0722])  # BT.709, as the video's matrix


def is_rgb(probe_images: np.ndarray) -> bool:
    """Return whether the probe images are (N, H, W, 3) RGB."""
    return np.ndim(probe_images) == 4


def grey_of(probe_images: np.ndarray) -> np.ndarray:
    """Return (N, H, W) uint8 grey probes: as given, or an RGB probe's BT.709 luma."""
    images = np.asarray(probe_images, np.uint8)
    if not is_rgb(images):
        return images
    return np.clip(np.rint(images.astype(np.float64) @ LUMA), 0, 255).astype(np.uint8)


def _fit_offsets(size: int, cell: int) -> int:
    return (cell - size) // 2 // 2 * 2  # even: yuv420p's 2x2 chroma stays inside one probe pixel's block


def fit(images: np.ndarray, cell_h: int, cell_w: int, fill) -> np.ndarray:
    """Return (N, cell_h, cell_w, ...) images: each enlarged by a whole factor (or thinned) and centred on `fill`."""
    images = np.asarray(images)
    n, height, width = images.shape[:3]
    factor = min(cell_h // height, cell_w // width)
    if factor >= 1:
        scaled = np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)
    else:  # larger than the cell: every s-th pixel, from the middle of each s x s group
        step = int(np.ceil(max(height / cell_h, width / cell_w)))
        scaled = images[:, step // 2::step, step // 2::step]
    out = np.empty((n, cell_h, cell_w) + images.shape[3:], images.dtype)
    out[...] = fill
    top, left = _fit_offsets(scaled.shape[1], cell_h), _fit_offsets(scaled.shape[2], cell_w)
    out[:, top:top + scaled.shape[1], left:left + scaled.shape[2]] = scaled
    return out


def probe_row_rgb(layout, probe_images: np.ndarray, paper_rgb) -> tuple[int, int, np.ndarray] | None:
    """Return the probe row's (y, x, (h, w, 3) RGB pixels) for RGB probes (paper in the gutters); None for grey."""
    if not is_rgb(probe_images):
        return None
    cells = fit(np.asarray(probe_images, np.uint8), layout.cell, layout.cell_w, paper_rgb)  # (N, ch, cw, 3)
    y, x = layout.cell_origin(0, 0)
    strip = np.empty((layout.cell, layout.probes * layout.pitch_x - layout.gutter, 3), np.uint8)
    strip[...] = paper_rgb
    for column, cell in enumerate(cells):
        left = column * layout.pitch_x
        strip[:, left:left + layout.cell_w] = cell
    return y, x, strip
