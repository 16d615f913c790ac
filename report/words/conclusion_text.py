"""Word the post's three conclusions as checked against a run: the claim, its verdict and the evidence.

Use: `conclusion_1_text(run.conclusion_1)`, `conclusion_2_text(run.conclusion_2)` and
`conclusion_3_text(run.conclusion_3)` take a conclusion of `Findings.run` (report/numbers/conclusions.py computes
each one's checks and verdict) and return {"claim", "verdict", "borderline", "verdict_class", "evidence",
"checks"}: the verdict as the analysis decided it (HOLDS, PARTLY or DOES_NOT_HOLD), whether it is borderline,
the CSS class that styles it, the evidence in sentences, and one line per check saying what was measured, the
threshold and the margin. Nothing here decides a verdict. The sentences are macros of
templates/words/conclusion.txt.j2; this module chooses which to say and with which numbers.
"""

from __future__ import annotations

from report.numbers.checks import DOES_NOT_HOLD, HOLDS, PARTLY, Check, ShareCheck
from report.numbers.conclusions import headline_borderline
from report.numbers.run_findings import (
    EarlyLayersConclusion,
    IdleChannel,
    LateLayersConclusion,
    SettlingConclusion,
)
from report.numbers.thresholds import (
    ACCURATE_SHARE_OF_RANGE,
    BORDERLINE_ACCURACY_SE,
    BORDERLINE_STEPS,
    CLAIMED_ACCURACY,
    EARLY_SHARE,
)
from report.voice import gettext, say

Conclusion = EarlyLayersConclusion | LateLayersConclusion | SettlingConclusion
# The CSS class (templates/static/site.css: .verdict-holds, .verdict-partly, .verdict-fails) of each verdict.
VERDICT_CLASSES = {HOLDS: "holds", PARTLY: "partly", DOES_NOT_HOLD: "fails"}


def check_line(item: Check | ShareCheck) -> str:
    """Say what one check measured, its threshold, how far it passes or fails, and whether that is borderline."""
    return say("conclusion", "check_line", item=item, accuracy_se=BORDERLINE_ACCURACY_SE)


def _result(claim: int, numbers: Conclusion, evidence: list[str], detail: list[str] | None = None) -> dict:
    """Return a conclusion's display data from its computed verdict and its evidence, sentence by sentence.

    detail: sentences of evidence a first reading can skip, folded with the checks under the verdict."""
    verdict = numbers.verdict
    # the checks' own verdict; the headline holds only where every other way of measuring also holds (the variants)
    definition = getattr(numbers, "definition_verdict", None) or verdict
    if definition != verdict:
        evidence.append(say("conclusion", "variants_partly"))
    if numbers.borderline:  # the flips are of the checks' own verdict
        flips = [([_check_name(numbers.checks[i]) for i in flip.checks], flip.verdict) for flip in numbers.flips]
        evidence.append(say("conclusion", "borderline", flips=flips,
                            definition=definition if definition != verdict else None))
    return {"claim": say("conclusion", "claim", number=claim, claimed=CLAIMED_ACCURACY), "verdict": verdict,
            "borderline": headline_borderline(numbers), "verdict_class": VERDICT_CLASSES[verdict],
            "evidence": " ".join(evidence), "detail": " ".join(detail or []),
            "checks": [check_line(item) for item in numbers.checks]}


def _check_name(item: Check) -> str:
    """Name a check briefly for the borderline sentence."""
    return item.subject if item.subject else gettext(item.measure)


