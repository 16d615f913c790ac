"""Fit each channel's final map as one linear filter of the input, and read the filter's shape.

Use: `fit_filters(maps, probe_images, window)` takes a layer's final (N, H, W, C) maps, the (N, S, S) uint8
probes and the layer's input window (report.numbers.receptive_fields) and returns one `FilterFit` per channel, or
None for every channel when the probes hold too few samples per weight (FILTER_SAMPLES_PER_WEIGHT).
`filter_shape(weights)` scores a (k, k) filter on its own. Pure numpy; nothing is rounded.

The fit: the activation at (probe, row i, column j) is modelled as an intercept plus a weighted sum of the
input pixels (scaled to [0, 1], as the model is fed) of its window, `size` x `size` pixels starting at
`stride * i + offset` (zero outside the image, as 'same' padding sees it). The weights are a ridge
(least-squares with a small penalty) solution; the penalty is a share of the mean input energy per weight,
chosen from RIDGE_GRID by leave-one-probe-out prediction, the same for every channel of the layer. The fit r
reported is out of sample: each probe's map is predicted by the filter fitted on the other probes, and r is
taken over all probes x positions of those predictions. With fewer than three probes it is in sample.

The shape, on a scale rather than a verdict (both scores are shares of the filter's total |weight|):
- `blob` = sum(w) / sum(|w|): +1 when every weight is positive (a blurred copy of the input), -1 when every
  weight is negative (an inverted copy), near 0 when positive and negative weights cancel.
- `edge` = the difference between the weights on the two sides of a line through the window's centre,
  sum(sign(side) * w) / sum(|w|), the line perpendicular to the filter's first moment (the direction in
  which its weights grow, snapped to EDGE_ANGLES orientations). Near +-1 for an oriented difference (an
  edge filter such as Sobel's), near 0 for a centred blob. Its sign says on which side brighter input
  (ink, on MNIST) makes the channel positive; the line's orientation is named as report.numbers.reference_maps
  names edge maps.
- `edge_share` = |edge| / (|blob| + |edge|): 0 for a pure blob, 1 for a pure oriented difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from report.numbers.receptive_fields import Window
from report.numbers.reference_maps import EDGE_SIDES
from report.numbers.thresholds import FILTER_SAMPLES_PER_WEIGHT

RIDGE_GRID = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)  # penalties, as shares of the mean input energy per weight
EDGE_ANGLES = 36  # the edge line's orientation is given to the nearest 5 degrees
# The direction (degrees, x right, y down) in which brighter input (MNIST's ink) makes each signed edge map positive.
_EDGE_NORMALS = {"vertical": 0.0, "diagonal_rising": 45.0, "horizontal": 90.0, "diagonal_falling": 135.0}


@dataclass
class FilterFit:
    """One channel's fitted filter and its shape scores."""

    size: int  # the window's side in input pixels
    stride: int
    offset: int
    weights: list[list[float]]  # (size, size), row-major, rows downwards
    intercept: float
    fit_r: float  # out of sample (leave one probe out) unless in_sample
    in_sample_r: float
    in_sample: bool  # True when there were too few probes to leave one out
    ridge: float  # the chosen penalty, a share of the mean input energy per weight
    blob: float  # sum(w) / sum(|w|), in [-1, 1]
    edge: float  # signed side difference / sum(|w|), in [-1, 1]
    edge_angle: float  # degrees in [0, 180), x right, y down: the direction in which brighter input makes edge > 0
    edge_kind: str  # the nearest of report.numbers.reference_maps.EDGE_KINDS
    edge_side: str  # the side of a bright region (an MNIST stroke) where the channel is positive
    edge_share: float  # |edge| / (|blob| + |edge|), 0.5 when both are 0

def window_patches(images: np.ndarray, window: Window, height: int, width: int) -> np.ndarray:
    """Return each output position's input window as (N, height * width, size * size) float64."""
    images = np.asarray(images, np.float64)
    size, stride, offset = window.size, window.stride, window.offset
    pad = max(size, abs(offset)) + size
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    rows = np.arange(height) * stride + offset + pad  # (H,)
    cols = np.arange(width) * stride + offset + pad  # (W,)
    index_rows = rows[:, None] + np.arange(size)[None, :]  # (H, size)
    index_cols = cols[:, None] + np.arange(size)[None, :]  # (W, size)
    patches = padded[:, index_rows[:, None, :, None], index_cols[None, :, None, :]]  # (N, H, W, size, size)
    return patches.reshape(images.shape[0], height * width, size * size)


def _ridge_paths(gram: np.ndarray, moment: np.ndarray, count: int, penalties: list[float]) -> list[np.ndarray]:
    """Solve ridge regression with an unpenalised intercept for several penalties at once.

    `gram` and `moment` are the sums [1 x]'[1 x] and [1 x]'y over `count` samples; returns per penalty the
    (K + 1, C) solution (intercept first). The weights come from the centred problem through one
    eigendecomposition; a zero penalty takes the minimum-norm (pseudo-inverse) solution.
    """
    mean_x = gram[0, 1:] / count  # (K,)
    mean_y = moment[0] / count  # (C,)
    centred_gram = gram[1:, 1:] - count * np.outer(mean_x, mean_x)
    centred_moment = moment[1:] - count * np.outer(mean_x, mean_y)
    values, vectors = np.linalg.eigh(centred_gram)
    projected = vectors.T @ centred_moment  # (K, C)
    floor = max(float(values.max(initial=0.0)), 0.0) * 1e-10
    solutions = []
    for penalty in penalties:
        shrunk = values + penalty
        inverse = np.where(shrunk > floor, 1.0 / np.where(shrunk > floor, shrunk, 1.0), 0.0)
        weights = vectors @ (inverse[:, None] * projected)  # (K, C)
        solutions.append(np.vstack([mean_y - mean_x @ weights, weights]))
    return solutions


