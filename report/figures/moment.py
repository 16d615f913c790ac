"""The opening figure: one probe through every recorded layer at a few steps, under the training loss.

    pixels = moment_pixels(maps, scales, names, steps, train_loss, plateau_steps)   # (H, W, 3) uint8
    grid = mosaic_grid(channels, height, width)                                      # (columns, rows, zoom)

`maps[i][j]` is layer i's (H, W, C) activations of the probe at steps[j]. Each cell is a mosaic of the layer's
channels (channel order, left to right then down), each map enlarged by a whole number (nearest neighbour) and
coloured by the layer's fixed scale exactly as the renderer colours its frames (render/palette.py
scale_indices), so a cell's pixels can be recomputed from the capture. Above the cells the training loss is drawn
over the whole run with a marker at each column's step, and a line joins each marker to its column. Pure: arrays
in, pixels out; report/page/moment.py chooses the steps and the probe and writes the PNG. The figure's words are
`moment_labels(steps)` (templates/words/figures.txt.j2, in the edition being written) unless it is given others;
a PNG needs a font for them, so where no system font draws the edition's script its few words stay English.
"""

from __future__ import annotations

import math

import numpy as np

from render.palette import PALETTE, TRANSPARENT_INDEX, scale_indices
from report.voice import SOURCE, say, speaking

CELL_BOX = 118  # px: the side a cell's mosaic may fill (a 28x28 map of a four-channel layer drawn 2x)
GUTTER = 1  # px between channels, and the frame around each mosaic
GUTTER_RGB = (190, 190, 190)
COLUMN_GAP = 8  # px between columns
REFERENCE_GAP = 22  # px that set the first and last columns apart when they are references
ROW_GAP = 8  # px between layers
LABEL_PX = 58  # the layer names' column
MARGIN = 8
LOSS_PX = 112  # the loss axes' height
TICKS_PX = 30  # below the loss axes: its tick labels
LINKS_PX = 34  # the band where a line joins each marker to its column
HEADER_PX = 18  # the column's step label
DPI = 100
MARK_COLOUR = "#333333"


