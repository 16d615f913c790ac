"""Write the site's generated figures into its assets folder, and describe each one for the templates.

Use: `write_analysis_figures(findings, train_loss, folder)` writes, into `folder` (the site's assets):
- `settling.svg` (report/figures/settling_figure.py): when each layer settles;
- `pairs-<layer>.svg` per layer with two or more channels (report/figures/heat_map.py): how alike its channels are;
- `filters/<layer>-<n>.png` per fitted channel (report/figures/filter_image.py): its linear filter of the input.
It returns their descriptions: {"settling": figure, "layers": {name: {"pairs": figure or None, "filters":
{channel: image}}}}, each with src, width, height and alt (and a caption for the figures), the words from
report/words/figure_text.py (the words drawn inside the figures are templates/words/figures.txt.j2's).
`write_channel_story(capture, findings, folder)` writes the explorer's channel panel's data, `story.js`, and a
patch strip `patches-<layer>.png` per layer with an input window (report/figures/channel_story.py).
`write_xor_figure(path)` writes the XOR figure and returns its facts; `write_probe_strip(probe_images, path)`
the probe strip, returning its (width, height). This is the only module of report/figures' drawings that touches
files; the same findings give the same bytes (the SVGs by report/figures/svg.py, the PNGs without a timestamp by
pipeline/images.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.files import write_bytes_atomically
from pipeline.images import write_png
from pipeline.names import file_stems
from report.figure_cache import FigureCache
from report.figures.channel_story import channel_story
from report.figures.filter_image import filter_pixels
from report.figures.heat_map import heat_map_labels, heat_map_svg
from report.figures.probe_strip import probe_strip
from report.figures.settling_figure import settling_labels, settling_svg
from report.figures.svg import relabelled, svg_size
from report.figures.xor import fold_facts, learn_xor, xor_labels, xor_svg
from report.numbers.findings import Findings, LayerFindings
from report.page.sections import ASSETS
from report.voice import SOURCE, speaking
from report.words.figure_text import filter_alt, heat_map_text, settling_text

STORY_FILE = "story.js"


def _figure(src: str, size: tuple[int, int], words: dict) -> dict:
    """Return a figure's description for the templates: src, width, height, alt and caption."""
    return {"src": src, "width": size[0], "height": size[1], **words}


def _svg_figure(folder: Path, name: str, draw, labels, drawn: Path | None,
                cache: FigureCache | None) -> tuple[int, int]:
    """Write SVG `name` into `folder`, drawn by `draw()` (or read back from `cache`, which keeps what was drawn), or
    (`drawn`: the source edition's folder of figures) that edition's drawing with this edition's `labels()`, which
    takes milliseconds instead of matplotlib's seconds."""
    if drawn is None:
        svg, size = (cache.get(name) if cache is not None else None) or draw()
        if cache is not None:
            cache.put(name, svg, size)
    else:
        with speaking(SOURCE):
            source = labels()
        svg = relabelled((drawn / name).read_bytes(), source, labels())
        size = svg_size(svg)
    write_bytes_atomically(folder / name, svg)
    return size


def _layer_figures(layer: LayerFindings, stem: str, folder: Path, drawn: Path | None,
                   cache: FigureCache | None) -> dict:
    """Write one layer's heat map and filter images; return their descriptions."""
    entry = {"pairs": None, "filters": {}}
    if layer.num_channels > 1 and layer.pair_r:
        size = _svg_figure(folder, f"pairs-{stem}.svg", lambda: heat_map_svg(layer), heat_map_labels, drawn,
                            cache)
        entry["pairs"] = _figure(f"{ASSETS}/pairs-{stem}.svg", size, heat_map_text(layer))
    fitted = [ch for ch in layer.channels if ch.filter is not None]
    if fitted:
        (folder / "filters").mkdir(exist_ok=True)
    for ch in fitted:
        pixels = filter_pixels(ch.filter.weights)
        name = f"filters/{stem}-{ch.channel + 1}.png"
        write_png(pixels, folder / name)
        entry["filters"][ch.channel] = {"src": f"{ASSETS}/{name}", "width": pixels.shape[1],
                                        "height": pixels.shape[0], "alt": filter_alt(layer, ch)}
    return entry


def write_analysis_figures(findings: Findings, train_loss: np.ndarray, folder: Path, *, article: bool = True,
                           drawn: Path | None = None, cache: FigureCache | None = None) -> dict:
    """Write the settling figure, the heat maps and the filter images into `folder`; describe them.

    article: the run's model is the original post's, so the captions may name its conclusion 3.
    drawn: the folder where the source edition wrote them (another edition relabels those drawings).
    cache: report/figure_cache.py's drawings of these findings, read instead of drawn, and given what is drawn.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    size = _svg_figure(folder, "settling.svg", lambda: settling_svg(findings, train_loss, early_line=article),
                        settling_labels, drawn, cache)
    stems = file_stems([layer.name for layer in findings.layers])  # as the renderer names the layer's files
    return {"settling": _figure(f"{ASSETS}/settling.svg", size, settling_text(findings, article)),
            "layers": {layer.name: _layer_figures(layer, stems[layer.name], folder, drawn, cache)
                       for layer in findings.layers}}


def write_channel_story(capture, findings: Findings, folder: Path) -> str:
    """Write the channel panel's data (a script the page loads on a click) and the patch strips; return its name."""
    stems = file_stems([layer.name for layer in findings.layers])
    data, strips = channel_story(capture, findings, stems)
    for stem, pixels in strips.items():
        write_png(pixels, Path(folder) / f"patches-{stem}.png")
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)
    write_bytes_atomically(Path(folder) / STORY_FILE,
                           f"(window.Explorer=window.Explorer||{{}}).storyData={text};\n".encode())
    return STORY_FILE


def write_xor_figure(path: Path, drawn: Path | None = None, cache: FigureCache | None = None) -> dict:
    """Write the XOR figure (input space and learned hidden space) as SVG; return its fold facts for the caption.

    drawn: the folder where the source edition wrote it (another edition relabels that drawing); cache: as for
    write_analysis_figures."""
    network = learn_xor()
    facts = fold_facts(network)
    _svg_figure(Path(path).parent, Path(path).name, lambda: (xor_svg(network, facts), None), xor_labels, drawn,
                cache)
    return facts


def write_probe_strip(probe_images: np.ndarray, path: Path) -> tuple[int, int]:
    """Write the probe strip as a PNG without timestamps; return its (width, height)."""
    pixels = probe_strip(probe_images)
    write_png(pixels, path)
    return pixels.shape[1], pixels.shape[0]
