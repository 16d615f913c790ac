"""Word the post's three conclusions as checked against a run: the claim, its verdict and the evidence.

Use: `conclusion_1_text(run.conclusion_1)`, `conclusion_2_text(run.conclusion_2)` and
`conclusion_3_text(run.conclusion_3)` take a conclusion of `Findings.run` (report/numbers/conclusions.py computes
each one's checks and verdict) and return {"claim", "verdict", "borderline", "verdict_class", "evidence",
"checks"}: the verdict as the analysis decided it (HOLDS, PARTLY or DOES_NOT_HOLD), whether it is borderline,
the CSS class that styles it, the evidence in sentences, and one line per check saying what was measured, the
threshold and the margin. Nothing here decides a verdict.
"""

from __future__ import annotations

from report.numbers.checks import DOES_NOT_HOLD, HOLDS, PARTLY, Check, ShareCheck
from report.numbers.run_findings import (
    EarlyLayersConclusion,
    IdleChannel,
    LateLayersConclusion,
    SettlingConclusion,
)
from report.numbers.thresholds import (
    BORDERLINE_ACCURACY_SE,
    BORDERLINE_STEPS,
    CLAIMED_ACCURACY,
    EARLY_SHARE,
)
from report.words.wording import (
    capitalise,
    channel_list,
    count_clause,
    number,
    of_total,
    percent,
    plural,
    r_value,
    series,
    share_percent,
    step,
)

Conclusion = EarlyLayersConclusion | LateLayersConclusion | SettlingConclusion
# The CSS class (templates/static/site.css: .verdict-holds, .verdict-partly, .verdict-fails) of each verdict.
VERDICT_CLASSES = {HOLDS: "holds", PARTLY: "partly", DOES_NOT_HOLD: "fails"}

# The post's three conclusions, restated; each verdict is about one of them.
CLAIMS = (
    "Real training is messier than the tutorials: the first four conv layers extract few features, yet the "
    "model is accurate (the post claims more than 95% on the test set).",
    "Learned features are rarely the clean, separate ones a person would design: conv5 and conv6 learn "
    "something useful that is hard to name, and their channels are entangled.",
    "Once a layer has found its representation it hardly changes for the rest of training (the post also "
    "noticed one channel that stayed idle to the end).",
)


def _number(value: float) -> str:
    """Format a count that may be fractional (a share of channels times their number)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def check_line(item: Check | ShareCheck) -> str:
    """Say what one check measured, its threshold, how far it passes or fails, and whether that is borderline."""
    unit, value, threshold = item.unit, item.value, item.threshold
    subject = f"{item.subject}: " if item.subject else ""
    if value is None:
        return f"{subject}{capitalise(item.measure)}: not measured, so the check fails."
    if unit == "share":
        whole = item.whole
        measured = f"{share_percent(value)} ({item.part} of {whole})"
        limit = f"{item.comparison} {share_percent(threshold)} ({_number(threshold * whole)} of {whole})"
        distance = plural(round(abs(value - threshold) * whole), "channel") if abs(value - threshold) * whole >= 1 \
            else "less than one channel"
        margin = plural(round(item.margin * whole), "channel")
    elif unit == "accuracy":
        measured, limit = percent(value, 1), f"{item.comparison} {percent(threshold)}"
        distance = f"{100 * abs(value - threshold):.1f} percentage points"
        margin = f"{100 * item.margin:.1f} points ({BORDERLINE_ACCURACY_SE:g} standard errors)"
    elif unit == "step":
        measured, limit = f"step {step(value)}", f"{item.comparison} step {step(threshold)}"
        gap = abs(value - threshold)
        distance = plural(int(gap), "step") if float(gap).is_integer() else f"{gap:.1f} steps"
        margin = f"{item.margin:.1f} steps"
    else:
        measured, limit = r_value(value), f"{item.comparison} {r_value(threshold)}"
        distance = f"{abs(value - threshold):.2f}"
        margin = f"{item.margin:.2f}"
    outcome = "passes" if item.passes else "fails"
    if item.gap == 0:
        result = f"{outcome} exactly at the limit: borderline"
    elif item.borderline:
        result = f"{outcome} by {distance}, inside the borderline margin of {margin}"
    else:
        result = f"{outcome} by {distance}, outside the borderline margin of {margin}"
    return f"{subject}{capitalise(item.measure)}: {measured}; needs {limit}; {result}."


def _result(claim: str, numbers: Conclusion, evidence: str) -> dict:
    """Return a conclusion's display data from its computed verdict and worded evidence."""
    verdict = numbers.verdict
    if numbers.borderline:
        flips = "; ".join(f"with {series([_check_name(numbers.checks[i]) for i in flip.checks])} on the "
                          f"other side it would read “{flip.verdict}”" for flip in numbers.flips)
        evidence += f" The verdict is borderline: {flips}."
    return {"claim": claim, "verdict": verdict, "borderline": bool(numbers.borderline),
            "verdict_class": VERDICT_CLASSES[verdict], "evidence": evidence,
            "checks": [check_line(item) for item in numbers.checks]}


