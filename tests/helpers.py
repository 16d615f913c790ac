"""What the test modules share: the project root, the one launcher of generate.py, file trees, one-line refusals.

Fixtures live in tests/conftest.py (the shared short run, the browser); made-up findings and captures for the
analysis and commentary tests in tests/analysis_fixtures.py and tests/commentary_fixtures.py. No test module
imports another test module.

    result = run_generate("capture", "--steps", "0", "--build-dir", str(build))  # the real command line
    assert_refused(result, "steps", "positive")
    status, stderr = generate_in_process(capsys, "capture", "--steps", "0")  # generate.main, same checks
    result = generate("site", build, site)  # the shared short run's flags (tests/conftest.py's `built`)
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from report.numbers.findings import JSON_DIGITS

REPO = Path(__file__).resolve().parents[1]
# A number of findings.json (the default run's findings as `make site` stored them) is the measured one rounded to
# JSON_DIGITS significant digits: compare it with a recomputation within that rounding.
STORED_ROUNDING = {"rel": 0.5 * 10.0 ** (1 - JSON_DIGITS), "abs": 1e-9}
# The short run every test that needs a real one shares (tests/conftest.py's `built`); a test that runs
# generate.py again on a copy of it passes the same flags, so the capture is reused, not retrained. Its analysis set
# is 200 images (20 a class) with the default 200 resamples: the same measurements as the default's 1,000, which
# made every fresh short run 23 s of CPU instead of 15 (replay and findings), and an archive of 8.7 MB, not 2.3 MB.
SHORT = ["--quiet", "--dataset", "bundled", "--steps", "4", "--set", "test_every=2", "--set", "test_subset=200",
         "--set", "analysis_images=200"]


def run_env(env: dict | None = None) -> dict:
    """Return the environment of a test run (a fixed date, so the same run gives the same bytes)."""
    return {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", **(env or {})}


def generate_command(stage: str, *arguments: str) -> list[str]:
    """Return the command line of generate.py as a user would type it."""
    return [sys.executable, str(REPO / "generate.py"), stage, *arguments]


def run_generate(stage: str, *arguments: str, env: dict | None = None, cwd: Path = REPO,
                 timeout: float = 600) -> subprocess.CompletedProcess:
    """Run generate.py in its own process, as a user would (output captured, a fixed SOURCE_DATE_EPOCH)."""
    return subprocess.run(generate_command(stage, *arguments), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=run_env(env))


def short_arguments(build: Path, site: Path, *extra: str) -> list[str]:
    """Return the shared short run's flags with its build and site folders."""
    return [*SHORT, "--build-dir", str(build), "--site-dir", str(site), *extra]


def generate(stage: str, build: Path, site: Path, *extra: str, env: dict | None = None,
             cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run generate.py with the shared short run's settings."""
    return run_generate(stage, *short_arguments(build, site, *extra), env=env, cwd=cwd)


def generate_in_process(capsys, stage: str, *arguments: str) -> tuple[int, str]:
    """Run generate.main in this process (TensorFlow, when needed, is imported once); return (status, stderr)."""
    import generate as command_line

    capsys.readouterr()  # what earlier code printed is not this run's
    status = command_line.main([stage, *arguments])
    return status, capsys.readouterr().err


def run_in_process(stage: str, *arguments: str, env: dict | None = None,
                   cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run generate.main in this process as run_generate would run generate.py (same fixed SOURCE_DATE_EPOCH, `env`
    and `cwd` for this call only); return its status and output as a CompletedProcess.

    TensorFlow and the rest are imported once per test process instead of once per run: for the runs that need
    no process of their own (a kill, a stop, a lock held by another run or a memory peak need one).
    """
    import contextlib
    import io

    import generate as command_line

    changes = {"SOURCE_DATE_EPOCH": "1700000000", **(env or {})}
    saved = {name: os.environ.get(name) for name in changes}
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    os.environ.update(changes)
    try:
        os.chdir(cwd or REPO)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = command_line.main([stage, *arguments])
    finally:
        os.chdir(before)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return subprocess.CompletedProcess(["generate.main", stage, *arguments], status, out.getvalue(), err.getvalue())


def generate_here(stage: str, build: Path, site: Path, *extra: str, env: dict | None = None,
                  cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`generate` (the shared short run's settings) as generate.main in this process: see run_in_process."""
    return run_in_process(stage, *short_arguments(build, site, *extra), env=env, cwd=cwd)


def tree(folder: Path) -> dict[str, str]:
    """Return every file under a folder (hidden ones included) with its sha256."""
    if not folder.exists():
        return {}
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def folder_bytes(folder: Path) -> dict:
    """Return {file name: bytes} of a folder's files: what a refused run must leave exactly as it was."""
    from pipeline.build_lock import LOCK_NAME

    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())
            if path.name != LOCK_NAME}  # the lock every run takes (it holds the last run's process id)


