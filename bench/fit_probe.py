"""Time one training run (`model.train.train`) in the asked mode: step intervals, the recorder's own time, memory.

Modes (everything else equal):
  bare      record=False, evaluate_test=False   (the bare `fit`)
  recorded  record=True,  evaluate_test=False   (bare + this project's ActivationRecorder)
  naive     record=False, evaluate_test=False, plus bench.naive.NaivePredictRecorder (predict() per layer per step)
  default   record=True,  evaluate_test=True    (what `make site` trains with)
  toggle    the project's recorder installed, but every other block of B steps runs without it (bench/toggle.py)
  streamed  recorded, with the snapshots handed to model/stream.py's writer as `generate.py capture` does
            ("default" with --partial streams the same way: item 7's runs)
            (`stream=` into --partial, then model.stream.finish); the writer's calls are timed
  mirrored-bare / mirrored-recorded  bare / recorded under tf.distribute.MirroredStrategy on the CPU split
            into 2 logical devices (tests/test_recorder_strategy.py's set-up; config strategy "mirrored")
  floor     bare, then one compiled forward pass of the probes up to the recorded layers, timed (item 8)

It calls `model.train.train`, not the capture stage (`model.stage.run`, whose `timings=` hook gives only the
fit and total seconds): item 1 needs the same training with the recorder off and without test evaluation,
extra callbacks (a step timer, the naive recorder, the toggle) and every step's interval. The recorder's
own callback time is accumulated by wrapping its three hooks (two perf_counter calls per step), which no
stage reports.
"""

from __future__ import annotations

import functools
import resource
import time
from pathlib import Path

import numpy as np
from toggle import block_recorder, toggle_numbers, train_function_swapper

RECORDER_HOOKS = ("on_train_begin", "on_train_batch_end", "on_train_end")
RECORDING_MODES = ("recorded", "default", "streamed", "mirrored-recorded")
MIRRORED_DEVICES = 2  # logical CPU devices of the mirrored modes
FLOOR_CALLS, FLOOR_WARM_UP = 100, 5  # timed and untimed forward passes of the floor mode


def timed_methods(cls, names, totals: dict) -> None:
    """Wrap `cls`'s methods `names` so that their cumulative seconds land in `totals[name]`."""
    for name in names:
        original = getattr(cls, name, None)
        if original is None:
            continue
        totals.setdefault(name, 0.0)

        @functools.wraps(original)
        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                totals[_name] += time.perf_counter() - started

        setattr(cls, name, wrapper)


def timed_calls(cls, name: str, calls: list) -> None:
    """Wrap `cls`'s method `name` so that every call appends (its start, its seconds) to `calls`."""
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            calls.append((started, time.perf_counter() - started))

    setattr(cls, name, wrapper)


def split_cpu(tf, count: int) -> None:
    """Split the CPU into `count` logical devices; must run before anything touches TensorFlow's devices."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def probe_floor(model, names: list[str], probes: np.ndarray) -> dict:
    """Time one compiled forward pass of the probes up to the recorded layers (median of FLOOR_CALLS calls)."""
    import keras
    import tensorflow as tf

    # the recorder's fast path for a functional model: a sub-model up to the layers, called in a tf.function
    extractor = keras.Model(inputs=model.inputs, outputs=[model.get_layer(name).output for name in names])
    forward = tf.function(lambda inputs: extractor(inputs, training=False))
    inputs = tf.constant(probes)
    for _ in range(FLOOR_WARM_UP):
        forward(inputs)
    seconds = []
    for _ in range(FLOOR_CALLS):  # eager calls on the CPU return when the function has run
        started = time.perf_counter()
        forward(inputs)
        seconds.append(time.perf_counter() - started)
    return {"floor_ms": float(np.median(seconds)) * 1e3, "floor_p10_ms": float(np.percentile(seconds, 10)) * 1e3,
            "floor_p90_ms": float(np.percentile(seconds, 90)) * 1e3, "floor_calls": FLOOR_CALLS,
            "floor_layers": list(names), "floor_probes": int(len(probes))}


def stream_numbers(capture, partial: Path, writes: list, last_stamp: float) -> dict:
    """Finish the streamed archive as the capture stage does; return the writer's seconds and what it wrote."""
    from model.capture import Capture
    from model.stage import code_fingerprint
    from model.stream import finish

    capture.meta["code_fingerprint"] = code_fingerprint()
    archive = partial.parent / "capture.h5"
    started = time.perf_counter()
    finish(partial, archive, capture)
    return {"finish_seconds": time.perf_counter() - started, "archive_bytes": archive.stat().st_size,
            "snapshots": len(Capture.load(archive).steps), "writer_calls": len(writes),
            "writer_seconds": sum(seconds for _, seconds in writes),
            # calls before the last step's end ran between two steps (the rest in the recorder's on_train_end)
            "writer_in_steps_seconds": sum(seconds for started, seconds in writes if started < last_stamp)}


