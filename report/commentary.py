"""Choose the article's sentences from a run's findings, with the numbers beside the words.

Use: `commentary(analyse(capture))` (or pass `Findings.to_dict()`, e.g. read back from JSON) returns one
plain dict for the template: per layer what the post saw (restated as a hypothesis) and what this run
shows, the training curve's plateau, the three conclusions with a verdict each, and the thresholds for
the appendix. Every sentence is picked by the numbers, so another seed or dataset gets other, still
true, text. Strings are plain text (the template escapes them); no HTML. Channels are numbered from 1
in the text ("channel 1" is index 0 of the layer's last axis).
"""

from __future__ import annotations

from report import analysis
from report.analysis import (CLAIMED_ACCURACY, CLOSE_COPY_MIN_R, COPY_MIN_R, DISTINCT_MAX_R, DUPLICATE_MIN_R,
                             EARLY_SHARE, EDGE_MIN_R, IDLE_MAX_STD, INFORMATIVE_SHARE, MAJORITY_SHARE, MINORITY_SHARE,
                             NEAR_STEPS, PATTERN_MIN_R, PLATEAU_TOLERANCE, RESEMBLES_MIN_R, SATURATION_LEVEL,
                             SETTLE_TOLERANCE)

HOLDS, PARTLY, DOES_NOT_HOLD = "holds", "partly holds", "does not hold"

# What the post saw per layer, restated in the project's own words as hypotheses, with the kinds of
# channel each reading implies (copies, single-orientation edge detectors, unnamed ones).
POST_OBSERVATIONS = {
    "conv1": {
        "text": "The post read two of the four channels as maps of stroke thickness and the other two as edge "
                "detectors, and judged the layer a lightly annotated copy of the digit rather than a bank of "
                "textbook edge filters.",
        "expected": {"copy": 2, "edge": 2},
    },
    "conv2": {
        "text": "The post saw a second near-copy of the input: three channels almost identical to one another "
                "and to conv1's edge-like channels, and a fourth that looked like a blurred copy.",
        "expected": {"copy": 4},
    },
    "conv3": {
        "text": "At half resolution the post expected the first real features: one channel marking the "
                "underside of horizontal strokes, one their top edge, and copies of the input for the rest.",
        "expected": {"edge": 2, "copy": 6},
    },
    "conv4": {
        "text": "The post described sharper edge features at several angles, such as the tops of horizontal "
                "strokes and diagonals, with two channels still copying the input.",
        "expected": {"edge": 6, "copy": 2},
    },
    "conv5": {
        "text": "At 7x7 the post saw faint, featureless maps at first, blurry digit-like blobs by about step 70, "
                "and clearly different channels by the end, none of which it could name.",
        "expected": {"other": 16},
    },
    "conv6": {
        "text": "The post described conv6 as behaving like conv5; it could show only the last frame.",
        "expected": {"other": 16},
    },
}
POST_BLOB_STEP = 70  # the post's "blurry blobs by about step 70" (conv5)
POST_PLATEAU_STEPS = 60  # the post's metrics sat at chance for about the first 60 steps

CLAIMS = (
    "Real training is messier than the tutorials: the first four conv layers extract few features, yet the "
    "model is accurate (the post claims more than 95% on the test set).",
    "Learned features are rarely the clean, separate ones a person would design: conv5 and conv6 learn "
    "something useful that is hard to name, and their channels are entangled.",
    "Once a layer has found its representation it hardly changes for the rest of training (the post also "
    "noticed one channel that stayed idle to the end).",
)

_ORIENTATIONS = {
    "horizontal": "horizontal",
    "vertical": "vertical",
    "diagonal_rising": "rising diagonal (/)",
    "diagonal_falling": "falling diagonal (\\)",
}
_KIND_NOUNS = {  # singular, plural
    "copy": ("copy of the input", "copies of the input"),
    "edge": ("edge detector", "edge detectors"),
    "other": ("unnamed channel", "unnamed channels"),
    "idle": ("idle channel", "idle channels"),
    "saturated": ("saturated channel", "saturated channels"),
}
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


