"""The heat map of a layer's channels: the signed r between every pair of final maps, near-duplicates together.

`heat_map_svg(layer)` returns the SVG bytes and the size in pixels of a layer's (C, C) matrix of r (blue +1,
white 0, red -1), channels in complete-linkage order (report/numbers/groups.py) so that near-duplicates sit
side by side, each group of near-duplicates outlined. Same findings give the same bytes (report/figures/svg.py).
Its axes' word is `heat_map_labels()` (templates/words/figures.txt.j2, in the edition being written) unless it is
given others.
"""

from __future__ import annotations

import numpy as np

from report.figures.svg import ANALYSIS_RC, FIGURE_DPI, figure_svg
from report.numbers.findings import LayerFindings
from report.numbers.thresholds import DUPLICATE_MIN_R
from report.voice import say


def heat_map_labels() -> dict:
    """Return the heat map's words in the edition being written: the name of both axes."""
    return {"channel": say("figures", "channel_axis")}


def heat_map_figure(layer: LayerFindings, labels: dict | None = None):
    """Build one layer's channel-by-channel r heat map, near-duplicates side by side and groups outlined."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    words = labels or heat_map_labels()
    order = layer.channel_order or list(range(layer.num_channels))
    matrix = np.asarray(layer.pair_r, np.float64)[np.ix_(order, order)]
    count = len(order)
    side = 1.6 + 0.16 * count
    figure = Figure(figsize=(side + 0.9, side), dpi=FIGURE_DPI, layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap=matplotlib.colormaps["RdBu"], vmin=-1, vmax=1, interpolation="none")
    labels = [str(channel + 1) for channel in order]
    axes.set_xticks(range(count), labels, fontsize=7 if count > 10 else 8)
    axes.set_yticks(range(count), labels, fontsize=7 if count > 10 else 8)
    axes.tick_params(length=0)
    axes.set_xlabel(words["channel"])
    axes.set_ylabel(words["channel"])
    for spine in axes.spines.values():
        spine.set_visible(False)
    position = {channel: index for index, channel in enumerate(order)}
    for group in layer.duplicate_groups:
        places = sorted(position[channel] for channel in group)
        if places == list(range(places[0], places[0] + len(places))):  # complete-linkage groups are contiguous
            axes.add_patch(Rectangle((places[0] - 0.5, places[0] - 0.5), len(places), len(places), fill=False,
                                     edgecolor="#111111", linewidth=1.3))
    # Ticks at +-1 and +-DUPLICATE_MIN_R sat on top of each other; the threshold is a line on the bar instead.
    bar = figure.colorbar(image, ax=axes, shrink=0.8, ticks=[-1, -0.5, 0, 0.5, 1])
    for level in (-DUPLICATE_MIN_R, DUPLICATE_MIN_R):
        bar.ax.axhline(level, color="#111111", linewidth=1.0)
    bar.ax.tick_params(labelsize=7)
    bar.set_label("r", fontsize=8)
    return figure


def heat_map_svg(layer: LayerFindings, labels: dict | None = None) -> tuple[bytes, tuple[int, int]]:
    """Return the layer's heat map as SVG bytes and its (width, height) in pixels."""
    import matplotlib

    with matplotlib.rc_context(ANALYSIS_RC):
        return figure_svg(heat_map_figure(layer, labels))
