"""The explorer's canvases of a short real run, in real Chromium, against the archive and the renderer's frames."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests import explorer_browser as page
from tests import explorer_fixtures as fixtures
from tests import explorer_truth as truth
from tests import harness
from tests.explorer_fixtures import LAYER, assert_grid_shows

run, served = fixtures.run, fixtures.served  # `built` comes from conftest.py


def test_data_files_hold_the_capture_levels(built, run):
    _, site_dir = built
    meta = json.loads(re.search(r'<script type="application/json" id="explorer-meta"[^>]*>(.*?)</script>',
                                (site_dir / "index.html").read_text(), re.S).group(1))
    assert meta["steps"] == run["steps"] and meta["stride"] == 1  # the default budget holds a short run whole
    for layer in meta["layers"]:
        values = run[layer["name"]]  # (T, N, H, W, C)
        levels, exponents = truth.run_levels(values)
        assert layer["exponents"] == exponents
        assert layer["fixed_table"] == truth.fixed_indices(np.arange(256)).tolist()
        assert [list(base64.b64decode(meta["level_tables"][index])) for index in layer["fine_tables"]] == \
            [truth.fixed_indices(np.arange(256), k).tolist() for k in range(1, max(exponents) + 1)]
        assert layer["contrast_extents"] == [truth.step_extent(step) for step in levels]
        assert [group["channels"] for group in layer["groups"]] == [list(range(values.shape[-1]))]
        for probe, entry in enumerate(layer["groups"][0]["files"]):
            layer_name, chunk_probe, group, decoded = truth.read_chunk(site_dir / "assets" / entry["path"], meta)
            assert (layer_name, chunk_probe, group) == (layer["name"], probe, 0)
            assert (decoded == levels[:, probe].transpose(0, 3, 1, 2).reshape(levels.shape[0], -1)).all()


def test_canvases_equal_the_renderer_frames_at_three_steps(built, run, driver, served):
    steps = run["steps"]
    for t in (0, len(steps) // 2, len(steps) - 1):
        info = page.open_at(driver, served + f"index.html#step={steps[t]}")
        assert info["index"] == t
        for name in run["names"]:
            values = run[name]
            shot = page.read_view(driver, LAYER.format(name), [".xl-grid", ".xl-probes"])
            assert_grid_shows(shot, values[t], truth.fixed_indices)
            # The renderer's own frame, from unquantised values: at most one palette entry away (8-bit levels).
            shown = truth.palette_indices(truth.cell_blocks(truth.decode_png(shot["canvases"][0]["png"]),
                                                            shot["canvases"][0]["cell"], shot["canvases"][0]["gutter"],
                                                            values.shape[4], values.shape[1], values.shape[2])
                                          [..., 0, 0, :])
            frame = truth.renderer_indices(values, run["probes"], steps, t)
            assert shown.min() >= 0 and np.abs(shown - frame).max() <= 1, (name, t)
            probes = shot["canvases"][1]
            row = truth.decode_png(probes["png"])
            side, pitch = probes["cell"], probes["cell"] + probes["gutter"]
            colours = truth.probe_colours(run["probes"])  # (N, 28, 28, 3)
            centres = (np.arange(28) + 0.5) * side / 28
            for n in range(len(colours)):
                x0 = probes["gutter"] + n * pitch
                sampled = row[probes["gutter"] + centres.astype(int)][:, x0 + centres.astype(int)]
                assert (sampled == colours[n]).all(), (name, n)


def test_canvases_are_crisp_at_device_pixel_ratio_two(built, run, driver, served):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": harness.DESKTOP[0], "height": harness.DESKTOP[1], "deviceScaleFactor": 2,
                            "mobile": False})
    try:
        t = len(run["steps"]) - 1
        info = page.open_at(driver, served + "index.html")
        assert info["ratio"] == 2 and info["index"] == t
        for name in run["names"]:
            shot = page.read_view(driver, LAYER.format(name), [".xl-grid"])
            grid = shot["canvases"][0]
            assert grid["cell"] % run[name].shape[2] == 0 and grid["width"] == round(2 * grid["cssWidth"])
            assert_grid_shows(shot, run[name][t], truth.fixed_indices)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_contrast_scale_follows_its_rule_and_the_legend_says_so(built, run, driver, served):
    steps = run["steps"]
    t = len(steps) // 3
    page.open_at(driver, served + f"index.html#step={steps[t]}")
    driver.find_element(By.CSS_SELECTOR, "[data-explorer-contrast]").click()
    assert page.state(driver)["mode"] == "contrast"
    for name in run["names"]:
        levels, exponent = truth.step_levels(run[name][t])
        extent = truth.step_extent(levels)
        shot = page.read_view(driver, LAYER.format(name), [".xl-grid"])
        assert_grid_shows(shot, run[name][t], lambda levels, k, extent=extent: truth.contrast_indices(levels, extent))
        legend = driver.find_element(By.CSS_SELECTOR, f'[data-explorer-legend="{name}"]').text
        top = extent / (127 * 2 ** exponent)  # the step's largest |value|, in its levels
        assert legend.startswith("Contrast scale") and f"{top:.2g}".lstrip("0") in legend, legend
    driver.find_element(By.CSS_SELECTOR, "[data-explorer-contrast]").click()
    legend = (By.CSS_SELECTOR, f'[data-explorer-legend="{run["names"][0]}"]')
    # The legends are rewritten with the next drawn frame, not inside the click handler: wait for it.
    WebDriverWait(driver, 10).until(lambda d: d.find_element(*legend).text.startswith("Fixed"))
    assert page.state(driver)["mode"] != "contrast"


def test_compact_view_shows_the_chosen_probe_through_every_layer(built, run, driver, served):
    t = len(run["steps"]) - 1
    page.open_at(driver, served + "index.html")
    for probe in (0, 3):
        driver.find_element(By.CSS_SELECTOR, f"input[name='explorer-probe'][value='{probe}']").click()
        selectors = [f'[data-explorer-compact-layer="{name}"]' for name in run["names"]]
        shot = page.read_view(driver, "[data-explorer-compact]", selectors)
        for name, grid, selector in zip(run["names"], shot["canvases"], selectors):
            levels, exponent = truth.step_levels(run[name][t])  # the step's exponent is the whole layer's
            values = run[name][t, probe]  # (H, W, C)
            height, _, channels = values.shape
            # the page chooses each block's columns (one row of blocks when the window allows); reading order
            columns = int(driver.find_element(By.CSS_SELECTOR, selector).get_attribute("data-cols"))
            rows = -(-channels // columns)
            pixels = truth.decode_png(grid["png"])
            blocks = truth.cell_blocks(pixels, grid["cell"], grid["gutter"], rows, columns, height)
            centre = blocks[..., blocks.shape[-3] // 2, blocks.shape[-2] // 2, :]  # (rows, cols, H, W, 3)
            expected = truth.PALETTE[truth.fixed_indices(levels[probe].transpose(2, 0, 1), exponent)]
            shown = centre.reshape(rows * columns, height, height, 3)[:channels]
            assert (shown == expected).all(), (name, probe)


def test_contrast_draws_the_shapes_of_a_faint_step_in_many_colours(built, run, driver, served):
    """Issue 22: a step whose layer spans a few levels of its fixed scale (the faintest in the run, found from the
    archive) still shows its shapes under contrast: every level the step's exponent gives, at least 12 colours."""
    steps = run["steps"]
    extent, name, t = min((truth.step_extent(truth.levels_of(run[name][t], 1.0)), name, t)
                          for name in run["names"] for t in range(len(steps)))
    assert extent <= 3, "the run has no faint step to check"  # its fixed scale holds at most 7 colours there
    levels, exponent = truth.step_levels(run[name][t])
    expected = truth.contrast_indices(levels, truth.step_extent(levels))
    colours = len(np.unique(expected))
    assert exponent > 0 and colours >= 12, (name, steps[t], exponent, colours)
    page.open_at(driver, served + f"index.html#step={steps[t]}")
    driver.find_element(By.CSS_SELECTOR, "[data-explorer-contrast]").click()
    shot = page.read_view(driver, LAYER.format(name), [".xl-grid"])
    assert_grid_shows(shot, run[name][t], lambda levels, k: truth.contrast_indices(levels, truth.step_extent(levels)))
    grid = shot["canvases"][0]
    pixels = truth.decode_png(grid["png"])
    shown = truth.cell_blocks(pixels, grid["cell"], grid["gutter"], levels.shape[3], levels.shape[0],
                              levels.shape[1])[..., 0, 0, :]
    assert len(np.unique(shown.reshape(-1, 3), axis=0)) == colours
