"""Output folders are owned, artifacts are committed together, and a kill at any chosen point loses nothing.

Each test runs the command line on a short real run: a run that is killed is a real generate.py process, the
others run generate.main in the test process (generate_here). Kills happen at named points through the
GENERATE_CRASH_AT hook (pipeline/files.py), never by timing luck.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from capture.archive import Capture
from pipeline.files import CRASH_VARIABLE, file_sha256
from pipeline.folders import NO_EXCHANGE_VARIABLE, OWNER_MARKER
from tests.helpers import REPO, assert_refused, generate, generate_here, published_network, tree


def test_a_folder_of_the_users_is_never_used_as_the_site(run_copy, tmp_path):
    build, _ = run_copy
    mine = tmp_path / "v"
    mine.mkdir()
    (mine / "keep").write_text("x")
    before = tree(build)
    assert_refused(generate_here("site", build, mine), "--site-dir", "keep")
    assert (mine / "keep").read_text() == "x" and sorted(os.listdir(mine)) == ["keep"]
    assert tree(build) == before


@pytest.mark.parametrize("target", ["project", "build", "parent-of-build", "assets", "cwd"])
def test_the_site_may_not_be_or_hold_the_project_the_build_or_the_current_folder(run_copy, tmp_path, target):
    build, site = run_copy
    cwd = tmp_path / "work"
    cwd.mkdir()
    (cwd / OWNER_MARKER).write_text("even marked, the current folder is never replaced\n")
    chosen = {"project": REPO, "build": build, "parent-of-build": tmp_path, "assets": build / "assets",
              "cwd": cwd}[target]
    before = {"build": tree(build), "site": tree(site), "cwd": tree(cwd), "repo": project_listing()}
    assert_refused(generate_here("site", build, chosen, cwd=cwd), "--site-dir")
    assert before == {"build": tree(build), "site": tree(site), "cwd": tree(cwd), "repo": project_listing()}


def project_listing() -> list[str]:
    """The project folder's names, but for those a test in another worker may make meanwhile (build/screenshots,
    the first `import generate`'s __pycache__)."""
    return sorted(name for name in os.listdir(REPO) if name not in ("build", "__pycache__"))


def test_a_file_at_the_site_path_is_not_renamed_away(run_copy, tmp_path):
    build, _ = run_copy
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    assert_refused(generate_here("site", build, blocker), "is a file")
    assert blocker.read_text() == "mine" and sorted(os.listdir(tmp_path)) == ["build", "notes.txt", "site"]


@pytest.mark.parametrize("target", ["users-folder", "project", "cwd"])
def test_the_build_folder_is_owned_too(tmp_path, target):
    users = tmp_path / "mine"
    users.mkdir()
    (users / "thesis.tex").write_text("precious")
    chosen = {"users-folder": users, "project": REPO, "cwd": tmp_path}[target]
    before = tree(users)
    assert_refused(generate_here("capture", chosen, tmp_path / "site", cwd=tmp_path), "--build-dir")
    assert tree(users) == before and not (tmp_path / "site").exists()


def test_a_build_folder_marked_by_the_tool_keeps_the_projects_own_files(tmp_path):
    from pipeline.folders import prepare
    from pipeline.layout import Layout

    build = tmp_path / "build"
    prepare(Layout(build, tmp_path / "site"), writes_site=True).lock.close()
    (build / "screenshots").mkdir()  # what the browser tests leave in a build folder they marked (screenshots_dir)
    (build / "screenshots" / "desktop.png").write_bytes(b"png")
    prepare(Layout(build, tmp_path / "site"), writes_site=True).lock.close()
    assert (build / OWNER_MARKER).is_file() and (build / "screenshots" / "desktop.png").read_bytes() == b"png"


def test_a_new_model_beside_an_old_capture_is_never_published(run_copy, tmp_path):
    build, site = run_copy
    old_capture = (build / "capture.h5").read_bytes()
    # seed 1's model (its analysis set's replay on 10 images with 2 resamples: the model is what this run leaves)
    killed = generate("capture", build, site, "--seed", "1", "--set", "analysis_images=10", "--set", "bootstrap=2",
                      env={CRASH_VARIABLE: "capture-model-written"})
    assert killed.returncode == -signal.SIGKILL
    assert (build / "capture.h5").read_bytes() == old_capture
    assert file_sha256(build / "model.keras") != Capture.load(build / "capture.h5").meta["model_sha256"]
    result = generate_here("site", build, site)
    assert result.returncode == 0, result.stderr
    assert "is not the model" in result.stderr
    capture = Capture.load(build / "capture.h5")
    assert file_sha256(build / "model.keras") == capture.meta["model_sha256"]
    assert published_network(site / "assets" / "model.keras", build / "model.keras")