# --- Formatting ------------------------------------------------------------------------------------


def number(count: int) -> str:
    """Return a count as a word up to ten ("no" for 0), as digits above."""
    return _WORDS[count] if 0 <= count < len(_WORDS) else str(count)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "<count> <noun>" with the noun agreeing with the count ("one channel", "three channels")."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{number(count)} {noun}"


def verb(count: int, singular: str, plural_form: str) -> str:
    """Return the verb form that agrees with a count (singular for exactly 1)."""
    return singular if count == 1 else plural_form


def count_clause(count: int, singular: str, plural_form: str) -> str:
    """Return "none is a copy", "one is a copy" or "three are copies" for a count."""
    if count == 0:
        return f"none {singular}"
    return f"{number(count)} {verb(count, singular, plural_form)}"


def capitalise(text: str) -> str:
    """Upper-case the first letter of a sentence."""
    return text[:1].upper() + text[1:]


def r_value(value: float) -> str:
    """Format an unsigned correlation for display (two decimals)."""
    return f"{abs(value):.2f}"


def signed(value: float) -> str:
    """Format a signed correlation for display, with an explicit sign."""
    rounded = round(value, 2)
    return f"+{abs(rounded):.2f}" if rounded >= 0 else f"\u2212{abs(rounded):.2f}"


def step(value: float | None) -> str:
    """Format a step (medians can end in .5) for display."""
    if value is None:
        return "never"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def percent(share: float, digits: int = 0) -> str:
    """Format a share in [0, 1] as a percentage."""
    return f"{100 * share:.{digits}f}%"


def series(values: list[str], conjunction: str = "and") -> str:
    """Join words as "a", "a and b", "a, b and c"."""
    if not values:
        return ""
    if len(values) == 1:
        return values[0]
    return f"{', '.join(values[:-1])} {conjunction} {values[-1]}"


def r_list(values: list[float], at_most: int = 4) -> str:
    """Show up to `at_most` |r| values largest first, or their range when there are more."""
    ordered = sorted((abs(v) for v in values), reverse=True)
    if len(ordered) > 1 and r_value(ordered[0]) == r_value(ordered[-1]):
        return f"|r| = {r_value(ordered[0])} each"
    if len(ordered) <= at_most:
        return f"|r| = {', '.join(r_value(v) for v in ordered)}"
    return f"|r| from {r_value(ordered[-1])} to {r_value(ordered[0])}"


def channel_label(channel: dict | int) -> str:
    """Return the 1-based name of a channel for the text."""
    index = channel["channel"] if isinstance(channel, dict) else channel
    return f"channel {index + 1}"


def channel_list(indices: list[int]) -> str:
    """Return "channel 2" or "channels 1, 3 and 4" (1-based)."""
    numbers = [str(i + 1) for i in indices]
    return ("channel " if len(numbers) == 1 else "channels ") + series(numbers)


def _as_dict(findings) -> dict:
    """Accept Findings or its to_dict() form."""
    return findings.to_dict() if hasattr(findings, "to_dict") else findings


# --- Channels --------------------------------------------------------------------------------------


def edge_phrase(channel: dict) -> str:
    """Describe a channel's best edge map: orientation, the side of strokes it is positive on, and r."""
    return (f"{_ORIENTATIONS[channel['best_edge']]} edges, positive along the {channel['edge_side']} side of "
            f"strokes (r = {signed(channel['best_edge_r'])})")


