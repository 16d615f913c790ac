"""When a layer and its channels settle, measured on the analysis set, with a bootstrap interval (issue 21).

    settled = settling_from_series(series, steps)   # series: one layer's `analysis/series/<layer>/...` arrays

`series` is {"cka_final": (B+1, G), "cka_next": (B+1, G), "pc1_share": (B+1, G), "channel_r": (G, C),
"channel_rms": (G, C), "channel_spread": (G, C)} over the G grid `steps` (docs/analysis-set.md); row 0 of a
(B+1, G) array is the full analysis set, rows 1..B its bootstrap resamples. Only cka_final and the channel
arrays are read here. The rules are those of report/numbers/settling.py and report/numbers/analysis.py:

- pattern_step: the first grid step from which cka_final[0] (debiased linear CKA with the last step) stays
  >= SETTLED_MIN_CKA; None when it is below at the last step.
- contrast_step: the first grid step from which the relative spread (the median over channels of
  channel_spread, divided by that median at the last step) stays >= INFORMATIVE_SHARE; None when it is not
  at the last step (a layer whose final median spread is 0).
- settled_step: the later of the two; None when either is None.
- resampled_settled[b - 1], b = 1..B: max(pattern step of cka_final[b], the full set's contrast step), where a
  pattern (or contrast) that never settles counts as the last grid step; never_share is the share of resamples
  where either never settles.
- settle_step_ci: [lo, hi], the 2.5th and 97.5th percentiles of resampled_settled, each taken at an observed
  value (lo rounded down, hi up: `percentile_interval(..., whole=True)`); [None, None] without resamples.
- channel_settle_steps[c]: the first grid step from which channel_rms[:, c] (RMS difference from its final map)
  stays <= max(SETTLE_TOLERANCE * channel_spread[-1, c], SETTLE_FLOOR); channel_pattern_steps[c]: the first
  from which channel_r[:, c] (Pearson r with its final map) stays >= PATTERN_MIN_R. The last grid step when
  never (as report/numbers/analysis.py does on the probes).
- grid_every: the median spacing of the grid steps (0 for a one-step grid), rounded to a whole step;
  last_step: the last grid step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.numbers.settling import first_step_staying, settling_series, settling_steps
from report.numbers.thresholds import PATTERN_MIN_R, SETTLE_FLOOR, SETTLE_TOLERANCE, SETTLED_MIN_CKA

PERCENTILES = (2.5, 97.5)  # a 95% bootstrap interval
RESAMPLED_KEYS = ("cka_final", "cka_next", "pc1_share")
CHANNEL_KEYS = ("channel_r", "channel_rms", "channel_spread")


@dataclass
class AnalysisSettling:
    """A layer's settling on the analysis set (see the module docstring for every definition)."""

    pattern_step: int | None
    contrast_step: int | None
    settled_step: int | None
    settle_step_ci: list[int | None]
    never_share: float
    resampled_settled: list[int]
    channel_settle_steps: list[int]
    channel_pattern_steps: list[int]
    grid_every: int
    last_step: int


def percentile_interval(values, *, whole: bool = False) -> list:
    """Return [2.5th, 97.5th] percentiles of the values (observed values, as ints, when whole); [None, None] if none."""
    values = np.asarray([value for value in values if value is not None], np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return [None, None]
    if whole:
        # Observed values, widened outwards, so that an interval of steps names grid steps and never narrows.
        low = np.percentile(values, PERCENTILES[0], method="lower")
        high = np.percentile(values, PERCENTILES[1], method="higher")
        return [int(low), int(high)]
    return [float(value) for value in np.percentile(values, PERCENTILES)]


def check_series(series: dict, steps) -> tuple[np.ndarray, int]:
    """Return the grid steps as int64 and B; raise ValueError naming the first array of the wrong shape."""
    steps = np.asarray(steps).astype(np.int64)
    if steps.ndim != 1 or not steps.size:
        raise ValueError(f"expected a non-empty 1-D grid of steps, got shape {steps.shape}")
    missing = [key for key in RESAMPLED_KEYS + CHANNEL_KEYS if key not in series]
    if missing:
        raise ValueError(f"the analysis series lack {', '.join(missing)}")
    rows = np.shape(series["cka_final"])[0] if np.ndim(series["cka_final"]) == 2 else 0
    channels = np.shape(series["channel_r"])[-1] if np.ndim(series["channel_r"]) == 2 else 0
    for key in RESAMPLED_KEYS + CHANNEL_KEYS:
        shape = np.shape(series[key])
        expected = (rows, len(steps)) if key in RESAMPLED_KEYS else (len(steps), channels)
        if shape != expected or not rows or not channels:
            raise ValueError(f"analysis series {key}: expected shape {expected} for {len(steps)} grid steps, "
                             f"got {shape}")
    return steps, rows - 1


def channel_steps(series: dict, steps: np.ndarray) -> tuple[list[int], list[int]]:
    """Return per channel its settle step and pattern step on the analysis set (last step when never)."""
    rms = np.asarray(series["channel_rms"], np.float64)
    spread = np.asarray(series["channel_spread"], np.float64)
    tolerance = np.maximum(SETTLE_TOLERANCE * spread[-1], SETTLE_FLOOR)  # (C,)
    settle = _first_steps_staying(rms <= tolerance[None], steps)
    pattern = _first_steps_staying(np.asarray(series["channel_r"], np.float64) >= PATTERN_MIN_R, steps)
    return settle, pattern


def _first_steps_staying(condition: np.ndarray, steps: np.ndarray) -> list[int]:
    """Return per column of a (G, C) condition the first step from which it stays true, the last step if never."""
    # The condition holds from row g on exactly where the reversed cumulative AND is true.
    holds_after = np.flip(np.logical_and.accumulate(np.flip(condition, 0), axis=0), 0)
    first = np.where(holds_after.any(axis=0), holds_after.argmax(axis=0), len(steps) - 1)
    return [int(step) for step in steps[first]]


def settling_from_series(series: dict, steps) -> AnalysisSettling:
    """Return the layer's settling on the analysis set and its bootstrap interval from its analysis series."""
    steps, resamples = check_series(series, steps)
    cka = np.asarray(series["cka_final"], np.float64)
    spread = np.asarray(series["channel_spread"], np.float64)
    # The same functions as on the probes, so the two definitions cannot drift apart.
    full = settling_steps(settling_series(cka[0], np.asarray(series["channel_r"]), spread), steps)
    last = int(steps[-1])
    contrast = full["contrast_step"]
    resampled, never = [], 0
    for row in cka[1:]:
        pattern = first_step_staying(row >= SETTLED_MIN_CKA, steps)
        never += pattern is None or contrast is None
        # Never settling within the run is counted as settling at its end: the latest rank, the last step.
        resampled.append(max(last if pattern is None else pattern, last if contrast is None else contrast))
    settle, pattern_steps = channel_steps(series, steps)
    return AnalysisSettling(
        pattern_step=full["pattern_step"], contrast_step=contrast, settled_step=full["settled_step"],
        settle_step_ci=percentile_interval(resampled, whole=True),
        never_share=never / resamples if resamples else 0.0,
        resampled_settled=resampled, channel_settle_steps=settle, channel_pattern_steps=pattern_steps,
        grid_every=int(round(float(np.median(np.diff(steps))))) if len(steps) > 1 else 0, last_step=last,
    )
