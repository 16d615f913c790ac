"""Write the per-channel parts of a layer's commentary: one sentence and one table row per channel, and its filters.

Use: `channel_sentence(channel, last_step)`, `channel_table(layer)`, `filter_rows(layer)` and
`filter_sentence(layer)`; report/words/layer_text.py puts them together for a layer. Every function takes a
`LayerFindings` / `ChannelFindings`. Strings are plain text. The sentences that name what the probes show
take `words` (report.words.wording.ImageWords: strokes of ink on MNIST, the default). This module only chooses
which words to say and with which numbers: the words are macros of templates/words/channel.txt.j2, rendered by
report.voice.say in the edition being written; the table's short labels are translated with report.voice.gettext.
"""

from __future__ import annotations

from report.numbers.findings import ChannelFindings, LayerFindings
from report.numbers.thresholds import (
    BORDERLINE_R,
    BORDERLINE_SHAPE,
    CLOSE_COPY_MIN_R,
    COPY_BASELINE_QUANTILE,
    COPY_MIN_R,
    DEAD_ZERO_SHARE,
    EDGE_MIN_R,
    FILTER_MIN_R,
    IDLE_MAX_STD,
    SATURATION_LEVEL,
    SHAPE_MIN_SCORE,
)
from report.voice import N_, gettext, percent, r_value, say, score, share_percent, signed
from report.words.wording import DIGIT_WORDS, ImageWords

# Source-language labels, marked for extraction; translate them where they are shown.
TABLE_HEADINGS = (N_("Channel"), N_("Kind"), N_("r with input"), N_("Best edge"), N_("r with edge"),
                  N_("Filter fit r"), N_("Edge share"), N_("Spread"), N_("Saturated"), N_("Pattern from step"),
                  N_("Values from step"))
# The column a layer's regime (report.numbers.regimes) puts where a tanh layer shows its saturated share.
VALUE_COLUMNS = {"bounded": N_("Saturated"), "non-negative": N_("Exactly 0"), "signed": N_("Negative")}
KIND_LABELS = {"copy": N_("copy"), "silhouette": N_("silhouette"), "edge": N_("edge"), "other": N_("unnamed"),
               "idle": N_("idle"), "saturated": N_("saturated")}
# The thresholds a channel's sentence quotes.
_LIMITS = {"saturation": SATURATION_LEVEL, "shape_min": SHAPE_MIN_SCORE, "filter_min": FILTER_MIN_R,
           "borderline_shape": BORDERLINE_SHAPE, "borderline_r": BORDERLINE_R}

# --- Channels --------------------------------------------------------------------------------------


def _by_filter(channel: ChannelFindings) -> bool:
    """Whether the channel's kind was read from its fitted filter's shape."""
    return channel.kind_basis == "filter" and channel.filter is not None


def _blob(channel: ChannelFindings) -> bool:
    """Whether the channel's kind was read from a filter whose shape is a blob (not an edge, not neither)."""
    fit = channel.filter
    return _by_filter(channel) and max(abs(fit.blob), abs(fit.edge)) >= SHAPE_MIN_SCORE and fit.edge_share <= 0.5


def copy_bar(layer: LayerFindings) -> float:
    """Return the |r| a copy needs in this layer: its baseline's bar, or COPY_MIN_R (findings without a baseline)."""
    return layer.copy_baseline.copy_bar if layer.copy_baseline is not None else COPY_MIN_R


def bar_digits(layer: LayerFindings) -> int:
    """Return the decimals a layer's copy bar and the r held against it are said with: 3 where some channel's |r|
    with the input is below the bar but the same to 2 decimals (else a channel "at 0.95" would fall "below 0.95")."""
    bar = copy_bar(layer)
    return 3 if any(abs(ch.copy_r) < bar and r_value(ch.copy_r) == r_value(bar) for ch in layer.channels) else 2


def below_bar(channel: ChannelFindings, bar: float) -> bool:
    """Whether an unnamed channel matches the input at COPY_MIN_R or more, but not at the layer's copy bar."""
    return channel.kind == "other" and channel.kind_basis in ("filter", "correlation") and \
        COPY_MIN_R <= abs(channel.copy_r) < bar


def edge_phrase(channel: ChannelFindings, words: ImageWords = DIGIT_WORDS) -> str:
    """Describe a channel's edge orientation and side, with the number that decided it (filter score or r)."""
    return say("channel", "edge_phrase", ch=channel, regions=words.regions, by_filter=_by_filter(channel))


def kind_label(channel: ChannelFindings) -> str:
    """Return the short label of a channel's kind for the tables ("dead" for a dead channel, whatever its kind)."""
    return gettext("dead") if channel.dead else gettext(KIND_LABELS[channel.kind])


