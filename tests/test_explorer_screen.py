"""The explorer as one instrument on one screen (issue 22), in real Chromium: every layer's compact block in one
row under the step bar at 1280x800 (for any number of layers), the curves' legend and marks, the moment played
once on first sight, the three colour modes (value, change, from final) checked pixel by pixel against levels
decoded from the page's own data files, the keyboard tooltip, and the phone's bar and width."""

from __future__ import annotations

import json
import math
import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from render.palette import CENTER_INDEX, DIVERGING_SIZE, NAN_INDEX, PALETTE
from report.page.explorer import curve_marks, moment
from report.page.explorer_curves import curve_panels, mark_positions
from tests import explorer_browser as page
from tests import explorer_fixtures as fixtures
from tests import explorer_truth as truth
from tests import harness
from tests.explorer_fixtures import LAYER
from tests.explorer_site import build_explorer_site
from tests.synthetic_capture import synthetic_capture

run, served = fixtures.run, fixtures.served  # `built` comes from conftest.py

BAR_MAX_PHONE = 72
ROOT = "document.getElementById('explorer')"


def emulate(driver, width: int, height: int) -> None:
    """Give the page exactly this viewport (the window's own is smaller by the browser's frame)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                  "deviceScaleFactor": 1, "mobile": width < 600})


def page_meta(site_dir) -> dict:
    """Return the explore.json the page holds inline."""
    html = (site_dir / "index.html").read_text()
    return json.loads(re.search(r'<script type="application/json" id="explorer-meta"[^>]*>(.*?)</script>',
                                html, re.S).group(1))


def one_screen(driver) -> dict:
    """Scroll the explorer's panel to just under the step bar; return the blocks' tops and the boxes' edges."""
    return driver.execute_script("""
        const panel = document.querySelector('.x-panel'), bar = document.querySelector('[data-explorer-stepbar]');
        window.scrollTo(0, panel.getBoundingClientRect().top + window.scrollY - bar.offsetHeight);
        const box = panel.getBoundingClientRect(), barBox = bar.getBoundingClientRect();
        return {tops: Array.from(document.querySelectorAll('.x-compact .x-block canvas'))
                    .map(c => Math.round(c.getBoundingClientRect().top)),
                blocks: document.querySelectorAll('.x-compact .x-block').length,
                panelTop: box.top, panelBottom: box.bottom, barBottom: barBox.bottom, barHeight: barBox.height,
                innerHeight: window.innerHeight, scrollWidth: document.scrollingElement.scrollWidth,
                innerWidth: window.innerWidth};""")


def assert_one_screen(shape: dict, layers: int) -> None:
    assert shape["blocks"] == layers + 1, shape  # the input and every layer
    assert len(set(shape["tops"])) == 1, f"the compact blocks are not in one row: {shape['tops']}"
    assert shape["panelTop"] >= shape["barBottom"] - 1, shape
    assert shape["panelBottom"] <= shape["innerHeight"], f"the explorer does not fit under the bar: {shape}"


def test_every_layer_in_one_row_and_the_explorer_on_one_screen_at_1280_by_800(built, run, driver, served):
    emulate(driver, *harness.DESKTOP)
    page.open_at(driver, served + "index.html")
    page.read_view(driver, "[data-explorer-compact]", [])
    shape = one_screen(driver)
    assert_one_screen(shape, len(run["names"]))
    assert shape["barHeight"] <= 60, shape  # the bar is one line at this width
    rows = driver.execute_script("return Array.from(document.querySelectorAll('[data-explorer-compact-layer]'))"
                                 ".map(c => +c.getAttribute('data-rows'))")
    assert max(rows) > 1, rows  # the cells grew into the room rather than staying one thin line


@pytest.mark.parametrize("layers", [2, 9])
def test_any_number_of_layers_fits_one_row(driver, tmp_path, layers):
    names = [f"layer{i + 1}" for i in range(layers)]
    widths = (4, 8, 8, 16, 16, 32, 32, 64, 24)[:layers] if layers > 2 else (6, 16)
    sizes = (28, 28, 14, 14, 7, 7, (6, 4), 4, 1)[:layers] if layers > 2 else (28, 14)
    capture = synthetic_capture(steps=12, probes=3, layers=names, widths=widths, sizes=sizes, origin="builder")
    build_explorer_site(capture, tmp_path, {name: "tanh" for name in names})
    emulate(driver, *harness.DESKTOP)
    with harness.serve_directory(tmp_path) as base:
        page.open_at(driver, base + "index.html")
        page.read_view(driver, "[data-explorer-compact]", [])
        assert_one_screen(one_screen(driver), layers)
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
                  and "/favicon.ico " not in entry.get("message", "")]  # this bare page names no icon
        assert severe == [], severe


