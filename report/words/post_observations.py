"""Hold the original post's reading of each layer, restated as hypotheses, against this run's numbers.

Use: `POST_OBSERVATIONS[name]` is what the post saw in a layer and the kinds of channel that reading implies;
`comparison_sentences(layer)` says where this run agrees and where it differs (for conv5 and conv6 with
`event_sentences`, the steps at which the maps resembled the input and grew distinct).
Both take a `LayerFindings`. POST_PLATEAU_STEPS is the post's loss plateau.
"""

from __future__ import annotations

from report.numbers.findings import CHANNEL_KINDS, ChannelFindings, LayerFindings
from report.numbers.reference_maps import EDGE_KINDS
from report.numbers.thresholds import DISTINCT_MAX_R, NEAR_STEPS, RESEMBLES_MIN_R
from report.words.wording import ORIENTATIONS, channel_label, kind_phrase, number, r_value, series, signed

# What the post saw per layer, restated in the project's own words as hypotheses, with the kinds of
# channel each reading implies (copies, single-orientation edge detectors, unnamed ones).
POST_OBSERVATIONS = {
    "conv1": {
        "text": "The post read two of the four channels as maps of stroke thickness and the other two as edge "
                "detectors, and judged the layer a lightly annotated copy of the digit rather than a bank of "
                "textbook edge filters.",
        "expected": {"copy": 2, "edge": 2},
    },
    "conv2": {
        "text": "The post saw a second near-copy of the input: three channels almost identical to one another "
                "and to conv1's edge-like channels, and a fourth that looked like a blurred copy.",
        "expected": {"copy": 4},
    },
    "conv3": {
        "text": "At half resolution the post expected the first real features: one channel marking the "
                "underside of horizontal strokes, one their top edge, and copies of the input for the rest.",
        "expected": {"edge": 2, "copy": 6},
    },
    "conv4": {
        "text": "The post described sharper edge features at several angles, such as the tops of horizontal "
                "strokes and diagonals, with two channels still copying the input.",
        "expected": {"edge": 6, "copy": 2},
    },
    "conv5": {
        "text": "At 7x7 the post saw faint, featureless maps at first, blurry digit-like blobs by about step 70, "
                "and clearly different channels by the end, none of which it could name.",
        "expected": {"other": 16},
    },
    "conv6": {
        "text": "The post described conv6 as behaving like conv5; it could show only the last frame.",
        "expected": {"other": 16},
    },
}

POST_BLOB_STEP = 70  # the post's "blurry blobs by about step 70" (conv5)

POST_PLATEAU_STEPS = 60  # the post's metrics sat at chance for about the first 60 steps


