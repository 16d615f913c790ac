"""Helpers of the safety tests: a short real run through the command line, file hashes, one-line refusals."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHORT = ["--quiet", "--dataset", "bundled", "--steps", "4", "--set", "test_every=2", "--set", "test_subset=200"]


def generate_command(stage: str, build: Path, site: Path, *extra: str) -> list[str]:
    """Return the command line of a short run, as a user would type it."""
    return [sys.executable, str(REPO / "generate.py"), stage, *SHORT, "--build-dir", str(build), "--site-dir",
            str(site), *extra]


def run_env(env: dict | None = None) -> dict:
    """Return the environment of a test run (a fixed date, so the same run gives the same bytes)."""
    return {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", **(env or {})}


def generate(stage: str, build: Path, site: Path, *extra: str, env: dict | None = None,
             cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run generate.py as a user would, with the short run's settings."""
    return subprocess.run(generate_command(stage, build, site, *extra), cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=run_env(env))


def tree(folder: Path) -> dict[str, str]:
    """Return every file under a folder (hidden ones included) with its sha256."""
    if not folder.exists():
        return {}
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """Assert exit status 2 with exactly one `error:` line holding every word, and no traceback."""
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in errors[0], errors[0]

