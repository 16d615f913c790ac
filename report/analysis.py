"""Measure what each conv channel of a captured run does: the numbers behind every sentence of the article.

Run it on an archive: `python -m report.analysis build/capture.npz` prints the findings as JSON.
From code: `analyse(capture)` takes a `model.capture.Capture` (or anything with the same attributes)
and returns `Findings`; `Findings.to_dict()` is plain JSON-able data. Everything here is pure numpy and
recomputable from `build/capture.npz`; numbers are not rounded (the commentary rounds for display).

How the measures are defined (the page's appendix lists the thresholds, see `thresholds()`):

- Reference maps. The probe images are scaled to [0, 1] (the model is fed x / 255) and brought to each
  layer's resolution by area averaging (2x2 for 14x14, 4x4 for 7x7). Edge maps are Sobel responses of
  that pooled input, computed AT THE LAYER'S RESOLUTION with 'same' zero padding: a 3x3 filter at that
  resolution is what the layer could apply to a copy of the input, so an edge detector of conv3 is
  compared with the edges of the 14x14 picture it sees. Orientations (each signed, image rows run down):
  `horizontal` (positive where ink lies below background: the top edge of a stroke; negative: its
  underside), `vertical` (positive: the left edge of a stroke; negative: its right edge),
  `diagonal_rising` ("/" edges; positive: the upper-left side of a stroke), `diagonal_falling`
  ("\\" edges; positive: the upper-right side) and `outline` (gradient magnitude, any orientation).
- Per channel, at the final recorded step: the Pearson correlation over probes x positions with the
  pooled input (`copy_r`, negative = inverted copy) and with every edge map (`edge_r`); its spread
  (standard deviation over probes x positions; tiny = idle) and the fraction of values with
  |tanh| > SATURATION_LEVEL (large = saturated); and its kind, the first that applies of idle,
  saturated, copy, edge, other (see `_classify`).
- Settling, per channel: `settle_step` is the first recorded step after which the channel's whole map
  (all probes) stays within SETTLE_TOLERANCE x its final spread (RMS difference, with an absolute floor of
  SETTLE_FLOOR) of its final map; `pattern_step` is the first step after which its map keeps a
  correlation of at least PATTERN_MIN_R with the final map (the picture is in place even if its
  contrast still grows).
- Per layer: counts per kind, median settle and pattern steps of the active (non-idle) channels,
  |r| between its channels (near-duplicates at |r| >= DUPLICATE_MIN_R), its channels' best match in
  the previous layer (brought to this resolution by area averaging), and a timeline per step of the
  median spread, the median |copy r| and the mean |r| between channels, from which three events are read.
- Per run: final test accuracy and loss, the early plateau of the training loss at chance (ln of the
  number of classes) and the numbers for the post's three conclusions.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

# --- Thresholds (module constants; `thresholds()` returns them with their explanations) -----------

# A channel copies the input when its final map correlates with the pooled input at |r| >= this.
COPY_MIN_R = 0.8
# A channel is an edge detector when its best edge map correlates at |r| >= this (and beats the copy).
EDGE_MIN_R = 0.6
# A channel is idle when its final map's standard deviation over probes x positions is below this
# (tanh units; a 3x3 filter that never left its N(0, 0.01) initialisation gives spreads of ~0.01).
IDLE_MAX_STD = 0.03
# |tanh| above this counts as saturated (the pre-activation is beyond +-1.47).
SATURATION_LEVEL = 0.9
# A channel is saturated when at least this fraction of its final values are saturated.
SATURATED_MIN_FRACTION = 0.9
# A channel has settled once its map stays within this fraction of its final spread (RMS difference).
SETTLE_TOLERANCE = 0.1
# Absolute floor of the settle tolerance in tanh units (below it a change is invisible on the -1..1 scale).
SETTLE_FLOOR = 0.01
# A channel's pattern is in place once its map keeps a correlation of at least this with its final map.
PATTERN_MIN_R = 0.95
# Two channels are near-duplicates when their final maps correlate at |r| >= this.
DUPLICATE_MIN_R = 0.9
# A layer is informative once the median spread of its channels stays at or above this (tanh units).
INFORMATIVE_MIN_STD = 0.1
# A layer resembles the input once the median |copy r| of its channels first reaches this.
RESEMBLES_MIN_R = 0.5
# A layer's channels are distinct once the mean |r| between them stays at or below this.
DISTINCT_MAX_R = 0.5
# The loss is "at chance" while it stays within this of ln(number of classes).
PLATEAU_TOLERANCE = 0.05
# A share at or above this is "most" (conclusions 1 and 2), at or below MINORITY_SHARE "few".
MAJORITY_SHARE = 0.5
# A share at or below this is "few" (conclusion 1: "little feature extraction").
MINORITY_SHARE = 0.25
# Test accuracy the post claims (conclusion 1: "above 95%").
CLAIMED_ACCURACY = 0.95
# Conclusion 3: a layer "settles early" when its median pattern step is at or before this share of the run.
EARLY_SHARE = 0.5

_EXPLANATIONS = {
    "COPY_MIN_R": "a channel is a copy of the input when |r| with the input, pooled to its resolution, is at least this",
    "EDGE_MIN_R": "a channel is an edge detector when |r| with its best edge map is at least this and higher than its copy |r|",
    "IDLE_MAX_STD": "a channel is idle when its final map varies less than this (standard deviation over probes and "
                    "positions, tanh units)",
    "SATURATION_LEVEL": "a value counts as saturated when |tanh| exceeds this",
    "SATURATED_MIN_FRACTION": "a channel is saturated when at least this share of its final values are saturated",
    "SETTLE_TOLERANCE": "a channel has settled from the step after which its map stays within this share of its final "
                        "spread (RMS difference over all probes) of its final map",
    "SETTLE_FLOOR": "the settle tolerance is never smaller than this (tanh units)",
    "PATTERN_MIN_R": "a channel's pattern is in place from the step after which its map keeps at least this "
                     "correlation with its final map",
    "DUPLICATE_MIN_R": "two channels are near-duplicates when their final maps correlate at |r| of at least this",
    "INFORMATIVE_MIN_STD": "a layer is informative from the step after which its channels' median spread stays at "
                           "least this",
    "RESEMBLES_MIN_R": "a layer first resembles the input at the step where its channels' median |r| with the input "
                       "reaches this",
    "DISTINCT_MAX_R": "a layer's channels are distinct from the step after which their mean |r| with each other "
                      "stays at most this",
    "PLATEAU_TOLERANCE": "the training loss is at chance while it stays within this of ln(number of classes)",
    "MAJORITY_SHARE": "a share of channels at least this counts as most",
    "MINORITY_SHARE": "a share of channels at most this counts as few",
    "CLAIMED_ACCURACY": "the test accuracy the post claims for its model",
    "EARLY_SHARE": "a layer settled early when its median pattern step is at most this share of the run",
}

EDGE_KINDS = ("horizontal", "vertical", "diagonal_rising", "diagonal_falling", "outline")
# The side of a stroke where each signed edge map is positive, and where it is negative.
EDGE_SIDES = {
    "horizontal": ("top", "bottom"),
    "vertical": ("left", "right"),
    "diagonal_rising": ("upper-left", "lower-right"),
    "diagonal_falling": ("upper-right", "lower-left"),
    "outline": ("edge", "inside or outside"),
}
CHANNEL_KINDS = ("copy", "edge", "other", "idle", "saturated")
EARLY_LAYERS = ("conv1", "conv2", "conv3", "conv4")
LATE_LAYERS = ("conv5", "conv6")

# Sobel kernels, indexed [row offset + 1, column offset + 1] and applied as a correlation
# (output[y, x] = sum kernel[i, j] * input[y + i - 1, x + j - 1]); rows run downwards.
_SOBEL = {
    "horizontal": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64),  # below minus above
    "vertical": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64),  # right minus left
    "diagonal_rising": np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], np.float64),  # lower-right minus upper-left
    "diagonal_falling": np.array([[0, -1, -2], [1, 0, -1], [2, 1, 0]], np.float64),  # lower-left minus upper-right
}


def thresholds() -> dict[str, tuple[float, str]]:
    """Return every named threshold as {name: (value, explanation)} for the page's appendix."""
    module = sys.modules[__name__]
    return {name: (getattr(module, name), text) for name, text in _EXPLANATIONS.items()}


