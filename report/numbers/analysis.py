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

Where it is measured (issue 21, docs/analysis-set.md): with `capture.analysis` (an AnalysisRecord) every
final-step measure below is taken on the analysis set's final maps and images
(report/numbers/robust/final_measures.py), each label's stability over the bootstrap resamples
(report/numbers/robust/stability.py), the layer's settling and each channel's settle and pattern steps on its
replayed grid (report/numbers/analysis_settling.py), its research checks (report/numbers/research_checks.py);
the per-step timeline stays on the probes (the page's pictures), and `on_probes` and `kind_on_probes` keep what
the probes alone give. Without it everything is measured on the probes (run.analysis_source "probes").

- Per channel, at the final step, over all images x positions: Pearson r with the pooled input (`copy_r`;
  negative means an inverted copy), with the pooled silhouette mask (`silhouette_r`) and with each edge map
  (`edge_r`); `linear_r`, the multiple correlation of
  the best 3x3 linear filter (plus offset) of the pooled input; its spread (standard deviation) and the share
  of values with |tanh| > SATURATION_LEVEL; where the images give enough samples per weight, `filter`: the
  least-squares linear filter of the input over the layer's receptive field, its out-of-sample fit r and its
  shape scores; its kind, how sure it is, and an edge detector's scale in input pixels. In a non-negative layer,
  whether it is dead and from which step (report/numbers/channel_kinds.py's dead_steps: exactly 0 on at least
  DEAD_ZERO_SHARE of its probe values at every step from then on, and of its final values on the analysis set).
- Settling, per channel: `settle_step` is the first step from which the channel's whole map stays within
  max(SETTLE_TOLERANCE x its final spread, SETTLE_FLOOR) of its final map, as an RMS difference;
  `pattern_step` the first from which its map keeps a correlation of at least PATTERN_MIN_R with its final map.
- Per layer: its baseline (`copy_baseline`, report/numbers/robust/baseline.py: what random positive blurs over
  its window reach, and so the bars a copy and a silhouette must pass), counts per kind, medians of the active
  (non-idle) channels' settle and pattern steps, the signed
  r between its channels' final maps (`pair_r`), the pairs reaching DUPLICATE_MIN_R and the complete-linkage
  groups of near-duplicates, each channel's best match in the previous layer (area-averaged to this
  resolution), each channel's kind under the conclusions' other definitions (`variant_kinds`), and a per-step
  timeline on the probes (median spread, median |copy r|, mean |r| between channels, the largest |value|, and
  the settling series) from which these events are read: `informative_step` (the median spread stays >=
  INFORMATIVE_SHARE of its final value), `resembles_input_step` (first informative step with median |copy r|
  >= RESEMBLES_MIN_R), `distinct_step` (informative and mean |r| between channels <= DISTINCT_MAX_R from then
  on); `settling` (pattern step by CKA, contrast step, settled step) and `settle_step_ci`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pipeline.blas_threads import one_blas_thread
from report.capture_facts import grey_probes, is_article, recorded_layers
from report.numbers.analysis_settling import settling_from_series
from report.numbers.channel_kinds import dead_steps, idle_limit_for, mostly_zero_checks, regime_of
from report.numbers.conclusions import median_or_none, run_summary
from report.numbers.findings import (
    CHANNEL_KINDS,
    FilterWindow,
    Findings,
    LayerFindings,
    LayerSettling,
    Repeat,
)
from report.numbers.groups import duplicate_groups, group_details, leaf_order, pair_summary
from report.numbers.receptive_fields import Window, layer_chain
from report.numbers.reference_maps import input_maps, standardise
from report.numbers.research_checks import layer_research, run_research
from report.numbers.robust.channels import channel_findings, pair_numbers, probe_view
from report.numbers.robust.final_measures import MeasureSetup, measure_final
from report.numbers.robust.stability import kind_stability
from report.numbers.robust.variants import layer_variant_kinds
from report.numbers.settling import settling_series, settling_steps, step_series
from report.numbers.thresholds import (
    DISTINCT_MAX_R,
    DUPLICATE_MIN_R,
    INFORMATIVE_SHARE,
    PATTERN_MIN_R,
    RESEMBLES_MIN_R,
    SETTLE_FLOOR,
    SETTLE_TOLERANCE,
    thresholds,
)

