"""Bad --model, --data, --layers and --probes: one `error:` line naming the fix, exit 2, nothing overwritten.

Most cases run generate.main in this process (TensorFlow is imported once); two run the real command line.
The data are small seeded synthetic images written by the test.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import folder_bytes, generate_in_process, rewrite_capture, run_generate

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
    # TensorFlow refuses these mid-run (InvalidArgumentError for "d>", a scope error for "<"): refused before.
    "layer d>": (GOOD.replace('name="out"', 'name="d>"'), ["layer 'd>'", "TensorFlow", "rename the layer"]),
    "layer a<b": (GOOD.replace('name="conv_a"', 'name="a<b"'), ["layer 'a<b'", "rename the layer", "'a_b'"]),
    "model name": (GOOD.replace("Model(inputs, ", 'Model(name="_m", inputs=inputs, outputs='),
                   ["model's name '_m'", "rename the model"]),
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


def fails_cleanly(capsys, build: Path, arguments: list[str], words: list[str], absent=(), quiet=()) -> None:
    """Run generate.main; it returns 2 with exactly one error line holding `words` (not `absent`), stderr holds
    none of `quiet`, and build/ is unchanged."""
    before = folder_bytes(build)
    status, stderr = generate_in_process(capsys, "capture", "--quiet", "--steps", "2", "--batch-size", "8",
                                         "--build-dir", str(build), "--site-dir", str(build.parent / "site"),
                                         *arguments)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert status == 2 and len(errors) == 1, errors
    for word in words:
        assert word in errors[0], errors[0]
    for word in ("unexpected", *absent):
        assert word not in errors[0], errors[0]
    for word in quiet:
        assert word not in stderr, stderr
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

    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(inputs))).save(tmp_path / "bare.keras")
    data = str(synthetic(tmp_path / "d.npz"))
    fails_cleanly(capsys, build_dir, ["--model", str(tmp_path / "bare.keras"), "--data", data], ["not compiled"])
    saved = (tmp_path / "bare.keras").read_bytes()
    with zipfile.ZipFile(tmp_path / "bare.keras") as archive:  # where the weights' bytes lie in the file
        offset = archive.getinfo("model.weights.h5").header_offset
    start = offset + 30 + int.from_bytes(saved[offset + 26:offset + 28], "little") + int.from_bytes(
        saved[offset + 28:offset + 30], "little")  # after the local header, its name and its extra field
    damaged = saved[:start + 100] + bytes(64) + saved[start + 164:]
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "a zip, but no model")
    # Keras reports every one of these as "File not found" or a bare KeyError/BadZipFile: each says what is wrong.
    for content, words in ((b"not a zip", ["not a zip archive"]), (saved[:len(saved) // 2], ["not a zip archive"]),
                           (damaged, ["damaged", "model.weights.h5", "checksum"]),
                           (other_zip.getvalue(), ["without config.json and model.weights.h5"])):
        (tmp_path / "broken.keras").write_bytes(content)
        fails_cleanly(capsys, build_dir, ["--model", str(tmp_path / "broken.keras"), "--data", data],
                      ["--model", "broken.keras", "model.save", *words], absent=["File not found"])


def test_a_pickled_array_is_named_and_nothing_says_retraining(tmp_path, build_dir, capsys):
    rewrite_capture(build_dir / "capture.h5")  # an archive of another config: this run would retrain
    builder = tmp_path / "good.py"
    builder.write_text(GOOD)
    objects = np.empty(48, dtype=object)
    objects[:] = [np.zeros((8, 8, 3), np.uint8)] * 48
    data = synthetic(tmp_path / "d.npz", x_train=objects)  # an object array: np.savez pickles it
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", str(data)],
                  ["x_train", "pickle", "np.uint8"], absent=["class_names"], quiet=["retraining"])
    fails_cleanly(capsys, build_dir, ["--model", f"{builder}:build", "--data", str(data), "--seed", "-1"],
                  ["seed", "4294967295"], quiet=["retraining"])


def test_arrays_too_large_to_load_are_refused_from_their_headers(tmp_path, build_dir, capsys):
    """The sizes are read from the .npy headers before anything is loaded (the file holds only the headers)."""
    import psutil

    claimed = (200_000, 2000, 2000)  # 800 GB of uint8 images
    if psutil.virtual_memory().available > 400e9:
        pytest.skip("this machine could load them")
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        for key, shape in (("x_train", claimed), ("y_train", claimed[:1]), ("x_test", (10, 2000, 2000)),
                           ("y_test", (10,))):
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "|u1" if key[0] == "x" else "<i8",
                                                          "fortran_order": False, "shape": shape})
            archive.writestr(f"{key}.npy", header.getvalue())
    fails_cleanly(capsys, build_dir, ["--data", str(tmp_path / "huge.npz")],
                  ["--data", "huge.npz", "GB of memory to load", "GB is free", "smaller images"])


@pytest.mark.parametrize("name", ["d>", "d>x", "d>.x", "d>_x", "d>-x", "x>", ">x", "x>>y", "a<b", "_x", "-x", ".x",
                                  "x y", "é", "x\\y", "a:b", "1x"])
def test_the_layer_name_rule_is_tensorflows(name):
    """Our rule accepts exactly the names TensorFlow's graphs accept: in a scope, and as a variable's prefix."""
    import tensorflow as tf

    from model.layers import TF_NAME, TF_ROOT_START

    def accepted(scope: str, root: bool) -> bool:
        @tf.function
        def run():
            with tf.name_scope(scope) if root else tf.name_scope("model"):
                with contextlib.nullcontext() if root else tf.name_scope(scope):
                    return tf.constant(1.0) + 1.0
        try:
            run()
        except (ValueError, tf.errors.InvalidArgumentError):
            return False
        return True

    ours = bool(TF_NAME.fullmatch(name))
    assert ours == all(accepted(scope, False) for scope in (name, f"{name}_kernel")), name
    assert (ours and bool(TF_ROOT_START.match(name))) == all(accepted(scope, True) for scope in (name, f"{name}_1"))


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


def test_the_command_line_exits_2_with_one_line(tmp_path, build_dir):
    builder = tmp_path / "broken.py"
    builder.write_text("def build(input_shape, num_classes)\n    return None\n")
    before = folder_bytes(build_dir)
    result = run_generate("capture", "--quiet", "--model", f"{builder}:build", "--data",
                          str(synthetic(tmp_path / "d.npz")), "--batch-size", "8", "--build-dir", str(build_dir),
                          timeout=300)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "line 1" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and folder_bytes(build_dir) == before


def test_an_unreachable_keras_dataset_fails_fast_naming_data(tmp_path, build_dir):
    dead = "http://127.0.0.1:9"  # nothing listens: keras' download is refused at once, as offline
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "http_proxy": dead, "https_proxy": dead,
           "HTTP_PROXY": dead, "HTTPS_PROXY": dead}
    before = folder_bytes(build_dir)
    started = time.monotonic()
    result = run_generate("capture", "--quiet", "--dataset", "cifar10", "--build-dir", str(build_dir), env=env,
                          timeout=300)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "--data" in errors[0] and "cifar10" in errors[0], errors
    assert time.monotonic() - started < 60 and folder_bytes(build_dir) == before
