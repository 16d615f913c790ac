"""Findings with chosen numbers, for the tests of the commentary and the verdicts (test_commentary*.py,
test_truthful_claims.py)."""

import dataclasses

import numpy as np

from report.numbers.findings import CHANNEL_KINDS, ChannelFindings, LayerFindings, LayerSettling, Repeat
from report.numbers.reference_maps import EDGE_KINDS, EDGE_SIDES


def channel(kind="copy", index=0, copy_r=0.93, best_edge="horizontal", best_edge_r=0.1, spread=0.2,
            saturated_share=0.0, pattern_step=20, settle_step=90, previous_r=0.0) -> ChannelFindings:
    """Make one channel's findings with chosen numbers."""
    side = EDGE_SIDES[best_edge][0 if best_edge_r >= 0 else 1]
    return ChannelFindings(
        layer="conv3", channel=index, kind=kind, copy_r=copy_r,
        edge_r={k: (best_edge_r if k == best_edge else 0.0) for k in EDGE_KINDS},
        best_edge=best_edge, best_edge_r=best_edge_r, edge_side=side, linear_r=0.99,
        spread=spread, mean=0.0, saturated_share=saturated_share, settle_step=settle_step,
        pattern_step=pattern_step, most_similar_channel=None, most_similar_r=0.0,
        previous_layer_channel=0 if previous_r else None, previous_layer_r=previous_r)


def layer(channels, name="conv3", groups=(), pair_mean=0.3, pair_max=0.5, previous=None) -> LayerFindings:
    """Make one layer's findings around channel findings."""
    counts = {kind: sum(ch.kind == kind for ch in channels) for kind in CHANNEL_KINDS}
    active = [ch for ch in channels if ch.kind != "idle"]
    return LayerFindings(
        name=name, height=14, width=14, num_channels=len(channels), counts=counts, channels=channels,
        median_settle_step=float(np.median([c.settle_step for c in active])) if active else None,
        median_pattern_step=float(np.median([c.pattern_step for c in active])) if active else None,
        median_linear_r=0.99, pair_mean_abs_r=pair_mean, pair_max_abs_r=pair_max,
        pair_max=[0, 1] if len(channels) > 1 else [], duplicate_groups=[list(g) for g in groups],
        previous_layer=previous,
        duplicates_of_previous=[Repeat(channel=c.channel, previous_channel=0, r=c.previous_layer_r)
                                for c in channels if abs(c.previous_layer_r) >= 0.9],
        informative_step=10, resembles_input_step=10, distinct_step=None,
        timeline={"median_spread": [0.0, 0.2], "median_abs_copy_r": [0.1, 0.8], "pair_mean_abs_r": [0.2, 0.6]})


def kinds_layer(name, kinds, pair_mean=0.3, settled=None):
    """Make a LayerFindings whose channels have the given kinds (and, optionally, a settled step)."""
    item = layer([dataclasses.replace(channel(kind, i), layer=name) for i, kind in enumerate(kinds)], name=name,
                 pair_mean=pair_mean)
    item.settling = LayerSettling(pattern_step=settled, contrast_step=settled, settled_step=settled, samples=1960,
                                  probes=10, first_step=0)
    return item
