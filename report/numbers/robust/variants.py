"""The three conclusions' checks under any definition, and their verdicts under the variants of issue 21.

Use: report/numbers/conclusions.py builds each conclusion's headline checks with `checks_1`, `checks_2` and
`checks_3` and its `variants` with `variants_1(layers, accuracy, accuracy_margin)`, `variants_2(layers)` and
`variants_3(layers, start, span)`; `combined_verdict(verdict, variants)` is the headline verdict: HOLDS only
where every variant holds (PARTLY otherwise), DOES_NOT_HOLD where the headline definition already fails.
`layer_variant_kinds(maps, images, measures, idle_limit)` gives each channel's kind under the definitions that
relabel (report/numbers/analysis.py stores it as LayerFindings.variant_kinds).

Definitions (keys), conclusions 1 and 2: "analysis_set" (the headline: labels on the analysis set, the input
area-averaged to each layer's resolution), "shown_probes" (the labels the ten shown probes alone give, and their
r between channels), "max_pool_reference" (the copy and edge references from the block maximum of the input
instead of its mean), "thresholds_strict" / "thresholds_lenient" (the deciding r thresholds moved by
BORDERLINE_R, the filter's edge-share line or shape score by BORDERLINE_SHAPE, the entangled bar by
BORDERLINE_R and each share's threshold by one channel, all against / in favour of the claim) and, for
conclusion 1, "sure_labels_only" (only the channels whose label is sure). Conclusion 3: "cka_analysis_set" (the
headline), "cka_shown_probes", "channel_values" (per layer the median over active channels of their own settle
steps on the analysis set), "early_share_strict" / "early_share_lenient" (EARLY_SHARE -/+ BORDERLINE_STEPS) and
"settle_upper_bound" (each layer's settle_step_ci upper end). A definition without its data (a run measured on
the probes has no separate probe view or interval) is left out.

A check's measure ("edge detectors (few)") is kept in English in the findings (findings.json) and names the check
there; `N_` marks each for the catalogue (`make messages`) so that the page translates it where it shows it.
"""

from __future__ import annotations

from report.numbers.channel_kinds import LabelRule
from report.numbers.checks import DOES_NOT_HOLD, HOLDS, PARTLY, Check, ShareCheck, check, decide_verdict
from report.numbers.findings import CHANNEL_KINDS, LayerFindings
from report.numbers.reference_maps import standardise
from report.numbers.robust.final_measures import FinalMeasures, correlations, kinds_under, label_inputs
from report.numbers.run_findings import Variant
from report.numbers.thresholds import (
    BORDERLINE_R,
    BORDERLINE_SHAPE,
    BORDERLINE_STEPS,
    CLAIMED_ACCURACY,
    COPY_MIN_R,
    DISTINCT_MAX_R,
    EARLY_SHARE,
    EDGE_MIN_R,
    MAJORITY_SHARE,
    MINORITY_SHARE,
    SHAPE_MIN_SCORE,
)
from report.voice import N_

# Neither a picture of the input (a copy or a silhouette) nor a single-orientation edge detector. A silhouette is
# not unnamed: "where the object is" is a feature one can name, so conclusion 2 (hard-to-name features) counts it
# against the claim, as it counts a copy.
UNNAMED_KINDS = ("other", "saturated")
# Conclusion 1's "few features": a silhouette, like a copy, passes the input on (where the object is) without
# detecting anything in it, and it is no edge detector; so it counts with the copies.
PLAIN_KINDS = ("copy", "silhouette", "idle")
# Thresholds moved against (+1, strict) or in favour of (-1, lenient) each claim.
RULES = {
    "c1_thresholds_strict": LabelRule(copy_min_r=COPY_MIN_R + BORDERLINE_R, edge_min_r=EDGE_MIN_R - BORDERLINE_R,
                                      edge_share_line=0.5 - BORDERLINE_SHAPE),
    "c1_thresholds_lenient": LabelRule(copy_min_r=COPY_MIN_R - BORDERLINE_R, edge_min_r=EDGE_MIN_R + BORDERLINE_R,
                                       edge_share_line=0.5 + BORDERLINE_SHAPE),
    "c2_thresholds_strict": LabelRule(copy_min_r=COPY_MIN_R - BORDERLINE_R, edge_min_r=EDGE_MIN_R - BORDERLINE_R,
                                      shape_min_score=SHAPE_MIN_SCORE - BORDERLINE_SHAPE),
    "c2_thresholds_lenient": LabelRule(copy_min_r=COPY_MIN_R + BORDERLINE_R, edge_min_r=EDGE_MIN_R + BORDERLINE_R,
                                       shape_min_score=SHAPE_MIN_SCORE + BORDERLINE_SHAPE),
}
SHIFTS = {"thresholds_strict": 1, "thresholds_lenient": -1}


