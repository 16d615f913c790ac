"""Bad input: one-line error naming the fix, exit status 2, existing outputs untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import folder_bytes

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
def test_bad_config_is_refused(arguments, words, build_dir_with_outputs):
    before = folder_bytes(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), *arguments)
    assert_clean_failure(result, *words)
    assert folder_bytes(build_dir_with_outputs) == before


def test_data_dir_without_idx_files(tmp_path, build_dir_with_outputs):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "train-images-idx3-ubyte.gz").write_bytes(b"")
    before = folder_bytes(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--data-dir", str(empty))
    assert_clean_failure(result, str(empty))
    assert folder_bytes(build_dir_with_outputs) == before
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--data-dir", str(tmp_path / "nowhere"))
    assert_clean_failure(result, "not a folder")


@pytest.mark.parametrize("content", [b"not an archive at all", "foreign-h5"])
def test_corrupt_or_foreign_capture_is_not_overwritten(content, build_dir_with_outputs):
    import h5py

    archive = build_dir_with_outputs / "capture.h5"
    if content == "foreign-h5":
        with h5py.File(archive, "w") as foreign:
            foreign.create_dataset("weights", data=np.arange(5))
    else:
        archive.write_bytes(content)
    before = folder_bytes(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--dataset", "bundled", "--steps", "2")
    assert_clean_failure(result, "capture.h5", "delete")
    assert folder_bytes(build_dir_with_outputs) == before


def test_unwritable_build_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_generate("--build-dir", str(blocker / "build"), "--dataset", "bundled", "--steps", "2")
    assert_clean_failure(result, "not writable", "--build-dir")
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
def test_bad_values_are_refused_before_any_work(arguments, words, build_dir_with_outputs):
    before = folder_bytes(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--dataset", "bundled", *arguments)
    assert_clean_failure(result, *words)
    assert folder_bytes(build_dir_with_outputs) == before


def write_idx(path: Path, values: np.ndarray) -> None:
    header = bytes([0, 0, 8, values.ndim]) + b"".join(int(size).to_bytes(4, "big") for size in values.shape)
    path.write_bytes(header + values.astype(np.uint8).tobytes())


@pytest.mark.parametrize("split", ["train", "test"])
def test_labels_out_of_range_in_a_data_folder_are_refused_before_training(split, tmp_path, build_dir_with_outputs):
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
    result = run_generate("--build-dir", str(build_dir_with_outputs), "--data-dir", str(folder), "--batch-size", "16")
    assert_clean_failure(result, f"{split} labels", "0..9")
    assert folder_bytes(build_dir_with_outputs) == before


def rewrite_capture(path: Path, **changes) -> None:
    """Write a valid-looking HDF5 archive, then replace some of its members (texts as JSON strings, or arrays)."""
    import h5py

    from tests.synthetic_capture import synthetic_capture

    synthetic_capture(steps=3).save(path)
    with h5py.File(path, "r+") as archive:
        for key, value in changes.items():
            del archive[key]
            data = np.frombuffer(value.encode("utf-8"), np.uint8) if isinstance(value, str) else value
            archive.create_dataset(key, data=data)


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
    # archive itself (python -m render); the others are refused when generate.py opens it.
    rendered = build_dir_with_outputs.parent / "rendered"
    command = ([sys.executable, "-m", "render", str(archive), str(rendered), "--quiet"]
               if change == "damaged-deflate" else
               [sys.executable, str(REPO / "generate.py"), "render", "--quiet", "--build-dir",
                str(build_dir_with_outputs), "--dataset", "bundled"])
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert_clean_failure(result, "capture.h5", *words)
    assert folder_bytes(build_dir_with_outputs) == before


def test_an_unwritable_site_folder_is_found_before_training(tmp_path, build_dir_with_outputs):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    before = folder_bytes(build_dir_with_outputs)
    result = subprocess.run([sys.executable, str(REPO / "generate.py"), "site", "--quiet", "--dataset", "bundled",
                             "--build-dir", str(build_dir_with_outputs), "--site-dir", str(blocker / "site")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert_clean_failure(result, "--site-dir", "not writable")
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
    result = subprocess.run([sys.executable, str(REPO / "generate.py"), *arguments, "--build-dir",
                             str(build_dir_with_outputs)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert_clean_failure(result, *words)
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


@pytest.mark.parametrize("layers, words", [
    ("pooled", ["--batch-size", "training step"]),  # the batch is what does not fit: a smaller one would
    ("conv", ["--layers", "archive chunk"]),  # 2000x2000x8 recorded: no batch size fits
])
def test_images_too_large_for_memory_are_refused_before_training(layers, words, tmp_path, build_dir_with_outputs):
    import psutil

    # 64 images of 2000x2000 and three 8-channel convolutions at full size: about 60 GB at batch 64 (the kernel
    # killed such a run, exit 137 and no message); the .npz of zeros is 0.3 MB.
    if psutil.virtual_memory().available > 50e9:
        pytest.skip("this machine has the memory to try it: the refusal needs one with less than 50 GB free")
    inputs = write_inputs(tmp_path, 64, 4, (2000, 2000, 1), layers=3, width=8)
    before = folder_bytes(build_dir_with_outputs)
    result = run_generate("--build-dir", str(build_dir_with_outputs), *inputs, "--batch-size", "64",
                          "--layers", layers)
    assert_clean_failure(result, "GB of memory", "GB is free", "2000x2000x1", *words)
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
    result = subprocess.run([sys.executable, "-c", measure, sys.executable, str(REPO / "generate.py"), "capture",
                             "--quiet", "--build-dir", str(build), "--site-dir", str(tmp_path / "site"), *arguments],
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
