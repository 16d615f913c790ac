"""Checks from the representation-learning literature, on the analysis set, with 95% bootstrap intervals.

    research = layer_research(series, steps)                       # per layer, from its analysis series
    run = run_research([(name, research, settled), ...], train_loss, total_steps)   # settled: AnalysisSettling

`series` and `steps` are those of report/numbers/analysis_settling.py (docs/analysis-set.md): row 0 of a
(B+1, G) array is the full analysis set and gives each point value; rows 1..B are bootstrap resamples, and each
`_ci` is [2.5th, 97.5th] percentile of the B resampled values (`percentile_interval`: observed grid steps,
widened outwards, for steps; [None, None] without resamples or where every resample is undefined).

Per layer (`LayerResearch`):
- change_done_10, change_done_25: the share of the layer's total representational change done by 10% and 25%
  of training. change(t) = 1 - cka_final(t), linearly interpolated between grid steps; the step at fraction f
  is steps[0] + f (steps[-1] - steps[0]); share done by s = (change(steps[0]) - change(s)) / change(steps[0]).
  None where change(steps[0]) < MIN_CHANGE (the layer hardly changed at all). Not clipped: a share above 1
  or below 0 says the representation overshot or moved away first.
- pc1_share_end: the share of the channel covariance's variance in its first principal component at the last
  grid step (effective dimensionality: near 1 means one direction dominates); pc1_peak_step and
  pc1_peak_share: the grid step where the full set's share is largest (the first such) and that share.
- speed_peak_step: the grid step steps[g] (g >= 1) where the speed of change (1 - cka_next[g]) /
  (steps[g] - steps[g-1]) is largest (the first such); None for a one-step grid. resampled_speed_peak holds
  it per resample.

Per run (`RunResearch`):
- depth_settle_spearman: the Spearman rank correlation between depth (the layers' order, 0..L-1) and settled
  step (ties average-ranked; a layer that never settles ranks at the last step), per resample from
  AnalysisSettling.resampled_settled; None with fewer than 3 layers or no variation in either. Positive means
  lower layers settle first.
- loss_drop_step: where the training loss falls fastest. train_loss[k] is the batch loss of step k + 1; with
  window w = max(5, total_steps // 50), the w-step moving average m[k] = mean(train_loss[k:k+w]) is centred on
  step k + (w + 1) / 2, and its slope m[k+1] - m[k] = (train_loss[k+w] - train_loss[k]) / w is placed on step
  k + 1 + w // 2; the step with the most negative slope (the first such). None with fewer than w + 1 losses.
- speed_lag[layer] = speed_peak_step - loss_drop_step (near 0: representational change peaks at the loss drop);
  median_speed_lag: the median over layers, its interval from the per-resample medians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.numbers.analysis_settling import AnalysisSettling, check_series, percentile_interval

FRACTIONS = (0.10, 0.25)  # the points of training at which the share of change done is read
MIN_CHANGE = 1e-6  # below this the layer's total change is float noise and a share of it means nothing
MIN_WINDOW = 5
WINDOW_SHARE = 50  # the loss window is total_steps // this: 2% of training


@dataclass
class LayerResearch:
    """One layer's research checks (see the module docstring for every definition)."""

    change_done_10: float | None
    change_done_10_ci: list[float | None]
    change_done_25: float | None
    change_done_25_ci: list[float | None]
    pc1_share_end: float
    pc1_share_end_ci: list[float | None]
    pc1_peak_step: int
    pc1_peak_share: float
    speed_peak_step: int | None
    speed_peak_step_ci: list[int | None]
    resampled_speed_peak: list[int | None]


@dataclass
class RunResearch:
    """The run's research checks (see the module docstring for every definition)."""

    depth_settle_spearman: float | None
    depth_settle_spearman_ci: list[float | None]
    loss_drop_step: int | None
    loss_window: int
    speed_lag: dict[str, int | None]
    speed_lag_ci: dict[str, list[int | None]]
    median_speed_lag: float | None
    median_speed_lag_ci: list[float | None]


def change_done(cka_final: np.ndarray, steps: np.ndarray, fraction: float) -> list[float | None]:
    """Return per row of a (R, G) cka_final the share of the change from the first step done by the fraction."""
    change = 1.0 - np.asarray(cka_final, np.float64)
    steps = np.asarray(steps, np.float64)
    at = steps[0] + fraction * (steps[-1] - steps[0])
    out = []
    for row in change:
        first = row[0]
        out.append(float((first - np.interp(at, steps, row)) / first) if abs(first) >= MIN_CHANGE else None)
    return out