def channel_sentence(channel: dict, last_step: int) -> str:
    """Describe one channel in a sentence: its kind with the number that decided it, and when it settled."""
    kind = channel["kind"]
    if kind == "idle":
        what = f"idle: its map barely varies (spread {channel['spread']:.3f}, below {IDLE_MAX_STD})"
    elif kind == "saturated":
        what = (f"saturated: {percent(channel['saturated_share'])} of its values are beyond "
                f"\u00b1{SATURATION_LEVEL}")
    elif kind == "copy":
        inverted = channel["copy_r"] < 0
        closeness = "a close" if abs(channel["copy_r"]) >= CLOSE_COPY_MIN_R else "a rough"
        what = (f"{closeness} {'inverted ' if inverted else ''}copy of the input "
                f"(r = {signed(channel['copy_r'])})")
    elif kind == "edge":
        what = f"an edge detector for {edge_phrase(channel)}"
    else:
        what = (f"neither a copy (r = {signed(channel['copy_r'])}) nor a single-orientation edge detector "
                f"(best: {_ORIENTATIONS[channel['best_edge']]}, r = {signed(channel['best_edge_r'])})")
    if kind == "idle":
        timing = ""
    elif channel["pattern_step"] >= last_step:
        timing = "; its pattern was still changing at the last step"
    else:
        timing = (f"; its pattern was in place from step {channel['pattern_step']}"
                  f" and its values from step {channel['settle_step']}")
    return f"{capitalise(channel_label(channel))} is {what}{timing}."


# --- Layers ----------------------------------------------------------------------------------------


def of_total(count: int, total: int, noun: str = "channel") -> str:
    """Return the subject for `count` of `total` things: "all four channels", "three of the eight channels"."""
    if total == 1:
        return f"the only {noun}" if count == 1 else f"no {noun}"
    if count == total:
        return f"all {number(total)} {noun}s" if total > 2 else f"both {noun}s"
    if count == 0:
        return f"none of the {number(total)} {noun}s"
    return f"{number(count)} of the {number(total)} {noun}s"


def kind_phrase(counts: dict[str, int], kinds: list[str]) -> str:
    """Return e.g. "four copies of the input and no edge detector" for the given kinds, in order."""
    parts = [plural(counts.get(kind, 0), *_KIND_NOUNS[kind]) for kind in kinds]
    return series(parts)


def _why_not(channel: dict, kind: str) -> str:
    """Say why a channel whose best match is given is not of `kind` ("copy" or "edge")."""
    if kind == "copy":
        if abs(channel["copy_r"]) < COPY_MIN_R:
            return f"below {COPY_MIN_R}"
        return "but its edge match is stronger"
    if abs(channel["best_edge_r"]) < EDGE_MIN_R:
        return f"below {EDGE_MIN_R}"
    return f"but it matches the input more closely, |r| = {r_value(channel['copy_r'])}"


def kind_sentences(layer: dict) -> list[str]:
    """Say how many of the layer's channels are copies, edge detectors, unnamed, idle or saturated."""
    channels, total = layer["channels"], layer["num_channels"]
    by_kind = {kind: [ch for ch in channels if ch["kind"] == kind] for kind in analysis.CHANNEL_KINDS}
    working = [ch for ch in channels if ch["kind"] not in ("idle", "saturated")]
    sentences = []

    copies = by_kind["copy"]
    if copies:
        inverted = sum(ch["copy_r"] < 0 for ch in copies)
        text = (f"{of_total(len(copies), total)} {verb(len(copies), 'copies', 'copy')} the input "
                f"({r_list([ch['copy_r'] for ch in copies])})")
        if inverted == len(copies):
            text += ", inverted (negative on the ink)" if inverted == 1 else ", all inverted (negative on the ink)"
        elif inverted:
            text += f", {number(inverted)} of them inverted (negative on the ink)"
        sentences.append(capitalise(text) + ".")
    elif working:
        closest = max(working, key=lambda ch: abs(ch["copy_r"]))
        sentences.append(f"No channel copies the input (the closest, {channel_label(closest)}, has "
                         f"|r| = {r_value(closest['copy_r'])}, {_why_not(closest, 'copy')}).")

    edges = by_kind["edge"]
    if edges:
        shown = [f"{channel_label(ch)} to {edge_phrase(ch)}" for ch in edges[:4]]
        if len(edges) > 4:
            shown.append(f"{plural(len(edges) - 4, 'more channel')}")
        sentences.append(capitalise(f"{of_total(len(edges), total)} {verb(len(edges), 'responds', 'respond')} "
                                    f"to edges: {series(shown)}."))
    elif working:
        strongest = max(working, key=lambda ch: abs(ch["best_edge_r"]))
        sentences.append(f"No channel is an edge detector (the strongest edge match, {channel_label(strongest)} "
                         f"with {_ORIENTATIONS[strongest['best_edge']]} edges, has "
                         f"|r| = {r_value(strongest['best_edge_r'])}, {_why_not(strongest, 'edge')}).")

    others = by_kind["other"]
    if others:
        best = [max(abs(ch["copy_r"]), abs(ch["best_edge_r"])) for ch in others]
        sentences.append(capitalise(f"{of_total(len(others), total)} {verb(len(others), 'matches', 'match')} "
                                    f"neither the input nor a single edge orientation (best match: "
                                    f"{r_list(best)})."))
    idle = by_kind["idle"]
    if idle:
        spreads = series([f"{ch['spread']:.3f}" for ch in idle])
        sentences.append(capitalise(f"{channel_list([ch['channel'] for ch in idle])} "
                                    f"{verb(len(idle), 'is', 'are')} idle: "
                                    f"{'its' if len(idle) == 1 else 'their'} final "
                                    f"{verb(len(idle), 'map barely varies', 'maps barely vary')} "
                                    f"(spread {spreads}, below {IDLE_MAX_STD})."))
    saturated = by_kind["saturated"]
    if saturated:
        shares = series([percent(ch["saturated_share"]) for ch in saturated])
        sentences.append(capitalise(f"{channel_list([ch['channel'] for ch in saturated])} "
                                    f"{verb(len(saturated), 'is', 'are')} saturated ({shares} of values "
                                    f"beyond \u00b1{SATURATION_LEVEL})."))
    return sentences


