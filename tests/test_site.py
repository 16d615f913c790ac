"""The article from a short real run: in a real browser, and against the capture it came from."""

from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np
import pytest

from capture.archive import Capture
from tests import harness
from tests.archive_arrays import read_archive
from tests.helpers import page_text, screenshots_dir


def test_page_served_over_http_loads_everything(built, driver):
    _, site_dir = built
    with harness.serve_directory(site_dir) as base:
        report = harness.check_page(driver, base + "index.html")
        assert report.ok, str(report)
        assert report.videos == [] and len(report.images) >= 4  # the explorer draws the layers; MP4s are downloads
        assert len([link for link in report.links if link.endswith(".mp4")]) == 6
        shown = "return document.querySelectorAll('[data-explorer-layer]:not([hidden])').length"
        assert driver.execute_script(shown) == 6
        shots = screenshots_dir()
        shots.mkdir(parents=True, exist_ok=True)
        harness.screenshot(driver, shots / "desktop.png", *harness.DESKTOP)
        harness.screenshot(driver, shots / "phone.png", *harness.PHONE)


def test_axe_finds_no_violations_at_desktop_and_phone_width(built, driver):
    harness.require(harness.axe_available())
    _, site_dir = built
    with harness.serve_directory(site_dir) as base:
        driver.set_window_size(*harness.DESKTOP)
        driver.get(base + "index.html")
        violations = harness.run_axe(driver)
        assert violations == [], violations
        width, height = harness.PHONE  # (a screenshot here would end its phone emulation before axe ran)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                       "deviceScaleFactor": 1, "mobile": True})
        try:
            assert driver.execute_script("return document.documentElement.clientWidth") == width
            phone_violations = harness.run_axe(driver)  # tables scroll sideways at phone width
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        assert phone_violations == [], phone_violations


def test_page_opened_from_disk_loads_everything(built, driver):
    _, site_dir = built
    report = harness.check_page(driver, harness.file_url(site_dir / "index.html"))
    assert report.ok, str(report)


def test_page_works_from_a_subfolder_url(built, driver, tmp_path):
    _, site_dir = built
    shutil.copytree(site_dir, tmp_path / "project-name")
    with harness.serve_directory(tmp_path) as base:
        report = harness.check_page(driver, base + "project-name/index.html")
        assert report.ok, str(report)


def test_html_validates(built):
    harness.require(harness.vnu_available())
    _, site_dir = built
    assert harness.run_vnu([site_dir / "index.html"]) == []


def test_no_absolute_or_external_references(built):
    _, site_dir = built
    markup = (site_dir / "index.html").read_text()
    references = re.findall(r'(?:href|src|poster)="([^"]*)"', markup)
    assert references
    for reference in references:
        assert not re.match(r"^(https?:)?//|^/", reference), reference
    assert (site_dir / ".nojekyll").exists()


def test_final_accuracy_and_channel_correlations_match_the_capture(built):
    """Recompute numbers shown on the page straight from the archive (read with h5py), independently of report/."""
    build_dir, site_dir = built
    archive = read_archive(build_dir / "capture.h5")
    meta = json.loads(str(archive["meta"]))
    import h5py

    with h5py.File(build_dir / "capture.h5", "r") as stored:  # the labels' numbers come from the analysis images
        conv1 = stored["analysis/final/0"][()].astype(np.float64)  # (A, 28, 28, 4): conv1 is layer 0
        probes = stored["analysis/images"][()].astype(np.float64) / 255  # (A, 28, 28)
    text = page_text(site_dir / "index.html")
    assert f"{100 * meta['final_test_accuracy']:.1f}% test accuracy" in text
    for channel in range(conv1.shape[-1]):
        r = np.corrcoef(conv1[..., channel].ravel(), probes.ravel())[0, 1]
        shown = f"{r:+.2f}".replace("-", "\u2212")
        table = text[text.index("conv1: what each"):]
        row = re.search(rf"Channel {channel + 1}\s+[^+\u2212]*?([+\u2212]\d\.\d\d)", table)
        assert row is not None and row.group(1) == shown, (channel, row and row.group(1), shown)


def test_same_capture_gives_identical_site_bytes(built, tmp_path):
    _, site_dir = built
    import render.stage
    import report.stage
    from pipeline.layout import Layout

    build_dir = tmp_path / "build"  # a copy: the shared build folder is never written (other workers copy it)
    shutil.copytree(built[0], build_dir, symlinks=True)
    capture = Capture.load(build_dir / "capture.h5")
    layout = Layout(build_dir, tmp_path / "again")
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        manifest = render.stage.run(capture, layout, render.stage.RenderSettings(),
                                    progress=False)
        again = report.stage.run(capture, manifest, layout)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    first = {path.relative_to(site_dir): path.read_bytes() for path in site_dir.rglob("*") if path.is_file()}
    second = {path.relative_to(again.parent): path.read_bytes() for path in again.parent.rglob("*") if path.is_file()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_interrupted_build_leaves_the_previous_site_whole(run_copy, tmp_path, monkeypatch):
    build_dir, previous = run_copy  # copies: the run notes its staging folder in the build folder's marker
    before = {path: path.read_bytes() for path in previous.rglob("*") if path.is_file()}
    from pipeline.layout import Layout
    from report import stage

    def fail(*_args, **_kwargs):
        raise KeyboardInterrupt("interrupted while rendering the template")

    monkeypatch.setattr(stage, "environment", fail)
    capture = Capture.load(build_dir / "capture.h5")
    manifest = json.loads((build_dir / "assets" / "manifest.json").read_text())
    with pytest.raises(KeyboardInterrupt):
        stage.run(capture, manifest, Layout(build_dir, previous))
    assert {path: path.read_bytes() for path in previous.rglob("*") if path.is_file()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["build", "site"]
