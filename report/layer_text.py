"""Write one layer's part of the article: its kinds of channel, their similarity and settling, its table.

Use: `layer_commentary(layer, last_step)` returns the plain dict the template shows for one conv layer (the
post's reading, this run's sentences, grouped paragraphs, one sentence and one table row per channel).
Every function takes a `LayerFindings` / `ChannelFindings` or its to_dict() form. Strings are plain text.
"""

from __future__ import annotations

from report.findings import CHANNEL_KINDS, ChannelFindings, LayerFindings
from report.post_observations import POST_OBSERVATIONS, comparison_sentences
from report.thresholds import (
    CLOSE_COPY_MIN_R,
    COPY_MIN_R,
    DUPLICATE_MIN_R,
    EDGE_MIN_R,
    IDLE_MAX_STD,
    PATTERN_MIN_R,
    SATURATION_LEVEL,
    SETTLE_TOLERANCE,
)
from report.wording import (
    ORIENTATIONS,
    capitalise,
    channel_label,
    channel_list,
    number,
    of_total,
    percent,
    plural,
    r_list,
    r_value,
    series,
    signed,
    step,
    verb,
)

# --- Channels --------------------------------------------------------------------------------------


def edge_phrase(channel: ChannelFindings) -> str:
    """Describe a channel's best edge map: orientation, the side of strokes it is positive on, and r."""
    return (f"{ORIENTATIONS[channel.best_edge]} edges, positive along the {channel.edge_side} side of "
            f"strokes (r = {signed(channel.best_edge_r)})")


def channel_sentence(channel: ChannelFindings | dict, last_step: int) -> str:
    """Describe one channel in a sentence: its kind with the number that decided it, and when it settled."""
    channel = ChannelFindings.coerce(channel)
    kind = channel.kind
    if kind == "idle":
        what = f"idle: its map barely varies (spread {channel.spread:.3f}, below {IDLE_MAX_STD})"
    elif kind == "saturated":
        what = (f"saturated: {percent(channel.saturated_share)} of its values are beyond "
                f"\u00b1{SATURATION_LEVEL}")
    elif kind == "copy":
        inverted = channel.copy_r < 0
        closeness = "a close" if abs(channel.copy_r) >= CLOSE_COPY_MIN_R else "a rough"
        what = (f"{closeness} {'inverted ' if inverted else ''}copy of the input "
                f"(r = {signed(channel.copy_r)})")
    elif kind == "edge":
        what = f"an edge detector for {edge_phrase(channel)}"
    else:
        what = (f"neither a copy (r = {signed(channel.copy_r)}) nor a single-orientation edge detector "
                f"(best: {ORIENTATIONS[channel.best_edge]}, r = {signed(channel.best_edge_r)})")
    if kind == "idle":
        timing = ""
    elif channel.pattern_step >= last_step:
        timing = "; its pattern was still changing at the last step"
    else:
        timing = (f"; its pattern was in place from step {channel.pattern_step}"
                  f" and its values from step {channel.settle_step}")
    return f"{capitalise(channel_label(channel.channel))} is {what}{timing}."


TABLE_HEADINGS = ("Channel", "Kind", "r with input", "Best edge", "r with edge", "Spread", "Saturated",
                  "Pattern from step", "Values from step")
_KIND_LABELS = {"copy": "copy", "edge": "edge", "other": "unnamed", "idle": "idle", "saturated": "saturated"}


def channel_table(layer: LayerFindings | dict) -> dict:
    """Return the layer's per-channel numbers as display strings: {"headings": [...], "rows": [[...], ...]}."""
    layer = LayerFindings.coerce(layer)
    rows = []
    for ch in layer.channels:
        rows.append([capitalise(channel_label(ch.channel)), _KIND_LABELS[ch.kind], signed(ch.copy_r),
                     f"{ORIENTATIONS[ch.best_edge]}, {ch.edge_side}", signed(ch.best_edge_r),
                     f"{ch.spread:.3f}", percent(ch.saturated_share), str(ch.pattern_step),
                     str(ch.settle_step)])
    return {"headings": list(TABLE_HEADINGS), "rows": rows}


# --- Layers ----------------------------------------------------------------------------------------


