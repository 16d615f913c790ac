"""When each layer settles: its representation's similarity to its final one at every recorded step.

Use: `settling_series(cka, channel_r, spread)` takes a layer's per-step numbers (report/step_series.py,
P = probes x positions) and returns the per-step series; `settling_steps(series, steps)` reads the steps
from them. Pure numpy.

- `cka`: linear CKA (centred kernel alignment) between the layer at each step and at the last step, over
  all probes x positions as samples and channels as features: ||Y'X||^2 / (||X'X|| ||Y'Y||) with both
  centred (Frobenius norms). 1 when the two differ only by a rotation and a uniform scale of the channel
  space; it ignores contrast. For one channel it is r^2.
- `median_r`: the median over channels of each channel's r with its own final map.
- `relative_spread`: the median channel spread (standard deviation) as a share of its final value: the
  contrast the animation shows.

A layer's pattern is in place from the first step after which its CKA stays at least SETTLED_MIN_CKA; its
contrast from the first step after which its relative spread stays at least INFORMATIVE_SHARE; it has
settled (looks as it will at the end) from the later of the two.
"""

from __future__ import annotations

import numpy as np

from report.thresholds import INFORMATIVE_SHARE, SETTLED_MIN_CKA


def linear_cka(flat: np.ndarray, final_centred: np.ndarray | None = None) -> np.ndarray:
    """Return per step the linear CKA of a (T, P, C) series with its last step (or with `final_centred`, the
    last step's (P, C) values minus their mean over P, when the series is a block of the run), (T,) float64."""
    centred = flat - flat.mean(axis=1, keepdims=True)  # (T, P, C) float32
    last = centred[-1] if final_centred is None else final_centred
    transposed = np.swapaxes(centred, 1, 2)  # (T, C, P)
    # Batched matrix products in float32 (BLAS), summed up in float64: plenty for a similarity in [0, 1].
    cross = (transposed @ last).astype(np.float64)  # (T, C, C)
    own = (transposed @ centred).astype(np.float64)  # (T, C, C)
    final_gram = (last.T @ last).astype(np.float64)
    numerator = (cross ** 2).sum(axis=(1, 2))
    denominator = np.sqrt((own ** 2).sum(axis=(1, 2)) * (final_gram ** 2).sum())
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def settling_series(cka: np.ndarray, channel_r: np.ndarray, spread: np.ndarray) -> dict[str, list[float]]:
    """Return per recorded step the layer's CKA with its final state, median channel r and relative spread,
    from its (T,) CKA, (T, C) channel r with the final maps and (T, C) channel spreads (report.step_series)."""
    median_spread = np.median(spread, axis=1)  # (T,)
    relative = median_spread / median_spread[-1] if median_spread[-1] > 0 else np.zeros_like(median_spread)
    return {"cka": np.asarray(cka, np.float64).tolist(), "median_r": np.median(channel_r, axis=1).tolist(),
            "relative_spread": relative.tolist()}


def first_step_staying(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step from which a (T,) condition stays true to the end, or None if it ends false."""
    condition = np.asarray(condition, bool)
    if not condition.size or not condition[-1]:
        return None
    holds_after = np.flip(np.logical_and.accumulate(np.flip(condition)))
    return int(np.asarray(steps)[int(np.argmax(holds_after))])


def settling_steps(series: dict[str, list[float]], steps: np.ndarray) -> dict:
    """Return the pattern, contrast and settled steps of a layer from its settling series."""
    pattern = first_step_staying(np.asarray(series["cka"]) >= SETTLED_MIN_CKA, steps)
    contrast = first_step_staying(np.asarray(series["relative_spread"]) >= INFORMATIVE_SHARE, steps)
    settled = None if pattern is None or contrast is None else max(pattern, contrast)
    return {"pattern_step": pattern, "contrast_step": contrast, "settled_step": settled}
