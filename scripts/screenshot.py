"""Take the README's screenshot of a built site: the explorer at a chosen step, in headless Chromium.

    .venv/bin/python scripts/screenshot.py site docs/screenshot.png [--step 75] [--width 1200]

Opens site/index.html from disk (file://) with `#step=N`, waits until the explorer has drawn that
step, and saves a PNG of the explorer's figure. Needs Debian's chromium and chromium-driver
(scripts/install_test_deps.sh), as the browser tests do.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.tools import CHROMEDRIVER, CHROMIUM_BINARY  # noqa: E402  (after the path is set)


def main(argv: list[str] | None = None) -> int:
    """Save the screenshot; return the exit status."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--step", type=int, default=None, help="training step to show (default: the last)")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=1400, help="window height: the picture's tallest extent")
    parser.add_argument("--selector", default="#explorer", help="CSS selector of the element to capture")
    options = parser.parse_args(argv)
    page = (options.site / "index.html").resolve()
    if not page.is_file():
        print(f"error: {page} does not exist: build the site first (make site)", file=sys.stderr)
        return 2
    profile = tempfile.mkdtemp(prefix="screenshot-chromium-")
    chrome = webdriver.ChromeOptions()
    chrome.binary_location = CHROMIUM_BINARY
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 f"--window-size={options.width},{options.height}", "--hide-scrollbars",
                 "--force-device-scale-factor=1"):
        chrome.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chrome)
    try:
        fragment = f"#step={options.step}" if options.step is not None else ""
        driver.get(page.as_uri() + fragment)
        element = driver.find_element(By.CSS_SELECTOR, options.selector)
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", element)
        time.sleep(3)  # the chunks load as scripts and the canvases are drawn on the next frames
        options.output.parent.mkdir(parents=True, exist_ok=True)
        # Crop the viewport's own picture to the element (WebElement.screenshot mis-clips in headless mode).
        # The explorer's figures are wider than the text column: crop to the union of its parts' boxes.
        box = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); let left = r.left, right = r.right;"
            "for (const part of arguments[0].querySelectorAll('*')) { const b = part.getBoundingClientRect();"
            "  if (b.width && b.height) { left = Math.min(left, b.left); right = Math.max(right, b.right); } }"
            "return [Math.max(0, left), Math.max(0, r.top), Math.min(innerWidth, right),"
            "        Math.min(r.bottom, innerHeight)];", element)
        from io import BytesIO

        from PIL import Image

        image = Image.open(BytesIO(driver.get_screenshot_as_png()))
        image.crop(tuple(round(value) for value in box)).save(options.output, optimize=True)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
