"""The browser tests find an installed browser and driver of one version: Debian's, or one a CI image ships."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import browser_paths

HERE = Path(__file__).resolve().parent


def fake_driver(folder: Path, version: str) -> Path:
    """A chromedriver stand-in that prints a version, as the real one does for --version."""
    folder.mkdir(parents=True, exist_ok=True)
    driver = folder / "chromedriver"
    driver.write_text(f"#!/bin/sh\necho 'ChromeDriver {version} (abc)'\n")
    driver.chmod(0o755)
    return driver


def test_a_browser_on_path_with_the_runner_images_driver_is_found_and_a_mismatched_driver_is_not(tmp_path,
                                                                                                 monkeypatch):
    if browser_paths.find_browser() is None:
        pytest.skip("no Chromium installed here to stand in for the CI image's Chrome")
    real_browser = browser_paths.find_browser()[0]
    major = browser_paths._major(real_browser)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "google-chrome").symlink_to(real_browser)
    monkeypatch.delenv("CHROMIUM_BINARY", raising=False)
    monkeypatch.delenv("CHROMEDRIVER", raising=False)
    monkeypatch.setattr(browser_paths, "DEBIAN", ("/nonexistent/chromium", "/nonexistent/chromedriver"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("CHROMEWEBDRIVER", str(tmp_path / "driver"))
    fake_driver(tmp_path / "driver", "1.2.3")  # another major version: refused
    assert browser_paths.find_browser() is None
    driver = fake_driver(tmp_path / "driver", f"{major}.0.1.2")
    assert browser_paths.find_browser() == (str(tmp_path / "bin" / "google-chrome"), str(driver))


def test_an_override_is_taken_as_given_never_guessed_past():
    env = {**os.environ, "CHROMIUM_BINARY": "/nonexistent/chrome"}
    result = subprocess.run([sys.executable, str(HERE / "harness" / "browser_paths.py")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
