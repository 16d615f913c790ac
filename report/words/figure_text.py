"""Describe the generated figures for the page: alt texts and captions with the run's numbers.

Use: `settling_text(findings, article=...)`, `heat_map_text(layer)` and `xor_caption(facts)` return the words
of the settling figure, a layer's heat map and the XOR figure; `filter_alt(layer, channel)` the alt text of a
channel's filter image. The figures themselves are report/figures/'s; report/page/figure_files.py puts the
words beside the files it writes. The words are templates/words/figure.txt.j2's; this module passes the numbers.
"""

from __future__ import annotations

from report.numbers.findings import ChannelFindings, Findings, LayerFindings
from report.numbers.thresholds import DUPLICATE_MIN_R, INFORMATIVE_SHARE, SETTLED_MIN_CKA
from report.voice import say


def settling_text(findings: Findings, article: bool = True) -> dict:
    """Return the settling figure's {"alt", "caption"}, with the steps it shows."""
    numbers = findings.run.conclusion_3
    settled = [(name, item.settled_step) for name, item in numbers.layer_timing.items()
               if item.settled_step is not None]
    found = findings.run.plateau.found
    first = findings.layers[0].settling
    return {
        "alt": say("figure", "settling_alt", last_step=findings.last_step, settled=settled,
                   learning_start=numbers.learning_start if found else None,
                   early_limit=numbers.early_limit if article else None),
        "caption": say("figure", "settling_caption", probes=findings.num_probes,
                       all_probes=findings.num_probes >= 256, samples=first.samples if first else None,
                       first_layer=findings.layers[0].name, min_cka=SETTLED_MIN_CKA, informative=INFORMATIVE_SHARE,
                       settled=settled, plateau=found, article=article),
    }


def heat_map_text(layer: LayerFindings) -> dict:
    """Return a layer's heat map {"alt", "caption"}: what it shows and the share of pairs at the threshold."""
    return {
        "alt": say("figure", "heat_map_alt", layer=layer.name, width=layer.num_channels, pairs=layer.pairs,
                   min_r=DUPLICATE_MIN_R, duplicate_groups=layer.duplicate_groups),
        "caption": say("figure", "heat_map_caption", layer=layer.name, pairs=layer.pairs, min_r=DUPLICATE_MIN_R,
                       duplicate_groups=layer.duplicate_groups),
    }


def filter_alt(layer: LayerFindings, channel: ChannelFindings) -> str:
    """Return the alt text of a channel's filter image: its size and shape scores."""
    fit = channel.filter
    return say("figure", "filter_alt", layer=layer.name, channel=channel.channel, size=fit.size, blob=fit.blob,
               edge=fit.edge)


def xor_caption(facts: dict) -> str:
    """Return the figure's caption: what the network gets right and where the class-0 points land."""
    return say("figure", "xor_caption", correct=facts["correct"], folded=facts["folded"])