# --- Findings --------------------------------------------------------------------------------------


@dataclass
class ChannelFindings:
    """What one channel of one layer does at the end of the run, and when it settled."""

    layer: str
    channel: int  # 0-based index into the layer's last axis
    kind: str  # one of CHANNEL_KINDS
    copy_r: float  # Pearson r with the pooled input (negative: an inverted copy)
    edge_r: dict[str, float]  # EDGE_KINDS -> signed Pearson r with that edge map
    best_edge: str  # the edge kind with the largest |r|
    best_edge_r: float  # its signed r
    edge_side: str  # side of the stroke where the channel is positive, by the sign of best_edge_r
    spread: float  # standard deviation of the final map over probes x positions
    mean: float  # mean of the final map
    saturated_fraction: float  # share of final values with |value| > SATURATION_LEVEL
    settle_step: int  # first step after which the map stays within tolerance of its final map
    pattern_step: int  # first step after which the map keeps r >= PATTERN_MIN_R with its final map
    most_similar_channel: int | None  # the other channel of this layer with the largest |r|
    most_similar_r: float  # that signed r (0.0 for a single-channel layer)
    previous_layer_channel: int | None  # best-matching channel of the previous layer
    previous_layer_r: float  # that signed r (0.0 without a previous layer)

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return asdict(self)


