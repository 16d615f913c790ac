"""The typed results of the analysis: a ChannelFindings per channel, a LayerFindings per layer, a Findings per run.

Use: `report.analysis.analyse(capture)` builds them; `to_dict()` turns one into plain JSON-able data and
`from_dict()` reads that data back; `coerce()` accepts either form, so the commentary can be handed findings
read back from JSON and still work on the typed objects. `Findings.to_json()` is the text of findings.json
(compact, floats to JSON_DIGITS significant digits); nothing else here computes or rounds a number.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# The kinds a channel can be given (report.analysis.label_channel), in the order the counts list them.
CHANNEL_KINDS = ("copy", "edge", "other", "idle", "saturated")
# findings.json keeps this many significant digits: every number the page shows has at most three.
JSON_DIGITS = 6


def _rounded(value, digits: int):
    """Return JSON-able data with every float rounded to `digits` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {key: _rounded(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item, digits) for item in value]
    return value


@dataclass
class ChannelFindings:
    """What one channel does at the end of the run, and when it settled."""

    layer: str
    channel: int  # 0-based index into the layer's last axis
    kind: str  # one of CHANNEL_KINDS
    copy_r: float  # Pearson r with the pooled input (negative: an inverted copy)
    edge_r: dict[str, float]  # EDGE_KINDS -> signed Pearson r with that edge map
    best_edge: str  # the edge kind with the largest |r|
    best_edge_r: float  # its signed r
    edge_side: str  # side of a bright region (an MNIST stroke) where the channel is positive, from best_edge_r
    linear_r: float  # multiple r of the best 3x3 linear filter (+ offset) of the pooled input
    spread: float  # standard deviation of the final map over probes x positions
    mean: float  # mean of the final map
    saturated_share: float | None  # share of final values with |value| > SATURATION_LEVEL (None: unbounded layer)
    settle_step: int  # first step from which the map stays within tolerance of its final map
    pattern_step: int  # first step from which the map keeps r >= PATTERN_MIN_R with its final map
    most_similar_channel: int | None  # the other channel of this layer with the largest |r| (None if alone)
    most_similar_r: float  # that signed r (0.0 if alone)
    previous_layer_channel: int | None  # best-matching channel of the previous layer (None for the first)
    previous_layer_r: float  # that signed r (0.0 for the first layer)
    kind_basis: str = "correlation"  # what decided the kind: filter, correlation, spread (idle) or saturation
    kind_borderline: bool = False  # moving the deciding numbers by their margin would change the kind
    kind_alternative: str | None = None  # the kind it would then be
    filter: dict | None = None  # report.filters.FilterFit.to_dict(), or None where the layer is not fitted
    zero_share: float = 0.0  # share of final values that are exactly 0
    negative_share: float = 0.0  # share of final values below 0

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ChannelFindings:
        """Read a channel's findings back from its to_dict() form."""
        return cls(**data)

    @classmethod
    def coerce(cls, channel: ChannelFindings | dict) -> ChannelFindings:
        """Return a ChannelFindings as it is, or read one from its to_dict() form."""
        return channel if isinstance(channel, cls) else cls.from_dict(channel)


@dataclass
class LayerFindings:
    """Counts, settling and similarity of one layer's channels, with its per-step timeline."""

    name: str
    height: int
    width: int
    num_channels: int
    counts: dict[str, int]  # CHANNEL_KINDS -> number of channels of that kind
    channels: list[ChannelFindings]
    median_settle_step: float | None  # over active (non-idle) channels; None if every channel is idle
    median_pattern_step: float | None
    median_linear_r: float
    pair_mean_abs_r: float  # mean |r| between the final maps of distinct channels (0.0 for one channel)
    pair_max_abs_r: float
    pair_max: list[int]  # the two channels with the largest |r| ([] for one channel)
    duplicate_groups: list[list[int]]  # complete-linkage groups: every pair inside has |r| >= DUPLICATE_MIN_R
    previous_layer: str | None
    duplicates_of_previous: list[dict]  # {"channel", "previous_channel", "r"}: best match with |r| >= DUPLICATE_MIN_R
    informative_step: int | None  # None: the layer never stays informative
    resembles_input_step: int | None  # None: never
    distinct_step: int | None  # None: never (or a single channel)
    # per recorded step: median_spread, median_abs_copy_r, pair_mean_abs_r, max_abs (largest |value|), and the
    # settling series cka, median_r (with each channel's final map) and relative_spread (report.settling)
    timeline: dict[str, list[float]]
    pair_r: list[list[float]] = field(default_factory=list)  # (C, C) signed r between the channels' final maps
    pairs: dict = field(default_factory=dict)  # report.groups.pair_summary: pairs, pairs_at_threshold, share, ...
    groups: list[dict] = field(default_factory=list)  # per duplicate group: channels, pairs, min_abs_r, mean_abs_r
    channel_order: list[int] = field(default_factory=list)  # complete-linkage leaf order, for the heat map
    filter_window: dict | None = None  # the fitted filters' window: size, stride, offset, source (model or fallback)
    settling: dict = field(default_factory=dict)  # pattern_step (CKA), contrast_step, settled_step, samples, probes
    activation: str | None = "tanh"  # the layer's activation function's name (report.run_facts)
    # "bounded" (tanh-like: saturation applies), "non-negative" (no value below 0 in the run: zero shares
    # apply) or "signed" (unbounded both ways)
    regime: str = "bounded"
    scale: dict | None = None  # non-bounded layers: render.scales.choose_scale's kind, domain and basis
    idle_limit: float | None = None  # the spread below which a channel is idle (IDLE_MAX_STD for bounded layers)
    zero_share: float = 0.0  # share of the final values (all channels) that are exactly 0
    negative_share: float = 0.0  # share of the final values below 0
    spatial: bool = True  # False for 1x1 maps (a Dense layer's units): no picture to compare with the input
    mostly_zero: list[dict] = field(default_factory=list)  # non-negative layers: report.claims checks per channel

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LayerFindings:
        """Read a layer's findings back from its to_dict() form."""
        return cls(**dict(data, channels=[ChannelFindings.coerce(ch) for ch in data["channels"]]))

    @classmethod
    def coerce(cls, layer: LayerFindings | dict) -> LayerFindings:
        """Return a LayerFindings as it is, or read one from its to_dict() form."""
        return layer if isinstance(layer, cls) else cls.from_dict(layer)


@dataclass
class Findings:
    """Everything the article's commentary states about one run."""

    steps: list[int]  # recorded steps
    last_step: int
    num_probes: int
    probe_labels: list[int]
    layers: list[LayerFindings]
    run: dict  # final metrics, plateau and the numbers behind the three conclusions (report.summaries)
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return asdict(self)

    def to_json(self, digits: int = JSON_DIGITS) -> str:
        """Return compact JSON with floats to `digits` significant digits (the file findings.json)."""
        return json.dumps(_rounded(self.to_dict(), digits), separators=(",", ":"), sort_keys=True,
                          allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> Findings:
        """Read a run's findings back from its to_dict() form."""
        return cls(**dict(data, layers=[LayerFindings.coerce(layer) for layer in data["layers"]]))

    @classmethod
    def coerce(cls, findings: Findings | dict) -> Findings:
        """Return Findings as they are, or read them from their to_dict() form."""
        return findings if isinstance(findings, cls) else cls.from_dict(findings)

    def layer(self, name: str) -> LayerFindings:
        """Return the findings of the layer called `name`."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}: the capture has {', '.join(layer.name for layer in self.layers)}")