def _why_not(channel: ChannelFindings, kind: str) -> str:
    """Say why a channel whose best match is given is not of `kind` ("copy" or "edge")."""
    if kind == "copy":
        if abs(channel.copy_r) < COPY_MIN_R:
            return f"below {COPY_MIN_R}"
        return "but its edge match is stronger"
    if abs(channel.best_edge_r) < EDGE_MIN_R:
        return f"below {EDGE_MIN_R}"
    return f"but it matches the input more closely, |r| = {r_value(channel.copy_r)}"


def kind_sentences(layer: LayerFindings | dict) -> list[str]:
    """Say how many of the layer's channels are copies, edge detectors, unnamed, idle or saturated."""
    layer = LayerFindings.coerce(layer)
    channels, total = layer.channels, layer.num_channels
    by_kind = {kind: [ch for ch in channels if ch.kind == kind] for kind in CHANNEL_KINDS}
    working = [ch for ch in channels if ch.kind not in ("idle", "saturated")]
    sentences = []

    copies = by_kind["copy"]
    if copies:
        inverted = sum(ch.copy_r < 0 for ch in copies)
        text = (f"{of_total(len(copies), total)} {verb(len(copies), 'copies', 'copy')} the input "
                f"({r_list([ch.copy_r for ch in copies])})")
        if inverted == len(copies):
            text += ", inverted (negative on the ink)" if inverted == 1 else ", all inverted (negative on the ink)"
        elif inverted:
            text += f", {number(inverted)} of them inverted (negative on the ink)"
        sentences.append(capitalise(text) + ".")
    elif working:
        closest = max(working, key=lambda ch: abs(ch.copy_r))
        sentences.append(f"No channel copies the input (the closest, {channel_label(closest.channel)}, has "
                         f"|r| = {r_value(closest.copy_r)}, {_why_not(closest, 'copy')}).")

    edges = by_kind["edge"]
    if edges:
        shown = [f"{channel_label(ch.channel)} to {edge_phrase(ch)}" for ch in edges[:4]]
        if len(edges) > 4:
            shown.append(f"{plural(len(edges) - 4, 'more channel')}")
        sentences.append(capitalise(f"{of_total(len(edges), total)} {verb(len(edges), 'responds', 'respond')} "
                                    f"to edges: {series(shown)}."))
    elif working:
        strongest = max(working, key=lambda ch: abs(ch.best_edge_r))
        sentences.append(f"No channel is an edge detector (the strongest edge match, "
                         f"{channel_label(strongest.channel)} with {ORIENTATIONS[strongest.best_edge]} edges, has "
                         f"|r| = {r_value(strongest.best_edge_r)}, {_why_not(strongest, 'edge')}).")

    others = by_kind["other"]
    if others:
        best = [max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in others]
        sentences.append(capitalise(f"{of_total(len(others), total)} {verb(len(others), 'matches', 'match')} "
                                    f"neither the input nor a single edge orientation (best match: "
                                    f"{r_list(best)})."))
    idle = by_kind["idle"]
    if idle:
        spreads = series([f"{ch.spread:.3f}" for ch in idle])
        sentences.append(capitalise(f"{channel_list([ch.channel for ch in idle])} "
                                    f"{verb(len(idle), 'is', 'are')} idle: "
                                    f"{'its' if len(idle) == 1 else 'their'} final "
                                    f"{verb(len(idle), 'map barely varies', 'maps barely vary')} "
                                    f"(spread {spreads}, below {IDLE_MAX_STD})."))
    saturated = by_kind["saturated"]
    if saturated:
        shares = series([percent(ch.saturated_share) for ch in saturated])
        sentences.append(capitalise(f"{channel_list([ch.channel for ch in saturated])} "
                                    f"{verb(len(saturated), 'is', 'are')} saturated ({shares} of values "
                                    f"beyond \u00b1{SATURATION_LEVEL})."))
    return sentences