ANALYSIS_THREADS = 2  # layers measured at once: this machine's cores (more threads only add memory)


@dataclass(frozen=True)
class LayerAnalysis:
    """One layer's analysis set (docs/analysis-set.md): what its labels, groups and settling are measured on."""

    final: np.ndarray  # (A, H, W, C) the layer at the last step on the analysis images
    images: np.ndarray  # (A, S, S) or (A, S, S, 3) uint8
    counts: np.ndarray  # (B + 1, A) bootstrap counts, row 0 all ones (capture/bootstrap.py)
    series: dict  # the layer's analysis/series arrays (report/numbers/analysis_settling.py)
    steps: np.ndarray  # (G,) the replayed grid
    previous: np.ndarray | None = None  # the previous layer's (A, H', W', C') final maps


@dataclass(frozen=True)
class LayerContext:
    """What the analysis of one layer needs to know besides its values, steps and probes."""

    previous: tuple[str, np.ndarray] | None = None  # the prior layer's name and final (N, H', W', C') maps
    window: Window | None = None  # the layer's input window (report/numbers/receptive_fields.py)
    window_source: str = "model"  # where `window` comes from: "model" (the layer table) or "fallback"
    activation: str | None = "tanh"  # the layer's activation function's name
    fallback_window: bool = True  # without a window, fit 3x3 filters at the layer's own resolution
    scale: dict | None = None  # the render stage's colour scale for the layer (else chosen here)
    analysis: LayerAnalysis | None = None  # None: measure the labels on the probes


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


def _checked_shape(name: str, series, steps: np.ndarray, probe_images: np.ndarray) -> tuple[int, ...]:
    """Return a layer's (T, N, H, W, C) shape; raise ValueError when it does not fit the steps and probes."""
    shape = tuple(np.shape(series))  # a LazyLayer stays unread: report.numbers.settling reads it a block at a time
    if len(shape) != 5:
        raise ValueError(f"layer {name}: expected activations shaped (T, N, H, W, C), got {shape}")
    if len(steps) != shape[0] or len(probe_images) != shape[1]:
        raise ValueError(f"layer {name}: {shape[0]} snapshots of {shape[1]} probes, but {len(steps)} steps and "
                         f"{len(probe_images)} probe images; pass the capture's own steps and probe images")
    return shape


def _timeline(per_step, steps: np.ndarray) -> tuple[dict, dict]:
    """Return the layer's per-step timeline on the probes and the events read from it."""
    timeline = {"median_spread": np.median(per_step.spread, axis=1).tolist(),
                "median_abs_copy_r": np.median(per_step.abs_copy_r, axis=1).tolist(),
                "pair_mean_abs_r": per_step.pair_mean_abs_r.tolist()}
    timeline.update(settling_series(per_step.cka, per_step.r_with_final, per_step.spread))
    timeline["max_abs"] = per_step.max_abs.tolist()  # the strongest colour shown
    spread_series = np.asarray(timeline["median_spread"])
    informative = spread_series >= INFORMATIVE_SHARE * spread_series[-1]
    # Informative from a step on: the reversed cumulative AND; resembling and distinctness need it too.
    informative_after = np.flip(np.logical_and.accumulate(np.flip(informative)))
    channels = per_step.spread.shape[1]
    events = {
        "informative_step": _first_step_staying_or_none(informative, steps) if spread_series[-1] > 0 else None,
        "resembles_input_step": _first_step_reaching(
            informative_after & (np.asarray(timeline["median_abs_copy_r"]) >= RESEMBLES_MIN_R), steps),
        "distinct_step": _first_step_staying_or_none(
            informative_after & (np.asarray(timeline["pair_mean_abs_r"]) <= DISTINCT_MAX_R), steps)
        if channels > 1 else None}
    return timeline, events


