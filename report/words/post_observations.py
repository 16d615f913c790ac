"""Hold the original post's reading of each layer, restated as hypotheses, against this run's numbers.

Use: `POST_OBSERVATIONS[name]` is what the post saw in a layer ("text", in the edition being written) and the
kinds of channel that reading implies ("expected"); `comparison_sentences(layer)` says where this run agrees and
where it differs (for conv5 and conv6 with `event_sentences`, the steps at which the maps resembled the input and
grew distinct). Both take a `LayerFindings`. POST_PLATEAU_STEPS is the post's loss plateau. The words are
templates/words/post.txt.j2's; this module chooses which to say and with which numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from report.numbers.findings import CHANNEL_KINDS, ChannelFindings, LayerFindings
from report.numbers.reference_maps import EDGE_KINDS
from report.numbers.thresholds import DISTINCT_MAX_R, NEAR_STEPS, RESEMBLES_MIN_R
from report.voice import say

# The kinds of channel each of the post's readings implies (copies, single-orientation edge detectors, unnamed
# ones); what the post saw is the macro `observation` of templates/words/post.txt.j2.
POST_EXPECTED = {
    "conv1": {"copy": 2, "edge": 2},
    "conv2": {"copy": 4},
    "conv3": {"edge": 2, "copy": 6},
    "conv4": {"edge": 6, "copy": 2},
    "conv5": {"other": 16},
    "conv6": {"other": 16},
}

POST_BLOB_STEP = 70  # the post's "blurry blobs by about step 70" (conv5)

COUNTS_DUPLICATES = {"conv2"}  # layers whose comparison with the post already says how many are near-duplicates

POST_LIKE = {"conv6": "conv5"}  # the post described conv6 as behaving like conv5: said "as in conv5" where it does

POST_PLATEAU_STEPS = 60  # the post's metrics sat at chance for about the first 60 steps


class _Observations(Mapping):
    """The post's reading per layer name: {"text", "expected"}, the text in the edition being written."""

    def __getitem__(self, name: str) -> dict:
        expected = POST_EXPECTED[name]
        return {"text": say("post", "observation", layer=name), "expected": expected}

    def __iter__(self) -> Iterator[str]:
        return iter(POST_EXPECTED)

    def __len__(self) -> int:
        return len(POST_EXPECTED)


POST_OBSERVATIONS = _Observations()


def comparison_sentences(layer: LayerFindings, like: LayerFindings | None = None) -> list[str]:
    """Hold the post's reading of this layer against the run's numbers.

    like: the layer the post said this one behaves like (POST_LIKE), when the run has it; where both layers' maps
    resembled the input and grew distinct alike, the second says so in one sentence instead of repeating the first's.
    """
    expected = POST_EXPECTED.get(layer.name)
    if expected is None:
        return []
    counts = layer.counts
    post_width = sum(expected.values())
    if layer.num_channels != post_width:
        verdict = "width"
    elif all(counts.get(kind, 0) == value for kind, value in expected.items()):
        verdict = "agrees"
    else:
        verdict = "differs"
    sentences = [say("post", "reading", layer=layer.name, verdict=verdict, post_width=post_width,
                     width=layer.num_channels, expected=expected,
                     expected_kinds=[kind for kind in CHANNEL_KINDS if kind in expected], counts=counts,
                     kinds=[kind for kind in CHANNEL_KINDS if kind in expected or counts.get(kind, 0)])]

    name = layer.name
    if name == "conv2":
        largest = max((len(group) for group in layer.duplicate_groups), default=0)
        sentences.append(say("post", "near_identical", largest=largest))
    elif name == "conv3":
        horizontal = [ch for ch in layer.channels if ch.kind == "edge" and ch.best_edge == "horizontal"]
        sides = {ch.edge_side for ch in horizontal}
        if sides == {"top", "bottom"}:
            sentences.append(say("post", "both_sides", edges=_edge_channels(horizontal)))
        elif sides:
            sentences.append(say("post", "one_side", top="top" in sides, edges=_edge_channels(horizontal)))
        else:
            strongest = max(layer.channels, key=lambda ch: abs(ch.edge_r["horizontal"]))
            sentences.append(say("post", "no_side", strongest=strongest.channel,
                                 r=strongest.edge_r["horizontal"]))
    elif name == "conv4":
        detectors = [ch for ch in layer.channels if ch.kind == "edge"]
        orientations = sorted({ch.best_edge for ch in detectors}, key=EDGE_KINDS.index)
        sentences.append(say("post", "angles", orientations=orientations, edges=_edge_channels(detectors)))
    if name in ("conv5", "conv6"):
        sentences.extend(event_sentences(layer, like if like is not None and POST_LIKE.get(name) == like.name
                                         else None))
    return sentences


def _when(layer: LayerFindings) -> str | None:
    """Whether the layer's maps resembled the input close to, earlier or later than the post's step (None: never)."""
    resembles = layer.resembles_input_step
    if resembles is None:
        return None
    if abs(resembles - POST_BLOB_STEP) <= NEAR_STEPS:
        return "close"
    return "earlier" if resembles < POST_BLOB_STEP else "later"


def _final_pair(layer: LayerFindings) -> float:
    """The mean |r| between the layer's channels at the last step."""
    return layer.timeline["pair_mean_abs_r"][-1] if layer.timeline["pair_mean_abs_r"] else 0.0


def event_sentences(layer: LayerFindings, like: LayerFindings | None = None) -> list[str]:
    """Say when the layer's maps resembled the input and whether they became distinct from each other.

    like: the layer the post compared this one with; when its maps resembled the input in the same way (close to,
    earlier or later than the post's step, or never) and its channels became distinct, or not, alike, one sentence
    says "as in" that layer with this layer's own steps and numbers.
    """
    # When the maps gained contrast is said by the layer's settling sentence (report.words.layer_text).
    resembles, when = layer.resembles_input_step, _when(layer)
    if (like is not None and layer.num_channels > 1 and like.num_channels > 1 and _when(like) == when
            and (like.distinct_step is None) == (layer.distinct_step is None)):
        return [say("post", "like_events", like=like.name, step=resembles, when=when, distinct=layer.distinct_step,
                    final=_final_pair(layer))]
    sentences = [say("post", "resembled", step=resembles, min_r=RESEMBLES_MIN_R, blob=POST_BLOB_STEP, when=when)]
    if layer.num_channels > 1:
        sentences.append(say("post", "distinct", step=layer.distinct_step, final=_final_pair(layer),
                             max_r=DISTINCT_MAX_R))
    return sentences


def _edge_channels(channels: list[ChannelFindings]) -> list[dict]:
    """Return edge channels with their side and the number that made them edge detectors (filter score or r)."""
    return [{"channel": ch.channel, "side": ch.edge_side, "score": ch.filter.edge}
            if ch.kind_basis == "filter" and ch.filter else
            {"channel": ch.channel, "side": ch.edge_side, "r": ch.best_edge_r}
            for ch in channels]