def speed_peaks(cka_next: np.ndarray, steps: np.ndarray) -> list[int | None]:
    """Return per row of a (R, G) cka_next the grid step where (1 - cka_next) per step of training is largest."""
    cka_next = np.asarray(cka_next, np.float64)
    if cka_next.shape[1] < 2:
        return [None] * len(cka_next)
    spacing = np.diff(np.asarray(steps, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        # A repeated grid step (spacing 0) has no speed; NaN keeps it out of the argmax.
        speed = np.where(spacing > 0, (1.0 - cka_next[:, 1:]) / np.where(spacing > 0, spacing, 1), np.nan)
    out = []
    for row in speed:
        finite = np.isfinite(row)
        out.append(int(steps[1 + int(np.argmax(np.where(finite, row, -np.inf)))]) if finite.any() else None)
    return out


def layer_research(series: dict, steps) -> LayerResearch:
    """Return one layer's research checks from its analysis series over the grid steps."""
    steps, _ = check_series(series, steps)
    cka_final = np.asarray(series["cka_final"], np.float64)
    pc1 = np.asarray(series["pc1_share"], np.float64)
    done = {fraction: change_done(cka_final, steps, fraction) for fraction in FRACTIONS}
    peaks = speed_peaks(series["cka_next"], steps)
    peak = int(np.argmax(pc1[0]))
    return LayerResearch(
        change_done_10=done[0.10][0], change_done_10_ci=percentile_interval(done[0.10][1:]),
        change_done_25=done[0.25][0], change_done_25_ci=percentile_interval(done[0.25][1:]),
        pc1_share_end=float(pc1[0, -1]), pc1_share_end_ci=percentile_interval(pc1[1:, -1]),
        pc1_peak_step=int(steps[peak]), pc1_peak_share=float(pc1[0, peak]),
        speed_peak_step=peaks[0], speed_peak_step_ci=percentile_interval(peaks[1:], whole=True),
        resampled_speed_peak=peaks[1:],
    )


def average_ranks(values) -> np.ndarray:
    """Return the ranks 1..n of the values, ties given the average of the ranks they span."""
    values = np.asarray(values, np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x, y) -> float | None:
    """Return the Spearman rank correlation of two equal-length sequences, None below 3 values or without variation."""
    if len(x) != len(y) or len(x) < 3:
        return None
    first, second = average_ranks(x), average_ranks(y)
    first, second = first - first.mean(), second - second.mean()
    scale = np.sqrt((first ** 2).sum() * (second ** 2).sum())
    return float((first * second).sum() / scale) if scale > 0 else None


def loss_drop(train_loss, total_steps: int) -> tuple[int | None, int]:
    """Return the step where the w-step moving average of the training loss falls fastest, and w."""
    window = max(MIN_WINDOW, int(total_steps) // WINDOW_SHARE)
    loss = np.asarray(train_loss, np.float64)
    if loss.ndim != 1 or len(loss) < window + 1:
        return None, window
    # The moving average's step-to-step slope telescopes to the loss w steps apart over w.
    slope = (loss[window:] - loss[:-window]) / window
    finite = np.isfinite(slope)
    if not finite.any():
        return None, window
    start = int(np.argmin(np.where(finite, slope, np.inf)))
    return start + 1 + window // 2, window


def _difference(value: int | None, drop: int | None) -> int | None:
    return None if value is None or drop is None else int(value - drop)


def _median(values: list) -> float | None:
    known = [value for value in values if value is not None]
    return float(np.median(known)) if known else None


def run_research(layers: list[tuple[str, LayerResearch, AnalysisSettling]], train_loss: np.ndarray,
                 total_steps: int) -> RunResearch:
    """Return the run's research checks from its layers (in depth order) and its per-step training loss."""
    resamples = {len(settled.resampled_settled) for _, _, settled in layers}
    resamples |= {len(research.resampled_speed_peak) for _, research, _ in layers}
    if len(resamples) > 1:
        raise ValueError(f"the layers' analysis series have different numbers of resamples: {sorted(resamples)}")
    count = resamples.pop() if resamples else 0
    depth = list(range(len(layers)))
    # A layer that never settles within the run ranks as settling at its end, as in the resamples.
    full = [settled.last_step if settled.settled_step is None else settled.settled_step for _, _, settled in layers]
    point = spearman(depth, full)
    per_resample = [spearman(depth, [settled.resampled_settled[b] for _, _, settled in layers]) for b in range(count)]

    drop, window = loss_drop(train_loss, total_steps)
    lags = {name: _difference(research.speed_peak_step, drop) for name, research, _ in layers}
    resampled_lags = {name: [_difference(peak, drop) for peak in research.resampled_speed_peak]
                      for name, research, _ in layers}
    medians = [_median([resampled_lags[name][b] for name, _, _ in layers]) for b in range(count)]
    return RunResearch(
        depth_settle_spearman=point, depth_settle_spearman_ci=percentile_interval(per_resample),
        loss_drop_step=drop, loss_window=window,
        speed_lag=lags, speed_lag_ci={name: percentile_interval(values, whole=True)
                                      for name, values in resampled_lags.items()},
        median_speed_lag=_median(list(lags.values())), median_speed_lag_ci=percentile_interval(medians),
    )
