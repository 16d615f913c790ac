"""Bad --model, --data, --layers and --probes: one `error:` line naming the fix, exit 2, nothing overwritten.

Most cases run generate.main in this process (TensorFlow is imported once); two run the real command line.
The data are small seeded synthetic images written by the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import generate
from tests.conftest import folder_bytes

REPO = Path(__file__).resolve().parents[1]
GOOD = '''
import keras


def build(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(2, 3, name="conv_a")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="out")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''
BAD_BUILDERS = {  # file text -> words the one error line must hold
    "syntax": ("def build(:\n    pass\n", ["line 1", "syntax"]),
    "import": ("import no_such_module_anywhere\n", ["ModuleNotFoundError", "line 1"]),
    "function": (GOOD.replace("def build(", "def make("), ["no function 'build'"]),
    "not a model": ("def build(input_shape, num_classes):\n    return 42\n", ["int", "not a keras.Model"]),
    "raises": ("def build(input_shape, num_classes):\n    raise RuntimeError('no GPU here')\n",
               ["RuntimeError: no GPU here", "line 2"]),
    "not compiled": (GOOD.replace('model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])',
                                  "pass"), ["not compiled"]),
    "no accuracy": (GOOD.replace(', metrics=["accuracy"]', ""), ['metrics=["accuracy"]']),
    "input shape": (GOOD.replace("keras.Input(shape=input_shape)", "keras.Input(shape=(28, 28, 1))"),
                    ["(28, 28, 1)", "(8, 8, 3)"]),
    "output width": (GOOD.replace("Dense(num_classes", "Dense(7"), ["7 values", "4 classes", "4 units"]),
    "rank 4 layer": (GOOD.replace('x = keras.layers.Flatten()(x)',
                                  'x = keras.layers.Flatten()(keras.layers.Reshape((2, 3, 6, 2), name="r4")(x))'),
                     ["'r4'", "(2, 3, 6, 2)", "(H, W, C)"]),
}


def synthetic(path: Path, classes: int = 4, **changes) -> Path:
    """Write a small seeded synthetic RGB set (8x8x3 uint8) with `changes` applied; return the path."""
    rng = np.random.default_rng(5)
    arrays = {"x_train": rng.integers(0, 256, (48, 8, 8, 3), dtype=np.uint8), "y_train": np.arange(48) % classes,
              "x_test": rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8), "y_test": np.arange(20) % classes,
              "class_names": np.array([f"c{index}" for index in range(classes)])}
    arrays.update(changes)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


@pytest.fixture
def build_dir(build_dir_with_outputs):
    """The shared build folder with earlier outputs (tests/conftest.py), under a shorter name."""
    return build_dir_with_outputs


def fails_cleanly(capsys, build: Path, arguments: list[str], words: list[str]) -> None:
    """Run generate.main; it returns 2 with exactly one error line holding `words`, and build/ is unchanged."""
    before = folder_bytes(build)
    status = generate.main(["capture", "--quiet", "--steps", "2", "--batch-size", "8", "--build-dir", str(build),
                            "--site-dir", str(build.parent / "site"), *arguments])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert status == 2 and len(errors) == 1, errors
    for word in words:
        assert word in errors[0], errors[0]
    assert "unexpected" not in errors[0]
    assert folder_bytes(build) == before


@pytest.mark.parametrize("case", list(BAD_BUILDERS))
def test_bad_builder_files(case, tmp_path, build_dir, capsys):
    text, words = BAD_BUILDERS[case]
    builder = tmp_path / f"builder_{case.replace(' ', '_')}.py"
    builder.write_text(text)
    layers = ["--layers", "r4"] if case == "rank 4 layer" else []
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", str(synthetic(tmp_path / "d.npz")),
                                      *layers], words)


@pytest.mark.parametrize("model, words", [
    ("nowhere/model.py:build", ["--model", "no such file"]),
    ("model.h5", ["FILE.py:FUNCTION", "FILE.keras"]),
    ("nowhere.keras", ["no such file"]),
])
def test_bad_model_arguments(model, words, tmp_path, build_dir, capsys):
    fails_cleanly(capsys, build_dir, ["--model", model, "--data", str(synthetic(tmp_path / "d.npz"))], words)


def test_a_keras_file_that_is_not_one_or_not_compiled(tmp_path, build_dir, capsys):
    import keras

    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    data = str(synthetic(tmp_path / "d.npz"))
    fails_cleanly(capsys, build_dir, ["--model", str(tmp_path / "junk.keras"), "--data", data], ["cannot be loaded"])
    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(inputs))).save(tmp_path / "bare.keras")
    fails_cleanly(capsys, build_dir, ["--model", str(tmp_path / "bare.keras"), "--data", data], ["not compiled"])


def test_unknown_layer_names_list_the_models_layers(tmp_path, build_dir, capsys):
    builder = tmp_path / "good.py"
    builder.write_text(GOOD)
    data = str(synthetic(tmp_path / "d.npz"))
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", data, "--layers", "conv_a,nope"],
                  ["no layer 'nope'", "conv_a", "out"])
    builder.write_text(GOOD.replace('x = keras.layers.Conv2D(2, 3, name="conv_a")(inputs)', "x = inputs"))
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", data],  # the default: --layers conv
                  ["no Conv2D layer", "--layers"])

@pytest.mark.parametrize("changes, words", [
    ({"x_test": None}, ["lacks x_test"]),
    ({"y_train": np.arange(48) % 9}, ["4 class_names", "labels up to 8", "one name per class"]),
    ({"y_test": (np.arange(20) % 4).astype(np.float32)}, ["y_test", "integer"]),
    ({"y_train": np.zeros((48, 2), np.int64)}, ["y_train", "(48, 2)"]),
    ({"x_train": np.zeros((48, 8, 8, 3), np.int64)}, ["x_train", "uint8", "float"]),
    ({"x_test": np.full((20, 8, 8, 3), np.nan, np.float32)}, ["NaN"]),
    ({"x_test": np.zeros((20, 9, 8, 3), np.uint8)}, ["(8, 8, 3)", "(9, 8, 3)"]),
    ({"y_test": np.arange(19) % 4}, ["20 images", "19 labels"]),
])
def test_bad_npz_data(changes, words, tmp_path, build_dir, capsys):
    builder = tmp_path / "good.py"
    builder.write_text(GOOD)
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", str(synthetic(tmp_path / "d.npz",
                                                                                              **changes))], words)


def test_labels_beyond_the_models_outputs(tmp_path, build_dir, capsys):
    builder = tmp_path / "four.py"
    builder.write_text(GOOD.replace("Dense(num_classes", "Dense(4"))
    data = synthetic(tmp_path / "d.npz", y_train=np.arange(48) % 6, class_names=None)  # numbered classes 0..5
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", str(data)],
                  ["train labels must be class numbers 0..3", "6 units"])


@pytest.mark.parametrize("arguments, words", [
    (["--probes", "3,20"], ["--probes 20", "0..19"]),
    (["--probes", "3,x"], ["--probes", "commas"]),
    (["--probes", "3,3"], ["distinct"]),
    (["--dataset", "bundled"], ["--data replaces --dataset"]),
    (["--data", "elsewhere.npz"], ["--data elsewhere.npz", "no such file"]),
])
def test_bad_probes_and_data_flags(arguments, words, tmp_path, build_dir, capsys):
    data = ["--data", str(synthetic(tmp_path / "d.npz"))] if "--data" not in arguments else []
    fails_cleanly(capsys, build_dir, [*data, *arguments], words)


def test_the_article_model_refuses_data_of_more_classes(tmp_path, build_dir, capsys):
    data = synthetic(tmp_path / "d.npz", classes=12, y_train=np.arange(48) % 12, y_test=np.arange(20) % 12)
    fails_cleanly(capsys, build_dir, ["--data", str(data)], ["0..9", "--set dense_widths=[...,12]"])


def run_cli(*arguments: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "generate.py"), "capture", "--quiet", *arguments],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


def test_the_command_line_exits_2_with_one_line(tmp_path, build_dir):
    builder = tmp_path / "broken.py"
    builder.write_text("def build(input_shape, num_classes)\n    return None\n")
    before = folder_bytes(build_dir)
    result = run_cli("--model", f"{builder}:build", "--data", str(synthetic(tmp_path / "d.npz")), "--batch-size", "8",
                     "--build-dir", str(build_dir))
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "line 1" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and folder_bytes(build_dir) == before


def test_an_unreachable_keras_dataset_fails_fast_naming_data(tmp_path, build_dir):
    dead = "http://127.0.0.1:9"  # nothing listens: keras' download is refused at once, as offline
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "http_proxy": dead, "https_proxy": dead,
           "HTTP_PROXY": dead, "HTTPS_PROXY": dead}
    before = folder_bytes(build_dir)
    started = time.monotonic()
    result = run_cli("--dataset", "cifar10", "--build-dir", str(build_dir), env=env)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "--data" in errors[0] and "cifar10" in errors[0], errors
    assert time.monotonic() - started < 60 and folder_bytes(build_dir) == before
