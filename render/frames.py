"""Activations -> frames, in pure numpy: one uint8 palette-index image per snapshot of a layer.

A frame is a label band (`conv3 · step 57/290` on the left, a colour bar on the right), a row of
the probe images (grey; see render/probes.py for RGB), then one row per shown channel; one column per
probe. Each activation is a solid block of `block` x `block` pixels (nearest neighbour, `np.repeat`),
so a cell is (block * h) x (block * w) for an h x w map: a 28x28 map at 2, 14x14 at 4, 7x7 at 8 and a
Dense layer's 1x1 at 56 all give 56-pixel cells. When only some channels are shown, a narrow left
column labels each row with its channel index. Cells are separated by thin gutters and every cell
starts on an even pixel with even sides, so that yuv420p's 2x2 chroma never mixes two blocks. Frame
width and height are even. Turn a frame into RGB with `render.palette.to_rgb`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from capture.step_blocks import iter_steps
from render.label import line_height, paint_text, text_width
from render.palette import CENTER_INDEX, DIVERGING_SIZE, grey_index, grey_indices, scale_indices
from render.probes import fit, grey_of

BASE_CELL = 56  # a 28x28 map at 2x, a 7x7 map at 8x
MIN_SIDE = 8  # the shorter side of a cell, in pixels, at least
GUTTER = 2
MARGIN = 2
SECTION_GAP = 6  # between the probe-image row and the channel rows
PAPER_LEVEL = 224  # background and gutters: light grey, so that white (zero) cells keep their edges
INK_LEVEL = 24
LABEL_PAD = 4  # around a row label


def _even(value: int) -> int:
    return value + (value % 2)


def block_for(map_h: int, map_w: int, cell: int = BASE_CELL) -> int:
    """Return the pixels per activation that fit a map into about `cell` pixels: whole, even unless 1."""
    block = max(1, cell // max(map_h, map_w), -(-MIN_SIDE // min(map_h, map_w)))
    if block > 1:
        return block // 2 * 2
    return 1 if map_h % 2 == 0 and map_w % 2 == 0 else 2


@dataclass(frozen=True)
class Layout:
    """Pixel geometry of one layer's frames (cells `cell` high, `cell_width` wide; square by default)."""

    probes: int
    channels: int
    cell: int
    gutter: int = GUTTER
    margin: int = MARGIN
    cell_width: int | None = None
    label_column: int = 0  # width of the left column of channel labels (0: none)

    def __post_init__(self) -> None:
        """Reject geometry that would break even alignment or leave no room for the grid."""
        if (self.cell < 2 or self.cell % 2 or self.cell_w < 2 or self.cell_w % 2 or self.gutter % 2
                or self.margin % 2 or self.margin < self.gutter or self.label_column % 2):
            raise ValueError(f"cell, gutter, margin and label column must be even with margin >= gutter, got {self}")

    @property
    def cell_w(self) -> int:
        """Return the cell width in pixels."""
        return self.cell if self.cell_width is None else self.cell_width

    @property
    def font_size(self) -> int:
        """Return the label's font size in pixels."""
        return max(10, round(self.cell * 0.3))

    @property
    def band(self) -> int:
        """Return the height of the label band (even)."""
        return _even(line_height(self.font_size) + 6)

    @property
    def pitch(self) -> int:
        """Return the distance between the origins of vertically neighbouring cells."""
        return self.cell + self.gutter

    @property
    def pitch_x(self) -> int:
        """Return the distance between the origins of horizontally neighbouring cells."""
        return self.cell_w + self.gutter

    @property
    def channels_top(self) -> int:
        """Return the y of the first channel row."""
        return self.band + self.cell + SECTION_GAP

    @property
    def width(self) -> int:
        """Return the frame width in pixels (even)."""
        return _even(2 * self.margin + self.label_column + self.probes * self.pitch_x - self.gutter)

    @property
    def height(self) -> int:
        """Return the frame height in pixels (even)."""
        return _even(self.channels_top + self.channels * self.pitch - self.gutter + self.margin)

    def cell_origin(self, row: int, column: int) -> tuple[int, int]:
        """Return the (y, x) of a cell's top-left pixel; row 0 is the probe images, row r+1 the r-th shown channel."""
        x = self.margin + self.label_column + column * self.pitch_x
        y = self.band if row == 0 else self.channels_top + (row - 1) * self.pitch
        return y, x


