"""Write one layer's part of the article: its kinds of channel, their similarity and settling, its tables.

Use: `layer_commentary(layer, last_step)` returns the plain dict the template shows for one conv layer (the
post's reading, this run's sentences, grouped paragraphs, what to look for in its animation, one sentence
and one table row per channel, and the rows of its filter table when its channels were fitted as filters).
Every function takes a `LayerFindings` / `ChannelFindings`. This module chooses what to say and with which numbers;
the sentences are macros of templates/words/layer.txt.j2, rendered by report.voice.say in the edition being written
(plain text). `words` (report.words.wording.ImageWords, MNIST's strokes of ink by default) names what the probes show.
"""

from __future__ import annotations

from report.numbers.findings import CHANNEL_KINDS, ChannelFindings, DuplicateGroup, LayerFindings
from report.numbers.thresholds import (
    DEAD_ZERO_SHARE,
    DUPLICATE_MIN_R,
    FAINT_MAX_SHARE,
    INFORMATIVE_SHARE,
    SATURATION_LEVEL,
    SETTLED_MIN_CKA,
)
from report.voice import say
from report.words.channel_text import (
    bar_digits,
    baseline_sentence,
    below_bar,
    channel_sentence,
    channel_table,
    copy_bar,
    edge_phrase,
    filter_rows,
    filter_rule,
    filter_sentence,
    shape_range,
    why_not,
)
from report.words.post_observations import COUNTS_DUPLICATES, POST_OBSERVATIONS, comparison_sentences
from report.words.regime_text import idle_reason, regime_sentences, units_sentence
from report.words.wording import DIGIT_WORDS, ImageWords

PEAK_FLOOR = 0.01  # a largest value below this is said as "below 0.01"
SUMMARY_KINDS = ("copy", "silhouette", "edge", "other", "idle", "saturated")  # the order the summary counts them in


def kind_sentences(layer: LayerFindings, *, words: ImageWords = DIGIT_WORDS) -> list[str]:
    """Say how many of the layer's channels are copies, silhouettes, edge detectors, unnamed, idle or saturated, and
    what a copy needs where the layer's baseline raises its bar."""
    channels, total = layer.channels, layer.num_channels
    by_kind = {kind: [ch for ch in channels if ch.kind == kind and not ch.dead] for kind in CHANNEL_KINDS}
    working = [ch for ch in channels if ch.kind not in ("idle", "saturated") and not ch.dead]
    sentences = []
    described = filter_sentence(layer)
    if described:
        sentences.append(described)
    if not layer.spatial:  # 1x1 maps: nothing to compare with the picture
        sentences.append(units_sentence(layer))
        working = []
    bar, digits = copy_bar(layer), bar_digits(layer)
    baseline = baseline_sentence(layer) if working else None
    if baseline:
        sentences.append(baseline)

    copies = by_kind["copy"]
    if copies:
        shaped = all(ch.kind_basis == "filter" for ch in copies)
        inverted = sum((ch.filter.blob if shaped else ch.copy_r) < 0 for ch in copies)
        sentences.append(say("layer", "copies", count=len(copies), total=total, rs=[ch.copy_r for ch in copies],
                             inverted=inverted, bright=words.bright, digits=digits,
                             shapes=shape_range(copies) if shaped else None))
    elif working:
        closest = max(working, key=lambda ch: abs(ch.copy_r))
        sentences.append(say("layer", "no_copy", closest=closest.channel, r=closest.copy_r,
                             why=why_not(closest, "copy", bar, digits)))
    silhouettes = by_kind["silhouette"]
    if silhouettes:
        sentences.append(say("layer", "silhouettes", count=len(silhouettes), total=total,
                             rs=[ch.silhouette_r for ch in silhouettes], copies=[ch.copy_r for ch in silhouettes]))

    edges = by_kind["edge"]
    if edges:
        sentences.append(say("layer", "edges", count=len(edges), total=total, more=max(len(edges) - 4, 0),
                             shown=[(ch.channel, edge_phrase(ch, words)) for ch in edges[:4]]))
    elif working and not all(ch.kind_basis == "filter" for ch in working):
        strongest = max(working, key=lambda ch: abs(ch.best_edge_r))
        sentences.append(say("layer", "no_edge", strongest=strongest.channel, kind=strongest.best_edge,
                             r=strongest.best_edge_r, why=why_not(strongest, "edge", bar, digits)))
    elif working:
        edgiest = max(working, key=lambda ch: ch.filter.edge_share)
        sentences.append(say("layer", "no_edge_filter", edgiest=edgiest.channel, share=edgiest.filter.edge_share))

    others = by_kind["other"] if layer.spatial else []
    blurs = [ch for ch in others if below_bar(ch, bar)]
    if blurs:
        sentences.append(say("layer", "blurs", count=len(blurs), total=total, rs=[ch.copy_r for ch in blurs],
                             bar=bar, digits=digits))
    others = [ch for ch in others if ch not in blurs]
    if others:
        sentences.append(say("layer", "others", count=len(others), total=total,
                             best=[max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in others]))
    idle = by_kind["idle"]
    if idle:
        sentences.append(say("layer", "idle", idle=idle, reason=idle_reason(layer, idle)))
    dead = [ch for ch in channels if ch.dead]
    if dead:
        sentences.append(dead_sentence(layer, dead))
    saturated = by_kind["saturated"]
    if saturated:
        sentences.append(say("layer", "saturated", saturated=saturated, level=SATURATION_LEVEL))
    sentences += regime_sentences(layer)
    borderline = [ch for ch in channels if ch.kind_borderline and not ch.dead]
    if borderline:
        sentences.append(say("layer", "borderline", close=borderline))
    return sentences