def conclusion_1_text(numbers: EarlyLayersConclusion, data: str | None = None) -> dict:
    """Word the check of "the first four layers extract few features, yet the model is accurate".

    data: the training data's title (meta["dataset"]["title"]), named where the post's accuracy does not apply.
    """
    total, accuracy = numbers.channels, numbers.final_test_accuracy
    if not total:
        return _result(1, numbers, [say("conclusion", "no_early_layers")])
    evidence = [say("conclusion", "early_kinds", total=total, layers=numbers.layers, counts=numbers.counts,
                    edge_share=numbers.shares["edge"])]
    # how the labels were read from fitted filters: folded with the checks (the layers' sections give each filter)
    detail = [say("conclusion", "early_fits", fitted=numbers.fitted_channels, total=total,
                  by_filter=numbers.by_basis.get("filter", 0), median_r=numbers.median_fit_r,
                  edge_share=numbers.median_edge_share)] if numbers.fitted_channels else []
    few, not_most, plain = (item.passes for item in numbers.checks[:3])
    reading = "contradicted" if not not_most else "few" if few and plain else "some"
    evidence.append(say("conclusion", "early_reading", reading=reading))
    if not numbers.accuracy_applies:
        needed = numbers.accuracy_needed
        chance = (needed - ACCURATE_SHARE_OF_RANGE) / (1 - ACCURATE_SHARE_OF_RANGE) if needed is not None else None
        evidence.append(say("conclusion", "accuracy_not_applicable", claimed=CLAIMED_ACCURACY, data=data,
                            accuracy=accuracy, needed=needed, share=ACCURATE_SHARE_OF_RANGE, chance=chance))
    elif accuracy is None:
        evidence.append(say("conclusion", "no_accuracy"))
    else:
        evidence.append(say("conclusion", "accuracy_compared", accuracy=accuracy, claimed=CLAIMED_ACCURACY))
    return _result(1, numbers, evidence, detail)


def conclusion_2_text(numbers: LateLayersConclusion) -> dict:
    """Word the check of "conv5 and conv6 learn useful but hard-to-name, entangled features"."""
    if not numbers.layers or not numbers.active_channels:
        return _result(2, numbers, [say("conclusion", "no_late_channels")])
    evidence = [say("conclusion", "late_kinds", layers=numbers.layers, unnamed=numbers.unnamed,
                    active=numbers.active_channels, share=numbers.unnamed_share, counts=numbers.counts),
                say("conclusion", "late_overlap", by_layer=numbers.pair_mean_abs_r_by_layer,
                    entangled=numbers.checks[2].passes)]
    # read from the checks themselves: where they hold but another way of measuring does not, _result says so
    most, entangled = numbers.checks[0].passes, numbers.checks[2].passes
    if numbers.verdict == HOLDS or (most and entangled):
        reading = "holds"
    elif numbers.verdict == DOES_NOT_HOLD:
        reading = "fails"
    else:
        reading = "unnamed" if most else "entangled" if entangled else "some"
    evidence.append(say("conclusion", "late_reading", reading=reading))
    return _result(2, numbers, evidence)


def conclusion_3_text(numbers: SettlingConclusion) -> dict:
    """Word the check of "once a layer has learned its representation it barely changes; a channel can stay idle"."""
    layers, early = numbers.layers, numbers.layers_early
    last, start = numbers.last_step, numbers.learning_start
    if not numbers.checks:
        evidence = [say("conclusion", "never_learned", last=last) if layers else say("conclusion", "no_layers")]
        return _result(3, numbers, evidence + [_idle_sentence(numbers.idle_channels, numbers.layer_channels)])
    evidence = [say("conclusion", "settling_method"),
                say("conclusion", "early_limit", plateau_found=numbers.plateau_found, start=start, left=last - start,
                    early_share=EARLY_SHARE, limit=numbers.early_limit, margin=numbers.margin_steps,
                    borderline_share=BORDERLINE_STEPS)]
    # each layer's settled step is in the checks under the verdict and in the settling figure's caption
    close = [name for name, item in numbers.layer_timing.items() if item.borderline]
    evidence.append(say("conclusion", "settled_early", early=len(early), total=len(layers), close=close))
    late = [name for name in layers if name not in early]
    if late and early:
        evidence.append(say("conclusion", "kept_changing", late=late))
    return _result(3, numbers, evidence + [_idle_sentence(numbers.idle_channels, numbers.layer_channels)])


def _idle_sentence(idle: list[IdleChannel], widths: dict[str, int]) -> str:
    """Say which channels stayed idle to the end, layer by layer ("every conv3 channel"), or that none did."""
    by_layer = {}
    for item in idle:
        by_layer.setdefault(item.layer, []).append(item.channel)
    parts = [(name, channels, len(channels) == widths.get(name) and len(channels) > 1)
             for name, channels in by_layer.items()]
    everywhere = bool(widths) and len(idle) == sum(widths.values())
    return say("conclusion", "idle", count=len(idle), parts=parts, everywhere=everywhere)