def similarity_sentences(layer: dict) -> list[str]:
    """Say which channels are near-duplicates of each other, and of the previous layer."""
    sentences = []
    groups = layer["duplicate_groups"]
    total = layer["num_channels"]
    if total > 1:
        if len(groups) == 1 and len(groups[0]) == total:
            sentences.append(capitalise(f"{of_total(total, total)} are near-duplicates of one another (linked at "
                                        f"|r| \u2265 {DUPLICATE_MIN_R}; mean |r| between channels "
                                        f"{r_value(layer['pair_mean_abs_r'])})."))
        elif len(groups) == 1 and len(groups[0]) > total / 2:
            outside = [c for c in range(total) if c not in groups[0]]
            sentences.append(f"All channels except {channel_list(outside)} are near-duplicates of one another "
                             f"(linked at |r| \u2265 {DUPLICATE_MIN_R}); the mean |r| between all channels is "
                             f"{r_value(layer['pair_mean_abs_r'])}.")
        elif len(groups) == 1:
            sentences.append(capitalise(f"{channel_list(groups[0])} are near-duplicates of one another (linked at "
                                        f"|r| \u2265 {DUPLICATE_MIN_R}); the mean |r| between all channels is "
                                        f"{r_value(layer['pair_mean_abs_r'])}."))
        elif groups:
            listed = "; ".join(channel_list(group) for group in groups)
            sentences.append(f"The channels form {number(len(groups))} groups of near-duplicates (linked at "
                             f"|r| \u2265 {DUPLICATE_MIN_R}): {listed}.")
        else:
            first, second = layer["pair_max"]
            sentences.append(f"No two channels are near-duplicates (the closest pair, channels {first + 1} and "
                             f"{second + 1}, has |r| = {r_value(layer['pair_max_abs_r'])}; the mean is "
                             f"{r_value(layer['pair_mean_abs_r'])}).")
    previous = layer["previous_layer"]
    if previous:
        repeats = layer["duplicates_of_previous"]
        if repeats:
            sentences.append(capitalise(f"{of_total(len(repeats), total)} "
                                        f"{verb(len(repeats), 'repeats', 'repeat')} a {previous} channel "
                                        f"({r_list([item['r'] for item in repeats])})."))
        else:
            best = max(layer["channels"], key=lambda ch: abs(ch["previous_layer_r"]))
            sentences.append(f"No channel repeats a {previous} channel (the closest match, {channel_label(best)}, "
                             f"has |r| = {r_value(best['previous_layer_r'])}).")
    return sentences


