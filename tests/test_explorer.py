"""The explorer of a short real run, in real Chromium: controls, fragment, loading paths, no-JS, a11y, figures."""

from __future__ import annotations

import json
import math
import re
import shutil
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests import explorer_browser as page
from tests import explorer_fixtures as fixtures
from tests import explorer_truth as truth
from tests import harness
from tests.explorer_fixtures import LAYER
from tests.harness.tools import script
from tests.helpers import screenshots_dir

run, served = fixtures.run, fixtures.served  # `built` comes from conftest.py


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
        chunks = {name for name in requested if re.search(r"/assets/explore-conv\d-\d+-0\.js$", name)}
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
            path = screenshots_dir() / f"explorer-{label}-step-{step}.png"
            page.open_at(driver, served + f"index.html#step={step}")
            page.viewport_screenshot(driver, path, width, height, "#explorer-title")
            assert path.stat().st_size > 10_000


def test_slider_to_drawn_time_and_memory_after_scrubbing(built, run, served):
    driver = harness.start_browser(*harness.DESKTOP)  # a fresh renderer: its memory is this page's alone
    try:
        scrub_and_measure(driver, run, served)
    finally:
        driver.quit()


def scrub_and_measure(driver, run: dict, served: str) -> None:
    """Drag the slider over each kind of view, then every layer; record and check the page's figures."""
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
    screenshots_dir().mkdir(parents=True, exist_ok=True)
    (screenshots_dir() / "explorer-timing.json").write_text(json.dumps(figures, indent=1) + "\n")
    assert figures["memory"]["js_heap_mb"] <= 300 and figures["memory"]["renderer_uss_mb"] <= 300, figures


def test_a_channel_named_in_the_text_links_to_its_row_and_shows_it(built, driver, served):
    page.open_at(driver, served + "index.html")
    links = [link for link in driver.find_elements(By.CSS_SELECTOR, "a.x-chan") if link.is_displayed()]
    assert links, "no channel number in the reading path's text is linked"  # (folded <details> hold others)
    link = links[-1]
    layer, number = re.fullmatch(r".*#(conv\d)-ch(\d+)", link.get_attribute("href")).groups()
    assert link.text.split()[-1] == number
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    row = driver.find_element(By.ID, f"{layer}-ch{number}")
    assert driver.execute_script("return arguments[0].matches(':target')", row)
    assert row.find_element(By.CSS_SELECTOR, ".xl-num").text == number
    covered = driver.execute_script("""
        const box = arguments[0].getBoundingClientRect();
        const bar = document.querySelector('[data-explorer-stepbar]').getBoundingClientRect();
        const head = arguments[0].closest('figure').querySelector('.x-head').getBoundingClientRect();
        return box.top < Math.max(bar.bottom, head.bottom) || box.bottom > innerHeight;""", row)
    assert not covered, "the linked row is hidden under the step bar or the probe row, or off screen"


def test_hovering_a_cell_tells_its_channel_probe_step_and_value(built, run, driver, served):
    t = len(run["steps"]) - 1
    name = run["names"][2]
    page.open_at(driver, served + "index.html")
    shot = page.read_view(driver, LAYER.format(name), [".xl-grid"])
    grid, canvas = shot["canvases"][0], driver.find_element(By.CSS_SELECTOR, f"{LAYER.format(name)} .xl-grid")
    channel, probe, y, x = 1, 3, 5, 9  # channel 2, probe 4, activation row 6, column 10
    block = grid["cell"] / run[name].shape[2]
    device = (grid["gutter"] + probe * (grid["cell"] + grid["gutter"]) + (x + 0.5) * block,
              grid["gutter"] + channel * (grid["cell"] + grid["gutter"]) + (y + 0.5) * block)
    scale = grid["cssWidth"] / grid["width"]
    offset = [round(device[0] * scale - canvas.size["width"] / 2), round(device[1] * scale - canvas.size["height"] / 2)]
    ActionChains(driver).move_to_element_with_offset(canvas, *offset).perform()
    tip = page.wait_for(lambda: driver.execute_script(
        "const tip = document.querySelector('.x-tip'); return tip && !tip.hidden && tip.textContent"), what="a tooltip")
    # 8-bit levels on a scale of 1 are steps of 1/127 (two decimals, not three), 2^k times finer at exponent k
    unit = 1 / (127 * 2 ** truth.step_exponent(run[name][t]))
    places = round(-math.log10(unit))
    value = float(re.search(rf"value ([+\u2212]?\d\.\d{{{places}}})\b", tip).group(1).replace("\u2212", "-"))
    assert f"{name} · channel 2" in tip and "probe 4" in tip and f"step {run['steps'][t]}" in tip
    assert "row 6, column 10" in tip
    assert abs(value - float(run[name][t, probe, y, x, channel])) <= unit / 2 + 0.5 * 10 ** -places, tip


def test_with_reduced_motion_nothing_moves_and_play_starts_slowest(built, run, driver, served):
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    try:
        page.open_at(driver, served + "index.html")
        before = page.state(driver)
        options = driver.find_elements(By.CSS_SELECTOR, "[data-explorer-speed] option")
        speeds = [int(option.get_attribute("value")) for option in options]
        assert driver.find_element(By.CSS_SELECTOR, "[data-explorer-speed]").get_attribute("value") == str(min(speeds))
        time.sleep(1)
        assert page.state(driver) == before and not before["playing"]
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