def _reading(channel: ChannelFindings) -> str:
    """Return which of channel.txt.j2's readings describes the channel's kind and what decided it."""
    kind = channel.kind
    if kind == "idle":
        return "idle"
    if channel.kind_basis == "units":
        return "unit"
    if kind == "saturated":
        return "saturated"
    if _by_filter(channel):
        if kind in ("copy", "silhouette", "edge"):
            return f"filter_{kind}"
        return "filter_blob" if _blob(channel) else "filter_other"
    return kind if kind in ("copy", "silhouette", "edge") else "other"


def _borderline_reason(channel: ChannelFindings) -> str | None:
    """Return what a borderline label is close to: a filter's edge share, or an r's threshold (None: not borderline).

    A blob's kind between copy, silhouette and unnamed is decided by its r, not by its shape.
    """
    if not channel.kind_borderline:
        return None
    if channel.kind_basis != "filter":
        return "correlation"
    by_r = _blob(channel) and {channel.kind, channel.kind_alternative} <= {"copy", "silhouette", "other"}
    return "correlation" if by_r else "filter"


def channel_sentence(channel: ChannelFindings, last_step: int, idle_limit: float | None = None, *,
                     words: ImageWords = DIGIT_WORDS, bar: float = COPY_MIN_R, digits: int = 2) -> str:
    """Describe one channel in a sentence: its kind with the numbers that decided it, and when it settled.

    idle_limit: the layer's idle spread when it is not IDLE_MAX_STD (a layer without tanh's fixed range);
    words: what the probes show (report.words.wording.DIGIT_WORDS on MNIST); bar: the layer's copy bar (copy_bar),
    said with `digits` decimals, as the r held against it (bar_digits).
    """
    if channel.dead:
        return say("channel", "dead", ch=channel, share=DEAD_ZERO_SHARE)
    kind, fit = channel.kind, channel.filter
    reading = _reading(channel)
    # negative: an inverted copy (or silhouette)
    sign = fit.blob if reading == "filter_copy" else channel.silhouette_r if "silhouette" in reading else channel.copy_r
    if kind == "idle":
        timing = None
    else:
        timing = "changing" if channel.pattern_step >= last_step else "settled"
    return say("channel", "channel_sentence", ch=channel, reading=reading,
               limit=IDLE_MAX_STD if idle_limit is None else f"{idle_limit:.3g}",
               regions=words.regions, limits=_LIMITS,
               close=abs(channel.copy_r) >= CLOSE_COPY_MIN_R, inverted=sign < 0,
               zero=kind == "idle" and channel.zero_share == 1.0 and channel.saturated_share is None,
               weak_fit=bool(fit) and not _by_filter(channel) and reading not in ("idle", "saturated", "unit"),
               borderline=_borderline_reason(channel), timing=timing,
               bar=bar if reading == "filter_blob" or below_bar(channel, bar) else None, digits=digits)


def _share_cell(share: float) -> str:
    """Format a share to whole percent, but never as 0% or 100% unless it is exactly that (99.5% stays 99.5%)."""
    text = percent(share)
    if not ((text == "100%" and share < 1) or (text == "0%" and share > 0)):
        return text
    finer = share_percent(share)
    if finer == "100%":
        return ">99.9%"
    return "<0.1%" if finer == "0%" else finer


def _kind_cell(channel: ChannelFindings) -> str:
    """Return the table's kind cell: the label, when it died, or how sure the label is."""
    kind = gettext(KIND_LABELS[channel.kind])
    unsure = not getattr(channel, "kind_sure", True)
    if channel.dead:
        return say("channel", "dead_kind", step=channel.dead_step)
    if unsure and channel.duplicate_conflicts:
        return say("channel", "uncertain_kind", kind=kind, duplicates=channel.duplicate_conflicts)
    if unsure and channel.kind_runner_up:
        return say("channel", "runner_up_kind", kind=kind, other=gettext(KIND_LABELS[channel.kind_runner_up]),
                   stability=round(100 * channel.kind_stability), other_share=round(100 * channel.kind_runner_up_share))
    return kind


def channel_table(layer: LayerFindings) -> dict:
    """Return the layer's per-channel numbers as display strings: {"headings": [...], "rows": [[...], ...]}."""
    headings = list(TABLE_HEADINGS)
    headings[TABLE_HEADINGS.index("Saturated")] = VALUE_COLUMNS[layer.regime]
    rows = []
    for ch in layer.channels:
        fit = ch.filter
        value_share = {"bounded": ch.saturated_share, "non-negative": ch.zero_share,
                       "signed": ch.negative_share}[layer.regime]
        if fit is None:
            share = "\u2014"
        elif ch.kind_borderline and ch.kind_basis == "filter":
            share = say("channel", "borderline_share", share=fit.edge_share)
        else:
            share = score(fit.edge_share)
        rows.append([say("channel", "channel_name", index=ch.channel), _kind_cell(ch), signed(ch.copy_r),
                     say("channel", "edge_cell", ch=ch), signed(ch.best_edge_r),
                     "\u2014" if fit is None else r_value(fit.fit_r), share,
                     f"{ch.spread:.3f}", _share_cell(value_share or 0.0), str(ch.pattern_step),
                     str(ch.settle_step)])
    return {"headings": [gettext(heading) for heading in headings], "rows": rows}


