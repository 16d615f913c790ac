"""Per-image sums from which a weighted (bootstrap) Pearson r is a few matrix products.

Use: `pair_sums(a, b)` takes (A, P, C) values and (A, P) or (A, P, C) references over A images x P positions and
returns their `PairSums`; `weighted_r(sums, counts)` the (R, C) Pearson r of each row of (R, A) image weights
(capture/bootstrap.py's resample counts: row 0 all ones is the full set). `weighted_moments(sum_x, sum_xx, count,
counts)` the weighted mean and standard deviation. Both values are shifted by their full-set mean before
summing (r does not change; float64 keeps the cancellation small).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PairSums:
    """Per image sums over positions of a, a^2, b, b^2 and a*b; `positions` per image."""

    positions: int
    a: np.ndarray  # (A, C)
    aa: np.ndarray  # (A, C)
    b: np.ndarray  # (A, C) or (A, 1)
    bb: np.ndarray
    ab: np.ndarray  # (A, C)


def shifted(values: np.ndarray) -> np.ndarray:
    """Return (A, P, C) values minus their mean over images and positions, float64."""
    values = np.asarray(values, np.float64)
    return values - values.mean(axis=(0, 1), keepdims=True)


def pair_sums(a: np.ndarray, b: np.ndarray) -> PairSums:
    """Return the per-image sums of (A, P, C) values `a` and (A, P) or (A, P, C) references `b`."""
    a = shifted(a)
    b = np.asarray(b, np.float64)
    b = shifted(b[..., None] if b.ndim == 2 else b)
    return PairSums(positions=a.shape[1], a=a.sum(axis=1), aa=np.einsum("apc,apc->ac", a, a),
                    b=b.sum(axis=1), bb=np.einsum("apc,apc->ac", b, b),
                    ab=np.einsum("apc,apc->ac", a, b) if b.shape[2] > 1 else np.einsum("apc,ap->ac", a, b[..., 0]))


def weighted_r(sums: PairSums, counts: np.ndarray) -> np.ndarray:
    """Return the (R, C) Pearson r of a with b, image i weighted by counts[row, i] (0 where either is constant)."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum(axis=1, keepdims=True) * sums.positions  # (R, 1)
    sa, sb = counts @ sums.a, counts @ sums.b
    cov = counts @ sums.ab - sa * sb / total
    var_a = counts @ sums.aa - sa * sa / total
    var_b = counts @ sums.bb - sb * sb / total
    denominator = np.sqrt(np.clip(var_a, 0, None) * np.clip(var_b, 0, None))
    return np.where(denominator > 0, cov / np.where(denominator > 0, denominator, 1), 0.0)


def weighted_spread(sums: PairSums, counts: np.ndarray) -> np.ndarray:
    """Return the (R, C) standard deviation of a over images x positions, image i weighted by counts[row, i]."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum(axis=1, keepdims=True) * sums.positions
    mean = (counts @ sums.a) / total
    return np.sqrt(np.clip((counts @ sums.aa) / total - mean * mean, 0, None))


def weighted_share(per_image: np.ndarray, positions: int, counts: np.ndarray) -> np.ndarray:
    """Return the (R, C) share of positions counted per image in (A, C) `per_image`, weighted by counts."""
    counts = np.asarray(counts, np.float64)
    return (counts @ np.asarray(per_image, np.float64)) / (counts.sum(axis=1, keepdims=True) * positions)