def analyse_layer(name: str, series: np.ndarray, steps: np.ndarray, probe_images: np.ndarray,
                  context: LayerContext = LayerContext()) -> LayerFindings:
    """Measure one layer's (T, N, H, W, C) series (and, with `context.analysis`, its analysis set).

    Without a `context.window` the filters are 3x3 at the layer's own resolution ("fallback") unless
    `context.fallback_window` is false (then no filters are fitted). Tanh-like layers (`context.activation`)
    get saturation statistics, others zero shares and an idle limit on their own colour scale. Probe images
    may be RGB (their brightness is compared).
    """
    probe_images = grey_probes(probe_images)
    if not hasattr(series, "shape"):  # nested lists; an ndarray or a LazyLayer is used as it is
        series = np.asarray(series)
    steps = np.asarray(steps)
    _, probes, height, width, channels = _checked_shape(name, series, steps, probe_images)
    copy_unit = standardise(input_maps(probe_images, height, width)["copy"].reshape(-1, 1), axis=0)[0]
    per_step = step_series(name, series, steps, copy_unit)  # raises on a diverged run
    timeline, events = _timeline(per_step, steps)
    regime, scale = regime_of(series, context.activation, context.scale)
    idle_limit = idle_limit_for(scale)
    setup = MeasureSetup(name=name, window=context.window, window_source=context.window_source,
                         fallback_window=context.fallback_window, bounded=regime == "bounded", idle_limit=idle_limit)
    previous = context.previous[1] if context.previous is not None else None
    probe = measure_final(per_step.final.reshape(probes, height, width, channels), probe_images, setup, previous)
    tolerance = np.maximum(SETTLE_TOLERANCE * per_step.final.astype(np.float64).std(axis=0), SETTLE_FLOOR)
    probe_settle = first_step_staying(per_step.rms_to_final <= tolerance, steps)
    probe_pattern = first_step_staying(per_step.r_with_final >= PATTERN_MIN_R, steps)
    probe_settling = LayerSettling(**settling_steps(timeline, steps), samples=int(probes * height * width),
                                   probes=int(probes), first_step=int(steps[0]))
    record = context.analysis
    if record is None:
        measured, settled, images = probe, None, probe_images
        maps = per_step.final.reshape(probes, height, width, channels)
        stability = kind_stability(probe, np.ones((1, probes)), idle_limit)
        channel_steps = list(zip(probe_settle, probe_pattern))
        settling = probe_settling
    else:
        images = grey_probes(record.images)
        maps = np.asarray(record.final, np.float64)
        measured = measure_final(maps, images, setup, record.previous)
        stability = kind_stability(measured, record.counts, idle_limit)
        settled = settling_from_series(record.series, record.steps)
        channel_steps = list(zip(settled.channel_settle_steps, settled.channel_pattern_steps))
        settling = LayerSettling(pattern_step=settled.pattern_step, contrast_step=settled.contrast_step,
                                 settled_step=settled.settled_step, samples=int(len(maps) * height * width),
                                 probes=int(len(maps)), first_step=int(np.asarray(record.steps)[0]))
    edge_scale = {"input_size": int(np.shape(probe_images)[1]), "layer_size": int(height)}
    channels_found = channel_findings(name, measured, stability, probe, channel_steps, edge_scale)
    if regime == "non-negative":  # a dead ReLU: exactly 0 (nearly) everywhere from some step to the end
        died = dead_steps(per_step.zero_share, steps, measured.zero_share if record is not None else None)
        for channel, step in zip(channels_found, died):
            channel.dead, channel.dead_step = step is not None, step
    pairs = measured.pairs
    groups = duplicate_groups(pairs, DUPLICATE_MIN_R)
    active = [ch for ch in channels_found if ch.kind != "idle"]
    window = measured.window
    return LayerFindings(
        name=name, height=height, width=width, num_channels=channels,
        counts={kind: sum(ch.kind == kind for ch in channels_found) for kind in CHANNEL_KINDS},
        channels=channels_found,
        median_settle_step=median_or_none([ch.settle_step for ch in active]),
        median_pattern_step=median_or_none([ch.pattern_step for ch in active]),
        median_linear_r=float(np.median(measured.linear_r)),
        **pair_numbers(pairs),
        duplicate_groups=groups,
        previous_layer=context.previous[0] if context.previous is not None else None,
        duplicates_of_previous=[Repeat(ch.channel, ch.previous_layer_channel, ch.previous_layer_r)
                                for ch in channels_found if abs(ch.previous_layer_r) >= DUPLICATE_MIN_R],
        **events,
        timeline=timeline,
        pair_r=pairs.tolist(),
        pairs=pair_summary(pairs, DUPLICATE_MIN_R),
        groups=group_details(pairs, groups),
        channel_order=leaf_order(pairs),
        filter_window=FilterWindow(window.size, window.stride, window.offset, measured.window_source)
        if window is not None else None,
        settling=settling,
        activation=context.activation, regime=regime, scale=scale, idle_limit=idle_limit,
        zero_share=float(measured.zero_share.mean()), negative_share=float(measured.negative_share.mean()),
        spatial=measured.spatial,
        mostly_zero=mostly_zero_checks(measured.zero_share, [ch.kind for ch in channels_found],
                                       [ch.dead for ch in channels_found])
        if regime == "non-negative" else [],
        settle_step_ci=list(settled.settle_step_ci) if settled is not None else [None, None],
        settle_never_share=settled.never_share if settled is not None else None,
        research=layer_research(record.series, record.steps) if record is not None else None,
        on_probes=probe_view(probe, probe_settling, probe_settle) if record is not None else None,
        variant_kinds=layer_variant_kinds(maps, images, measured, idle_limit),
        copy_baseline=measured.baselines.get("mean"),
    )


