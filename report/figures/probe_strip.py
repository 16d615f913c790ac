"""The probe strip: the probe images side by side, as the model sees them, for the experiment section."""

from __future__ import annotations

import numpy as np

PROBE_SCALE = 3  # each 28x28 probe drawn at 84x84 px
PROBE_GUTTER = 6  # px between probes


def probe_strip(probe_images: np.ndarray, scale: int = PROBE_SCALE, gutter: int = PROBE_GUTTER) -> np.ndarray:
    """Return the probes side by side as the model sees them, nearest-neighbour enlarged (grey or RGB)."""
    count, height, width = probe_images.shape[:3]  # (N, H, W) grey or (N, H, W, 3) RGB
    cell_h, cell_w = height * scale, width * scale
    strip = np.full((cell_h, count * cell_w + (count - 1) * gutter) + probe_images.shape[3:], 255, np.uint8)
    for index, image in enumerate(np.asarray(probe_images, np.uint8)):
        enlarged = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
        left = index * (cell_w + gutter)
        strip[:, left:left + cell_w] = enlarged
    return strip
