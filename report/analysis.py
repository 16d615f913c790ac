"""Measure what each conv channel of a captured run does: the numbers behind every sentence of the article.

Run it on an archive: `python -m report.analysis build/capture.npz` prints the findings as JSON.
From code: `analyse(capture)` takes a `model.capture.Capture` (or any object with the same attributes)
and returns `Findings`; `Findings.to_dict()` is plain JSON-able data. Everything is pure numpy and
recomputable from `build/capture.npz`; nothing is rounded here (the commentary rounds for display).

How the measures are defined (the thresholds are the module constants below; `thresholds()` lists
them with their explanations for the page's appendix):

- Reference maps. The probe images are scaled to [0, 1] (the model is fed x / 255) and brought to each
  layer's resolution by area averaging (2x2 blocks for 14x14, 4x4 for 7x7): the "pooled input". Edge
  maps are 3x3 Sobel responses of the pooled input, computed AT THE LAYER'S RESOLUTION with 'same'
  zero padding, because a 3x3 filter at that resolution is what the layer could apply to a copy of the
  input it receives. Four orientations, each signed (image rows run downwards):
  `horizontal` (positive where ink lies below background, the top edge of a stroke; negative at its
  underside), `vertical` (positive at the left edge of a stroke, negative at its right edge),
  `diagonal_rising` ("/" edges; positive on the upper-left side of a stroke, negative lower-right) and
  `diagonal_falling` ("\\" edges; positive upper-right, negative lower-left).
- Per channel, at the final recorded step, over all probes x positions: Pearson r with the pooled input
  (`copy_r`; negative means an inverted copy) and with each edge map (`edge_r`); `linear_r`, the
  multiple correlation of the best 3x3 linear filter (plus offset) of the pooled input, i.e. how far
  the channel is just some local linear filter of the picture; its spread (standard deviation) and the
  share of values with |tanh| > SATURATION_LEVEL. Its kind is the first that applies of: idle (spread
  < IDLE_MAX_STD), saturated (share >= SATURATED_MIN_SHARE), edge (best |edge r| >= EDGE_MIN_R and
  above |copy r|), copy (|copy r| >= COPY_MIN_R), other.
- Settling, per channel: `settle_step` is the first recorded step from which the channel's whole map
  (all probes) stays within max(SETTLE_TOLERANCE x its final spread, SETTLE_FLOOR) of its final map,
  as an RMS difference; `pattern_step` is the first step from which its map keeps a correlation of at
  least PATTERN_MIN_R with its final map (the picture is in place, its contrast may still grow).
- Per layer: counts per kind, medians of the active (non-idle) channels' settle and pattern steps,
  |r| between its channels' final maps (near-duplicates at |r| >= DUPLICATE_MIN_R), each channel's best
  match in the previous layer (area-averaged to this resolution), and a per-step timeline (median
  spread, median |copy r|, mean |r| between channels) from which three events are read:
  `informative_step` (the median spread stays >= INFORMATIVE_SHARE of its final value),
  `resembles_input_step` (first informative step with median |copy r| >= RESEMBLES_MIN_R) and
  `distinct_step` (informative and mean |r| between channels <= DISTINCT_MAX_R from then on).
- Per run: final test accuracy and loss (meta's whole-test-set numbers when present, else the last test
  point), the early plateau of the training loss at chance (ln of the number of classes), and the numbers
  behind the post's three conclusions: kinds of the conv1-4 channels (1); how many conv5-6 channels are
  unnamed and how much they overlap (2); and per layer whether its median pattern step comes within
  EARLY_SHARE of the time between its informative step and the end, plus the idle channels (3).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

# --- Thresholds ------------------------------------------------------------------------------------

# A channel copies the input when |r| with the pooled input is at least this: the input alone then
# accounts for about half (r^2 = 0.49) or more of the channel's variation across probes and positions.
COPY_MIN_R = 0.7
# A copy with |r| at least this is called "close" in the text, below it "rough" (a blurred or partial copy).
CLOSE_COPY_MIN_R = 0.9
# A channel is an edge detector when |r| with its best edge map is at least this (and above its copy |r|);
# lower than COPY_MIN_R because a Sobel filter is only one idealised edge filter among many.
EDGE_MIN_R = 0.6
# A channel is idle when its final map's standard deviation (tanh units) is below this: about 1.5% of
# the -1..1 colour scale, invisible in the animation; at step 0 (N(0, 0.01) weights) channels spread below 0.01.
IDLE_MAX_STD = 0.03
# A value is saturated when |tanh| exceeds this (the pre-activation is beyond +-1.47, where tanh's slope,
# and so the gradient, has fallen below a fifth of its maximum).
SATURATION_LEVEL = 0.9
# A channel is saturated when at least this share of its final values are saturated (stuck almost everywhere).
SATURATED_MIN_SHARE = 0.9
# A channel has settled once its map stays within this share of its final spread (RMS difference).
SETTLE_TOLERANCE = 0.1
# The settle tolerance is never below this (tanh units), so that faint channels are not held to float16 noise.
SETTLE_FLOOR = 0.01
# A channel's pattern is in place once its map keeps at least this correlation with its final map.
PATTERN_MIN_R = 0.95
# Two channels (or a channel and one of the previous layer) are near-duplicates at |r| of at least this.
DUPLICATE_MIN_R = 0.9
# A layer is informative once its channels' median spread stays at least this share of its final value.
INFORMATIVE_SHARE = 0.5
# An informative layer resembles the input once its channels' median |copy r| reaches this.
RESEMBLES_MIN_R = 0.5
# A layer's channels are distinct once the mean |r| between them stays at most this.
DISTINCT_MAX_R = 0.5
# The training loss is at chance while it stays within this of ln(number of classes).
PLATEAU_TOLERANCE = 0.05
# A step count within this many steps of the post's (its ~60-step plateau, its blobs by ~step 70) is "close to it".
NEAR_STEPS = 20
# A share of channels above this counts as "most" (conclusions 1 and 2).
MAJORITY_SHARE = 0.5
# A share of channels at most this counts as "few" (conclusions 1 and 2).
MINORITY_SHARE = 0.25
# The test accuracy the post claims for its model ("above 95%"; conclusion 1).
CLAIMED_ACCURACY = 0.95
# A layer settled early when its median pattern step comes at most this share of the way from the step
# its maps gained contrast (its informative step) to the end of the run (conclusion 3).
EARLY_SHARE = 0.5

_EXPLANATIONS = {
    "COPY_MIN_R": "a channel copies the input when |r| with the input (pooled to the layer's resolution) is at "
                  "least this",
    "CLOSE_COPY_MIN_R": "a copy with |r| of at least this is called close, below it rough",
    "EDGE_MIN_R": "a channel is an edge detector when |r| with its best Sobel edge map is at least this and above "
                  "its copy |r|",
    "IDLE_MAX_STD": "a channel is idle when its final map's standard deviation over probes and positions is below "
                    "this (tanh units)",
    "SATURATION_LEVEL": "a value is saturated when |tanh| exceeds this",
    "SATURATED_MIN_SHARE": "a channel is saturated when at least this share of its final values are saturated",
    "SETTLE_TOLERANCE": "a channel has settled from the step after which its map (all probes) stays within this "
                        "share of its final spread of its final map (RMS difference)",
    "SETTLE_FLOOR": "the settle tolerance is never smaller than this (tanh units)",
    "PATTERN_MIN_R": "a channel's pattern is in place from the step after which its map keeps at least this "
                     "correlation with its final map",
    "DUPLICATE_MIN_R": "two channels are near-duplicates when their final maps correlate at |r| of at least this",
    "INFORMATIVE_SHARE": "a layer is informative from the step after which its channels' median spread stays at "
                         "least this share of its final value",
    "RESEMBLES_MIN_R": "an informative layer resembles the input once its channels' median |r| with the input "
                       "reaches this",
    "DISTINCT_MAX_R": "a layer's channels are distinct from the step after which their mean |r| with each other "
                      "stays at most this",
    "PLATEAU_TOLERANCE": "the training loss is at chance while it stays within this of ln(number of classes)",
    "NEAR_STEPS": "a step within this many steps of one the post reports counts as close to it",
    "MAJORITY_SHARE": "a share of channels above this counts as most",
    "MINORITY_SHARE": "a share of channels of at most this counts as few",
    "CLAIMED_ACCURACY": "the test accuracy the post claims for its model",
    "EARLY_SHARE": "a layer settled early when its median pattern step comes at most this share of the way from "
                   "its informative step to the last step",
}

EDGE_KINDS = ("horizontal", "vertical", "diagonal_rising", "diagonal_falling")
# The side of a stroke where each signed edge map is positive, and where it is negative.
EDGE_SIDES = {
    "horizontal": ("top", "bottom"),
    "vertical": ("left", "right"),
    "diagonal_rising": ("upper-left", "lower-right"),
    "diagonal_falling": ("upper-right", "lower-left"),
}
CHANNEL_KINDS = ("copy", "edge", "other", "idle", "saturated")
EARLY_LAYERS = ("conv1", "conv2", "conv3", "conv4")
LATE_LAYERS = ("conv5", "conv6")

# Sobel kernels applied as a correlation: output[y, x] = sum kernel[i, j] * input[y + i - 1, x + j - 1].
_SOBEL = {
    "horizontal": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64),  # below minus above
    "vertical": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64),  # right minus left
    "diagonal_rising": np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], np.float64),  # lower-right minus upper-left
    "diagonal_falling": np.array([[0, -1, -2], [1, 0, -1], [2, 1, 0]], np.float64),  # lower-left minus upper-right
}


def thresholds() -> dict[str, tuple[float, str]]:
    """Return every named threshold as {name: (value, explanation)}, in a fixed order, for the appendix."""
    module = sys.modules[__name__]
    return {name: (getattr(module, name), text) for name, text in _EXPLANATIONS.items()}


# --- Findings --------------------------------------------------------------------------------------


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


@dataclass
class Findings:
    """Everything the article's commentary states about one run."""

    steps: list[int]  # recorded steps
    last_step: int
    num_probes: int
    probe_labels: list[int]
    layers: list[LayerFindings]
    run: dict  # final metrics, plateau and the numbers behind the three conclusions
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
    """Average (N, H0, W0) images over the pixel blocks of a (height, width) grid; return (N, height, width)."""
    images = np.asarray(images, np.float64)
    if height > images.shape[1] or width > images.shape[2]:
        raise ValueError(f"cannot pool {images.shape[1:]} images up to {height}x{width}; layers must not be "
                         f"larger than the input")
    rows = (np.arange(height) * images.shape[1]) // height
    cols = (np.arange(width) * images.shape[2]) // width
    summed = np.add.reduceat(np.add.reduceat(images, rows, axis=1), cols, axis=2)
    row_counts = np.diff(np.append(rows, images.shape[1]))
    col_counts = np.diff(np.append(cols, images.shape[2]))
    return summed / (row_counts[:, None] * col_counts[None, :])