def test_the_curves_have_a_legend_and_the_findings_marks(built, driver, served):
    info = page.open_at(driver, served + "index.html")
    jumps = {re.sub(r" \(step \d+\)$", "", button.text): int(button.get_attribute("data-explorer-goto"))
             for button in driver.find_elements(By.CSS_SELECTOR, "[data-explorer-goto]")}
    wanted = {kind: jumps[words] for kind, words in (("plateau", "Loss leaves its plateau"),
                                                     ("informative", "Every layer informative")) if words in jumps}
    assert wanted, "the short run should mark at least one step"
    panels = driver.find_elements(By.CSS_SELECTOR, "svg[data-explorer-curve]")
    assert len(panels) == 2
    for svg in panels:
        legend = svg.find_element(By.CSS_SELECTOR, ".x-curve-legend").get_attribute("textContent")
        assert "batch" in legend and "test set" in legend
        marks = driver.execute_script("""
            return Array.from(arguments[0].querySelectorAll('[data-explorer-mark]')).map(g => ({
              kind: g.getAttribute('data-explorer-mark'), step: +g.getAttribute('data-step'),
              x: +g.querySelector('line').getAttribute('x1'), label: g.querySelector('text').textContent}));""", svg)
        assert {mark["kind"]: mark["step"] for mark in marks} == wanted
        x0, x1, last = (float(svg.get_attribute(name)) for name in ("data-x0", "data-x1", "data-last"))
        for mark in marks:
            assert mark["x"] == pytest.approx(x0 + (x1 - x0) * mark["step"] / last, abs=0.06)
            assert mark["label"].endswith(f"({mark['step']})")
        title = svg.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        if svg == panels[0]:  # the loss chart's title names the marked steps; the accuracy chart's refers to it
            assert all(f"step {step}" in title for step in wanted.values()), title
        else:
            assert "like the loss curve" in title, title
    assert info["steps"][-1] == int(panels[0].get_attribute("data-last"))


def autoplay_state(driver) -> tuple[str, str]:
    return tuple(driver.execute_script(f"const e = {ROOT}; return [e.dataset.autoplay, e.dataset.step]"))


def scroll_to_explorer(driver) -> None:
    driver.execute_script("document.querySelector('.x-compact').scrollIntoView({block: 'center'})")


def test_the_moment_plays_once_when_the_explorer_comes_into_view(built, driver, served):
    info = page.open_at(driver, served + "index.html", autoplay=True)
    steps = info["steps"]
    start, end = (int(driver.execute_script(f"return {ROOT}.getAttribute(arguments[0])", name))
                  for name in ("data-autoplay-from", "data-autoplay-to"))
    plateau = [int(b.get_attribute("data-explorer-goto")) for b in driver.find_elements(By.CSS_SELECTOR,
               "[data-explorer-goto]") if b.text.startswith("Loss leaves its plateau")]
    assert {"start": start, "end": end} == moment(plateau[0] if plateau else None, steps)
    time.sleep(0.3)
    assert autoplay_state(driver) == ("pending", str(steps[-1]))  # nothing moves before it is seen
    scroll_to_explorer(driver)
    seen = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        seen.append(autoplay_state(driver))
        if seen[-1][0] == "done":
            break
        time.sleep(0.03)
    assert seen[-1] == ("done", str(end)), seen[-5:]
    shown = [int(step) for state, step in seen if state == "playing"]
    assert shown and shown[0] == start and shown == sorted(shown), shown
    assert driver.execute_script("return location.hash") == ""  # the reader did not choose this step
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.2)
    scroll_to_explorer(driver)
    time.sleep(0.5)
    assert autoplay_state(driver) == ("done", str(end))  # once only
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == [], severe


def test_the_moment_does_not_play_with_reduced_motion_or_a_step_link(built, driver, served):
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    try:
        info = page.open_at(driver, served + "index.html", autoplay=True)
        scroll_to_explorer(driver)
        time.sleep(1)
        assert autoplay_state(driver) == ("off", str(info["steps"][-1]))
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    step = info["steps"][2]
    page.open_at(driver, served + f"index.html#step={step}", autoplay=True)
    scroll_to_explorer(driver)
    time.sleep(1)
    assert autoplay_state(driver) == ("off", str(step))