def dead_sentence(layer: LayerFindings, dead: list[ChannelFindings]) -> str:
    """Say which channels are dead, from which step, and on which values that was measured."""
    probes = layer.settling.probes if layer.on_probes is not None and layer.settling else None
    return say("layer", "dead", dead=dead, at_least=DEAD_ZERO_SHARE, probes=probes)


def similarity_sentences(layer: LayerFindings) -> list[str]:
    """Say how many channel pairs are near-duplicates, which groups every pair of which is, and repeats."""
    sentences = []
    total = layer.num_channels
    groups = layer.groups or [DuplicateGroup(channels=group, pairs=len(group) * (len(group) - 1) // 2)
                              for group in layer.duplicate_groups]
    pairs = layer.pairs
    if total > 1 and pairs is not None:
        count, reaching = pairs.pairs, pairs.pairs_at_threshold
        spread = {"level": DUPLICATE_MIN_R, "low": pairs.min_abs_r, "high": pairs.max_abs_r}  # of |r| over the pairs
        if reaching == count:
            sentences.append(say("layer", "all_duplicates", total=total, pairs=count, **spread))
        elif reaching == 0:
            sentences.append(say("layer", "no_pair_reaches", pairs=count, **spread))
        else:
            sentences.append(say("layer", "some_pairs_reach", pairs=count, reaching=reaching,
                                 share=pairs.share_at_threshold, **spread))
        if reaching != count and groups:
            grouped = {c for group in groups for c in group.channels}
            sentences.append(say("layer", "groups", groups=groups, level=DUPLICATE_MIN_R,
                                 alone=[c for c in range(total) if c not in grouped]))
        elif reaching != count:
            sentences.append(say("layer", "no_duplicates", pair=layer.pair_max, r=layer.pair_max_abs_r))
    elif total > 1:  # findings without the pair summary: describe the groups alone
        if groups:
            sentences.append(say("layer", "duplicate_groups", groups=[group.channels for group in groups],
                                 level=DUPLICATE_MIN_R))
        else:
            sentences.append(say("layer", "no_duplicates", pair=layer.pair_max, r=layer.pair_max_abs_r,
                                 mean=layer.pair_mean_abs_r))
    previous = layer.previous_layer
    if previous:
        repeats = layer.duplicates_of_previous
        if repeats:
            sentences.append(say("layer", "repeats", count=len(repeats), total=total, previous=previous,
                                 rs=[item.r for item in repeats]))
        else:
            best = max(layer.channels, key=lambda ch: abs(ch.previous_layer_r))
            sentences.append(say("layer", "no_repeat", previous=previous, best=best.channel,
                                 r=best.previous_layer_r))
    return sentences


def _value_at(layer: LayerFindings, series_name: str, at_step: int, steps: list[int] | None) -> float | None:
    """Return a timeline value at a recorded step (None when the step or the series is missing)."""
    values = layer.timeline.get(series_name)
    if not values or steps is None or at_step not in steps:
        return None
    return values[steps.index(at_step)]


def settling_sentence(layer: LayerFindings, last_step: int, steps: list[int] | None = None) -> str:
    """Say when the layer's pattern (CKA) and its contrast (spread) came into place, told apart."""
    if all(ch.kind == "idle" for ch in layer.channels):
        return say("layer", "all_idle")
    settling = layer.settling
    pattern, contrast, settled = ((settling.pattern_step, settling.contrast_step, settling.settled_step)
                                  if settling else (None, None, None))
    if pattern is None or contrast is None:
        return say("layer", "not_settled", last_step=last_step)
    told = {"story": "plain"}
    if pattern < contrast:
        share = _value_at(layer, "relative_spread", pattern, steps)
        peak = _value_at(layer, "max_abs", pattern, steps)
        if share is not None and share < FAINT_MAX_SHARE:
            # a scale of the layer's own: the value means something against its upper end
            told = {"story": "unseen"} if peak is None else {
                "story": "white", "peak": peak if peak >= PEAK_FLOOR else None, "floor": PEAK_FLOOR,
                "high": layer.scale["domain"][1] if layer.scale else None}
        elif share is not None:
            told = {"story": "first", "share": share}
    return say("layer", "settled", pattern=pattern, contrast=contrast, settled=settled, last_step=last_step,
               cka=SETTLED_MIN_CKA, half=INFORMATIVE_SHARE, **told)


def _relative_spread(layer: LayerFindings) -> list[float] | None:
    """Return the layer's median spread per recorded step as a share of its final value (None: not recorded)."""
    values = (layer.timeline or {}).get("relative_spread")
    return list(values) if values else None


def faint_start(layer: LayerFindings) -> bool:
    """Whether the layer's frames start nearly white: its relative spread at the first step below FAINT_MAX_SHARE."""
    shares = _relative_spread(layer)
    return shares is not None and shares[0] < FAINT_MAX_SHARE


def faint_until(layer: LayerFindings, steps: list[int] | None) -> int | None:
    """Return the first recorded step at which the relative spread reaches FAINT_MAX_SHARE (None: unknown or never)."""
    shares = _relative_spread(layer)
    if shares is None or steps is None or len(steps) != len(shares):
        return None
    return next((steps[index] for index, share in enumerate(shares) if share >= FAINT_MAX_SHARE), None)


def _contrast_story(layer: LayerFindings, first: int, pattern: int, contrast: int, settled: int,
                    steps: list[int] | None) -> dict:
    """Choose how the frames gain contrast: nearly white, then colour, only when they start faint; else from where."""
    first = steps[0] if steps else first  # the timeline's first step (the probes')
    story = {"first": first}
    if faint_start(layer):
        until = faint_until(layer, steps)
        if until is not None and until > first:
            story.update(opening="white_until", until=until, told=pattern < until)
        else:
            story.update(opening="white_from")
    else:
        shares = _relative_spread(layer)
        if shares is None:
            story.update(opening="contrast")
        else:
            story.update(opening="grows" if shares[0] < 1 else "starts", share=shares[0])
    if settled > contrast:
        story.update(ending="shifting")
    else:
        story.update(ending="pattern" if pattern < contrast and not story.get("told") else "settled")
    return story


def look_for(layer: LayerFindings, last_step: int, *, words: ImageWords = DIGIT_WORDS,
             steps: list[int] | None = None) -> str:
    """Return one line on what to watch for in the layer's animation and at which steps (`steps`: those recorded)."""
    settling = layer.settling
    pattern, contrast, settled = ((settling.pattern_step, settling.contrast_step, settling.settled_step)
                                  if settling else (None, None, None))
    first = settling.first_step if settling else 0
    if all(ch.kind == "idle" for ch in layer.channels):
        return say("layer", "all_idle_frames")
    if contrast is None or pattern is None:
        return say("layer", "still_changing", last_step=last_step)
    if contrast <= first:
        story = {"opening": "shifting" if settled > first else "steady", "first": first}
    else:
        story = _contrast_story(layer, first, pattern, contrast, settled, steps)
    edges = [ch for ch in layer.channels if ch.kind == "edge"]
    return say("layer", "look_for", pattern=pattern, contrast=contrast, settled=settled, half=INFORMATIVE_SHARE,
               idle=[ch.channel for ch in layer.channels if ch.kind == "idle" and not ch.dead],
               dead=[ch for ch in layer.channels if ch.dead], edges=[ch.channel for ch in edges],
               sides=sorted({ch.edge_side for ch in edges}), regions=words.regions, **story)


def summary_sentences(layer: LayerFindings, *, counts: bool = True, alike: bool = True) -> list[str]:
    """Say in a few words what is particular to this layer: its kinds of channel (when `counts`) and how alike its
    channels are (when `alike`; when it settled is the look-for line's). The numbers behind each are in its evidence
    paragraphs."""
    channels, total = layer.channels, layer.num_channels
    sentences = []
    one_kind = False  # the kinds sentence said "all N channels", so the next one can say "they"
    if counts and layer.spatial:
        live = [ch for ch in channels if not ch.dead]
        told = [(kind, sum(ch.kind == kind for ch in live)) for kind in SUMMARY_KINDS]
        told = [(kind, count) for kind, count in told + [("dead", len(channels) - len(live))] if count]
        if told:
            sentences.append(say("layer", "summary_kinds", total=total, told=told))
            one_kind = len(told) == 1 and total > 1
    pairs = layer.pairs
    if alike and total > 1 and pairs is not None:
        reaching = pairs.pairs_at_threshold
        if reaching == pairs.pairs:
            sentences.append(say("layer", "summary_all_duplicates", total=total, they=one_kind))
        elif reaching == 0:
            sentences.append(say("layer", "summary_no_duplicates"))
        else:
            sentences.append(say("layer", "summary_some_duplicates", reaching=reaching, pairs=pairs.pairs))
    return sentences


def layer_commentary(layer: LayerFindings, last_step: int, steps: list[int] | None = None, *,
                     article: bool = True, words: ImageWords = DIGIT_WORDS, post_applies: bool = True,
                     like: LayerFindings | None = None) -> dict:
    """Return the post's hypothesis and this run's sentences for one layer.

    `run` and `comparison` are lists of sentences; `paragraphs` groups them for the page: the kinds of
    channel, their similarity and settling, and the comparison with the post's reading (only when `article`:
    the run's model is the original post's, and `post_applies`: its data is MNIST's, which the post's readings are
    of). `words` names what the probes show (report.words.commentary.image_words). `like`: the layer the post said
    this one behaves like (report.words.post_observations.POST_LIKE), so that the comparison can refer to it.
    """
    post = POST_OBSERVATIONS.get(layer.name) if article else None
    kinds = kind_sentences(layer, words=words)
    rest = similarity_sentences(layer) + [settling_sentence(layer, last_step, steps)]
    comparison = comparison_sentences(layer, like) if article and post_applies else []
    return {
        "name": layer.name,
        "resolution": f"{layer.height}x{layer.width}",
        "num_channels": layer.num_channels,
        "post": post["text"] if post else None,
        "post_applies": post_applies,  # False: the post's readings are of digits, and this run's data is not MNIST
        "look_for": look_for(layer, last_step, words=words, steps=steps),
        "run": kinds + rest,
        "comparison": comparison,
        "paragraphs": [" ".join(group) for group in (kinds, rest, comparison) if group],
        # the page: a short summary and the comparison on the reading path, the rest folded as its evidence
        "summary": " ".join(summary_sentences(layer, counts=not (comparison and post),
                                              alike=not (comparison and layer.name in COUNTS_DUPLICATES))),
        "evidence": [" ".join(group) for group in (kinds, rest) if group],
        "channels": [{"label": say("layer", "label", index=ch.channel), "kind": ch.kind,
                      "text": channel_sentence(ch, last_step, layer.idle_limit if layer.scale else None, words=words,
                                               bar=copy_bar(layer), digits=bar_digits(layer))}
                     for ch in layer.channels],
        "table": channel_table(layer),
        "filters": filter_rows(layer),
        "filter_rule": filter_rule(),
    }
