"""Sum a run's layer findings up into the run-level numbers: final metrics, the loss plateau, the conclusions.

Use: `run_summary(capture, layers, last_step)` returns the `RunFindings` (report/numbers/run_findings.py) that
becomes `Findings.run`; report/numbers/analysis.py calls it after measuring every layer. The verdicts are
decided here; report/words/conclusion_text.py only words them.

- Final test accuracy and loss: meta's whole-test-set numbers when present, else the last test point.
- The early plateau at chance: the steps from the start on which the training loss stays within PLATEAU_TOLERANCE of
  ln(number of classes) and the batch accuracy near 1 / (number of classes); a plateau only when there are at
  least PLATEAU_MIN_STEPS of them (else `found` is false and the page says there is none).
- The post's three conclusions, each with its numbers, its checks (report/numbers/checks.py: what was
  measured, the threshold, the margin) and its verdict, computed here so that the wording only reports them:
  1. conv1-4 extract few features yet the model is accurate: the share of their channels that are edge
     detectors (at most MINORITY_SHARE: few; above MAJORITY_SHARE: many), the share that copy the input or
     are idle (more than MAJORITY_SHARE), and the test accuracy: at least CLAIMED_ACCURACY on MNIST-family data
     (report.capture_facts.post_yardstick_applies), where the post's yardstick applies; elsewhere well above chance,
     ACCURATE_SHARE_OF_RANGE of the way from 1 / classes to 100% (accurate_level).
  2. conv5-6 learn hard-to-name, entangled features: the share of their active channels that are unnamed
     (more than MAJORITY_SHARE: most; at most MINORITY_SHARE: few) and the mean |r| between channels of a
     layer (above DISTINCT_MAX_R: entangled).
  3. a layer barely changes once learned: per layer, its settled step (report/numbers/settling.py: pattern by CKA
     and contrast both in place) comes at most EARLY_SHARE of the way from the end of the loss plateau to the
     last step.
  A share's margin is the share of the channels whose own label is borderline and could move it towards
  its threshold, and at least one channel; a step's margin BORDERLINE_STEPS of the steps after the plateau;
  an accuracy's BORDERLINE_ACCURACY_SE standard errors of its test set.
- Each conclusion's `variants`: its verdict under other reasonable definitions (report/numbers/robust/variants.py,
  which also builds the checks); the headline `verdict` holds only where every variant holds (else partly
  holds), and `definition_verdict` is the headline definition's own. Conclusion 1's `data_explained`: only the
  test accuracy fails, and the run trained on the bundled subset (meta["dataset"]["name"] == "bundled").
"""
from __future__ import annotations

import math

import numpy as np

from report.capture_facts import class_count, post_yardstick_applies
from report.numbers.checks import DOES_NOT_HOLD, Check, Verdict, decide_verdict
from report.numbers.findings import CHANNEL_KINDS, LayerFindings
from report.numbers.robust.variants import (
    PLAIN_KINDS,
    UNNAMED_KINDS,
    checks_1,
    checks_2,
    checks_3,
    combined_verdict,
    decide_1,
    decide_2,
    decide_3,
    variants_1,
    variants_2,
    variants_3,
)
from report.numbers.run_findings import (
    EarlyLayersConclusion,
    IdleChannel,
    KindCounts,
    LateLayersConclusion,
    LayerTiming,
    Plateau,
    RunFindings,
    SettlingConclusion,
    Variant,
)
from report.numbers.thresholds import (
    ACCURATE_SHARE_OF_RANGE,
    BORDERLINE_ACCURACY_SE,
    BORDERLINE_STEPS,
    CLAIMED_ACCURACY,
    EARLY_SHARE,
    PLATEAU_ACCURACY_MARGIN,
    PLATEAU_ACCURACY_SE,
    PLATEAU_MIN_STEPS,
    PLATEAU_TOLERANCE,
)

EARLY_LAYERS = ("conv1", "conv2", "conv3", "conv4")  # conclusion 1
LATE_LAYERS = ("conv5", "conv6")  # conclusion 2


def median_or_none(values: list[float]) -> float | None:
    """Return the median as a float, or None for no values."""
    return float(np.median(values)) if len(values) else None


def _share(part: int, whole: int) -> float:
    """Return part / whole, 0.0 when whole is 0."""
    return part / whole if whole else 0.0