def test_a_damaged_model_is_retrained_not_published(run_copy):
    build, site = run_copy
    model = build / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    result = generate_here("site", build, site)
    assert result.returncode == 0, result.stderr
    expected = Capture.load(build / "capture.h5").meta["model_sha256"]
    assert file_sha256(model) == expected and published_network(site / "assets" / "model.keras", model)


@pytest.mark.parametrize("point, fallback", [("site-staged", False), ("site-exchanged", False),
                                             ("site-staged", True), ("site-retired", True)])
def test_a_kill_during_the_site_swap_leaves_a_whole_site_and_the_next_run_clears_up(run_copy, point, fallback):
    build, site = run_copy
    old = tree(site)
    env = {CRASH_VARIABLE: point, "SOURCE_DATE_EPOCH": "1800000000"}
    if fallback:
        env[NO_EXCHANGE_VARIABLE] = "1"
    # The killed run writes the English edition only: the swap moves the one staged folder whatever it holds, and
    # the Chinese edition (its templates compiled, its figures relabelled) is a quarter of such a run's CPU time.
    assert generate("site", build, site, "--languages", "en", env=env).returncode == -signal.SIGKILL
    leftovers = [path.name for path in site.parent.iterdir() if path.name.startswith(".site-")]
    assert leftovers, "the kill should have left a staging or retired folder behind"
    if point != "site-retired":  # the only moment of the two-rename fallback with no site at the path
        assert tree(site) == old or (point == "site-exchanged" and tree(site) != old and "index.html" in tree(site))
    result = generate_here("site", build, site)
    assert result.returncode == 0, result.stderr
    assert tree(site) == old  # SOURCE_DATE_EPOCH is back to the first run's: the same bytes again
    assert [path.name for path in site.parent.iterdir() if path.name.startswith(".site-")] == []


def test_a_kill_before_the_assets_swap_leaves_the_old_assets(run_copy):
    build, site = run_copy
    old = tree(build / "assets")
    assert generate("render", build, site, "--gif-budget-mb", "0.5",
                    env={CRASH_VARIABLE: "render-staged"}).returncode == -signal.SIGKILL
    assert tree(build / "assets") == old
    assert any(path.name.startswith(".assets-building-") for path in build.iterdir())
    assert generate_here("render", build, site).returncode == 0
    assert tree(build / "assets") == old and not any(path.name.startswith(".assets-") for path in build.iterdir())


def test_temporary_files_of_killed_runs_are_cleared_and_look_alike_folders_kept(run_copy):
    build, site = run_copy
    for name in (".capture.h5.k2j3.tmp", ".model.tmp4242.keras", ".timings.json.x.tmp"):
        (build / name).write_bytes(b"half a file")
    look_alikes = [site.parent / ".site-building-999999999-abc", site.parent / ".site-old-999999999",
                   build / ".assets-building-999999999-q"]
    for folder in look_alikes:  # named like a killed run's folders, but nothing proves the tool made them
        folder.mkdir()
        (folder / "keep.txt").write_text("k")
    assert generate_here("site", build, site).returncode == 0
    assert sorted(path.name for path in build.iterdir() if path.name.startswith(".") and path.is_file()) == [
        ".generate.lock", OWNER_MARKER]
    assert all((folder / "keep.txt").read_text() == "k" for folder in look_alikes)


def test_a_rejected_setting_changes_nothing(run_copy):
    build, site = run_copy
    before = tree(build), tree(site)
    assert_refused(generate_here("site", build, site, "--gif-budget-mb", "0"), "--gif-budget-mb")
    assert (tree(build), tree(site)) == before
    result = generate_here("render", build, site)  # the next run's render stage finds its assets untouched
    assert result.returncode == 0 and "render: reusing" in result.stderr, result.stderr


def test_a_truncated_or_misdescribed_asset_is_rendered_again(run_copy):
    build, site = run_copy
    video = build / "assets" / "conv3.mp4"
    good = video.read_bytes()
    video.write_bytes(good[: len(good) // 3])
    result = generate_here("site", build, site)
    assert result.returncode == 0 and "render: wrote" in result.stderr, result.stderr
    assert (site / "assets" / "conv3.mp4").read_bytes() == good
    (build / "assets" / "manifest.json").write_text("{}")
    result = generate_here("render", build, site)  # the render stage's own check of its manifest
    assert result.returncode == 0 and "render: wrote" in result.stderr, result.stderr
    assert json.loads((build / "assets" / "manifest.json").read_text())["layers"]


def test_two_fresh_runs_give_byte_identical_sites(built, tmp_path):
    result = generate_here("site", tmp_path / "build", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    first, second = tree(built[1]), tree(tmp_path / "site")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
