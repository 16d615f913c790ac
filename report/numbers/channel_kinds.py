"""Name a channel's kind from its numbers: idle, saturated, copy, edge or other, and whether that is borderline.

Use: `label_channel(copy_r, best_edge_r, spread, saturated_share, fit)` returns a `KindLabel`; `classify(...)`
the kind by correlation alone. A channel's kind is the first that applies of: idle (spread < IDLE_MAX_STD, or
the layer's own idle limit), saturated (share >= SATURATED_MIN_SHARE); then, when its filter
(report/numbers/filters.py) predicts it at r >= FILTER_MIN_R, by the filter's shape (basis "filter"): other
if neither shape score reaches SHAPE_MIN_SCORE, edge if the edge share is above 0.5, else copy; otherwise by
correlation (basis "correlation"): of copy (|copy r| >= COPY_MIN_R) and edge (best |edge r| >= EDGE_MIN_R)
the one that passes, the larger when both do, else other. A kind is borderline (with an alternative) when
moving its deciding numbers by their margin (BORDERLINE_R for r, BORDERLINE_SHAPE for shape scores) would
change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from report.numbers.filters import FilterFit
from report.numbers.findings import CHANNEL_KINDS
from report.numbers.thresholds import (
    BORDERLINE_R,
    BORDERLINE_SHAPE,
    COPY_MIN_R,
    EDGE_MIN_R,
    FILTER_MIN_R,
    IDLE_MAX_STD,
    SATURATED_MIN_SHARE,
    SHAPE_MIN_SCORE,
)


@dataclass(frozen=True)
class KindLabel:
    """A channel's kind, what decided it, and the kind it could as well be when it is borderline."""

    kind: str  # one of CHANNEL_KINDS
    basis: str  # filter, correlation, spread (idle), saturation or units (1x1 maps)
    borderline: bool
    alternative: str | None  # the kind a move within the margin would give (None: not borderline)


def _correlation_kind(copy_abs: float, edge_abs: float) -> str:
    """Name a working channel by its |r| with the input and with its best edge map."""
    copy_ok, edge_ok = copy_abs >= COPY_MIN_R, edge_abs >= EDGE_MIN_R
    if copy_ok and edge_ok:
        return "edge" if edge_abs > copy_abs else "copy"
    if edge_ok:
        return "edge"
    if copy_ok:
        return "copy"
    return "other"


def _shape_kind(blob: float, edge: float, edge_share: float) -> str:
    """Name a working channel by its fitted filter's shape scores."""
    if max(abs(blob), abs(edge)) < SHAPE_MIN_SCORE:
        return "other"
    return "edge" if edge_share > 0.5 else "copy"


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
