"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import harness

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def driver():
    """Yield headless Chromium at desktop size, one per module (skip, or fail under REQUIRE_BROWSER=1, without it)."""
    harness.require(harness.chromium_available())
    browser = harness.start_browser(*harness.DESKTOP)
    yield browser
    browser.quit()


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Build a whole site from a short bundled run through the real command line, once; return (build, site)."""
    root = tmp_path_factory.mktemp("short")
    build_dir, site_dir = root / "build", root / "site"
    result = subprocess.run(
        [sys.executable, str(REPO / "generate.py"), "site", "--quiet", "--dataset", "bundled", "--steps", "24",
         "--set", "test_every=4", "--build-dir", str(build_dir), "--site-dir", str(site_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    return build_dir, site_dir