def filter_rows(layer: LayerFindings) -> list[dict]:
    """Return one row per channel for the filter table (empty when the layer was not fitted)."""
    rows = []
    for ch in layer.channels:
        fit = ch.filter
        if fit is None:
            continue
        if ch.dead:
            reading = "dead"
        elif ch.kind_basis == "filter" and ch.kind in ("edge", "copy", "silhouette"):
            reading = "inverted_copy" if ch.kind == "copy" and fit.blob < 0 else ch.kind
        elif ch.kind_basis == "filter":
            reading = "blob" if _blob(ch) else "neither"
        else:
            reading = "correlation"
        alternative = gettext(KIND_LABELS[ch.kind_alternative]) if ch.kind_borderline and not ch.dead else None
        rows.append({"channel": ch.channel, "label": say("channel", "channel_name", index=ch.channel),
                     "fit_r": r_value(fit.fit_r), "blob": signed(fit.blob), "edge": signed(fit.edge),
                     "edge_share": score(fit.edge_share), "edge_share_value": fit.edge_share,
                     "reading": say("channel", "filter_reading", ch=ch, reading=reading, kind=kind_label(ch),
                                    alternative=alternative),
                     "kind": ch.kind, "borderline": ch.kind_borderline})
    return rows


def filter_rule() -> str:
    """Say how a fitted filter's scores decide the kind (the thresholds of report.numbers.thresholds)."""
    return say("channel", "filter_rule", filter_min=FILTER_MIN_R, shape_min=SHAPE_MIN_SCORE, margin=BORDERLINE_SHAPE)


def baseline_sentence(layer: LayerFindings) -> str | None:
    """Say what a random positive blur over the layer's window reaches, where that raises its copy bar (else None)."""
    baseline = layer.copy_baseline
    if baseline is None or baseline.copy_bar <= COPY_MIN_R:
        return None
    return say("channel", "baseline", height=layer.height, width=layer.width, baseline=baseline,
               share=COPY_BASELINE_QUANTILE, digits=bar_digits(layer))


# --- Layers ----------------------------------------------------------------------------------------


def why_not(channel: ChannelFindings, kind: str, bar: float = COPY_MIN_R, digits: int = 2) -> str:
    """Say why a channel whose best match is given is not of `kind` ("copy" or "edge"); bar: the layer's copy bar,
    said with `digits` decimals."""
    if kind == "copy":
        if abs(channel.copy_r) < COPY_MIN_R:
            return say("channel", "why_not", reason="weak", limit=COPY_MIN_R)
        if abs(channel.copy_r) < bar:
            return say("channel", "why_not", reason="below_bar", limit=bar, digits=digits)
        if channel.kind == "silhouette":
            return say("channel", "why_not", reason="silhouette_closer", r=channel.silhouette_r)
        if _by_filter(channel) and not _blob(channel):  # read from its filter, which is no blob
            return say("channel", "why_not", reason="not_blob")
        return say("channel", "why_not", reason="edge_stronger")
    if abs(channel.best_edge_r) < EDGE_MIN_R:
        return say("channel", "why_not", reason="weak", limit=EDGE_MIN_R)
    if channel.kind == "silhouette":
        return say("channel", "why_not", reason="silhouette_closer", r=channel.silhouette_r)
    return say("channel", "why_not", reason="copy_closer", r=channel.copy_r)


def shape_range(channels: list[ChannelFindings]) -> str:
    """Return "edge share 0.07" or "edge shares from 0.07 to 0.42" for fitted channels."""
    shares = sorted(ch.filter.edge_share for ch in channels)
    if score(shares[0]) == score(shares[-1]):
        return say("channel", "share", share=shares[0], each=len(shares) > 1)
    return say("channel", "share_range", low=shares[0], high=shares[-1])


def filter_sentence(layer: LayerFindings) -> str | None:
    """Say how well linear filters of the input reproduce the layer's channels, and where they sit on the scale."""
    fitted = [ch for ch in layer.channels if ch.filter is not None and ch.kind not in ("idle", "saturated")]
    if not fitted:
        return None
    fits = sorted(ch.filter.fit_r for ch in fitted)
    shaped = sum(ch.kind_basis == "filter" for ch in fitted)
    return say("channel", "filter_sentence", size=fitted[0].filter.size,
               from_model=layer.filter_window is not None and layer.filter_window.source == "model",
               in_sample=fitted[0].filter.in_sample, low=fits[0],
               high=None if r_value(fits[0]) == r_value(fits[-1]) else fits[-1],
               fitted=len(fitted), total=layer.num_channels, active=len(fitted) < layer.num_channels,
               reproduces=fits[0] >= FILTER_MIN_R, count=shaped, filter_min=FILTER_MIN_R,
               shaped="all" if shaped == len(fitted) else "some" if shaped else None)
