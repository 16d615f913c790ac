"""A channel's most strongly activating image patches: the top-k (image, position) pairs and their input windows.

`top_patches(final, k)` takes a layer's final (A, H, W, C) maps and returns, per channel, the k images whose
largest value is largest (at most one position per image: that image's first largest, in row-major order),
strongest first, ties to the lower image index, as `Picks` (image, row, column and value per pick). `crop(image,
window, row, column)` returns the input pixels an activation at (row, column) depends on (report/numbers/
receptive_fields.py's Window), zero outside the image as 'same' padding sees it. `patch_strip(images, picks,
window)` draws every channel's picks as one row of crops (grey or RGB, as the model sees the images), a
GUTTER-pixel white line between them; a channel with fewer picks leaves its last cells white. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from report.numbers.receptive_fields import Window

GUTTER = 1  # white pixels between two crops and between two channels' rows
PAPER = 255


@dataclass(frozen=True)
class Picks:
    """Per channel, its k strongest (image, row, column) and the value there; `count` of them are real."""

    image: np.ndarray  # (C, k) int
    row: np.ndarray  # (C, k) int
    column: np.ndarray  # (C, k) int
    value: np.ndarray  # (C, k) float64
    count: int  # min(k, images)


def top_patches(final: np.ndarray, k: int) -> Picks:
    """Return each channel's k images with the largest activation, one position each (its first argmax)."""
    maps = np.asarray(final, np.float64)
    images, height, width, channels = maps.shape
    flat = maps.reshape(images, height * width, channels)
    where = np.argmax(flat, axis=1)  # (A, C): the first largest position of each image
    peak = np.take_along_axis(flat, where[:, None, :], axis=1)[:, 0, :]  # (A, C)
    count = min(k, images)
    # a stable sort on -peak: the strongest first, ties in image order
    order = np.argsort(-peak, axis=0, kind="stable")[:count].T  # (C, count)
    spot = np.take_along_axis(where.T, order, axis=1)
    return Picks(image=order, row=spot // width, column=spot % width,
                 value=np.take_along_axis(peak.T, order, axis=1), count=count)


def crop(image: np.ndarray, window: Window, row: int, column: int) -> np.ndarray:
    """Return the (size, size[, 3]) input pixels behind the activation at (row, column); zero outside the image."""
    image = np.asarray(image, np.uint8)
    size, height, width = window.size, image.shape[0], image.shape[1]
    top, left = window.start(row), window.start(column)
    out = np.zeros((size, size) + image.shape[2:], np.uint8)
    rows = slice(max(top, 0), min(top + size, height))
    columns = slice(max(left, 0), min(left + size, width))
    if rows.start < rows.stop and columns.start < columns.stop:
        out[rows.start - top:rows.stop - top, columns.start - left:columns.stop - left] = image[rows, columns]
    return out


def patch_strip(images: np.ndarray, picks: Picks, window: Window) -> np.ndarray:
    """Return one row of crops per channel (its picks, strongest first), GUTTER white pixels between cells."""
    channels, k = picks.image.shape
    pitch = window.size + GUTTER
    strip = np.full((channels * pitch - GUTTER, k * pitch - GUTTER) + np.shape(images)[3:], PAPER, np.uint8)
    for channel in range(channels):
        for place in range(picks.count):
            cell = crop(images[picks.image[channel, place]], window, int(picks.row[channel, place]),
                        int(picks.column[channel, place]))
            strip[channel * pitch:channel * pitch + window.size, place * pitch:place * pitch + window.size] = cell
    return strip
