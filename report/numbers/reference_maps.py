"""Build the maps a channel is compared with (the input and its edges at the layer's resolution), and compare.

Use: `input_maps(probe_images, height, width)` returns {"copy": pooled input, "silhouette": pooled silhouette mask,
<edge kind>: edge map}, each (N, height, width); `silhouette_mask(images)` the 0/1 mask itself; `standardise` and
`linear_fit_r` are the correlation tools report.numbers.analysis measures with.

The probe images (grey, or a colour probe's brightness: report.capture_facts.grey_probes) are scaled to [0, 1]
(the model is fed x / 255) and brought to each layer's resolution by area averaging (2x2 blocks for 14x14, 4x4
for 7x7): the "pooled input". `pooling="max"` takes each block's maximum instead (a variant of the conclusions'
definitions, report/numbers/robust/variants.py). Edge maps are 3x3 Sobel responses of the pooled input, computed
AT THE LAYER'S RESOLUTION with 'same' zero padding, because a 3x3 filter at that resolution is what the layer
could apply to a copy of the input it receives. Four orientations, each signed (image rows run downwards; "ink"
and "stroke" below are MNIST's words for the part of an image brighter than its background, and the maps mean
the same on any image): `horizontal` (positive where ink lies below background, the top edge of a stroke;
negative at its underside), `vertical` (positive at the left edge of a stroke, negative at its right edge),
`diagonal_rising` ("/" edges; positive on the upper-left side of a stroke, negative lower-right) and
`diagonal_falling` ("\\" edges; positive upper-right, negative lower-left).

The silhouette: 1 where a pixel is at least SILHOUETTE_LEVEL of the full brightness range (255) above its image's
darkest pixel, else 0: where the object is, whatever its brightness. It is brought to each layer's resolution as
the input is (the mean of a block: the share of the block the object covers; or its maximum).
"""

from __future__ import annotations

import numpy as np

from report.numbers.thresholds import SILHOUETTE_LEVEL

EDGE_KINDS = ("horizontal", "vertical", "diagonal_rising", "diagonal_falling")
# The side of a bright region (an MNIST stroke) where each signed edge map is positive, and where negative.
EDGE_SIDES = {
    "horizontal": ("top", "bottom"),
    "vertical": ("left", "right"),
    "diagonal_rising": ("upper-left", "lower-right"),
    "diagonal_falling": ("upper-right", "lower-left"),
}

# Sobel kernels applied as a correlation: output[y, x] = sum kernel[i, j] * input[y + i - 1, x + j - 1].
_SOBEL = {
    "horizontal": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64),  # below minus above
    "vertical": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64),  # right minus left
    "diagonal_rising": np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], np.float64),  # lower-right minus upper-left
    "diagonal_falling": np.array([[0, -1, -2], [1, 0, -1], [2, 1, 0]], np.float64),  # lower-left minus upper-right
}


POOLINGS = ("mean", "max")  # how the input is brought to a layer's resolution: area average (headline) or maximum


def area_pool(images: np.ndarray, height: int, width: int, pooling: str = "mean") -> np.ndarray:
    """Pool (N, H0, W0) images over the blocks of a (height, width) grid by mean or max; return (N, height, width)."""
    images = np.asarray(images, np.float64)
    if height > images.shape[1] or width > images.shape[2]:
        raise ValueError(f"cannot pool {images.shape[1:]} images up to {height}x{width}; layers must not be "
                         f"larger than the input")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    rows = (np.arange(height) * images.shape[1]) // height
    cols = (np.arange(width) * images.shape[2]) // width
    if pooling == "max":
        return np.maximum.reduceat(np.maximum.reduceat(images, rows, axis=1), cols, axis=2)
    summed = np.add.reduceat(np.add.reduceat(images, rows, axis=1), cols, axis=2)
    row_counts = np.diff(np.append(rows, images.shape[1]))
    col_counts = np.diff(np.append(cols, images.shape[2]))
    return summed / (row_counts[:, None] * col_counts[None, :])


def shifted_stack(images: np.ndarray) -> np.ndarray:
    """Return the 9 zero-padded 3x3 neighbours of each pixel of (N, H, W) images as (9, N, H, W), row-major."""
    padded = np.pad(np.asarray(images, np.float64), ((0, 0), (1, 1), (1, 1)))
    height, width = images.shape[1:]
    return np.stack([padded[:, i:i + height, j:j + width] for i in range(3) for j in range(3)])


def correlate_same(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Apply a 3x3 kernel to (N, H, W) images as a correlation with 'same' zero padding."""
    return np.tensordot(np.asarray(kernel, np.float64).ravel(), shifted_stack(images), axes=1)


def silhouette_mask(images: np.ndarray) -> np.ndarray:
    """Return (N, S, S) grey uint8 images' 0/1 object masks: SILHOUETTE_LEVEL of 255 or more above the darkest pixel."""
    values = np.asarray(images, np.float64)
    darkest = values.min(axis=(1, 2), keepdims=True)
    return (values - darkest >= SILHOUETTE_LEVEL * 255.0).astype(np.float64)


def input_maps(probe_images: np.ndarray, height: int, width: int, pooling: str = "mean") -> dict[str, np.ndarray]:
    """Return the pooled input ("copy"), silhouette mask and signed edge maps (EDGE_KINDS) at one resolution."""
    scaled = np.asarray(probe_images, np.float64) / 255.0  # the model's input scale
    pooled = area_pool(scaled, height, width, pooling)
    maps = {"copy": pooled, "silhouette": area_pool(silhouette_mask(probe_images), height, width, pooling)}
    for kind in EDGE_KINDS:
        maps[kind] = correlate_same(pooled, _SOBEL[kind])
    return maps


def standardise(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (values - mean) / norm along `axis` (0 where the norm is 0) and the norm (keepdims)."""
    centred = values - values.mean(axis=axis, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=axis, keepdims=True))
    return centred / np.where(norm > 0, norm, 1), norm


def linear_fit_r(maps: np.ndarray, pooled_input: np.ndarray) -> np.ndarray:
    """Return per channel the multiple r of the best 3x3 linear filter plus offset of the (N, H, W) input."""
    maps = np.asarray(maps, np.float64)
    targets = maps.reshape(-1, maps.shape[-1])  # (P, C)
    design = np.concatenate([np.ones((targets.shape[0], 1)),
                             shifted_stack(pooled_input).reshape(9, -1).T], axis=1)  # (P, 10)
    # The normal equations' minimum-norm solution is lstsq's, at a 10 x 10 cost instead of a (P, 10) one.
    coefficients, *_ = np.linalg.lstsq(design.T @ design, design.T @ targets, rcond=None)
    residual = ((targets - design @ coefficients) ** 2).sum(axis=0)
    total = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
    explained = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
    return np.sqrt(np.clip(explained, 0.0, 1.0))
