"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.folders import OWNER_MARKER
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


def folder_bytes(folder: Path) -> dict:
    """Return {file name: bytes} of a folder's files: what a refused run must leave exactly as it was."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def build_dir_with_outputs(tmp_path):
    """A build folder holding files that a failed run must leave byte for byte as they were."""
    build = tmp_path / "build"
    build.mkdir()
    (build / OWNER_MARKER).write_text("written by an earlier run\n")
    (build / "model.keras").write_bytes(b"previous model")
    (build / "timings.json").write_text("{}\n")
    return build
