"""The analysis' own figures: when each layer settles, how alike a layer's channels are, each channel's filter.

Use: `write_analysis_figures(findings, train_loss, folder)` writes, into `folder` (the site's assets):
- `settling.svg`: per layer over all recorded steps, its linear CKA with its final state (solid) and its
  channels' median r with their final maps (dashed), its contrast (median spread as a share of the final
  one), and the training loss on the same step axis; the plateau's end, the early limit of conclusion 3
  and each layer's settled step are marked. Every line is drawn from the findings, so the steps the text
  gives can be read off it.
- `pairs-<layer>.svg` per layer with two or more channels: the signed r between its channels' final maps,
  channels ordered by complete linkage so near-duplicates sit together, each group of near-duplicates
  outlined.
- `filters/<layer>-<n>.png` per fitted channel: its linear filter of the input, red negative, white 0, blue
  positive, scaled to its own largest |weight|, each weight a block of pixels.
It returns the figures' descriptions for the templates: {"settling": figure, "layers": {name: {"pairs":
figure or None, "filters": {channel: image}}}}, each with src, width, height, alt and caption.

Same findings give the same bytes: the SVGs are written by report/svg.py (fixed hash salt, no date, text
as text, coordinates to 0.1 pt) and the PNGs carry no timestamp (pipeline/images.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.files import write_bytes_atomically
from pipeline.images import write_png
from pipeline.names import file_stems
from report.findings import Findings
from report.svg import svg_bytes, svg_rc
from report.thresholds import DUPLICATE_MIN_R, EARLY_SHARE, INFORMATIVE_SHARE, SETTLED_MIN_CKA
from report.wording import percent, series

ASSETS = "assets"
FILTER_PIXELS = 56  # each filter image is about this many pixels wide
_RC = dict(svg_rc("report-analysis-figures"), **{"font.size": 9, "axes.spines.top": False,
                                                  "axes.spines.right": False})


def _layer_colours(count: int) -> list:
    """Return one colour per layer, from light-early to dark-late (viridis, without its palest end)."""
    import matplotlib

    colours = matplotlib.colormaps["viridis"]
    return [colours(0.85 * index / max(count - 1, 1)) for index in range(count)]


def settling_figure(findings: Findings, train_loss: np.ndarray):
    """Build the settling figure: CKA and median r, contrast, and the training loss over the steps."""
    from matplotlib.figure import Figure

    steps = np.asarray(findings.steps)
    run = findings.run
    numbers = run["conclusion_3"]
    figure = Figure(figsize=(7.6, 6.2), dpi=100, layout="constrained")
    similarity, contrast, loss_axes = figure.subplots(3, 1, sharex=True, height_ratios=(1.5, 1, 1))
    colours = _layer_colours(len(findings.layers))
    for layer, colour in zip(findings.layers, colours):
        timeline = layer.timeline
        similarity.plot(steps, timeline["cka"], color=colour, linewidth=1.4, label=layer.name)
        similarity.plot(steps, timeline["median_r"], color=colour, linewidth=0.8, linestyle=(0, (3, 2)))
        contrast.plot(steps, timeline["relative_spread"], color=colour, linewidth=1.2, label=layer.name)
        settled = (layer.settling or {}).get("settled_step")
        if settled is not None:
            index = int(np.searchsorted(steps, settled))
            similarity.plot([settled], [timeline["cka"][index]], marker="o", markersize=4.5, color=colour,
                            markeredgecolor="white", markeredgewidth=0.6, linestyle="none")
    similarity.axhline(SETTLED_MIN_CKA, color="#555555", linewidth=0.7, linestyle=":")
    similarity.text(steps[0], SETTLED_MIN_CKA, f" CKA {SETTLED_MIN_CKA:g}", va="bottom", ha="left", color="#555555",
                    fontsize=8)
    similarity.set_ylim(-0.02, 1.04)
    similarity.set_ylabel("similarity to final")
    similarity.set_title("Linear CKA with the final state (solid; dot: settled step) and median channel r (dashed)",
                         fontsize=9, loc="left")
    similarity.legend(loc="lower right", fontsize=8, frameon=False, ncols=2)
    contrast.axhline(INFORMATIVE_SHARE, color="#555555", linewidth=0.7, linestyle=":")
    contrast.set_ylabel("spread / final")
    contrast.set_title("Contrast: median channel spread as a share of its final value", fontsize=9, loc="left")
    top = max(1.05, max(max(layer.timeline["relative_spread"]) for layer in findings.layers) * 1.05)
    contrast.set_ylim(0, top)
    loss = np.asarray(train_loss, np.float64)
    loss_axes.plot(np.arange(1, loss.size + 1), loss, color="#333333", linewidth=0.9)
    loss_axes.set_ylabel("training loss")
    loss_axes.set_xlabel("training step")
    loss_axes.set_title("Training loss of each step's batch", fontsize=9, loc="left")
    finite = loss[np.isfinite(loss)]
    if finite.size:  # show the starting level, not a rare spike
        start_level = float(np.median(finite[:3]))
        loss_axes.set_ylim(0, max(start_level, min(float(np.percentile(finite, 99)), 1.5 * start_level)) * 1.08)
    start, limit = numbers["learning_start"], numbers["early_limit"]
    for axes in (similarity, contrast, loss_axes):
        if start > 0:
            axes.axvspan(0, start, color="#000000", alpha=0.06, linewidth=0)
        axes.axvline(limit, color="#b2182b", linewidth=0.9, linestyle="--")
        axes.grid(True, color="#e4e4e4", linewidth=0.6)
        axes.set_xlim(steps[0], steps[-1])
    if start > 0:
        loss_axes.text(start / 2, 0.5, "plateau", transform=loss_axes.get_xaxis_transform(), ha="center",
                       va="center", color="#555555", fontsize=8, rotation=90)
    loss_axes.text(limit, 0.95, " early limit", transform=loss_axes.get_xaxis_transform(), ha="left", va="top",
                   color="#b2182b", fontsize=8)
    return figure


def _settling_description(findings: Findings, size: tuple[int, int], article: bool = True) -> dict:
    """Describe the settling figure for the page: alt text and a caption with the steps it shows."""
    numbers = findings.run["conclusion_3"]
    timing = numbers["layer_timing"]
    settled = series([f"{name} at step {item['settled_step']}" for name, item in timing.items()
                      if item["settled_step"] is not None])
    probes = findings.num_probes
    samples = (findings.layers[0].settling or {}).get("samples")
    scope = (f"all {probes} recorded probes" if probes >= 256 else f"the {probes} probes") + \
        (f" \u00d7 positions ({samples:,} samples in {findings.layers[0].name})" if samples else "")
    return {
        "src": f"{ASSETS}/settling.svg", "width": size[0], "height": size[1],
        "alt": (f"Three panels over training steps 0 to {findings.last_step}. Top: for each layer, the linear CKA "
                f"of its representation with its final one and its channels' median r with their final maps, "
                f"rising to 1 at the end; a dot marks each layer's settled step ({settled}). Middle: each layer's "
                f"contrast, its median spread as a share of the final one. Bottom: the training loss, flat at "
                f"chance until step {numbers['learning_start']} and falling after. A dashed red line marks "
                f"step {numbers['early_limit']:g}, the limit for settling early."),
        "caption": (f"When each layer settles. CKA is computed over {scope}, with channels as features; it ignores "
                    f"contrast, which the middle panel shows. A layer has settled once its CKA stays at or above "
                    f"{SETTLED_MIN_CKA:g} and its spread at or above {percent(INFORMATIVE_SHARE)} of the final one: "
                    f"{settled}. The grey band is the loss plateau; the dashed line "
                    + ("the early limit of conclusion 3." if article else
                       f"{percent(EARLY_SHARE)} of the way from the plateau's end to the last step.")),
    }


def pairs_figure(layer):
    """Build one layer's channel-by-channel r heat map, near-duplicates side by side and groups outlined."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    order = layer.channel_order or list(range(layer.num_channels))
    matrix = np.asarray(layer.pair_r, np.float64)[np.ix_(order, order)]
    count = len(order)
    side = 1.6 + 0.16 * count
    figure = Figure(figsize=(side + 0.9, side), dpi=100, layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap=matplotlib.colormaps["RdBu"], vmin=-1, vmax=1, interpolation="none")
    labels = [str(channel + 1) for channel in order]
    axes.set_xticks(range(count), labels, fontsize=7 if count > 10 else 8)
    axes.set_yticks(range(count), labels, fontsize=7 if count > 10 else 8)
    axes.tick_params(length=0)
    axes.set_xlabel("channel")
    axes.set_ylabel("channel")
    for spine in axes.spines.values():
        spine.set_visible(False)
    position = {channel: index for index, channel in enumerate(order)}
    for group in layer.duplicate_groups:
        places = sorted(position[channel] for channel in group)
        if places == list(range(places[0], places[0] + len(places))):  # complete-linkage groups are contiguous
            axes.add_patch(Rectangle((places[0] - 0.5, places[0] - 0.5), len(places), len(places), fill=False,
                                     edgecolor="#111111", linewidth=1.3))
    bar = figure.colorbar(image, ax=axes, shrink=0.8, ticks=[-1, -DUPLICATE_MIN_R, 0, DUPLICATE_MIN_R, 1])
    bar.ax.tick_params(labelsize=7)
    bar.set_label("r", fontsize=8)
    return figure


