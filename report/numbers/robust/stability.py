"""How sure each channel's label is: its kind per bootstrap resample of the analysis images, and near-duplicates.

Use: `kind_stability(measures, counts, idle_limit)` takes a layer's `FinalMeasures` on the analysis set
(report/numbers/robust/final_measures.py) and the (B+1, A) resample counts (capture/bootstrap.py, row 0 the
full set) and returns `KindStability`: per resample b >= 1, every number the label uses (copy r, best edge r,
spread, saturated share, the filter's out-of-sample fit r) is recomputed from per-image sums weighted by
counts[b]; the filter's weights, and so its shape scores, stay those fitted on the full set, and the layer's
baseline (report/numbers/robust/baseline.py) that of the full set. The label is then
decided by the same rule (report/numbers/channel_kinds.py); `stability` is the share of resamples that give
the headline kind, `runner_up` the most frequent other kind (ties: CHANNEL_KINDS order) and its share.
`duplicate_conflicts(pairs, kinds)` lists per channel the channels of its layer at |r| >= DUPLICATE_MIN_R
whose kind differs; `is_sure` combines the two (KIND_SURE_SHARE). `edge_scale_px` an edge detector's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.numbers.channel_kinds import LabelInputs, kind_codes
from report.numbers.findings import CHANNEL_KINDS
from report.numbers.reference_maps import EDGE_KINDS
from report.numbers.robust.final_measures import FinalMeasures
from report.numbers.robust.image_sums import weighted_r, weighted_share, weighted_spread
from report.numbers.thresholds import DUPLICATE_MIN_R, KIND_SURE_SHARE

SOBEL_SIZE = 3  # the Sobel edge maps are 3x3 at the layer's resolution (report/numbers/reference_maps.py)


@dataclass
class KindStability:
    """Per channel: the share of resamples giving the headline kind, and the most frequent other kind."""

    stability: list[float | None]  # None: no resamples
    runner_up: list[str | None]
    runner_up_share: list[float]


def resampled_inputs(measures: FinalMeasures, counts: np.ndarray) -> LabelInputs:
    """Return the label numbers of every row of (R, A) image counts, each (R, C) (filter shapes fixed)."""
    sums = measures.sums
    edge_abs = np.max([np.abs(weighted_r(sums.edges[kind], counts)) for kind in EDGE_KINDS], axis=0)
    saturated = (weighted_share(sums.saturated, sums.copy.positions, counts)
                 if sums.saturated is not None else None)
    fits = measures.fits
    shape = (lambda key: np.array([getattr(fit, key) for fit in fits])) if fits is not None else (lambda key: None)
    return LabelInputs(copy_abs=np.abs(weighted_r(sums.copy, counts)), edge_abs=edge_abs,
                       spread=weighted_spread(sums.copy, counts), saturated=saturated,
                       fit_r=weighted_r(sums.fit, counts) if sums.fit is not None else None,
                       blob=shape("blob"), edge=shape("edge"), edge_share=shape("edge_share"),
                       silhouette_abs=np.abs(weighted_r(sums.silhouette, counts)),
                       baseline=measures.baselines.get("mean"))


def resampled_kinds(measures: FinalMeasures, counts: np.ndarray, idle_limit: float) -> np.ndarray:
    """Return the (R, C) kind codes (indices into CHANNEL_KINDS) of every row of (R, A) image counts."""
    return kind_codes(resampled_inputs(measures, counts), idle_limit=idle_limit, spatial=measures.spatial)


def kind_stability(measures: FinalMeasures, counts: np.ndarray, idle_limit: float) -> KindStability:
    """Return each channel's label stability over the resamples (rows 1.. of counts) against its headline kind."""
    channels = len(measures.labels)
    resamples = np.asarray(counts)[1:]
    if not len(resamples):
        return KindStability([None] * channels, [None] * channels, [0.0] * channels)
    codes = resampled_kinds(measures, resamples, idle_limit)  # (B, C)
    tallies = np.stack([(codes == index).sum(axis=0) for index in range(len(CHANNEL_KINDS))], axis=1)  # (C, K)
    stability, runner_up, runner_share = [], [], []
    for c, label in enumerate(measures.labels):
        own = CHANNEL_KINDS.index(label.kind)
        stability.append(float(tallies[c, own] / len(codes)))
        others = tallies[c].copy()
        others[own] = 0
        best = int(np.argmax(others))  # ties: the first in CHANNEL_KINDS
        runner_up.append(CHANNEL_KINDS[best] if others[best] else None)
        runner_share.append(float(others[best] / len(codes)))
    return KindStability(stability, runner_up, runner_share)


def duplicate_conflicts(pairs: np.ndarray, kinds: list[str]) -> list[list[int]]:
    """Return per channel the other channels with |r| >= DUPLICATE_MIN_R whose kind differs from its own."""
    near = np.abs(np.asarray(pairs, np.float64)) >= DUPLICATE_MIN_R
    return [[other for other in np.flatnonzero(near[c]).tolist() if other != c and kinds[other] != kinds[c]]
            for c in range(len(kinds))]


def is_sure(stability: float | None, borderline: bool, conflicts: list[int]) -> bool:
    """Return whether a label is sure: stable (KIND_SURE_SHARE; without resamples: not borderline), no conflict."""
    steady = (not borderline) if stability is None else stability >= KIND_SURE_SHARE
    return bool(steady and not conflicts)


def edge_scale_px(kind: str, basis: str, window_size: int | None, input_size: int, layer_size: int) -> int | None:
    """Return an edge channel's scale in input pixels: its filter window, or the Sobel's 3 x the pooling factor."""
    if kind != "edge":
        return None
    if basis == "filter" and window_size:
        return int(window_size)
    return int(SOBEL_SIZE * max(input_size // max(layer_size, 1), 1))
