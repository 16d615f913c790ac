"""The one 256-colour palette every frame is drawn in, and values -> palette indices.

Frames are composed as uint8 palette-index images (1 byte a pixel); RGB is only made where an
encoder needs it. One palette serves MP4, PNG and GIF, so the GIF's colours are exact.

    0 .. 190    diverging red-white-blue table (191 entries, odd): RdBu's eleven ColorBrewer anchors
                with the centre anchor #f7f7f7 replaced by pure white; entry 0 = domain low (red),
                entry 95 = 0 exactly = (255, 255, 255), entry 190 = domain high (blue)
    191         NaN / +-inf: a neutral grey that is on neither the scale nor the grey ramp
    192 .. 254  grey ramp, 63 levels from black to white (probe images, text, gutters)
    255         reserved: never drawn; the GIF writer uses it as the transparent index
"""

from __future__ import annotations

import numpy as np

DIVERGING_SIZE = 191
CENTER_INDEX = DIVERGING_SIZE // 2
NAN_INDEX = DIVERGING_SIZE
GREY_BASE = NAN_INDEX + 1
GREY_LEVELS = 63
TRANSPARENT_INDEX = 255
NAN_RGB = (150, 150, 150)
_TRANSPARENT_RGB = (255, 0, 255)  # never drawn; loud if it ever is


def diverging_table(size: int = DIVERGING_SIZE) -> np.ndarray:
    """Return a (size, 3) uint8 red-white-blue table from matplotlib's RdBu with a pure white middle."""
    if size < 3 or size % 2 == 0:
        raise ValueError(f"the diverging table needs an odd size >= 3 so that 0 has an entry; got {size}")
    import matplotlib
    from matplotlib.colors import LinearSegmentedColormap

    anchors = matplotlib.colormaps["RdBu"].resampled(11)(np.arange(11))[:, :3]  # (11, 3) ColorBrewer RdBu
    anchors[5] = 1.0  # #f7f7f7 -> #ffffff
    cmap = LinearSegmentedColormap.from_list("RdWhBu", anchors, N=size)
    table = np.rint(cmap(np.arange(size))[:, :3] * 255).astype(np.uint8)  # (size, 3)
    table[size // 2] = 255  # exact by construction; made explicit against float round-off
    return table


def _build_palette() -> np.ndarray:
    palette = np.zeros((256, 3), np.uint8)  # (256, 3)
    palette[:DIVERGING_SIZE] = diverging_table(DIVERGING_SIZE)
    palette[NAN_INDEX] = NAN_RGB
    ramp = np.rint(np.arange(GREY_LEVELS) * 255 / (GREY_LEVELS - 1)).astype(np.uint8)  # (63,)
    palette[GREY_BASE:GREY_BASE + GREY_LEVELS] = ramp[:, None]
    palette[TRANSPARENT_INDEX] = _TRANSPARENT_RGB
    palette.setflags(write=False)
    return palette


PALETTE = _build_palette()  # (256, 3) uint8, read-only


def grey_index(level: int) -> int:
    """Return the palette index of the ramp grey nearest to `level` (0 black .. 255 white)."""
    return GREY_BASE + int(round(level * (GREY_LEVELS - 1) / 255))


def grey_indices(image: np.ndarray) -> np.ndarray:
    """Map a uint8 grey image (0 black .. 255 white) to palette indices of the grey ramp."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"grey images must be uint8 0..255, got {image.dtype}; convert them first")
    table = (GREY_BASE + np.rint(np.arange(256) * (GREY_LEVELS - 1) / 255)).astype(np.uint8)  # (256,)
    return table[image]


def value_indices(values: np.ndarray, domain: tuple[float, float]) -> np.ndarray:
    """Map activations to diverging palette indices for a fixed (low, high) domain; NaN/inf -> NAN_INDEX."""
    low, high = float(domain[0]), float(domain[1])
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"a colour domain must be finite with low < high, got {domain}")
    values = np.asarray(values, np.float32)
    scaled = (values - np.float32(low)) * np.float32((DIVERGING_SIZE - 1) / (high - low))
    with np.errstate(invalid="ignore"):
        indices = np.clip(np.rint(scaled), 0, DIVERGING_SIZE - 1)
    finite = np.isfinite(values)
    return np.where(finite, indices, NAN_INDEX).astype(np.uint8)


def to_rgb(indices: np.ndarray) -> np.ndarray:
    """Return the (..., 3) uint8 RGB colours of palette indices."""
    return PALETTE[np.asarray(indices, np.uint8)]


def colorize(values: np.ndarray, domain: tuple[float, float]) -> np.ndarray:
    """Return the (..., 3) uint8 RGB colours of activations under a fixed (low, high) domain."""
    return to_rgb(value_indices(values, domain))


def symmetric_domain(values: np.ndarray) -> tuple[float, float]:
    """Return (-m, +m) with m the largest finite |value| (1.0 when there is none or it is 0)."""
    values = np.asarray(values)
    finite = np.abs(values[np.isfinite(values)].astype(np.float32)) if values.size else np.zeros(0)
    largest = float(finite.max()) if finite.size else 0.0
    largest = largest if largest > 0 else 1.0
    return (-largest, largest)


def scale_indices(values, scale: dict) -> np.ndarray:
    """Map activations to palette indices under a layer's scale; NaN/inf -> the NaN grey.

    Diverging and fixed signed scales use the whole red-white-blue table over the domain; a
    sequential scale ([0, high]) uses its white-to-blue half, so 0 is white as on every other layer
    and the colours never suggest a sign the values do not have (anything below 0 is drawn white).
    """
    low, high = (float(end) for end in scale["domain"])
    if low < 0:
        return value_indices(values, (low, high))
    values = np.asarray(values, np.float32)
    with np.errstate(invalid="ignore"):
        steps = np.clip(np.rint(values * np.float32(CENTER_INDEX / high)), 0, DIVERGING_SIZE - 1 - CENTER_INDEX)
    return np.where(np.isfinite(values), CENTER_INDEX + steps, NAN_INDEX).astype(np.uint8)