def layer_variant_kinds(maps, images, measures: FinalMeasures, idle_limit: float) -> dict[str, list[str]]:
    """Return each channel's kind under the max-pooled reference and each conclusion's moved thresholds."""
    count, height, width, channels = maps.shape
    unit, _ = standardise(maps.reshape(-1, channels).astype("float64"), axis=0)
    rs = correlations(unit, images, height, width, "max")
    kinds = {"max_pool_reference": kinds_under(measures, LabelRule(), idle_limit, label_inputs(measures, rs, "max"))}
    kinds.update({key: kinds_under(measures, rule, idle_limit) for key, rule in RULES.items()})
    return kinds


# --- Checks under a definition ------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def share_check(measure: str, part: int, whole: int, threshold: float, movers: tuple[int, int] | None = None,
                **options) -> ShareCheck:
    """Check a share of channels; its margin the (leave, join) movers towards the threshold, at least one channel."""
    leave, join = movers or (0, 0)
    item = check(measure, _share(part, whole), threshold, unit="share", **options)
    if item.value is not None:
        rising = options.get("at_least", True)  # a larger share helps an "at least" check
        towards = (leave if rising else join) if item.passes else (join if rising else leave)
        item = check(measure, item.value, threshold, margin=max(towards, 1) / whole, unit="share", **options)
    return ShareCheck(**vars(item), part=part, whole=whole, could_leave=leave, could_join=join)


def checks_1(kinds: list[str], accuracy: float | None, accuracy_margin: float, shift: int = 0,
             movers: dict[str, tuple[int, int]] | None = None,
             accuracy_needed: float = CLAIMED_ACCURACY) -> list[Check]:
    """Return conclusion 1's checks of conv1-4's kinds (shares moved by `shift` channels against the claim).

    accuracy_needed: the test accuracy that counts as accurate: the post's CLAIMED_ACCURACY on MNIST
    (report.capture_facts.post_yardstick_applies), elsewhere report.numbers.conclusions.accurate_level's.
    """
    total = len(kinds)
    edges, plain = kinds.count("edge"), sum(kind in PLAIN_KINDS for kind in kinds)
    step = shift / total if total else 0.0
    movers = movers or {}
    checks = [
        share_check(N_("edge detectors (few)"), edges, total, MINORITY_SHARE - step, movers.get("edge"),
                    at_least=False),
        share_check(N_("edge detectors (not most)"), edges, total, MAJORITY_SHARE - step, movers.get("edge"),
                    at_least=False),
        share_check(N_("copies of the input, silhouettes or idle") if "silhouette" in kinds else
                    N_("copies of the input or idle"), plain, total, MAJORITY_SHARE + step, movers.get("plain"),
                    strict=True),
    ]
    checks.append(check(N_("test accuracy"), accuracy, accuracy_needed, margin=accuracy_margin, unit="accuracy"))
    return checks


def checks_2(kinds: list[str], pair_mean: float | None, shift: int = 0,
             movers: tuple[int, int] | None = None) -> list[Check]:
    """Return conclusion 2's checks of conv5-6's kinds and mean |r| (moved by `shift` against the claim)."""
    active = [kind for kind in kinds if kind != "idle"]
    if not active:
        return []
    unnamed = sum(kind in UNNAMED_KINDS for kind in active)
    step = shift / len(active)
    return [
        share_check(N_("unnamed channels (most)"), unnamed, len(active), MAJORITY_SHARE + step, movers, strict=True),
        share_check(N_("unnamed channels (not few)"), unnamed, len(active), MINORITY_SHARE + step, movers, strict=True),
        check(N_("mean |r| between a layer's channels"), pair_mean, DISTINCT_MAX_R + shift * BORDERLINE_R, strict=True,
              margin=BORDERLINE_R, unit="r"),
    ]


def checks_3(steps: dict[str, float | None], limit: float, margin: float) -> list[Check]:
    """Return conclusion 3's checks: each layer's step at most the early limit."""
    return [check(N_("settled step"), value, limit, at_least=False, margin=margin, subject=name, unit="step")
            for name, value in steps.items()]


def decide_1(passes: list[bool]) -> str:
    """Return conclusion 1's verdict from its four checks' passes (the kinds', then the accuracy's)."""
    few, not_most, plain, accurate = passes
    if not not_most:
        return DOES_NOT_HOLD
    if few and plain:
        return HOLDS if accurate else PARTLY
    return PARTLY


def decide_2(passes: list[bool]) -> str:
    """Return conclusion 2's verdict from its three checks' passes."""
    most, not_few, entangled = passes
    if most and entangled:
        return HOLDS
    if not not_few and not entangled:
        return DOES_NOT_HOLD
    return PARTLY


def decide_3(passes: list[bool]) -> str:
    """Return conclusion 3's verdict: holds when every layer settled early, partly when some did."""
    if passes and all(passes):
        return HOLDS
    return PARTLY if any(passes) else DOES_NOT_HOLD