def settling_sentence(layer: dict, last_step: int) -> str:
    """Say when the layer's active channels took their final pattern and values."""
    active = [ch for ch in layer["channels"] if ch["kind"] != "idle"]
    if not active:
        return "Every channel is idle, so there is nothing to settle."
    pattern, settle = layer["median_pattern_step"], layer["median_settle_step"]
    subject, their = ("The active channel", "its") if len(active) == 1 else ("Half of the active channels", "their")
    if pattern >= last_step:
        subject = "The active channel" if len(active) == 1 else "At least half of the active channels"
        return (f"{subject} had not taken {their} final pattern before the last step ({last_step}): "
                f"the layer was still changing when training stopped.")
    return (f"{subject} had {their} final pattern (r \u2265 {PATTERN_MIN_R} with the last map) by step "
            f"{step(pattern)} and {their} final values (within {percent(SETTLE_TOLERANCE)} of the final spread) "
            f"by step {step(settle)}, of {last_step}.")


def event_sentences(layer: dict) -> list[str]:
    """Say when the layer's maps gained contrast, resembled the input and became distinct from each other."""
    sentences = []
    informative = layer["informative_step"]
    if informative is None:
        sentences.append("The layer's maps never held a steady contrast.")
    else:
        sentences.append(f"The layer's maps gained contrast at step {informative} (median spread from then on at least "
                         f"{percent(INFORMATIVE_SHARE)} of its final value).")
    resembles = layer["resembles_input_step"]
    if resembles is None:
        sentences.append(f"They never resembled the input (median |r| with it stayed below {RESEMBLES_MIN_R}).")
    else:
        if abs(resembles - POST_BLOB_STEP) <= NEAR_STEPS:
            when = f"close to the post's step {POST_BLOB_STEP}"
        elif resembles < POST_BLOB_STEP:
            when = f"earlier than the post's step {POST_BLOB_STEP}"
        else:
            when = f"later than the post's step {POST_BLOB_STEP}"
        sentences.append(f"They resembled the input from step {resembles} (median |r| \u2265 {RESEMBLES_MIN_R}), "
                         f"{when}.")
    final_pair = layer["timeline"]["pair_mean_abs_r"][-1] if layer["timeline"]["pair_mean_abs_r"] else 0.0
    if layer["num_channels"] > 1:
        if layer["distinct_step"] is None:
            sentences.append(f"The channels never became distinct from one another: their mean |r| with each other "
                             f"is still {r_value(final_pair)} at the end (distinct means \u2264 {DISTINCT_MAX_R}).")
        else:
            sentences.append(f"The channels became distinct from step {layer['distinct_step']} (mean |r| with each "
                             f"other \u2264 {DISTINCT_MAX_R}; {r_value(final_pair)} at the end).")
    return sentences


