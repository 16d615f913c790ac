"""Streaming capture at scale: a killed run keeps its flushed chunks, `--resume` finishes it, a full disk says so.

Each run is a real `generate.py capture` (150 steps of 32 bundled images: two full 64-snapshot chunks and a last
one of 23; the analysis set's replay on 100 images with 20 bootstrap resamples, which exercises the same
checkpointed grid as the default 1,000 and 200 in a tenth of the time). The killed run and the second run of the
same config are processes of their own, so that the kill is real and the same bytes come out of another process;
the others run generate.main in this process (run_in_process: TensorFlow imported once). The kill is a real
SIGKILL, sent by the project's crash hook (`GENERATE_CRASH_AT=capture-chunk-flushed`, pipeline/files.py) right
after the first chunk and its checkpoint are on disk; the run that resumes it is another process than the one
killed.

What the resumed run equals, against an uninterrupted run with the same seed:
- bitwise: every snapshot (float16), the steps, the test points, model.keras, and the analysis group (the
  weight snapshots of its grid made before the kill are saved with each checkpoint). The checkpoint holds
  the float32 weights and Adam's state exactly, the seeded shuffle pipeline is skipped to the same batch,
  and TensorFlow's CPU kernels are deterministic here, so the same float32 computations follow and the
  float16 roundings of equal numbers are equal;
- to float32 rounding only (about 1e-4 relative): the per-step train loss and accuracy. They are recovered
  from Keras' running epoch means (model/callbacks.py), and the resumed `fit` starts its epochs at another
  step, so the same batch values come out of differently rounded means.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from capture.archive import Capture
from capture.chunk_writer import FAIL_WRITE_VARIABLE
from capture.partial import read_state
from capture.schema import CaptureError
from model.analysis_replay import grid_steps
from pipeline.config import Config
from tests.helpers import generate_in_process, run_generate, run_in_process

ARGS = ["--steps", "150", "--batch-size", "32", "--dataset", "bundled", "--quiet", "--set", "test_every=20",
        "--set", "test_subset=200", "--set", "analysis_images=100", "--set", "bootstrap=20"]


def capture(build: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The capture with ARGS as a generate.py process of its own."""
    return run_generate("capture", *ARGS, "--build-dir", str(build), *extra, env=env)


