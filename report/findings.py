"""The typed results of the analysis: a ChannelFindings per channel, a LayerFindings per layer, a Findings per run.

Use: `report.analysis.analyse(capture)` builds them; `to_dict()` turns one into plain JSON-able data and
`from_dict()` reads that data back; `coerce()` accepts either form, so the commentary can be handed findings
read back from JSON and still work on the typed objects. Nothing here computes or rounds a number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The kinds a channel can be given (report.analysis.classify), in the order the counts list them.
CHANNEL_KINDS = ("copy", "edge", "other", "idle", "saturated")


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
    edge_side: str  # side of a stroke where the channel is positive, from the sign of best_edge_r
    linear_r: float  # multiple r of the best 3x3 linear filter (+ offset) of the pooled input
    spread: float  # standard deviation of the final map over probes x positions
    mean: float  # mean of the final map
    saturated_share: float  # share of final values with |value| > SATURATION_LEVEL
    settle_step: int  # first step from which the map stays within tolerance of its final map
    pattern_step: int  # first step from which the map keeps r >= PATTERN_MIN_R with its final map
    most_similar_channel: int | None  # the other channel of this layer with the largest |r| (None if alone)
    most_similar_r: float  # that signed r (0.0 if alone)
    previous_layer_channel: int | None  # best-matching channel of the previous layer (None for the first)
    previous_layer_r: float  # that signed r (0.0 for the first layer)

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
    duplicate_groups: list[list[int]]  # groups of channels linked by |r| >= DUPLICATE_MIN_R, sorted
    previous_layer: str | None
    duplicates_of_previous: list[dict]  # {"channel", "previous_channel", "r"}: best match with |r| >= DUPLICATE_MIN_R
    informative_step: int | None  # None: the layer never stays informative
    resembles_input_step: int | None  # None: never
    distinct_step: int | None  # None: never (or a single channel)
    timeline: dict[str, list[float]]  # per recorded step: median_spread, median_abs_copy_r, pair_mean_abs_r

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
