"""Fixtures shared by the test modules: one short real run per test run, one browser per test process, folders
to refuse into.

Helpers (the generate.py launcher, file trees, refusals) are in tests/helpers.py; this file defines fixtures only.
Under pytest-xdist (`make test` runs two workers) the short run is still made once: the first worker that needs it
builds it under the run's shared temporary folder while the other waits on a lock, then both read it. Each worker
starts its own browser, once.
"""

from __future__ import annotations

import fcntl
import os
import shutil

import pytest

from pipeline.ownership import BUILD, Marker, new_id, write_marker
from tests import harness
from tests.helpers import generate


@pytest.fixture(scope="session")
def browser():
    """Start headless Chromium at desktop size once per test process (under xdist: per worker); skip without it,
    or fail under REQUIRE_BROWSER=1."""
    harness.require(harness.chromium_available())
    started = harness.start_browser(*harness.DESKTOP)
    yield started
    started.quit()


@pytest.fixture
def driver(browser):
    """The session's Chromium reset for this test: desktop window, no emulation, empty logs (the last test's page
    stays open until this one navigates; unloading it before would cost a test a fraction of a second)."""
    size = browser.get_window_size()
    if (size["width"], size["height"]) != harness.DESKTOP:
        browser.set_window_size(*harness.DESKTOP)
    for command, parameters in (("Emulation.clearDeviceMetricsOverride", {}),
                                ("Emulation.setTouchEmulationEnabled", {"enabled": False}),
                                ("Emulation.setScriptExecutionDisabled", {"value": False}),
                                ("Emulation.setEmulatedMedia", {"media": "", "features": []})):
        browser.execute_cdp_cmd(command, parameters)
    harness.page.drain_logs(browser)
    return browser


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The short real run (tests/helpers.py's SHORT flags) built once through the command line: (build, site).

    Tests read it, or copy it (`run_copy`) before they change anything.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common folder
    root = shared / "short-run"
    with open(shared / "short-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / "short-run.done").exists():
            shutil.rmtree(root, ignore_errors=True)
            result = generate("site", root / "build", root / "site")
            assert result.returncode == 0, result.stderr
            (shared / "short-run.done").write_text("built\n")
    return root / "build", root / "site"


@pytest.fixture
def run_copy(built, tmp_path):
    """A private copy of the short run: (build, site)."""
    build, site = tmp_path / "build", tmp_path / "site"
    shutil.copytree(built[0], build, symlinks=True)
    shutil.copytree(built[1], site, symlinks=True)
    return build, site


@pytest.fixture
def build_dir_with_outputs(tmp_path):
    """A build folder holding files that a failed run must leave byte for byte as they were."""
    build = tmp_path / "build"
    build.mkdir()
    write_marker(build, Marker(BUILD, new_id()))  # written by an earlier run
    (build / "model.keras").write_bytes(b"previous model")
    (build / "timings.json").write_text("{}\n")
    return build
