"""Bad input: one-line error naming the fix, exit status 2, existing outputs untouched.

Most cases run generate.main in this process (TensorFlow, where a check needs it, is imported once); the real
command line runs where a process of its own is the point: mistyped flags (argparse's exit), data refused before
TensorFlow is imported, `python -m render` on a damaged archive, and the memory estimate against a real run's peak.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import (
    REPO,
    assert_one_error_line,
    assert_refused,
    folder_bytes,
    generate_command,
    generate_in_process,
    rewrite_capture,
    run_generate,
    run_in_process,
)


def refused_in_process(capsys, *arguments: str) -> str:
    """Run `generate.py capture --quiet ARGUMENTS` as generate.main in this process; return its one error line."""
    status, stderr = generate_in_process(capsys, "capture", "--quiet", *arguments)
    return assert_one_error_line(status, stderr)


def capture_command(*arguments: str) -> subprocess.CompletedProcess:
    """Run `generate.py capture --quiet ARGUMENTS` as generate.main in this process; return its CompletedProcess."""
    return run_in_process("capture", "--quiet", *arguments)


@pytest.mark.parametrize("arguments, words", [
    (["--dataset", "cifar"], ["unknown dataset", "bundled"]),
    (["--steps", "0"], ["steps", "positive"]),
    (["--steps", "-3"], ["steps", "positive"]),
    (["--batch-size", "0"], ["batch_size", "positive"]),
    (["--set", "learning_rat=0.1"], ["unknown config field", "learning_rate"]),
    (["--dataset", "bundled", "--batch-size", "20000"], ["larger than", "--batch-size 10000"]),
    (["--seed", "-1"], ["seed", "0 to 4294967295"]),  # numpy refused it, after TensorFlow's start-up
    (["--seed", str(2**32)], ["seed", "0 to 4294967295"]),
])
def test_bad_config_is_refused(arguments, words, build_dir_with_outputs, capsys):
    before = folder_bytes(build_dir_with_outputs)
    message = refused_in_process(capsys, "--build-dir", str(build_dir_with_outputs), *arguments)
    assert all(word in message for word in words), message
    assert folder_bytes(build_dir_with_outputs) == before


def test_data_dir_without_idx_files(tmp_path, build_dir_with_outputs):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "train-images-idx3-ubyte.gz").write_bytes(b"")
    before = folder_bytes(build_dir_with_outputs)
    result = capture_command("--build-dir", str(build_dir_with_outputs), "--data-dir", str(empty))
    assert_refused(result, str(empty))
    assert folder_bytes(build_dir_with_outputs) == before
    result = capture_command("--build-dir", str(build_dir_with_outputs), "--data-dir", str(tmp_path / "nowhere"))
    assert_refused(result, "not a folder")


@pytest.mark.parametrize("content", [b"not an archive at all", "foreign-h5"])
def test_corrupt_or_foreign_capture_is_not_overwritten(content, build_dir_with_outputs, capsys):
    import h5py

    archive = build_dir_with_outputs / "capture.h5"
    if content == "foreign-h5":
        with h5py.File(archive, "w") as foreign:
            foreign.create_dataset("weights", data=np.arange(5))
    else:
        archive.write_bytes(content)
    before = folder_bytes(build_dir_with_outputs)
    message = refused_in_process(capsys, "--build-dir", str(build_dir_with_outputs), "--dataset", "bundled", "--steps",
                                 "2")
    assert "capture.h5" in message and "delete" in message, message
    assert folder_bytes(build_dir_with_outputs) == before


def test_bad_data_is_refused_before_tensorflow_is_imported(tmp_path, build_dir_with_outputs):
    """A data folder that is none, or a batch larger than the data: refused without TensorFlow's seconds of import."""
    cases = [["--data-dir", str(tmp_path / "nowhere")], ["--dataset", "bundled", "--batch-size", "20000"]]
    check = ("import json, sys, generate\n"
             "statuses = [generate.main(['capture', '--quiet', '--build-dir', sys.argv[1], *case])\n"
             "            for case in json.loads(sys.argv[2])]\n"
             "print(json.dumps({'statuses': statuses, 'tensorflow': 'tensorflow' in sys.modules}))")
    before = folder_bytes(build_dir_with_outputs)
    result = subprocess.run([sys.executable, "-c", check, str(build_dir_with_outputs), json.dumps(cases)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert json.loads(result.stdout) == {"statuses": [2, 2], "tensorflow": False}, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "not a folder" in errors[0] and "--batch-size 10000" in errors[1], result.stderr
    assert folder_bytes(build_dir_with_outputs) == before


def test_unwritable_build_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = capture_command("--build-dir", str(blocker / "build"), "--dataset", "bundled", "--steps", "2")
    assert_refused(result, "not writable", "--build-dir")
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("arguments, words", [
    (["--set", "learning_rate=abc"], ["learning_rate", "number"]),
    (["--set", "learning_rate=NaN"], ["learning_rate", "number"]),
    (["--set", "steps=2.5"], ["steps", "integer"]),
    (["--steps", "1000000"], ["GB", "--every"]),
    (["--set", 'layer_names=["conv 1","c2","c3","c4","c5","c6"]'], ["layer_names"]),
    (["--set", 'layer_names=["a/b","c2","c3","c4","c5","c6"]'], ["layer_names"]),
    (["--set", "conv_widths=[4,4,0,8,16,16]"], ["conv_widths", "positive"]),
])
def test_bad_values_are_refused_before_any_work(arguments, words, build_dir_with_outputs, capsys):
    before = folder_bytes(build_dir_with_outputs)
    message = refused_in_process(capsys, "--build-dir", str(build_dir_with_outputs), "--dataset", "bundled",
                                 *arguments)
    assert all(word in message for word in words), message
    assert folder_bytes(build_dir_with_outputs) == before


def write_idx(path: Path, values: np.ndarray) -> None:
    header = bytes([0, 0, 8, values.ndim]) + b"".join(int(size).to_bytes(4, "big") for size in values.shape)
    path.write_bytes(header + values.astype(np.uint8).tobytes())


@pytest.mark.parametrize("split", ["train", "test"])
def test_labels_out_of_range_in_a_data_folder_are_refused_before_training(split, tmp_path, build_dir_with_outputs,
                                                                          capsys):
    folder = tmp_path / "idx"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, count in (("train", 64), ("t10k", 32)):
        labels = np.arange(count) % 10
        if (name == "train") == (split == "train"):
            labels[5] = 12
        write_idx(folder / f"{name}-images-idx3-ubyte", rng.integers(0, 255, (count, 28, 28)))
        write_idx(folder / f"{name}-labels-idx1-ubyte", labels)
    before = folder_bytes(build_dir_with_outputs)
    message = refused_in_process(capsys, "--build-dir", str(build_dir_with_outputs), "--data-dir", str(folder),
                                 "--batch-size", "16")
    assert f"{split} labels" in message and "0..9" in message, message
    assert folder_bytes(build_dir_with_outputs) == before


@pytest.mark.parametrize("change, words", [
    ({"meta": "[1, 2]"}, ["meta", "not a JSON object"]),
    ({"meta": '{"final_test_accuracy": 0.5}'}, ["meta", "dataset"]),
    ({"probe_labels": np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 42], np.int32)}, ["probe labels"]),
    ("damaged-deflate", ["cannot be read"]),
])
def test_a_damaged_or_inconsistent_capture_is_refused_and_kept(change, words, build_dir_with_outputs):
    archive = build_dir_with_outputs / "capture.h5"
    if change == "damaged-deflate":
        import h5py

        rewrite_capture(archive)
        with h5py.File(archive, "r") as written:  # inside the first layer's first compressed chunk
            offset = written["activations/0"].id.get_chunk_info(0).byte_offset
        data = bytearray(archive.read_bytes())
        data[offset + 16:offset + 80] = bytes(64)  # fletcher32 catches it when the chunk is read
        archive.write_bytes(bytes(data))
    else:
        rewrite_capture(archive, **change)
    before = folder_bytes(build_dir_with_outputs)
    # The archive is read lazily: a damaged chunk shows when its snapshots are read, so that case renders the
    # archive itself (python -m render, its own command line); the others are refused when generate.py opens it.
    rendered = build_dir_with_outputs.parent / "rendered"
    if change == "damaged-deflate":
        result = subprocess.run([sys.executable, "-m", "render", str(archive), str(rendered), "--quiet"], cwd=REPO,
                                capture_output=True, text=True, timeout=300)
    else:
        result = run_in_process("render", "--quiet", "--build-dir", str(build_dir_with_outputs), "--dataset",
                                "bundled")
    assert_refused(result, "capture.h5", *words)
    assert folder_bytes(build_dir_with_outputs) == before


