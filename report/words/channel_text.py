"""Write the per-channel parts of a layer's commentary: one sentence and one table row per channel, and its filters.

Use: `channel_sentence(channel, last_step)`, `channel_table(layer)`, `filter_rows(layer)` and
`filter_sentence(layer)`; report/words/layer_text.py puts them together for a layer. Every function takes a
`LayerFindings` / `ChannelFindings`. Strings are plain text. The sentences that name what the probes show
take `words` (report.words.wording.ImageWords: strokes of ink on MNIST, the default).
"""

from __future__ import annotations

from report.numbers.filters import FilterFit
from report.numbers.findings import ChannelFindings, LayerFindings
from report.numbers.thresholds import (
    BORDERLINE_R,
    BORDERLINE_SHAPE,
    CLOSE_COPY_MIN_R,
    COPY_MIN_R,
    DEAD_ZERO_SHARE,
    EDGE_MIN_R,
    FILTER_MIN_R,
    IDLE_MAX_STD,
    SATURATION_LEVEL,
    SHAPE_MIN_SCORE,
)
from report.words.wording import (
    DIGIT_WORDS,
    ORIENTATIONS,
    ImageWords,
    capitalise,
    channel_label,
    number,
    of_total,
    percent,
    r_value,
    score,
    share_percent,
    signed,
)

# --- Channels --------------------------------------------------------------------------------------



def edge_phrase(channel: ChannelFindings, words: ImageWords = DIGIT_WORDS) -> str:
    """Describe a channel's edge orientation and side, with the number that decided it (filter score or r)."""
    number_text = f"r = {signed(channel.best_edge_r)}"
    if channel.kind_basis == "filter" and channel.filter:
        number_text = f"edge score {signed(channel.filter.edge)}; {number_text} with that edge map"
    return (f"{ORIENTATIONS[channel.best_edge]} edges, positive along the {channel.edge_side} side of "
            f"{words.regions} ({number_text})")


def filter_phrase(fit: FilterFit) -> str:
    """Describe a fitted filter: its window, its out-of-sample r and its shape scores."""
    sample = "in sample" if fit.in_sample else "out of sample"
    return (f"its best linear filter of the input ({fit.size}\u00d7{fit.size} input pixels) predicts it at "
            f"r = {r_value(fit.fit_r)} ({sample}); blob score {signed(fit.blob)}, edge score "
            f"{signed(fit.edge)}, edge share {score(fit.edge_share)}")


def _borderline_clause(channel: ChannelFindings) -> str:
    """Say that a channel's kind is borderline, and what it would otherwise be."""
    if not channel.kind_borderline:
        return ""
    margin = f"edge share within {BORDERLINE_SHAPE} of 0.5" if channel.kind_basis == "filter" else \
        f"an r within {BORDERLINE_R} of its threshold"
    return f"; borderline ({margin}), it could as well be read as {_KIND_WORDS[channel.kind_alternative]}"


def dead_phrase(channel: ChannelFindings) -> str:
    """Say that a channel is dead, from which step, and the share of exact zeros that makes it so."""
    return (f"dead from step {channel.dead_step}: exactly 0 on at least {percent(DEAD_ZERO_SHARE)} of its probe values "
            f"at every step from then to the end ({share_percent(channel.zero_share)} of its final values), so it "
            f"passes almost nothing on")


def kind_label(channel: ChannelFindings) -> str:
    """Return the short label of a channel's kind for the tables ("dead" for a dead channel, whatever its kind)."""
    return "dead" if channel.dead else KIND_LABELS[channel.kind]


_KIND_WORDS = {"copy": "a copy", "edge": "an edge detector", "other": "unnamed", "idle": "idle",
               "saturated": "saturated"}


