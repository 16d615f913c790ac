"""Tell a layer's activation regime, which decides the statistics its text may state.

Use: `regime_of(series, activation, scale)` returns ("bounded" | "non-negative" | "signed", scale): tanh-like layers
(report.capture_facts.BOUNDED_ACTIVATIONS) are bounded to -1..1 and get saturation statistics; any other layer gets
the colour scale the page draws it with (pipeline.scales.choose_scale), is "non-negative" when no value of the
run is below 0 (ReLU and the like: its shares of exact zeros are stated) and "signed" otherwise.
`idle_limit_for(scale)` is the spread below which a channel is idle; `mostly_zero_checks` the per-channel
checks (report/numbers/checks.py) of MOSTLY_ZERO_SHARE with their margin.
"""

from __future__ import annotations

import numpy as np

from report.capture_facts import BOUNDED_ACTIVATIONS
from report.numbers.checks import ChannelCheck, check
from report.numbers.thresholds import BORDERLINE_SHARE, IDLE_MAX_SCALE_SHARE, IDLE_MAX_STD, MOSTLY_ZERO_SHARE

SCALE_KEYS = ("kind", "domain", "basis", "clipped_values", "negative_values")


def regime_of(series: np.ndarray, activation: str | None, scale: dict | None = None) -> tuple[str, dict | None]:
    """Return the layer's regime (bounded, non-negative, signed) and, when it is not bounded, its colour scale.

    `scale` is the scale the render stage chose for this layer (its manifest entry); without it (or from an
    older manifest lacking a key) it is chosen again here, a full pass over the layer.
    """
    if (activation or "").lower() in BOUNDED_ACTIVATIONS:
        return "bounded", None
    if scale is None or any(key not in scale for key in SCALE_KEYS):
        from pipeline.scales import choose_scale  # the page's own scale, so that "idle" means invisible on it

        scale = choose_scale(series, activation)
    kept = {key: scale[key] for key in ("kind", "domain", "basis", "clipped_values")}
    return ("non-negative" if scale["negative_values"] == 0 else "signed"), kept


def mostly_zero_checks(zero_share: np.ndarray, kinds: list[str]) -> list[ChannelCheck]:
    """Return one check per working channel of a non-negative layer: is it exactly 0 on most values?"""
    return [ChannelCheck(**vars(check("share of values exactly 0", float(share), MOSTLY_ZERO_SHARE,
                                      margin=BORDERLINE_SHARE, subject=f"channel {c + 1}", unit="share")), channel=c)
            for c, (share, kind) in enumerate(zip(zero_share, kinds)) if kind != "idle"]


def idle_limit_for(scale: dict | None) -> float:
    """Return the idle spread: IDLE_MAX_STD in tanh units, else IDLE_MAX_SCALE_SHARE of the scale's upper end."""
    return IDLE_MAX_STD if scale is None else IDLE_MAX_SCALE_SHARE * float(scale["domain"][1])