# --- Run -------------------------------------------------------------------------------------------


def _analysis_of(capture, name: str, counts: np.ndarray | None, previous: np.ndarray | None) -> LayerAnalysis | None:
    """Return a layer's analysis set from the capture's AnalysisRecord (None: the run has none for it)."""
    record = getattr(capture, "analysis", None)
    if record is None or name not in record.final or name not in record.series:
        return None
    return LayerAnalysis(final=record.final[name], images=record.images, counts=counts, series=record.series[name],
                         steps=np.asarray(record.steps), previous=previous)


def analyse(capture, scales: dict | None = None) -> Findings:
    """Measure a Capture (or any object with its attributes) and return its Findings.

    `scales` {layer: the render manifest's scale}: the colour scales the page draws with, so they are not
    chosen a second time (see report.numbers.channel_kinds.regime_of). With `capture.analysis` (an
    AnalysisRecord) the labels, groups and settling are measured on the analysis set.
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
    record = getattr(capture, "analysis", None)
    counts = record.counts() if record is not None else None
    jobs, previous, previous_set = [], None, None
    for name, series in capture.activations.items():
        window = windows.get(name)
        analysis = _analysis_of(capture, name, counts, previous_set)
        # Only the article's model falls back to a 3x3 filter where its table cannot tell (older captures).
        context = LayerContext(previous=previous, window=window,
                               window_source="model" if window is not None else "fallback",
                               activation=activations[name], fallback_window=article, scale=(scales or {}).get(name),
                               analysis=analysis)
        jobs.append((name, series, context))
        previous = (name, np.asarray(series[-1], np.float64))
        previous_set = analysis.final if analysis is not None else None
    # The layers are measured independently, two at a time (their filter fits are most of the time, in LAPACK
    # and BLAS calls that release the GIL), each on one BLAS thread; the order of the results is the layers'.
    # The widest filter window first: its fit (an eigendecomposition per fold, cubic in the window's pixels)
    # is the longest job, and the others fill the second thread meanwhile.
    order = sorted(range(len(jobs)), key=lambda index: -(jobs[index][2].window.size if jobs[index][2].window else 0))
    with one_blas_thread(), ThreadPoolExecutor(max_workers=ANALYSIS_THREADS) as pool:
        done = dict(zip(order, pool.map(lambda index: analyse_layer(jobs[index][0], jobs[index][1], steps, probes,
                                                                    jobs[index][2]), order)))
    layers = [done[index] for index in range(len(jobs))]
    settled = [(name, layer.research, settling_from_series(context.analysis.series, context.analysis.steps))
               for (name, _, context), layer in zip(jobs, layers) if context.analysis is not None]
    last_step = int(steps[-1])
    run = run_summary(capture, layers, last_step)
    if record is not None and len(settled) == len(layers):
        run.analysis_images, run.analysis_source = int(len(record.indices)), "analysis set"
        run.bootstrap_resamples = int(record.resamples)
        run.research = run_research(settled, np.asarray(capture.train_loss), last_step)
    return Findings(
        steps=steps.astype(int).tolist(), last_step=last_step, num_probes=int(len(capture.probe_images)),
        probe_labels=np.asarray(capture.probe_labels).astype(int).tolist(), layers=layers, run=run,
        thresholds={name: value for name, (value, _) in thresholds().items()},
    )