def similarity_sentences(layer: LayerFindings | dict) -> list[str]:
    """Say which channels are near-duplicates of each other, and of the previous layer."""
    layer = LayerFindings.coerce(layer)
    sentences = []
    groups = layer.duplicate_groups
    total = layer.num_channels
    if total > 1:
        if len(groups) == 1 and len(groups[0]) == total:
            sentences.append(capitalise(f"{of_total(total, total)} are near-duplicates of one another (linked at "
                                        f"|r| \u2265 {DUPLICATE_MIN_R}; mean |r| between channels "
                                        f"{r_value(layer.pair_mean_abs_r)})."))
        elif len(groups) == 1 and len(groups[0]) > total / 2:
            outside = [c for c in range(total) if c not in groups[0]]
            sentences.append(f"All channels except {channel_list(outside)} are near-duplicates of one another "
                             f"(linked at |r| \u2265 {DUPLICATE_MIN_R}); the mean |r| between all channels is "
                             f"{r_value(layer.pair_mean_abs_r)}.")
        elif len(groups) == 1:
            sentences.append(capitalise(f"{channel_list(groups[0])} are near-duplicates of one another (linked at "
                                        f"|r| \u2265 {DUPLICATE_MIN_R}); the mean |r| between all channels is "
                                        f"{r_value(layer.pair_mean_abs_r)}."))
        elif groups:
            listed = "; ".join(channel_list(group) for group in groups)
            sentences.append(f"The channels form {number(len(groups))} groups of near-duplicates (linked at "
                             f"|r| \u2265 {DUPLICATE_MIN_R}): {listed}.")
        else:
            first, second = layer.pair_max
            sentences.append(f"No two channels are near-duplicates (the closest pair, channels {first + 1} and "
                             f"{second + 1}, has |r| = {r_value(layer.pair_max_abs_r)}; the mean is "
                             f"{r_value(layer.pair_mean_abs_r)}).")
    previous = layer.previous_layer
    if previous:
        repeats = layer.duplicates_of_previous
        if repeats:
            sentences.append(capitalise(f"{of_total(len(repeats), total)} "
                                        f"{verb(len(repeats), 'repeats', 'repeat')} a {previous} channel "
                                        f"({r_list([item['r'] for item in repeats])})."))
        else:
            best = max(layer.channels, key=lambda ch: abs(ch.previous_layer_r))
            sentences.append(f"No channel repeats a {previous} channel (the closest match, "
                             f"{channel_label(best.channel)}, has |r| = {r_value(best.previous_layer_r)}).")
    return sentences


def settling_sentence(layer: LayerFindings | dict, last_step: int) -> str:
    """Say when the layer's active channels took their final pattern and values."""
    layer = LayerFindings.coerce(layer)
    active = [ch for ch in layer.channels if ch.kind != "idle"]
    if not active:
        return "Every channel is idle, so there is nothing to settle."
    pattern, settle = layer.median_pattern_step, layer.median_settle_step
    subject, their = ("The active channel", "its") if len(active) == 1 else ("Half of the active channels", "their")
    if pattern >= last_step:
        subject = "The active channel" if len(active) == 1 else "At least half of the active channels"
        return (f"{subject} had not taken {their} final pattern before the last step ({last_step}): "
                f"the layer was still changing when training stopped.")
    return (f"{subject} had {their} final pattern (r \u2265 {PATTERN_MIN_R} with the last map) by step "
            f"{step(pattern)} and {their} final values (within {percent(SETTLE_TOLERANCE)} of the final spread) "
            f"by step {step(settle)}, of {last_step}.")


def layer_commentary(layer: LayerFindings | dict, last_step: int) -> dict:
    """Return the post's hypothesis and this run's sentences for one layer.

    `run` and `comparison` are lists of sentences; `paragraphs` groups them for the page: the kinds of
    channel, their similarity and settling, and the comparison with the post's reading.
    """
    layer = LayerFindings.coerce(layer)
    post = POST_OBSERVATIONS.get(layer.name)
    kinds = kind_sentences(layer)
    rest = similarity_sentences(layer) + [settling_sentence(layer, last_step)]
    comparison = comparison_sentences(layer)
    return {
        "name": layer.name,
        "resolution": f"{layer.height}x{layer.width}",
        "num_channels": layer.num_channels,
        "post": post["text"] if post else None,
        "run": kinds + rest,
        "comparison": comparison,
        "paragraphs": [" ".join(group) for group in (kinds, rest, comparison) if group],
        "channels": [{"label": capitalise(channel_label(ch.channel)), "kind": ch.kind,
                      "text": channel_sentence(ch, last_step)} for ch in layer.channels],
        "table": channel_table(layer),
    }