def step_timer():
    """Return a callback that timestamps the end of every step (added to every mode alike)."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.stamps = [time.perf_counter()]

        def on_train_batch_end(self, batch, logs=None):
            self.stamps.append(time.perf_counter())

    return StepTimer()


def step_numbers(intervals: np.ndarray, fit_seconds: float, totals: dict) -> dict:
    """Return the step statistics, and the fit time robust to bursts of other load."""
    if len(intervals) <= 2:
        return {"step_median_seconds": float("nan"), "step_p10_seconds": None, "step_p90_seconds": None,
                "first_step_seconds": float(intervals[0]) if len(intervals) else None,
                "robust_fit_seconds": fit_seconds}
    step_median = float(np.median(intervals[1:]))
    return {
        "step_median_seconds": step_median,
        "step_p10_seconds": float(np.percentile(intervals[1:], 10)),
        "step_p90_seconds": float(np.percentile(intervals[1:], 90)),
        "first_step_seconds": float(intervals[0]),
        # the first step (tracing, hooks included) + median step x the other steps + the recorder's
        # set-up before the first step and its read-out after the last
        "robust_fit_seconds": float(intervals[0]) + step_median * (len(intervals) - 1)
                              + totals.get("on_train_begin", 0.0) + totals.get("on_train_end", 0.0),
    }


def run_fit(arguments, process_start: float) -> dict:
    """Train once in the asked mode and return the timings."""
    from model.quiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly()
    mirrored = arguments.mode.startswith("mirrored")
    if mirrored:  # before anything touches the devices (the data and the config do not)
        split_cpu(tf, MIRRORED_DEVICES)
    imported = time.perf_counter()
    from model.config import Config
    from model.data import load_dataset
    from model.recorder import ActivationRecorder
    from model.train import to_inputs, train

    if arguments.recorder == "lean":  # a prototype: swapped in where model.train looks the recorder up
        import model.train
        from bench.recorder_lean import LeanRecorder

        model.train.ActivationRecorder = ActivationRecorder = LeanRecorder
    overrides = {"dataset": arguments.dataset, "steps": arguments.steps, "capture_every": arguments.every}
    if arguments.data_dir:
        overrides["data_dir"] = arguments.data_dir
    if mirrored:
        overrides["strategy"] = "mirrored"  # what `generate.py --strategy mirrored` sets
    config = Config.from_overrides(overrides)
    dataset = load_dataset(config)
    loaded = time.perf_counter()

    totals: dict[str, float] = {}
    timer = step_timer()
    extra = (timer,)
    naive = toggle = swapper = None
    if arguments.mode == "toggle":
        timed_methods(ActivationRecorder, RECORDER_HOOKS, totals)
        probes = to_inputs(dataset.x_test[dataset.probe_indices])
        toggle = ActivationRecorder(probes, config.layer_names, total_steps=config.steps)
        if toggle.in_graph:
            before, swapper = train_function_swapper(arguments.block)
            extra = (timer, before, toggle, swapper)
        else:
            toggle = block_recorder(ActivationRecorder, arguments.block)(probes, config.layer_names,
                                                                        total_steps=config.steps)
            extra = (timer, toggle)
    elif arguments.mode == "naive":
        from bench.naive import NaivePredictRecorder

        timed_methods(NaivePredictRecorder, ("on_train_begin", "on_train_batch_end"), totals)
        naive = NaivePredictRecorder(to_inputs(dataset.x_test[dataset.probe_indices]), config.layer_names)
        extra = (timer, naive)
    else:
        timed_methods(ActivationRecorder, RECORDER_HOOKS, totals)
    stream, writes = None, []
    # model/stage.py's wiring: a fresh partial archive, no state to resume ("default" streams too when given a
    # --partial folder, as `generate.py capture` does: item 7)
    streaming = arguments.mode == "streamed" or (arguments.mode == "default" and bool(arguments.partial))
    if streaming:
        from model.stage import code_fingerprint
        from model.stream import ChunkWriter

        timed_calls(ChunkWriter, "__call__", writes)
        stream = {"folder": Path(arguments.partial), "fingerprint": code_fingerprint(), "state": None}
    record = arguments.mode in RECORDING_MODES
    capture, trained, fit_seconds = train(config, dataset, progress=False, record=record,
                                          evaluate_test=arguments.mode == "default", extra_callbacks=extra,
                                          stream=stream)
    finished = time.perf_counter()
    if mirrored and capture.meta["replicas"] != MIRRORED_DEVICES:
        raise RuntimeError(f"mode {arguments.mode} trained on {capture.meta['replicas']} replica(s), "
                           f"not {MIRRORED_DEVICES}")
    save_seconds, archive_bytes = None, None
    if arguments.save:
        capture.save(arguments.save)
        save_seconds = time.perf_counter() - finished
        archive_bytes = Path(arguments.save).stat().st_size

    # Interval between the ends of successive steps: the step and every callback after it (the recorder
    # included). The first interval also holds tf.function warm-up; the median is robust to bursts of load.
    intervals = np.diff(np.asarray(timer.stamps))
    toggled = (toggle_numbers(intervals, toggle, swapper, arguments.block, config.steps, totals)
               if toggle is not None else {})
    snapshots = len(capture.steps) if record else (len(naive.snapshots[config.layer_names[0]]) if naive else 0)
    scale = {"replicas": capture.meta["replicas"]}
    if stream is not None:
        scale.update(stream_numbers(capture, Path(arguments.partial), writes, timer.stamps[-1]))
        save_seconds = scale["finish_seconds"]  # the archive is the streamed chunks, assembled
    elif arguments.mode == "floor":
        names = [layer["name"] for layer in capture.meta["recorded_layers"]]
        scale.update(probe_floor(trained, names, to_inputs(dataset.x_test[dataset.probe_indices])))
    return {
        "mode": arguments.mode, "recorder": arguments.recorder, "steps": config.steps, "every": config.capture_every,
        "dataset": dataset.name, "train_size": int(len(dataset.x_train)),
        "fit_seconds": fit_seconds, **step_numbers(intervals, fit_seconds, totals),
        "recorder_end_seconds": totals.get("on_train_end", 0.0),
        "recorder_seconds": sum(totals.values()),  # the recorder callback's own time (0 for bare)
        "recorder_begin_seconds": totals.get("on_train_begin", 0.0),
        "snapshots": snapshots, "predict_calls": naive.calls if naive else 0,
        "import_seconds": imported - process_start, "load_seconds": loaded - imported,
        "process_seconds": finished - process_start,
        "final_test_accuracy": capture.meta.get("final_test_accuracy"),
        "save_seconds": save_seconds, "archive_bytes": archive_bytes,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **toggled, **scale,
    }
