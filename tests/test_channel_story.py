"""A channel's story (issue 22): the patches are the true top-k, their crops the input's windows, the series the
archive's; checked against the short real run's archive, read independently with h5py (tests/archive_arrays.py).
The story of a run without an analysis set is read on the test run's relu_glorot run (tests/conftest.py's relu_run,
made with analysis_images=0)."""

from __future__ import annotations

import io
import json
import re

import h5py
import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from report.figures.channel_story import MAX_POINTS, TOP_K, thinned
from report.figures.patches import GUTTER, crop, top_patches
from report.numbers.receptive_fields import Window
from tests import explorer_browser as page
from tests import explorer_fixtures as fixtures
from tests import harness

served = fixtures.served  # `built` comes from conftest.py


def brute_top(maps: np.ndarray, k: int) -> list[list[tuple[int, int, int, float]]]:
    """Per channel, its k (image, row, column, value) by a plain loop: each image's first largest, strongest first."""
    images, height, width, channels = maps.shape
    out = []
    for channel in range(channels):
        best = []
        for image in range(images):
            plane = maps[image, :, :, channel].ravel()
            value = plane.max()
            best.append((-float(value), image, int(np.flatnonzero(plane == value)[0])))
        best.sort()
        out.append([(image, spot // width, spot % width, -value) for value, image, spot in best[:k]])
    return out


def padded_window(image: np.ndarray, window: Window, row: int, column: int) -> np.ndarray:
    """The window by zero-padding the whole image first (another way to 'same' padding)."""
    margin = window.size + abs(window.offset) + window.stride * max(image.shape[:2])
    big = np.pad(image, [(margin, margin), (margin, margin)] + [(0, 0)] * (image.ndim - 2))
    top, left = window.stride * row + window.offset + margin, window.stride * column + window.offset + margin
    return big[top:top + window.size, left:left + window.size]


def test_top_patches_and_crops_match_a_plain_loop():
    rng = np.random.default_rng(3)
    maps = rng.normal(size=(9, 5, 4, 3)).astype(np.float16)
    maps[4, 2, 1, 0] = maps[6, 0, 0, 0] = 9  # a tie between two images: the lower index first
    maps[2, :, :, 1] = maps[2].max() + 1  # a constant map: its first position
    picks = top_patches(maps, 4)
    for channel, expected in enumerate(brute_top(maps.astype(np.float64), 4)):
        got = list(zip(picks.image[channel], picks.row[channel], picks.column[channel], picks.value[channel]))
        assert [tuple(map(int, g[:3])) for g in got] == [e[:3] for e in expected], channel
        assert np.allclose([g[3] for g in got], [e[3] for e in expected])
    assert (picks.image[0, :2] == [4, 6]).all() and (picks.row[1, 0], picks.column[1, 0]) == (0, 0)
    image = rng.integers(0, 256, size=(12, 12), dtype=np.uint8)
    for window in (Window(3, 1, -1), Window(10, 2, -4), Window(32, 4, -14)):
        for row, column in ((0, 0), (2, 5), (5, 5)):
            assert (crop(image, window, row, column) == padded_window(image, window, row, column)).all()
    rgb = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    assert (crop(rgb, Window(5, 2, -2), 3, 0) == padded_window(rgb, Window(5, 2, -2), 3, 0)).all()


def read_analysis(path) -> dict:
    with h5py.File(path, "r") as archive:
        names = json.loads(bytes(archive["layer_names"][()]).decode())
        group = archive["analysis"]
        return {"images": group["images"][()], "steps": group["steps"][()], "names": names,
                "final": {name: group["final"][str(i)][()] for i, name in enumerate(names)},
                "r": {name: group["series"][str(i)]["channel_r"][()] for i, name in enumerate(names)},
                "spread": {name: group["series"][str(i)]["channel_spread"][()] for i, name in enumerate(names)}}


def story_data(site) -> dict:
    text = (site / "assets" / "story.js").read_text()
    return json.loads(re.fullmatch(r"\(window\.Explorer=window\.Explorer\|\|\{\}\)\.storyData=(.*);\n", text,
                                   re.S).group(1))


def test_the_strips_hold_each_channels_true_top_k_windows_and_the_series_are_the_archives(built):
    build, site = built
    archive, data = read_analysis(build / "capture.h5"), story_data(site)
    findings = json.loads((site / "assets" / "findings.json").read_text())
    assert data["source"] == "analysis" and data["images"] == len(archive["images"])
    kept = thinned(len(archive["steps"]))
    assert data["steps"] == archive["steps"][kept].tolist() and len(data["steps"]) <= MAX_POINTS
    for layer in findings["layers"]:
        name, story = layer["name"], data["layers"][layer["name"]]
        r, spread = archive["r"][name][kept], archive["spread"][name][kept]
        for channel in range(layer["num_channels"]):
            got = np.array([np.nan if v is None else v / 1000 for v in story["r"][channel]])
            assert np.allclose(got, r[:, channel], atol=5e-4, equal_nan=True), (name, channel)
            top = story["top"][channel]  # the spread in thousandths of its largest (none where it is 0)
            assert top == pytest.approx(spread[:, channel].max(), rel=5e-3)
            got = [0.0 if v is None else top * v / 1000 for v in story["spread"][channel]]
            assert np.allclose(got, spread[:, channel], rtol=0, atol=top * 1.5e-3), (name, channel)
            fit = layer["channels"][channel]["filter"]
            assert (story["channels"][channel]["filter"] is None) == (fit is None)
            if fit is not None:
                assert story["channels"][channel]["filter"]["r"] == round(fit["fit_r"], 3)
                assert (site / "assets" / story["channels"][channel]["filter"]["src"]).exists()
        window = Window(**{key: layer["filter_window"][key] for key in ("size", "stride", "offset")})
        assert story["patches"]["cell"] == window.size and story["patches"]["count"] == TOP_K
        strip = np.asarray(Image.open(io.BytesIO((site / "assets" / story["patches"]["src"]).read_bytes())))
        pitch = window.size + GUTTER
        assert strip.shape[:2] == (layer["num_channels"] * pitch - GUTTER, TOP_K * pitch - GUTTER)
        for channel, picks in enumerate(brute_top(archive["final"][name].astype(np.float64), TOP_K)):
            for place, (image, row, column, _) in enumerate(picks):
                cell = strip[channel * pitch:channel * pitch + window.size, place * pitch:place * pitch + window.size]
                assert (cell == padded_window(archive["images"][image], window, row, column)).all(), (name, channel)


# --- in real Chromium -------------------------------------------------------------------------------------------

OPEN = "return !!document.getElementById('explorer-story').open && !document.querySelector('[data-story-body]').hidden"


def open_story(driver, layer: str, number: int, key=None) -> None:
    """Click (or focus and press `key` on) a channel's row label; wait until its story is drawn."""
    button = driver.find_element(By.CSS_SELECTOR, f"#{layer}-ch{number} .xl-open")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    if key is None:
        button.click()
    else:
        driver.execute_script("arguments[0].focus()", button)
        ActionChains(driver).send_keys(key).perform()
    page.wait_for(lambda: driver.execute_script(OPEN), what="the channel's story")


def cursor_and_axis(driver) -> dict:
    return driver.execute_script("""
        const curve = document.querySelector('[data-explorer-curve]');
        return {x: +document.querySelector('[data-story-cursor]').getAttribute('x1'),
                x0: +curve.getAttribute('data-x0'), x1: +curve.getAttribute('data-x1'),
                last: +curve.getAttribute('data-last'),
                shown: +document.querySelector('[data-explorer-stepnum]').textContent};""")


def images_loaded(driver) -> list:
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#explorer-story img:not([hidden])'))
            .map(img => [img.getAttribute('src'), img.complete && img.naturalWidth > 0, img.alt]);""")


def test_a_row_label_opens_its_story_that_follows_the_step_bar_and_closes(built, driver, served):
    findings = json.loads((built[1] / "assets" / "findings.json").read_text())
    layer = findings["layers"][1]
    number = next(ch["channel"] + 1 for ch in layer["channels"] if ch["filter"] is not None)
    page.open_at(driver, served + "index.html")
    open_story(driver, layer["name"], number)
    panel = driver.find_element(By.ID, "explorer-story")
    assert panel.find_element(By.CSS_SELECTOR, "h2").text == f"{layer['name']} · channel {number}"
    assert driver.execute_script("return document.activeElement.id") == "explorer-story-title"
    shown = images_loaded(driver)
    assert len(shown) == 2 and all(ok and alt for _, ok, alt in shown), shown
    assert "patches-" in shown[1][0] and f"filters/{layer['name']}-{number}.png" in shown[0][0]
    assert driver.find_elements(By.CSS_SELECTOR, "[data-story-chart] polyline.xs-r")
    slider = driver.find_element(By.ID, "explorer-step")
    for key in (Keys.HOME, Keys.ARROW_RIGHT, Keys.END):
        slider.send_keys(key)
        now = cursor_and_axis(driver)
        assert now["x"] == pytest.approx(now["x0"] + (now["x1"] - now["x0"]) * now["shown"] / now["last"], abs=0.01)
    assert driver.execute_script("return document.getElementById('explorer-story').open")  # the bar left it open
    open_story(driver, layer["name"], number)
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert not driver.execute_script("return document.getElementById('explorer-story').open")
    assert driver.execute_script("return document.activeElement.closest('li').id") == f"{layer['name']}-ch{number}"
    for key in (Keys.ENTER, Keys.SPACE):  # the keyboard opens it too; Close shuts it
        open_story(driver, layer["name"], number, key)
        driver.find_element(By.CSS_SELECTOR, "[data-story-close]").click()
        assert not driver.execute_script("return document.getElementById('explorer-story').open")


def test_the_open_story_is_axe_clean_and_fits_a_phone_and_a_laptop(built, driver, served):
    harness.require(harness.axe_available())
    for width, height in ((1280, 800), (390, 844)):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                      "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            page.open_at(driver, served + "index.html")
            open_story(driver, "conv5", 2)
            fits = driver.execute_script("""
                const box = document.getElementById('explorer-story').getBoundingClientRect();
                return [document.documentElement.scrollWidth <= innerWidth, box.left >= 0, box.right <= innerWidth,
                        box.bottom <= innerHeight];""")
            assert all(fits), (width, fits)
            assert harness.run_axe(driver) == [], width
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_without_an_analysis_set_the_story_says_so_and_measures_on_the_probes(relu_run, driver):
    _, site = relu_run  # tests/conftest.py: a real run with analysis_images=0 (examples/relu_glorot.py, 40 steps)
    data = story_data(site)
    assert data["source"] == "probes" and data["resamples"] == 0
    with harness.serve_directory(site) as base:
        page.open_at(driver, base + "index.html")
        open_story(driver, "conv3", 1)
        said = driver.find_element(By.CSS_SELECTOR, "[data-story-trajectory]").text
        assert said.startswith("This run has no analysis set (analysis_images=0), so the trajectory is measured on "
                               f"the {data['images']} probes"), said
        assert "Measured on the 10 probes" in driver.find_element(By.CSS_SELECTOR, "[data-story-kind]").text
        assert all(ok for _, ok, _ in images_loaded(driver))
