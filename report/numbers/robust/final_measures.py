"""Every final-step measure of one layer on one set of images: the analysis set, or the shown probes.

Use: `measure_final(maps, images, setup, previous)` takes a layer's (N, H, W, C) maps at the last step, the
(N, S, S) grey images they were measured on (report.capture_facts.grey_probes), a `MeasureSetup` and the
previous layer's (N, H', W', C') maps on the same images (or None), and returns `FinalMeasures`: per channel
its r with the pooled input and its edge maps (report/numbers/reference_maps.py), the 3x3 linear r, spread,
mean, saturated / zero / negative shares, its fitted filter (report/numbers/filters.py), its label
(report/numbers/channel_kinds.py); per layer the signed r between channels and with the previous layer; and
the per-image sums (report/numbers/robust/image_sums.py) from which report/numbers/robust/stability.py
recomputes every number the label uses per bootstrap resample; the layer's baseline (report/numbers/robust/
baseline.py: what random positive blurs over its window reach), for the input pooled by its mean (the labels')
and by its maximum (a variant's). `correlations(unit, images, height, width, pooling)` the r with every reference
map against another pooling of the input (a variant's reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.numbers.channel_kinds import KindLabel, LabelInputs, LabelRule, LayerTerms, kind_codes, label_channel
from report.numbers.filters import FilterFit, fit_filters_with_sums
from report.numbers.findings import CHANNEL_KINDS, CopyBaseline
from report.numbers.receptive_fields import Window, window_for
from report.numbers.reference_maps import EDGE_KINDS, area_pool, input_maps, linear_fit_r, standardise
from report.numbers.robust.baseline import layer_baselines
from report.numbers.robust.image_sums import PairSums, pair_sums
from report.numbers.thresholds import SATURATION_LEVEL


@dataclass(frozen=True)
class MeasureSetup:
    """What measuring a layer's final maps needs besides the maps and images."""

    name: str
    window: Window | None  # the layer's input window (None: fall back, or no filters)
    window_source: str  # "model" or "fallback"
    fallback_window: bool  # without a window, fit 3x3 filters at the layer's own resolution
    bounded: bool  # tanh-like: saturation applies
    idle_limit: float


@dataclass
class LayerSums:
    """Per image sums behind each label number: maps with the pooled input and each edge map, saturation, fit."""

    copy: PairSums
    silhouette: PairSums
    edges: dict[str, PairSums]
    saturated: np.ndarray | None  # (A, C) positions with |value| > SATURATION_LEVEL per image (None: unbounded)
    fit: PairSums | None  # out-of-sample prediction (a) with the channel (b); None: no filters


@dataclass
class FinalMeasures:
    """One layer's final-step numbers on one set of images (see the module docstring)."""

    images: int
    copy_r: np.ndarray  # (C,)
    silhouette_r: np.ndarray  # (C,) with the pooled silhouette mask
    edge_r: dict[str, np.ndarray]  # EDGE_KINDS -> (C,)
    linear_r: np.ndarray
    spread: np.ndarray
    mean: np.ndarray
    saturated_share: np.ndarray | None
    zero_share: np.ndarray
    negative_share: np.ndarray
    fits: list[FilterFit] | None
    window: Window | None
    window_source: str
    pairs: np.ndarray  # (C, C) signed r between channels
    cross: np.ndarray | None  # (C, C') signed r with the previous layer, area-averaged to this resolution
    labels: list[KindLabel]
    spatial: bool
    sums: LayerSums
    baselines: dict[str, CopyBaseline]  # "mean" (the labels') and "max" (pooled by block maxima); {} for 1x1 maps



def correlations(unit: np.ndarray, images: np.ndarray, height: int, width: int,
                 pooling: str = "mean") -> dict[str, np.ndarray]:
    """Return per channel of standardised (P, C) maps the r with each reference map of the input so pooled."""
    return correlations_with(unit, input_maps(images, height, width, pooling))