def shifted_stack(images: np.ndarray) -> np.ndarray:
    """Return the 9 zero-padded 3x3 neighbours of each pixel of (N, H, W) images as (9, N, H, W), row-major."""
    padded = np.pad(np.asarray(images, np.float64), ((0, 0), (1, 1), (1, 1)))
    height, width = images.shape[1:]
    return np.stack([padded[:, i:i + height, j:j + width] for i in range(3) for j in range(3)])


def correlate_same(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Apply a 3x3 kernel to (N, H, W) images as a correlation with 'same' zero padding."""
    return np.tensordot(np.asarray(kernel, np.float64).ravel(), shifted_stack(images), axes=1)


def input_maps(probe_images: np.ndarray, height: int, width: int) -> dict[str, np.ndarray]:
    """Return the pooled input ("copy") and its signed edge maps (EDGE_KINDS) at one resolution, each (N, H, W)."""
    scaled = np.asarray(probe_images, np.float64) / 255.0  # the model's input scale
    pooled = area_pool(scaled, height, width)
    maps = {"copy": pooled}
    for kind in EDGE_KINDS:
        maps[kind] = correlate_same(pooled, _SOBEL[kind])
    return maps


# --- Statistics ------------------------------------------------------------------------------------


def _standardise(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (values - mean) / norm along `axis` (0 where the norm is 0) and the norm (keepdims)."""
    centred = values - values.mean(axis=axis, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=axis, keepdims=True))
    return centred / np.where(norm > 0, norm, 1), norm