@dataclass
class LayerFindings:
    """Counts, settling and similarity of one layer's channels, plus its per-step timeline."""

    name: str
    height: int
    width: int
    num_channels: int
    counts: dict[str, int]  # CHANNEL_KINDS -> number of channels of that kind
    channels: list[ChannelFindings]
    median_settle_step: float | None  # over active (non-idle) channels; None if all are idle
    median_pattern_step: float | None
    pair_mean_abs_r: float  # mean |r| between distinct channels' final maps (0.0 for one channel)
    pair_max_abs_r: float
    pair_max: list[int]  # the two channels with the largest |r| ([] for one channel)
    duplicate_groups: list[list[int]]  # groups of channels linked by |r| >= DUPLICATE_MIN_R
    previous_layer: str | None
    duplicates_of_previous: list[dict]  # {"channel", "previous_channel", "r"} with |r| >= DUPLICATE_MIN_R
    informative_step: int | None  # first step after which the median spread stays >= INFORMATIVE_MIN_STD
    resembles_input_step: int | None  # first step at which the median |copy r| reaches RESEMBLES_MIN_R
    distinct_step: int | None  # first step after which the mean |r| between channels stays <= DISTINCT_MAX_R
    timeline: dict[str, list[float]]  # per recorded step: median_spread, median_abs_copy_r, pair_mean_abs_r

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return asdict(self)


@dataclass
class Findings:
    """Everything the article's commentary states about one run."""

    steps: list[int]  # recorded steps
    last_step: int
    num_probes: int
    probe_labels: list[int]
    layers: list[LayerFindings]
    run: dict  # final metrics, plateau and the numbers for the three conclusions
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return asdict(self)

    def layer(self, name: str) -> LayerFindings:
        """Return the findings of the layer called `name`."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}: the capture has {', '.join(layer.name for layer in self.layers)}")


# --- Reference maps --------------------------------------------------------------------------------


def area_pool(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Average (N, H0, W0) images over the pixel blocks that make a (N, height, width) grid."""
    images = np.asarray(images, np.float64)
    rows = (np.arange(height) * images.shape[1]) // height
    cols = (np.arange(width) * images.shape[2]) // width
    summed = np.add.reduceat(np.add.reduceat(images, rows, axis=1), cols, axis=2)
    row_counts = np.diff(np.append(rows, images.shape[1]))
    col_counts = np.diff(np.append(cols, images.shape[2]))
    return summed / (row_counts[:, None] * col_counts[None, :])


def correlate_same(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Apply a 3x3 kernel to (N, H, W) images as a correlation with 'same' zero padding."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    height, width = images.shape[1:]
    out = np.zeros(images.shape, np.float64)
    for i in range(3):
        for j in range(3):
            if kernel[i, j]:
                out += kernel[i, j] * padded[:, i:i + height, j:j + width]
    return out


def input_maps(probe_images: np.ndarray, height: int, width: int) -> dict[str, np.ndarray]:
    """Return the pooled input ("copy") and its edge maps (EDGE_KINDS) at one resolution, each (N, H, W)."""
    scaled = np.asarray(probe_images, np.float64) / 255.0  # the model's input scale
    pooled = area_pool(scaled, height, width)
    maps = {"copy": pooled}
    for kind, kernel in _SOBEL.items():
        maps[kind] = correlate_same(pooled, kernel)
    maps["outline"] = np.hypot(maps["horizontal"], maps["vertical"])
    return maps


# --- Statistics ------------------------------------------------------------------------------------


def _standardise(values: np.ndarray, axis) -> tuple[np.ndarray, np.ndarray]:
    """Return (values - mean) / norm along `axis` (zero where the norm is zero), and the norm."""
    centred = values - values.mean(axis=axis, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=axis, keepdims=True))
    safe = np.where(norm > 0, norm, 1.0)
    return np.where(norm > 0, centred / safe, 0.0), norm


