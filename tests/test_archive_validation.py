"""An archive whose values are wrong is refused in one line before anything is rendered or written (issue 19, item 6).

One real short run is built through generate.py; each test forges one thing in its build/capture.h5 with
h5py (what a damaged disk, another tool or a diverged run would leave), runs `generate.py site` again (generate.main
in this process: a refusal needs no process of its own), and checks the one `error:` line and that every file of
the build and the site is byte for byte what it was.
The forged archive is put back afterwards, so the tests share the one run.
"""

from __future__ import annotations

import json
import math
import shutil

import h5py
import numpy as np
import pytest

from capture.archive import Capture
from capture.schema import DATA_BUDGET_BYTES
from tests.helpers import (
    assert_one_error_line,
    assert_refused,
    generate_here,
    generate_in_process,
    short_arguments,
    tree,
)


@pytest.fixture(scope="module")
def run(built, tmp_path_factory):
    """A copy of the whole short run (build and site) that this module's tests forge in turn: (build, site)."""
    root = tmp_path_factory.mktemp("validation")
    shutil.copytree(built[0], root / "build")
    shutil.copytree(built[1], root / "site")
    return root / "build", root / "site"


@pytest.fixture
def archive(run, tmp_path):
    """The run's capture.h5 to forge; it is put back as it was after the test."""
    path = run[0] / "capture.h5"
    shutil.copy2(path, tmp_path / "original.h5")
    yield path
    shutil.copy2(tmp_path / "original.h5", path)


def files(build, site) -> dict:
    """Every file of the build and the site with its sha256 (the build's bookkeeping dot files aside)."""
    return {"build": {name: digest for name, digest in tree(build).items() if not name.startswith(".")},
            "site": tree(site)}


def replace(path, key: str, values: np.ndarray) -> None:
    """Write `values` as the archive's `key`, compressed (a forged 160 MB array stays a small file)."""
    with h5py.File(path, "r+") as forged:
        del forged[key]
        forged.create_dataset(key, data=values, compression="gzip", chunks=True)


def refused_without_change(run, *words: str) -> None:
    """`generate.py site` exits 2 with one error line holding `words`, and no file of the build or site changes."""
    build, site = run
    before = files(build, site)
    assert_refused(generate_here("site", build, site), str(build / "capture.h5"), *words)
    assert files(build, site) == before


def test_the_untouched_archive_passes(run, archive):
    capture = Capture.load(archive)
    assert np.isfinite(capture.train_loss).all() and len(capture.steps) > 1


def test_probe_images_too_large_for_the_page_are_refused_with_the_limit(run, archive):
    probes = len(Capture.load(archive).probe_labels)
    replace(archive, "probe_images", np.zeros((probes, 4000, 4000), np.uint8))
    megabytes = 4 * -(-probes * 4000 * 4000 // 3) / 1e6  # base64 in the page
    refused_without_change(run, f"{probes} probe images of 4000x4000 pixels", f"{megabytes:.2f} MB",
                           f"{DATA_BUDGET_BYTES / 1e6:g} MB", "DATA_BUDGET_BYTES")


def test_probe_images_of_another_size_than_the_model_input_are_refused(run, archive):
    capture = Capture.load(archive)
    height, width, channels = capture.meta["dataset"]["image_shape"]
    replace(archive, "probe_images", np.zeros((len(capture.probe_labels), 2 * height, 2 * width), np.uint8))
    refused_without_change(run, f"{2 * height}x{2 * width}", f"the model takes {height}x{width}x{channels}")


def test_a_nan_train_loss_is_refused_as_a_diverged_run_naming_the_step(run, archive):
    capture = Capture.load(archive)
    loss = np.array(capture.train_loss)
    loss[2:] = np.nan
    replace(archive, "train_loss", loss)
    with h5py.File(archive, "r") as forged:
        step = int(forged["train_steps"][2])
    refused_without_change(run, f"train_loss is NaN from step {step} on: the run diverged",
                           "lower learning rate", "--set learning_rate=")


def test_an_infinite_test_point_is_refused_naming_its_step(run, archive):
    capture = Capture.load(archive)
    accuracy = np.array(capture.test_accuracy)
    accuracy[1] = np.inf
    replace(archive, "test_accuracy", accuracy)
    refused_without_change(run, f"test_accuracy is infinite at step {int(capture.test_steps[1])}", "diverged")


def test_a_nan_final_accuracy_in_the_meta_is_refused(run, archive):
    meta = dict(Capture.load(archive).meta, final_test_accuracy=float("nan"))
    replace(archive, "meta", np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8))
    refused_without_change(run, "final_test_accuracy is nan", "diverged")