def _pairs_description(layer, size: tuple[int, int], stem: str) -> dict:
    """Describe a layer's heat map: what it shows and the share of pairs at the threshold."""
    pairs = layer.pairs or {}
    groups = layer.duplicate_groups
    grouped = "; ".join("channels " + ", ".join(str(c + 1) for c in group) for group in groups) or "none"
    share = (f"{pairs['pairs_at_threshold']} of {pairs['pairs']} pairs ({percent(pairs['share_at_threshold'])}) "
             f"reach |r| \u2265 {DUPLICATE_MIN_R:g}") if pairs else ""
    return {
        "src": f"{ASSETS}/pairs-{stem}.svg", "width": size[0], "height": size[1],
        "alt": (f"A {layer.num_channels} by {layer.num_channels} grid of the correlations between {layer.name}'s "
                f"channels, blue for +1, white for 0, red for -1, channels ordered so that similar ones are "
                f"neighbours; {share}. Outlined groups of near-duplicates: {grouped}."),
        "caption": (f"{layer.name}: r between the final maps of every pair of channels (blue +1, red \u22121), "
                    f"ordered so that near-duplicates sit together. {share[:1].upper() + share[1:]}. Outlined: "
                    f"groups in which every pair does ({grouped})."),
    }


def filter_pixels(weights: np.ndarray) -> np.ndarray:
    """Return a filter as an enlarged RGB image: red negative, white zero, blue positive, scaled to its max |w|."""
    import matplotlib

    weights = np.asarray(weights, np.float64)
    peak = float(np.abs(weights).max())
    scaled = weights / peak if peak > 0 else np.zeros_like(weights)
    colours = matplotlib.colormaps["RdBu"]((scaled + 1) / 2)[..., :3]  # (k, k, 3) in [0, 1]
    colours[scaled == 0] = 1.0
    rgb = np.rint(colours * 255).astype(np.uint8)
    block = max(FILTER_PIXELS // weights.shape[0], 1)
    return np.repeat(np.repeat(rgb, block, axis=0), block, axis=1)


def write_analysis_figures(findings: Findings | dict, train_loss: np.ndarray, folder: Path, *,
                           article: bool = True) -> dict:
    """Write the settling figure, the heat maps and the filter images into `folder`; describe them.

    article: the run's model is the original post's, so the captions may name its conclusion 3.
    """
    import matplotlib

    findings = Findings.coerce(findings)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    described = {"layers": {}}
    with matplotlib.rc_context(_RC):
        figure = settling_figure(findings, train_loss)
        write_bytes_atomically(folder / "settling.svg", svg_bytes(figure))
        width, height = figure.get_size_inches() * figure.dpi
        described["settling"] = _settling_description(findings, (int(round(width)), int(round(height))), article)
        stems = file_stems([layer.name for layer in findings.layers])  # as the renderer names the layer's files
        for layer in findings.layers:
            entry = {"pairs": None, "filters": {}}
            if layer.num_channels > 1 and layer.pair_r:
                figure = pairs_figure(layer)
                write_bytes_atomically(folder / f"pairs-{stems[layer.name]}.svg", svg_bytes(figure))
                width, height = figure.get_size_inches() * figure.dpi
                entry["pairs"] = _pairs_description(layer, (int(round(width)), int(round(height))), stems[layer.name])
            fitted = [ch for ch in layer.channels if ch.filter is not None]
            if fitted:
                (folder / "filters").mkdir(exist_ok=True)
            for ch in fitted:
                pixels = filter_pixels(ch.filter["weights"])
                name = f"filters/{stems[layer.name]}-{ch.channel + 1}.png"
                write_png(pixels, folder / name)
                size = ch.filter["size"]
                entry["filters"][ch.channel] = {
                    "src": f"{ASSETS}/{name}", "width": pixels.shape[1], "height": pixels.shape[0],
                    "alt": (f"{layer.name} channel {ch.channel + 1}'s linear filter of the input, {size} by {size} "
                            f"pixels: blue weights positive, red negative (blob score {ch.filter['blob']:+.2f}, "
                            f"edge score {ch.filter['edge']:+.2f})")}
            described["layers"][layer.name] = entry
    return described


def layer_view(said_layer: dict, figures: dict | None, explain: bool = True) -> dict:
    """Return what templates/partials/layer_analysis.html.j2 shows for one layer: look-for line, filters, heat map.

    `explain` asks for the full explanation of the filter table (the first layer that has one gets it).
    """
    figures = figures or {"pairs": None, "filters": {}}
    rows = [dict(row, image=figures["filters"].get(row["channel"])) for row in said_layer.get("filters", [])]
    return {"look_for": said_layer.get("look_for"), "filters": [row for row in rows if row["image"]],
            "filter_rule": said_layer.get("filter_rule"), "explain": explain, "pairs": figures.get("pairs")}


def layer_views(said_layers: list[dict], figures: dict) -> list[dict]:
    """Return every layer's view in order; only the first layer with a filter table explains it in full."""
    views, explained = [], False
    for said_layer in said_layers:
        view = layer_view(said_layer, figures["layers"].get(said_layer["name"]), explain=not explained)
        explained = explained or bool(view["filters"])
        views.append(view)
    return views
