"""Start headless Chromium under Selenium, sealed off from the internet, with its logs captured."""

from __future__ import annotations

import shutil
import tempfile

from .tools import CHROMEDRIVER, CHROMIUM_BINARY, chromium_available, script

DESKTOP = (1280, 800)
PHONE = (390, 844)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes renderers
    "--no-proxy-server",  # never route 127.0.0.1 (or anything) through an env proxy
    "--mute-audio",
    # Only loopback resolves: external requests fail at once (and are reported).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


def start_browser(width: int = DESKTOP[0], height: int = DESKTOP[1]):
    """Start headless Chromium with console and network logging; its `quit()` also removes the temporary profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    ok, reason = chromium_available()
    if not ok:
        raise RuntimeError(reason)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={int(width)},{int(height)}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=CHROMEDRIVER)  # explicit path: Selenium Manager (downloads) is skipped
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script("resource_buffer")})
    original_quit = driver.quit

    def quit_and_clean() -> None:
        try:
            original_quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver
