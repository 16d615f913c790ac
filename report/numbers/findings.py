"""The typed results of the analysis: a ChannelFindings per channel, a LayerFindings per layer, a Findings per run.

Use: `report.numbers.analysis.analyse(capture)` builds them (the run-level part, `Findings.run`, is
report/numbers/run_findings.py's RunFindings). `Findings.to_json()` is the text of findings.json (compact, floats to
JSON_DIGITS significant digits) and `Findings.from_dict()` reads that data back into the same types; nothing
else here computes or rounds a number.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass

from report.numbers.checks import ChannelCheck
from report.numbers.filters import FilterFit
from report.numbers.research_checks import LayerResearch
from report.numbers.run_findings import RunFindings

# The kinds a channel can be given (report/numbers/channel_kinds.py), in the order the counts list them.
CHANNEL_KINDS = ("copy", "silhouette", "edge", "other", "idle", "saturated")
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
    filter: FilterFit | None = None  # the channel's linear filter of the input; None where the layer is not fitted
    zero_share: float = 0.0  # share of final values that are exactly 0
    negative_share: float = 0.0  # share of final values below 0
    # The label's bootstrap over the analysis images (report/numbers/robust/stability.py); None on the probes
    kind_stability: float | None = None  # share of resamples that give `kind`
    kind_runner_up: str | None = None  # the most frequent other kind in the resamples (None: every one agrees)
    kind_runner_up_share: float = 0.0
    kind_sure: bool = True  # kind_stability >= KIND_SURE_SHARE (or, on the probes, not borderline) and no conflict
    duplicate_conflicts: list[int] = field(default_factory=list)  # near-duplicates (|r| >= DUPLICATE_MIN_R) of
    # this layer whose kind differs
    kind_on_probes: str | None = None  # the kind the shown probes alone give (today's method)
    edge_scale_px: int | None = None  # an edge channel's scale in input pixels (its filter window, or 3 x pooling)
    # Non-negative layers (report/numbers/channel_kinds.py's dead_steps): exactly 0 on at least DEAD_ZERO_SHARE of the
    # probe values at every recorded step from dead_step to the end (and of its final values on the analysis images)
    dead: bool = False
    dead_step: int | None = None  # the first step from which it stays so (None: not dead)
    silhouette_r: float = 0.0  # Pearson r with the pooled silhouette mask (report/numbers/reference_maps.py)


@dataclass
class Repeat:
    """A channel that repeats a channel of the previous layer (|r| >= DUPLICATE_MIN_R)."""

    channel: int
    previous_channel: int
    r: float


@dataclass
class PairSummary:
    """How many distinct channel pairs a layer has and how many reach DUPLICATE_MIN_R (report/numbers/groups.py)."""

    pairs: int
    pairs_at_threshold: int
    share_at_threshold: float
    min_abs_r: float | None  # None: fewer than two channels
    max_abs_r: float | None


@dataclass
class DuplicateGroup:
    """A complete-linkage group of near-duplicate channels: every pair inside has |r| >= DUPLICATE_MIN_R."""

    channels: list[int]
    pairs: int
    min_abs_r: float | None = None  # None: only the channels are known
    mean_abs_r: float | None = None


@dataclass
class FilterWindow:
    """The input window the layer's filters were fitted over, and where it came from."""

    size: int
    stride: int
    offset: int
    source: str  # "model" (the layer table) or "fallback" (a 3x3 filter at the layer's resolution)


@dataclass
class CopyBaseline:
    """What a random positive blur of the input over the layer's window gives (report/numbers/robust/baseline.py).

    The |r| of each blur with the pooled input ("copy") and with the pooled silhouette mask: their median and their
    COPY_BASELINE_QUANTILE quantile; the bars a channel's |r| must reach to be a copy or a silhouette
    (report/numbers/channel_kinds.py's copy_bars).
    """

    window: int  # the blurs' side in input pixels (the layer's receptive field, or the fallback window)
    kernels: int  # how many random positive blurs
    images: int  # measured on this many images
    copy_median: float
    copy_high: float  # the COPY_BASELINE_QUANTILE quantile
    silhouette_median: float
    silhouette_high: float
    silhouette_input_r: float  # r between the pooled input and the pooled silhouette mask
    copy_bar: float  # max(COPY_MIN_R, copy_high)
    silhouette_bar: float | None  # max(COPY_MIN_R, silhouette_high); None: the mask is the input's picture here


@dataclass
class LayerSettling:
    """When the layer settled (report/numbers/settling.py), and the samples its CKA is computed over."""

    pattern_step: int | None  # CKA with the final state stays >= SETTLED_MIN_CKA from here (None: never)
    contrast_step: int | None  # relative spread stays >= INFORMATIVE_SHARE from here (None: never)
    settled_step: int | None  # the later of the two
    samples: int  # probes x positions
    probes: int
    first_step: int  # the first recorded step


