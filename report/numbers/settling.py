"""How each recorded step of a layer compares with its last one, and when the layer settles.

    per_step = step_series("conv1", series, steps, copy_unit)   # series: (T, N, H, W, C), e.g. a LazyLayer
    timeline = settling_series(per_step.cka, per_step.r_with_final, per_step.spread)
    settled = settling_steps(timeline, steps)   # the pattern, contrast and settled steps

`step_series` compares each recorded step only with itself and with the last step, so the (T, P, C) float32
series (P = probes x positions) is never held whole: steps are read BLOCK_STEPS at a time
(capture/step_blocks.py) and reduced to (T, C) and (T,) series. Memory is one block, whatever the run's
length (a 2,900-step conv1 was 1.5 GB as one float32 array, and the analysis held several such).
The numbers are those the whole-array formulas give, per step:

    rms_to_final     (T, C)  RMS over P of each channel's map minus its final map
    r_with_final     (T, C)  Pearson r of each channel's map with its final map
    spread           (T, C)  each channel's standard deviation over P
    abs_copy_r       (T, C)  |r| of each channel's map with the pooled input (`copy_unit`, standardised)
    pair_mean_abs_r  (T,)    mean |r| over the pairs of different channels
    cka              (T,)    linear CKA with the last step (`linear_cka`)
    max_abs          (T,)    the largest |value|
    zero_share       (T, C)  each channel's share of values exactly 0 (dead units: report/numbers/channel_kinds.py)

`settling_series` turns them into the layer's settling series, per recorded step:
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

import math
from dataclasses import dataclass

import numpy as np

from capture.step_blocks import step_blocks
from report.numbers.reference_maps import standardise
from report.numbers.thresholds import INFORMATIVE_SHARE, SETTLED_MIN_CKA

BLOCK_STEPS = 32  # ~16 MB per float32 temporary for a 28x28x16 layer of 10 probes


@dataclass
class StepSeries:
    """A layer's per-step series (see the module docstring); `final` is its last step as (P, C) float32."""

    final: np.ndarray
    rms_to_final: np.ndarray
    r_with_final: np.ndarray
    spread: np.ndarray
    abs_copy_r: np.ndarray
    pair_mean_abs_r: np.ndarray
    cka: np.ndarray
    max_abs: np.ndarray
    zero_share: np.ndarray


def _flat(block: np.ndarray, channels: int) -> np.ndarray:
    return np.asarray(block).astype(np.float32).reshape(len(block), -1, channels)  # (B, P, C)


def step_series(name: str, series, steps: np.ndarray, copy_unit: np.ndarray) -> StepSeries:
    """Return the layer's per-step series; raise ValueError naming the first step with a non-finite value."""
    count, channels = len(series), int(np.shape(series)[-1])
    final = _flat(np.asarray(series[-1:]), channels)[0]  # (P, C)
    points = final.shape[0]
    final_unit, _ = standardise(final, axis=0)
    final_centred = final - final.mean(axis=0, keepdims=True)
    copy = copy_unit[:, 0].astype(np.float32)
    upper = np.triu_indices(channels, k=1)
    shape = (count, channels)
    out = {key: np.zeros(shape) for key in ("rms_to_final", "r_with_final", "spread", "abs_copy_r", "zero_share")}
    out.update({key: np.zeros(count) for key in ("pair_mean_abs_r", "cka", "max_abs")})
    first_bad = None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for positions, block in step_blocks(series, size=BLOCK_STEPS):
            flat = _flat(block, channels)  # (B, P, C)
            finite = np.isfinite(flat).all(axis=(1, 2))
            if first_bad is None and not finite.all():
                first_bad = int(positions[np.argmin(finite)])
            unit, norm = standardise(flat, axis=1)
            difference = flat - final[None]
            out["rms_to_final"][positions] = np.sqrt(
                np.einsum("tpc,tpc->tc", difference, difference, dtype=np.float64) / points)
            out["r_with_final"][positions] = np.einsum("tpc,pc->tc", unit, final_unit, dtype=np.float64)
            out["spread"][positions] = norm[:, 0, :].astype(np.float64) / math.sqrt(points)
            out["abs_copy_r"][positions] = np.abs(np.einsum("tpc,p->tc", unit, copy, dtype=np.float64))
            if channels > 1:
                pairs = np.abs((np.swapaxes(unit, 1, 2) @ unit).astype(np.float64))  # (B, C, C), float32 BLAS
                out["pair_mean_abs_r"][positions] = pairs[:, upper[0], upper[1]].mean(axis=1)
            out["cka"][positions] = linear_cka(flat, final_centred)
            out["max_abs"][positions] = np.abs(flat).max(axis=(1, 2))
            out["zero_share"][positions] = np.count_nonzero(flat == 0, axis=1) / points
    if first_bad is not None:
        raise ValueError(f"layer {name} has non-finite activations from step {int(np.asarray(steps)[first_bad])}: "
                         f"the run diverged; train again with a smaller learning_rate")
    return StepSeries(final=final, **out)


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
    from its (T,) CKA, (T, C) channel r with the final maps and (T, C) channel spreads (`step_series`)."""
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