@pytest.mark.parametrize("how", ["key", "pointer"])
def test_any_input_stops_the_moment_at_once(built, driver, served, how):
    info = page.open_at(driver, served + "index.html", autoplay=True)
    steps = info["steps"]
    driver.execute_script(f"{ROOT}.setAttribute('data-autoplay-to', arguments[0])", steps[-1])  # a longer moment
    scroll_to_explorer(driver)
    page.wait_for(lambda: autoplay_state(driver)[0] == "playing", what="the moment to start")
    if how == "key":
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    else:
        ActionChains(driver).move_to_element(driver.find_element(By.ID, "explorer-title")).click().perform()
    state, step = autoplay_state(driver)
    assert state == "stopped"
    time.sleep(0.6)
    assert autoplay_state(driver) == ("stopped", step)
    assert page.state(driver)["playing"] is False
    assert driver.find_element(By.CSS_SELECTOR, "[data-explorer-play]").text == "Play"


def chunk_levels(site_dir, meta: dict, layer_index: int, probe: int, group: int) -> np.ndarray:
    """Return a chunk's (T, c*H*W) levels, decoded from its file by the documented format."""
    layer = meta["layers"][layer_index]
    name, chunk_probe, chunk_group, levels = truth.read_chunk(
        site_dir / "assets" / layer["groups"][group]["files"][probe]["path"], meta)
    assert (name, chunk_probe, chunk_group) == (layer["name"], probe, group)
    return levels.astype(np.int64)


def fine_units(levels: np.ndarray, exponents: list[int]) -> np.ndarray:
    """Return (T, F) levels as offsets from 128 in units of one level at the largest exponent."""
    shifts = max(exponents) - np.asarray(exponents)
    return (levels - 128) * (2 ** shifts)[:, None]


