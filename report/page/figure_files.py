"""Write the site's generated figures into its assets folder, and describe each one for the templates.

Use: `write_analysis_figures(findings, train_loss, folder)` writes, into `folder` (the site's assets):
- `settling.svg` (report/figures/settling_figure.py): when each layer settles;
- `pairs-<layer>.svg` per layer with two or more channels (report/figures/heat_map.py): how alike its channels are;
- `filters/<layer>-<n>.png` per fitted channel (report/figures/filter_image.py): its linear filter of the input.
It returns their descriptions: {"settling": figure, "layers": {name: {"pairs": figure or None, "filters":
{channel: image}}}}, each with src, width, height and alt (and a caption for the figures), the words from
report/words/figure_text.py (the words drawn inside the figures are templates/words/figures.txt.j2's).
`write_xor_figure(path)` writes the XOR figure and returns its facts; `write_probe_strip(probe_images, path)`
the probe strip, returning its (width, height). This is the only module of report/figures' drawings that touches
files; the same findings give the same bytes (the SVGs by report/figures/svg.py, the PNGs without a timestamp by
pipeline/images.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.files import write_bytes_atomically
from pipeline.images import write_png
from pipeline.names import file_stems
from report.figures.filter_image import filter_pixels
from report.figures.heat_map import heat_map_svg
from report.figures.probe_strip import probe_strip
from report.figures.settling_figure import settling_svg
from report.figures.xor import fold_facts, learn_xor, xor_svg
from report.numbers.findings import Findings, LayerFindings
from report.page.sections import ASSETS
from report.words.figure_text import filter_alt, heat_map_text, settling_text


def _figure(src: str, size: tuple[int, int], words: dict) -> dict:
    """Return a figure's description for the templates: src, width, height, alt and caption."""
    return {"src": src, "width": size[0], "height": size[1], **words}


def _layer_figures(layer: LayerFindings, stem: str, folder: Path) -> dict:
    """Write one layer's heat map and filter images; return their descriptions."""
    entry = {"pairs": None, "filters": {}}
    if layer.num_channels > 1 and layer.pair_r:
        svg, size = heat_map_svg(layer)
        write_bytes_atomically(folder / f"pairs-{stem}.svg", svg)
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


def write_analysis_figures(findings: Findings, train_loss: np.ndarray, folder: Path, *,
                           article: bool = True) -> dict:
    """Write the settling figure, the heat maps and the filter images into `folder`; describe them.

    article: the run's model is the original post's, so the captions may name its conclusion 3.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    svg, size = settling_svg(findings, train_loss)
    write_bytes_atomically(folder / "settling.svg", svg)
    stems = file_stems([layer.name for layer in findings.layers])  # as the renderer names the layer's files
    return {"settling": _figure(f"{ASSETS}/settling.svg", size, settling_text(findings, article)),
            "layers": {layer.name: _layer_figures(layer, stems[layer.name], folder) for layer in findings.layers}}


def write_xor_figure(path: Path) -> dict:
    """Write the XOR figure (input space and learned hidden space) as SVG; return its fold facts for the caption."""
    network = learn_xor()
    facts = fold_facts(network)
    Path(path).write_bytes(xor_svg(network, facts))
    return facts


def write_probe_strip(probe_images: np.ndarray, path: Path) -> tuple[int, int]:
    """Write the probe strip as a PNG without timestamps; return its (width, height)."""
    pixels = probe_strip(probe_images)
    write_png(pixels, path)
    return pixels.shape[1], pixels.shape[0]
