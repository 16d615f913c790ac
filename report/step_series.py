"""A layer's per-step numbers, read a block of steps at a time: everything report.analysis needs of each step.

    per_step = step_series("conv1", series, steps, copy_unit)   # series: (T, N, H, W, C), e.g. a LazyLayer

Each recorded step is compared only with itself and with the last step, so the (T, P, C) float32 series
(P = probes x positions) is never held whole: steps are read BLOCK_STEPS at a time
(pipeline/step_blocks.py) and reduced to (T, C) and (T,) series. Memory is one block, whatever the run's
length (a 2,900-step conv1 was 1.5 GB as one float32 array, and the analysis held several such).
The numbers are those the whole-array formulas give, per step:

    rms_to_final     (T, C)  RMS over P of each channel's map minus its final map
    r_with_final     (T, C)  Pearson r of each channel's map with its final map
    spread           (T, C)  each channel's standard deviation over P
    abs_copy_r       (T, C)  |r| of each channel's map with the pooled input (`copy_unit`, standardised)
    pair_mean_abs_r  (T,)    mean |r| over the pairs of different channels
    cka              (T,)    linear CKA with the last step (report.settling.linear_cka)
    max_abs          (T,)    the largest |value|
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.step_blocks import step_blocks
from report.reference_maps import standardise
from report.settling import linear_cka

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
    out = {key: np.zeros(shape) for key in ("rms_to_final", "r_with_final", "spread", "abs_copy_r")}
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
    if first_bad is not None:
        raise ValueError(f"layer {name} has non-finite activations from step {int(np.asarray(steps)[first_bad])}: "
                         f"the run diverged; train again with a smaller learning_rate")
    return StepSeries(final=final, **out)
