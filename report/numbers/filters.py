"""Fit each channel's final map as one linear filter of the input, and read the filter's shape.

Use: `fit_filters(maps, images, window)` takes a layer's final (N, H, W, C) maps, the (N, S, S) uint8 images
they were measured on (the analysis set, or the probes) and the layer's input window
(report.numbers.receptive_fields) and returns one `FilterFit` per channel, or None for every channel when the
images hold too few samples per weight (FILTER_SAMPLES_PER_WEIGHT); `fit_filters_with_sums` also returns, per
image, the sums behind each channel's fit r, so that a bootstrap resample's fit r is a weighted sum
(report/numbers/robust/image_sums.py). `filter_shape(weights)` scores a (k, k) filter on its own. Pure numpy;
nothing is rounded.

The fit: the activation at (image, row i, column j) is modelled as an intercept plus a weighted sum of the
input pixels (scaled to [0, 1], as the model is fed) of its window, `size` x `size` pixels starting at
`stride * i + offset` (zero outside the image, as 'same' padding sees it). The weights are a ridge
(least-squares with a small penalty) solution; the penalty is a share of the mean input energy per weight,
chosen from RIDGE_GRID by out-of-sample prediction, the same for every channel of the layer. The fit r
reported is out of sample, K-fold over the images: K = min(N, FOLDS), image n in fold n mod K, each fold's
maps predicted by the filter fitted on the other folds (with ten probes: leave two out), and r taken
over all images x positions of those predictions. With fewer than three images it is in sample. Only the
per-fold sums [1 x]'[1 x] and [1 x]'y are kept, so memory is one fold's windows, not every image's; each
penalty's out-of-sample r comes from those sums (sum p^2 = w' G w, ...), and only the chosen penalty's
predictions are made, image by image, for the bootstrap's sums. The fit runs on one BLAS thread: LAPACK's
eigendecomposition is many times slower threaded on a busy two-core machine.

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

from pipeline.blas_threads import one_blas_thread
from report.numbers.receptive_fields import Window
from report.numbers.reference_maps import EDGE_SIDES
from report.numbers.robust.image_sums import PairSums, weighted_r
from report.numbers.thresholds import FILTER_SAMPLES_PER_WEIGHT

# The weights are kept to two significant digits: they are only drawn (the filter images, where 1% is below a
# colour step), never quoted, and the shape scores are computed before rounding; findings.json, which carries
# them, is mostly filters once every layer is fitted on the analysis set (two digits keep a Fashion-MNIST site,
# whose explorer data compress less, under 8 MB).
WEIGHT_DIGITS = 2
RIDGE_GRID = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)  # penalties, as shares of the mean input energy per weight
FOLDS = 5  # out-of-sample folds: image i is predicted by the filter fitted without the images of fold i mod 5
# (five, not ten: an eigendecomposition per fold is most of a deep layer's fit; both are the usual choices)
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
    fit_r: float  # out of sample (K-fold over the images) unless in_sample
    in_sample_r: float
    in_sample: bool  # True when there were too few images (under three) to hold any out
    ridge: float  # the chosen penalty, a share of the mean input energy per weight
    blob: float  # sum(w) / sum(|w|), in [-1, 1]
    edge: float  # signed side difference / sum(|w|), in [-1, 1]
    edge_angle: float  # degrees in [0, 180), x right, y down: the direction in which brighter input makes edge > 0
    edge_kind: str  # the nearest of report.numbers.reference_maps.EDGE_KINDS
    edge_side: str  # the side of a bright region (an MNIST stroke) where the channel is positive
    edge_share: float  # |edge| / (|blob| + |edge|), 0.5 when both are 0


@dataclass
class FilterResult:
    """A layer's fits and, per image, the sums behind each channel's out-of-sample fit r (a: predicted, b: actual)."""

    fits: list[FilterFit]
    sums: PairSums


def significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Return values rounded to `digits` significant digits each (0 stays 0)."""
    values = np.asarray(values, np.float64)
    scale = np.floor(np.log10(np.abs(np.where(values == 0, 1.0, values))))
    return np.round(values / 10 ** scale, digits - 1) * 10 ** scale


def window_patches(images: np.ndarray, window: Window, height: int, width: int) -> np.ndarray:
    """Return each output position's input window as (N, height * width, size * size), in the images' dtype."""
    images = np.asarray(images)
    size, offset = window.size, window.offset
    pad = max(size, abs(offset)) + size
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    rows = window.start(np.arange(height)) + pad  # (H,)
    cols = window.start(np.arange(width)) + pad  # (W,)
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
    with one_blas_thread():
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


def _folds(images: int) -> np.ndarray:
    """Return each image's fold, image index mod min(images, FOLDS); fewer than three images: no folds (-1)."""
    if images < 3:
        return np.full(images, -1)
    return np.arange(images) % min(images, FOLDS)


def _fold_blocks(maps: np.ndarray, images: np.ndarray, window: Window, folds: np.ndarray):
    """Yield per fold (its images' indices, their (n P, K) input windows as the images store them, their
    (n P, C) targets); uint8 windows take an eighth of the memory of the scaled ones, which _scaled makes."""
    images_count, height, width, channels = maps.shape
    for fold in np.unique(folds):
        members = np.flatnonzero(folds == fold)
        patches = window_patches(images[members], window, height, width)  # (n, P, K)
        yield members, patches.reshape(-1, patches.shape[-1]), maps[members].reshape(-1, channels)


