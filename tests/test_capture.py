"""Capture stage: recorded activations against fresh forward passes, shapes, strides, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from model.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

import keras

from capture.archive import Capture
from model.architecture import build_model
from model.callbacks import BatchMetricsRecorder
from model.data import load_bundled
from model.recorder import ActivationRecorder
from model.stage import run as run_capture
from model.train import to_inputs, train, training_batches
from pipeline.config import Config
from pipeline.layout import Layout
from tests.archive_arrays import read_archive

# The analysis set's replay on 50 images with 10 resamples (the default 1,000 and 200 would be most of each run's
# time): it runs, and its group is in the compared archives, but nothing here measures with it.
SHORT = dict(dataset="bundled", steps=6, test_every=3, test_subset=500, analysis_images=50, bootstrap=10)
SHAPES = {"conv1": (28, 28, 4), "conv2": (28, 28, 4), "conv3": (14, 14, 8),
          "conv4": (14, 14, 8), "conv5": (7, 7, 16), "conv6": (7, 7, 16)}


@pytest.fixture(scope="module")
def dataset():
    return load_bundled(Config(dataset="bundled"))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, dataset):
    build_dir = tmp_path_factory.mktemp("build")
    config = Config(**SHORT)
    capture = run_capture(config, Layout(build_dir, build_dir.parent / "site"), progress=False)
    return config, build_dir, capture


def probe_inputs(capture):
    return to_inputs(capture.probe_images)


def test_last_snapshot_equals_fresh_forward_pass_of_saved_model(short_run):
    config, build_dir, _ = short_run
    capture = Capture.load(build_dir / "capture.h5")
    model = keras.models.load_model(build_dir / "model.keras")
    extractor = keras.Model(model.inputs, [model.get_layer(name).output for name in config.layer_names])
    fresh = extractor.predict(probe_inputs(capture), verbose=0)
    for name, expected in zip(config.layer_names, fresh):
        recorded = capture.activations[name][-1].astype(np.float32)
        np.testing.assert_allclose(recorded, expected, atol=2e-3, rtol=0, err_msg=name)
        assert np.abs(expected).max() > 1e-3, f"{name} is all zeros: the comparison would be empty"


def test_step_zero_equals_untrained_model(short_run):
    config, _, capture = short_run
    keras.utils.set_random_seed(config.seed)
    untrained = build_model(config)
    extractor = keras.Model(untrained.inputs, [untrained.get_layer(name).output for name in config.layer_names])
    fresh = extractor.predict(probe_inputs(capture), verbose=0)
    for name, expected in zip(config.layer_names, fresh):
        np.testing.assert_allclose(capture.activations[name][0].astype(np.float32), expected, atol=2e-3, rtol=0)
        # training moved the weights, so the last snapshot must differ from step 0
        assert not np.array_equal(capture.activations[name][0], capture.activations[name][-1])


def test_probes_are_the_original_indices_and_digits(short_run, dataset):
    _, _, capture = short_run
    assert capture.probe_labels.tolist() == list(range(10))
    np.testing.assert_array_equal(capture.probe_images, dataset.x_test[[10, 5, 35, 30, 4, 15, 11, 17, 268, 12]])


def test_first_step_loss_is_the_batch_loss_of_the_untrained_model(short_run, dataset):
    config, _, capture = short_run
    keras.utils.set_random_seed(config.seed)
    untrained = build_model(config)
    images, targets = next(iter(training_batches(dataset, config)))
    expected = float(keras.losses.categorical_crossentropy(targets, untrained(images)).numpy().mean())
    assert capture.train_loss[0] == pytest.approx(expected, rel=1e-4)
    assert len(capture.train_loss) == config.steps


def test_batch_metrics_undo_the_running_mean():
    recorder = BatchMetricsRecorder()
    batch_values = [[2.3, 2.1, 1.5], [1.2, 0.9]]  # two epochs of per-batch losses
    for epoch, values in enumerate(batch_values):
        recorder.on_epoch_begin(epoch)
        for index, _ in enumerate(values):
            running = float(np.mean(values[: index + 1]))
            recorder.on_train_batch_end(index, {"loss": running, "accuracy": running / 10})
    np.testing.assert_allclose(recorder.loss, [2.3, 2.1, 1.5, 1.2, 0.9], rtol=1e-9)
    np.testing.assert_allclose(recorder.accuracy, [0.23, 0.21, 0.15, 0.12, 0.09], rtol=1e-9)


def test_test_metrics_cover_start_stride_and_end(short_run):
    config, _, capture = short_run
    assert capture.test_steps.tolist() == [0, 3, 6]
    assert capture.test_loss[0] == pytest.approx(np.log(10), abs=0.05)  # untrained: chance
    assert 0.0 <= capture.meta["final_test_accuracy"] <= 1.0
    assert capture.meta["final_test_size"] == 10_000


def test_every_step_gives_a_snapshot_of_the_documented_shapes(short_run):
    """Steps 0..6 give 7 snapshots (the default run's 290 steps give 291: tests/test_truthful_default_run.py)."""
    config, build_dir, capture = short_run
    assert capture.steps.tolist() == list(range(config.steps + 1))
    archive = read_archive(build_dir / "capture.h5")  # h5py alone, not the project's reader
    for name, (height, width, channels) in SHAPES.items():
        assert capture.activations[name].shape == (config.steps + 1, 10, height, width, channels)
        assert capture.activations[name].dtype == np.float16
        assert archive[name].shape == (config.steps + 1, 10, height, width, channels)
        assert archive[name].dtype == np.float16
    assert archive["probe_images"].shape == (10, 28, 28) and archive["probe_images"].dtype == np.uint8
    assert archive["train_loss"].shape == (config.steps,)


def test_every_k_keeps_step_zero_every_kth_and_the_last(dataset, short_run):
    config, _, full = short_run
    thinned = train(Config(**SHORT, capture_every=4), dataset, progress=False).capture
    assert thinned.steps.tolist() == [0, 4, 6]
    for name in config.layer_names:
        np.testing.assert_array_equal(thinned.activations[name], full.activations[name][[0, 4, 6]])


def test_recorder_planned_steps():
    recorder = ActivationRecorder(np.zeros((1, 28, 28, 1)), total_steps=290, every=1)
    assert len(recorder.planned_steps()) == 291
    recorder = ActivationRecorder(np.zeros((1, 28, 28, 1)), total_steps=290, every=7)
    planned = recorder.planned_steps()
    assert planned[0] == 0 and planned[-1] == 290 and planned[1] == 7 and len(planned) == 43


def test_same_seed_gives_identical_archives(tmp_path, short_run):
    config, build_dir, first = short_run
    again = run_capture(config, Layout(tmp_path, tmp_path.parent / "site"), progress=False)
    for name in config.layer_names:
        np.testing.assert_array_equal(again.activations[name], first.activations[name])
    np.testing.assert_array_equal(again.train_loss, first.train_loss)
    assert (tmp_path / "capture.h5").read_bytes() == (build_dir / "capture.h5").read_bytes()
    assert (tmp_path / "model.keras").read_bytes() == (build_dir / "model.keras").read_bytes()


def test_matching_archive_is_reused_and_other_config_retrains(tmp_path, short_run):
    config, build_dir, _ = short_run
    archive = build_dir / "capture.h5"
    stamp = archive.stat().st_mtime_ns
    run_capture(config, Layout(build_dir, build_dir.parent / "site"), progress=False)
    assert archive.stat().st_mtime_ns == stamp, "a matching archive must be reused, not rewritten"
    for name in ("capture.h5", "model.keras"):
        (tmp_path / name).write_bytes((build_dir / name).read_bytes())
    other = Config(**{**SHORT, "steps": 4})
    retrained = run_capture(other, Layout(tmp_path, tmp_path.parent / "site"), progress=False)
    assert len(retrained.steps) == 5
    assert Capture.load(tmp_path / "capture.h5").config_json == other.to_json()


def test_in_graph_and_per_step_recording_agree(dataset):
    config = Config(**SHORT, capture_every=2)
    in_graph = train(config, dataset, progress=False).capture
    keras_recorder = ActivationRecorder(to_inputs(dataset.x_test[dataset.probe_indices]), config.layer_names,
                                        total_steps=config.steps, every=2, in_graph=False)
    train(config, dataset, progress=False, record=False, evaluate_test=False,
                    extra_callbacks=[keras_recorder])
    steps, per_step = keras_recorder.result()
    assert steps.tolist() == in_graph.steps.tolist() == [0, 2, 4, 6]
    for name in config.layer_names:
        np.testing.assert_allclose(per_step[name].astype(np.float32), in_graph.activations[name].astype(np.float32),
                                   atol=1e-3, rtol=0)


def traced_fit(model, mended: bool, eagerly: bool = False) -> int:
    """Fit `model` for two steps of a small tf.data pipeline; return how many times Python ran its train step (once
    per trace in a tf.function, once per step when run eagerly)."""
    import tensorflow as tf

    from model.distribute import apply_fit_mends

    images = np.random.default_rng(0).random((32, 8, 8), dtype=np.float32)
    labels = np.random.default_rng(1).integers(0, 3, 32)
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16, drop_remainder=True)
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], run_eagerly=eagerly)
    traces, original = [], model.train_step
    model.train_step = lambda data: traces.append(1) or original(data)  # Python runs only while TF traces
    if mended:
        apply_fit_mends(model, None, batches.element_spec)  # on one device
    history = model.fit(batches, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    return len(traces)


def test_the_train_step_is_traced_once_and_a_model_keras_cannot_build_still_trains():
    def dense():
        return keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(), keras.layers.Dense(3)])

    assert traced_fit(dense(), mended=False) == 2  # Keras alone: the first trace creates variables
    assert traced_fit(dense(), mended=True) == 1

    class NeedsValues(keras.Model):  # its call reads a concrete value, which a symbolic build does not have
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)

        def call(self, inputs):
            flat = keras.ops.reshape(inputs, (-1, 64))
            return self.dense(flat) if float(keras.ops.convert_to_numpy(keras.ops.sum(flat))) > -1 else flat

    assert traced_fit(NeedsValues(), mended=True, eagerly=True) == 2  # the failed build left fit to build it
