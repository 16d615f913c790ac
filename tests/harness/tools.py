"""Where the browser-test tools live, whether they are installed, and what a missing one means."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from .browser_paths import DEBIAN, find_browser

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
SCRIPTS = REPO_ROOT / "tests" / "js"
# The overrides, Debian's packages, or a browser the CI image ships (tests/harness/browser_paths.py).
CHROMIUM_BINARY, CHROMEDRIVER = find_browser() or (os.environ.get("CHROMIUM_BINARY", DEBIAN[0]),
                                                   os.environ.get("CHROMEDRIVER", DEBIAN[1]))
INSTALL_HINT = "install with: sudo bash scripts/install_test_deps.sh"


@cache
def script(name: str) -> str:
    """Return the JavaScript of tests/js/<name>.js, run in the page by Selenium."""
    return (SCRIPTS / f"{name}.js").read_text(encoding="utf-8")


def chromium_available() -> tuple[bool, str]:
    """Return (True, version) if Chromium and chromedriver are installed, else (False, why)."""
    for what, exe in (("Chromium", CHROMIUM_BINARY), ("chromedriver", CHROMEDRIVER)):
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            return False, f"{what} not found at {exe} ({INSTALL_HINT})"
    try:
        out = subprocess.run([CHROMEDRIVER, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"chromedriver does not run: {exc} ({INSTALL_HINT})"
    if out.returncode != 0:
        return False, f"chromedriver --version failed: {out.stderr.strip()} ({INSTALL_HINT})"
    return True, out.stdout.strip()


def axe_available() -> tuple[bool, str]:
    """Return (True, path) if axe-core is installed under node_modules/, else (False, why)."""
    if AXE_JS.is_file():
        return True, str(AXE_JS)
    return False, f"{AXE_JS} missing: run `npm ci` in the repository root ({INSTALL_HINT})"


def java() -> str | None:
    """Return the java executable ($JAVA, else java on PATH), or None."""
    return os.environ.get("JAVA") or shutil.which("java")


def vnu_available() -> tuple[bool, str]:
    """Return (True, what) if Java 11+ and vnu.jar are installed, else (False, why)."""
    executable = java()
    if not executable:
        return False, f"java not found ({INSTALL_HINT})"
    if not VNU_JAR.is_file():
        return False, f"{VNU_JAR} missing: run `npm ci` in the repository root ({INSTALL_HINT})"
    try:
        out = subprocess.run([executable, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"java does not run: {exc} ({INSTALL_HINT})"
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return False, f"cannot tell the java version: {out.stderr.strip()!r}"
    major = int(m.group(1)) if m.group(1) != "1" else int(m.group(2) or 0)  # "1.8" is Java 8
    if major < 11:
        return False, f"java {major} is too old for vnu.jar (need 11+) ({INSTALL_HINT})"
    return True, f"java {major}, {VNU_JAR}"


def require(availability: tuple[bool, str]) -> None:
    """Skip the test when a tool is missing -- or fail it instead if REQUIRE_BROWSER=1 (CI)."""
    ok, reason = availability
    if ok:
        return
    import pytest

    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)