def differences(levels: np.ndarray, exponents: list[int], show: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (T, F) differences (t minus the step before, or minus the last; in fine_units) and where either
    is NaN."""
    units = fine_units(levels, exponents)
    pick = (lambda a: np.concatenate([a[:1], a[:-1]])) if show == "change" else (
        lambda a: np.repeat(a[-1:], len(a), 0))
    return units - pick(units), (levels == 0) | (pick(levels) == 0)


def largest(levels: np.ndarray, exponents: list[int], show: str) -> int:
    d, nan = differences(levels, exponents, show)
    return int(np.abs(np.where(nan, 0, d)).max())


def settled_keys(driver) -> list[str]:
    """Wait until no more chunks arrive for a moment; return the loaded chunks' keys."""
    keys = None
    for _ in range(60):
        now = sorted(driver.execute_script("return Explorer.data.keys()"))
        if now == keys:
            return now
        keys = now
        time.sleep(0.3)
    raise AssertionError("the page kept loading chunks")


def check_compact_difference(driver, site_dir, meta: dict, t: int, show: str) -> None:
    """Read the compact view and compare every cell with the colour of its independently decoded difference."""
    names = [layer["name"] for layer in meta["layers"]]
    selectors = [f'[data-explorer-compact-layer="{name}"]' for name in names]
    page.read_view(driver, "[data-explorer-compact]", [])
    keys = settled_keys(driver)
    shot = page.read_view(driver, "[data-explorer-compact]", selectors)
    assert shot["index"] == t and shot["show"] == show
    assert sorted(driver.execute_script("return Explorer.data.keys()")) == keys, "a chunk arrived while reading"
    for index, (name, grid) in enumerate(zip(names, shot["canvases"])):
        layer = meta["layers"][index]
        exponents = layer["exponents"]
        loaded = [tuple(int(v) for v in key.split("/")) for key in keys]
        extent = max([1] + [largest(chunk_levels(site_dir, meta, i, p, g), exponents, show)
                            for i, p, g in loaded if i == index])
        levels = chunk_levels(site_dir, meta, index, 0, 0)
        d, nan = differences(levels, exponents, show)
        expected = np.clip(CENTER_INDEX + (2 * CENTER_INDEX * d[t] + extent) // (2 * extent), 0, DIVERGING_SIZE - 1)
        expected = np.where(nan[t], NAN_INDEX, expected)
        height, width = layer["map_size"]
        channels = len(layer["groups"][0]["channels"])
        canvas = driver.find_element(By.CSS_SELECTOR, selectors[index])
        rows, cols = (int(canvas.get_attribute(attribute)) for attribute in ("data-rows", "data-cols"))
        assert rows * cols >= channels > (rows - 1) * cols
        shown = truth.grid_blocks(truth.decode_png(grid["png"]), grid, rows, cols, (height, width))
        for slot, want in enumerate(PALETTE[expected.reshape(channels, height, width)]):
            got = shown[slot // cols, slot % cols]
            assert (got == want).all(), (name, show, t, slot, int((got != want).any(-1).sum()))
        words = driver.find_element(By.CSS_SELECTOR, f'[data-explorer-scale="{name}"]').text
        unit = layer["scale"] / meta["half_range"] / 2 ** max(exponents)
        assert float(words.lstrip("\u00b1")) == pytest.approx(extent * unit, rel=0.05)
        assert words.startswith("\u00b1")


def test_the_three_colour_modes_and_change_pixels_from_the_data_files(built, driver, served):
    site_dir = built[1]
    meta = page_meta(site_dir)
    t = len(meta["steps"]) - 2
    page.open_at(driver, served + f"index.html#step={meta['steps'][t]}")
    buttons = driver.find_elements(By.CSS_SELECTOR, "[data-explorer-stepbar] [data-mode]")
    assert [b.get_attribute("data-mode") for b in buttons] == ["value", "change", "from-final"]
    assert [b.get_attribute("aria-pressed") for b in buttons] == ["true", "false", "false"]
    buttons[1].send_keys(Keys.ENTER)  # the keyboard reaches and presses them
    page.wait_for(lambda: buttons[1].get_attribute("aria-pressed") == "true", what="the change mode")
    assert [b.get_attribute("aria-pressed") for b in buttons] == ["false", "true", "false"]
    check_compact_difference(driver, site_dir, meta, t, "change")
    legend = driver.find_element(By.CSS_SELECTOR, "[data-explorer-scale-name]").text
    assert legend.startswith(f"Change since the step before (step {meta['steps'][t - 1]})") and "blue a rise" in legend
    layer_words = driver.find_element(By.CSS_SELECTOR, f'[data-explorer-legend="{meta["layers"][0]["name"]}"]')
    assert "full colour at \u00b1" in layer_words.get_attribute("textContent")
    slider = driver.find_element(By.ID, "explorer-step")
    slider.send_keys(Keys.ARROW_LEFT)  # the mode stays with the step
    assert page.state(driver)["index"] == t - 1
    check_compact_difference(driver, site_dir, meta, t - 1, "change")
    buttons[2].click()
    check_compact_difference(driver, site_dir, meta, t - 1, "from-final")
    assert driver.find_element(By.CSS_SELECTOR, "[data-explorer-scale-name]").text.startswith(
        f"Difference from the last step ({meta['steps'][-1]})")
    buttons[0].click()
    page.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "[data-explorer-scale-name]").text.startswith("Fixed"),
                  what="the value legend")
    assert driver.execute_script("return Explorer.control.state.show") == "value"


def test_the_keyboard_reaches_every_value_with_the_data_precision(built, run, driver, served):
    t = len(run["steps"]) - 1
    name = run["names"][2]
    page.open_at(driver, served + "index.html")
    page.read_view(driver, LAYER.format(name), [".xl-grid"])
    grid = driver.find_element(By.CSS_SELECTOR, f"{LAYER.format(name)} .xl-grid")
    assert grid.get_attribute("tabindex") == "0"
    driver.execute_script("arguments[0].focus()", grid)
    grid.send_keys(Keys.ARROW_RIGHT * 9 + Keys.ARROW_DOWN * 5)  # activation row 6, column 10 of the first cell
    grid.send_keys(Keys.SHIFT + Keys.ARROW_RIGHT * 3 + Keys.ARROW_DOWN + Keys.SHIFT)  # probe 4, channel 2
    tip = page.wait_for(lambda: driver.execute_script(
        "const tip = document.querySelector('.x-tip'); return tip && !tip.hidden && tip.textContent"), what="a tooltip")
    assert f"{name} · channel 2" in tip and "probe 4" in tip and "row 6, column 10" in tip, tip
    number = re.search(r"value ([+\u2212]?\d+\.(\d+))", tip)
    unit = 1 / (127 * 2 ** truth.step_exponent(run[name][t]))  # one level of the step, on a scale of 1
    assert len(number.group(2)) == round(-math.log10(unit)), tip  # 1/127 at exponent 0: two decimals
    value = float(number.group(1).replace("\u2212", "-"))
    assert abs(value - float(run[name][t, 3, 5, 9, 1])) <= unit / 2 + 0.5 * 10 ** -len(number.group(2)), tip
    spoken = driver.execute_script("return document.querySelector('.x-sr[aria-live]').textContent")
    assert "row 6, column 10" in spoken
    cursor = driver.execute_script("return document.querySelector('.x-kcursor').getBoundingClientRect().toJSON()")
    assert cursor["width"] > 0 and cursor["height"] > 0
    grid.send_keys(Keys.ESCAPE)
    assert driver.execute_script("return document.querySelector('.x-tip').hidden")


def test_at_phone_size_the_bar_is_short_and_nothing_scrolls_sideways(built, driver, served):
    emulate(driver, *harness.PHONE)
    try:
        page.open_at(driver, served + "index.html")
        page.read_view(driver, "[data-explorer-compact]", [])
        bar = driver.find_element(By.CSS_SELECTOR, "[data-explorer-stepbar]")
        assert bar.size["height"] <= BAR_MAX_PHONE, bar.size
        for where in ("0", "document.body.scrollHeight / 2", "document.body.scrollHeight"):
            driver.execute_script(f"window.scrollTo(0, {where})")
            assert driver.execute_script("return document.scrollingElement.scrollWidth") <= harness.PHONE[0]
        more = driver.find_element(By.CSS_SELECTOR, "[data-explorer-more]")
        modes = driver.find_elements(By.CSS_SELECTOR, "[data-explorer-stepbar] [data-mode]")
        assert not any(button.is_displayed() for button in modes)
        more.click()
        assert more.get_attribute("aria-expanded") == "true" and all(button.is_displayed() for button in modes)
        assert driver.execute_script("return document.scrollingElement.scrollWidth") <= harness.PHONE[0]
        harness.require(harness.axe_available())
        assert harness.run_axe(driver) == []
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def findings_with(plateau, informative) -> SimpleNamespace:
    return SimpleNamespace(run=SimpleNamespace(plateau=SimpleNamespace(left_at_step=plateau)),
                           layers=[SimpleNamespace(informative_step=step) for step in informative])


def test_marks_and_the_moment_come_from_the_findings_and_none_means_none():
    assert curve_marks(None) == {"plateau": None, "informative": None}
    assert curve_marks(findings_with(69, [12, 82, 40])) == {"plateau": 69, "informative": 82}
    assert curve_marks(findings_with(None, [12, None])) == {"plateau": None, "informative": None}
    steps = list(range(291))
    assert moment(69, steps) == {"start": 57, "end": 81}
    assert moment(None, steps) == {"start": 0, "end": 44}
    assert moment(None, [0, 1, 2, 3, 4]) == {"start": 0, "end": 1}
    assert moment(3, list(range(0, 400, 10)) + [401]) == {"start": 0, "end": 23}  # at least two kept snapshots
    close = mark_positions({"plateau": 69, "informative": 82}, 290)
    assert [m["kind"] for m in close] == ["plateau", "informative"] and close[0]["label_y"] != close[1]["label_y"]
    assert mark_positions({"plateau": None, "informative": None}, 290) == []
    late = mark_positions({"plateau": None, "informative": 285}, 290)
    assert late[0]["anchor"] == "end"  # the label goes before a line near the right end


def test_the_curves_template_draws_a_mark_only_for_a_step_it_has():
    from report.stage import environment

    curves = {"train_loss": [2.3, 2.2, 1.0, 0.5], "train_accuracy": [0.1, 0.2, 0.6, 0.9], "test_steps": [2, 4],
              "test_loss": [2.2, 0.6], "test_accuracy": [0.2, 0.85]}
    template = environment().get_template("partials/explorer_curves.html.j2")
    for marks, count in (({"plateau": None, "informative": None}, 0), ({"plateau": 2, "informative": None}, 1),
                         ({"plateau": 1, "informative": 3}, 2)):
        html = template.render(explorer={"curves": curve_panels(curves, 4, marks["plateau"] or 0, 4, marks),
                                         "last_step": 4, "initial_step": 4})
        assert html.count("data-explorer-mark=") == 2 * count  # two panels
        assert html.count("x-curve-legend") == 2
        assert ("plateau ends (2)" in html) == (marks["plateau"] == 2)