def plateau(train_loss: np.ndarray, num_classes: int = 10, train_accuracy: np.ndarray | None = None,
            batch_size: int | None = None) -> Plateau:
    """Return the loss plateau at chance: steps from the start with both the loss and the accuracy at chance.

    A step is at chance when its training loss lies within PLATEAU_TOLERANCE of ln(num_classes) and its batch
    accuracy is at most 1 / num_classes + PLATEAU_ACCURACY_MARGIN (or PLATEAU_ACCURACY_SE standard errors of a
    batch of `batch_size` at chance, where that is more); without an accuracy series the loss alone decides. The
    run has a plateau only when at least PLATEAU_MIN_STEPS steps from the start are at chance.
    """
    loss = np.asarray(train_loss, np.float64)  # loss[k] is the batch loss of step k + 1
    chance = math.log(num_classes)
    at_chance = np.abs(loss - chance) <= PLATEAU_TOLERANCE
    chance_accuracy = 1.0 / num_classes
    limit = None
    accuracy = None
    if train_accuracy is not None and len(train_accuracy) == len(loss):
        accuracy = np.asarray(train_accuracy, np.float64)
        margin = PLATEAU_ACCURACY_MARGIN
        if batch_size:
            margin = max(margin, PLATEAU_ACCURACY_SE * math.sqrt(chance_accuracy * (1 - chance_accuracy) / batch_size))
        limit = chance_accuracy + margin
        at_chance &= accuracy <= limit
    off = np.flatnonzero(~at_chance)
    initial = int(off[0]) if off.size else len(loss)
    found = len(loss) > 0 and initial >= PLATEAU_MIN_STEPS
    left_by = []
    if off.size:
        index = int(off[0])
        if abs(loss[index] - chance) > PLATEAU_TOLERANCE:
            left_by.append("loss")
        if accuracy is not None and accuracy[index] > limit:
            left_by.append("accuracy")
    later = min(2 * int(PLATEAU_MIN_STEPS), len(loss))
    return Plateau(chance_loss=chance, tolerance=PLATEAU_TOLERANCE, steps=initial if found else 0,
                   num_steps=len(loss), left_at_step=initial + 1 if found and off.size else None, found=bool(found),
                   min_steps=int(PLATEAU_MIN_STEPS), chance_accuracy=chance_accuracy, accuracy_limit=limit,
                   at_chance_steps=initial, off_step=initial + 1 if off.size else None,
                   off_loss=float(loss[initial]) if off.size else None,
                   off_accuracy=float(accuracy[initial]) if off.size and accuracy is not None else None,
                   left_by=left_by, first_loss=float(loss[0]) if len(loss) else None,
                   later_step=later if later else None, later_loss=float(loss[later - 1]) if later else None)


def _num_classes(capture) -> int:
    """Return the number of classes: the dataset's class names, else the config's last dense width, else 10."""
    try:
        config = capture.config
    except (AttributeError, TypeError, ValueError):
        config = None
    return class_count(getattr(capture, "meta", None), config if isinstance(config, dict) else None)


def _batch_size(capture) -> int | None:
    """Return the config's batch size (None: the capture does not say)."""
    try:
        config = capture.config
    except (AttributeError, TypeError, ValueError):
        return None
    size = config.get("batch_size") if isinstance(config, dict) else None
    return int(size) if isinstance(size, (int, float)) and size > 0 else None


def run_summary(capture, layers: list[LayerFindings], last_step: int) -> RunFindings:
    """Return the run's final metrics, loss plateau and the three conclusions with their checks and verdicts."""
    meta = getattr(capture, "meta", None) or {}
    test_accuracy = np.asarray(capture.test_accuracy, np.float64)
    test_loss = np.asarray(capture.test_loss, np.float64)
    if meta.get("final_test_accuracy") is not None:
        accuracy, source = float(meta["final_test_accuracy"]), "whole test set"
        test_size = meta.get("final_test_size")
    elif test_accuracy.size:
        accuracy, source = float(test_accuracy[-1]), "last test point"
        test_size = meta.get("test_subset_size")
    else:
        accuracy, source, test_size = None, "none", None
    if meta.get("final_test_loss") is not None:
        loss = float(meta["final_test_loss"])
    else:
        loss = float(test_loss[-1]) if test_loss.size else None

    loss_plateau = plateau(capture.train_loss, _num_classes(capture), getattr(capture, "train_accuracy", None),
                           _batch_size(capture))
    early = [layer for layer in layers if layer.name in EARLY_LAYERS]
    late = [layer for layer in layers if layer.name in LATE_LAYERS]
    test_size = int(test_size) if test_size else None
    return RunFindings(
        final_test_accuracy=accuracy, final_test_loss=loss, accuracy_source=source, test_size=test_size,
        last_step=last_step, plateau=loss_plateau,
        conclusion_1=conclusion_1(early, accuracy, test_size, (meta.get("dataset") or {}).get("name"),
                                  _num_classes(capture)),
        conclusion_2=conclusion_2(late),
        conclusion_3=conclusion_3(layers, loss_plateau, last_step),
    )


# --- Counting channels ------------------------------------------------------------------------------


def kind_counts(layers: list[LayerFindings]) -> KindCounts:
    """Count channel kinds over several layers, with the numbers behind the labels."""
    channels = [ch for layer in layers for ch in layer.channels]
    counts = {kind: sum(ch.kind == kind for ch in channels) for kind in CHANNEL_KINDS}
    fitted = [ch.filter for ch in channels if ch.filter is not None and ch.kind not in ("idle", "saturated")]
    return KindCounts(
        layers=[layer.name for layer in layers], channels=len(channels), counts=counts,
        shares={kind: _share(number, len(channels)) for kind, number in counts.items()},
        by_basis={basis: sum(ch.kind_basis == basis for ch in channels)
                  for basis in ("filter", "correlation", "spread", "saturation")},
        fitted_channels=len(fitted),
        median_fit_r=median_or_none([fit.fit_r for fit in fitted]),
        median_edge_share=median_or_none([fit.edge_share for fit in fitted]),
        median_linear_r=median_or_none([ch.linear_r for ch in channels]))


def _movers(layers: list[LayerFindings], inside: tuple[str, ...]) -> tuple[int, int]:
    """Return how many borderline channels could leave the kinds `inside`, and how many could join them."""
    borderline = [ch for layer in layers for ch in layer.channels if ch.kind_borderline]
    leave = sum(ch.kind in inside and ch.kind_alternative not in inside for ch in borderline)
    join = sum(ch.kind not in inside and ch.kind_alternative in inside for ch in borderline)
    return leave, join


def _verdict_fields(checks: list[Check], outcome: Verdict | None, variants: list[Variant]) -> dict:
    """Return a conclusion's checks, verdicts, borderline, flips and variants as keyword arguments."""
    outcome = outcome or Verdict(verdict=DOES_NOT_HOLD, borderline=False, flips=[])
    verdict, holding = combined_verdict(outcome.verdict, variants)
    return {"checks": checks, "verdict": verdict, "borderline": outcome.borderline, "flips": outcome.flips,
            "variants": variants, "variants_holding": holding, "definition_verdict": outcome.verdict}


def headline_borderline(numbers) -> bool:
    """Return whether flipping the checks' borderline ones could change the headline verdict (after the variants).

    The flips are of the checks' own verdict: "holds, borderline" there can still read "partly holds" either way
    once a variant does not hold, and then the headline is not borderline."""
    variants = getattr(numbers, "variants", None) or []
    return any(combined_verdict(flip.verdict, variants)[0] != numbers.verdict for flip in numbers.flips or [])


# --- Conclusion 1: few features in conv1-4, yet accurate --------------------------------------------


def accurate_level(classes: int) -> float:
    """Return the test accuracy that counts as accurate on data without the post's yardstick: ACCURATE_SHARE_OF_RANGE
    of the way from chance (1 / classes) to 100%."""
    chance = 1.0 / max(int(classes), 1)
    return chance + ACCURATE_SHARE_OF_RANGE * (1.0 - chance)


