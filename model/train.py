"""Train the article's CNN or your own model while recording activations; the one place that calls `fit`.

`train(config, dataset)` returns a `Trained` (capture, model, fit_seconds, write_seconds): the Capture record
(activations of the recorded layers for the probes at every recorded step, per-step metrics, test metrics),
the model, the seconds `fit` took and, when streaming to a partial archive (`Stream`), the seconds its writes
took.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from capture.archive import Capture
from capture.chunk_writer import ChunkWriter, StreamSettings
from capture.partial import read_weight_snapshots
from capture.schema import CHUNK_ROWS
from capture.value_checks import (
    activations_problem,
    diverged_fix,
    metrics_problem,
    probe_size_problem,
    training_error,
)
from model.analysis_replay import WeightSnapshots, choose_analysis_set, grid_steps, measure, skipped_reason
from model.callbacks import (
    BatchMetricsRecorder,
    DivergenceGuard,
    ProgressBar,
    StopAtStep,
    TestMetricsRecorder,
    compiled_forward,
    evaluate,
)
from model.distribute import apply_fit_mends
from model.recorder import ActivationRecorder
from model.setup import RunSetup, prepare_run


@dataclass(frozen=True)
class Stream:
    """Where training streams its snapshots: a partial archive's folder, the code's fingerprint, a state to resume."""

    folder: Path
    fingerprint: str
    state: dict | None = None


class Trained(NamedTuple):
    """What `train` returns."""

    capture: Capture
    model: keras.Model
    fit_seconds: float
    write_seconds: dict  # {"chunks": s, "checkpoints": s} when streamed, and {"replay": s} when replayed

def to_inputs(images: np.ndarray) -> np.ndarray:
    """Return float32 model inputs (n, H, W, C): uint8 images / 255, float ones as given; (n, H, W) gets C = 1."""
    images = np.asarray(images)
    inputs = np.asarray(images, np.float32) / 255.0 if images.dtype == np.uint8 else np.asarray(images, np.float32)
    return inputs[..., np.newaxis] if inputs.ndim == 3 else inputs


TF_DATA_AUTOTUNE = False  # see training_batches; bench/tfdata_stall.py sets it to measure the stall it caused


def training_batches(dataset, config, classes: int | None = None, label_format: str = "one_hot", skip: int = 0):
    """Return a repeating tf.data pipeline of shuffled full batches (the remainder dropped), from batch `skip` on."""
    import tensorflow as tf

    classes = config.dense_widths[-1] if classes is None else classes
    uint8, grey = dataset.x_train.dtype == np.uint8, dataset.x_train.ndim == 3
    # uint8 images and integer labels go in (a quarter of the float32 copy's memory on 60k images);
    # the batch is scaled and labelled on the way out, with the same float32 values as to_inputs.
    pipeline = tf.data.Dataset.from_tensor_slices((dataset.x_train, dataset.y_train.astype(np.int32)))
    pipeline = pipeline.shuffle(len(dataset.x_train), seed=config.seed, reshuffle_each_iteration=True)
    pipeline = pipeline.batch(config.batch_size, drop_remainder=True)

    def prepare(images, labels):
        images = tf.cast(images, tf.float32)
        images = images[..., tf.newaxis] if grey else images
        return (images / 255.0 if uint8 else images,
                labels if label_format == "integer" else tf.one_hot(labels, classes))

    pipeline = pipeline.map(prepare).repeat()
    # A resumed run skips the batches already trained on: the seeded shuffle gives the same order again.
    pipeline = (pipeline.skip(skip) if skip else pipeline).prefetch(2)
    # No autotuning: with it on, freeing the fit's iterator (whenever the garbage collector gets to it)
    # waited for the autotune thread's sleep, 1-60 s in 6 of 14 fresh runs (bench/tfdata_stall.py).
    # The pipeline's one parallel part is the fixed prefetch(2); the data and their order are unchanged.
    options = tf.data.Options()
    options.autotune.enabled = TF_DATA_AUTOTUNE
    # On several workers each one reads the whole in-memory pipeline and keeps its replicas' part of every
    # global batch (TensorFlow's choice for data that are not files, said here so it does not warn).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return pipeline.with_options(options)


def test_subset(dataset, config) -> np.ndarray:
    """Return the fixed, seeded indices of the test images used for the periodic test points."""
    count = min(config.test_subset, len(dataset.x_test))
    return np.sort(np.random.default_rng(config.seed).permutation(len(dataset.x_test))[:count])


def train(config, dataset, progress: bool = True, record: bool = True, evaluate_test: bool = True,
          extra_callbacks=(), setup: RunSetup | None = None, stream: Stream | None = None) -> Trained:
    """Train for `config.steps` steps; return the capture, the trained model and the seconds `fit` took.

    `record=False` and `evaluate_test=False` leave out the activation recorder and the periodic
    test evaluation (the benchmarks' bare `fit`); `extra_callbacks` are appended to the list;
    `setup` is prepare_run's result when the caller already made it (model/stage.py, for the memory check).
    `stream`: write the snapshots chunk by chunk into that partial archive
    (capture/chunk_writer.py) instead of keeping them; a "state" of an interrupted run resumes it from its
    checkpoint. The returned capture then holds no snapshots (capture.partial.finish assembles the archive).
    """
    setup = prepare_run(config, dataset) if setup is None else setup
    oversized = probe_size_problem(dataset.probe_display().shape)  # before anything is trained or written
    if oversized:
        raise ValueError(f"{dataset.source}: {oversized}: pass fewer --probes or use smaller images")
    model, strategy = setup.model, setup.strategy
    state = stream.state if stream is not None else None
    start = int(state["last_step"]) if state else 0
    if state:
        restore_checkpoint(model, Path(stream.folder) / state["checkpoint"])
    steps_per_epoch = len(dataset.x_train) // config.batch_size
    epochs = math.ceil((config.steps - start) / steps_per_epoch)
    probes = to_inputs(dataset.x_test[dataset.probe_indices])  # (N, H, W, C)
    subset = test_subset(dataset, config)

    batch_metrics = BatchMetricsRecorder(setup.accuracy_key)
    test_metrics = TestMetricsRecorder(to_inputs(dataset.x_test[subset]), dataset.y_test[subset],
                                       config.test_every, config.steps, loss=setup.test_loss, start_step=start)
    skipped = skipped_reason(config, dataset) if record else "nothing is recorded"
    weights = None
    if skipped is None:  # the analysis set's weight snapshots, and a resumed run's from before it stopped
        kept = read_weight_snapshots(stream.folder, state) if state else {}
        weights = WeightSnapshots(grid_steps(config), start, kept)
    sink = None
    if stream is not None:
        settings = StreamSettings(stream.folder, config.to_json(), stream.fingerprint, setup.stored_shapes,
                                  dataset.probe_display(), dataset.y_test[dataset.probe_indices], state, start,
                                  weights.between if weights is not None else None)
        sink = ChunkWriter(settings, model, batch_metrics, test_metrics)
    recorder = ActivationRecorder(probes, setup.recorded, total_steps=config.steps, every=config.capture_every,
                                  sink=sink, flush_every=CHUNK_ROWS, start_step=start)
    rate = {"model": config.model, "learning_rate": config.learning_rate}  # what diverged_fix names
    # the guard right after the metrics it reads: nothing after it sees a step whose loss is not finite
    # the weight snapshots before the recorder: a chunk it flushes is saved with the snapshots up to its step
    callbacks = [batch_metrics, DivergenceGuard(batch_metrics, diverged_fix(rate), start),
                 StopAtStep(config.steps - start), *([weights] if weights is not None else []), *extra_callbacks]
    callbacks += [test_metrics] if evaluate_test else []
    callbacks += [recorder] if record else []  # after the test metrics, so a flushed chunk carries its step's
    bar = ProgressBar(config.steps, initial=start) if progress else None
    callbacks += [bar] if bar is not None else []

    started = time.perf_counter()
    try:
        if config.steps > start:
            batches = training_batches(dataset, config, setup.classes, setup.label_format, skip=start)
            apply_fit_mends(model, strategy, batches.element_spec)  # one trace of the step; see model/distribute.py
            model.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=0,
                      shuffle=False)  # the pipeline shuffles, seeded
    except BaseException:
        if bar is not None:
            bar.close()  # the error's line starts on a line of its own
        if sink is not None:
            sink.abandon()  # the chunk in flight is finished (or not) before the error goes on
        raise
    fit_seconds = time.perf_counter() - started
    if sink is not None:
        sink.close()  # the last chunk is on disk, or its write's error is raised here
    seconds = dict(sink.seconds) if sink is not None else {}
    analysis, about = None, {"images": 0, "skipped": skipped}
    if weights is not None:
        replaying = time.perf_counter()
        weights.finish(model)
        indices = choose_analysis_set(dataset, config, dataset.probe_indices)
        analysis, about = measure(model, setup, dataset, config, indices, to_inputs(dataset.x_test[indices]),
                                  weights.snapshots)
        seconds["replay"] = time.perf_counter() - replaying

    final_loss, final_accuracy = evaluate(compiled_forward(model), to_inputs(dataset.x_test), dataset.y_test,
                                          loss=setup.test_loss)
    steps, activations = recorder.result() if sink is None else (np.zeros(0, np.int32), {})
    activations = {name: values.reshape(*values.shape[:2], *setup.stored_shapes[name])  # (T, N, H, W, C)
                   for name, values in activations.items()}
    meta = {
        "dataset": dataset.describe(),
        "steps_per_epoch": steps_per_epoch,
        "epochs": round(config.steps / steps_per_epoch, 3),
        "test_subset_size": int(len(subset)),
        "final_test_loss": final_loss,
        "final_test_accuracy": final_accuracy,
        "final_test_size": int(len(dataset.x_test)),
        "layers": setup.layers,
        "recorded_layers": setup.recorded_layers,
        "model": setup.model_meta,
        "total_parameters": int(model.count_params()),
        "replicas": int(strategy.num_replicas_in_sync) if strategy is not None else 1,
        "versions": library_versions(),
        "machine": machine_description(),
        "analysis": about,
    }
    capture = Capture(
        steps=steps, probe_images=dataset.probe_display(),
        probe_labels=dataset.y_test[dataset.probe_indices], activations=activations,
        train_loss=np.array(batch_metrics.loss, np.float32),
        train_accuracy=np.array(batch_metrics.accuracy, np.float32),
        test_steps=np.array(test_metrics.steps, np.int32), test_loss=np.array(test_metrics.loss, np.float32),
        test_accuracy=np.array(test_metrics.accuracy, np.float32),
        config_json=config.to_json(), meta=meta, analysis=analysis,
    )
    # What Capture.load would refuse is refused now, before the stage writes the model or the archive
    # (the streamed snapshots were checked chunk by chunk, capture/chunk_writer.py).
    checked = {**capture.small_arrays(), **capture.activations,
               "train_steps": np.arange(start + 1, start + len(capture.train_loss) + 1)}
    problem = metrics_problem(checked, meta) or activations_problem(checked, list(capture.activations))
    if problem:
        raise training_error(problem, rate, "finished, but")
    return Trained(capture, model, fit_seconds, seconds)


def restore_checkpoint(model, path: Path) -> None:
    """Load a checkpoint's weights and optimizer state (capture/chunk_writer.py saves one per chunk) into `model`."""
    model.optimizer.build(model.trainable_variables)  # its variables must exist to be loaded into
    model.load_weights(path)


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
