"""The settling figure: when each layer settles, drawn from the findings so the steps the text gives can be read off.

`settling_svg(findings, train_loss)` returns the SVG bytes and the size in pixels of three panels over the
recorded steps: per layer its linear CKA with its final state (solid) and its channels' median r with their
final maps (dashed), with a dot at its settled step; its contrast (median spread as a share of the final one);
and the training loss. The plateau's end is marked, and the early limit of conclusion 3 where the page states
it. Same findings give the same bytes (report/figures/svg.py). Its words are `settling_labels()`
(templates/words/figures.txt.j2, in the edition being written) unless it is given others.
"""

from __future__ import annotations

import numpy as np

from report.figures.svg import ANALYSIS_RC, FIGURE_DPI, figure_svg
from report.numbers.findings import Findings
from report.numbers.thresholds import INFORMATIVE_SHARE, SETTLED_MIN_CKA
from report.voice import say

LABELS = ("similarity_axis", "similarity_title", "contrast_axis", "contrast_title", "training_loss", "training_step",
          "loss_title", "plateau", "early_limit")  # the figure's words: macros of templates/words/figures.txt.j2


LAYER_MARKERS = ("s", "^", "D", "v", "P", "X", "<", ">")  # never "o": a dot marks the settled step


def _layer_colours(count: int) -> list:
    """Return one colour per layer, from light-early to dark-late (viridis, without its palest end)."""
    import matplotlib

    colours = matplotlib.colormaps["viridis"]
    return [colours(0.85 * index / max(count - 1, 1)) for index in range(count)]


def settling_labels() -> dict:
    """Return the settling figure's words in the edition being written: panel titles, axes and marks."""
    return {name: say("figures", name) for name in LABELS}


def settling_figure(findings: Findings, train_loss: np.ndarray, labels: dict | None = None, early_line: bool = True):
    """Build the settling figure: CKA and median r, contrast, and the training loss over the steps.

    early_line: mark conclusion 3's early limit (only where the page states conclusion 3: no orphaned mark)."""
    from matplotlib.figure import Figure

    words = labels or settling_labels()
    steps = np.asarray(findings.steps)
    numbers = findings.run.conclusion_3
    figure = Figure(figsize=(7.6, 6.2), dpi=FIGURE_DPI, layout="constrained")
    similarity, contrast, loss_axes = figure.subplots(3, 1, sharex=True, height_ratios=(1.5, 1, 1))
    colours = _layer_colours(len(findings.layers))
    every = max(1, len(steps) // 6)
    for number, (layer, colour) in enumerate(zip(findings.layers, colours)):
        timeline = layer.timeline
        # neighbouring layers' colours are close: each layer also has its own marker, staggered along the line
        marks = {"marker": LAYER_MARKERS[number % len(LAYER_MARKERS)], "markersize": 4,
                 "markevery": ((number * every) // max(len(findings.layers), 1), every)}
        similarity.plot(steps, timeline["cka"], color=colour, linewidth=1.4, label=layer.name, **marks)
        similarity.plot(steps, timeline["median_r"], color=colour, linewidth=0.8, linestyle=(0, (3, 2)))
        contrast.plot(steps, timeline["relative_spread"], color=colour, linewidth=1.2, label=layer.name)
        settled = layer.settling.settled_step if layer.settling else None
        if settled is not None:
            index = int(np.searchsorted(steps, settled))
            similarity.plot([settled], [timeline["cka"][index]], marker="o", markersize=4.5, color=colour,
                            markeredgecolor="white", markeredgewidth=0.6, linestyle="none")
    similarity.axhline(SETTLED_MIN_CKA, color="#555555", linewidth=0.7, linestyle=":")
    similarity.text(steps[0], SETTLED_MIN_CKA, f" CKA {SETTLED_MIN_CKA:g}", va="bottom", ha="left", color="#555555",
                    fontsize=8)
    similarity.set_ylim(-0.02, 1.04)
    similarity.set_ylabel(words["similarity_axis"])
    similarity.set_title(words["similarity_title"], fontsize=9, loc="left")
    similarity.legend(loc="lower right", fontsize=8, frameon=False, ncols=2)
    contrast.axhline(INFORMATIVE_SHARE, color="#555555", linewidth=0.7, linestyle=":")
    contrast.set_ylabel(words["contrast_axis"])
    contrast.set_title(words["contrast_title"], fontsize=9, loc="left")
    top = max(1.05, max(max(layer.timeline["relative_spread"]) for layer in findings.layers) * 1.05)
    contrast.set_ylim(0, top)
    loss = np.asarray(train_loss, np.float64)
    loss_axes.plot(np.arange(1, loss.size + 1), loss, color="#333333", linewidth=0.9)
    loss_axes.set_ylabel(words["training_loss"])
    loss_axes.set_xlabel(words["training_step"])
    loss_axes.set_title(words["loss_title"], fontsize=9, loc="left")
    finite = loss[np.isfinite(loss)]
    if finite.size:  # show the starting level, not a rare spike
        start_level = float(np.median(finite[:3]))
        loss_axes.set_ylim(0, max(start_level, min(float(np.percentile(finite, 99)), 1.5 * start_level)) * 1.08)
    start, limit = numbers.learning_start, numbers.early_limit
    for axes in (similarity, contrast, loss_axes):
        if start > 0:
            axes.axvspan(0, start, color="#000000", alpha=0.06, linewidth=0)
        if early_line:
            axes.axvline(limit, color="#b2182b", linewidth=0.9, linestyle="--")
        axes.grid(True, color="#e4e4e4", linewidth=0.6)
        axes.set_xlim(steps[0], steps[-1])
    if start > 0:
        loss_axes.text(start / 2, 0.5, words["plateau"], transform=loss_axes.get_xaxis_transform(), ha="center",
                       va="center", color="#555555", fontsize=8, rotation=90)
    if early_line:
        loss_axes.text(limit, 0.95, " " + words["early_limit"], transform=loss_axes.get_xaxis_transform(),
                       ha="left", va="top", color="#b2182b", fontsize=8)
    return figure


def settling_svg(findings: Findings, train_loss: np.ndarray, labels: dict | None = None,
                 early_line: bool = True) -> tuple[bytes, tuple[int, int]]:
    """Return the settling figure as SVG bytes and its (width, height) in pixels."""
    import matplotlib

    with matplotlib.rc_context(ANALYSIS_RC):
        return figure_svg(settling_figure(findings, train_loss, labels, early_line))
