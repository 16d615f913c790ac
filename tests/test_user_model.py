"""--model (a builder file or a .keras file) with --data (.npz), through the command line (generate.main, in process).

The data are synthetic on purpose: small seeded random images (RGB uint8, and grey float32), made in the
test, so the runs take seconds; what is checked is that the archive is what the saved model computes:
the last snapshot equals a fresh `model(probes, training=False)` of model.keras, the steps are labelled
0..S, the probe images are the data's own pixels, and the final test metrics are recomputed with numpy.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from model.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402 - after TensorFlow is imported quietly

from capture.archive import Capture  # noqa: E402
from tests.helpers import run_in_process  # noqa: E402

STEPS = 4
BUILDER = '''
import keras


def build(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(inputs)
    x = keras.layers.Conv2D(3, 3, activation="tanh", name="conv_b")(x)
    x = keras.layers.Dense(5, activation="relu", name="mix")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="out")(x))
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


def synthetic_rgb(path: Path, classes: int = 4) -> dict:
    """Write a small seeded synthetic RGB set (uint8 8x8x3, class_names) and return its arrays."""
    rng = np.random.default_rng(12)
    arrays = {"x_train": rng.integers(0, 256, (96, 8, 8, 3), dtype=np.uint8),
              "y_train": rng.integers(0, classes, 96), "x_test": rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8),
              "y_test": (np.arange(40) % classes)[::-1].copy(),
              "class_names": np.array([f"kind {index}" for index in range(classes)])}
    np.savez(path, **arrays)
    return arrays


def synthetic_grey_float(path: Path) -> dict:
    """Write a small seeded synthetic grey float32 set (n, 10, 10), labels (n, 1), no class names."""
    rng = np.random.default_rng(13)
    arrays = {"x_train": rng.normal(0, 2, (64, 10, 10)).astype(np.float32), "y_train": rng.integers(0, 3, (64, 1)),
              "x_test": rng.normal(0, 2, (24, 10, 10)).astype(np.float32), "y_test": (np.arange(24) % 3)[:, None]}
    np.savez(path, **arrays)
    return arrays


def run_capture(tmp_path: Path, *arguments: str) -> tuple[Path, subprocess.CompletedProcess]:
    build = tmp_path / "build"
    result = run_in_process("capture", "--quiet", "--steps", str(STEPS), "--batch-size", "16", "--set",
                            "test_every=2", "--set", "test_subset=20", "--build-dir", str(build), "--site-dir",
                            str(tmp_path / "site"), *arguments)
    assert result.returncode == 0, result.stderr
    return build, result


def fresh_outputs(model, names, probes):
    """Each named layer's output for the probes, computed now by the saved model."""
    extractor = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    outputs = extractor(probes, training=False)
    return [keras.ops.convert_to_numpy(out) for out in (outputs if isinstance(outputs, list) else [outputs])]


def check_against_saved_model(build: Path, inputs: np.ndarray, labels: np.ndarray, names: list[str], loss):
    capture = Capture.load(build / "capture.h5")
    model = keras.saving.load_model(build / "model.keras")
    assert capture.steps.tolist() == list(range(STEPS + 1)) and len(capture.train_loss) == STEPS
    assert capture.layer_names == names == [row["name"] for row in capture.meta["recorded_layers"]]
    probes = inputs[capture.meta["dataset"]["probe_indices"]]
    for name, expected in zip(names, fresh_outputs(model, names, probes)):
        stored = capture.meta["recorded_layers"][names.index(name)]["stored_shape"]
        assert capture.activations[name].shape == (STEPS + 1, len(probes), *stored)
        np.testing.assert_allclose(capture.activations[name][-1].astype(np.float32),
                                   expected.reshape(len(probes), *stored), atol=2e-3, rtol=2e-3, err_msg=name)
        assert np.abs(capture.activations[name][-1].astype(np.float32) - capture.activations[name][0]).max() > 1e-3
    scores = keras.ops.convert_to_numpy(model(inputs, training=False)).astype(np.float64)
    assert capture.meta["final_test_accuracy"] == pytest.approx(np.mean(np.argmax(scores, 1) == labels))
    assert capture.meta["final_test_loss"] == pytest.approx(loss(scores, labels), rel=1e-4)
    return capture


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1 - 1e-7)
    return float(np.mean(-np.log(picked)))