def mosaic_grid(channels: int, height: int, width: int, box: int = CELL_BOX) -> tuple[int, int, int]:
    """Return (columns, rows, zoom) that draw `channels` maps of height x width largest within box x box."""
    best = None
    for columns in range(1, channels + 1):
        rows = math.ceil(channels / columns)
        room_w, room_h = box - (columns + 1) * GUTTER, box - (rows + 1) * GUTTER
        zoom = min(room_w // (columns * width), room_h // (rows * height))
        # fits first, then the largest zoom, the fewest empty places, the squarest mosaic, the fewest rows
        key = (zoom >= 1, zoom, -(columns * rows - channels), -abs(columns * width - rows * height), -rows)
        if best is None or key > best[0]:
            best = (key, (columns, rows, max(zoom, 1)))
    return best[1]


def mosaic(maps: np.ndarray, scale: dict, columns: int, zoom: int) -> np.ndarray:
    """Return the (h, w, 3) uint8 mosaic of an (H, W, C) map stack coloured by `scale`, framed by the gutter."""
    height, width, channels = maps.shape
    rows = math.ceil(channels / columns)
    tile_h, tile_w = height * zoom, width * zoom
    out = np.empty((rows * (tile_h + GUTTER) + GUTTER, columns * (tile_w + GUTTER) + GUTTER, 3), np.uint8)
    out[:] = GUTTER_RGB
    colours = PALETTE[scale_indices(np.asarray(maps, np.float32), scale)]  # (H, W, C, 3)
    for channel in range(channels):
        row, column = divmod(channel, columns)
        top, left = GUTTER + row * (tile_h + GUTTER), GUTTER + column * (tile_w + GUTTER)
        enlarged = np.repeat(np.repeat(colours[:, :, channel], zoom, axis=0), zoom, axis=1)
        out[top:top + tile_h, left:left + tile_w] = enlarged
    return out


def _column_lefts(count: int, width: int, references: tuple[bool, bool]) -> list[int]:
    """Return each column's left edge in px from the cells' left edge (references set apart by a wider gap)."""
    lefts, x = [], 0
    for index in range(count):
        if index == count - 1 and references[1] and index > 0:
            x += REFERENCE_GAP - COLUMN_GAP
        lefts.append(x)
        x += width + (REFERENCE_GAP if index == 0 and references[0] else COLUMN_GAP)
    return lefts


def moment_labels(steps: list[int]) -> dict:
    """Return the opening figure's words in the edition being written: the loss axes' and each column's step."""
    return {"plateau": say("figures", "plateau"), "training_loss": say("figures", "training_loss"),
            "training_step": say("figures", "training_step"),
            "steps": [say("figures", "step", number=int(step)) for step in steps]}


def moment_figure(cells: list[list[np.ndarray]], names: list[str], steps: list[int], train_loss: np.ndarray,
                  plateau_steps: int = 0, references: tuple[bool, bool] = (False, False), labels: dict | None = None):
    """Build the figure: the loss with a marker per step, lines to the columns, and the cells' mosaics below."""
    from matplotlib.figure import Figure

    words = labels or moment_labels(steps)
    column_w = max(cell.shape[1] for row in cells for cell in row)
    row_hs = [max(cell.shape[0] for cell in row) for row in cells]
    lefts = _column_lefts(len(steps), column_w, references)
    cells_w = lefts[-1] + column_w
    width = MARGIN + LABEL_PX + cells_w + MARGIN
    top_h = MARGIN + LOSS_PX + TICKS_PX + LINKS_PX + HEADER_PX
    height = top_h + sum(row_hs) + ROW_GAP * (len(row_hs) - 1) + MARGIN
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    figure.patch.set_facecolor("white")
    x0 = MARGIN + LABEL_PX  # the cells' left edge, px

    def fx(px: float) -> float:
        return px / width

    def fy(px_from_top: float) -> float:
        return 1 - px_from_top / height

    axes = figure.add_axes((fx(x0), fy(MARGIN + LOSS_PX), fx(cells_w), LOSS_PX / height))
    loss = np.asarray(train_loss, np.float64)
    first, last = int(steps[0]), int(steps[-1])
    low, high = min(first, 0), max(last, loss.size)
    if plateau_steps > 0:
        axes.axvspan(0, plateau_steps, color="#000000", alpha=0.06, linewidth=0)
        axes.text(plateau_steps / 2, 0.08, words["plateau"], transform=axes.get_xaxis_transform(), ha="center",
                  va="bottom", color="#555555", fontsize=8)
    axes.plot(np.arange(1, loss.size + 1), loss, color="#333333", linewidth=0.9)
    finite = loss[np.isfinite(loss)]
    if finite.size:  # the starting level in view, not a rare spike
        start_level = float(np.median(finite[:3]))
        axes.set_ylim(0, max(start_level, min(float(np.percentile(finite, 99)), 1.5 * start_level), 1e-6) * 1.08)
    axes.set_xlim(low, high)
    for step in steps:
        axes.axvline(step, color=MARK_COLOUR, linewidth=0.8)
    axes.set_ylabel(words["training_loss"], fontsize=8)
    axes.set_xlabel(words["training_step"], fontsize=8, labelpad=1)
    axes.tick_params(labelsize=8, length=3, pad=2)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    link_top, link_bottom = MARGIN + LOSS_PX + TICKS_PX, MARGIN + LOSS_PX + TICKS_PX + LINKS_PX
    for step, left, header in zip(steps, lefts, words["steps"]):
        marker_px = x0 + (step - low) / max(high - low, 1) * cells_w
        centre_px = x0 + left + column_w / 2
        figure.add_artist(_line([fx(marker_px), fx(marker_px), fx(centre_px)],
                                [fy(MARGIN + LOSS_PX), fy(link_top), fy(link_bottom)]))
        figure.text(fx(centre_px), fy(link_bottom + HEADER_PX - 3), header, ha="center", va="baseline",
                    fontsize=8.5, color=MARK_COLOUR, fontweight="bold")
    y = top_h
    for name, row, row_h in zip(names, cells, row_hs):
        figure.text(fx(x0 - 6), fy(y + row_h / 2), name, ha="right", va="center", fontsize=8.5, color="#222222")
        for cell, left in zip(row, lefts):
            cell_left = x0 + left + (column_w - cell.shape[1]) // 2
            cell_top = y + (row_h - cell.shape[0]) // 2
            figure.figimage(cell, xo=cell_left, yo=height - cell_top - cell.shape[0], origin="upper")
        y += row_h + ROW_GAP
    return figure


def _line(xs: list[float], ys: list[float]):
    """Return a thin marker-coloured line in figure coordinates."""
    from matplotlib.lines import Line2D

    return Line2D(xs, ys, color=MARK_COLOUR, linewidth=0.7, alpha=0.7)


def moment_pixels(maps: list[list[np.ndarray]], scales: list[dict], names: list[str], steps: list[int],
                  train_loss: np.ndarray, plateau_steps: int = 0,
                  references: tuple[bool, bool] = (False, False), labels: dict | None = None) -> np.ndarray:
    """Return the opening figure as (H, W, 3) uint8 pixels: cells exact, loss and words drawn by matplotlib."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    cells = []
    for layer_maps, scale in zip(maps, scales):
        height, width, channels = np.shape(layer_maps[0])
        columns, _, zoom = mosaic_grid(channels, height, width)
        cells.append([mosaic(stack, scale, columns, zoom) for stack in layer_maps])
    words = labels or moment_labels(steps)
    fonts = _fonts_for(words)
    if fonts is None:  # no font on this machine draws the edition's script: the PNG's few words stay English
        with speaking(SOURCE):
            words, fonts = moment_labels(steps), ["DejaVu Sans"]
    rc = {"font.family": "sans-serif", "font.sans-serif": fonts, "image.interpolation": "nearest"}
    with matplotlib.rc_context(rc):
        figure = moment_figure(cells, names, steps, train_loss, plateau_steps, references, words)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()


# System fonts that draw Simplified Chinese, in order of preference (matplotlib ships only DejaVu Sans).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Droid Sans Fallback", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
             "SimHei", "AR PL UMing CN", "Noto Sans CJK JP")


def _fonts_for(words: dict) -> list[str] | None:
    """Return the font list that draws every label (DejaVu Sans for Latin text), or None when no font here can."""
    text = "".join(str(value) for value in words.values() if not isinstance(value, list))
    text += "".join(str(value) for value in words.get("steps", []))
    if all(ord(character) < 0x2E80 for character in text):  # below the CJK blocks: DejaVu Sans has them
        return ["DejaVu Sans"]
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    return [found, "DejaVu Sans"] if found else None


def palette_indices(pixels: np.ndarray) -> np.ndarray:
    """Return the (H, W) indices of RGB pixels in the render palette: its colours exactly, others the nearest."""
    packed = (pixels[..., 0].astype(np.int32) << 16) | (pixels[..., 1].astype(np.int32) << 8) | pixels[..., 2]
    colours, inverse = np.unique(packed.ravel(), return_inverse=True)
    rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)  # (K, 3)
    usable = PALETTE[:TRANSPARENT_INDEX].astype(np.int32)  # (255, 3): never the reserved index
    nearest = np.argmin(((rgb[:, None, :] - usable[None, :, :]) ** 2).sum(axis=2), axis=1)  # exact colours: 0 away
    return nearest.astype(np.uint8)[inverse].reshape(packed.shape)
