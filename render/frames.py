"""Activations -> frames, in pure numpy: one uint8 palette-index image per snapshot of a layer.

A frame is a label band (`conv3 · step 57/290` on the left, a colour bar on the right), a row of
the probe images in grey, then one row per channel; one column per probe. Every cell is `cell`
pixels square whatever the map's resolution, maps are enlarged by nearest neighbour (`np.repeat`),
cells are separated by thin gutters, and every cell starts on an even pixel so that yuv420p's 2x2
chroma never mixes two blocks. Frame width and height are even. Turn a frame into RGB with
`render.palette.to_rgb`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from render.label import line_height, paint_text, text_width
from render.palette import grey_index, grey_indices, value_indices

BASE_CELL = 56  # a 28x28 map at 2x, a 7x7 map at 8x
GUTTER = 2
MARGIN = 2
SECTION_GAP = 6  # between the probe-image row and the channel rows
PAPER_LEVEL = 224  # background and gutters: light grey, so that white (zero) cells keep their edges
INK_LEVEL = 24


def _even(value: int) -> int:
    return value + (value % 2)


@dataclass(frozen=True)
class Layout:
    """Pixel geometry of one layer's frames."""

    probes: int
    channels: int
    cell: int
    gutter: int = GUTTER
    margin: int = MARGIN

    def __post_init__(self) -> None:
        """Reject geometry that would break even alignment or leave no room for the grid."""
        if self.cell < 2 or self.cell % 2 or self.gutter % 2 or self.margin % 2 or self.margin < self.gutter:
            raise ValueError(f"cell, gutter and margin must be even with margin >= gutter, got {self}")

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
        """Return the distance between the origins of neighbouring cells."""
        return self.cell + self.gutter

    @property
    def channels_top(self) -> int:
        """Return the y of the first channel row."""
        return self.band + self.cell + SECTION_GAP

    @property
    def width(self) -> int:
        """Return the frame width in pixels (even)."""
        return _even(2 * self.margin + self.probes * self.pitch - self.gutter)

    @property
    def height(self) -> int:
        """Return the frame height in pixels (even)."""
        return _even(self.channels_top + self.channels * self.pitch - self.gutter + self.margin)

    def cell_origin(self, row: int, column: int) -> tuple[int, int]:
        """Return the (y, x) of a cell's top-left pixel; row 0 is the probe images, row c+1 channel c."""
        x = self.margin + column * self.pitch
        y = self.band if row == 0 else self.channels_top + (row - 1) * self.pitch
        return y, x


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


def bar_labels(domain: tuple[float, float], bounded: bool) -> tuple[str, str]:
    """Return the texts at the low and high ends of a colour bar for `domain`."""
    if bounded:
        return f"{domain[0]:+g}".replace("+", ""), f"{domain[1]:+g}"
    return f"{domain[0]:.3g}", f"+{domain[1]:.3g}"


def bar_indices(width: int, height: int) -> np.ndarray:
    """Return an (height, width) palette-index gradient from the domain's low (left) to high (right)."""
    from render.palette import CENTER_INDEX, DIVERGING_SIZE

    ramp = np.rint(np.linspace(0, DIVERGING_SIZE - 1, width)).astype(np.uint8)  # (width,)
    if width % 2:
        ramp[width // 2] = CENTER_INDEX
    return np.broadcast_to(ramp, (height, width)).copy()


def _draw_band_bar(canvas: np.ndarray, layout: Layout, domain, bounded: bool, left_limit: int) -> bool:
    size = max(10, layout.font_size - 2)
    low, high = bar_labels(domain, bounded)
    bar_width = _even(max(2 * layout.cell, 40)) + 1
    bar_height = _even(max(6, layout.band // 3))
    total = text_width(low, size) + 4 + bar_width + 4 + text_width(high, size)
    x = layout.width - layout.margin - total
    if x < left_limit:
        return False
    text_y = (layout.band - line_height(size)) // 2
    x += paint_text(canvas, low, size, x, text_y, ink=INK_LEVEL, paper=PAPER_LEVEL) + 4
    y = (layout.band - bar_height) // 2
    canvas[y - 1:y + bar_height + 1, x - 1:x + bar_width + 1] = grey_index(INK_LEVEL + 96)  # thin frame
    canvas[y:y + bar_height, x:x + bar_width] = bar_indices(bar_width, bar_height)
    canvas[y + bar_height + 1:y + bar_height + 3, x + bar_width // 2] = grey_index(INK_LEVEL)  # tick at 0
    paint_text(canvas, high, size, x + bar_width + 4, text_y, ink=INK_LEVEL, paper=PAPER_LEVEL)
    return True


def _template(layout: Layout, probe_images: np.ndarray, domain, bounded: bool, label_room: int) -> np.ndarray:
    canvas = np.full((layout.height, layout.width), grey_index(PAPER_LEVEL), np.uint8)  # (H, W)
    probes = enlarge(grey_indices(probe_images), layout.cell)  # (N, cell, cell)
    for column, image in enumerate(probes):
        y, x = layout.cell_origin(0, column)
        canvas[y:y + layout.cell, x:x + layout.cell] = image
    _draw_band_bar(canvas, layout, domain, bounded, layout.margin + label_room + 8)
    return canvas


def layer_frames(values: np.ndarray, probe_images: np.ndarray, *, name: str, steps: Sequence[int],
                 domain: tuple[float, float], bounded: bool = True, cell: int = BASE_CELL,
                 indices: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """Yield one (H, W) uint8 palette-index frame per selected snapshot of a (T, N, H, W, C) layer."""
    values = np.asarray(values)
    if values.ndim != 5:
        raise ValueError(f"{name}: activations must be (T, N, H, W, C), got shape {values.shape}")
    count, probes, map_h, map_w, channels = values.shape
    if len(steps) != count or len(probe_images) != probes:
        raise ValueError(f"{name}: {count} snapshots of {probes} probes, but {len(steps)} steps and "
                         f"{len(probe_images)} probe images; pass the capture's own steps and probes")
    layout = Layout(probes=probes, channels=channels, cell=cell)
    last_step = int(steps[-1])
    label_room = text_width(step_label(name, last_step, last_step), layout.font_size)
    template = _template(layout, np.asarray(probe_images, np.uint8), domain, bounded, label_room)
    label_y = (layout.band - line_height(layout.font_size)) // 2
    top, left = layout.cell_origin(1, 0)
    span_y, span_x = channels * layout.pitch, probes * layout.pitch
    for t in range(count) if indices is None else indices:
        frame = template.copy()  # (H, W)
        block = frame[top:top + span_y, left:left + span_x]  # the margin holds the last trailing gutter
        grid = block.reshape(channels, layout.pitch, probes, layout.pitch)  # view (C, pitch, N, pitch)
        maps = value_indices(values[t], domain).transpose(3, 0, 1, 2)  # (C, N, h, w)
        grid[:, :cell, :, :cell] = enlarge(maps, cell).transpose(0, 2, 1, 3)  # (C, cell, N, cell)
        paint_text(frame, step_label(name, int(steps[t]), last_step), layout.font_size, layout.margin, label_y,
                   ink=INK_LEVEL, paper=PAPER_LEVEL)
        yield frame
