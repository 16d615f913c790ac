"""Bad input: one-line error naming the fix, exit status 2, existing outputs untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def run_generate(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), "capture", "--quiet", *arguments],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def assert_clean_failure(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    message = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(message) == 1, result.stderr
    for word in words:
        assert word in message[0], message[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def build_dir_with_outputs(tmp_path):
    """A build folder holding files that a failed run must leave byte for byte as they were."""
    build = tmp_path / "build"
    build.mkdir()
    (build / "model.keras").write_bytes(b"previous model")
    (build / "timings.json").write_text("{}\n")
    return build


def snapshot(folder: Path) -> dict:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("arguments, words", [
    (["--dataset", "cifar"], ["unknown dataset", "bundled"]),
    (["--steps", "0"], ["steps", "positive"]),
    (["--steps", "-3"], ["steps", "positive"]),
    (["--batch-size", "0"], ["batch_size", "positive"]),
    (["--set", "learning_rat=0.1"], ["unknown config field", "learning_rate"]),
    (["--dataset", "bundled", "--batch-size", "20000"], ["larger than", "--batch-size 10000"]),
])
def test_bad_config_is_refused(arguments, words, build_dir_with_outputs):
    before = snapshot(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), *arguments)
    assert_clean_failure(result, *words)
    assert snapshot(build_dir_with_outputs) == before


def test_data_dir_without_idx_files(tmp_path, build_dir_with_outputs):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "train-images-idx3-ubyte.gz").write_bytes(b"")
    before = snapshot(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--data-dir", str(empty))
    assert_clean_failure(result, str(empty))
    assert snapshot(build_dir_with_outputs) == before
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--data-dir", str(tmp_path / "nowhere"))
    assert_clean_failure(result, "not a folder")


@pytest.mark.parametrize("content", [b"not a zip archive at all", "foreign-npz"])
def test_corrupt_or_foreign_capture_is_not_overwritten(content, build_dir_with_outputs):
    archive = build_dir_with_outputs / "capture.npz"
    if content == "foreign-npz":
        np.savez(archive, weights=np.arange(5))
    else:
        archive.write_bytes(content)
    before = snapshot(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--dataset", "bundled", "--steps", "2")
    assert_clean_failure(result, "capture.npz", "delete")
    assert snapshot(build_dir_with_outputs) == before


def test_unwritable_build_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_generate("--build-dir", str(blocker / "build"), "--dataset", "bundled", "--steps", "2")
    assert_clean_failure(result, "not writable", "--build-dir")
    assert blocker.read_text() == "not a folder"
