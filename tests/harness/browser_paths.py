"""Find a Chromium (or Chrome) and a chromedriver of the same major version that are already installed.

    python3 tests/harness/browser_paths.py    # prints "BROWSER DRIVER" and exits 0, or exits 1

Standard library only, so scripts/install_test_deps.sh can ask it before installing anything. The
order: the CHROMIUM_BINARY / CHROMEDRIVER overrides; Debian's chromium and chromium-driver; then
a browser a CI image already ships (GitHub's Ubuntu runners have Google Chrome on PATH and a
matching chromedriver in $CHROMEWEBDRIVER), where Debian's package names are snap shims or absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BROWSER_NAMES = ("chromium", "google-chrome", "google-chrome-stable", "chromium-browser", "chrome")
DEBIAN = ("/usr/bin/chromium", "/usr/bin/chromedriver")


def _major(executable: str) -> int | None:
    """Return the major version an executable prints for --version, or None when it does not run."""
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)\.\d+\.\d+", out.stdout) if out.returncode == 0 else None
    return int(found[1]) if found else None


def _runs(path: str | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def candidates() -> list[tuple[str, str]]:
    """Return the (browser, driver) pairs to try, in order."""
    given = os.environ.get("CHROMIUM_BINARY"), os.environ.get("CHROMEDRIVER")
    if any(given):
        return [(given[0] or DEBIAN[0], given[1] or DEBIAN[1])]  # an override is taken as it is, never guessed past
    drivers = [path for path in (os.path.join(os.environ.get("CHROMEWEBDRIVER", ""), "chromedriver"),
                                 shutil.which("chromedriver")) if _runs(path)]
    browsers = [path for path in map(shutil.which, BROWSER_NAMES) if path]
    return [DEBIAN] + [(browser, driver) for browser in browsers for driver in drivers]


def find_browser() -> tuple[str, str] | None:
    """Return the first installed (browser, driver) pair whose major versions agree, else None."""
    for browser, driver in candidates():
        if _runs(browser) and _runs(driver) and _major(browser) is not None and _major(browser) == _major(driver):
            return str(Path(browser)), str(Path(driver))
    return None


if __name__ == "__main__":
    pair = find_browser()
    if pair:
        print(*pair)
    sys.exit(0 if pair else 1)
