"""Sum a run's layer findings up into the run-level numbers: final metrics, the loss plateau, the conclusions.

Use: `run_summary(capture, layers, last_step)` returns the plain dict that becomes `Findings.run`;
report.analysis calls it after measuring every layer. The parts are public for tests and reuse.

- Final test accuracy and loss: meta's whole-test-set numbers when present, else the last test point.
- The early plateau of the training loss at chance (ln of the number of classes).
- The numbers behind the post's three conclusions: kinds of the conv1-4 channels (1); how many conv5-6
  channels are unnamed and how much they overlap (2); and per layer whether its median pattern step comes
  within EARLY_SHARE of the time between its informative step and the end, plus the idle channels (3).
"""

from __future__ import annotations

import math

import numpy as np

from report.findings import CHANNEL_KINDS, LayerFindings
from report.thresholds import EARLY_SHARE, PLATEAU_TOLERANCE

EARLY_LAYERS = ("conv1", "conv2", "conv3", "conv4")  # conclusion 1
LATE_LAYERS = ("conv5", "conv6")  # conclusion 2


def median_or_none(values: list[float]) -> float | None:
    """Return the median as a float, or None for no values."""
    return float(np.median(values)) if len(values) else None


def _share(part: int, whole: int) -> float:
    """Return part / whole, 0.0 when whole is 0."""
    return part / whole if whole else 0.0


def plateau(train_loss: np.ndarray, num_classes: int = 10) -> dict:
    """Return how many initial steps the training loss stayed within PLATEAU_TOLERANCE of ln(num_classes)."""
    loss = np.asarray(train_loss, np.float64)  # loss[k] is the batch loss of step k + 1
    chance = math.log(num_classes)
    outside = np.flatnonzero(np.abs(loss - chance) > PLATEAU_TOLERANCE)
    steps = int(outside[0]) if outside.size else len(loss)
    return {"chance_loss": chance, "tolerance": PLATEAU_TOLERANCE, "steps": steps, "num_steps": len(loss),
            "left_at_step": steps + 1 if outside.size else None}


def _num_classes(capture) -> int:
    """Return the number of classes from the run's config (its last dense width), else 10."""
    try:
        widths = capture.config.get("dense_widths")
        if widths:
            return int(widths[-1])
    except (AttributeError, TypeError, ValueError):
        pass
    return 10


def run_summary(capture, layers: list[LayerFindings], last_step: int) -> dict:
    """Return the run's final metrics, loss plateau and the numbers behind the three conclusions."""
    meta = getattr(capture, "meta", None) or {}
    test_accuracy = np.asarray(capture.test_accuracy, np.float64)
    test_loss = np.asarray(capture.test_loss, np.float64)
    if meta.get("final_test_accuracy") is not None:
        accuracy, source = float(meta["final_test_accuracy"]), "whole test set"
    elif test_accuracy.size:
        accuracy, source = float(test_accuracy[-1]), "last test point"
    else:
        accuracy, source = None, "none"
    if meta.get("final_test_loss") is not None:
        loss = float(meta["final_test_loss"])
    else:
        loss = float(test_loss[-1]) if test_loss.size else None

    early = [layer for layer in layers if layer.name in EARLY_LAYERS]
    late = [layer for layer in layers if layer.name in LATE_LAYERS]
    conclusion_1 = kind_summary(early)
    conclusion_1["final_test_accuracy"] = accuracy
    return {
        "final_test_accuracy": accuracy,
        "final_test_loss": loss,
        "accuracy_source": source,
        "last_step": last_step,
        "plateau": plateau(capture.train_loss, _num_classes(capture)),
        "conclusion_1": conclusion_1,
        "conclusion_2": entanglement_summary(late),
        "conclusion_3": settling_summary(layers, last_step),
    }


def kind_summary(layers: list[LayerFindings]) -> dict:
    """Count channel kinds over several layers (conclusion 1: copies versus edge detectors in conv1-4)."""
    total = sum(layer.num_channels for layer in layers)
    counts = {kind: sum(layer.counts[kind] for layer in layers) for kind in CHANNEL_KINDS}
    return {"layers": [layer.name for layer in layers], "channels": total, "counts": counts,
            "shares": {kind: _share(number, total) for kind, number in counts.items()},
            "median_linear_r": median_or_none([ch.linear_r for layer in layers for ch in layer.channels])}


def entanglement_summary(layers: list[LayerFindings]) -> dict:
    """Measure how nameable and how independent the late layers' channels are (conclusion 2)."""
    summary = kind_summary(layers)
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    unnamed = sum(ch.kind in ("other", "saturated") for ch in active)
    summary.update({
        "active_channels": len(active),
        "unnamed": unnamed,  # active channels that are neither a copy nor a single-orientation edge detector
        "unnamed_share": _share(unnamed, len(active)),
        "median_best_abs_r": median_or_none([max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in active]),
        "pair_mean_abs_r": float(np.mean([layer.pair_mean_abs_r for layer in layers])) if layers else None,
        "pair_mean_abs_r_by_layer": {layer.name: layer.pair_mean_abs_r for layer in layers},
    })
    return summary


def settling_summary(layers: list[LayerFindings], last_step: int) -> dict:
    """Relate each layer's pattern step to the time after it gained contrast; list idle channels (conclusion 3).

    A layer "settled early" when its median pattern step comes at most EARLY_SHARE of the way from its
    informative step (when its maps gained contrast, i.e. when it had learned something) to the last step:
    once learned, the picture stopped changing for the larger part of the rest of training.
    """
    timing = {}
    early_channels = active_channels = 0
    for layer in layers:
        start = layer.informative_step
        limit = None if start is None else start + EARLY_SHARE * (last_step - start)
        pattern = layer.median_pattern_step
        timing[layer.name] = {"informative_step": start, "median_pattern_step": pattern, "early_limit": limit,
                              "early": bool(limit is not None and pattern is not None and pattern <= limit)}
        for ch in layer.channels:
            if ch.kind != "idle":
                active_channels += 1
                early_channels += bool(limit is not None and ch.pattern_step <= limit)
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    return {
        "last_step": last_step,
        "active_channels": active_channels,
        "median_pattern_step": median_or_none([ch.pattern_step for ch in active]),
        "median_settle_step": median_or_none([ch.settle_step for ch in active]),
        "channels_early": early_channels,
        "channels_early_share": _share(early_channels, active_channels),
        "layers": [layer.name for layer in layers],
        "layers_early": [name for name, item in timing.items() if item["early"]],
        "layer_timing": timing,
        "idle_channels": [{"layer": ch.layer, "channel": ch.channel, "spread": ch.spread}
                          for layer in layers for ch in layer.channels if ch.kind == "idle"],
    }
