"""Name a channel's kind from its numbers: idle, saturated, copy, silhouette, edge or other, and whether it is sure.

Use: `label_channel(copy_r, best_edge_r, spread, saturated_share, fit, silhouette_r, terms=LayerTerms(...))` returns a
`KindLabel`; `classify(...)` the kind by correlation alone with COPY_MIN_R as the bar; `kind_codes(LabelInputs(...),
rule)` the same rule over arrays (every bootstrap resample, or a variant's thresholds: `LabelRule`) as indices into
CHANNEL_KINDS; `copy_bars(...)` a layer's bars from its baseline (report/numbers/robust/baseline.py).

A channel's kind is the first that applies of: idle (spread < IDLE_MAX_STD, or the layer's own idle limit),
saturated (share >= SATURATED_MIN_SHARE); then its picture match, the same in both bases: a silhouette when its
|r| with the silhouette mask reaches the layer's silhouette bar and exceeds its |r| with the input by
SILHOUETTE_MARGIN, else a copy when its |r| with the input reaches the layer's copy bar. A layer's copy bar is
COPY_MIN_R or, where higher, what a random positive blur over its window gives (the COPY_BASELINE_QUANTILE
quantile of their |r|); its silhouette bar likewise against the mask, and none where the mask and the input are
the same picture at the layer's resolution (|r| >= PATTERN_MIN_R). Then, when its filter
(report/numbers/filters.py) predicts it at r >= FILTER_MIN_R, by the filter's shape (basis "filter"): other if
neither shape score reaches SHAPE_MIN_SCORE, edge if the edge share is above 0.5, else (a blob) its picture match,
or other when it has none (a blur no closer to the input than random positive blurs); otherwise by correlation
(basis "correlation"): of the picture match and edge (best |edge r| >= EDGE_MIN_R) the one that passes, the larger
when both do, else other. A kind is borderline (with an alternative) when moving its deciding numbers by their
margin (BORDERLINE_R for r, BORDERLINE_SHAPE for shape scores) would change it.

A layer's activation regime decides which of these statistics apply: `regime_of(series, activation, scale)`
returns ("bounded" | "non-negative" | "signed", scale): tanh-like layers (report.capture_facts.BOUNDED_ACTIVATIONS)
are bounded to -1..1 and get saturation statistics; any other layer gets the colour scale the page draws it
with (pipeline.scales.choose_scale), is "non-negative" when no value of the run is below 0 (ReLU and the like:
its shares of exact zeros are stated) and "signed" otherwise. `idle_limit_for(scale)` is the spread below which
a channel is idle; `mostly_zero_checks` the per-channel checks (report/numbers/checks.py) of MOSTLY_ZERO_SHARE;
`dead_steps` the step from which a non-negative layer's channel is dead (exactly 0 on at least DEAD_ZERO_SHARE of
its values from then to the end), which the words state instead of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.capture_facts import BOUNDED_ACTIVATIONS
from report.numbers.checks import ChannelCheck, check
from report.numbers.filters import FilterFit
from report.numbers.findings import CHANNEL_KINDS, CopyBaseline
from report.numbers.thresholds import (
    BORDERLINE_R,
    BORDERLINE_SHAPE,
    BORDERLINE_SHARE,
    COPY_MIN_R,
    DEAD_ZERO_SHARE,
    EDGE_MIN_R,
    FILTER_MIN_R,
    IDLE_MAX_SCALE_SHARE,
    IDLE_MAX_STD,
    MOSTLY_ZERO_SHARE,
    PATTERN_MIN_R,
    SATURATED_MIN_SHARE,
    SHAPE_MIN_SCORE,
    SILHOUETTE_MARGIN,
)

SCALE_KEYS = ("kind", "domain", "basis", "clipped_values", "negative_values")
COPY, SILHOUETTE, EDGE, OTHER, IDLE, SATURATED = (CHANNEL_KINDS.index(kind) for kind in CHANNEL_KINDS)


@dataclass(frozen=True)
class KindLabel:
    """A channel's kind, what decided it, and the kind it could as well be when it is borderline."""

    kind: str  # one of CHANNEL_KINDS
    basis: str  # filter, correlation, spread (idle), saturation or units (1x1 maps)
    borderline: bool
    alternative: str | None  # the kind a move within the margin would give (None: not borderline)


