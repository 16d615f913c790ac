"""Issue 19: the tool deletes or replaces only what it can prove it made, and one run at a time uses a build folder.

Every test works on real folders holding a user's files and checks them by hash before and after; the lock
is tested with two real generate.py processes, the first stopped on cue (GENERATE_STOP_AT) while it holds it.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capture.archive import Capture
from pipeline.files import STOP_VARIABLE, file_sha256
from pipeline.ownership import BUILD, LEGACY_TEXT, MARKER_NAME, SITE, read_marker
from tests.helpers import (
    REPO,
    assert_refused,
    generate_command,
    generate_here,
    published_network,
    run_env,
    run_in_process,
    short_arguments,
    tree,
)

LIGHT_ANALYSIS = ["--set", "analysis_images=10", "--set", "bootstrap=2"]


def user_folder(path: Path, files: dict[str, str]) -> Path:
    """Make a folder of the user's with the given files (relative path -> text)."""
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def test_folders_beside_the_site_that_only_look_like_leftovers_are_kept(run_copy, tmp_path):
    build, _ = run_copy
    x = tmp_path / "X"
    user_folder(x, {".s-old-backup/keep.txt": "k", ".s-building-1-abc/notes.txt": "n", ".s-old-123/a.txt": "a"})
    before = tree(x)
    result = generate_here("site", build, x / "s")
    assert result.returncode == 0, result.stderr
    after = tree(x)
    assert {name: digest for name, digest in after.items() if not name.startswith("s/")} == before
    assert sorted(path.name for path in x.iterdir()) == [".s-building-1-abc", ".s-old-123", ".s-old-backup", "s"]


def test_a_user_folder_holding_only_assets_is_not_a_build_folder(tmp_path):
    mine = user_folder(tmp_path / "mine", {"assets/figure.png": "my figure", "assets/manifest.json": "{}"})
    before = tree(mine)
    assert_refused(generate_here("capture", mine, tmp_path / "site"), "--build-dir", "assets", "did not write")
    assert tree(mine) == before


def test_a_folder_that_looks_like_a_site_is_not_replaced(run_copy, tmp_path):
    build, _ = run_copy
    mine = user_folder(tmp_path / "looks", {"index.html": "<p>my page</p>", ".nojekyll": "",
                                            "assets/findings.json": "{}", "thesis.tex": "precious"})
    before = tree(mine)
    assert_refused(generate_here("site", build, mine), "--site-dir", "did not write")
    assert tree(mine) == before


def test_a_published_site_is_not_a_build_folder_and_a_build_folder_is_not_a_site(run_copy, tmp_path):
    build, site = run_copy
    before = tree(build), tree(site)
    assert_refused(generate_here("site", site, tmp_path / "other-site"), "--build-dir", "published site")
    other_build = tmp_path / "other-build"
    shutil.copytree(build, other_build)
    assert_refused(generate_here("site", build, other_build), "--site-dir", "build folder")
    assert (tree(build), tree(site)) == before and not (tmp_path / "other-site").exists()
    assert read_marker(site).kind == SITE and read_marker(build).kind == BUILD


def test_folders_of_an_earlier_version_are_still_the_tools(run_copy):
    build, site = run_copy
    for folder in (build, site):
        (folder / MARKER_NAME).write_text(LEGACY_TEXT)  # the marker before ids and kinds
    result = generate_here("site", build, site)
    assert result.returncode == 0, result.stderr
    assert read_marker(build).kind == BUILD and read_marker(build).id
    assert read_marker(site).kind == SITE and (site / "index.html").is_file()


def wait_until_stopped(process: subprocess.Popen, seconds: float = 300) -> None:
    """Wait until the process has stopped itself (state T) at its GENERATE_STOP_AT point."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
            return
        time.sleep(0.1)
    raise AssertionError("the first run never reached its stop point")


def read_until(process: subprocess.Popen, text: str, seconds: float = 120) -> str:
    """Read the process's stderr until it holds `text` (the process still running); return what it said so far."""
    said, deadline = b"", time.monotonic() + seconds
    while text.encode() not in said:
        ready, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(process.stderr.fileno(), 65536) if ready else b""
        assert chunk, f"no {text!r} from the process within {seconds:g} s: {said.decode(errors='replace')}"
        said += chunk
    return said.decode()