@dataclass
class ProbeView:
    """A layer measured on the shown probes alone, as before the analysis set: for the conclusions' variants."""

    counts: dict[str, int]  # CHANNEL_KINDS -> channels, by kind_on_probes
    pair_mean_abs_r: float
    settling: LayerSettling | None
    median_settle_step: float | None  # over the channels active on the probes


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
    duplicates_of_previous: list[Repeat]  # best match in the previous layer, where |r| >= DUPLICATE_MIN_R
    informative_step: int | None  # None: the layer never stays informative
    resembles_input_step: int | None  # None: never
    distinct_step: int | None  # None: never (or a single channel)
    # per recorded step: median_spread, median_abs_copy_r, pair_mean_abs_r, max_abs (largest |value|), and the
    # settling series cka, median_r (with each channel's final map) and relative_spread (report/numbers/settling.py)
    timeline: dict[str, list[float]]
    pair_r: list[list[float]] = field(default_factory=list)  # (C, C) signed r between the channels' final maps
    pairs: PairSummary | None = None
    groups: list[DuplicateGroup] = field(default_factory=list)  # duplicate_groups with their |r|
    channel_order: list[int] = field(default_factory=list)  # complete-linkage leaf order, for the heat map
    filter_window: FilterWindow | None = None  # None: no filters fitted
    settling: LayerSettling | None = None
    activation: str | None = "tanh"  # the layer's activation function's name (report/capture_facts.py)
    # "bounded" (tanh-like: saturation applies), "non-negative" (no value below 0 in the run: zero shares
    # apply) or "signed" (unbounded both ways)
    regime: str = "bounded"
    scale: dict | None = None  # non-bounded layers: pipeline.scales.choose_scale's kind, domain, basis, clipped_values
    idle_limit: float | None = None  # the spread below which a channel is idle (IDLE_MAX_STD for bounded layers)
    zero_share: float = 0.0  # share of the final values (all channels) that are exactly 0
    negative_share: float = 0.0  # share of the final values below 0
    spatial: bool = True  # False for 1x1 maps (a Dense layer's units): no picture to compare with the input
    mostly_zero: list[ChannelCheck] = field(default_factory=list)  # non-negative layers: per working channel
    # On the analysis set (report/numbers/analysis_settling.py): [lo, hi] of the resampled settled step
    settle_step_ci: list[int | None] = field(default_factory=lambda: [None, None])
    settle_never_share: float | None = None  # share of resamples in which the layer never settles
    research: LayerResearch | None = None  # report/numbers/research_checks.py
    on_probes: ProbeView | None = None  # None: measured on the probes anyway
    # Each channel's kind under the conclusions' other definitions (report/numbers/robust/variants.py)
    variant_kinds: dict[str, list[str]] = field(default_factory=dict)
    copy_baseline: CopyBaseline | None = None  # None: no picture (1x1 maps), or findings of older code


@dataclass
class Findings:
    """Everything the article's commentary states about one run."""

    steps: list[int]  # recorded steps
    last_step: int
    num_probes: int
    probe_labels: list[int]
    layers: list[LayerFindings]
    run: RunFindings  # final metrics, plateau and the numbers behind the three conclusions
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
        """Read a run's findings back from their to_dict() form (or findings.json) into the same types."""
        return _read(cls, data)

    def layer(self, name: str) -> LayerFindings:
        """Return the findings of the layer called `name`."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}: the capture has {', '.join(layer.name for layer in self.layers)}")


def _read(kind, data):
    """Return JSON data as a value of the annotated type `kind` (dataclasses, lists, dicts and optionals of them).

    Of a union of dataclasses the one whose fields are exactly the data's keys is built (a ShareCheck or a Check).
    """
    if data is None:
        return None
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        shaped = [option for option in options if is_dataclass(option)]
        if shaped and isinstance(data, dict):
            exact = [option for option in shaped if {item.name for item in fields(option)} == set(data)]
            return _read((exact or shaped)[0], data)
        return _read(options[0], data) if len(options) == 1 else data
    if typing.get_origin(kind) is list:
        return [_read(typing.get_args(kind)[0], item) for item in data]
    if typing.get_origin(kind) is dict:
        return {key: _read(typing.get_args(kind)[1], item) for key, item in data.items()}
    if is_dataclass(kind):
        hints = _field_types(kind)
        return kind(**{name: _read(hints[name], value) for name, value in data.items()})
    return data


@functools.cache
def _field_types(kind) -> dict:
    """Return a dataclass's field types (resolved once: typing.get_type_hints is most of reading findings.json)."""
    return typing.get_type_hints(kind)