def _check_name(item: Check) -> str:
    """Name a check briefly for the borderline sentence."""
    return item.subject if item.subject else item.measure


def conclusion_1_text(numbers: EarlyLayersConclusion, data: str | None = None) -> dict:
    """Word the check of "the first four layers extract few features, yet the model is accurate".

    data: the training data's title (meta["dataset"]["title"]), named where the post's accuracy does not apply.
    """
    shares, counts, total = numbers.shares, numbers.counts, numbers.channels
    accuracy = numbers.final_test_accuracy
    if not total:
        return _result(CLAIMS[0], numbers, "This run has none of the layers conv1 to conv4 to check the claim on.")
    layers = series(numbers.layers)
    clauses = [count_clause(counts["copy"], "is a copy of the input", "are copies of the input"),
               count_clause(counts["edge"], "is an edge detector", "are edge detectors")
               + f" ({share_percent(shares['edge'])})",
               count_clause(counts["other"], "is unnamed", "are unnamed"),
               count_clause(counts["idle"], "is idle", "are idle")]
    if counts["saturated"]:
        clauses.append(count_clause(counts["saturated"], "is saturated", "are saturated"))
    evidence = f"Of the {total} channels in {layers}, {series(clauses)}."
    fitted = numbers.fitted_channels
    by_filter = numbers.by_basis.get("filter", 0)
    if fitted:
        labelled = ("each is labelled by its filter's shape" if by_filter == fitted else
                    f"{number_word(by_filter)} of them {'are' if by_filter > 1 else 'is'} labelled by the filter's "
                    f"shape")
        evidence += (f" {capitalise(of_total(fitted, total))} {'was' if fitted == 1 else 'were'} fitted as a linear "
                     f"filter of the input (median r = {r_value(numbers.median_fit_r)}, each probe predicted from "
                     f"the others); {labelled}, and the median edge share is {numbers.median_edge_share:.2f}.")
    checks = numbers.checks
    few, not_most, plain = checks[0].passes, checks[1].passes, checks[2].passes
    if not not_most:
        evidence += " Most of them are edge detectors, which contradicts the claim."
    elif few and plain:
        evidence += " So these layers extract few features."
    else:
        evidence += " So they extract some features, more than the claim allows."
    if not numbers.accuracy_applies:
        measured = f" (this run's test accuracy is {percent(accuracy, 1)})" if accuracy is not None else ""
        evidence += (f" The accuracy part is not applicable: the post's {percent(CLAIMED_ACCURACY)} is a yardstick "
                     f"for handwritten digits, and this run trained on {data or 'other data'}, so the verdict "
                     f"rests on the checks of the features alone{measured}.")
    elif accuracy is None:
        evidence += " There is no test accuracy to compare."
    else:
        evidence += (f" The test accuracy is {percent(accuracy, 1)}, "
                     f"{'above' if accuracy >= CLAIMED_ACCURACY else 'below'} the claimed {percent(CLAIMED_ACCURACY)}.")
    return _result(CLAIMS[0], numbers, evidence)


def number_word(count: int) -> str:
    """Return a count for the middle of a sentence ("none" for 0)."""
    return "none" if count == 0 else number(count)


