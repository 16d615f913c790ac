"""Name a channel's kind from its numbers: idle, saturated, copy, edge or other, and whether that is borderline.

Use: `label_channel(copy_r, best_edge_r, spread, saturated_share, fit)` returns a `KindLabel`; `classify(...)`
the kind by correlation alone; `kind_codes(LabelInputs(...), rule)` the same rule over arrays (every bootstrap
resample, or a variant's thresholds: `LabelRule`) as indices into CHANNEL_KINDS. A channel's kind is the first
that applies of: idle (spread < IDLE_MAX_STD, or the layer's own idle limit), saturated (share >=
SATURATED_MIN_SHARE); then, when its filter (report/numbers/filters.py) predicts it at r >= FILTER_MIN_R, by
the filter's shape (basis "filter"): other if neither shape score reaches SHAPE_MIN_SCORE, edge if the edge
share is above 0.5, else copy; otherwise by correlation (basis "correlation"): of copy (|copy r| >=
COPY_MIN_R) and edge (best |edge r| >= EDGE_MIN_R) the one that passes, the larger when both do, else other.
A kind is borderline (with an alternative) when moving its deciding numbers by their margin (BORDERLINE_R for
r, BORDERLINE_SHAPE for shape scores) would change it.

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
from report.numbers.findings import CHANNEL_KINDS
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
    SATURATED_MIN_SHARE,
    SHAPE_MIN_SCORE,
)

SCALE_KEYS = ("kind", "domain", "basis", "clipped_values", "negative_values")
COPY, EDGE, OTHER, IDLE, SATURATED = (CHANNEL_KINDS.index(kind) for kind in ("copy", "edge", "other", "idle",
                                                                               "saturated"))


@dataclass(frozen=True)
class KindLabel:
    """A channel's kind, what decided it, and the kind it could as well be when it is borderline."""

    kind: str  # one of CHANNEL_KINDS
    basis: str  # filter, correlation, spread (idle), saturation or units (1x1 maps)
    borderline: bool
    alternative: str | None  # the kind a move within the margin would give (None: not borderline)


@dataclass(frozen=True)
class LabelRule:
    """The thresholds a label is decided by (the named defaults, or a variant's moved ones)."""

    copy_min_r: float = COPY_MIN_R
    edge_min_r: float = EDGE_MIN_R
    filter_min_r: float = FILTER_MIN_R
    shape_min_score: float = SHAPE_MIN_SCORE
    edge_share_line: float = 0.5  # a filter is an edge when its edge share is above this


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


def _correlation_kind(copy_abs: float, edge_abs: float, rule: LabelRule = LabelRule()) -> str:
    """Name a working channel by its |r| with the input and with its best edge map."""
    copy_ok, edge_ok = copy_abs >= rule.copy_min_r, edge_abs >= rule.edge_min_r
    if copy_ok and edge_ok:
        return "edge" if edge_abs > copy_abs else "copy"
    if edge_ok:
        return "edge"
    if copy_ok:
        return "copy"
    return "other"


def _shape_kind(blob: float, edge: float, edge_share: float, rule: LabelRule = LabelRule()) -> str:
    """Name a working channel by its fitted filter's shape scores."""
    if max(abs(blob), abs(edge)) < rule.shape_min_score:
        return "other"
    return "edge" if edge_share > rule.edge_share_line else "copy"


def classify(copy_r: float, best_edge_r: float, spread: float, saturated_share: float | None,
             idle_limit: float = IDLE_MAX_STD) -> str:
    """Name a channel's kind by correlation: idle, saturated, then edge, copy or other."""
    if spread < idle_limit:
        return "idle"
    if saturated_share is not None and saturated_share >= SATURATED_MIN_SHARE:
        return "saturated"
    return _correlation_kind(abs(copy_r), abs(best_edge_r))


def _alternative(kind: str, trials: list[str]) -> str | None:
    """Return the first kind (in CHANNEL_KINDS order) among trials that differs from `kind`, else None."""
    others = {trial for trial in trials if trial != kind}
    return next((name for name in CHANNEL_KINDS if name in others), None)


def label_channel(copy_r: float, best_edge_r: float, spread: float, saturated_share: float | None,
                  fit: FilterFit | None = None, *, idle_limit: float = IDLE_MAX_STD, spatial: bool = True) -> KindLabel:
    """Return a channel's kind, its basis and whether it is borderline (see the module docstring).

    saturated_share None: the layer is not bounded, so no channel is saturated; idle_limit: the spread below
    which a channel is idle; spatial False (1x1 maps): no picture, so a working channel is "other" ("units").
    """
    if spread < idle_limit:
        return KindLabel("idle", "spread", False, None)
    if saturated_share is not None and saturated_share >= SATURATED_MIN_SHARE:
        return KindLabel("saturated", "saturation", False, None)
    if not spatial:
        return KindLabel("other", "units", False, None)
    if fit is not None and fit.fit_r >= FILTER_MIN_R:
        kind = _shape_kind(fit.blob, fit.edge, fit.edge_share)
        m = BORDERLINE_SHAPE
        trials = [_shape_kind(abs(fit.blob) + db, abs(fit.edge) + de, fit.edge_share + ds)
                  for db, de, ds in ((m, m, 0), (-m, -m, 0), (0, 0, m), (0, 0, -m))]
        basis = "filter"
    else:
        copy_abs, edge_abs = abs(copy_r), abs(best_edge_r)
        kind = _correlation_kind(copy_abs, edge_abs)
        m = BORDERLINE_R
        trials = [_correlation_kind(max(copy_abs + dc, 0.0), max(edge_abs + de, 0.0))
                  for dc, de in ((m, 0), (-m, 0), (0, m), (0, -m), (m, -m), (-m, m))]
        basis = "correlation"
    alternative = _alternative(kind, trials)
    return KindLabel(kind, basis, alternative is not None, alternative)


def kind_codes(inputs: LabelInputs, rule: LabelRule = LabelRule(), *, idle_limit: float = IDLE_MAX_STD,
               spatial: bool = True) -> np.ndarray:
    """Return label_channel's kinds over arrays as (R, C) indices into CHANNEL_KINDS (ties as label_channel)."""
    copy_abs, edge_abs = np.atleast_2d(inputs.copy_abs), np.atleast_2d(inputs.edge_abs)
    copy_ok, edge_ok = copy_abs >= rule.copy_min_r, edge_abs >= rule.edge_min_r
    by_correlation = np.where(edge_ok & (~copy_ok | (edge_abs > copy_abs)), EDGE, np.where(copy_ok, COPY, OTHER))
    codes = by_correlation if spatial else np.full(copy_abs.shape, OTHER)
    if spatial and inputs.fit_r is not None:
        strong = np.maximum(np.abs(inputs.blob), np.abs(inputs.edge)) >= rule.shape_min_score
        by_shape = np.where(strong, np.where(inputs.edge_share > rule.edge_share_line, EDGE, COPY), OTHER)
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