def channel_sentence(channel: ChannelFindings, last_step: int, idle_limit: float | None = None, *,
                     words: ImageWords = DIGIT_WORDS) -> str:
    """Describe one channel in a sentence: its kind with the numbers that decided it, and when it settled.

    idle_limit: the layer's idle spread when it is not IDLE_MAX_STD (a layer without tanh's fixed range);
    words: what the probes show (report.words.wording.DIGIT_WORDS on MNIST).
    """
    kind, fit = channel.kind, channel.filter
    by_filter = channel.kind_basis == "filter" and fit
    limit = IDLE_MAX_STD if idle_limit is None else f"{idle_limit:.3g}"
    if channel.dead:
        return f"{capitalise(channel_label(channel.channel))} is {dead_phrase(channel)}."
    if kind == "idle":
        what = f"idle: its map barely varies (spread {channel.spread:.3f}, below {limit})"
        if channel.zero_share == 1.0 and channel.saturated_share is None:
            what += "; it is exactly 0 everywhere"
    elif channel.kind_basis == "units":
        what = (f"a working unit: its value varies across the probes (spread {channel.spread:.3f}, at least "
                f"{limit})")
    elif kind == "saturated":
        what = (f"saturated: {percent(channel.saturated_share)} of its values are beyond "
                f"\u00b1{SATURATION_LEVEL}")
    elif by_filter and kind == "copy":
        inverted = "inverted " if fit.blob < 0 else ""
        what = f"a {inverted}copy of the input, read from its filter's shape: {filter_phrase(fit)}"
    elif by_filter and kind == "edge":
        what = f"an edge detector for {edge_phrase(channel, words)}, read from its filter's shape: {filter_phrase(fit)}"
    elif by_filter:
        what = (f"neither a blob nor an oriented difference (both shape scores below {SHAPE_MIN_SCORE}): "
                f"{filter_phrase(fit)}")
    elif kind == "copy":
        inverted = channel.copy_r < 0
        closeness = "a close" if abs(channel.copy_r) >= CLOSE_COPY_MIN_R else "a rough"
        what = (f"{closeness} {'inverted ' if inverted else ''}copy of the input "
                f"(r = {signed(channel.copy_r)})")
    elif kind == "edge":
        what = f"an edge detector for {edge_phrase(channel, words)}"
    else:
        what = (f"neither a copy (r = {signed(channel.copy_r)}) nor a single-orientation edge detector "
                f"(best: {ORIENTATIONS[channel.best_edge]}, r = {signed(channel.best_edge_r)})")
    if fit and not by_filter and kind not in ("idle", "saturated") and channel.kind_basis != "units":
        what += f"; {filter_phrase(fit)}, below {FILTER_MIN_R}, so its kind is read from correlations"
    what += _borderline_clause(channel)
    if kind == "idle":
        timing = ""
    elif channel.pattern_step >= last_step:
        timing = "; its pattern was still changing at the last step"
    else:
        timing = (f"; its pattern was in place from step {channel.pattern_step}"
                  f" and its values from step {channel.settle_step}")
    return f"{capitalise(channel_label(channel.channel))} is {what}{timing}."


TABLE_HEADINGS = ("Channel", "Kind", "r with input", "Best edge", "r with edge", "Filter fit r", "Edge share",
                  "Spread", "Saturated", "Pattern from step", "Values from step")
# The column a layer's regime (report.numbers.regimes) puts where a tanh layer shows its saturated share.
VALUE_COLUMNS = {"bounded": "Saturated", "non-negative": "Exactly 0", "signed": "Negative"}
KIND_LABELS = {"copy": "copy", "edge": "edge", "other": "unnamed", "idle": "idle", "saturated": "saturated"}


def _share_cell(share: float) -> str:
    """Format a share to whole percent, but never as 0% or 100% unless it is exactly that (99.5% stays 99.5%)."""
    text = percent(share)
    if not ((text == "100%" and share < 1) or (text == "0%" and share > 0)):
        return text
    finer = share_percent(share)
    if finer == "100%":
        return ">99.9%"
    return "<0.1%" if finer == "0%" else finer


def channel_table(layer: LayerFindings) -> dict:
    """Return the layer's per-channel numbers as display strings: {"headings": [...], "rows": [[...], ...]}."""
    headings = list(TABLE_HEADINGS)
    headings[TABLE_HEADINGS.index("Saturated")] = VALUE_COLUMNS[layer.regime]
    rows = []
    for ch in layer.channels:
        fit = ch.filter
        value_share = {"bounded": ch.saturated_share, "non-negative": ch.zero_share,
                       "signed": ch.negative_share}[layer.regime]
        share = "\u2014" if fit is None else score(fit.edge_share) + (" (borderline)" if ch.kind_borderline
                                                                        and ch.kind_basis == "filter" else "")
        kind = KIND_LABELS[ch.kind]
        if ch.dead:
            kind = f"dead (from step {ch.dead_step})"
        elif not getattr(ch, "kind_sure", True) and ch.duplicate_conflicts:
            kind += f" (uncertain: near-duplicate of {', '.join(str(c + 1) for c in ch.duplicate_conflicts)})"
        elif not getattr(ch, "kind_sure", True) and ch.kind_runner_up:
            kind += (f" or {KIND_LABELS[ch.kind_runner_up]}, {round(100 * ch.kind_stability)}/"
                     f"{round(100 * ch.kind_runner_up_share)}")
        rows.append([capitalise(channel_label(ch.channel)), kind, signed(ch.copy_r),
                     f"{ORIENTATIONS[ch.best_edge]}, {ch.edge_side}", signed(ch.best_edge_r),
                     "\u2014" if fit is None else r_value(fit.fit_r), share,
                     f"{ch.spread:.3f}", _share_cell(value_share or 0.0), str(ch.pattern_step),
                     str(ch.settle_step)])
    return {"headings": headings, "rows": rows}