def conclusion_2_text(numbers: LateLayersConclusion) -> dict:
    """Word the check of "conv5 and conv6 learn useful but hard-to-name, entangled features"."""
    active, unnamed, share = numbers.active_channels, numbers.unnamed, numbers.unnamed_share
    if not numbers.layers or not active:
        return _result(CLAIMS[1], numbers, "This run has no active channel in conv5 or conv6 to check the claim on.")
    counts = numbers.counts
    by_layer = numbers.pair_mean_abs_r_by_layer
    pairs = series([f"{r_value(value)} in {name}" for name, value in by_layer.items()])
    evidence = (f"In {series(numbers.layers)}, {of_total(unnamed, active, 'active channel')} "
                f"{'are' if 1 < unnamed else 'is'} unnamed ({percent(share)}: neither a copy of the input nor a "
                f"single-orientation edge detector); "
                f"{count_clause(counts['copy'], 'is a copy', 'are copies')} and "
                f"{count_clause(counts['edge'], 'is an edge detector', 'are edge detectors')}. "
                f"Channels of the same layer correlate with each other at mean |r| = {pairs}")
    entangled = numbers.checks[2].passes
    evidence += ": they overlap rather than stand apart." if entangled else ": they are largely separate."
    verdict = numbers.verdict
    if verdict == HOLDS:
        evidence += " Most of these features have no simple name, and they are entangled."
    elif verdict == DOES_NOT_HOLD:
        evidence += " Most of these features are nameable and separate."
    else:
        evidence += " Part of the claim holds: " + ("most features are unnamed, but they are separate."
                                                    if numbers.checks[0].passes else
                                                    "the features overlap, but many of them can be named.")
    return _result(CLAIMS[1], numbers, evidence)


def conclusion_3_text(numbers: SettlingConclusion) -> dict:
    """Word the check of "once a layer has learned its representation it barely changes; a channel can stay idle"."""
    layers, early = numbers.layers, numbers.layers_early
    timing = numbers.layer_timing
    last = numbers.last_step
    start, limit = numbers.learning_start, numbers.early_limit
    if not numbers.checks:
        evidence = (f"The training loss never left its plateau in the {plural(last, 'step')} of this run, so no layer "
                    f"learned a representation that could then stay put; the claim has nothing to hold for."
                    if layers else "This run recorded no layer to check the claim on.")
        return _result(CLAIMS[2], numbers, evidence + _idle_sentence(numbers.idle_channels,
                                                                     numbers.layer_channels))
    evidence = ("Measured per layer by its settled step (see how the layers are measured). "
                + (f"The loss left its plateau after step {start}" if numbers.plateau_found else
                   "The run has no loss plateau at chance, so learning counts from step "
                   f"{start}")
                + f"; a layer settled early when that step comes within the first "
                f"{percent(EARLY_SHARE)} of the {plural(last - start, 'step')} left, by step {step(limit)} "
                f"(borderline within \u00b1{numbers.margin_steps:.1f} steps, {percent(BORDERLINE_STEPS)} of "
                f"them). ")
    # each layer's settled step is in the checks under the verdict and in the settling figure's caption
    close = [name for name, item in timing.items() if item.borderline]
    evidence += (f"{capitalise(of_total(len(early), len(layers), 'layer'))} settled early"
                 + (f" ({series(close)} within the margin: borderline)" if close else "") + ".")
    late = [name for name in layers if name not in early]
    if late and early:
        evidence += f" {series(late)} kept changing for longer."
    return _result(CLAIMS[2], numbers, evidence + _idle_sentence(numbers.idle_channels,
                                                                 numbers.layer_channels))


def _idle_sentence(idle: list[IdleChannel], widths: dict[str, int]) -> str:
    """Say which channels stayed idle to the end, layer by layer ("every conv3 channel"), or that none did."""
    if not idle:
        return " No channel stayed idle to the end, unlike the post's one."
    by_layer = {}
    for item in idle:
        by_layer.setdefault(item.layer, []).append(item.channel)
    parts = [f"every {name} channel" if len(channels) == widths.get(name) and len(channels) > 1 else
             f"{name} {channel_list(channels)}" for name, channels in by_layer.items()]
    if widths and len(idle) == sum(widths.values()):
        parts = ["every channel of every layer"]
    return f" {capitalise(plural(len(idle), 'channel'))} stayed idle to the end: {'; '.join(parts)}."