def test_a_builder_file_with_rgb_npz_data(tmp_path):
    data = synthetic_rgb(tmp_path / "rgb.npz")
    builder = tmp_path / "my_model.py"
    builder.write_text(BUILDER)
    build, result = run_capture(tmp_path, "--model", f"{builder}:build", "--data", str(tmp_path / "rgb.npz"),
                                "--layers", "conv,mix")
    inputs = data["x_test"].astype(np.float32) / 255.0
    capture = check_against_saved_model(build, inputs, data["y_test"], ["conv_a", "conv_b", "mix"], cross_entropy)
    meta = capture.meta
    first_of_each = [int(np.flatnonzero(data["y_test"] == label)[0]) for label in range(4)]
    assert meta["dataset"]["probe_indices"] == first_of_each
    np.testing.assert_array_equal(capture.probe_images, data["x_test"][first_of_each])  # RGB, as stored
    assert capture.probe_labels.tolist() == [0, 1, 2, 3]
    assert meta["dataset"]["class_names"] == ["kind 0", "kind 1", "kind 2", "kind 3"]
    assert meta["dataset"]["image_shape"] == [8, 8, 3] and meta["dataset"]["input_scaling"] == "uint8 / 255"
    assert meta["dataset"]["name"] == "npz"
    sha = hashlib.sha256(builder.read_bytes()).hexdigest()
    assert meta["model"] == {"origin": "builder", "source": f"{builder}:build", "source_sha256": sha,
                             "name": keras.saving.load_model(build / "model.keras").name,
                             "loss": "sparse_categorical_crossentropy", "label_format": "integer"}
    assert capture.config["model_sha256"] == sha
    assert capture.config["data_sha256"] == hashlib.sha256((tmp_path / "rgb.npz").read_bytes()).hexdigest()
    rows = {row["name"]: row for row in meta["layers"]}
    assert rows["conv_a"]["kernel_size"] == [3, 3] and rows["conv_a"]["padding"] == "same"
    assert rows["conv_a"]["activation"] == "relu" and rows["mix"]["recorded"] and not rows["out"]["recorded"]
    assert meta["recorded_layers"][2]["stored_shape"] == [1, 1, 5]  # a Dense layer: one 1x1 map per unit
    # the same command again reuses the capture; a changed model file retrains
    _, again = run_capture(tmp_path, "--model", f"{builder}:build", "--data", str(tmp_path / "rgb.npz"),
                           "--layers", "conv,mix")
    assert "reusing" in again.stderr
    builder.write_text(BUILDER + "# edited\n")
    _, edited = run_capture(tmp_path, "--model", f"{builder}:build", "--data", str(tmp_path / "rgb.npz"),
                            "--layers", "conv,mix")
    assert "another config; retraining" in edited.stderr


def test_a_keras_file_with_grey_float_data(tmp_path):
    data = synthetic_grey_float(tmp_path / "grey.npz")
    keras.utils.set_random_seed(3)
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.Conv2D(3, 3, activation="tanh", name="conv")(inputs)
    x = keras.layers.Flatten()(keras.layers.BatchNormalization(name="norm")(x))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(x))
    model.compile(keras.optimizers.Adam(0.01), "categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "given.keras")
    build, _ = run_capture(tmp_path, "--model", str(tmp_path / "given.keras"), "--data", str(tmp_path / "grey.npz"))
    inputs = data["x_test"][..., np.newaxis]  # float data are used as given
    labels = data["y_test"][:, 0]
    capture = check_against_saved_model(build, inputs, labels, ["conv"], cross_entropy)
    assert capture.meta["model"]["origin"] == "keras_file" and capture.meta["model"]["label_format"] == "one_hot"
    assert capture.meta["dataset"]["input_scaling"] == "float, as given"
    assert capture.meta["dataset"]["class_names"] == ["0", "1", "2"]
    shown = data["x_test"][capture.meta["dataset"]["probe_indices"]].astype(np.float64)
    expected = np.rint((shown - shown.min()) / (shown.max() - shown.min()) * 255)  # min-max over the probes
    np.testing.assert_array_equal(capture.probe_images, expected.astype(np.uint8))
