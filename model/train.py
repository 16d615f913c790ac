"""Train the article's CNN while recording activations; the one place that calls `fit`.

`train(config, dataset)` returns `(capture, model, fit_seconds)`: the Capture record (activations of every conv
layer for the probes at every recorded step, per-step metrics, test metrics) and the model.
"""

from __future__ import annotations

import contextlib
import math
import platform
import time

import keras
import numpy as np

from model.architecture import build_model, layer_table
from model.callbacks import (
    BatchMetricsRecorder,
    ProgressBar,
    StopAtStep,
    TestMetricsRecorder,
    compiled_forward,
    evaluate,
)
from model.capture import Capture
from model.distribute import make_strategy
from model.recorder import ActivationRecorder


def to_inputs(images: np.ndarray) -> np.ndarray:
    """Scale uint8 images (n, 28, 28) to float32 model inputs (n, 28, 28, 1) in [0, 1]."""
    return (np.asarray(images, np.float32) / 255.0)[..., np.newaxis]


def training_batches(dataset, config):
    """Return a repeating tf.data pipeline of shuffled full batches (the remainder dropped)."""
    import tensorflow as tf

    classes = config.dense_widths[-1]
    # uint8 images and integer labels go in (a quarter of the float32 copy's memory on 60k images);
    # the batch is scaled and one-hot encoded on the way out, with the same float32 values as to_inputs.
    pipeline = tf.data.Dataset.from_tensor_slices((dataset.x_train, dataset.y_train.astype(np.int32)))
    pipeline = pipeline.shuffle(len(dataset.x_train), seed=config.seed, reshuffle_each_iteration=True)
    pipeline = pipeline.batch(config.batch_size, drop_remainder=True)
    pipeline = pipeline.map(lambda images, labels: (tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0,
                                                     tf.one_hot(labels, classes)))
    return pipeline.repeat().prefetch(2)


def test_subset(dataset, config) -> np.ndarray:
    """Return the fixed, seeded indices of the test images used for the periodic test points."""
    count = min(config.test_subset, len(dataset.x_test))
    return np.sort(np.random.default_rng(config.seed).permutation(len(dataset.x_test))[:count])


def train(config, dataset, progress: bool = True, record: bool = True, evaluate_test: bool = True,
          extra_callbacks=()) -> tuple[Capture, keras.Model, float]:
    """Train for `config.steps` steps; return the capture, the trained model and the seconds `fit` took.

    `record=False` and `evaluate_test=False` leave out the activation recorder and the periodic
    test evaluation (the benchmarks' bare `fit`); `extra_callbacks` are appended to the list.
    """
    keras.backend.clear_session()  # fresh name counters, so a second run in one process saves the same file
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(config)  # variables mirrored on every replica under a strategy
    steps_per_epoch = len(dataset.x_train) // config.batch_size
    epochs = math.ceil(config.steps / steps_per_epoch)
    probes = to_inputs(dataset.x_test[dataset.probe_indices])  # (N, 28, 28, 1)
    subset = test_subset(dataset, config)

    recorder = ActivationRecorder(probes, config.layer_names, total_steps=config.steps, every=config.capture_every)
    batch_metrics = BatchMetricsRecorder()
    test_metrics = TestMetricsRecorder(to_inputs(dataset.x_test[subset]), dataset.y_test[subset],
                                       config.test_every, config.steps)
    callbacks = [batch_metrics, StopAtStep(config.steps), *extra_callbacks]
    callbacks += [recorder] if record else []
    callbacks += [test_metrics] if evaluate_test else []
    callbacks += [ProgressBar(config.steps)] if progress else []

    started = time.perf_counter()
    model.fit(training_batches(dataset, config), epochs=epochs, steps_per_epoch=steps_per_epoch,
              callbacks=callbacks, verbose=0, shuffle=False)  # the pipeline shuffles, seeded
    fit_seconds = time.perf_counter() - started

    final_loss, final_accuracy = evaluate(compiled_forward(model), to_inputs(dataset.x_test), dataset.y_test)
    steps, activations = recorder.result()
    meta = {
        "dataset": dataset.describe(),
        "steps_per_epoch": steps_per_epoch,
        "epochs": round(config.steps / steps_per_epoch, 3),
        "test_subset_size": int(len(subset)),
        "final_test_loss": final_loss,
        "final_test_accuracy": final_accuracy,
        "final_test_size": int(len(dataset.x_test)),
        "layers": layer_table(model),
        "total_parameters": int(model.count_params()),
        "replicas": int(strategy.num_replicas_in_sync) if strategy is not None else 1,
        "versions": library_versions(),
        "machine": machine_description(),
    }
    capture = Capture(
        steps=steps, probe_images=dataset.x_test[dataset.probe_indices],
        probe_labels=dataset.y_test[dataset.probe_indices], activations=activations,
        train_loss=np.array(batch_metrics.loss, np.float32),
        train_accuracy=np.array(batch_metrics.accuracy, np.float32),
        test_steps=np.array(test_metrics.steps, np.int32), test_loss=np.array(test_metrics.loss, np.float32),
        test_accuracy=np.array(test_metrics.accuracy, np.float32),
        config_json=config.to_json(), meta=meta,
    )
    return capture, model, fit_seconds


def library_versions() -> dict:
    """Return the versions of the libraries that decide the numbers."""
    import tensorflow as tf

    return {"python": platform.python_version(), "keras": keras.__version__, "tensorflow": tf.__version__,
            "numpy": np.__version__}


def machine_description() -> dict:
    """Return the CPU model and core count the run used.

    The model name is read from /proc/cpuinfo by hand: psutil does not report it, and
    platform.processor() is empty on Linux.
    """
    import os

    model_name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model_name = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model_name, "cores": os.cpu_count(), "system": platform.system()}
