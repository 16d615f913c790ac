"""`generate.py compare`: two short real runs of different lengths and layer sets on one page, in real Chromium.

Run A records every conv layer for 6 steps; run B (another seed) records conv1 and conv3 for 10 steps, so the page
must hold A's last frame past step 6, pair the layers by position only where their shapes agree, and show A's
layers that B lacks. Both runs are trained and the comparison made in process (generate.main, one after the other).
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil

import pytest

from capture.archive import Capture
from pipeline.config import Config
from pipeline.files import file_sha256
from pipeline.ownership import COMPARE, SITE, Marker, new_id, read_marker, write_marker
from tests import harness
from tests.explorer_browser import wait_for
from tests.helpers import assert_one_error_line, generate_in_process, run_in_process, screenshots_dir

RUN = ["--quiet", "--dataset", "bundled", "--batch-size", "64", "--set", "test_every=2", "--set", "test_subset=200"]
if "analysis_images" in {field.name for field in dataclasses.fields(Config)}:
    RUN += ["--set", "analysis_images=0"]  # measured on the probes: the analysis takes a second, not a minute
RUNS = {"a": ["--steps", "6", "--seed", "0"], "b": ["--steps", "10", "--seed", "1", "--layers", "conv1,conv3"]}
READY = "return document.documentElement.getAttribute('data-compare') === 'ready'"
RUN_STATES = ("return Array.from(document.querySelectorAll('[data-run]')).map(e => [e.getAttribute('data-step'), "
              "e.getAttribute('data-drawn-step')])")
# For every canvas of every run: its size and how many of its pixels differ from the page's paper colour.
INKED = """
return Array.from(document.querySelectorAll('[data-run] canvas')).map(function (canvas) {
  if (!canvas.width || !canvas.height) { return [0, 0]; }
  var pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data, inked = 0;
  var paper = [pixels[0], pixels[1], pixels[2]];
  for (var i = 0; i < pixels.length; i += 4) {
    if (pixels[i] !== paper[0] || pixels[i + 1] !== paper[1] || pixels[i + 2] !== paper[2]) { inked++; }
  }
  return [canvas.width * canvas.height, inked];
});
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two short runs rendered into their own build folders: {"a": build, "b": build}."""
    root = tmp_path_factory.mktemp("compare-runs")
    builds = {name: root / name for name in RUNS}
    for name in RUNS:
        result = run_in_process("render", *RUN, *RUNS[name], "--build-dir", str(builds[name]))
        assert result.returncode == 0, result.stderr
    return builds


@pytest.fixture(scope="module")
def page(runs, tmp_path_factory):
    """The comparison page of both runs, by step: (site folder, index.html)."""
    site = tmp_path_factory.mktemp("compare-page") / "site-compare"
    import generate

    assert generate.main(["compare", str(runs["a"]), str(runs["b"]), "--site-dir", str(site), "--quiet"]) == 0
    return site, site / "index.html"


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_for(lambda: driver.execute_script(READY), what="the comparison page to start")


def run_steps(driver) -> list[str]:
    """Return every run's data-step once each has drawn that step."""
    wait_for(lambda: all(step == drawn for step, drawn in driver.execute_script(RUN_STATES)),
             what="every run to draw the step it shows")
    return [step for step, _ in driver.execute_script(RUN_STATES)]