def row_label_width(shown: Sequence[int], font_size: int) -> int:
    """Return the even width of a left column that holds the numbers (1-based) of the channels `shown`.

    At least two digits wide, so that layers of up to 99 channels have frames of one width (the page's compact
    views line up)."""
    return _even(max(text_width(text, font_size) for text in ["99", *(str(channel + 1) for channel in shown)])
                 + 2 * LABEL_PAD)


def layer_layout(shape: Sequence[int], *, cell: int = BASE_CELL, block: int | None = None,
                 shown: Sequence[int] | None = None) -> Layout:
    """Return the Layout of a (T, N, H, W, C) layer's frames: `block` pixels per activation (from `cell` if None)."""
    _, probes, map_h, map_w, channels = shape
    block = block_for(map_h, map_w, cell) if block is None else block
    rows = channels if shown is None else len(shown)
    layout = Layout(probes=probes, channels=rows, cell=block * map_h, cell_width=block * map_w)
    # Every row is labelled with its channel's number, as the page names it (1-based), so that a downloaded frame
    # or video says which channel each row is.
    return Layout(probes=probes, channels=rows, cell=layout.cell, cell_width=layout.cell_w,
                  label_column=row_label_width(range(channels) if shown is None else shown, layout.font_size))


def enlarge(maps: np.ndarray, size: int) -> np.ndarray:
    """Resize the last two axes of `maps` to (size, size) by nearest neighbour: each value a solid block."""
    maps = np.asarray(maps)
    h, w = maps.shape[-2:]
    if size % h == 0 and size % w == 0:
        return np.repeat(np.repeat(maps, size // h, axis=-2), size // w, axis=-1)
    if h % size == 0 and w % size == 0:  # previews smaller than the map: keep every k-th value
        return maps[..., h // size // 2::h // size, w // size // 2::w // size].copy()
    rows = (np.arange(size) * h) // size
    cols = (np.arange(size) * w) // size
    return maps[..., rows[:, None], cols[None, :]]


def step_label(name: str, step: int, last_step: int) -> str:
    """Return the frame label, e.g. `conv3 · step 57/290`."""
    return f"{name} · step {step}/{last_step}"


def bar_labels(scale: dict) -> tuple[str, str]:
    """Return the texts at the low and high ends of a scale's colour bar."""
    low, high = (float(end) for end in scale["domain"])
    if scale["kind"] == "fixed":
        return f"{low:+g}".replace("+", ""), f"{high:+g}"
    return ("0" if low == 0 else f"{low:.3g}"), f"+{high:.3g}"


def bar_indices(width: int, height: int, scale: dict | None = None) -> np.ndarray:
    """Return an (height, width) palette-index gradient from the domain's low (left) to high (right).

    A signed domain spans the whole red-white-blue table; a domain from 0 its white-to-blue half,
    as `scale_indices` draws it.
    """
    sequential = scale is not None and float(scale["domain"][0]) >= 0
    start = CENTER_INDEX if sequential else 0
    ramp = np.rint(np.linspace(start, DIVERGING_SIZE - 1, width)).astype(np.uint8)  # (width,)
    if width % 2 and not sequential:
        ramp[width // 2] = CENTER_INDEX
    return np.broadcast_to(ramp, (height, width)).copy()


def _draw_band_bar(canvas: np.ndarray, layout: Layout, scale: dict, left_limit: int) -> bool:
    size = max(10, layout.font_size - 2)
    low, high = bar_labels(scale)
    bar_width = _even(max(2 * layout.cell_w, 40)) + 1
    bar_height = _even(max(6, layout.band // 3))
    total = text_width(low, size) + 4 + bar_width + 4 + text_width(high, size)
    x = layout.width - layout.margin - total
    if x < left_limit:
        return False
    text_y = (layout.band - line_height(size)) // 2
    x += paint_text(canvas, low, size, x, text_y, ink=INK_LEVEL, paper=PAPER_LEVEL) + 4
    y = (layout.band - bar_height) // 2
    canvas[y - 1:y + bar_height + 1, x - 1:x + bar_width + 1] = grey_index(INK_LEVEL + 96)  # thin frame
    canvas[y:y + bar_height, x:x + bar_width] = bar_indices(bar_width, bar_height, scale)
    if float(scale["domain"][0]) < 0:
        canvas[y + bar_height + 1:y + bar_height + 3, x + bar_width // 2] = grey_index(INK_LEVEL)  # tick at 0
    paint_text(canvas, high, size, x + bar_width + 4, text_y, ink=INK_LEVEL, paper=PAPER_LEVEL)
    return True


def _template(layout: Layout, probe_images: np.ndarray, scale: dict, label_room: int,
              row_labels: Sequence[int] | None) -> np.ndarray:
    paper = grey_index(PAPER_LEVEL)
    canvas = np.full((layout.height, layout.width), paper, np.uint8)  # (H, W)
    probes = fit(grey_indices(grey_of(probe_images)), layout.cell, layout.cell_w, paper)  # (N, cell, cell_w)
    for column, image in enumerate(probes):
        y, x = layout.cell_origin(0, column)
        canvas[y:y + layout.cell, x:x + layout.cell_w] = image
    _draw_band_bar(canvas, layout, scale, layout.margin + label_room + 8)
    for row, channel in enumerate(row_labels or ()):  # right-aligned, centred on the row
        text = str(channel + 1)
        y, x = layout.cell_origin(row + 1, 0)
        top = y + (layout.cell - line_height(layout.font_size)) // 2
        left = x - LABEL_PAD - text_width(text, layout.font_size)
        paint_text(canvas, text, layout.font_size, left, max(0, top), ink=INK_LEVEL, paper=PAPER_LEVEL)
    return canvas


def layer_frames(values: np.ndarray, probe_images: np.ndarray, *, name: str, steps: Sequence[int], scale: dict,
                 block: int | None = None, shown: Sequence[int] | None = None,
                 indices: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """Yield one (H, W) uint8 palette-index frame per selected snapshot of a (T, N, H, W, C) layer.

    scale: a pipeline.scales.choose_scale dict (at least "kind" and "domain"); shown: the channels drawn,
    in order (all by default; labelled when fewer); block: pixels per activation (default: cells of
    about BASE_CELL, `block_for`).
    """
    shape = tuple(np.shape(values))  # not read: the snapshots come a block of steps at a time (iter_steps)
    if len(shape) != 5:
        raise ValueError(f"{name}: activations must be (T, N, H, W, C), got shape {shape}")
    count, probes, map_h, map_w, channels = shape
    if len(steps) != count or len(probe_images) != probes:
        raise ValueError(f"{name}: {count} snapshots of {probes} probes, but {len(steps)} steps and "
                         f"{len(probe_images)} probe images; pass the capture's own steps and probes")
    every = shown is None or list(shown) == list(range(channels))
    shown = list(range(channels)) if every else list(shown)
    layout = layer_layout(shape, block=block, shown=shown)
    factor = layout.cell // map_h
    last_step = int(steps[-1])
    label_room = text_width(step_label(name, last_step, last_step), layout.font_size)
    template = _template(layout, np.asarray(probe_images, np.uint8), scale, label_room, shown)
    label_y = (layout.band - line_height(layout.font_size)) // 2
    top, left = layout.cell_origin(1, 0)
    rows = layout.channels
    span_y, span_x = rows * layout.pitch, probes * layout.pitch_x
    picked = None if every else np.asarray(shown, np.intp)
    picks = list(range(count)) if indices is None else [int(t) for t in indices]
    for t, snapshot in zip(picks, iter_steps(values, picks)):
        frame = template.copy()  # (H, W)
        block_view = frame[top:top + span_y, left:left + span_x]  # the margin holds the last trailing gutter
        grid = block_view.reshape(rows, layout.pitch, probes, layout.pitch_x)  # view (C', pitch, N, pitch_x)
        snapshot = snapshot if picked is None else snapshot[..., picked]  # (N, h, w, C')
        maps = scale_indices(snapshot, scale).transpose(3, 0, 1, 2)  # (C', N, h, w)
        cells = np.repeat(np.repeat(maps, factor, axis=-2), factor, axis=-1)  # (C', N, cell, cell_w)
        grid[:, :layout.cell, :, :layout.cell_w] = cells.transpose(0, 2, 1, 3)  # (C', cell, N, cell_w)
        paint_text(frame, step_label(name, int(steps[t]), last_step), layout.font_size, layout.margin, label_y,
                   ink=INK_LEVEL, paper=PAPER_LEVEL)
        yield frame