def _scaled(patches: np.ndarray) -> np.ndarray:
    """Return windows scaled to [0, 1] in float64, as the model is fed."""
    return np.asarray(patches, np.float64) / 255.0


def _design_sums(patches: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return [1 x]'[1 x] and [1 x]'y for (n, K) windows x and (n, C) targets, without forming [1 x]."""
    ones = np.ones(len(patches))
    sums = ones @ patches
    gram = np.empty((patches.shape[1] + 1,) * 2)
    gram[0, 0], gram[0, 1:], gram[1:, 0], gram[1:, 1:] = len(patches), sums, sums, patches.T @ patches
    return gram, np.vstack([ones @ targets, patches.T @ targets])


def _gram_r(gram: np.ndarray, moment: np.ndarray, target_squares: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return the sums (p, p^2, y, y^2, p y) over samples of predictions [1 x] w, from the samples' gram and moment."""
    predicted = gram[0] @ weights  # (C,): the gram's first row is [n, sum x]
    squares = ((gram @ weights) * weights).sum(axis=0)
    return np.stack([predicted, squares, moment[0], target_squares, (weights * moment).sum(axis=0)])


def _r_from_sums(sums: np.ndarray, count: int) -> np.ndarray:
    """Return per channel the Pearson r from summed (p, p^2, y, y^2, p y) over `count` samples."""
    p, pp, y, yy, py = sums
    covariance = py - p * y / count
    variance = np.clip(pp - p * p / count, 0, None) * np.clip(yy - y * y / count, 0, None)
    return np.where(variance > 0, covariance / np.sqrt(np.where(variance > 0, variance, 1)), 0.0)


def fit_filters(maps: np.ndarray, probe_images: np.ndarray, window: Window) -> list[FilterFit] | None:
    """Fit one linear filter of the input per channel of (N, H, W, C) maps; None if the images are too few."""
    result = fit_filters_with_sums(maps, probe_images, window)
    return None if result is None else result.fits


def fit_filters_with_sums(maps: np.ndarray, images: np.ndarray, window: Window) -> FilterResult | None:
    """Fit the filters and keep per image the sums behind each channel's out-of-sample fit r (for the bootstrap)."""
    maps = np.asarray(maps, np.float64)
    count, height, width, channels = maps.shape
    weights_count = window.size * window.size
    if count * height * width < FILTER_SAMPLES_PER_WEIGHT * (weights_count + 1):
        return None
    with one_blas_thread():
        return _fit(maps, np.asarray(images), window)


def _fit(maps: np.ndarray, images: np.ndarray, window: Window) -> FilterResult:
    """Fit the filters of (N, H, W, C) maps on the (N, S, S) images (see fit_filters_with_sums)."""
    count, height, width, channels = maps.shape
    samples = height * width
    folds = _folds(count)
    in_sample = bool((folds < 0).all())
    grams, moments, squares = {}, {}, {}
    blocks = list(_fold_blocks(maps, images, window, folds))  # kept for the held-out predictions below
    for members, patches, targets in blocks:
        fold = int(folds[members[0]])
        grams[fold], moments[fold] = _design_sums(_scaled(patches), targets)
        squares[fold] = (targets * targets).sum(axis=0)
    gram, moment = sum(grams.values()), sum(moments.values())
    energy = float(np.trace(gram[1:, 1:])) / (window.size * window.size)  # mean input energy per weight
    penalties = [share * energy for share in RIDGE_GRID]
    full = _ridge_paths(gram, moment, count * samples, penalties)
    held_out = {fold: full if in_sample else
                _ridge_paths(gram - grams[fold], moment - moments[fold],
                             int((count - (folds == fold).sum()) * samples), penalties)
                for fold in grams}
    # Each penalty's out-of-sample r from the folds' own sums: sum p^2 = w' G_f w, sum p y = w' M_f, ...
    scores = [_r_from_sums(sum(_gram_r(grams[fold], moments[fold], squares[fold], held_out[fold][index])
                               for fold in grams), count * samples) for index in range(len(penalties))]
    best = max(range(len(penalties)), key=lambda index: (round(float(scores[index].mean()), 9), -index))
    solution = full[best]
    in_sample_r = _r_from_sums(_gram_r(gram, moment, sum(squares.values()), solution), count * samples)
    centre = maps.reshape(-1, channels).mean(axis=0)
    parts = [np.zeros((count, channels)) for _ in range(5)]
    for members, patches, targets in blocks:
        solved = held_out[int(folds[members[0]])][best]
        p = (_scaled(patches) @ solved[1:] + solved[0] - centre).reshape(len(members), samples, channels)
        y = (targets - centre).reshape(len(members), samples, channels)
        for total, part in zip(parts, (p.sum(axis=1), (p * p).sum(axis=1), y.sum(axis=1), (y * y).sum(axis=1),
                                       (p * y).sum(axis=1))):
            total[members] = part
    sums = PairSums(samples, *parts)
    fit_r = weighted_r(sums, np.ones((1, count)))[0]

    fits = []
    for c in range(channels):
        kernel = solution[1:, c].reshape(window.size, window.size)
        fits.append(FilterFit(size=window.size, stride=window.stride, offset=window.offset,
                              weights=significant(kernel, WEIGHT_DIGITS).tolist(), intercept=float(solution[0, c]),
                              fit_r=float(fit_r[c]),
                              in_sample_r=float(in_sample_r[c]), in_sample=in_sample, ridge=float(RIDGE_GRID[best]),
                              **filter_shape(kernel)))
    return FilterResult(fits=fits, sums=sums)