@pytest.mark.parametrize("wait", [False, True])
def test_two_runs_on_one_build_folder_never_publish_a_mismatched_model(run_copy, tmp_path, wait):
    build, site = run_copy
    # The first run reuses the copy's capture (seed 0: no training) and writes the site with its own date, which
    # tells its page from the copied one; it stops on cue holding the lock, with its site staged.
    first = subprocess.Popen(generate_command("site", *short_arguments(build, site)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=run_env({STOP_VARIABLE: "site-staged", "SOURCE_DATE_EPOCH": "1800000000"}))
    try:
        wait_until_stopped(first)
        site_before, capture_before = tree(site), file_sha256(build / "capture.h5")
        waiting = ["--wait"] * wait
        # seed 1 retrains (its analysis set's replay on 10 images with 2 resamples: the seed is what tells its model)
        second = subprocess.Popen(generate_command("capture", *short_arguments(build, site, "--seed", "1", *waiting,
                                                                               *LIGHT_ANALYSIS)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env())
        if not wait:
            _, error = second.communicate(timeout=120)
            assert_refused(subprocess.CompletedProcess([], second.returncode, "", error), "another generate.py run",
                           f"process {first.pid}", "--wait")
            assert tree(site) == site_before and file_sha256(build / "capture.h5") == capture_before
        else:
            said = read_until(second, "waiting for the other generate.py run")  # it reached the lock, and waits
            assert second.poll() is None and file_sha256(build / "capture.h5") == capture_before
    finally:
        first.send_signal(signal.SIGCONT)
    _, error = first.communicate(timeout=300)
    assert first.returncode == 0, error
    published = site / "assets" / "model.keras"
    seed_zero = build / "model.keras" if not wait else None
    if wait:
        _, error = second.communicate(timeout=300)
        assert second.returncode == 0 and "waiting for the other generate.py run" in said + error, said + error
        capture = Capture.load(build / "capture.h5")
        assert capture.config["seed"] == 1 and file_sha256(build / "model.keras") == capture.meta["model_sha256"]
        assert not published_network(published, build / "model.keras")  # the site keeps seed 0's model
    else:
        assert Capture.load(build / "capture.h5").config["seed"] == 0 and published_network(published, seed_zero)
    page = (site / "index.html").read_text()
    assert "<dt>Seed</dt><dd>0</dd>" in page and "Built on 15 January 2027." in page  # the first run's page


def test_an_unwritable_old_site_is_refused_before_anything_changes(run_copy):
    build, site = run_copy
    if shutil.which("chattr") is None:
        pytest.skip("chattr (e2fsprogs) is needed to make a folder that even root cannot change")
    before = tree(build), tree(site), sorted(path.name for path in site.parent.iterdir())
    made = subprocess.run(["chattr", "+i", str(site / "assets")], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this file system cannot mark a folder immutable: {made.stderr.strip()}")
    try:
        assert_refused(generate_here("site", build, site, "--seed", "1"), str(site / "assets"), "not writable",
                       "permissions")
    finally:
        subprocess.run(["chattr", "-i", str(site / "assets")], check=True)
    assert (tree(build), tree(site), sorted(path.name for path in site.parent.iterdir())) == before


@pytest.mark.parametrize("bad", ["data without a test set", "model function returning no model"])
def test_a_refused_run_leaves_no_new_build_folder(tmp_path, bad):
    import numpy as np

    if bad.startswith("data"):
        data = tmp_path / "data.npz"
        np.savez(data, x_train=np.zeros((8, 28, 28), np.uint8), y_train=np.zeros(8, np.uint8))
        flags, word = ["--data", str(data)], "x_test"
    else:  # refused only once TensorFlow has built it, after the build folder was prepared
        (tmp_path / "m.py").write_text("def build(input_shape, num_classes):\n    return 42\n")
        flags, word = ["--dataset", "bundled", "--model", f"{tmp_path / 'm.py'}:build"], "keras.Model"
    before = sorted(path.name for path in tmp_path.iterdir())
    result = run_in_process("capture", "--quiet", "--steps", "2", *flags, "--build-dir", str(tmp_path / "new-build"),
                            cwd=tmp_path)
    assert_refused(result, word)
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_make_clean_removes_only_the_tools_folders(run_copy, tmp_path):
    build, site = run_copy
    mine = user_folder(tmp_path / "mine", {"notes.txt": "precious", "assets/a.png": "png"})
    before = tree(mine)
    result = subprocess.run([sys.executable, "-m", "pipeline.clean", str(build), str(mine), str(site)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert_refused(result, str(mine), "no marker")
    assert not build.exists() and not site.exists() and tree(mine) == before