@dataclass(frozen=True)
class LabelRule:
    """The thresholds a label is decided by (the named defaults, or a variant's moved ones).

    A rule that moves copy_min_r moves the layer's baseline bars (copy_bars) by as much.
    """

    copy_min_r: float = COPY_MIN_R
    edge_min_r: float = EDGE_MIN_R
    filter_min_r: float = FILTER_MIN_R
    shape_min_score: float = SHAPE_MIN_SCORE
    edge_share_line: float = 0.5  # a filter is an edge when its edge share is above this
    silhouette_margin: float = SILHOUETTE_MARGIN


@dataclass(frozen=True)
class LayerTerms:
    """What a layer's labels are judged against besides each channel's own numbers."""

    idle_limit: float = IDLE_MAX_STD  # the spread below which a channel is idle
    spatial: bool = True  # False for 1x1 maps: no picture, so a working channel is "other" ("units")
    baseline: CopyBaseline | None = None  # None: COPY_MIN_R is the copy bar and no channel is a silhouette


@dataclass
class LabelInputs:
    """The numbers a layer's labels rest on, as arrays broadcasting to (R, C) (R: resamples, or 1)."""

    copy_abs: np.ndarray
    edge_abs: np.ndarray
    spread: np.ndarray
    saturated: np.ndarray | None  # None: not a bounded layer
    fit_r: np.ndarray | None  # None: no filters fitted
    blob: np.ndarray | None  # (C,) the filters' shape scores, fixed
    edge: np.ndarray | None
    edge_share: np.ndarray | None
    silhouette_abs: np.ndarray | None = None  # None: not measured (no channel is a silhouette)
    baseline: CopyBaseline | None = None  # the layer's, fixed (None: COPY_MIN_R alone)


def copy_bars(copy_high: float, silhouette_high: float, silhouette_input_r: float) -> tuple[float, float | None]:
    """Return the |r| a copy and a silhouette must reach at a layer: COPY_MIN_R, or the baseline where higher.

    The silhouette bar is None where the pooled mask and the pooled input are the same picture (|r| >=
    PATTERN_MIN_R, the bar at which a channel's map counts as its final picture): there no channel can be said to
    follow the one rather than the other (MNIST's strokes below 28x28), and a match is a copy.
    """
    copy_bar = max(COPY_MIN_R, float(copy_high))
    if abs(silhouette_input_r) >= PATTERN_MIN_R:
        return copy_bar, None
    return copy_bar, max(COPY_MIN_R, float(silhouette_high))


def _bars(rule: LabelRule, baseline: CopyBaseline | None) -> tuple[float, float | None]:
    """Return the copy and silhouette bars under a rule (moved by as much as it moves COPY_MIN_R)."""
    if baseline is None:
        return rule.copy_min_r, None
    shift = rule.copy_min_r - COPY_MIN_R
    silhouette = None if baseline.silhouette_bar is None else baseline.silhouette_bar + shift
    return baseline.copy_bar + shift, silhouette


def _picture_kind(copy_abs: float, silhouette_abs: float, bars: tuple[float, float | None],
                  margin: float) -> tuple[str | None, float]:
    """Return whether a channel is a silhouette, a copy or neither (None), and the |r| of its match."""
    copy_bar, silhouette_bar = bars
    if silhouette_bar is not None and silhouette_abs >= silhouette_bar and silhouette_abs >= copy_abs + margin:
        return "silhouette", silhouette_abs
    if copy_abs >= copy_bar:
        return "copy", copy_abs
    return None, copy_abs


def _correlation_kind(copy_abs: float, edge_abs: float, rule: LabelRule = LabelRule(), silhouette_abs: float = 0.0,
                      bars: tuple[float, float | None] | None = None) -> str:
    """Name a working channel by its |r| with the input, its silhouette and its best edge map."""
    picture, matched = _picture_kind(copy_abs, silhouette_abs, bars or (rule.copy_min_r, None),
                                     rule.silhouette_margin)
    edge_ok = edge_abs >= rule.edge_min_r
    if picture and edge_ok:
        return "edge" if edge_abs > matched else picture
    return "edge" if edge_ok else picture or "other"


def _shape_kind(shape: tuple[float, float, float], picture: str | None, rule: LabelRule = LabelRule()) -> str:
    """Name a working channel by its fitted filter's (blob, edge, edge share): a blob is a copy or a silhouette
    only when its |r| passes the same bars as by correlation (`picture`), else unnamed."""
    blob, edge, edge_share = shape
    if max(abs(blob), abs(edge)) < rule.shape_min_score:
        return "other"
    return "edge" if edge_share > rule.edge_share_line else picture or "other"