def capture_here(build: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The same capture as generate.main in this process."""
    return run_in_process("capture", *ARGS, "--build-dir", str(build), *extra, env=env)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    build = tmp_path_factory.mktemp("whole")
    result = capture_here(build)
    assert result.returncode == 0, result.stderr
    return build


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    build = tmp_path_factory.mktemp("killed")
    result = capture(build, env={"GENERATE_CRASH_AT": "capture-chunk-flushed"})
    assert result.returncode == -9, result.stderr  # SIGKILL
    return build


def test_killed_run_keeps_exactly_its_first_chunk(killed, uninterrupted):
    assert not (killed / "capture.h5").exists()
    state = read_state(killed / "capture.partial")
    assert state["last_step"] == 63 and state["complete"] is False and len(state["chunks"]) == 1
    partial = Capture.load(killed / "capture.partial")
    whole = Capture.load(uninterrupted / "capture.h5")
    assert partial.steps.tolist() == list(range(64)) and partial.meta["complete"] is False
    for name, values in whole.activations.items():
        np.testing.assert_array_equal(partial.activations[name], values[:64])
    np.testing.assert_array_equal(partial.test_steps, [0, 20, 40, 60])
    assert len(partial.train_loss) == 63


def test_resume_finishes_and_equals_the_uninterrupted_run(killed, uninterrupted):
    result = capture_here(killed, "--resume")
    assert result.returncode == 0, result.stderr
    assert "resuming from step 63" in result.stderr
    resumed, whole = Capture.load(killed / "capture.h5"), Capture.load(uninterrupted / "capture.h5")
    assert not (killed / "capture.partial").exists()
    assert resumed.steps.tolist() == whole.steps.tolist() == list(range(151))
    for name, values in whole.activations.items():
        np.testing.assert_array_equal(np.asarray(resumed.activations[name]), np.asarray(values))
    for key in ("test_steps", "test_loss", "test_accuracy"):
        np.testing.assert_array_equal(getattr(resumed, key), getattr(whole, key))
    np.testing.assert_allclose(resumed.train_loss, whole.train_loss, rtol=1e-4)
    np.testing.assert_allclose(resumed.train_accuracy, whole.train_accuracy, atol=1e-4)
    assert (killed / "model.keras").read_bytes() == (uninterrupted / "model.keras").read_bytes()
    # the analysis set's replay: the weight snapshots before the kill were kept with the checkpoint
    assert resumed.analysis.steps.tolist() == whole.analysis.steps.tolist() == grid_steps(Config(steps=150))
    for name in whole.layer_names:
        np.testing.assert_array_equal(resumed.analysis.final[name], whole.analysis.final[name])
        for key, values in whole.analysis.series[name].items():
            np.testing.assert_array_equal(resumed.analysis.series[name][key], values, err_msg=f"{name} {key}")


def test_same_config_gives_the_same_archive_bytes(uninterrupted, tmp_path):
    assert capture(tmp_path).returncode == 0  # another process than the uninterrupted run's
    assert (tmp_path / "capture.h5").read_bytes() == (uninterrupted / "capture.h5").read_bytes()


def test_resume_says_why_it_cannot(tmp_path, uninterrupted):
    nothing = capture_here(tmp_path / "empty", "--resume")
    assert nothing.returncode == 2 and "no interrupted run" in nothing.stderr
    assert len(nothing.stderr.strip().splitlines()) == 1


def test_truncated_and_damaged_archives_give_one_line(tmp_path, uninterrupted):
    data = (uninterrupted / "capture.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(CaptureError, match="delete .* and run") as error:
        Capture.load(tmp_path / "cut.h5")
    assert "\n" not in str(error.value)
    damaged = bytearray(data)
    with h5py.File(uninterrupted / "capture.h5", "r") as archive:  # flip bytes inside conv1's first chunk
        offset = archive["activations/0"].id.get_chunk_info(0).byte_offset
    damaged[offset + 100: offset + 110] = bytes(10)
    (tmp_path / "bad.h5").write_bytes(bytes(damaged))
    with pytest.raises(CaptureError, match="cannot be read"):
        Capture.load(tmp_path / "bad.h5").activations["conv1"][0]  # fletcher32 catches it when read


def test_an_archive_saved_whole_and_one_assembled_from_chunks_read_alike(uninterrupted, tmp_path):
    whole = Capture.load(uninterrupted / "capture.h5")
    materialised = Capture(**{**whole.__dict__, "activations": {name: np.asarray(values)
                                                                   for name, values in whole.activations.items()}})
    materialised.save(tmp_path / "saved.h5")
    saved = Capture.load(tmp_path / "saved.h5")
    assert saved.meta == whole.meta and saved.config_json == whole.config_json
    for name, values in whole.activations.items():
        assert values.shape == saved.activations[name].shape and saved.activations[name].dtype == np.float16
        np.testing.assert_array_equal(values[-1], saved.activations[name][-1])
        np.testing.assert_array_equal(values[[5, 0, 5]], saved.activations[name][[5, 0, 5]])
        np.testing.assert_array_equal(np.asarray(values), np.asarray(saved.activations[name]))


def tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_disk_too_small_for_the_archive_is_refused_before_training(tmp_path, capsys):
    """On a real 8 MB tmpfs (where this process may mount one): the archive cannot fit, so nothing starts."""
    build = tmp_path / "small"
    if not tmpfs(build, "8m"):
        pytest.skip("this process may not mount a tmpfs; the mid-write case below covers a full disk")
    try:
        status, stderr = generate_in_process(capsys, "capture", *ARGS, "--build-dir", str(build))
        assert status == 2, stderr
        lines = stderr.strip().splitlines()
        assert lines[-1].startswith("error: ") and "disk" in lines[-1] and "--every" in lines[-1], lines
        assert not (build / "capture.partial").exists() and not (build / "capture.h5").exists()
    finally:
        subprocess.run(["umount", str(build)], check=False)


def test_disk_full_while_writing_is_one_line_and_keeps_flushed_chunks(tmp_path):
    """The disk fills at the second chunk: an OSError(ENOSPC) injected at the writer's second chunk
    (GENERATE_FAIL_WRITE_AT_CHUNK=1), since the free-space check before training refuses any disk that is
    too small from the start (test above)."""
    build = tmp_path / "build"
    result = capture_here(build, env={FAIL_WRITE_VARIABLE: "1"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "chunk 1" in lines[-1] and "--resume" in lines[-1], lines
    assert "space" in lines[-1]
    state = read_state(build / "capture.partial")
    assert state["chunks"] == ["chunk-000000.h5"] and state["last_step"] == 63
    assert Capture.load(build / "capture.partial").steps.tolist() == list(range(64))
    assert state["analysis_weights"] == ["analysis-weights-63.npz"]  # saved with its checkpoint
    assert sorted(path.name for path in (build / "capture.partial").iterdir()) == [
        "analysis-weights-63.npz", "checkpoint-63.keras", "chunk-000000.h5", "state.json"]  # no half-written file