@pytest.mark.parametrize("dtype", ["complex64", "S4"])
def test_metrics_that_are_not_real_numbers_are_refused(run, archive, dtype):
    replace(archive, "train_accuracy", np.asarray(Capture.load(archive).train_accuracy).astype(dtype))
    refused_without_change(run, f"train_accuracy holds {np.dtype(dtype)} values, not real numbers")


def test_complex_activations_are_refused(run, archive):
    name = Capture.load(archive).layer_names[0]
    with h5py.File(archive, "r") as original:
        values = original["activations/0"][()]
    replace(archive, "activations/0", values.astype(np.complex64))
    refused_without_change(run, f"layer {name} holds complex64 values, not real numbers")


def test_nan_activations_in_one_layer_are_refused_before_anything_is_rendered(run, archive):
    capture = Capture.load(archive)
    index = len(capture.layer_names) // 2
    name, steps = capture.layer_names[index], capture.steps
    with h5py.File(archive, "r+") as forged:
        forged[f"activations/{index}"][2:, 0, 0, 0, 0] = np.nan
    refused_without_change(run, f"layer {name} has non-finite activations from step {int(steps[2])}", "diverged")


def test_a_run_that_diverges_stops_in_one_line_and_leaves_the_previous_run_whole(run):
    build, site = run
    before = files(build, site)
    result = generate_here("site", build, site, "--set", "learning_rate=1e12")
    assert_refused(result, "training stopped: train_loss is NaN from step", "the run diverged",
                   "--set learning_rate=... (it was 1e+12")
    assert files(build, site) == before
    assert not (build / "capture.partial").exists()  # nothing was flushed: no partial run is left to resume


LOUD_BUILDER = '''
import keras


def build(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    # 3x3 weights of 1e4 on pixels up to 1.0: outputs up to 9e4, past what float16 can hold
    x = keras.layers.Conv2D(2, 3, kernel_initializer=keras.initializers.Constant(1e4), name="loud")(inputs)
    x = keras.layers.Flatten()(keras.layers.Rescaling(1e-6)(x))
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


def test_a_layer_past_float16_is_refused_before_any_archive_is_written(tmp_path, capsys):
    builder = tmp_path / "loud.py"
    builder.write_text(LOUD_BUILDER)
    build = tmp_path / "build"
    status, stderr = generate_in_process(capsys, "capture", *short_arguments(build, tmp_path / "site", "--model",
                                                                              f"{builder}:build", "--layers", "loud"))
    assert_one_error_line(status, stderr, "layer loud has non-finite activations already at step 0", "--layers")
    assert not any((build / name).exists() for name in ("capture.h5", "model.keras", "capture.partial"))


TINY_BUILDER = '''
import keras


def build(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(1, 3, strides=8, name="conv")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="out")(x))
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


def test_probe_images_too_large_for_the_page_are_refused_before_training(tmp_path, capsys):
    probes = 10
    side = math.isqrt(DATA_BUDGET_BYTES * 3 // 4 // probes) + 1  # just past the budget, as the page's base64
    rng = np.random.default_rng(0)
    data = tmp_path / "large.npz"
    np.savez(data, x_train=rng.integers(0, 256, (2, side, side), np.uint8), y_train=np.arange(2),
             x_test=rng.integers(0, 256, (probes, side, side), np.uint8), y_test=np.arange(probes) % 2)
    (tmp_path / "tiny.py").write_text(TINY_BUILDER)
    build = tmp_path / "build"
    status, stderr = generate_in_process(
        capsys, "capture", "--quiet", "--data", str(data), "--model", f"{tmp_path / 'tiny.py'}:build", "--layers",
        "out", "--probes", ",".join(map(str, range(probes))), "--steps", "1", "--batch-size", "2", "--set",
        "test_subset=2", "--build-dir", str(build), "--site-dir", str(tmp_path / "site"))
    assert_one_error_line(status, stderr, f"{probes} probe images of {side}x{side} pixels",
                          f"{DATA_BUDGET_BYTES / 1e6:g} MB", "--probes")
    assert not any((build / name).exists() for name in ("capture.h5", "model.keras", "capture.partial"))
