"""Write one layer's part of the article: its kinds of channel, their similarity and settling, its tables.

Use: `layer_commentary(layer, last_step)` returns the plain dict the template shows for one conv layer (the
post's reading, this run's sentences, grouped paragraphs, what to look for in its animation, one sentence
and one table row per channel, and the rows of its filter table when its channels were fitted as filters).
Every function takes a `LayerFindings` / `ChannelFindings`. Strings are plain text.
`words` (report.words.wording.ImageWords, MNIST's strokes of ink by default) names what the probes show.
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
from report.words.channel_text import (
    KIND_LABELS,
    channel_sentence,
    channel_table,
    edge_phrase,
    filter_rows,
    filter_rule,
    filter_sentence,
    shape_range,
    why_not,
)
from report.words.post_observations import POST_OBSERVATIONS, comparison_sentences
from report.words.regime_text import idle_reason, regime_sentences, units_sentence
from report.words.wording import (
    DIGIT_WORDS,
    ORIENTATIONS,
    ImageWords,
    capitalise,
    channel_label,
    channel_list,
    number,
    of_total,
    percent,
    plural,
    r_list,
    r_value,
    score,
    series,
    share_percent,
    verb,
)


def kind_sentences(layer: LayerFindings, *, words: ImageWords = DIGIT_WORDS) -> list[str]:
    """Say how many of the layer's channels are copies, edge detectors, unnamed, idle or saturated."""
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

    copies = by_kind["copy"]
    if copies:
        shaped = all(ch.kind_basis == "filter" for ch in copies)
        inverted = sum((ch.filter.blob if shaped else ch.copy_r) < 0 for ch in copies)
        evidence = r_list([ch.copy_r for ch in copies]) + " with the input"
        if shaped:
            filters = "a filter closer to a blob than to an oriented difference" if len(copies) == 1 else \
                "filters closer to a blob than to an oriented difference"
            evidence = f"{filters}, {shape_range(copies)}; {evidence}"
        text = f"{of_total(len(copies), total)} {verb(len(copies), 'copies', 'copy')} the input ({evidence})"
        negative = f"negative on {words.bright}"
        if inverted == len(copies):
            text += f", inverted ({negative})" if inverted == 1 else f", all inverted ({negative})"
        elif inverted:
            text += f", {number(inverted)} of them inverted ({negative})"
        sentences.append(capitalise(text) + ".")
    elif working:
        closest = max(working, key=lambda ch: abs(ch.copy_r))
        sentences.append(f"No channel copies the input (the closest, {channel_label(closest.channel)}, has "
                         f"|r| = {r_value(closest.copy_r)}, {why_not(closest, 'copy')}).")

    edges = by_kind["edge"]
    if edges:
        shown = [f"{channel_label(ch.channel)} to {edge_phrase(ch, words)}" for ch in edges[:4]]
        if len(edges) > 4:
            shown.append(f"{plural(len(edges) - 4, 'more channel')}")
        sentences.append(capitalise(f"{of_total(len(edges), total)} {verb(len(edges), 'responds', 'respond')} "
                                    f"to edges: {series(shown)}."))
    elif working and not all(ch.kind_basis == "filter" for ch in working):
        strongest = max(working, key=lambda ch: abs(ch.best_edge_r))
        sentences.append(f"No channel is an edge detector (the strongest edge match, "
                         f"{channel_label(strongest.channel)} with {ORIENTATIONS[strongest.best_edge]} edges, has "
                         f"|r| = {r_value(strongest.best_edge_r)}, {why_not(strongest, 'edge')}).")
    elif working:
        edgiest = max(working, key=lambda ch: ch.filter.edge_share)
        sentences.append(f"No channel's filter is more edge than blob (the highest edge share, "
                         f"{channel_label(edgiest.channel)}'s, is {score(edgiest.filter.edge_share)}).")

    others = by_kind["other"] if layer.spatial else []
    if others:
        best = [max(abs(ch.copy_r), abs(ch.best_edge_r)) for ch in others]
        sentences.append(capitalise(f"{of_total(len(others), total)} {verb(len(others), 'matches', 'match')} "
                                    f"neither the input nor a single edge orientation (best match: "
                                    f"{r_list(best)})."))
    idle = by_kind["idle"]
    if idle:
        spreads = series([f"{ch.spread:.3f}" for ch in idle])
        sentences.append(capitalise(f"{channel_list([ch.channel for ch in idle])} "
                                    f"{verb(len(idle), 'is', 'are')} idle: "
                                    f"{'its' if len(idle) == 1 else 'their'} final "
                                    f"{verb(len(idle), 'map barely varies', 'maps barely vary')} "
                                    f"(spread {spreads}, {idle_reason(layer, idle)})."))
    dead = [ch for ch in channels if ch.dead]
    if dead:
        sentences.append(dead_sentence(layer, dead))
    saturated = by_kind["saturated"]
    if saturated:
        shares = series([percent(ch.saturated_share) for ch in saturated])
        sentences.append(capitalise(f"{channel_list([ch.channel for ch in saturated])} "
                                    f"{verb(len(saturated), 'is', 'are')} saturated ({shares} of values "
                                    f"beyond \u00b1{SATURATION_LEVEL})."))
    sentences += regime_sentences(layer)
    borderline = [ch for ch in channels if ch.kind_borderline and not ch.dead]
    if borderline:
        listed = series([f"{channel_label(ch.channel)} ({KIND_LABELS[ch.kind]}, or "
                         f"{KIND_LABELS[ch.kind_alternative]})" for ch in borderline])
        sentences.append(f"{capitalise(plural(len(borderline), 'label'))} {verb(len(borderline), 'is', 'are')} "
                         f"borderline, within the margin of {verb(len(borderline), 'its', 'their')} threshold: "
                         f"{listed}.")
    return sentences


