"""A channel's fitted linear filter of the input as a picture: red negative, white zero, blue positive.

`filter_pixels(weights)` returns the (k, k) weights as an RGB uint8 image, scaled to their own largest |weight|
and enlarged so that each weight is a block of pixels, about FILTER_PIXELS wide in all.
"""

from __future__ import annotations

import numpy as np

FILTER_PIXELS = 56  # each filter image is about this many pixels wide


def filter_pixels(weights: np.ndarray) -> np.ndarray:
    """Return a filter as an enlarged RGB image: red negative, white zero, blue positive, scaled to its max |w|."""
    import matplotlib

    weights = np.asarray(weights, np.float64)
    peak = float(np.abs(weights).max())
    scaled = weights / peak if peak > 0 else np.zeros_like(weights)
    colours = matplotlib.colormaps["RdBu"]((scaled + 1) / 2)[..., :3]  # (k, k, 3) in [0, 1]
    colours[scaled == 0] = 1.0
    rgb = np.rint(colours * 255).astype(np.uint8)
    block = max(FILTER_PIXELS // weights.shape[0], 1)
    return np.repeat(np.repeat(rgb, block, axis=0), block, axis=1)