def test_one_control_moves_every_run_and_the_shorter_one_holds_its_last_frame(page, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    site, index = page
    report = harness.check_page(driver, harness.file_url(index))  # links, console errors, outside requests
    assert report.ok, str(report)
    open_page(driver, harness.file_url(index))
    sliders = driver.find_elements(By.CSS_SELECTOR, "input[type=range]")
    assert len(sliders) == 1 and len(driver.find_elements(By.CSS_SELECTOR, "[data-run]")) == 2
    slider = sliders[0]
    assert run_steps(driver) == ["6", "10"]  # the end: A holds its last step
    assert driver.find_element(By.CSS_SELECTOR, "[data-run='1'] [data-compare-held]").is_displayed()
    slider.send_keys(Keys.HOME)
    assert run_steps(driver) == ["0", "0"]
    cursor = driver.find_element(By.CSS_SELECTOR, "[data-compare-cursor]").get_attribute("x1")
    for _ in range(4):
        slider.send_keys(Keys.ARROW_RIGHT)
    assert run_steps(driver) == ["4", "4"]
    assert slider.get_attribute("aria-valuetext") == "step 4 of 10"
    assert driver.find_element(By.CSS_SELECTOR, "[data-compare-cursor]").get_attribute("x1") != cursor
    for _ in range(4):
        slider.send_keys(Keys.ARROW_RIGHT)
    assert run_steps(driver) == ["6", "8"]
    assert not driver.find_element(By.CSS_SELECTOR, "[data-run='2'] [data-compare-held]").is_displayed()
    canvases = driver.execute_script(INKED)
    assert len(canvases) == 2 + 6 + 2  # each run's probe, A's six layers, B's two
    assert all(size > 0 and inked > 0 for size, inked in canvases), canvases
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == [], severe
    shots = screenshots_dir()
    shots.mkdir(parents=True, exist_ok=True)
    harness.screenshot(driver, shots / "compare.png", *harness.DESKTOP)


def test_page_passes_axe_and_vnu_and_works_from_a_copy_served_over_http(page, driver, tmp_path):
    site, index = page
    copy = shutil.copytree(site, tmp_path / "elsewhere")
    with harness.serve_directory(copy) as base:
        report = harness.check_page(driver, base + "index.html")
        assert report.ok, str(report)
        harness.require(harness.axe_available())
        open_page(driver, base + "index.html")
        assert harness.run_axe(driver) == []
    harness.require(harness.vnu_available())
    assert harness.run_vnu([index]) == []


def test_table_states_each_runs_numbers_and_pairs_layers_only_where_shapes_agree(page, runs):
    _, index = page
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", index.read_text())).split())
    for name in ("a", "b"):
        accuracy = Capture.load(runs[name] / "capture.h5").meta["final_test_accuracy"]
        assert f"{100 * accuracy:.1f}%" in text
    assert "Layer 1: settled at step conv1:" in text  # both runs' first layer: conv1, the same shape
    assert "not paired: its shape differs" in text  # A's conv2 (28x28x4) against B's conv3 (14x14x8)
    assert "no layer 3 in this run" in text and "not in every run" in text
    assert "Setting layers" in text and "Setting seed" in text and "Setting steps" in text
    chunks = sorted(path.name for path in (index.parent / "runs" / "2").iterdir())
    assert chunks and all(re.fullmatch(r"explore-conv[13]-\d-0\.js", name) for name in chunks)
    assert read_marker(index.parent).kind == COMPARE


def test_the_article_of_a_compared_run_links_the_comparison_with_both_runs_numbers(page, runs, tmp_path, capsys):
    site, index = page
    summary = json.loads((site / "compare.json").read_text())
    assert [run["label"] for run in summary["runs"]] == ["a", "b"]
    for row in summary["runs"]:  # the box's headline figures of each run, recomputed from its capture
        capture = Capture.load(runs[row["label"]] / "capture.h5")
        reached = [int(step) for step, value in zip(capture.test_steps, capture.test_accuracy) if value >= 0.9]
        assert row["ninety_step"] == (reached[0] if reached else None)
        widths = [capture.activations[name].shape[-1] for name in list(capture.activations)[:2]]
        assert row["duplicates"]["pairs"] == sum(width * (width - 1) // 2 for width in widths)
        assert 0 <= row["duplicates"]["reaching"] <= row["duplicates"]["pairs"]
    article = tmp_path / "nested" / "site-a"
    status, stderr = generate_in_process(capsys, "site", *RUN, *RUNS["a"], "--build-dir", str(runs["a"]),
                                         "--site-dir", str(article), "--compare-dir", str(site))
    assert status == 0, stderr
    markup = (article / "index.html").read_text()
    section = re.search(r'<section id="compared".*?</section>', markup, re.S).group(0)
    href = html.unescape(re.search(r'href="([^"]+)">open the comparison', section).group(1))
    assert (article / href).resolve() == index.resolve()  # relative, from the article's folder
    assert 'href="#compared"' in markup  # in the contents
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())
    for name in ("a", "b"):
        capture = Capture.load(runs[name] / "capture.h5")
        accuracy = capture.meta["final_test_accuracy"]
        assert f"final test accuracy is {100 * accuracy:.1f}% after {len(capture.train_loss) - 1} steps" in text \
            or f"final test accuracy is {100 * accuracy:.1f}% after {int(capture.steps[-1])} steps" in text
    assert "put beside b (the article's model)" in text and "settings differ in" in text and "seed" in text
    # A comparison folder the tool did not write (no marker), or one without this run, is not mentioned.
    unowned = tmp_path / "unowned"
    shutil.copytree(site, unowned)
    (unowned / ".made-by-generate-py").unlink()
    status, stderr = generate_in_process(capsys, "site", *RUN, *RUNS["b"], "--build-dir", str(runs["b"]),
                                         "--site-dir", str(tmp_path / "site-b"), "--compare-dir", str(unowned))
    assert status == 0, stderr
    assert 'id="compared"' not in (tmp_path / "site-b" / "index.html").read_text()


def test_by_fraction_each_run_shows_the_same_share_of_its_training(runs, tmp_path, capsys):
    site = tmp_path / "by-fraction"
    status, stderr = generate_in_process(capsys, "compare", str(runs["a"]), str(runs["b"]), "--site-dir", str(site),
                                         "--align", "fraction", "--quiet")
    assert status == 0, stderr
    markup = (site / "index.html").read_text()
    control = json.loads(re.search(r'id="compare-positions">(.*?)</script>', markup, re.S).group(1))
    assert control["align"] == "fraction" and control["values"][0] == 0 and control["values"][-1] == 1
    half = control["values"].index(0.5)
    assert control["indices"][half] == [3, 5]  # step 3 of 6 and step 5 of 10
    assert control["indices"][-1] == [6, 10]


def test_refusals_leave_every_file_as_it_was(runs, tmp_path, capsys):
    a, b = str(runs["a"]), str(runs["b"])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes\n")
    status, stderr = generate_in_process(capsys, "compare", a, b, "--site-dir", str(mine))
    assert_one_error_line(status, stderr, str(mine), "did not write")
    assert sorted(path.name for path in mine.iterdir()) == ["notes.txt"] and \
        (mine / "notes.txt").read_text() == "my notes\n"

    article = tmp_path / "article-site"
    article.mkdir()
    write_marker(article, Marker(SITE, new_id()))
    status, stderr = generate_in_process(capsys, "compare", a, b, "--site-dir", str(article))
    assert_one_error_line(status, stderr, "a published site", "not a comparison page")

    empty_build = tmp_path / "unfinished"
    shutil.copytree(runs["b"], empty_build)
    (empty_build / "capture.h5").unlink()
    target = tmp_path / "not-written"
    status, stderr = generate_in_process(capsys, "compare", a, str(empty_build), "--site-dir", str(target))
    assert_one_error_line(status, stderr, str(empty_build), "no complete capture.h5")
    stale = tmp_path / "stale"
    shutil.copytree(runs["b"], stale)
    (stale / "assets" / "render-key.json").write_text("{}\n")
    status, stderr = generate_in_process(capsys, "compare", a, str(stale), "--site-dir", str(target))
    assert_one_error_line(status, stderr, "rendered assets", "generate.py render")
    older = tmp_path / "older"  # rendered by a version whose explorer files the page no longer reads
    shutil.copytree(runs["b"], older)
    meta_path = older / "assets" / "explore.json"
    meta_path.write_text(json.dumps(dict(json.loads(meta_path.read_text()), format_version=2)))
    manifest = json.loads((older / "assets" / "manifest.json").read_text())
    manifest["explore"]["meta"].update(bytes=meta_path.stat().st_size, sha256=file_sha256(meta_path))
    (older / "assets" / "manifest.json").write_text(json.dumps(manifest))
    status, stderr = generate_in_process(capsys, "compare", a, str(older), "--site-dir", str(target))
    assert_one_error_line(status, stderr, "explorer data are of format 2", "generate.py render")
    status, stderr = generate_in_process(capsys, "compare", a, "--site-dir", str(target))
    assert_one_error_line(status, stderr, "at least two build folders")
    status, stderr = generate_in_process(capsys, "compare", a, a, "--site-dir", str(target))
    assert_one_error_line(status, stderr, "given twice")
    status, stderr = generate_in_process(capsys, "compare", a, str(tmp_path / "nowhere"), "--site-dir", str(target))
    assert_one_error_line(status, stderr, "is not a folder")
    status, stderr = generate_in_process(capsys, "compare", a, b, "--site-dir", str(runs["a"] / "inside"))
    assert_one_error_line(status, stderr, "inside")
    assert not target.exists() and not (runs["a"] / "inside").exists()
