"""Measure what each channel of a captured run does: the numbers behind every sentence of the article.

Use: `analyse(capture)` takes a `capture.archive.Capture` (or any object with the same attributes) and returns
`report.numbers.findings.Findings`; `analyse_layer(name, series, steps, probe_images, LayerContext(...))` measures
one layer. Everything is pure numpy and recomputable from `build/capture.h5`; nothing is rounded here (the
words round for display). The thresholds named below are defined and explained in
report/numbers/thresholds.py; the maps a channel is compared with in report/numbers/reference_maps.py; the
linear filters in report/numbers/filters.py (windows from report/numbers/receptive_fields.py); a channel's
kind in report/numbers/channel_kinds.py; near-duplicate groups in report/numbers/groups.py; the per-step
similarity to the final state in report/numbers/settling.py; the run-level numbers and the conclusions'
verdicts in report/numbers/conclusions.py.

- Per channel, at the final recorded step, over all probes x positions: Pearson r with the pooled input
  (`copy_r`; negative means an inverted copy) and with each edge map (`edge_r`); `linear_r`, the
  multiple correlation of the best 3x3 linear filter (plus offset) of the pooled input; its spread
  (standard deviation) and the share of values with |tanh| > SATURATION_LEVEL; where the probes give
  enough samples per weight, `filter`: the least-squares linear filter of the input over the layer's
  receptive field, its out-of-sample fit r and its shape scores (blob, edge, edge share); and its kind.
- Settling, per channel: `settle_step` is the first recorded step from which the channel's whole map
  (all probes) stays within max(SETTLE_TOLERANCE x its final spread, SETTLE_FLOOR) of its final map,
  as an RMS difference; `pattern_step` is the first step from which its map keeps a correlation of at
  least PATTERN_MIN_R with its final map (the picture is in place, its contrast may still grow).
- Per layer: counts per kind, medians of the active (non-idle) channels' settle and pattern steps, the
  signed r between its channels' final maps (`pair_r`), the pairs reaching DUPLICATE_MIN_R and the
  complete-linkage groups of near-duplicates, each channel's best match in the previous layer
  (area-averaged to this resolution), and a per-step timeline (median spread, median |copy r|, mean |r|
  between channels, the largest |value|, and the settling series: linear CKA with the final state, median
  channel r with its final map, relative spread) from which these events are read: `informative_step` (the
  median spread stays >= INFORMATIVE_SHARE of its final value), `resembles_input_step` (first informative
  step with median |copy r| >= RESEMBLES_MIN_R), `distinct_step` (informative and mean |r| between channels
  <= DISTINCT_MAX_R from then on), and `settling` (pattern step by CKA, contrast step, settled step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.capture_facts import grey_probes, is_article, recorded_layers
from report.numbers.channel_kinds import label_channel
from report.numbers.conclusions import median_or_none, run_summary
from report.numbers.filters import fit_filters
from report.numbers.findings import (
    CHANNEL_KINDS,
    ChannelFindings,
    FilterWindow,
    Findings,
    LayerFindings,
    LayerSettling,
    Repeat,
)
from report.numbers.groups import duplicate_groups, group_details, leaf_order, pair_summary
from report.numbers.receptive_fields import Window, layer_chain, window_for
from report.numbers.reference_maps import EDGE_KINDS, EDGE_SIDES, area_pool, input_maps, linear_fit_r, standardise
from report.numbers.regimes import idle_limit_for, mostly_zero_checks, regime_of
from report.numbers.settling import settling_series, settling_steps, step_series
from report.numbers.thresholds import (
    DISTINCT_MAX_R,
    DUPLICATE_MIN_R,
    INFORMATIVE_SHARE,
    PATTERN_MIN_R,
    RESEMBLES_MIN_R,
    SATURATION_LEVEL,
    SETTLE_FLOOR,
    SETTLE_TOLERANCE,
    thresholds,
)


@dataclass(frozen=True)
class LayerContext:
    """What the analysis of one layer needs to know besides its values, steps and probes."""

    previous: tuple[str, np.ndarray] | None = None  # the prior layer's name and final (N, H', W', C') maps
    window: Window | None = None  # the layer's input window (report/numbers/receptive_fields.py)
    window_source: str = "model"  # where `window` comes from: "model" (the layer table) or "fallback"
    activation: str | None = "tanh"  # the layer's activation function's name
    fallback_window: bool = True  # without a window, fit 3x3 filters at the layer's own resolution
    scale: dict | None = None  # the render stage's colour scale for the layer (else chosen here)


# --- Steps ------------------------------------------------------------------------------------------


def first_step_staying(condition: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Return per column of a (T, C) boolean array the first step from which it stays true (the last step if never)."""
    condition = np.asarray(condition, bool)
    steps = np.asarray(steps)
    # A condition holds from row t onwards exactly where the reversed cumulative AND is true.
    holds_after = np.flip(np.logical_and.accumulate(np.flip(condition, 0), axis=0), 0)
    first = np.where(holds_after.any(axis=0), holds_after.argmax(axis=0), len(steps) - 1)
    return steps[first]