def test_an_unwritable_site_folder_is_found_before_training(tmp_path, build_dir_with_outputs):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    before = folder_bytes(build_dir_with_outputs)
    result = run_in_process("site", "--quiet", "--dataset", "bundled", "--build-dir", str(build_dir_with_outputs),
                            "--site-dir", str(blocker / "site"))
    assert_refused(result, "--site-dir", "not writable")
    assert "training" not in result.stderr
    assert folder_bytes(build_dir_with_outputs) == before and blocker.read_text() == "not a folder"


@pytest.mark.parametrize("existing", [False, True])
def test_an_unexpected_error_is_one_line_that_names_the_log(tmp_path, monkeypatch, capsys, existing):
    import generate
    import model.stage
    from pipeline.ownership import BUILD, claim

    def broken(*_arguments, **_keywords):
        raise RuntimeError("a bug\nover two lines")

    build = tmp_path / "build"
    if existing:
        claim(build, BUILD)
    monkeypatch.setattr(model.stage, "run", broken)  # fails once the build folder is prepared
    status = generate.main(["capture", "--build-dir", str(build), "--dataset", "bundled"])
    message = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(message) == 1 and message[0].startswith("error: unexpected RuntimeError: a bug over")
    log = Path(message[0].split("(traceback in ")[1].split(";")[0])
    assert "RuntimeError: a bug" in log.read_text()
    # Into the build folder when it was there before; a folder this run made is removed again, the log kept apart.
    assert (log == build / "error.log") if existing else (not build.exists() and log.parent != build)


