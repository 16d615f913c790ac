"""Judge the post's three conclusions against a run: a verdict and the evidence for each.

Use: `conclusion_1(run)`, `conclusion_2(run)` and `conclusion_3(run)` take `Findings.run` (the plain dict of
report.summaries) and return {"claim", "verdict", "evidence"}; the verdict is HOLDS, PARTLY or DOES_NOT_HOLD,
chosen by the numbers with the thresholds of report.thresholds, and the evidence gives those numbers.
"""

from __future__ import annotations

from report.thresholds import (
    CLAIMED_ACCURACY,
    DISTINCT_MAX_R,
    EARLY_SHARE,
    MAJORITY_SHARE,
    MINORITY_SHARE,
    PATTERN_MIN_R,
)
from report.wording import capitalise, channel_label, count_clause, of_total, percent, plural, r_value, series, step

HOLDS, PARTLY, DOES_NOT_HOLD = "holds", "partly holds", "does not hold"

# The post's three conclusions, restated; each verdict is about one of them.
CLAIMS = (
    "Real training is messier than the tutorials: the first four conv layers extract few features, yet the "
    "model is accurate (the post claims more than 95% on the test set).",
    "Learned features are rarely the clean, separate ones a person would design: conv5 and conv6 learn "
    "something useful that is hard to name, and their channels are entangled.",
    "Once a layer has found its representation it hardly changes for the rest of training (the post also "
    "noticed one channel that stayed idle to the end).",
)


def conclusion_1(run: dict) -> dict:
    """Check "the first four layers extract few features, yet the model is accurate"."""
    numbers = run["conclusion_1"]
    shares, counts, total = numbers["shares"], numbers["counts"], numbers["channels"]
    accuracy = numbers["final_test_accuracy"]
    accurate = accuracy is not None and accuracy >= CLAIMED_ACCURACY
    plain = shares["copy"] + shares["idle"]  # channels that pass the picture on or do nothing
    if shares["edge"] > MAJORITY_SHARE:
        features, verdict = "many", DOES_NOT_HOLD
    elif shares["edge"] <= MINORITY_SHARE and plain > MAJORITY_SHARE:
        features, verdict = "few", HOLDS if accurate else PARTLY
    else:
        features, verdict = "some", PARTLY
    layers = series(numbers["layers"])
    clauses = [count_clause(counts["copy"], "is a copy of the input", "are copies of the input"),
               count_clause(counts["edge"], "is an edge detector", "are edge detectors")
               + f" ({percent(shares['edge'])})",
               count_clause(counts["other"], "is unnamed", "are unnamed"),
               count_clause(counts["idle"], "is idle", "are idle")]
    if counts["saturated"]:
        clauses.append(count_clause(counts["saturated"], "is saturated", "are saturated"))
    evidence = f"Of the {total} channels in {layers}, {series(clauses)}"
    if numbers.get("median_linear_r") is not None:
        evidence += (f"; a single 3x3 linear filter of the input reproduces the median channel at "
                     f"r = {r_value(numbers['median_linear_r'])}")
    evidence += "."
    if features == "few":
        evidence += " So these layers extract few features."
    elif features == "many":
        evidence += " Most of them are feature detectors, which contradicts the claim."
    else:
        evidence += " So they extract some features, more than the claim allows."
    if accuracy is None:
        evidence += " There is no test accuracy to compare."
    else:
        evidence += (f" The test accuracy is {percent(accuracy, 1)}, "
                     f"{'above' if accurate else 'below'} the claimed {percent(CLAIMED_ACCURACY)}.")
    return {"claim": CLAIMS[0], "verdict": verdict, "evidence": evidence}


def conclusion_2(run: dict) -> dict:
    """Check "conv5 and conv6 learn useful but hard-to-name, entangled features"."""
    numbers = run["conclusion_2"]
    active, unnamed, share = numbers["active_channels"], numbers["unnamed"], numbers["unnamed_share"]
    pair_mean = numbers["pair_mean_abs_r"]
    if not numbers["layers"] or not active:
        return {"claim": CLAIMS[1], "verdict": DOES_NOT_HOLD,
                "evidence": "This run has no active channel in conv5 or conv6 to check the claim on."}
    if share > MAJORITY_SHARE:
        verdict = HOLDS
    elif share <= MINORITY_SHARE and pair_mean is not None and pair_mean <= DISTINCT_MAX_R:
        verdict = DOES_NOT_HOLD
    else:
        verdict = PARTLY
    counts = numbers["counts"]
    by_layer = numbers["pair_mean_abs_r_by_layer"]
    pairs = series([f"{r_value(value)} in {name}" for name, value in by_layer.items()])
    evidence = (f"In {series(numbers['layers'])}, {of_total(unnamed, active, 'active channel')} "
                f"{'are' if 1 < unnamed else 'is'} unnamed ({percent(share)}: neither a copy of the input nor a "
                f"single-orientation edge detector); "
                f"{count_clause(counts['copy'], 'is a copy', 'are copies')} and "
                f"{count_clause(counts['edge'], 'is an edge detector', 'are edge detectors')}. "
                f"Channels of the same layer correlate with each other at mean |r| = {pairs}")
    if pair_mean is not None and pair_mean > DISTINCT_MAX_R:
        evidence += f", above {DISTINCT_MAX_R}: they overlap rather than stand apart."
    else:
        evidence += f", at most {DISTINCT_MAX_R}: they are largely separate."
    if verdict == HOLDS:
        evidence += " Most of these features have no simple name."
    elif verdict == DOES_NOT_HOLD:
        evidence += " Most of these features are nameable and separate."
    else:
        evidence += " Some of these features can be named, the rest cannot."
    return {"claim": CLAIMS[1], "verdict": verdict, "evidence": evidence}


def conclusion_3(run: dict) -> dict:
    """Check "once a layer has learned its representation it barely changes; a channel can stay idle"."""
    numbers = run["conclusion_3"]
    layers, early = numbers["layers"], numbers["layers_early"]
    if len(early) == len(layers) and layers:
        verdict = HOLDS
    elif early:
        verdict = PARTLY
    else:
        verdict = DOES_NOT_HOLD
    timing = numbers["layer_timing"]
    listed = series([f"{name} {step(item['informative_step'])} \u2192 {step(item['median_pattern_step'])}"
                     for name, item in timing.items()])
    their = "its" if len(layers) == 1 else "their"
    evidence = (f"{capitalise(of_total(len(early), len(layers), 'layer'))} fixed {their} pattern "
                f"(median channel r \u2265 {PATTERN_MIN_R} with its last map) within the first "
                f"{percent(EARLY_SHARE)} of the time left after their maps gained contrast (contrast \u2192 "
                f"pattern step: {listed}; the run has {numbers['last_step']} steps). "
                f"{capitalise(of_total(numbers['channels_early'], numbers['active_channels'], 'active channel'))} "
                f"did so ({percent(numbers['channels_early_share'])}).")
    late = [name for name in layers if name not in early]
    if late and early:
        evidence += f" {series(late)} kept changing for longer."
    idle = numbers["idle_channels"]
    if idle:
        names = series([f"{item['layer']} {channel_label(item['channel'])}" for item in idle])
        evidence += f" {capitalise(plural(len(idle), 'channel'))} stayed idle to the end: {names}."
    else:
        evidence += " No channel stayed idle to the end, unlike the post's one."
    return {"claim": CLAIMS[2], "verdict": verdict, "evidence": evidence}