def _first_step_staying_or_none(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step from which a (T,) condition stays true, or None if it is false at the end."""
    condition = np.asarray(condition, bool)
    if not condition[-1]:
        return None
    return int(first_step_staying(condition[:, None], steps)[0])


def _first_step_reaching(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step at which a (T,) condition is true, or None if never."""
    hits = np.flatnonzero(condition)
    return int(np.asarray(steps)[hits[0]]) if hits.size else None


# --- Layers ----------------------------------------------------------------------------------------


def analyse_layer(name: str, series: np.ndarray, steps: np.ndarray, probe_images: np.ndarray,
                  context: LayerContext = LayerContext()) -> LayerFindings:
    """Measure one layer's (T, N, H, W, C) series.

    Without a `context.window` the filters are 3x3 at the layer's own resolution ("fallback") unless
    `context.fallback_window` is false (then no filters are fitted). Tanh-like layers (`context.activation`)
    get saturation statistics, others zero shares and an idle limit on their own colour scale. Probe images
    may be RGB (their brightness is compared).
    """
    window, window_source = context.window, context.window_source
    probe_images = grey_probes(probe_images)
    if not hasattr(series, "shape"):  # nested lists; an ndarray or a LazyLayer is used as it is
        series = np.asarray(series)
    shape = tuple(np.shape(series))  # a LazyLayer stays unread: report.numbers.settling reads it a block at a time
    if len(shape) != 5:
        raise ValueError(f"layer {name}: expected activations shaped (T, N, H, W, C), got {shape}")
    count, probes, height, width, channels = shape
    steps = np.asarray(steps)
    if len(steps) != count or len(probe_images) != probes:
        raise ValueError(f"layer {name}: {count} snapshots of {probes} probes, but {len(steps)} steps and "
                         f"{len(probe_images)} probe images; pass the capture's own steps and probe images")

    references = input_maps(probe_images, height, width)
    reference_units = {key: standardise(value.reshape(-1, 1), axis=0)[0] for key, value in references.items()}
    per_step = step_series(name, series, steps, reference_units["copy"])  # raises on a diverged run
    final = per_step.final.astype(np.float64)  # (P, C)
    final_unit, _ = standardise(final, axis=0)
    copy_r = (final_unit * reference_units["copy"]).sum(axis=0)
    edge_r = {kind: (final_unit * reference_units[kind]).sum(axis=0) for kind in EDGE_KINDS}
    final_maps = final.reshape(probes, height, width, channels)
    linear_r = linear_fit_r(final_maps, references["copy"])
    input_size = tuple(int(size) for size in np.asarray(probe_images).shape[1:3])
    spatial = height * width > 1
    if window is None and context.fallback_window and spatial:
        window, window_source = window_for(name, height, input_size, None), "fallback"
    fits = fit_filters(final_maps, probe_images, window) if window is not None and spatial else None
    spread = final.std(axis=0)
    mean = final.mean(axis=0)
    regime, scale = regime_of(series, context.activation, context.scale)
    idle_limit = idle_limit_for(scale)
    saturated_share = (np.abs(final) > SATURATION_LEVEL).mean(axis=0) if regime == "bounded" else None
    zero_share = (final == 0).mean(axis=0)
    negative_share = (final < 0).mean(axis=0)
    tolerance = np.maximum(SETTLE_TOLERANCE * per_step.final.astype(np.float64).std(axis=0), SETTLE_FLOOR)
    settle = first_step_staying(per_step.rms_to_final <= tolerance, steps)
    pattern = first_step_staying(per_step.r_with_final >= PATTERN_MIN_R, steps)
    pairs = final_unit.T @ final_unit  # (C, C)

    cross, previous_name = None, None
    if context.previous is not None:
        previous_name, previous_final = context.previous
        moved = np.moveaxis(np.asarray(previous_final, np.float64), -1, 0)  # (C', N, H', W')
        pooled = np.stack([area_pool(plane, height, width) for plane in moved], axis=-1)  # (N, H, W, C')
        previous_unit, _ = standardise(pooled.reshape(-1, pooled.shape[-1]), axis=0)
        cross = final_unit.T @ previous_unit  # (C, C')

    channel_findings = []
    for c in range(channels):
        edges = {kind: float(edge_r[kind][c]) for kind in EDGE_KINDS}
        best_edge = max(EDGE_KINDS, key=lambda kind: abs(edges[kind]))  # ties: the first in EDGE_KINDS
        best_r = edges[best_edge]
        positive_side, negative_side = EDGE_SIDES[best_edge]
        if channels > 1:
            others = np.abs(pairs[c]).copy()
            others[c] = -1.0
            similar = int(np.argmax(others))
            similar_r = float(pairs[c, similar])
        else:
            similar, similar_r = None, 0.0
        if cross is not None and cross.shape[1]:
            previous_channel = int(np.argmax(np.abs(cross[c])))
            previous_r = float(cross[c, previous_channel])
        else:
            previous_channel, previous_r = None, 0.0
        fit = fits[c] if fits is not None else None
        saturated = float(saturated_share[c]) if saturated_share is not None else None
        label = label_channel(float(copy_r[c]), best_r, float(spread[c]), saturated, fit, idle_limit=idle_limit,
                              spatial=spatial)
        edge_side = positive_side if best_r >= 0 else negative_side
        channel_findings.append(ChannelFindings(
            layer=name, channel=c, kind=label.kind,
            copy_r=float(copy_r[c]), edge_r=edges, best_edge=best_edge, best_edge_r=best_r,
            edge_side=edge_side, linear_r=float(linear_r[c]),
            spread=float(spread[c]), mean=float(mean[c]), saturated_share=saturated,
            settle_step=int(settle[c]), pattern_step=int(pattern[c]),
            most_similar_channel=similar, most_similar_r=similar_r,
            previous_layer_channel=previous_channel, previous_layer_r=previous_r,
            kind_basis=label.basis, kind_borderline=label.borderline, kind_alternative=label.alternative,
            filter=fit,
            zero_share=float(zero_share[c]), negative_share=float(negative_share[c]),
        ))

    if channels > 1:
        upper = np.triu_indices(channels, k=1)
        abs_pairs = np.abs(pairs[upper])
        best_pair = int(np.argmax(abs_pairs))
        pair_mean, pair_max = float(abs_pairs.mean()), float(abs_pairs[best_pair])
        pair_max_channels = [int(upper[0][best_pair]), int(upper[1][best_pair])]
    else:
        pair_mean, pair_max, pair_max_channels = 0.0, 0.0, []
    groups = duplicate_groups(pairs, DUPLICATE_MIN_R)

    timeline = {"median_spread": np.median(per_step.spread, axis=1).tolist(),
                "median_abs_copy_r": np.median(per_step.abs_copy_r, axis=1).tolist(),
                "pair_mean_abs_r": per_step.pair_mean_abs_r.tolist()}
    timeline.update(settling_series(per_step.cka, per_step.r_with_final, per_step.spread))
    timeline["max_abs"] = per_step.max_abs.tolist()  # the strongest colour shown
    spread_series = np.asarray(timeline["median_spread"])
    informative = spread_series >= INFORMATIVE_SHARE * spread_series[-1]
    # Informative from a step on: the reversed cumulative AND; resembling and distinctness need it too.
    informative_after = np.flip(np.logical_and.accumulate(np.flip(informative)))
    active = [ch for ch in channel_findings if ch.kind != "idle"]
    return LayerFindings(
        name=name, height=height, width=width, num_channels=channels,
        counts={kind: sum(ch.kind == kind for ch in channel_findings) for kind in CHANNEL_KINDS},
        channels=channel_findings,
        median_settle_step=median_or_none([ch.settle_step for ch in active]),
        median_pattern_step=median_or_none([ch.pattern_step for ch in active]),
        median_linear_r=float(np.median(linear_r)),
        pair_mean_abs_r=pair_mean, pair_max_abs_r=pair_max, pair_max=pair_max_channels,
        duplicate_groups=groups,
        previous_layer=previous_name,
        duplicates_of_previous=[Repeat(ch.channel, ch.previous_layer_channel, ch.previous_layer_r)
                                for ch in channel_findings if abs(ch.previous_layer_r) >= DUPLICATE_MIN_R],
        informative_step=_first_step_staying_or_none(informative, steps) if spread_series[-1] > 0 else None,
        resembles_input_step=_first_step_reaching(
            informative_after & (np.asarray(timeline["median_abs_copy_r"]) >= RESEMBLES_MIN_R), steps),
        distinct_step=_first_step_staying_or_none(
            informative_after & (np.asarray(timeline["pair_mean_abs_r"]) <= DISTINCT_MAX_R), steps)
        if channels > 1 else None,
        timeline=timeline,
        pair_r=pairs.tolist(),
        pairs=pair_summary(pairs, DUPLICATE_MIN_R),
        groups=group_details(pairs, groups),
        channel_order=leaf_order(pairs),
        filter_window=FilterWindow(window.size, window.stride, window.offset, window_source)
        if fits is not None else None,
        settling=LayerSettling(**settling_steps(timeline, steps), samples=int(probes * height * width),
                               probes=int(probes), first_step=int(steps[0])),
        activation=context.activation, regime=regime, scale=scale, idle_limit=idle_limit,
        zero_share=float((final == 0).mean()), negative_share=float((final < 0).mean()), spatial=spatial,
        mostly_zero=mostly_zero_checks(zero_share, [ch.kind for ch in channel_findings])
        if regime == "non-negative" else [],
    )


# --- Run -------------------------------------------------------------------------------------------


def analyse(capture, scales: dict | None = None) -> Findings:
    """Measure a Capture (or any object with its attributes) and return its Findings.

    `scales` {layer: the render manifest's scale}: the colour scales the page draws with, so they are not
    chosen a second time (see report.numbers.regimes.regime_of).
    """
    steps = np.asarray(capture.steps)
    if steps.ndim != 1 or len(steps) < 1:
        raise ValueError("the capture has no recorded steps; train again (`make site`) to record some")
    if not capture.activations:
        raise ValueError("the capture recorded no layers; train again with at least one conv layer recorded")
    meta = getattr(capture, "meta", None) or {}
    article = is_article(meta)
    probes = grey_probes(capture.probe_images)  # (N, H, W): colour probes are compared by their brightness
    windows = layer_chain(meta.get("layers"), tuple(probes.shape[1:3]), article=article)["windows"]
    activations = {row["name"]: row["activation"] for row in recorded_layers(capture)}
    layers, previous = [], None
    for name, series in capture.activations.items():
        window = windows.get(name)
        # Only the article's model falls back to a 3x3 filter where its table cannot tell (older captures).
        context = LayerContext(previous=previous, window=window,
                               window_source="model" if window is not None else "fallback",
                               activation=activations[name], fallback_window=article, scale=(scales or {}).get(name))
        layers.append(analyse_layer(name, series, steps, probes, context))
        previous = (name, np.asarray(series[-1], np.float64))
    last_step = int(steps[-1])
    return Findings(
        steps=steps.astype(int).tolist(), last_step=last_step, num_probes=int(len(capture.probe_images)),
        probe_labels=np.asarray(capture.probe_labels).astype(int).tolist(), layers=layers,
        run=run_summary(capture, layers, last_step),
        thresholds={name: value for name, (value, _) in thresholds().items()},
    )
