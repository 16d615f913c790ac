"""What a random positive blur of the input reaches at a layer: the baseline a copy and a silhouette are judged against.

Use: `layer_baselines(images, window, height, width, references)` takes the (N, S, S) grey uint8 images a layer was
measured on, its input window (report/numbers/receptive_fields.py), its resolution and {name: (references,
pooling)}: per name the maps of report/numbers/reference_maps.py's input_maps (its "copy" and "silhouette") at the
layer's resolution, and returns {name: CopyBaseline} (report/numbers/findings.py), all from one pass over the images.
`random_kernels(size)` returns the kernels, so that a test can draw them again.

Why: at a coarse layer a channel that merely adds up the input over its receptive field with positive weights
already correlates with the pooled input, the more so the larger the objects (a Fashion-MNIST garment at 7x7 is
its silhouette); such a channel passes on where the object is, not its picture. So a layer's copy bar is not a
fixed r but what such blurs reach there (report/numbers/channel_kinds.py's copy_bars).

The blurs: BASELINE_KERNELS kernels of window.size x window.size weights, drawn uniform on [0, 1] as one
(BASELINE_KERNELS, size * size) array by np.random.default_rng(BASELINE_SEED) (row k is kernel k, row-major),
each applied to the images (scaled to [0, 1]) over the layer's window at each of its positions, as
report/numbers/filters.py applies a fitted filter (zero outside the image). Per blur its |r| over images x positions
with the pooled input and with the pooled silhouette mask; the baseline is their median and their
COPY_BASELINE_QUANTILE quantile (numpy's linear interpolation), with the r between the two references.
"""

from __future__ import annotations

import numpy as np

from report.numbers.channel_kinds import copy_bars
from report.numbers.filters import window_patches
from report.numbers.findings import CopyBaseline
from report.numbers.receptive_fields import Window
from report.numbers.reference_maps import standardise
from report.numbers.thresholds import COPY_BASELINE_QUANTILE

BASELINE_KERNELS = 64  # enough that the 0.9 quantile moves by less than BORDERLINE_R between seeds
BASELINE_SEED = 0
BLOCK_IMAGES = 50  # images blurred at once: a 7x7 layer's 32x32 windows are then 20 MB of float64


def random_kernels(size: int) -> np.ndarray:
    """Return the (BASELINE_KERNELS, size * size) random positive kernels for a size x size window."""
    return np.random.default_rng(BASELINE_SEED).uniform(0.0, 1.0, (BASELINE_KERNELS, size * size))


def _r_from_sums(sums: dict, count: int) -> np.ndarray:
    """Return |r| per kernel from the sums of blur b and reference y over `count` samples."""
    covariance = sums["by"] - sums["b"] * sums["y"] / count
    variance = np.clip(sums["bb"] - sums["b"] ** 2 / count, 0, None) * max(sums["yy"] - sums["y"] ** 2 / count, 0.0)
    return np.abs(np.where(variance > 0, covariance / np.sqrt(np.where(variance > 0, variance, 1)), 0.0))


def blur_correlations(images: np.ndarray, window: Window, height: int, width: int,
                      references: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return {name: (BASELINE_KERNELS,) |r| of each random positive blur with that (N, height, width) map}."""
    kernels = random_kernels(window.size).T  # (k, K)
    count = len(images) * height * width
    # Each reference is centred on its own mean first: the same r, and float64 keeps the cancellation small.
    centred = {name: np.asarray(maps, np.float64) - float(np.mean(maps)) for name, maps in references.items()}
    sums = {name: {"y": float(maps.sum()), "yy": float((maps * maps).sum()), "by": 0.0}
            for name, maps in centred.items()}
    # A blur is linear in its kernel: its sums come from the windows' sums, their Gram matrix and their products
    # with each reference, whichever of windows x kernels or windows x windows is the smaller product.
    size = kernels.shape[0]
    by_gram = size <= kernels.shape[1]
    window_sum, gram = np.zeros(size), np.zeros((size, size))
    window_cross = {name: np.zeros(size) for name in references}
    blur_sum = blur_squares = 0.0
    for start in range(0, len(images), BLOCK_IMAGES):
        block = slice(start, start + BLOCK_IMAGES)
        patches = window_patches(images[block], window, height, width)  # (n, P, k) uint8
        windows = patches.reshape(-1, size).astype(np.float64) / 255.0  # (n P, k)
        if by_gram:
            window_sum += windows.sum(axis=0)
            gram += windows.T @ windows
            for name, maps in centred.items():
                window_cross[name] += maps[block].reshape(-1) @ windows
            continue
        blurred = windows @ kernels  # (n P, K)
        blur_sum = blur_sum + blurred.sum(axis=0)
        blur_squares = blur_squares + (blurred * blurred).sum(axis=0)
        for name, maps in centred.items():
            sums[name]["by"] = sums[name]["by"] + maps[block].reshape(-1) @ blurred
    if by_gram:
        blur_sum, blur_squares = window_sum @ kernels, ((gram @ kernels) * kernels).sum(axis=0)
        for name in centred:
            sums[name]["by"] = window_cross[name] @ kernels
    for total in sums.values():
        total.update(b=blur_sum, bb=blur_squares)
    return {name: _r_from_sums(total, count) for name, total in sums.items()}


def layer_baselines(images: np.ndarray, window: Window, height: int, width: int,
                    references: dict[str, dict[str, np.ndarray]]) -> dict[str, CopyBaseline]:
    """Return {name: the layer's CopyBaseline against that set's "copy" and "silhouette" maps} (see the docstring)."""
    flat = {f"{name}/{key}": maps[key] for name, maps in references.items() for key in ("copy", "silhouette")}
    rs = blur_correlations(np.asarray(images), window, height, width, flat)
    out = {}
    for name, maps in references.items():
        copy_rs, silhouette_rs = rs[f"{name}/copy"], rs[f"{name}/silhouette"]
        copy_high = float(np.quantile(copy_rs, COPY_BASELINE_QUANTILE))
        silhouette_high = float(np.quantile(silhouette_rs, COPY_BASELINE_QUANTILE))
        copy_unit, silhouette_unit = (standardise(np.ravel(maps[key]).astype(np.float64), axis=0)[0]
                                      for key in ("copy", "silhouette"))
        between = float(copy_unit @ silhouette_unit)
        copy_bar, silhouette_bar = copy_bars(copy_high, silhouette_high, between)
        out[name] = CopyBaseline(window=int(window.size), kernels=len(copy_rs), images=int(len(images)),
                                 copy_median=float(np.median(copy_rs)), copy_high=copy_high,
                                 silhouette_median=float(np.median(silhouette_rs)), silhouette_high=silhouette_high,
                                 silhouette_input_r=between, copy_bar=copy_bar, silhouette_bar=silhouette_bar)
    return out