def comparison_sentences(layer: dict) -> list[str]:
    """Hold the post's reading of this layer against the run's numbers."""
    post = POST_OBSERVATIONS.get(layer["name"])
    if post is None:
        return []
    counts = layer["counts"]
    expected = post["expected"]
    kinds = [kind for kind in analysis.CHANNEL_KINDS if kind in expected or counts.get(kind, 0)]
    expected_text = kind_phrase(expected, [kind for kind in analysis.CHANNEL_KINDS if kind in expected])
    actual_text = kind_phrase(counts, kinds)
    prefix = "Counting its thickness maps as copies, the post's reading" if layer["name"] == "conv1" else \
        "The post's reading"
    post_width = sum(expected.values())
    if layer["num_channels"] != post_width:
        sentences = [f"The post's {layer['name']} had {post_width} channels and this run's has "
                     f"{layer['num_channels']}, so only the kinds compare: the post's reading implies "
                     f"{expected_text}; this run has {actual_text}."]
    elif all(counts.get(kind, 0) == value for kind, value in expected.items()):
        sentences = [f"{prefix} implies {expected_text}; this run agrees: {actual_text}."]
    else:
        sentences = [f"{prefix} implies {expected_text}; this run has {actual_text}."]

    name = layer["name"]
    if name == "conv2":
        largest = max((len(group) for group in layer["duplicate_groups"]), default=0)
        if largest == 3:
            sentences.append("The post's three near-identical channels: here too three channels are near-duplicates.")
        elif largest > 3:
            sentences.append(f"The post's three near-identical channels: here {number(largest)} channels are "
                             f"near-duplicates, more than the post saw.")
        elif largest == 2:
            sentences.append("The post's three near-identical channels: here only two channels are near-duplicates.")
        else:
            sentences.append("The post's three near-identical channels: here no two channels are near-duplicates.")
    elif name == "conv3":
        horizontal = [ch for ch in layer["channels"] if ch["kind"] == "edge" and ch["best_edge"] == "horizontal"]
        sides = {ch["edge_side"] for ch in horizontal}
        if sides == {"top", "bottom"}:
            sentences.append("Like the post, this run has both a top-edge and an underside channel for horizontal "
                             f"strokes ({_edge_channels(horizontal)}).")
        elif sides:
            side = "top-edge" if "top" in sides else "underside"
            missing = "underside" if "top" in sides else "top-edge"
            sentences.append(f"Of the post's two horizontal-stroke channels this run has only the {side} one "
                             f"({_edge_channels(horizontal)}), no {missing} one.")
        else:
            strongest = max(layer["channels"], key=lambda ch: abs(ch["edge_r"]["horizontal"]))
            sentences.append(f"Neither of the post's horizontal-stroke channels appears: no channel detects "
                             f"horizontal edges (the strongest, {channel_label(strongest)}, has "
                             f"|r| = {r_value(strongest['edge_r']['horizontal'])}).")
    elif name == "conv4":
        orientations = sorted({ch["best_edge"] for ch in layer["channels"] if ch["kind"] == "edge"},
                              key=analysis.EDGE_KINDS.index)
        if len(orientations) >= 2:
            sentences.append(f"As the post says, the edge detectors cover several angles: "
                             f"{series([_ORIENTATIONS[o] for o in orientations])}.")
        elif orientations:
            sentences.append(f"Unlike the post's several angles, the edge detectors here share one orientation: "
                             f"{_ORIENTATIONS[orientations[0]]}.")
        else:
            sentences.append("Unlike the post, no channel here detects edges at any angle.")
    if name in ("conv5", "conv6"):
        sentences.extend(event_sentences(layer))
    return sentences


def _edge_channels(channels: list[dict]) -> str:
    """List edge channels with their side and r."""
    return "; ".join(f"{channel_label(ch)}, {ch['edge_side']} side, r = {signed(ch['best_edge_r'])}"
                     for ch in channels)


TABLE_HEADINGS = ("Channel", "Kind", "r with input", "Best edge", "r with edge", "Spread", "Saturated",
                  "Pattern from step", "Values from step")
_KIND_LABELS = {"copy": "copy", "edge": "edge", "other": "unnamed", "idle": "idle", "saturated": "saturated"}


def channel_table(layer: dict) -> dict:
    """Return the layer's per-channel numbers as display strings: {"headings": [...], "rows": [[...], ...]}."""
    rows = []
    for ch in layer["channels"]:
        rows.append([capitalise(channel_label(ch)), _KIND_LABELS[ch["kind"]], signed(ch["copy_r"]),
                     f"{_ORIENTATIONS[ch['best_edge']]}, {ch['edge_side']}", signed(ch["best_edge_r"]),
                     f"{ch['spread']:.3f}", percent(ch["saturated_share"]), str(ch["pattern_step"]),
                     str(ch["settle_step"])])
    return {"headings": list(TABLE_HEADINGS), "rows": rows}


def layer_commentary(layer: dict, last_step: int) -> dict:
    """Return the post's hypothesis and this run's sentences for one layer.

    `run` and `comparison` are lists of sentences; `paragraphs` groups them for the page: the kinds of
    channel, their similarity and settling, and the comparison with the post's reading.
    """
    post = POST_OBSERVATIONS.get(layer["name"])
    kinds = kind_sentences(layer)
    rest = similarity_sentences(layer) + [settling_sentence(layer, last_step)]
    comparison = comparison_sentences(layer)
    return {
        "name": layer["name"],
        "resolution": f"{layer['height']}x{layer['width']}",
        "num_channels": layer["num_channels"],
        "post": post["text"] if post else None,
        "run": kinds + rest,
        "comparison": comparison,
        "paragraphs": [" ".join(group) for group in (kinds, rest, comparison) if group],
        "channels": [{"label": capitalise(channel_label(ch)), "kind": ch["kind"],
                      "text": channel_sentence(ch, last_step)} for ch in layer["channels"]],
        "table": channel_table(layer),
    }


