"""Say what a layer's activation regime lets the numbers support: saturation for tanh, zero shares for ReLU.

Use: `regime_sentences(layer)` returns the layer's sentences about its values at the last step (none for a
bounded, tanh-like layer, whose saturated channels report/words/layer_text.py names); `idle_reason(layer, channels)`
the threshold clause of its idle sentence; `units_sentence(layer)` the sentence for 1x1 maps. Each takes a
`LayerFindings` (report.numbers.regimes decides the regime). Strings are plain text.
"""

from __future__ import annotations

from report.numbers.findings import ChannelFindings, LayerFindings
from report.numbers.thresholds import BORDERLINE_SHARE, IDLE_MAX_SCALE_SHARE, IDLE_MAX_STD, MOSTLY_ZERO_SHARE
from report.words.wording import capitalise, channel_label, channel_list, percent, series, share_percent, verb


def _limit(value: float) -> str:
    """Format a spread limit with three significant digits."""
    return f"{value:.3g}"


def idle_reason(layer: LayerFindings, idle: list[ChannelFindings]) -> str:
    """Return "below 0.03" (tanh units) or the limit on the layer's own scale, and which idle channels are all 0."""
    if layer.scale is None:
        return f"below {IDLE_MAX_STD}"
    high = layer.scale["domain"][1]
    text = (f"below {_limit(layer.idle_limit)}, which is {percent(IDLE_MAX_SCALE_SHARE)} of the colour scale's upper "
            f"end, {_limit(high)}")
    zero = [ch.channel for ch in idle if ch.zero_share == 1.0]
    if zero:
        text += (f"; {channel_list(zero)} {verb(len(zero), 'is', 'are')} exactly 0 on every probe and position, "
                 f"inactive")
    return text


def regime_sentences(layer: LayerFindings) -> list[str]:
    """Say what the layer's values are at the last step: zero shares (non-negative) or signs (signed)."""
    if layer.regime == "non-negative":
        sentences = [f"No value of this layer is negative in the whole run ({layer.activation or 'no activation'}"
                     f"); at the last step {share_percent(layer.zero_share)} of its values are exactly 0."]
        checks = layer.mostly_zero
        passing = [item for item in checks if item.passes]
        if passing:
            shares = series([share_percent(item.value) for item in passing])
            sentences.append(capitalise(f"{channel_list([item.channel for item in passing])} "
                                        f"{verb(len(passing), 'is', 'are')} mostly zero: exactly 0 on {shares} of "
                                        f"{verb(len(passing), 'its', 'their')} values (at least "
                                        f"{percent(MOSTLY_ZERO_SHARE)})."))
        elif checks:
            top = max(checks, key=lambda item: item.value)
            sentences.append(f"No working channel is mostly zero (the highest share of exact zeros, "
                             f"{channel_label(top.channel)}'s, is {share_percent(top.value)}, below "
                             f"{percent(MOSTLY_ZERO_SHARE)}).")
        close = [item for item in checks if item.borderline]
        if close:
            sentences.append(f"{capitalise(channel_list([item.channel for item in close]))}'s "
                             f"{verb(len(close), 'share lies', 'shares lie')} within {BORDERLINE_SHARE} of that "
                             f"threshold: borderline.")
        return sentences
    if layer.regime == "signed":
        positive = 1.0 - layer.negative_share - layer.zero_share
        return [f"Its values are signed and unbounded ({layer.activation or 'no activation'}), so there is no "
                f"saturation to measure: at the last step {share_percent(layer.negative_share)} of them are "
                f"negative and {share_percent(positive)} positive."]
    return []


def units_sentence(layer: LayerFindings) -> str:
    """Say that a layer of 1x1 maps (a Dense layer's units) is not compared with the input picture."""
    return ("Its maps are 1\u00d71, one value per unit and probe, so there is no picture to compare with the "
            "input: its units are not read as copies or edge detectors, only as idle or working, and by how "
            "they vary across the probes.")