@pytest.mark.parametrize("arguments, words", [
    (["site", "--stpes", "3"], ["unrecognized arguments", "--stpes"]),
    (["site", "--steps", "abc"], ["--steps", "invalid int value"]),
    (["nonsense-stage"], ["invalid choice"]),
])
def test_a_mistyped_flag_is_one_line_with_exit_2(arguments, words, build_dir_with_outputs):
    before = folder_bytes(build_dir_with_outputs)
    result = run_generate(*arguments, "--build-dir", str(build_dir_with_outputs), timeout=60)
    assert_refused(result, *words)
    assert result.stderr.count("\n") == 1 and "usage:" not in result.stderr
    assert folder_bytes(build_dir_with_outputs) == before


CONVOLUTIONS = """
import keras


def build(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for index in range(LAYERS):
        x = keras.layers.Conv2D(WIDTH, 3, padding="same", activation="relu", name=f"c{index}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pooled")(x)
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="out")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


def write_inputs(folder: Path, train: int, test: int, shape: tuple, layers: int, width: int) -> list[str]:
    """Write zero images (compressed: a small file) and a builder of `layers` full-size convolutions."""
    np.savez_compressed(folder / "data.npz", x_train=np.zeros((train, *shape), np.uint8), y_train=np.arange(train) % 4,
                        x_test=np.zeros((test, *shape), np.uint8), y_test=np.arange(test) % 4)
    (folder / "model.py").write_text(CONVOLUTIONS.replace("LAYERS", str(layers)).replace("WIDTH", str(width)))
    return ["--data", str(folder / "data.npz"), "--model", f"{folder / 'model.py'}:build"]


@pytest.fixture(scope="module")
def huge_inputs(tmp_path_factory) -> list[str]:
    """64 images of 2000x2000 and three 8-channel convolutions at full size: about 60 GB at batch 64 (the kernel
    killed such a run, exit 137 and no message); the .npz of zeros is 0.3 MB. Written once: the runs only read it."""
    return write_inputs(tmp_path_factory.mktemp("huge"), 64, 4, (2000, 2000, 1), layers=3, width=8)


@pytest.mark.parametrize("layers, words", [
    ("pooled", ["--batch-size", "training step"]),  # the batch is what does not fit: a smaller one would
    ("conv", ["--layers", "archive chunk"]),  # 2000x2000x8 recorded: no batch size fits
])
def test_images_too_large_for_memory_are_refused_before_training(layers, words, huge_inputs, build_dir_with_outputs,
                                                                  capsys):
    import psutil

    if psutil.virtual_memory().available > 50e9:
        pytest.skip("this machine has the memory to try it: the refusal needs one with less than 50 GB free")
    inputs = huge_inputs
    before = folder_bytes(build_dir_with_outputs)
    message = refused_in_process(capsys, "--build-dir", str(build_dir_with_outputs), *inputs, "--batch-size", "64",
                                 "--layers", layers)
    assert all(word in message for word in ("GB of memory", "GB is free", "2000x2000x1", *words)), message
    assert folder_bytes(build_dir_with_outputs) == before
    assert not (build_dir_with_outputs / "capture.partial").exists()


def test_the_memory_estimate_covers_a_real_runs_peak(tmp_path):
    """The estimate (model.setup.memory_needs) against the peak RSS of the same run, measured by the kernel."""
    import generate
    from capture.schema import CHUNK_ROWS
    from model.data import load_dataset
    from model.setup import memory_needs, prepare_run, snapshot_bytes

    inputs = write_inputs(tmp_path, 128, 16, (256, 256, 3), layers=3, width=16)
    arguments = ["--steps", "2", "--batch-size", "64", "--layers", "c2", *inputs]
    build = tmp_path / "build"
    # A fresh parent process, so the peak is this run's alone (RUSAGE_CHILDREN keeps the largest child's).
    measure = ("import resource, subprocess, sys; status = subprocess.run(sys.argv[1:]).returncode; "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", measure, *generate_command(
        "capture", "--quiet", "--build-dir", str(build), "--site-dir", str(tmp_path / "site"), *arguments)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    peak = int(result.stdout.split()[-1])

    config = generate.config_from(generate.parse_arguments(["capture", *arguments]))
    dataset = load_dataset(config)
    setup = prepare_run(config, dataset)
    rows = config.steps // config.capture_every + 2
    buffers = snapshot_bytes(config, setup, len(dataset.probe_indices)) * min(rows, CHUNK_ROWS + 1) // rows
    estimate = sum(memory_needs(config, dataset, setup, buffers).values())
    assert peak <= estimate <= 1.6 * peak, (peak, estimate)  # measured here: 3.2 GB peak, 4.0 GB estimated
