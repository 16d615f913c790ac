"""Assemble a layer's channel findings from its final-step measures and how sure each label is.

Use: report/numbers/analysis.py calls `channel_findings(name, measured, stability, probe, ...)` for the
ChannelFindings of a layer, `pair_numbers(pairs)` for its mean and largest |r| between channels and
`probe_view(probe, settling, settle_steps)` for the layer as the shown probes alone measure it. A label is
sure when report/numbers/robust/stability.py says so; otherwise it is borderline, and its alternative is the
resamples' runner-up, else a conflicting near-duplicate's kind, else the margin's alternative
(report/numbers/channel_kinds.py).
"""

from __future__ import annotations

import numpy as np

from report.numbers.findings import CHANNEL_KINDS, ChannelFindings, LayerSettling, ProbeView
from report.numbers.reference_maps import EDGE_KINDS, EDGE_SIDES
from report.numbers.robust.final_measures import FinalMeasures
from report.numbers.robust.stability import KindStability, duplicate_conflicts, edge_scale_px, is_sure


def _median_or_none(values: list) -> float | None:
    return float(np.median(values)) if len(values) else None


def pair_numbers(pairs: np.ndarray) -> dict:
    """Return the layer's mean and largest |r| between distinct channels and the pair reaching the largest."""
    channels = pairs.shape[0]
    if channels < 2:
        return {"pair_mean_abs_r": 0.0, "pair_max_abs_r": 0.0, "pair_max": []}
    upper = np.triu_indices(channels, k=1)
    abs_pairs = np.abs(pairs[upper])
    best = int(np.argmax(abs_pairs))
    return {"pair_mean_abs_r": float(abs_pairs.mean()), "pair_max_abs_r": float(abs_pairs[best]),
            "pair_max": [int(upper[0][best]), int(upper[1][best])]}


def _closest(matrix: np.ndarray | None, c: int, skip_self: bool) -> tuple[int | None, float]:
    """Return the column of row c with the largest |r| (not c itself when skip_self) and that signed r."""
    if matrix is None or matrix.shape[1] < (2 if skip_self else 1):
        return None, 0.0
    row = np.abs(matrix[c]).copy()
    if skip_self:
        row[c] = -1.0
    best = int(np.argmax(row))
    return best, float(matrix[c, best])


def _channel(name: str, c: int, measured: FinalMeasures, sure: dict, steps: tuple[int, int]) -> ChannelFindings:
    """Return one channel's findings from its layer's measures, its label's certainty and its settle steps."""
    edges = {kind: float(measured.edge_r[kind][c]) for kind in EDGE_KINDS}
    best_edge = max(EDGE_KINDS, key=lambda kind: abs(edges[kind]))  # ties: the first in EDGE_KINDS
    best_r = edges[best_edge]
    similar, similar_r = _closest(measured.pairs, c, True)
    previous_channel, previous_r = _closest(measured.cross, c, False)
    label = measured.labels[c]
    saturated = measured.saturated_share
    return ChannelFindings(
        layer=name, channel=c, kind=label.kind,
        copy_r=float(measured.copy_r[c]), edge_r=edges, best_edge=best_edge, best_edge_r=best_r,
        edge_side=EDGE_SIDES[best_edge][0 if best_r >= 0 else 1], linear_r=float(measured.linear_r[c]),
        spread=float(measured.spread[c]), mean=float(measured.mean[c]),
        saturated_share=float(saturated[c]) if saturated is not None else None,
        settle_step=int(steps[0]), pattern_step=int(steps[1]),
        most_similar_channel=similar, most_similar_r=similar_r,
        previous_layer_channel=previous_channel, previous_layer_r=previous_r,
        kind_basis=label.basis, filter=measured.fits[c] if measured.fits is not None else None,
        zero_share=float(measured.zero_share[c]), negative_share=float(measured.negative_share[c]),
        silhouette_r=float(measured.silhouette_r[c]), **sure)


def _certainty(measured: FinalMeasures, stability: KindStability, probe: FinalMeasures, edge_scale: dict) -> list:
    """Return per channel its label's certainty fields (stability, runner-up, conflicts, sure, probes' kind)."""
    kinds = [label.kind for label in measured.labels]
    conflicts = duplicate_conflicts(measured.pairs, kinds)
    out = []
    for c, label in enumerate(measured.labels):
        stable = stability.stability[c]
        sure = is_sure(stable, label.borderline, conflicts[c])
        partner = next((kinds[other] for other in conflicts[c]), None)
        # Without resamples the margin's alternative stays; a conflict names its partner's kind.
        alternative = (label.alternative if stable is None else stability.runner_up[c]) or partner or \
            label.alternative
        out.append({"kind_stability": stable, "kind_runner_up": stability.runner_up[c],
                    "kind_runner_up_share": stability.runner_up_share[c], "kind_sure": sure,
                    "duplicate_conflicts": conflicts[c], "kind_on_probes": probe.labels[c].kind,
                    "kind_borderline": not sure, "kind_alternative": None if sure else alternative,
                    "edge_scale_px": edge_scale_px(label.kind, label.basis, measured.window.size
                                                   if measured.window is not None else None, **edge_scale)})
    return out


def probe_view(probe: FinalMeasures, settling: LayerSettling, probe_steps: np.ndarray) -> ProbeView:
    """Return the layer as the shown probes alone measure it."""
    kinds = [label.kind for label in probe.labels]
    return ProbeView(counts={kind: kinds.count(kind) for kind in CHANNEL_KINDS},
                     pair_mean_abs_r=pair_numbers(probe.pairs)["pair_mean_abs_r"], settling=settling,
                     median_settle_step=_median_or_none([step for step, kind in zip(probe_steps, kinds)
                                                        if kind != "idle"]))


def channel_findings(name: str, measured: FinalMeasures, stability: KindStability, probe: FinalMeasures,
                     settle_steps: list[tuple[int, int]], edge_scale: dict) -> list[ChannelFindings]:
    """Return a layer's ChannelFindings; settle_steps per channel (settle, pattern), edge_scale input/layer size."""
    certainty = _certainty(measured, stability, probe, edge_scale)
    return [_channel(name, c, measured, certainty[c], settle_steps[c]) for c in range(len(measured.labels))]