def channel_correlations(maps: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Return the Pearson r of each channel of (N, H, W, C) maps with an (N, H, W) reference; 0 where undefined."""
    flat = np.asarray(maps, np.float64).reshape(-1, maps.shape[-1])  # (P, C)
    unit, _ = _standardise(flat, axis=0)
    ref, _ = _standardise(np.asarray(reference, np.float64).reshape(-1, 1), axis=0)
    return (unit * ref).sum(axis=0)


def pairwise_correlations(maps: np.ndarray) -> np.ndarray:
    """Return the (C, C) Pearson r between the channels of (N, H, W, C) maps; 0 where undefined."""
    flat = np.asarray(maps, np.float64).reshape(-1, maps.shape[-1])
    unit, _ = _standardise(flat, axis=0)
    return unit.T @ unit


def settle_steps(series: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each channel's settle step and pattern step for a (T, N, H, W, C) activation series."""
    steps = np.asarray(steps)
    count, channels = series.shape[0], series.shape[-1]
    flat = np.asarray(series, np.float32).reshape(count, -1, channels)  # (T, P, C)
    final = flat[-1]  # (P, C)
    rms = np.sqrt(np.mean(np.square(flat - final[None], dtype=np.float32), axis=1, dtype=np.float64))  # (T, C)
    tolerance = np.maximum(SETTLE_TOLERANCE * final.astype(np.float64).std(axis=0), SETTLE_FLOOR)
    unit, _ = _standardise(flat.astype(np.float64), axis=1)
    final_unit = unit[-1]
    pattern_r = np.einsum("tpc,pc->tc", unit, final_unit)  # (T, C)
    return _first_step_staying(rms <= tolerance, steps), _first_step_staying(pattern_r >= PATTERN_MIN_R, steps)


def _first_step_staying(condition: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Return, per column of a (T, C) boolean array, the first step from which it stays true (last step if never)."""
    condition = np.asarray(condition, bool)
    if condition.ndim == 1:
        return _first_step_staying(condition[:, None], steps)[0]
    # Holds from row t onwards <=> the reversed cumulative AND is true at t.
    holds_after = np.flip(np.logical_and.accumulate(np.flip(condition, 0), axis=0), 0)
    first = np.where(holds_after.any(axis=0), holds_after.argmax(axis=0), len(steps) - 1)
    return np.asarray(steps)[first]


def _first_step_staying_or_none(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step from which a (T,) condition stays true, or None if it is false at the end."""
    if not condition[-1]:
        return None
    return int(_first_step_staying(condition, steps))


def _first_step_reaching(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step at which a (T,) condition is true, or None if never."""
    hits = np.flatnonzero(condition)
    return int(steps[hits[0]]) if hits.size else None


def _classify(copy_r: float, best_edge_r: float, spread: float, saturated_fraction: float) -> str:
    """Name a channel's kind: the first of idle, saturated, copy, edge (whichever |r| is larger), other."""
    if spread < IDLE_MAX_STD:
        return "idle"
    if saturated_fraction >= SATURATED_MIN_FRACTION:
        return "saturated"
    is_copy = abs(copy_r) >= COPY_MIN_R
    is_edge = abs(best_edge_r) >= EDGE_MIN_R and abs(best_edge_r) > abs(copy_r)
    if is_edge:
        return "edge"
    if is_copy:
        return "copy"
    return "other"


def _duplicate_groups(pairs: np.ndarray) -> list[list[int]]:
    """Return groups (size >= 2) of channels connected by |r| >= DUPLICATE_MIN_R, sorted."""
    channels = pairs.shape[0]
    linked = np.abs(pairs) >= DUPLICATE_MIN_R
    seen, groups = set(), []
    for start in range(channels):
        if start in seen:
            continue
        group, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for other in np.flatnonzero(linked[node]):
                if int(other) not in group:
                    group.add(int(other))
                    frontier.append(int(other))
        seen |= group
        if len(group) > 1:
            groups.append(sorted(group))
    return groups


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if len(values) else None


# --- Analysis --------------------------------------------------------------------------------------


def analyse_layer(name: str, series: np.ndarray, steps: np.ndarray, probe_images: np.ndarray,
                  previous: tuple[str, np.ndarray] | None = None) -> LayerFindings:
    """Measure one layer's (T, N, H, W, C) activation series against the probes; `previous` = (name, final maps)."""
    series = np.asarray(series)
    if series.ndim != 5:
        raise ValueError(f"layer {name}: expected activations of shape (T, N, H, W, C), got {series.shape}")
    count, probes, height, width, channels = series.shape
    if len(steps) != count or len(probe_images) != probes:
        raise ValueError(f"layer {name}: {count} snapshots and {probes} probes, but {len(steps)} steps and "
                         f"{len(probe_images)} probe images; pass the capture's own steps and probes")
    final = series[-1].astype(np.float64)  # (N, H, W, C)
    references = input_maps(probe_images, height, width)
    copy_r = channel_correlations(final, references["copy"])
    edge_r = {kind: channel_correlations(final, references[kind]) for kind in EDGE_KINDS}
    flat_final = final.reshape(-1, channels)
    spread = flat_final.std(axis=0)
    mean = flat_final.mean(axis=0)
    saturated_fraction = (np.abs(flat_final) > SATURATION_LEVEL).mean(axis=0)
    settle, pattern = settle_steps(series, steps)
    pairs = pairwise_correlations(final)
    off_diagonal = pairs.copy()
    np.fill_diagonal(off_diagonal, 0.0)

    if previous is not None:
        previous_name, previous_final = previous
        moved = np.moveaxis(np.asarray(previous_final, np.float64), -1, 0)  # (C', N, H', W')
        pooled = np.stack([area_pool(plane, height, width) for plane in moved], axis=-1)  # (N, H, W, C')
        prev_unit, _ = _standardise(pooled.reshape(-1, pooled.shape[-1]), axis=0)
        this_unit, _ = _standardise(flat_final, axis=0)
        cross = this_unit.T @ prev_unit  # (C, C')
    else:
        previous_name, cross = None, None

    channel_findings = []
    for c in range(channels):
        edges = {kind: float(edge_r[kind][c]) for kind in EDGE_KINDS}
        best_edge = max(EDGE_KINDS, key=lambda kind: (abs(edges[kind]), -EDGE_KINDS.index(kind)))
        best_r = edges[best_edge]
        positive, negative = EDGE_SIDES[best_edge]
        if channels > 1:
            similar = int(np.argmax(np.abs(off_diagonal[c]) - (np.arange(channels) == c)))
            similar_r = float(pairs[c, similar])
        else:
            similar, similar_r = None, 0.0
        if cross is not None and cross.shape[1]:
            prev_channel = int(np.argmax(np.abs(cross[c])))
            prev_r = float(cross[c, prev_channel])
        else:
            prev_channel, prev_r = None, 0.0
        channel_findings.append(ChannelFindings(
            layer=name, channel=c,
            kind=_classify(float(copy_r[c]), best_r, float(spread[c]), float(saturated_fraction[c])),
            copy_r=float(copy_r[c]), edge_r=edges, best_edge=best_edge, best_edge_r=best_r,
            edge_side=positive if best_r >= 0 else negative,
            spread=float(spread[c]), mean=float(mean[c]), saturated_fraction=float(saturated_fraction[c]),
            settle_step=int(settle[c]), pattern_step=int(pattern[c]),
            most_similar_channel=similar, most_similar_r=similar_r,
            previous_layer_channel=prev_channel, previous_layer_r=prev_r,
        ))

    active = [ch for ch in channel_findings if ch.kind != "idle"]
    if channels > 1:
        upper = np.triu_indices(channels, k=1)
        abs_pairs = np.abs(pairs[upper])
        best_pair = int(np.argmax(abs_pairs))
        pair_mean, pair_max = float(abs_pairs.mean()), float(abs_pairs[best_pair])
        pair_max_channels = [int(upper[0][best_pair]), int(upper[1][best_pair])]
    else:
        pair_mean, pair_max, pair_max_channels = 0.0, 0.0, []
    duplicates_of_previous = []
    if cross is not None:
        for c, p in zip(*np.nonzero(np.abs(cross) >= DUPLICATE_MIN_R)):
            duplicates_of_previous.append({"channel": int(c), "previous_channel": int(p), "r": float(cross[c, p])})

    timeline = layer_timeline(series, references["copy"])
    steps = np.asarray(steps)
    return LayerFindings(
        name=name, height=height, width=width, num_channels=channels,
        counts={kind: sum(ch.kind == kind for ch in channel_findings) for kind in CHANNEL_KINDS},
        channels=channel_findings,
        median_settle_step=_median([ch.settle_step for ch in active]),
        median_pattern_step=_median([ch.pattern_step for ch in active]),
        pair_mean_abs_r=pair_mean, pair_max_abs_r=pair_max, pair_max=pair_max_channels,
        duplicate_groups=_duplicate_groups(pairs),
        previous_layer=previous_name, duplicates_of_previous=duplicates_of_previous,
        informative_step=_first_step_staying_or_none(
            np.asarray(timeline["median_spread"]) >= INFORMATIVE_MIN_STD, steps),
        resembles_input_step=_first_step_reaching(
            np.asarray(timeline["median_abs_copy_r"]) >= RESEMBLES_MIN_R, steps),
        distinct_step=_first_step_staying_or_none(
            np.asarray(timeline["pair_mean_abs_r"]) <= DISTINCT_MAX_R, steps) if channels > 1 else None,
        timeline=timeline,
    )


def layer_timeline(series: np.ndarray, pooled_input: np.ndarray) -> dict[str, list[float]]:
    """Return per recorded step the median channel spread, median |copy r| and mean |r| between channels."""
    count, channels = series.shape[0], series.shape[-1]
    flat = np.asarray(series, np.float64).reshape(count, -1, channels)  # (T, P, C)
    unit, norm = _standardise(flat, axis=1)
    spread = norm[:, 0, :] / math.sqrt(flat.shape[1])  # (T, C)
    reference, _ = _standardise(np.asarray(pooled_input, np.float64).reshape(1, -1, 1), axis=1)
    copy = np.abs((unit * reference).sum(axis=1))  # (T, C)
    if channels > 1:
        pairs = np.abs(np.einsum("tpc,tpd->tcd", unit, unit))
        upper = np.triu_indices(channels, k=1)
        pair_mean = pairs[:, upper[0], upper[1]].mean(axis=1)
    else:
        pair_mean = np.zeros(count)
    return {
        "median_spread": np.median(spread, axis=1).tolist(),
        "median_abs_copy_r": np.median(copy, axis=1).tolist(),
        "pair_mean_abs_r": pair_mean.tolist(),
    }


def plateau(train_loss: np.ndarray, num_classes: int = 10) -> dict:
    """Return how many initial steps the training loss stayed within PLATEAU_TOLERANCE of ln(num_classes)."""
    loss = np.asarray(train_loss, np.float64)
    chance = math.log(num_classes)
    inside = np.abs(loss - chance) <= PLATEAU_TOLERANCE
    outside = np.flatnonzero(~inside)
    steps = int(outside[0]) if outside.size else len(loss)  # train_loss[k] is step k + 1
    return {"chance_loss": chance, "tolerance": PLATEAU_TOLERANCE, "steps": steps,
            "left_at_step": steps + 1 if steps < len(loss) else None}


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _num_classes(capture) -> int:
    """Return the number of classes from the run's config (its last dense width), else 10."""
    try:
        widths = json.loads(capture.config_json).get("dense_widths")
        if widths:
            return int(widths[-1])
    except (AttributeError, TypeError, ValueError):
        pass
    return 10


def analyse(capture) -> Findings:
    """Measure a Capture (or any object with its attributes) and return its Findings."""
    steps = np.asarray(capture.steps)
    if steps.ndim != 1 or len(steps) < 1:
        raise ValueError("the capture has no recorded steps; train again (`make site`) to record some")
    names = list(capture.activations)
    layers, previous = [], None
    for name in names:
        series = capture.activations[name]
        layer = analyse_layer(name, series, steps, capture.probe_images, previous)
        layers.append(layer)
        previous = (name, np.asarray(series[-1], np.float64))

    meta = getattr(capture, "meta", {}) or {}
    test_accuracy = np.asarray(capture.test_accuracy, np.float64)
    test_loss = np.asarray(capture.test_loss, np.float64)
    if "final_test_accuracy" in meta:
        accuracy, accuracy_source = float(meta["final_test_accuracy"]), "whole test set (meta)"
    elif test_accuracy.size:
        accuracy, accuracy_source = float(test_accuracy[-1]), "last test point"
    else:
        accuracy, accuracy_source = None, "none"
    if "final_test_loss" in meta:
        loss = float(meta["final_test_loss"])
    else:
        loss = float(test_loss[-1]) if test_loss.size else None

    last_step = int(steps[-1])
    run = {
        "final_test_accuracy": accuracy,
        "final_test_loss": loss,
        "accuracy_source": accuracy_source,
        "last_step": last_step,
        "plateau": plateau(capture.train_loss, _num_classes(capture)),
        "conclusion_1": _kind_summary([layer for layer in layers if layer.name in EARLY_LAYERS]),
        "conclusion_2": _entanglement_summary([layer for layer in layers if layer.name in LATE_LAYERS]),
        "conclusion_3": _settling_summary(layers, last_step),
    }
    run["conclusion_1"]["final_test_accuracy"] = accuracy
    return Findings(
        steps=steps.astype(int).tolist(), last_step=last_step, num_probes=int(len(capture.probe_images)),
        probe_labels=np.asarray(capture.probe_labels).astype(int).tolist(), layers=layers, run=run,
        thresholds={name: value for name, (value, _) in thresholds().items()},
    )


def _kind_summary(layers: list[LayerFindings]) -> dict:
    """Count channel kinds over several layers (conclusion 1)."""
    total = sum(layer.num_channels for layer in layers)
    counts = {kind: sum(layer.counts[kind] for layer in layers) for kind in CHANNEL_KINDS}
    return {"layers": [layer.name for layer in layers], "channels": total, "counts": counts,
            "shares": {kind: _share(n, total) for kind, n in counts.items()}}


def _entanglement_summary(layers: list[LayerFindings]) -> dict:
    """Measure how nameable and how independent the late layers' channels are (conclusion 2)."""
    summary = _kind_summary(layers)
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    summary["active_channels"] = len(active)
    summary["unnamed"] = sum(ch.kind in ("other", "saturated") for ch in active)
    summary["unnamed_share"] = _share(summary["unnamed"], len(active))
    summary["median_best_abs_r"] = _median([max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in active])
    summary["pair_mean_abs_r"] = _median([layer.pair_mean_abs_r for layer in layers]) if layers else None
    summary["pair_mean_abs_r_by_layer"] = {layer.name: layer.pair_mean_abs_r for layer in layers}
    return summary


def _settling_summary(layers: list[LayerFindings], last_step: int) -> dict:
    """Relate the channels' settle steps to the run's length, and list idle channels (conclusion 3)."""
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    early = EARLY_SHARE * last_step
    return {
        "last_step": last_step,
        "active_channels": len(active),
        "median_pattern_step": _median([ch.pattern_step for ch in active]),
        "median_settle_step": _median([ch.settle_step for ch in active]),
        "pattern_by_half": sum(ch.pattern_step <= early for ch in active),
        "pattern_by_half_share": _share(sum(ch.pattern_step <= early for ch in active), len(active)),
        "layers_early": [layer.name for layer in layers
                         if layer.median_pattern_step is not None and layer.median_pattern_step <= early],
        "layer_pattern_steps": {layer.name: layer.median_pattern_step for layer in layers},
        "idle_channels": [{"layer": ch.layer, "channel": ch.channel, "spread": ch.spread}
                          for layer in layers for ch in layer.channels if ch.kind == "idle"],
    }


def analyse_path(path) -> Findings:
    """Load build/capture.npz (via model.capture.Capture, which validates it) and analyse it."""
    from model.capture import Capture

    return analyse(Capture.load(path))


def main(argv: list[str] | None = None) -> int:
    """Print the findings of a capture archive as JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m report.analysis build/capture.npz", file=sys.stderr)
        return 2
    print(json.dumps(analyse_path(argv[0]).to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