def classify(copy_r: float, best_edge_r: float, spread: float, saturated_share: float | None,
             idle_limit: float = IDLE_MAX_STD) -> str:
    """Name a channel's kind by correlation: idle, saturated, then edge, copy or other (COPY_MIN_R as the bar)."""
    if spread < idle_limit:
        return "idle"
    if saturated_share is not None and saturated_share >= SATURATED_MIN_SHARE:
        return "saturated"
    return _correlation_kind(abs(copy_r), abs(best_edge_r))


def _alternative(kind: str, trials: list[str]) -> str | None:
    """Return the first kind (in CHANNEL_KINDS order) among trials that differs from `kind`, else None."""
    others = {trial for trial in trials if trial != kind}
    return next((name for name in CHANNEL_KINDS if name in others), None)


def _working_kind(rs: tuple[float, float, float], shape: tuple[float, float, float] | None,
                  bars: tuple[float, float | None]) -> str:
    """Return a working channel's kind from its (copy, silhouette, edge) |r| and, by filter, its shape."""
    copy_abs, silhouette_abs, edge_abs = (max(value, 0.0) for value in rs)
    if shape is None:
        return _correlation_kind(copy_abs, edge_abs, silhouette_abs=silhouette_abs, bars=bars)
    picture, _ = _picture_kind(copy_abs, silhouette_abs, bars, SILHOUETTE_MARGIN)
    return _shape_kind(shape, picture)


# Moves of the (copy, silhouette, edge) |r| by BORDERLINE_R: each alone, and each pair against each other.
_R_MOVES = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1),
            (1, 0, -1), (-1, 0, 1), (1, -1, 0), (-1, 1, 0), (0, 1, -1), (0, -1, 1))


def label_channel(copy_r: float, best_edge_r: float, spread: float, saturated_share: float | None,
                  fit: FilterFit | None = None, silhouette_r: float = 0.0, *,
                  terms: LayerTerms = LayerTerms()) -> KindLabel:
    """Return a channel's kind, its basis and whether it is borderline (see the module docstring).

    saturated_share None: the layer is not bounded, so no channel is saturated; terms: the layer's idle limit,
    whether it has a picture (1x1 maps do not: a working channel is "other", basis "units") and its baseline.
    """
    if spread < terms.idle_limit:
        return KindLabel("idle", "spread", False, None)
    if saturated_share is not None and saturated_share >= SATURATED_MIN_SHARE:
        return KindLabel("saturated", "saturation", False, None)
    if not terms.spatial:
        return KindLabel("other", "units", False, None)
    bars = _bars(LabelRule(), terms.baseline)
    rs = (abs(copy_r), abs(silhouette_r), abs(best_edge_r))
    moved_rs = [tuple(r + BORDERLINE_R * d for r, d in zip(rs, move)) for move in _R_MOVES]
    if fit is not None and fit.fit_r >= FILTER_MIN_R:
        shape = (abs(fit.blob), abs(fit.edge), fit.edge_share)
        m = BORDERLINE_SHAPE
        trials = [_working_kind(rs, (shape[0] + db, shape[1] + de, shape[2] + ds), bars)
                  for db, de, ds in ((m, m, 0), (-m, -m, 0), (0, 0, m), (0, 0, -m))]
        trials += [_working_kind(moved, shape, bars) for moved in moved_rs]
        basis = "filter"
    else:
        shape = None
        trials = [_working_kind(moved, None, bars) for moved in moved_rs]
        basis = "correlation"
    kind = _working_kind(rs, shape, bars)
    alternative = _alternative(kind, trials)
    return KindLabel(kind, basis, alternative is not None, alternative)


