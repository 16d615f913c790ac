"""Fixtures shared by the test modules: one short real run per test run (and one of examples/relu_glorot.py), the
default run's archive and findings, one browser per test process, folders to refuse into.

Helpers (the generate.py launcher, file trees, refusals) are in tests/helpers.py; this file defines fixtures and
the order of the test files.

Under pytest-xdist (`make test` runs three workers) each of these runs is still made once: the first worker that
needs it builds it under the run's shared temporary folder while the others wait on a lock, then all read it. Each
worker starts its own browser, once.

Test files are handed to the workers in the order FIRST gives (`make test` passes --no-loadscope-reorder, so that
xdist keeps it): the long files early, so that the workers finish together, and the distributed-training runs
beside the browser tests rather than beside other training.
"""

from __future__ import annotations

import os

# numpy's OpenBLAS on one thread in the test processes and in every process they start (set before numpy is first
# imported; a value the caller set is kept). The xdist workers keep both cores busy already, and
# OpenBLAS's idle threads spin: beside other processes the default run's filter refit
# (test_truthful_default_run.py) took 27 s threaded and 7 s on one thread. The product's own analysis runs on one
# thread already (pipeline/blas_threads.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import fcntl  # noqa: E402 - after the thread count above
import shutil  # noqa: E402

import pytest  # noqa: E402

from pipeline.ownership import BUILD, Marker, new_id, write_marker
from tests import harness
from tests.helpers import default_archive_path, generate_here, run_in_process

# The order xdist hands test files out in (`make test`: three workers, --no-loadscope-reorder), then the other files
# in their usual order: longest first (times from --durations), so that the workers finish together, with the
# browser files (explorer, explorer_screen, share, site, explorer_any_layer, editions, channel_story, explorer_pixels,
# browser_harness: Chromium draws while the test process waits) spread out between the CPU-bound ones, so that the
# other worker has a CPU-bound file beside each. test_distribute.py's runs (two or three TensorFlow processes at
# once) go first, beside the shared short run's build and test_explorer.py's browser tests. test_run_story.py makes
# the relu_glorot run that test_channel_story.py and test_this_run.py read too, and test_truthful_default_run.py and
# test_copy_baseline.py share the default run's findings: they come close together.
FIRST = ("test_distribute.py", "test_explorer.py", "test_output_safety.py", "test_recorder_any_model.py",
         "test_resume.py", "test_explorer_screen.py", "test_cli_errors.py", "test_capture.py", "test_share.py",
         "test_ownership.py", "test_sweep.py", "test_site.py", "test_private_paths.py", "test_model_data_errors.py",
         "test_explorer_any_layer.py", "test_site_own_model.py", "test_run_story.py", "test_truthful_default_run.py",
         "test_copy_baseline.py", "test_editions.py", "test_recorder_strategy.py", "test_analysis_replay.py",
         "test_channel_story.py", "test_compare.py", "test_archive_validation.py", "test_explorer_pixels.py",
         "test_article_any_model.py", "test_streamed_reads.py", "test_browser_harness.py", "test_user_model.py")


def pytest_collection_modifyitems(items):
    """Order the files as FIRST says (a stable sort: each file's tests keep their order)."""
    rank = {name: place for place, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


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


def made_once(tmp_path_factory, name: str, make) -> tuple:
    """Return (build, site) of the run `make(build, site)` writes, made once per test run: under xdist, the first
    worker that asks makes it under the run's shared temporary folder while the others wait on a lock."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common folder
    root = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / f"{name}.done").exists():
            shutil.rmtree(root, ignore_errors=True)
            make(root / "build", root / "site")
            (shared / f"{name}.done").write_text("built\n")
    return root / "build", root / "site"


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The short real run (tests/helpers.py's SHORT flags) built once through the command line's generate.main, in
    the test process that first asks (which imports TensorFlow and compiles the page templates once for its later
    runs, where a process of its own would do both again): (build, site).

    Tests read it, or copy it (`run_copy`) before they change anything. test_output_safety.py builds the same run
    again into fresh folders and compares the two sites byte for byte.
    """
    def make(build, site):
        result = generate_here("site", build, site)
        assert result.returncode == 0, result.stderr

    return made_once(tmp_path_factory, "short-run", make)


@pytest.fixture(scope="session")
def relu_run(tmp_path_factory):
    """A short real run of examples/relu_glorot.py (ReLU, Glorot initialisation) on the bundled data, 40 steps of
    256 images (a quarter of the post's batch: the same story in a quarter of the training), measured on the
    probes, built once (generate.main in the process that first asks): (build, site).

    test_run_story.py reads its page sentence by sentence, test_this_run.py its box and its phone-width page,
    test_channel_story.py the story of a run without an analysis set; tests only read it.
    """
    def make(build, site):
        result = run_in_process("site", "--quiet", "--model", "examples/relu_glorot.py:build", "--dataset",
                                "bundled", "--steps", "40", "--batch-size", "256", "--set", "analysis_images=0",
                                "--build-dir", str(build), "--site-dir", str(site))
        assert result.returncode == 0, result.stderr

    return made_once(tmp_path_factory, "relu-run", make)


@pytest.fixture(scope="session")
def default_archive(tmp_path_factory):
    """The default run's capture.h5: build/capture.h5 (or $WATCH_CAPTURE) when the default config made it (`make
    site` writes it, and CI's .ci/run runs `make site` before `make test`), else the default run (290 steps, seed 0)
    trained once per test run on the bundled data, as an offline `make site` does (a minute on two cores).

    test_truthful_default_run.py and test_copy_baseline.py read it; tests only read it.
    """
    found = default_archive_path()
    if found is not None:
        return found

    def make(build, site):
        result = run_in_process("capture", "--quiet", "--dataset", "bundled", "--build-dir", str(build))
        assert result.returncode == 0, result.stderr

    return made_once(tmp_path_factory, "default-run", make)[0] / "capture.h5"


@pytest.fixture(scope="session")
def default_findings(default_archive, tmp_path_factory):
    """The default run's findings as its page states them: build/findings.json's, when `make site` measured them
    from this archive with this code and its colour scales (report/findings_cache.py, as CI's .ci/run leaves them),
    else report/numbers/analysis.py's on the archive, computed once per test run (ten seconds) and handed to the
    other test process through a pickle. test_truthful_default_run.py and test_copy_baseline.py check them."""
    import pickle

    from capture.archive import Capture
    from pipeline.layout import Layout, read_json
    from report.findings_cache import manifest_scales, stored_findings
    from report.numbers.analysis import analyse

    layout = Layout(default_archive.parent, default_archive.parent / "unused-site")
    if layout.capture == default_archive:
        stored = stored_findings(layout, manifest_scales(read_json(layout.manifest)))
        if stored is not None:
            return stored

    def make(build, _site):
        build.mkdir(parents=True)
        (build / "findings.pickle").write_bytes(pickle.dumps(analyse(Capture.load(default_archive))))

    build, _ = made_once(tmp_path_factory, "default-findings", make)
    return pickle.loads((build / "findings.pickle").read_bytes())


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