def assert_one_error_line(status: int, stderr: str, *words: str) -> str:
    """Assert exit status 2 with exactly one `error:` line holding every word, and no traceback; return the line."""
    assert status == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """Assert a finished process exited 2 with exactly one `error:` line holding every word, and no traceback."""
    assert_one_error_line(result.returncode, result.stderr, *words)


def screenshots_dir() -> Path:
    """Return the project's build/screenshots, claiming build/ as generate.py would (a temporary folder if it can't)."""
    from pipeline.build_lock import LOCK_NAME
    from pipeline.ownership import BUILD, claim

    try:
        claim(REPO / "build", BUILD, frozenset({LOCK_NAME}))
    except ValueError:  # build/ holds files of someone else's: leave it alone
        return Path(tempfile.mkdtemp(prefix="screenshots-"))
    return REPO / "build" / "screenshots"


def default_archive_path() -> Path | None:
    """Return build/capture.h5 (or $WATCH_CAPTURE) when the default config made it (`make site` on MNIST or the
    bundled subset, 290 steps, seed 0) and this version reads it, else None."""
    import json

    from capture.archive import Capture
    from pipeline.config import Config

    path = Path(os.environ.get("WATCH_CAPTURE", REPO / "build" / "capture.h5"))
    if not path.exists():
        return None
    try:
        config = json.loads(Capture.load(path).config_json)
    except ValueError:  # CaptureError: an archive this version cannot read is not used
        return None
    dataset = config.get("dataset")
    default = Config(dataset=dataset) if dataset in ("auto", "mnist", "bundled") else Config()
    return path if config == json.loads(default.to_json()) else None


def rewrite_capture(path: Path, **changes) -> None:
    """Write a valid-looking HDF5 archive, then replace some of its members (texts as JSON strings, or arrays)."""
    import h5py
    import numpy as np

    from tests.synthetic_capture import synthetic_capture

    synthetic_capture(steps=3).save(path)
    with h5py.File(path, "r+") as archive:
        for key, value in changes.items():
            del archive[key]
            data = np.frombuffer(value.encode("utf-8"), np.uint8) if isinstance(value, str) else value
            archive.create_dataset(key, data=data)


def page_text(index: Path) -> str:
    """Return the visible text of a page (scripts dropped, tags and runs of white space made one space)."""
    markup = re.sub(r"<script.*?</script>", " ", Path(index).read_text(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def build_site(capture, root: Path) -> Path:
    """Render a capture object and write its article into root/build and root/site; return the index.html."""
    from pipeline.ownership import BUILD, claim
    from render.assets import render_capture

    build = root / "build"
    claim(build, BUILD)  # what generate.py's prepare does: the build folder is the tool's
    manifest = render_capture(capture, build / "assets", progress=False)
    return stage_site(capture, manifest, build, root / "site")


def stage_site(capture, manifest: dict, build: Path, site: Path) -> Path:
    """Write the page for an already rendered capture into `site`; return its index.html."""
    from pipeline.layout import Layout
    from report import stage

    layout = Layout(build, site)
    write_synthetic_model(layout.model)  # the page links a model; this run has none
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        return stage.run(capture, manifest, layout)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


def write_synthetic_model(path: Path) -> None:
    """Write a .keras zip as Keras lays one out (config, metadata, weights with an empty layers group), no network."""
    import io
    import json
    import zipfile

    import h5py

    weights = io.BytesIO()
    with h5py.File(weights, "w") as file:
        file.create_group("layers")
    members = {"config.json": json.dumps({"class_name": "Synthetic", "config": {}}).encode(),
               "metadata.json": json.dumps({"keras_version": "synthetic run: no trained model"}).encode(),
               "model.weights.h5": weights.getvalue()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():  # fixed times: the same bytes on every run
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def published_network(published: Path, model: Path) -> bool:
    """Return True when the site's model.keras holds `model`'s architecture and layer weights, and no optimizer state.

    Read with zipfile and h5py, apart from report/published_model.py: every dataset outside the optimizer
    group must be equal, and the config equal once its compile settings are dropped.
    """
    import io
    import json
    import zipfile

    import h5py
    import numpy as np

    def members(path: Path) -> dict:
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    def datasets(weights: bytes) -> dict:
        found = {}
        with h5py.File(io.BytesIO(weights), "r") as file:
            file.visititems(lambda name, item: found.__setitem__(name, np.asarray(item))
                            if isinstance(item, h5py.Dataset) else None)
        return found

    site, build = members(published), members(model)
    site_weights, build_weights = datasets(site["model.weights.h5"]), datasets(build["model.weights.h5"])
    if any(name.startswith("optimizer") for name in site_weights):
        return False
    kept = {name: values for name, values in build_weights.items() if not name.startswith("optimizer")}
    config = json.loads(build["config.json"])
    config.pop("compile_config", None)
    return (json.loads(site["config.json"]) == config and kept.keys() == site_weights.keys()
            and all(np.array_equal(kept[name], site_weights[name]) for name in kept))
