"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipeline.build_lock import LOCK_NAME
from pipeline.ownership import BUILD, Marker, claim, new_id, write_marker
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


def screenshots_dir() -> Path:
    """Return the project's build/screenshots, claiming build/ as generate.py would (a temporary folder if it can't)."""
    try:
        claim(REPO / "build", BUILD, frozenset({LOCK_NAME}))
    except ValueError:  # build/ holds files of someone else's: leave it alone
        return Path(tempfile.mkdtemp(prefix="screenshots-"))
    return REPO / "build" / "screenshots"


def folder_bytes(folder: Path) -> dict:
    """Return {file name: bytes} of a folder's files: what a refused run must leave exactly as it was."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())
            if path.name != LOCK_NAME}  # the lock every run takes (it holds the last run's process id)


@pytest.fixture
def build_dir_with_outputs(tmp_path):
    """A build folder holding files that a failed run must leave byte for byte as they were."""
    build = tmp_path / "build"
    build.mkdir()
    write_marker(build, Marker(BUILD, new_id()))  # written by an earlier run
    (build / "model.keras").write_bytes(b"previous model")
    (build / "timings.json").write_text("{}\n")
    return build


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
    """A whole short run (build and site) through the command line, made once; tests work on copies."""
    from tests.safety_runs import generate

    root = tmp_path_factory.mktemp("finished")
    result = generate("site", root / "build", root / "site")
    assert result.returncode == 0, result.stderr
    return root / "build", root / "site"


@pytest.fixture
def run_copy(finished, tmp_path):
    """A private copy of the finished run: (build, site)."""
    build, site = tmp_path / "build", tmp_path / "site"
    shutil.copytree(finished[0], build, symlinks=True)
    shutil.copytree(finished[1], site, symlinks=True)
    return build, site