def comparison_sentences(layer: LayerFindings) -> list[str]:
    """Hold the post's reading of this layer against the run's numbers."""
    post = POST_OBSERVATIONS.get(layer.name)
    if post is None:
        return []
    counts = layer.counts
    expected = post["expected"]
    kinds = [kind for kind in CHANNEL_KINDS if kind in expected or counts.get(kind, 0)]
    expected_text = kind_phrase(expected, [kind for kind in CHANNEL_KINDS if kind in expected])
    actual_text = kind_phrase(counts, kinds)
    prefix = "Counting its thickness maps as copies, the post's reading" if layer.name == "conv1" else \
        "The post's reading"
    post_width = sum(expected.values())
    if layer.num_channels != post_width:
        sentences = [f"The post's {layer.name} had {post_width} channels and this run's has "
                     f"{layer.num_channels}, so only the kinds compare: the post's reading implies "
                     f"{expected_text}; this run has {actual_text}."]
    elif all(counts.get(kind, 0) == value for kind, value in expected.items()):
        sentences = [f"{prefix} implies {expected_text}; this run agrees: {actual_text}."]
    else:
        sentences = [f"{prefix} implies {expected_text}; this run has {actual_text}."]

    name = layer.name
    if name == "conv2":
        largest = max((len(group) for group in layer.duplicate_groups), default=0)
        if largest == 3:
            sentences.append("The post's three near-identical channels: here too three channels are near-duplicates.")
        elif largest > 3:
            sentences.append(f"The post's three near-identical channels: here {number(largest)} channels are "
                             f"near-duplicates, more than the post saw.")
        elif largest == 2:
            sentences.append("The post's three near-identical channels: here only two channels are near-duplicates.")
        else:
            sentences.append("The post's three near-identical channels: here no two channels are near-duplicates.")
    elif name == "conv3":
        horizontal = [ch for ch in layer.channels if ch.kind == "edge" and ch.best_edge == "horizontal"]
        sides = {ch.edge_side for ch in horizontal}
        if sides == {"top", "bottom"}:
            sentences.append("Like the post, this run has both a top-edge and an underside channel for horizontal "
                             f"strokes ({_edge_channels(horizontal)}).")
        elif sides:
            side = "top-edge" if "top" in sides else "underside"
            missing = "underside" if "top" in sides else "top-edge"
            sentences.append(f"Of the post's two horizontal-stroke channels this run has only the {side} one "
                             f"({_edge_channels(horizontal)}), no {missing} one.")
        else:
            strongest = max(layer.channels, key=lambda ch: abs(ch.edge_r["horizontal"]))
            sentences.append(f"Neither of the post's horizontal-stroke channels appears: no channel detects "
                             f"horizontal edges (the strongest, {channel_label(strongest.channel)}, has "
                             f"|r| = {r_value(strongest.edge_r['horizontal'])}).")
    elif name == "conv4":
        detectors = [ch for ch in layer.channels if ch.kind == "edge"]
        orientations = sorted({ch.best_edge for ch in detectors}, key=EDGE_KINDS.index)
        if len(orientations) >= 2:
            sentences.append(f"As the post says, the edge detectors cover several angles: "
                             f"{series([ORIENTATIONS[o] for o in orientations])} ({_edge_channels(detectors)}).")
        elif len(detectors) >= 2:
            sentences.append(f"Unlike the post's several angles, the {number(len(detectors))} edge detectors here "
                             f"share one orientation, {ORIENTATIONS[orientations[0]]} "
                             f"({_edge_channels(detectors)}).")
        elif detectors:
            sentences.append(f"Unlike the post's several angles, this run has a single edge detector here, for "
                             f"{ORIENTATIONS[orientations[0]]} edges ({_edge_channels(detectors)}).")
        else:
            sentences.append("Unlike the post, no channel here detects edges at any angle.")
    if name in ("conv5", "conv6"):
        sentences.extend(event_sentences(layer))
    return sentences


def event_sentences(layer: LayerFindings) -> list[str]:
    """Say when the layer's maps resembled the input and whether they became distinct from each other."""
    sentences = []
    # When the maps gained contrast is said by the layer's settling sentence (report.words.layer_text).
    resembles = layer.resembles_input_step
    if resembles is None:
        sentences.append(f"Its maps never resembled the input (median |r| with it stayed below {RESEMBLES_MIN_R}).")
    else:
        if abs(resembles - POST_BLOB_STEP) <= NEAR_STEPS:
            when = f"close to the post's step {POST_BLOB_STEP}"
        elif resembles < POST_BLOB_STEP:
            when = f"earlier than the post's step {POST_BLOB_STEP}"
        else:
            when = f"later than the post's step {POST_BLOB_STEP}"
        sentences.append(f"Its maps resembled the input once they had contrast, from step {resembles} (median |r| "
                         f"\u2265 {RESEMBLES_MIN_R}), {when}.")
    final_pair = layer.timeline["pair_mean_abs_r"][-1] if layer.timeline["pair_mean_abs_r"] else 0.0
    if layer.num_channels > 1:
        if layer.distinct_step is None:
            sentences.append(f"The channels never became distinct from one another: their mean |r| with each other "
                             f"is still {r_value(final_pair)} at the end (distinct means \u2264 {DISTINCT_MAX_R}).")
        else:
            sentences.append(f"The channels became distinct from step {layer.distinct_step} (mean |r| with each "
                             f"other \u2264 {DISTINCT_MAX_R}; {r_value(final_pair)} at the end).")
    return sentences


def _edge_channels(channels: list[ChannelFindings]) -> str:
    """List edge channels with their side and the number that made them edge detectors (filter score or r)."""
    def evidence(ch: ChannelFindings) -> str:
        if ch.kind_basis == "filter" and ch.filter:
            return f"edge score {signed(ch.filter.edge)}"
        return f"r = {signed(ch.best_edge_r)}"
    return "; ".join(f"{channel_label(ch.channel)}, {ch.edge_side} side, {evidence(ch)}" for ch in channels)

