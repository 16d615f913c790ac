"""The explorer tests' shared fixtures (a short real site, its capture, a server) and grid check."""

from __future__ import annotations

import numpy as np
import pytest

from tests import explorer_truth as truth
from tests import harness
from tests.archive_arrays import read_archive

LAYER = '[data-explorer-layer="{}"]'


@pytest.fixture(scope="module")
def run(built):
    """Return the capture's arrays: steps, probe images, layer names and each layer's activations."""
    archive = read_archive(built[0] / "capture.h5")
    names = [str(name) for name in archive["layer_names"]]
    return {"steps": [int(s) for s in archive["steps"]], "probes": archive["probe_images"], "names": names,
            **{name: archive[name] for name in names}}


@pytest.fixture()
def served(built):
    """Serve the site over http; yield its base URL."""
    with harness.serve_directory(built[1]) as base:
        yield base


def assert_grid_shows(shot: dict, values_t: np.ndarray, expected_index) -> None:
    """Check a layer grid: every block one colour, equal to the expected palette colour; gutters paper.

    expected_index(levels, exponent): the palette indices of the step's (C, N, H, W) levels at its exponent.
    """
    grid = shot["canvases"][0]
    probes, height, width, channels = values_t.shape
    pixels = truth.decode_png(grid["png"])
    assert pixels.shape[:2] == (grid["gutter"] + channels * (grid["cell"] + grid["gutter"]),
                                grid["gutter"] + probes * (grid["cell"] + grid["gutter"]))
    blocks = truth.cell_blocks(pixels, grid["cell"], grid["gutter"], channels, probes, height)
    centre = blocks[..., blocks.shape[-3] // 2, blocks.shape[-2] // 2, :]  # (C, N, H, W, 3)
    assert (blocks == centre[..., None, None, :]).all(), "a block is not one colour: not nearest-neighbour"
    levels, exponent = truth.step_levels(values_t)
    expected = truth.PALETTE[expected_index(levels.transpose(3, 0, 1, 2), exponent)]  # (C, N, H, W, 3)
    wrong = np.argwhere((centre != expected).any(-1))
    assert wrong.size == 0, f"{len(wrong)} activations differ, first (channel, probe, y, x) {wrong[0].tolist()}"
    assert (truth.gutter_pixels(pixels, grid["cell"], grid["gutter"], channels, probes) == truth.PAPER_RGB).all()