def dead_sentence(layer: LayerFindings, dead: list[ChannelFindings]) -> str:
    """Say which channels are dead, from which step, and on which values that was measured."""
    steps = series([f"{channel_label(ch.channel)} from step {ch.dead_step}" for ch in dead])
    shares = series([share_percent(ch.zero_share) for ch in dead])
    where = (f"the {layer.settling.probes:,} analysis images" if layer.on_probes is not None and layer.settling
             else "the probes")
    return (f"{capitalise(plural(len(dead), 'channel'))} {verb(len(dead), 'is', 'are')} dead, almost never "
            f"firing ({steps}): exactly 0 on at least {percent(DEAD_ZERO_SHARE)} of {verb(len(dead), 'its', 'their')} "
            f"probe values at every step from then to the end, and on {shares} of {verb(len(dead), 'its', 'their')} "
            f"final values on {where}.")


def similarity_sentences(layer: LayerFindings) -> list[str]:
    """Say how many channel pairs are near-duplicates, which groups every pair of which is, and repeats."""
    sentences = []
    total = layer.num_channels
    groups = layer.groups or [DuplicateGroup(channels=group, pairs=len(group) * (len(group) - 1) // 2)
                              for group in layer.duplicate_groups]
    pairs = layer.pairs
    if total > 1 and pairs is not None:
        count, reaching = pairs.pairs, pairs.pairs_at_threshold
        if reaching == count:
            sentences.append(capitalise(f"{of_total(total, total)} are near-duplicates of one another: "
                                        f"{'both' if count == 2 else 'all'} {plural(count, 'pair')} of channels "
                                        f"correlate at |r| \u2265 {DUPLICATE_MIN_R} (lowest "
                                        f"{r_value(pairs.min_abs_r)})."))
        else:
            low, high = r_value(pairs.min_abs_r), r_value(pairs.max_abs_r)
            spread = f"|r| = {low} for every pair" if low == high else f"|r| from {low} to {high}"
            if reaching == 0:
                head = (f"None of the {plural(count, 'pair')} of channels reaches |r| \u2265 {DUPLICATE_MIN_R} "
                        f"({spread}).")
            else:
                head = (f"Of the {plural(count, 'pair')} of channels, {number(reaching)} "
                        f"({percent(pairs.share_at_threshold)}) {verb(reaching, 'correlates', 'correlate')} at "
                        f"|r| \u2265 {DUPLICATE_MIN_R} ({spread}).")
            sentences.append(head)
            if groups:
                described = "; ".join(
                    f"{channel_list(group.channels)} ({plural(group.pairs, 'pair')}, lowest |r| "
                    f"{r_value(group.min_abs_r)})" if group.min_abs_r is not None else channel_list(group.channels)
                    for group in groups)
                grouped = {c for group in groups for c in group.channels}
                alone = [c for c in range(total) if c not in grouped]
                kind = "group" if len(groups) == 1 else "groups"
                text = (f"Grouped so that every pair inside a group reaches {DUPLICATE_MIN_R}, they form "
                        f"{number(len(groups))} {kind} of near-duplicates: {described}")
                if alone:
                    text += f"; {channel_list(alone)} {verb(len(alone), 'is', 'are')} in none"
                sentences.append(text + ".")
            else:
                first, second = layer.pair_max
                sentences.append(f"No two channels are near-duplicates (the closest pair, channels {first + 1} and "
                                 f"{second + 1}, has |r| = {r_value(layer.pair_max_abs_r)}).")
    elif total > 1:  # findings without the pair summary: describe the groups alone
        if groups:
            sentences.append("; ".join(f"{capitalise(channel_list(group.channels))} are near-duplicates"
                                       for group in groups) + f" (every pair at |r| \u2265 {DUPLICATE_MIN_R}).")
        else:
            first, second = layer.pair_max
            sentences.append(f"No two channels are near-duplicates (the closest pair, channels {first + 1} and "
                             f"{second + 1}, has |r| = {r_value(layer.pair_max_abs_r)}; the mean is "
                             f"{r_value(layer.pair_mean_abs_r)}).")
    previous = layer.previous_layer
    if previous:
        repeats = layer.duplicates_of_previous
        if repeats:
            sentences.append(capitalise(f"{of_total(len(repeats), total)} "
                                        f"{verb(len(repeats), 'repeats', 'repeat')} a {previous} channel "
                                        f"({r_list([item.r for item in repeats])})."))
        else:
            best = max(layer.channels, key=lambda ch: abs(ch.previous_layer_r))
            sentences.append(f"No channel repeats a {previous} channel (the closest match, "
                             f"{channel_label(best.channel)}, has |r| = {r_value(best.previous_layer_r)}).")
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
        return "Every channel is idle, so there is nothing to settle."
    settling = layer.settling
    pattern, contrast, settled = ((settling.pattern_step, settling.contrast_step, settling.settled_step)
                                  if settling else (None, None, None))
    if pattern is None or contrast is None:
        return (f"The layer had not settled by the last step ({last_step}): its CKA with its final state or its "
                f"contrast was still short of the mark.")
    text = (f"The layer's pattern was in place from step {pattern} (linear CKA with its final state \u2265 "
            f"{SETTLED_MIN_CKA} from then on) and its contrast from step {contrast} (median spread \u2265 "
            f"{percent(INFORMATIVE_SHARE)} of its final value)")
    if pattern < contrast:
        share = _value_at(layer, "relative_spread", pattern, steps)
        peak = _value_at(layer, "max_abs", pattern, steps)
        if share is not None and share < FAINT_MAX_SHARE:
            shown = f"{peak:.2f}" if peak is not None and peak >= 0.01 else "below 0.01"
            if layer.scale:  # a scale of the layer's own: the value means something against its upper end
                shown += f" on a colour scale that reaches {layer.scale['domain'][1]:.3g}"
            faint = f"; at step {pattern} its largest value is {shown}, so the frames there are almost white" \
                if peak is not None else ""
            text += f": the picture was there before it could be seen{faint}"
        elif share is not None:
            text += (f": the pattern came first (at step {pattern} the median spread is {percent(share)} of its "
                     f"final value)")
    text += f". It looks as it will at the end from step {settled} of {last_step}."
    return text


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
                    steps: list[int] | None) -> str:
    """Say how the frames gain contrast: nearly white, then colour, only when they start faint; else from where."""
    half = percent(INFORMATIVE_SHARE)
    first = steps[0] if steps else first  # the timeline's first step (the probes')
    pattern_told = False
    if faint_start(layer):
        until = faint_until(layer, steps)
        if until is not None and until > first:
            text = f"Until about step {until} the frames stay nearly white"
            if pattern < until:
                text += f", though the pattern is already there (from step {pattern})"
                pattern_told = True
            text += f"; then the colours arrive, and from step {contrast} the maps keep at least {half} of their " \
                    f"final contrast"
        else:
            text = (f"The frames start nearly white at step {first}; from step {contrast} the maps keep at least "
                    f"{half} of their final contrast")
    else:
        shares = _relative_spread(layer)
        if shares is None:
            text = f"The maps keep at least {half} of their final contrast from step {contrast}"
        else:
            grows = "grows from" if shares[0] < 1 else "starts at"
            text = (f"Contrast {grows} {percent(shares[0])} of its final value at step {first} and stays at least "
                    f"{half} of it from step {contrast}")
    if settled > contrast:
        return text + f"; the pattern keeps shifting until about step {settled}, then changes little"
    text += ", from when the picture looks as it will at the end"
    if pattern < contrast and not pattern_told:
        text += f" (its pattern is in place from step {pattern})"
    return text


