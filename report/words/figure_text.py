"""Describe the generated figures for the page: alt texts and captions with the run's numbers.

Use: `settling_text(findings, article=...)`, `heat_map_text(layer)` and `xor_caption(facts)` return the words
of the settling figure, a layer's heat map and the XOR figure; `filter_alt(layer, channel)` the alt text of a
channel's filter image. The figures themselves are report/figures/'s; report/page/figure_files.py puts the
words beside the files it writes.
"""

from __future__ import annotations

from report.numbers.findings import ChannelFindings, Findings, LayerFindings
from report.numbers.thresholds import DUPLICATE_MIN_R, EARLY_SHARE, INFORMATIVE_SHARE, SETTLED_MIN_CKA
from report.words.wording import percent, series


def settling_text(findings: Findings, article: bool = True) -> dict:
    """Return the settling figure's {"alt", "caption"}, with the steps it shows."""
    numbers = findings.run.conclusion_3
    timing = numbers.layer_timing
    settled = series([f"{name} at step {item.settled_step}" for name, item in timing.items()
                      if item.settled_step is not None])
    found = findings.run.plateau.found
    loss = (f"flat at chance until step {numbers.learning_start} and falling after" if found else
            "with no plateau at chance (no grey band)")
    band = ("The grey band is the loss plateau; the dashed line " if found else
            "The run has no loss plateau, so there is no grey band; the dashed line ")
    probes = findings.num_probes
    first = findings.layers[0].settling
    samples = first.samples if first else None
    scope = (f"all {probes} recorded probes" if probes >= 256 else f"the {probes} probes") + \
        (f" \u00d7 positions ({samples:,} samples in {findings.layers[0].name})" if samples else "")
    return {
        "alt": (f"Three panels over training steps 0 to {findings.last_step}. Top: for each layer, the linear CKA "
                f"of its representation with its final one and its channels' median r with their final maps, "
                f"rising to 1 at the end; a dot marks each layer's settled step ({settled}). Middle: each layer's "
                f"contrast, its median spread as a share of the final one. Bottom: the training loss, {loss}. "
                f"A dashed red line marks "
                f"step {numbers.early_limit:g}, the limit for settling early."),
        "caption": (f"When each layer settles. CKA is computed over {scope}, with channels as features; it ignores "
                    f"contrast, which the middle panel shows. A layer has settled once its CKA stays at or above "
                    f"{SETTLED_MIN_CKA:g} and its spread at or above {percent(INFORMATIVE_SHARE)} of the final one: "
                    f"{settled}. {band}"
                    + ("the early limit of conclusion 3." if article else
                       f"{percent(EARLY_SHARE)} of the way from the "
                       + ("plateau's end" if found else "first step") + " to the last step.")),
    }


def heat_map_text(layer: LayerFindings) -> dict:
    """Return a layer's heat map {"alt", "caption"}: what it shows and the share of pairs at the threshold."""
    pairs = layer.pairs
    groups = layer.duplicate_groups
    grouped = "; ".join("channels " + ", ".join(str(c + 1) for c in group) for group in groups) or "none"
    share = (f"{pairs.pairs_at_threshold} of {pairs.pairs} pairs ({percent(pairs.share_at_threshold)}) "
             f"reach |r| \u2265 {DUPLICATE_MIN_R:g}") if pairs else ""
    return {
        "alt": (f"A {layer.num_channels} by {layer.num_channels} grid of the correlations between {layer.name}'s "
                f"channels, blue for +1, white for 0, red for -1, channels ordered so that similar ones are "
                f"neighbours; {share}. Outlined groups of near-duplicates: {grouped}."),
        "caption": (f"{layer.name}: r between the final maps of every pair of channels (blue +1, red \u22121; "
                    f"the lines on the colour bar mark \u00b1{DUPLICATE_MIN_R:g}), "
                    f"ordered so that near-duplicates sit together. {share[:1].upper() + share[1:]}. Outlined: "
                    f"groups in which every pair does ({grouped})."),
    }


def filter_alt(layer: LayerFindings, channel: ChannelFindings) -> str:
    """Return the alt text of a channel's filter image: its size and shape scores."""
    fit = channel.filter
    return (f"{layer.name} channel {channel.channel + 1}'s linear filter of the input, {fit.size} by {fit.size} "
            f"pixels: blue weights positive, red negative (blob score {fit.blob:+.2f}, edge score {fit.edge:+.2f})")


def xor_caption(facts: dict) -> str:
    """Return the figure's caption: what the network gets right and where the class-0 points land."""
    text = (f"XOR before and after one learned layer. A 2-2-1 tanh network trained here with plain gradient descent "
            f"classifies {facts['correct']} of the 4 points correctly. ")
    if facts["folded"]:
        text += ("Its hidden layer folds the square along a diagonal: the two class-0 inputs, (0, 0) and (1, 1), land "
                 "on practically the same spot (they are drawn as one labelled marker), and a straight line then "
                 "separates them from the two class-1 points.")
    else:
        text += ("Its hidden layer moves both class-0 points to one side of a straight line and both class-1 "
                 "points to the other.")
    return text