def _pooled_r(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Return per column the Pearson r of two (P, C) arrays (0 where either is constant)."""
    a = predicted - predicted.mean(axis=0)
    b = actual - actual.mean(axis=0)
    denominator = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    return np.where(denominator > 0, (a * b).sum(axis=0) / np.where(denominator > 0, denominator, 1), 0.0)


def filter_shape(weights: np.ndarray) -> dict:
    """Score a (k, k) filter: blob, edge (with its angle, kind and side) and edge_share.

    The edge's direction is that of the filter's first moment, sum(w * (p - centre)): where brighter input
    (ink, on MNIST) makes the channel positive. Unlike the largest side difference, which is flat over a
    range of angles for a filter such as Sobel's, it does not depend on noise in weights near zero. The edge
    score is the side difference across the line through the centre perpendicular to that direction.
    """
    weights = np.asarray(weights, np.float64)
    size = weights.shape[0]
    total = float(np.abs(weights).sum())
    centre = (size - 1) / 2
    ys, xs = np.indices(weights.shape, dtype=np.float64) - centre  # rows downwards, columns rightwards
    moment_x, moment_y = float((weights * xs).sum()), float((weights * ys).sum())
    direction = math.degrees(math.atan2(moment_y, moment_x)) % 360 if (moment_x or moment_y) else 0.0
    # Snap to the EDGE_ANGLES grid, so that round-off in a moment of exactly 0 cannot tilt the line.
    step = 180.0 / EDGE_ANGLES
    direction = (round(direction / step) * step) % 360
    theta = math.radians(direction)
    side = np.sign(np.round(math.cos(theta) * xs + math.sin(theta) * ys, 9))  # 0 on the line itself
    edge = float((side * weights).sum()) / total if total > 0 else 0.0
    angle = direction % 180
    if direction >= 180:  # the same line, seen from its other side
        edge = -edge
    blob = float(weights.sum()) / total if total > 0 else 0.0
    kind = min(_EDGE_NORMALS, key=lambda name: min(abs(angle - _EDGE_NORMALS[name]),
                                                   180 - abs(angle - _EDGE_NORMALS[name])))
    magnitude = abs(blob) + abs(edge)
    return {"blob": blob, "edge": edge, "edge_angle": angle, "edge_kind": kind,
            "edge_side": EDGE_SIDES[kind][0 if edge >= 0 else 1],
            "edge_share": abs(edge) / magnitude if magnitude > 0 else 0.5}


def fit_filters(maps: np.ndarray, probe_images: np.ndarray, window: Window) -> list[FilterFit] | None:
    """Fit one linear filter of the input per channel of (N, H, W, C) maps; None if the probes are too few."""
    maps = np.asarray(maps, np.float64)
    probes, height, width, channels = maps.shape
    weights_count = window.size * window.size
    if probes * height * width < FILTER_SAMPLES_PER_WEIGHT * (weights_count + 1):
        return None
    patches = window_patches(np.asarray(probe_images, np.float64) / 255.0, window, height, width)  # (N, P, K)
    design = np.concatenate([np.ones(patches.shape[:2] + (1,)), patches], axis=2)  # (N, P, K + 1)
    targets = maps.reshape(probes, height * width, channels)  # (N, P, C)
    transposed = np.swapaxes(design, 1, 2)  # (N, K + 1, P)
    grams = transposed @ design  # (N, K + 1, K + 1) per probe
    moments = transposed @ targets  # (N, K + 1, C)
    gram, moment = grams.sum(axis=0), moments.sum(axis=0)
    energy = float(np.trace(gram[1:, 1:])) / weights_count  # mean input energy per weight

    in_sample = probes < 3
    penalties = [share * energy for share in RIDGE_GRID]
    samples = height * width
    if in_sample:
        predicted = [design @ solution for solution in _ridge_paths(gram, moment, probes * samples, penalties)]
    else:
        predicted = [np.empty_like(targets) for _ in penalties]  # (N, P, C) each
        for p in range(probes):
            fold = _ridge_paths(gram - grams[p], moment - moments[p], (probes - 1) * samples, penalties)
            for index, solution in enumerate(fold):
                predicted[index][p] = design[p] @ solution
    scores = [_pooled_r(values.reshape(-1, channels), targets.reshape(-1, channels)) for values in predicted]
    best = max(range(len(penalties)), key=lambda index: (round(float(scores[index].mean()), 9), -index))
    share, fit_r = RIDGE_GRID[best], scores[best]
    solution = _ridge_paths(gram, moment, probes * samples, [penalties[best]])[0]  # (K + 1, C) on all probes
    in_sample_r = _pooled_r((design @ solution).reshape(-1, channels), targets.reshape(-1, channels))

    fits = []
    for c in range(channels):
        kernel = solution[1:, c].reshape(window.size, window.size)
        fits.append(FilterFit(size=window.size, stride=window.stride, offset=window.offset,
                              weights=kernel.tolist(), intercept=float(solution[0, c]), fit_r=float(fit_r[c]),
                              in_sample_r=float(in_sample_r[c]), in_sample=in_sample, ridge=float(share),
                              **filter_shape(kernel)))
    return fits