def look_for(layer: LayerFindings, last_step: int, *, words: ImageWords = DIGIT_WORDS,
             steps: list[int] | None = None) -> str:
    """Return one line on what to watch for in the layer's animation and at which steps (`steps`: those recorded)."""
    settling = layer.settling
    pattern, contrast, settled = ((settling.pattern_step, settling.contrast_step, settling.settled_step)
                                  if settling else (None, None, None))
    first = settling.first_step if settling else 0
    if all(ch.kind == "idle" for ch in layer.channels):
        return "Every channel is idle: the frames stay white from the first step to the last."
    if contrast is None or pattern is None:
        return f"The maps keep changing to the end: compare the first frames with the last one (step {last_step})."
    if contrast <= first:
        text = (f"The maps have most of their final contrast from the first step; the pattern keeps shifting "
                f"until about step {settled}" if settled > first else
                "The maps look from the first step as they will at the end")
    else:
        text = _contrast_story(layer, first, pattern, contrast, settled, steps)
    idle = [ch.channel for ch in layer.channels if ch.kind == "idle" and not ch.dead]
    if idle:
        text += f"; {channel_list(idle)} {verb(len(idle), 'stays', 'stay')} white throughout"
    for ch in (ch for ch in layer.channels if ch.dead):
        text += f"; {channel_label(ch.channel)} is nearly all white from step {ch.dead_step} on: it is dead"
    edges = [ch for ch in layer.channels if ch.kind == "edge"]
    if edges:
        sides = series(sorted({ch.edge_side for ch in edges}), "or")
        text += (f". Watch {channel_list([ch.channel for ch in edges])}, the edge "
                 f"{verb(len(edges), 'detector', 'detectors')}: {verb(len(edges), 'it lights', 'they light')} up "
                 f"along the {sides} side of the {words.regions}")
    return text + "."


