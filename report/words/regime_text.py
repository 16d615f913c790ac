"""Say what a layer's activation regime lets the numbers support: saturation for tanh, zero shares for ReLU.

Use: `regime_sentences(layer)` returns the layer's sentences about its values at the last step (none for a
bounded, tanh-like layer, whose saturated channels report/words/layer_text.py names); `idle_reason(layer, channels)`
the threshold clause of its idle sentence; `units_sentence(layer)` the sentence for 1x1 maps. Each takes a
`LayerFindings` (report.numbers.regimes decides the regime). Strings are plain text.
"""

from __future__ import annotations

from report.numbers.findings import ChannelFindings, LayerFindings
from report.numbers.thresholds import BORDERLINE_SHARE, IDLE_MAX_SCALE_SHARE, IDLE_MAX_STD, MOSTLY_ZERO_SHARE
from report.voice import say


def idle_reason(layer: LayerFindings, idle: list[ChannelFindings]) -> str:
    """Return "below 0.03" (tanh units) or the limit on the layer's own scale, and which idle channels are all 0."""
    if layer.scale is None:
        return say("regime", "idle_reason", limit=IDLE_MAX_STD)
    return say("regime", "idle_reason", limit=layer.idle_limit, share=IDLE_MAX_SCALE_SHARE,
               high=layer.scale["domain"][1], zero=[ch.channel for ch in idle if ch.zero_share == 1.0])


def regime_sentences(layer: LayerFindings) -> list[str]:
    """Say what the layer's values are at the last step: zero shares (non-negative) or signs (signed)."""
    if layer.regime == "non-negative":
        sentences = [say("regime", "non_negative", activation=layer.activation, zero_share=layer.zero_share)]
        checks = layer.mostly_zero
        passing = [item for item in checks if item.passes]
        if passing:
            sentences.append(say("regime", "mostly_zero", passing=passing, threshold=MOSTLY_ZERO_SHARE))
        elif checks:
            sentences.append(say("regime", "none_mostly_zero", top=max(checks, key=lambda item: item.value),
                                 threshold=MOSTLY_ZERO_SHARE))
        close = [item for item in checks if item.borderline]
        if close:
            sentences.append(say("regime", "borderline", close=close, margin=BORDERLINE_SHARE))
        return sentences
    if layer.regime == "signed":
        return [say("regime", "signed_values", activation=layer.activation, negative=layer.negative_share,
                    positive=1.0 - layer.negative_share - layer.zero_share)]
    return []


def units_sentence(layer: LayerFindings) -> str:
    """Say that a layer of 1x1 maps (a Dense layer's units) is not compared with the input picture."""
    return say("regime", "units")