# --- Variants ----------------------------------------------------------------------------------------


def _counts(kinds: list[str]) -> dict[str, int]:
    return {kind: kinds.count(kind) for kind in CHANNEL_KINDS}


def _kinds(layers: list[LayerFindings], definition: str, conclusion: int) -> list[str] | None:
    """Return the layers' channel kinds under a definition (None: the run lacks its data)."""
    channels = [ch for layer in layers for ch in layer.channels]
    if definition == "analysis_set":
        return [ch.kind for ch in channels]
    if definition == "shown_probes":
        known = all(layer.on_probes is not None for layer in layers) and layers
        return [ch.kind_on_probes for ch in channels] if known else None
    if definition == "sure_labels_only":
        return [ch.kind for ch in channels if ch.kind_sure]
    key = definition if definition == "max_pool_reference" else f"c{conclusion}_{definition}"
    if not all(key in layer.variant_kinds for layer in layers):
        return None
    return [kind for layer in layers for kind in layer.variant_kinds[key]]


def _variant(definition: str, checks: list[Check], decide, **numbers) -> Variant:
    verdict = decide_verdict(checks, decide).verdict if checks else DOES_NOT_HOLD
    return Variant(definition=definition, verdict=verdict, checks=checks, **numbers)


def variants_1(layers: list[LayerFindings], accuracy: float | None, accuracy_margin: float,
               accuracy_needed: float = CLAIMED_ACCURACY) -> list[Variant]:
    """Return conclusion 1's verdict under each of its definitions (the accuracy against `accuracy_needed`)."""
    out = []
    for definition in ("analysis_set", "shown_probes", "max_pool_reference", "thresholds_strict",
                       "thresholds_lenient", "sure_labels_only"):
        kinds = _kinds(layers, definition, 1)
        if kinds is None or not layers:
            continue
        checks = checks_1(kinds, accuracy, accuracy_margin, SHIFTS.get(definition, 0),
                          accuracy_needed=accuracy_needed)
        out.append(_variant(definition, checks, decide_1, counts=_counts(kinds)))
    return out


def variants_2(layers: list[LayerFindings]) -> list[Variant]:
    """Return conclusion 2's verdict under each of its definitions."""
    out = []
    for definition in ("analysis_set", "shown_probes", "max_pool_reference", "thresholds_strict",
                       "thresholds_lenient"):
        kinds = _kinds(layers, definition, 2)
        if kinds is None or not layers:
            continue
        if definition == "shown_probes":
            pair_mean = sum(layer.on_probes.pair_mean_abs_r for layer in layers) / len(layers)
        else:
            pair_mean = sum(layer.pair_mean_abs_r for layer in layers) / len(layers)
        checks = checks_2(kinds, pair_mean, SHIFTS.get(definition, 0))
        out.append(_variant(definition, checks, decide_2, counts=_counts(kinds)))
    return out


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if not ordered:
        return None
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _layer_steps(layer: LayerFindings, definition: str) -> tuple[bool, float | None]:
    """Return (whether the run has the data, the layer's step) under a conclusion 3 definition."""
    if definition == "cka_shown_probes":
        view = layer.on_probes
        return view is not None, (view.settling.settled_step if view is not None and view.settling else None)
    if definition == "channel_values":
        return True, _median([ch.settle_step for ch in layer.channels if ch.kind != "idle"])
    if definition == "settle_upper_bound":
        high = (layer.settle_step_ci or [None, None])[1]
        return high is not None, high
    return True, layer.settling.settled_step if layer.settling else None


def variants_3(layers: list[LayerFindings], start: int, span: int) -> list[Variant]:
    """Return conclusion 3's verdict under each of its definitions (none without steps after the plateau)."""
    if span <= 0 or not layers:
        return []
    out = []
    margin = BORDERLINE_STEPS * span
    for definition in ("cka_analysis_set", "cka_shown_probes", "channel_values", "early_share_strict",
                       "early_share_lenient", "settle_upper_bound"):
        share = EARLY_SHARE + {"early_share_strict": -1, "early_share_lenient": 1}.get(definition, 0) * BORDERLINE_STEPS
        limit = start + share * span
        known = [_layer_steps(layer, definition) for layer in layers]
        if not all(have for have, _ in known):
            continue
        steps = {layer.name: value for layer, (_, value) in zip(layers, known)}
        out.append(_variant(definition, checks_3(steps, limit, margin), decide_3, steps=steps, limit=limit))
    return out


def combined_verdict(verdict: str, variants: list[Variant]) -> tuple[str, int]:
    """Return the headline verdict (HOLDS only where every variant holds) and how many variants hold."""
    holding = sum(variant.verdict == HOLDS for variant in variants)
    if verdict == HOLDS and holding < len(variants):
        return PARTLY, holding
    return verdict, holding