def summary_sentences(layer: LayerFindings, *, counts: bool = True) -> list[str]:
    """Say in a few words what is particular to this layer: its kinds of channel (when `counts`) and how alike its
    channels are (when it settled is the look-for line's). The numbers behind each are in its evidence paragraphs."""
    channels, total = layer.channels, layer.num_channels
    sentences = []
    if counts and layer.spatial:
        live = [ch for ch in channels if not ch.dead]
        told = []
        for kind, one, many in (("copy", "copies the input", "copy the input"),
                                ("edge", "responds to edges", "respond to edges"),
                                ("other", "is unnamed", "are unnamed"), ("idle", "is idle", "are idle"),
                                ("saturated", "is saturated", "are saturated")):
            count = sum(ch.kind == kind for ch in live)
            if count:
                told.append(f"{number(count) if told else capitalise(number(count))} {verb(count, one, many)}")
        dead = len(channels) - len(live)
        if dead:
            told.append(f"{number(dead)} {verb(dead, 'is', 'are')} dead")
        if told:
            sentences.append(f"Of its {plural(total, 'channel')}: {series(told)}.")
    pairs = layer.pairs
    if total > 1 and pairs is not None:
        reaching = pairs.pairs_at_threshold
        if reaching == pairs.pairs:
            sentences.append(f"{capitalise(of_total(total, total))} are near-duplicates of one another.")
        elif reaching == 0:
            sentences.append("No two channels are near-duplicates.")
        else:
            sentences.append(f"{capitalise(number(reaching))} of its {plural(pairs.pairs, 'pair')} of channels "
                             f"{verb(reaching, 'is a near-duplicate pair', 'are near-duplicates')}.")
    return sentences


def layer_commentary(layer: LayerFindings, last_step: int, steps: list[int] | None = None, *,
                     article: bool = True, words: ImageWords = DIGIT_WORDS, post_applies: bool = True) -> dict:
    """Return the post's hypothesis and this run's sentences for one layer.

    `run` and `comparison` are lists of sentences; `paragraphs` groups them for the page: the kinds of
    channel, their similarity and settling, and the comparison with the post's reading (only when `article`:
    the run's model is the original post's, and `post_applies`: its data is MNIST's, which the post's readings are
    of). `words` names what the probes show (report.words.commentary.image_words).
    """
    post = POST_OBSERVATIONS.get(layer.name) if article else None
    kinds = kind_sentences(layer, words=words)
    rest = similarity_sentences(layer) + [settling_sentence(layer, last_step, steps)]
    comparison = comparison_sentences(layer) if article and post_applies else []
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
        "summary": " ".join(summary_sentences(layer, counts=not (comparison and post))),
        "evidence": [" ".join(group) for group in (kinds, rest) if group],
        "channels": [{"label": capitalise(channel_label(ch.channel)), "kind": ch.kind,
                      "text": channel_sentence(ch, last_step, layer.idle_limit if layer.scale else None,
                                              words=words)}
                     for ch in layer.channels],
        "table": channel_table(layer),
        "filters": filter_rows(layer),
        "filter_rule": filter_rule(),
    }
