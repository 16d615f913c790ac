"""Drive the explorer in a real browser: open a page at a step, read a view's canvases, drag, measure."""

from __future__ import annotations

import statistics
import time

import numpy as np

from tests.harness.tools import script

TIMEOUT_MS = 30000


NO_AUTOPLAY = "window.Explorer = window.Explorer || {}; window.Explorer.noAutoplay = true;"


def open_at(driver, url: str, autoplay: bool = False) -> dict:
    """Load a page (its fragment may name a step) and wait until the explorer has started; return its facts.

    Unless `autoplay`, the page's one-time play of the moment is switched off before its scripts run
    (Explorer.noAutoplay), so that the page stays at the step it opened at until the test moves it."""
    added = None if autoplay else driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                                         {"source": NO_AUTOPLAY})["identifier"]
    try:
        driver.get(url)
        info = driver.execute_async_script(script("explorer_ready"), TIMEOUT_MS)
    finally:
        if added is not None:
            driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added})
    assert "error" not in info, info["error"]
    return info


def read_view(driver, selector: str, canvases: list[str]) -> dict:
    """Scroll a view into sight, wait until it shows the current step, return its canvases (PNG data URLs)."""
    shot = driver.execute_async_script(script("explorer_canvas"), selector, canvases, TIMEOUT_MS)
    assert "error" not in shot, shot["error"]
    return shot


def state(driver) -> dict:
    """Return the explorer's step index, mode, slider value, the step shown, fragment and cursor x per curve."""
    return driver.execute_script("""
        const X = window.Explorer, slider = document.getElementById('explorer-step');
        return {index: X.control.state.index, mode: X.control.state.mode, playing: X.control.state.playing,
                slider: +slider.value, valuetext: slider.getAttribute('aria-valuetext'), hash: location.hash,
                shown: document.querySelector('[data-explorer-stepnum]').textContent,
                cursors: Array.from(document.querySelectorAll('[data-explorer-curve]')).map(svg => ({
                    x: +svg.querySelector('[data-explorer-cursor]').getAttribute('x1'),
                    x0: +svg.getAttribute('data-x0'), x1: +svg.getAttribute('data-x1'),
                    last: +svg.getAttribute('data-last')}))};""")


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll `predicate()` until it returns something true; return it, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def drag_across(driver, element, moves: int = 150, back: bool = True) -> None:
    """Press on the left end of an element and drag to its right end (and back) in small real pointer moves."""
    from selenium.webdriver.common.action_chains import ActionChains

    width = element.size["width"]
    start = -width // 2 + 1
    chain = ActionChains(driver, duration=0).move_to_element_with_offset(element, start, 0).click_and_hold()
    x = start
    path = [start + round((width - 2) * i / moves) for i in range(1, moves + 1)]
    for target in path + (path[::-1] if back else []):
        chain.move_by_offset(target - x, 0)
        x = target
    chain.release().perform()


def renderer_memory(driver) -> dict:
    """Return the largest resident and unique memory (MB) of the browser's renderer processes."""
    import psutil

    sizes = []
    for process in psutil.Process(driver.service.process.pid).children(recursive=True):
        try:
            if "--type=renderer" in process.cmdline():
                info = process.memory_full_info()
                sizes.append((info.uss, info.rss, info.pss))
        except (psutil.Error, OSError):
            continue
    uss, rss, pss = max(sizes) if sizes else (0, 0, 0)
    return {"renderer_uss_mb": round(uss / 1e6, 1), "renderer_rss_mb": round(rss / 1e6, 1),
            "renderer_pss_mb": round(pss / 1e6, 1)}


def summary(samples: list[float]) -> dict:
    """Return count, median, p95 and max of timings in ms."""
    if not samples:
        return {"count": 0}
    return {"count": len(samples), "median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(float(np.percentile(samples, 95)), 2), "max_ms": round(max(samples), 2)}


def viewport_screenshot(driver, path, width: int, height: int, top_selector: str) -> None:
    """Save the window at `width` x `height` (a phone below 600 px) scrolled to an element, once its views are drawn."""
    import base64
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mobile = width < 600
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    try:
        driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", top_selector)
        read_view(driver, "[data-explorer-compact]", [])
        driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", top_selector)
        time.sleep(0.3)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def check_article_loads_plays_and_passes(driver, index) -> None:
    """Open a built article from disk: no failed loads, every view drawn, space plays, no errors, axe and vnu clean."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests import harness
    from tests.explorer_fixtures import LAYER

    report = harness.check_page(driver, harness.file_url(index))
    assert report.ok, str(report)
    info = open_at(driver, harness.file_url(index))
    for selector in ["[data-explorer-compact]"] + [LAYER.format(name) for name in info["layers"]]:
        read_view(driver, selector, [])
    slider = driver.find_element(By.ID, "explorer-step")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    slider.send_keys(Keys.HOME + Keys.SPACE)  # space plays from the start
    wait_for(lambda: state(driver)["index"] >= 2, what="playing to move the step")
    slider.send_keys(Keys.SPACE)
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == [], severe
    harness.require(harness.axe_available())
    assert harness.run_axe(driver) == []
    harness.require(harness.vnu_available())
    assert harness.run_vnu([index]) == []
