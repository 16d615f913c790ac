"""The explorer of a short real run, in real Chromium: canvases against capture.npz, controls, loading, figures."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests import explorer_browser as page
from tests import explorer_truth as truth
from tests import harness
from tests.harness.tools import script

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
LAYER = '[data-explorer-layer="{}"]'


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build a whole site from a short bundled run through the real command line; return (build, site)."""
    root = tmp_path_factory.mktemp("explorer")
    build_dir, site_dir = root / "build", root / "site"
    result = subprocess.run(
        [sys.executable, str(REPO / "generate.py"), "site", "--quiet", "--dataset", "bundled", "--steps", "24",
         "--set", "test_every=4", "--build-dir", str(build_dir), "--site-dir", str(site_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    return build_dir, site_dir


@pytest.fixture(scope="module")
def run(built):
    """Return the capture's arrays: steps, probe images, layer names and each layer's activations."""
    with np.load(built[0] / "capture.npz", allow_pickle=False) as archive:
        names = [str(name) for name in archive["layer_names"]]
        return {"steps": [int(s) for s in archive["steps"]], "probes": archive["probe_images"], "names": names,
                **{name: archive[name] for name in names}}


@pytest.fixture()
def served(built):
    with harness.serve_directory(built[1]) as base:
        yield base


def assert_grid_shows(shot: dict, values_t: np.ndarray, expected_index) -> None:
    """Check a layer grid: every block one colour, equal to the expected palette colour; gutters paper."""
    grid = shot["canvases"][0]
    probes, height, width, channels = values_t.shape
    pixels = truth.decode_png(grid["png"])
    assert pixels.shape[:2] == (grid["gutter"] + channels * (grid["cell"] + grid["gutter"]),
                                grid["gutter"] + probes * (grid["cell"] + grid["gutter"]))
    blocks = truth.cell_blocks(pixels, grid["cell"], grid["gutter"], channels, probes, height)
    centre = blocks[..., blocks.shape[-3] // 2, blocks.shape[-2] // 2, :]  # (C, N, H, W, 3)
    assert (blocks == centre[..., None, None, :]).all(), "a block is not one colour: not nearest-neighbour"
    levels = truth.levels(values_t).transpose(3, 0, 1, 2)  # (C, N, H, W)
    expected = truth.PALETTE[expected_index(levels)]
    wrong = np.argwhere((centre != expected).any(-1))
    assert wrong.size == 0, f"{len(wrong)} activations differ, first (channel, probe, y, x) {wrong[0].tolist()}"
    assert (truth.gutter_pixels(pixels, grid["cell"], grid["gutter"], channels, probes) == truth.PAPER_RGB).all()


def test_data_files_hold_the_capture_levels(built, run):
    _, site_dir = built
    meta = json.loads(re.search(r'<script type="application/json" id="explorer-meta"[^>]*>(.*?)</script>',
                                (site_dir / "index.html").read_text(), re.S).group(1))
    assert meta["steps"] == run["steps"]
    for layer in meta["layers"]:
        values = run[layer["name"]]  # (T, N, H, W, C)
        levels = truth.levels(values)
        assert layer["fixed_table"] == truth.fixed_indices(np.arange(256)).tolist()
        assert layer["contrast_extents"] == [truth.step_extent(step) for step in levels]
        for probe, entry in enumerate(layer["files"]):
            text = (site_dir / "assets" / entry["path"]).read_text("ascii")
            payload = re.fullmatch(r'\(window\.explorerChunks = window\.explorerChunks \|\| \[\]\)\.push\('
                                   r'\["(\w+)", (\d+), "([A-Za-z0-9+/=]+)"\]\);\n', text)
            assert payload and payload.group(1) == layer["name"] and int(payload.group(2)) == probe
            deltas = np.frombuffer(zlib.decompress(base64.b64decode(payload.group(3))), np.uint8)
            decoded = np.cumsum(deltas.reshape(levels.shape[0], -1), axis=0) % 256  # undo step deltas
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
        extent = truth.step_extent(truth.levels(run[name][t]))
        shot = page.read_view(driver, LAYER.format(name), [".xl-grid"])
        assert_grid_shows(shot, run[name][t], lambda levels: truth.contrast_indices(levels, extent))
        legend = driver.find_element(By.CSS_SELECTOR, f'[data-explorer-legend="{name}"]').text
        assert legend.startswith("Contrast scale") and f"{extent / 127:.2g}".lstrip("0") in legend, legend
    driver.find_element(By.CSS_SELECTOR, "[data-explorer-contrast]").click()
    assert driver.find_element(By.CSS_SELECTOR, f'[data-explorer-legend="{run["names"][0]}"]').text.startswith("Fixed")


def test_compact_view_shows_the_chosen_probe_through_every_layer(built, run, driver, served):
    t = len(run["steps"]) - 1
    page.open_at(driver, served + "index.html")
    for probe in (0, 3):
        driver.find_element(By.CSS_SELECTOR, f"input[name='explorer-probe'][value='{probe}']").click()
        selectors = [f'[data-explorer-compact-layer="{name}"]' for name in run["names"]]
        shot = page.read_view(driver, "[data-explorer-compact]", selectors)
        for name, grid in zip(run["names"], shot["canvases"]):
            values = run[name][t, probe]  # (H, W, C)
            height, _, channels = values.shape
            columns = 2 if channels <= 4 else 4
            pixels = truth.decode_png(grid["png"])
            blocks = truth.cell_blocks(pixels, grid["cell"], grid["gutter"], channels // columns, columns, height)
            centre = blocks[..., blocks.shape[-3] // 2, blocks.shape[-2] // 2, :]  # (rows, cols, H, W, 3)
            expected = truth.PALETTE[truth.fixed_indices(truth.levels(values).transpose(2, 0, 1))]
            assert (centre.reshape(channels, height, height, 3) == expected).all(), (name, probe)


def assert_cursor_at(state: dict, step: int) -> None:
    for cursor in state["cursors"]:
        assert cursor["x"] == pytest.approx(cursor["x0"] + (cursor["x1"] - cursor["x0"]) * step / cursor["last"],
                                            abs=0.01)


def test_keyboard_and_pointer_move_the_step_and_the_curve_cursor(built, run, driver, served):
    steps, last = run["steps"], len(run["steps"]) - 1
    page.open_at(driver, served + "index.html")
    slider = driver.find_element(By.ID, "explorer-step")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    for keys, index in ((Keys.HOME, 0), (Keys.ARROW_RIGHT * 3, 3), (Keys.END, last), (Keys.ARROW_LEFT, last - 1)):
        slider.send_keys(keys)
        now = page.state(driver)
        assert now["index"] == now["slider"] == index and now["shown"] == str(steps[index]), (keys, now)
        assert now["valuetext"] == f"step {steps[index]} of {steps[-1]}"
        assert_cursor_at(now, steps[index])
    slider.send_keys(Keys.HOME + Keys.SPACE)  # space plays from the start...
    page.wait_for(lambda: page.state(driver)["index"] >= 2, what="playing to move the step")
    slider.send_keys(Keys.SPACE)  # ...and pauses
    paused = page.state(driver)
    assert not paused["playing"] and page.state(driver)["index"] == paused["index"]
    page.drag_across(driver, slider, moves=20, back=False)
    assert page.state(driver)["index"] == last
    quarter = -slider.size["width"] // 2 + slider.size["width"] // 4
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).move_to_element_with_offset(slider, quarter, 0).click().perform()
    assert abs(page.state(driver)["index"] - last / 4) <= 2
    curve = driver.find_element(By.CSS_SELECTOR, "[data-explorer-curve]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", curve)
    for wanted in (steps[last // 2], steps[-1], steps[0]):
        offset = driver.execute_script("""
            const svg = arguments[0], point = svg.createSVGPoint(), box = svg.getBoundingClientRect();
            point.x = +svg.dataset.x0 + (svg.dataset.x1 - svg.dataset.x0) * arguments[1] / svg.dataset.last;
            point.y = 60;
            const screen = point.matrixTransform(svg.getScreenCTM());
            return [screen.x - (box.left + box.width / 2), screen.y - (box.top + box.height / 2)];""", curve, wanted)
        ActionChains(driver).move_to_element_with_offset(curve, round(offset[0]), round(offset[1])).click().perform()
        now = page.state(driver)
        assert abs(steps[now["index"]] - wanted) <= 1, (wanted, now)
        assert_cursor_at(now, steps[now["index"]])


def test_step_fragment_opens_the_page_there_and_follows_the_step(built, run, driver, served):
    steps = run["steps"]
    middle = steps[len(steps) // 2]
    page.open_at(driver, served + f"index.html#step={middle}")
    assert page.state(driver)["shown"] == str(middle)
    driver.find_element(By.ID, "explorer-step").send_keys(Keys.ARROW_RIGHT)
    page.wait_for(lambda: page.state(driver)["hash"] == f"#step={steps[len(steps) // 2 + 1]}", what="the fragment")
    driver.execute_script("location.hash = '#step=3'")
    page.wait_for(lambda: page.state(driver)["shown"] == "3", what="a new fragment to move the step")
    page.open_at(driver, served + "index.html#step=3")
    assert page.state(driver)["index"] == steps.index(3)


@pytest.mark.parametrize("where", ["file", "http", "subfolder"])
def test_every_view_loads_from_disk_over_http_and_from_a_subfolder(built, run, driver, tmp_path, where):
    _, site_dir = built
    if where == "subfolder":
        shutil.copytree(site_dir, tmp_path / "project-name")
    with harness.serve_directory(tmp_path if where == "subfolder" else site_dir) as base:
        url = {"file": harness.file_url(site_dir / "index.html"), "http": base + "index.html",
               "subfolder": base + "project-name/index.html"}[where]
        report = harness.check_page(driver, url)
        assert report.ok, str(report)
        page.open_at(driver, url)
        for selector in ["[data-explorer-compact]"] + [LAYER.format(name) for name in run["names"]]:
            page.read_view(driver, selector, [])
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        assert severe == [], severe
        requested = [event["params"]["request"]["url"] for event in harness.page.network_events(driver)
                     if event["method"] == "Network.requestWillBeSent"]
        chunks = {name for name in requested if re.search(r"/assets/explore-conv\d-\d+\.js$", name)}
        assert len(chunks) == len(run["names"]) * len(run["probes"])
        outside = [name for name in requested if not name.startswith(url.rsplit("/", 1)[0] + "/")]
        assert outside == [], outside


def test_without_javascript_the_posters_and_videos_remain(built, run, driver, served):
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(served + "index.html")
        posters = page.wait_for(lambda: [width for source, width in driver.execute_script(
            "return Array.from(document.images).map(i => [i.currentSrc, i.complete ? i.naturalWidth : 0])")
            if re.search(r"/conv\d\.png$", source) and width > 0], what="the posters to load")
        assert len(posters) == len(run["names"])
        videos = driver.find_elements(By.CSS_SELECTOR, "a[href$='.mp4']")
        assert len(videos) == len(run["names"])
        assert not any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, "[data-explorer-ui]"))
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_axe_and_vnu_find_nothing_at_desktop_and_phone_width(built, driver, served):
    harness.require(harness.axe_available())
    for width, height in (harness.DESKTOP, harness.PHONE):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                      "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            page.open_at(driver, served + "index.html")
            page.read_view(driver, "[data-explorer-compact]", [])
            assert harness.run_axe(driver) == [], width
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    harness.require(harness.vnu_available())
    assert harness.run_vnu([built[1] / "index.html"]) == []


def test_screenshots_at_the_first_middle_and_last_step(built, run, driver, served):
    steps = run["steps"]
    for step in (steps[0], steps[len(steps) // 2], steps[-1]):
        for label, (width, height) in (("desktop", harness.DESKTOP), ("phone", harness.PHONE)):
            path = BUILD / "screenshots" / f"explorer-{label}-step-{step}.png"
            page.open_at(driver, served + f"index.html#step={step}")
            page.viewport_screenshot(driver, path, width, height, "#explorer-title")
            assert path.stat().st_size > 10_000


def test_slider_to_drawn_time_and_memory_after_scrubbing(built, run, driver, served):
    page.open_at(driver, served + "index.html")
    slider = driver.find_element(By.ID, "explorer-step")
    figures = {}
    for where in ["[data-explorer-compact]", LAYER.format(run["names"][0]), LAYER.format(run["names"][-1])]:
        page.read_view(driver, where, [])
        driver.execute_script(script("explorer_stats"), True)
        for _ in range(3):
            page.drag_across(driver, slider, moves=2 * len(run["steps"]))
        stats = driver.execute_script(script("explorer_stats"), False)
        figures[where] = {"drawn": page.summary(stats["samples"]), "next_frame": page.summary(stats["frames"])}
        assert figures[where]["drawn"]["median_ms"] <= 16 and figures[where]["drawn"]["p95_ms"] <= 50, figures
    for name in run["names"]:
        page.read_view(driver, LAYER.format(name), [])
        page.drag_across(driver, slider, moves=len(run["steps"]))
    stats = driver.execute_script(script("explorer_stats"), False)
    figures["memory"] = {"js_heap_mb": round(stats["heapUsed"] / 1e6, 1), "data_mb": round(stats["dataBytes"] / 1e6, 1),
                         **page.renderer_memory(driver)}
    (BUILD / "screenshots").mkdir(parents=True, exist_ok=True)
    (BUILD / "screenshots" / "explorer-timing.json").write_text(json.dumps(figures, indent=1) + "\n")
    assert figures["memory"]["js_heap_mb"] <= 300 and figures["memory"]["renderer_uss_mb"] <= 300, figures