# --- Run and conclusions ---------------------------------------------------------------------------


def training_sentences(run: dict) -> list[str]:
    """Describe the loss plateau at chance and the final test metrics."""
    plateau = run["plateau"]
    sentences = []
    if plateau["num_steps"] == 0:
        sentences.append("The run recorded no training loss.")
    elif plateau["steps"] == 0:
        sentences.append(f"The training loss left chance level (ln of the number of classes, "
                         f"{plateau['chance_loss']:.2f}) from the very first step; the post saw about "
                         f"{POST_PLATEAU_STEPS} steps at chance.")
    elif plateau["left_at_step"] is None:
        sentences.append(f"The training loss never left chance level ({plateau['chance_loss']:.2f} "
                         f"\u00b1 {PLATEAU_TOLERANCE}) in all {plateau['num_steps']} steps: this run did not learn.")
    else:
        if abs(plateau["steps"] - POST_PLATEAU_STEPS) <= NEAR_STEPS:
            compared = f"close to the post's {POST_PLATEAU_STEPS} or so"
        elif plateau["steps"] < POST_PLATEAU_STEPS:
            compared = f"fewer than the post's {POST_PLATEAU_STEPS} or so"
        else:
            compared = f"more than the post's {POST_PLATEAU_STEPS} or so"
        sentences.append(f"The training loss stayed at chance ({plateau['chance_loss']:.2f} \u00b1 "
                         f"{PLATEAU_TOLERANCE}) for the first {plural(plateau['steps'], 'step')}, {compared}, "
                         f"and began to fall at step {plateau['left_at_step']}.")
    accuracy, loss = run["final_test_accuracy"], run["final_test_loss"]
    if accuracy is None:
        sentences.append("The run has no test measurement.")
    else:
        source = "on the whole test set" if run["accuracy_source"] == "whole test set" else "at the last test point"
        loss_text = f" and loss {loss:.3f}" if loss is not None else ""
        above = "above" if accuracy >= CLAIMED_ACCURACY else "below"
        sentences.append(f"After {run['last_step']} steps the test accuracy is {percent(accuracy, 1)}{loss_text} "
                         f"{source}, {above} the post's {percent(CLAIMED_ACCURACY)}.")
    return sentences


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
    evidence = (f"{capitalise(of_total(len(early), len(layers), 'layer'))} fixed {'its' if len(layers) == 1 else 'their'} pattern "
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
        names = series([f"{item['layer']} {channel_label(item)}" for item in idle])
        evidence += f" {capitalise(plural(len(idle), 'channel'))} stayed idle to the end: {names}."
    else:
        evidence += " No channel stayed idle to the end, unlike the post's one."
    return {"claim": CLAIMS[2], "verdict": verdict, "evidence": evidence}


def threshold_rows() -> list[dict]:
    """Return the analysis thresholds as rows for the appendix ("meaning" is the same text as "explanation")."""
    return [{"name": name, "value": value, "display": f"{value:g}", "explanation": text, "meaning": text}
            for name, (value, text) in analysis.thresholds().items()]


def commentary(findings) -> dict:
    """Return the article's sentences for a run: training, layers, conclusions and thresholds (plain data)."""
    data = _as_dict(findings)
    last_step = data["last_step"]
    run = data["run"]
    return {
        "training": training_sentences(run),
        "layers": [layer_commentary(layer, last_step) for layer in data["layers"]],
        "conclusions": [dict(item, verdict_class=item["verdict"].replace(" ", "-"))
                        for item in (conclusion_1(run), conclusion_2(run), conclusion_3(run))],
        "thresholds": threshold_rows(),
    }