def filter_rows(layer: LayerFindings) -> list[dict]:
    """Return one row per channel for the filter table (empty when the layer was not fitted)."""
    rows = []
    for ch in layer.channels:
        fit = ch.filter
        if fit is None:
            continue
        if ch.dead:
            reading = f"dead from step {ch.dead_step} (not read from the filter)"
        elif ch.kind_basis == "filter" and ch.kind == "edge":
            reading = f"edge: {ORIENTATIONS[ch.best_edge]}, positive on the {ch.edge_side} side"
        elif ch.kind_basis == "filter" and ch.kind == "copy":
            reading = "inverted copy" if fit.blob < 0 else "copy"
        elif ch.kind_basis == "filter":
            reading = "neither blob nor edge"
        else:
            reading = f"{kind_label(ch)} (not from the filter)"
        if ch.kind_borderline and not ch.dead:
            reading += f"; borderline, or {KIND_LABELS[ch.kind_alternative]}"
        rows.append({"channel": ch.channel, "label": capitalise(channel_label(ch.channel)),
                     "fit_r": r_value(fit.fit_r), "blob": signed(fit.blob), "edge": signed(fit.edge),
                     "edge_share": score(fit.edge_share), "edge_share_value": fit.edge_share,
                     "reading": reading, "kind": ch.kind, "borderline": ch.kind_borderline})
    return rows


def filter_rule() -> str:
    """Say how a fitted filter's scores decide the kind (the thresholds of report.numbers.thresholds)."""
    return (f"The kind follows the filter when its fit r is at least {FILTER_MIN_R}: above 0.5 an edge detector, "
            f"below it a copy, and neither when both scores are below {SHAPE_MIN_SCORE}; an edge share within "
            f"{BORDERLINE_SHAPE} of 0.5 is borderline. Below that fit the kind is read from correlations with the "
            f"input and its edge maps.")


# --- Layers ----------------------------------------------------------------------------------------


def why_not(channel: ChannelFindings, kind: str) -> str:
    """Say why a channel whose best match is given is not of `kind` ("copy" or "edge")."""
    if kind == "copy":
        if abs(channel.copy_r) < COPY_MIN_R:
            return f"below {COPY_MIN_R}"
        return "but its edge match is stronger"
    if abs(channel.best_edge_r) < EDGE_MIN_R:
        return f"below {EDGE_MIN_R}"
    return f"but it matches the input more closely, |r| = {r_value(channel.copy_r)}"


def shape_range(channels: list[ChannelFindings]) -> str:
    """Return "edge share 0.07" or "edge shares from 0.07 to 0.42" for fitted channels."""
    shares = sorted(ch.filter.edge_share for ch in channels)
    if score(shares[0]) == score(shares[-1]):
        return f"edge share {score(shares[0])}" + (" each" if len(shares) > 1 else "")
    return f"edge shares from {score(shares[0])} to {score(shares[-1])}"


def filter_sentence(layer: LayerFindings) -> str | None:
    """Say how well linear filters of the input reproduce the layer's channels, and where they sit on the scale."""
    fitted = [ch for ch in layer.channels if ch.filter is not None and ch.kind not in ("idle", "saturated")]
    if not fitted:
        return None
    fits = sorted(ch.filter.fit_r for ch in fitted)
    size = fitted[0].filter.size
    from_model = layer.filter_window is not None and layer.filter_window.source == "model"
    where = (f"the layer's {size}\u00d7{size}-pixel receptive field" if from_model else
             f"a {size}\u00d7{size}-pixel window (a 3\u00d73 filter at the layer's resolution)")
    sample = "in sample" if fitted[0].filter.in_sample else "predicting each probe from the others"
    fit_text = f"r = {r_value(fits[0])}" if r_value(fits[0]) == r_value(fits[-1]) else \
        f"r from {r_value(fits[0])} to {r_value(fits[-1])}"
    shaped = sum(ch.kind_basis == "filter" for ch in fitted)
    subject = of_total(len(fitted), layer.num_channels, "active channel" if len(fitted) < layer.num_channels
                       else "channel")
    verb_text = "reproduces" if fits[0] >= FILTER_MIN_R else "predicts"
    text = f"A single linear filter of the input over {where} {verb_text} {subject} ({fit_text}, {sample})"
    if shaped == len(fitted):
        text += (", so each channel's kind is read from its filter's shape, on a scale from a blob (a blurred copy, "
                 "edge share 0) to an oriented difference (an edge filter, edge share 1)")
    elif shaped:
        text += (f"; for {number(shaped)} of them the fit reaches {FILTER_MIN_R}, and their kind is read from the "
                 f"filter's shape, on a scale from a blob (edge share 0) to an oriented difference (edge share 1)")
    return text + "."