def channel_correlations(maps: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Return the Pearson r of each channel of (N, H, W, C) maps with an (N, H, W) reference; 0 where undefined."""
    maps = np.asarray(maps, np.float64)
    unit, _ = _standardise(maps.reshape(-1, maps.shape[-1]), axis=0)
    ref, _ = _standardise(np.asarray(reference, np.float64).reshape(-1, 1), axis=0)
    return (unit * ref).sum(axis=0)


def pairwise_correlations(maps: np.ndarray) -> np.ndarray:
    """Return the (C, C) Pearson r between the channels of (N, H, W, C) maps; 0 where undefined."""
    maps = np.asarray(maps, np.float64)
    unit, _ = _standardise(maps.reshape(-1, maps.shape[-1]), axis=0)
    return unit.T @ unit


def linear_fit_r(maps: np.ndarray, pooled_input: np.ndarray) -> np.ndarray:
    """Return per channel the multiple r of the best 3x3 linear filter plus offset of the (N, H, W) input."""
    maps = np.asarray(maps, np.float64)
    targets = maps.reshape(-1, maps.shape[-1])  # (P, C)
    design = np.concatenate([np.ones((targets.shape[0], 1)),
                             shifted_stack(pooled_input).reshape(9, -1).T], axis=1)  # (P, 10)
    coefficients, *_ = np.linalg.lstsq(design, targets, rcond=None)
    residual = ((targets - design @ coefficients) ** 2).sum(axis=0)
    total = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
    explained = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
    return np.sqrt(np.clip(explained, 0.0, 1.0))


def first_step_staying(condition: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Return per column of a (T, C) boolean array the first step from which it stays true (the last step if never)."""
    condition = np.asarray(condition, bool)
    steps = np.asarray(steps)
    # A condition holds from row t onwards exactly where the reversed cumulative AND is true.
    holds_after = np.flip(np.logical_and.accumulate(np.flip(condition, 0), axis=0), 0)
    first = np.where(holds_after.any(axis=0), holds_after.argmax(axis=0), len(steps) - 1)
    return steps[first]


def _settle_from(flat: np.ndarray, unit: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Settle and pattern steps from the (T, P, C) series and its per-step standardised form."""
    final = flat[-1]  # (P, C)
    difference = flat - final[None]
    rms = np.sqrt(np.einsum("tpc,tpc->tc", difference, difference, dtype=np.float64) / flat.shape[1])  # (T, C)
    tolerance = np.maximum(SETTLE_TOLERANCE * final.astype(np.float64).std(axis=0), SETTLE_FLOOR)
    pattern_r = np.einsum("tpc,pc->tc", unit, unit[-1], dtype=np.float64)  # (T, C)
    return first_step_staying(rms <= tolerance, steps), first_step_staying(pattern_r >= PATTERN_MIN_R, steps)


def _first_step_staying_or_none(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step from which a (T,) condition stays true, or None if it is false at the end."""
    condition = np.asarray(condition, bool)
    if not condition[-1]:
        return None
    return int(first_step_staying(condition[:, None], steps)[0])


def _first_step_reaching(condition: np.ndarray, steps: np.ndarray) -> int | None:
    """Return the first step at which a (T,) condition is true, or None if never."""
    hits = np.flatnonzero(condition)
    return int(np.asarray(steps)[hits[0]]) if hits.size else None


def classify(copy_r: float, best_edge_r: float, spread: float, saturated_share: float) -> str:
    """Name a channel's kind: the first that applies of idle, saturated, edge, copy, other."""
    if spread < IDLE_MAX_STD:
        return "idle"
    if saturated_share >= SATURATED_MIN_SHARE:
        return "saturated"
    if abs(best_edge_r) >= EDGE_MIN_R and abs(best_edge_r) > abs(copy_r):
        return "edge"
    if abs(copy_r) >= COPY_MIN_R:
        return "copy"
    return "other"


def _duplicate_groups(pairs: np.ndarray) -> list[list[int]]:
    """Return the groups (size >= 2) of channels connected by |r| >= DUPLICATE_MIN_R, in channel order."""
    linked = np.abs(pairs) >= DUPLICATE_MIN_R
    seen, groups = set(), []
    for start in range(pairs.shape[0]):
        if start in seen:
            continue
        group, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for other in np.flatnonzero(linked[node]).tolist():
                if other not in group:
                    group.add(other)
                    frontier.append(other)
        seen |= group
        if len(group) > 1:
            groups.append(sorted(group))
    return groups


def _median(values: list[float]) -> float | None:
    """Return the median as a float, or None for no values."""
    return float(np.median(values)) if len(values) else None


def _share(part: int, whole: int) -> float:
    """Return part / whole, 0.0 when whole is 0."""
    return part / whole if whole else 0.0


# --- Layers ----------------------------------------------------------------------------------------


def analyse_layer(name: str, series: np.ndarray, steps: np.ndarray, probe_images: np.ndarray,
                  previous: tuple[str, np.ndarray] | None = None) -> LayerFindings:
    """Measure one layer's (T, N, H, W, C) series; `previous` is (name, final (N, H', W', C') maps) of the layer before."""
    series = np.asarray(series)
    if series.ndim != 5:
        raise ValueError(f"layer {name}: expected activations shaped (T, N, H, W, C), got {series.shape}")
    count, probes, height, width, channels = series.shape
    steps = np.asarray(steps)
    if len(steps) != count or len(probe_images) != probes:
        raise ValueError(f"layer {name}: {count} snapshots of {probes} probes, but {len(steps)} steps and "
                         f"{len(probe_images)} probe images; pass the capture's own steps and probe images")

    flat = series.astype(np.float32).reshape(count, -1, channels)  # (T, P, C)
    finite = np.isfinite(flat).all(axis=(1, 2))
    if not finite.all():
        raise ValueError(f"layer {name} has non-finite activations from step {int(steps[np.argmin(finite)])}: the "
                         f"run diverged; train again with a smaller learning_rate")
    unit, norm = _standardise(flat, axis=1)  # per step and channel over probes x positions
    final = flat[-1].astype(np.float64)  # (P, C)
    final_unit, _ = _standardise(final, axis=0)
    references = input_maps(probe_images, height, width)
    reference_units = {key: _standardise(value.reshape(-1, 1), axis=0)[0] for key, value in references.items()}
    copy_r = (final_unit * reference_units["copy"]).sum(axis=0)
    edge_r = {kind: (final_unit * reference_units[kind]).sum(axis=0) for kind in EDGE_KINDS}
    linear_r = linear_fit_r(final.reshape(probes, height, width, channels), references["copy"])
    spread = final.std(axis=0)
    mean = final.mean(axis=0)
    saturated_share = (np.abs(final) > SATURATION_LEVEL).mean(axis=0)
    settle, pattern = _settle_from(flat, unit, steps)
    pairs = final_unit.T @ final_unit  # (C, C)

    cross = None
    if previous is not None:
        previous_name, previous_final = previous
        moved = np.moveaxis(np.asarray(previous_final, np.float64), -1, 0)  # (C', N, H', W')
        pooled = np.stack([area_pool(plane, height, width) for plane in moved], axis=-1)  # (N, H, W, C')
        previous_unit, _ = _standardise(pooled.reshape(-1, pooled.shape[-1]), axis=0)
        cross = final_unit.T @ previous_unit  # (C, C')
    else:
        previous_name = None

    channel_findings = []
    for c in range(channels):
        edges = {kind: float(edge_r[kind][c]) for kind in EDGE_KINDS}
        best_edge = max(EDGE_KINDS, key=lambda kind: abs(edges[kind]))  # ties: the first in EDGE_KINDS
        best_r = edges[best_edge]
        positive_side, negative_side = EDGE_SIDES[best_edge]
        if channels > 1:
            others = np.abs(pairs[c]).copy()
            others[c] = -1.0
            similar = int(np.argmax(others))
            similar_r = float(pairs[c, similar])
        else:
            similar, similar_r = None, 0.0
        if cross is not None and cross.shape[1]:
            previous_channel = int(np.argmax(np.abs(cross[c])))
            previous_r = float(cross[c, previous_channel])
        else:
            previous_channel, previous_r = None, 0.0
        channel_findings.append(ChannelFindings(
            layer=name, channel=c,
            kind=classify(float(copy_r[c]), best_r, float(spread[c]), float(saturated_share[c])),
            copy_r=float(copy_r[c]), edge_r=edges, best_edge=best_edge, best_edge_r=best_r,
            edge_side=positive_side if best_r >= 0 else negative_side, linear_r=float(linear_r[c]),
            spread=float(spread[c]), mean=float(mean[c]), saturated_share=float(saturated_share[c]),
            settle_step=int(settle[c]), pattern_step=int(pattern[c]),
            most_similar_channel=similar, most_similar_r=similar_r,
            previous_layer_channel=previous_channel, previous_layer_r=previous_r,
        ))

    if channels > 1:
        upper = np.triu_indices(channels, k=1)
        abs_pairs = np.abs(pairs[upper])
        best_pair = int(np.argmax(abs_pairs))
        pair_mean, pair_max = float(abs_pairs.mean()), float(abs_pairs[best_pair])
        pair_max_channels = [int(upper[0][best_pair]), int(upper[1][best_pair])]
    else:
        pair_mean, pair_max, pair_max_channels = 0.0, 0.0, []

    timeline = _timeline(unit, norm, reference_units["copy"])
    spread_series = np.asarray(timeline["median_spread"])
    informative = spread_series >= INFORMATIVE_SHARE * spread_series[-1]
    # Informative from a step on: the reversed cumulative AND; resembling and distinctness need it too.
    informative_after = np.flip(np.logical_and.accumulate(np.flip(informative)))
    active = [ch for ch in channel_findings if ch.kind != "idle"]
    return LayerFindings(
        name=name, height=height, width=width, num_channels=channels,
        counts={kind: sum(ch.kind == kind for ch in channel_findings) for kind in CHANNEL_KINDS},
        channels=channel_findings,
        median_settle_step=_median([ch.settle_step for ch in active]),
        median_pattern_step=_median([ch.pattern_step for ch in active]),
        median_linear_r=float(np.median(linear_r)),
        pair_mean_abs_r=pair_mean, pair_max_abs_r=pair_max, pair_max=pair_max_channels,
        duplicate_groups=_duplicate_groups(pairs),
        previous_layer=previous_name,
        duplicates_of_previous=[{"channel": ch.channel, "previous_channel": ch.previous_layer_channel,
                                 "r": ch.previous_layer_r}
                                for ch in channel_findings if abs(ch.previous_layer_r) >= DUPLICATE_MIN_R],
        informative_step=_first_step_staying_or_none(informative, steps) if spread_series[-1] > 0 else None,
        resembles_input_step=_first_step_reaching(
            informative_after & (np.asarray(timeline["median_abs_copy_r"]) >= RESEMBLES_MIN_R), steps),
        distinct_step=_first_step_staying_or_none(
            informative_after & (np.asarray(timeline["pair_mean_abs_r"]) <= DISTINCT_MAX_R), steps)
        if channels > 1 else None,
        timeline=timeline,
    )


def _timeline(unit: np.ndarray, norm: np.ndarray, copy_unit: np.ndarray) -> dict[str, list[float]]:
    """Per step: median channel spread, median |copy r| and mean |r| between channels, from (T, P, C) data."""
    count, points, channels = unit.shape
    spread = norm[:, 0, :].astype(np.float64) / math.sqrt(points)  # (T, C)
    copy = np.abs(np.einsum("tpc,p->tc", unit, copy_unit[:, 0].astype(np.float32), dtype=np.float64))
    if channels > 1:
        pairs = np.abs(np.einsum("tpc,tpd->tcd", unit, unit, dtype=np.float64))
        upper = np.triu_indices(channels, k=1)
        pair_mean = pairs[:, upper[0], upper[1]].mean(axis=1)
    else:
        pair_mean = np.zeros(count)
    return {
        "median_spread": np.median(spread, axis=1).tolist(),
        "median_abs_copy_r": np.median(copy, axis=1).tolist(),
        "pair_mean_abs_r": pair_mean.tolist(),
    }


# --- Run -------------------------------------------------------------------------------------------


def plateau(train_loss: np.ndarray, num_classes: int = 10) -> dict:
    """Return how many initial steps the training loss stayed within PLATEAU_TOLERANCE of ln(num_classes)."""
    loss = np.asarray(train_loss, np.float64)  # loss[k] is the batch loss of step k + 1
    chance = math.log(num_classes)
    outside = np.flatnonzero(np.abs(loss - chance) > PLATEAU_TOLERANCE)
    steps = int(outside[0]) if outside.size else len(loss)
    return {"chance_loss": chance, "tolerance": PLATEAU_TOLERANCE, "steps": steps, "num_steps": len(loss),
            "left_at_step": steps + 1 if outside.size else None}


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
    if not capture.activations:
        raise ValueError("the capture recorded no layers; train again with at least one conv layer recorded")
    layers, previous = [], None
    for name, series in capture.activations.items():
        layers.append(analyse_layer(name, series, steps, capture.probe_images, previous))
        previous = (name, np.asarray(series[-1], np.float64))

    meta = getattr(capture, "meta", None) or {}
    test_accuracy = np.asarray(capture.test_accuracy, np.float64)
    test_loss = np.asarray(capture.test_loss, np.float64)
    if meta.get("final_test_accuracy") is not None:
        accuracy, source = float(meta["final_test_accuracy"]), "whole test set"
    elif test_accuracy.size:
        accuracy, source = float(test_accuracy[-1]), "last test point"
    else:
        accuracy, source = None, "none"
    if meta.get("final_test_loss") is not None:
        loss = float(meta["final_test_loss"])
    else:
        loss = float(test_loss[-1]) if test_loss.size else None

    last_step = int(steps[-1])
    early = [layer for layer in layers if layer.name in EARLY_LAYERS]
    late = [layer for layer in layers if layer.name in LATE_LAYERS]
    conclusion_1 = kind_summary(early)
    conclusion_1["final_test_accuracy"] = accuracy
    run = {
        "final_test_accuracy": accuracy,
        "final_test_loss": loss,
        "accuracy_source": source,
        "last_step": last_step,
        "plateau": plateau(capture.train_loss, _num_classes(capture)),
        "conclusion_1": conclusion_1,
        "conclusion_2": entanglement_summary(late),
        "conclusion_3": settling_summary(layers, last_step),
    }
    return Findings(
        steps=steps.astype(int).tolist(), last_step=last_step, num_probes=int(len(capture.probe_images)),
        probe_labels=np.asarray(capture.probe_labels).astype(int).tolist(), layers=layers, run=run,
        thresholds={name: value for name, (value, _) in thresholds().items()},
    )


def kind_summary(layers: list[LayerFindings]) -> dict:
    """Count channel kinds over several layers (conclusion 1: copies versus edge detectors in conv1-4)."""
    total = sum(layer.num_channels for layer in layers)
    counts = {kind: sum(layer.counts[kind] for layer in layers) for kind in CHANNEL_KINDS}
    return {"layers": [layer.name for layer in layers], "channels": total, "counts": counts,
            "shares": {kind: _share(number, total) for kind, number in counts.items()},
            "median_linear_r": _median([ch.linear_r for layer in layers for ch in layer.channels])}


def entanglement_summary(layers: list[LayerFindings]) -> dict:
    """Measure how nameable and how independent the late layers' channels are (conclusion 2)."""
    summary = kind_summary(layers)
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    unnamed = sum(ch.kind in ("other", "saturated") for ch in active)
    summary.update({
        "active_channels": len(active),
        "unnamed": unnamed,  # active channels that are neither a copy nor a single-orientation edge detector
        "unnamed_share": _share(unnamed, len(active)),
        "median_best_abs_r": _median([max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in active]),
        "pair_mean_abs_r": float(np.mean([layer.pair_mean_abs_r for layer in layers])) if layers else None,
        "pair_mean_abs_r_by_layer": {layer.name: layer.pair_mean_abs_r for layer in layers},
    })
    return summary


def settling_summary(layers: list[LayerFindings], last_step: int) -> dict:
    """Relate each layer's pattern step to the time after its maps gained contrast, and list idle channels (conclusion 3).

    A layer "settled early" when its median pattern step comes at most EARLY_SHARE of the way from its
    informative step (when its maps gained contrast, i.e. when it had learned something) to the last step:
    once learned, the picture stopped changing for the larger part of the rest of training.
    """
    timing = {}
    early_channels = active_channels = 0
    for layer in layers:
        start = layer.informative_step
        limit = None if start is None else start + EARLY_SHARE * (last_step - start)
        pattern = layer.median_pattern_step
        timing[layer.name] = {"informative_step": start, "median_pattern_step": pattern, "early_limit": limit,
                              "early": bool(limit is not None and pattern is not None and pattern <= limit)}
        for ch in layer.channels:
            if ch.kind != "idle":
                active_channels += 1
                early_channels += bool(limit is not None and ch.pattern_step <= limit)
    active = [ch for layer in layers for ch in layer.channels if ch.kind != "idle"]
    return {
        "last_step": last_step,
        "active_channels": active_channels,
        "median_pattern_step": _median([ch.pattern_step for ch in active]),
        "median_settle_step": _median([ch.settle_step for ch in active]),
        "channels_early": early_channels,
        "channels_early_share": _share(early_channels, active_channels),
        "layers": [layer.name for layer in layers],
        "layers_early": [name for name, item in timing.items() if item["early"]],
        "layer_timing": timing,
        "idle_channels": [{"layer": ch.layer, "channel": ch.channel, "spread": ch.spread}
                          for layer in layers for ch in layer.channels if ch.kind == "idle"],
    }


def analyse_path(path) -> Findings:
    """Load a capture archive with model.capture.Capture (which validates it) and analyse it."""
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