def kind_codes(inputs: LabelInputs, rule: LabelRule = LabelRule(), *, idle_limit: float = IDLE_MAX_STD,
               spatial: bool = True) -> np.ndarray:
    """Return label_channel's kinds over arrays as (R, C) indices into CHANNEL_KINDS (ties as label_channel)."""
    copy_abs, edge_abs = np.atleast_2d(inputs.copy_abs), np.atleast_2d(inputs.edge_abs)
    copy_bar, silhouette_bar = _bars(rule, inputs.baseline)
    if silhouette_bar is None or inputs.silhouette_abs is None:
        silhouette_ok = np.zeros(copy_abs.shape, bool)
        silhouette_abs = np.zeros(copy_abs.shape)
    else:
        silhouette_abs = np.atleast_2d(inputs.silhouette_abs)
        silhouette_ok = (silhouette_abs >= silhouette_bar) & (silhouette_abs >= copy_abs + rule.silhouette_margin)
    copy_ok = ~silhouette_ok & (copy_abs >= copy_bar)
    picture = np.where(silhouette_ok, SILHOUETTE, np.where(copy_ok, COPY, OTHER))
    matched = np.where(silhouette_ok, silhouette_abs, copy_abs)
    edge_ok = edge_abs >= rule.edge_min_r
    by_correlation = np.where(edge_ok & ((picture == OTHER) | (edge_abs > matched)), EDGE, picture)
    codes = by_correlation if spatial else np.full(copy_abs.shape, OTHER)
    if spatial and inputs.fit_r is not None:
        strong = np.maximum(np.abs(inputs.blob), np.abs(inputs.edge)) >= rule.shape_min_score
        by_shape = np.where(strong, np.where(inputs.edge_share > rule.edge_share_line, EDGE, picture), OTHER)
        codes = np.where(np.atleast_2d(inputs.fit_r) >= rule.filter_min_r, by_shape, codes)
    if inputs.saturated is not None:
        codes = np.where(np.atleast_2d(inputs.saturated) >= SATURATED_MIN_SHARE, SATURATED, codes)
    return np.where(np.atleast_2d(inputs.spread) < idle_limit, IDLE, codes)


# --- Activation regimes -----------------------------------------------------------------------------


def regime_of(series: np.ndarray, activation: str | None, scale: dict | None = None) -> tuple[str, dict | None]:
    """Return the layer's regime (bounded, non-negative, signed) and, when it is not bounded, its colour scale.

    `scale` is the scale the render stage chose for this layer (its manifest entry); without it (or from an
    older manifest lacking a key) it is chosen again here, a full pass over the layer.
    """
    if (activation or "").lower() in BOUNDED_ACTIVATIONS:
        return "bounded", None
    if scale is None or any(key not in scale for key in SCALE_KEYS):
        from pipeline.scales import choose_scale  # the page's own scale, so that "idle" means invisible on it

        scale = choose_scale(series, activation)
    kept = {key: scale[key] for key in ("kind", "domain", "basis", "clipped_values")}
    return ("non-negative" if scale["negative_values"] == 0 else "signed"), kept


def mostly_zero_checks(zero_share: np.ndarray, kinds: list[str], dead: list[bool] | None = None) -> list[ChannelCheck]:
    """Return one check per working channel of a non-negative layer (not idle, not dead): exactly 0 on most values?"""
    dead = dead or [False] * len(kinds)
    return [ChannelCheck(**vars(check("share of values exactly 0", float(share), MOSTLY_ZERO_SHARE,
                                      margin=BORDERLINE_SHARE, subject=f"channel {c + 1}", unit="share")), channel=c)
            for c, (share, kind, gone) in enumerate(zip(zero_share, kinds, dead)) if kind != "idle" and not gone]


def dead_steps(zero_share: np.ndarray, steps: np.ndarray, final_share: np.ndarray | None = None) -> list[int | None]:
    """Return per channel of a non-negative layer the step from which it is dead, or None.

    zero_share: (T, C) each recorded step's share of the channel's probe values that are exactly 0; a channel is
    dead from the first step from which that share stays at least DEAD_ZERO_SHARE to the last step, provided its
    share on the analysis images at the last step (`final_share`, (C,); None: the run kept none) is too.
    """
    zero_share = np.asarray(zero_share, np.float64)
    steps = np.asarray(steps)
    holds = zero_share >= DEAD_ZERO_SHARE  # (T, C)
    after = np.flip(np.logical_and.accumulate(np.flip(holds, 0), axis=0), 0)  # holds from row t to the end
    out = []
    for c in range(zero_share.shape[1]):
        if not after[-1, c] or (final_share is not None and final_share[c] < DEAD_ZERO_SHARE):
            out.append(None)
        else:
            out.append(int(steps[int(np.argmax(after[:, c]))]))
    return out


def idle_limit_for(scale: dict | None) -> float:
    """Return the idle spread: IDLE_MAX_STD in tanh units, else IDLE_MAX_SCALE_SHARE of the scale's upper end."""
    return IDLE_MAX_STD if scale is None else IDLE_MAX_SCALE_SHARE * float(scale["domain"][1])
