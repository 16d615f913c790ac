"""Take full-page screenshots at a given CSS width, emulating a phone below 600 px."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from .chromium import DESKTOP
from .tools import script


def screenshot(driver, path: str | os.PathLike, width: int = DESKTOP[0], height: int = DESKTOP[1], *,
               mobile: bool | None = None, max_height: int = 16000) -> Path:
    """Save a full-page PNG of the current page at `width` CSS px (1 device px each); return its path.

    `height` is the viewport height (what 100vh means). Widths under 600 px, or `mobile=True`, emulate a
    phone: mobile viewport (honours <meta name=viewport>) and touch. Lazy content is loaded by scrolling
    through the page first.
    """
    if mobile is None:
        mobile = width < 600
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {"width": int(width), "height": int(height), "deviceScaleFactor": 1, "mobile": bool(mobile)}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    if mobile:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        full_height = driver.execute_async_script(script("scroll_through"))
        full_height = min(max(int(full_height), int(height)), max_height)
        clip = {"x": 0, "y": 0, "width": int(width), "height": full_height, "scale": 1}
        shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                      {"format": "png", "captureBeyondViewport": True, "clip": clip})
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        if mobile:
            driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path