def correlations_with(unit: np.ndarray, references: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return {reference name: per channel of standardised (P, C) maps its r with that reference}."""
    return {key: standardise(value.reshape(-1, 1), axis=0)[0][:, 0] @ unit for key, value in references.items()}


def _cross(unit: np.ndarray, previous: np.ndarray | None, height: int, width: int) -> np.ndarray | None:
    """Return the (C, C') signed r of this layer's channels with the previous layer's, pooled to this resolution."""
    if previous is None:
        return None
    moved = np.moveaxis(np.asarray(previous, np.float64), -1, 0)  # (C', N, H', W')
    pooled = np.stack([area_pool(plane, height, width) for plane in moved], axis=-1)  # (N, H, W, C')
    previous_unit, _ = standardise(pooled.reshape(-1, pooled.shape[-1]), axis=0)
    return unit.T @ previous_unit


def measure_final(maps: np.ndarray, images: np.ndarray, setup: MeasureSetup,
                  previous: np.ndarray | None = None) -> FinalMeasures:
    """Return one layer's final-step measures on (N, H, W, C) maps of (N, S, S) grey images."""
    maps = np.asarray(maps, np.float64)
    count, height, width, channels = maps.shape
    flat = maps.reshape(-1, channels)
    unit, _ = standardise(flat, axis=0)
    references = input_maps(images, height, width)
    rs = correlations_with(unit, references)
    copy_r, silhouette_r, edge_r = rs["copy"], rs["silhouette"], {kind: rs[kind] for kind in EDGE_KINDS}
    spatial = height * width > 1
    window, window_source = setup.window, setup.window_source
    fallback = window_for(setup.name, height, tuple(np.shape(images)[1:3]), None)
    if window is None and setup.fallback_window and spatial:
        window, window_source = fallback, "fallback"
    # Every layer with a picture gets a baseline: over its window, else over the fallback's 3x3 at its resolution.
    baselines = layer_baselines(images, window or fallback, height, width,
                                {"mean": references, "max": input_maps(images, height, width, "max")}) \
        if spatial else {}
    terms = LayerTerms(idle_limit=setup.idle_limit, spatial=spatial, baseline=baselines.get("mean"))
    result = fit_filters_with_sums(maps, images, window) if window is not None and spatial else None
    fits = result.fits if result is not None else None
    spread = flat.std(axis=0)
    saturated = np.abs(maps) > SATURATION_LEVEL if setup.bounded else None
    saturated_share = saturated.reshape(-1, channels).mean(axis=0) if saturated is not None else None
    best = np.stack([edge_r[kind] for kind in EDGE_KINDS])  # (E, C); the largest |r|, ties in EDGE_KINDS order
    best = best[np.argmax(np.abs(best), axis=0), np.arange(channels)]
    labels = [label_channel(float(copy_r[c]), float(best[c]), float(spread[c]),
                            float(saturated_share[c]) if saturated_share is not None else None,
                            fits[c] if fits is not None else None, float(silhouette_r[c]), terms=terms)
              for c in range(channels)]
    by_image = maps.reshape(count, height * width, channels)
    sums = LayerSums(
        copy=pair_sums(by_image, references["copy"].reshape(count, -1)),
        silhouette=pair_sums(by_image, references["silhouette"].reshape(count, -1)),
        edges={kind: pair_sums(by_image, references[kind].reshape(count, -1)) for kind in EDGE_KINDS},
        saturated=saturated.reshape(count, -1, channels).sum(axis=1) if saturated is not None else None,
        fit=result.sums if result is not None else None)
    return FinalMeasures(
        images=count, copy_r=copy_r, silhouette_r=silhouette_r, edge_r=edge_r,
        linear_r=linear_fit_r(maps, references["copy"]),
        spread=spread, mean=flat.mean(axis=0), saturated_share=saturated_share,
        zero_share=(flat == 0).mean(axis=0), negative_share=(flat < 0).mean(axis=0),
        fits=fits, window=window if fits is not None else None, window_source=window_source,
        pairs=unit.T @ unit, cross=_cross(unit, previous, height, width), labels=labels, spatial=spatial, sums=sums,
        baselines=baselines)


def label_inputs(measures: FinalMeasures, rs: dict[str, np.ndarray] | None = None,
                 pooling: str = "mean") -> LabelInputs:
    """Return the full set's label numbers as LabelInputs (with the r of `rs` and the baseline of `pooling`, where
    given: a variant's other references)."""
    rs = rs or {"copy": measures.copy_r, "silhouette": measures.silhouette_r, **measures.edge_r}
    fits = measures.fits
    shape = (lambda key: np.array([getattr(fit, key) for fit in fits])) if fits is not None else (lambda key: None)
    return LabelInputs(copy_abs=np.abs(rs["copy"]),
                       edge_abs=np.abs(np.stack([rs[k] for k in EDGE_KINDS])).max(axis=0),
                       spread=measures.spread, saturated=measures.saturated_share, fit_r=shape("fit_r"),
                       blob=shape("blob"), edge=shape("edge"), edge_share=shape("edge_share"),
                       silhouette_abs=np.abs(rs["silhouette"]), baseline=measures.baselines.get(pooling))


def kinds_under(measures: FinalMeasures, rule: LabelRule, idle_limit: float, inputs: LabelInputs | None = None
                ) -> list[str]:
    """Return each channel's kind under a rule (and, where given, other label numbers)."""
    codes = kind_codes(inputs or label_inputs(measures), rule, idle_limit=idle_limit, spatial=measures.spatial)[0]
    return [CHANNEL_KINDS[code] for code in codes]