def conclusion_1(layers: list[LayerFindings], accuracy: float | None, test_size: int | None,
                 dataset: str | None = None, classes: int = 10) -> EarlyLayersConclusion:
    """Check "the first four layers extract few features, yet the model is accurate"; `dataset`: meta's name;
    `classes`: the number of classes (chance is 1 / classes)."""
    kinds = kind_counts(layers)
    if accuracy is not None and test_size:
        accuracy_margin = BORDERLINE_ACCURACY_SE * math.sqrt(accuracy * (1 - accuracy) / test_size)
    else:
        accuracy_margin = 0.0
    movers = {"edge": _movers(layers, ("edge",)), "plain": _movers(layers, PLAIN_KINDS)}
    applies = post_yardstick_applies(dataset)
    needed = CLAIMED_ACCURACY if applies else accurate_level(classes)
    checks = checks_1([ch.kind for layer in layers for ch in layer.channels], accuracy, accuracy_margin,
                      movers=movers, accuracy_needed=needed)
    outcome = decide_verdict(checks, decide_1) if kinds.channels else None
    variants = variants_1(layers, accuracy, accuracy_margin, needed) if kinds.channels else []
    data_explained = bool(outcome and applies and not checks[3].passes and all(item.passes for item in checks[:3])
                          and dataset == "bundled")
    return EarlyLayersConclusion(**vars(kinds), final_test_accuracy=accuracy, test_size=test_size,
                                 **_verdict_fields(checks, outcome, variants), data_explained=data_explained,
                                 accuracy_applies=applies, accuracy_needed=needed, dataset=dataset)


# --- Conclusion 2: conv5-6 hard to name and entangled -----------------------------------------------


def conclusion_2(layers: list[LayerFindings]) -> LateLayersConclusion:
    """Check "conv5 and conv6 learn useful but hard-to-name, entangled features"."""
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    unnamed = sum(ch.kind in UNNAMED_KINDS for ch in active)
    pair_mean = float(np.mean([layer.pair_mean_abs_r for layer in layers])) if layers else None
    checks = checks_2([ch.kind for ch in active], pair_mean, movers=_movers(layers, UNNAMED_KINDS))
    outcome = decide_verdict(checks, decide_2) if checks else None
    return LateLayersConclusion(
        **vars(kind_counts(layers)),
        active_channels=len(active),
        unnamed=unnamed,
        unnamed_share=_share(unnamed, len(active)),
        median_best_abs_r=median_or_none([max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in active]),
        pair_mean_abs_r=pair_mean,
        pair_mean_abs_r_by_layer={layer.name: layer.pair_mean_abs_r for layer in layers},
        **_verdict_fields(checks, outcome, variants_2(layers) if active else []))


# --- Conclusion 3: settled early, idle channels -----------------------------------------------------


def conclusion_3(layers: list[LayerFindings], loss_plateau: Plateau, last_step: int) -> SettlingConclusion:
    """Check "once a layer has learned its representation it barely changes"; list the idle channels.

    The learning starts when the loss leaves its plateau (at the first step in a run without one); a layer
    settled early when its settled step comes at most EARLY_SHARE of the way from there to the last step, so that
    it then stayed as it was for at least the rest of training's other half.
    """
    start = min(int(loss_plateau.steps), last_step)
    span = last_step - start
    limit = start + EARLY_SHARE * span
    margin = BORDERLINE_STEPS * span
    settled_steps = {layer.name: layer.settling.settled_step if layer.settling else None for layer in layers}
    items = dict(zip(settled_steps, checks_3(settled_steps, limit, margin)))
    # Without steps after the plateau there is nothing learned to settle into: no check.
    checks = list(items.values()) if span > 0 else []
    timing = {}
    for layer in layers:
        settling, item = layer.settling, items[layer.name]
        settled = settled_steps[layer.name]
        timing[layer.name] = LayerTiming(
            pattern_step=settling.pattern_step if settling else None,
            contrast_step=settling.contrast_step if settling else None, settled_step=settled,
            early=item.passes, borderline=item.borderline,
            share_of_learning=(settled - start) / span if span > 0 and settled is not None else None)
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    return SettlingConclusion(
        last_step=last_step,
        learning_start=start,
        early_limit=limit,
        margin_steps=margin,
        layers=[layer.name for layer in layers],
        layers_early=[name for name, item in timing.items() if item.early],
        layer_timing=timing,
        active_channels=len(active),
        median_pattern_step=median_or_none([ch.pattern_step for ch in active]),
        median_settle_step=median_or_none([ch.settle_step for ch in active]),
        idle_channels=[IdleChannel(layer=ch.layer, channel=ch.channel, spread=ch.spread)
                       for layer in layers for ch in layer.channels if ch.kind == "idle"],
        layer_channels={layer.name: layer.num_channels for layer in layers},
        **_verdict_fields(checks, decide_verdict(checks, decide_3) if checks else None,
                          variants_3(layers, start, span)),
        plateau_found=bool(loss_plateau.found))
