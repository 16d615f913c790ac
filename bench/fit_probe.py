"""One training run (`model.train.train`) in a fresh process, timed; prints its numbers as one JSON line.

    python bench/fit_probe.py --mode MODE [--steps N] [--dataset D] [--data-dir P] [--partial DIR/capture.partial]

Modes: bare (no recorder, no test evaluation), recorded (bare + the project's recorder), naive and toggle
(bench/callbacks.py), default (recorder and test evaluation, as `make site` trains),
streamed (recorded, the snapshots streamed into --partial by capture/chunk_writer.py as `generate.py
capture` does, the writer's calls timed), mirrored-bare / mirrored-recorded (under MirroredStrategy on the
CPU split into 2 logical devices, as tests/test_recorder_strategy.py does), floor (bare, then the probes'
forward pass up to the recorded layers timed). It calls `model.train.train`, not the capture stage, for
the recorder off and extra callbacks (a step timer, the naive recorder, the toggle); the recorder's own
time comes from wrapping its three hooks, which no stage reports.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from callbacks import naive_recorder, toggle_numbers, train_function_swapper

MODES = ("bare", "recorded", "naive", "default", "toggle", "streamed", "mirrored-bare", "mirrored-recorded", "floor")
RECORDER_HOOKS = ("on_train_begin", "on_train_batch_end", "on_train_end")
RECORDING_MODES = ("recorded", "default", "streamed", "mirrored-recorded")
MIRRORED_DEVICES = 2  # logical CPU devices of the mirrored modes
TOGGLE_BLOCK = 5  # steps per on/off block of the toggle mode
FLOOR_CALLS, FLOOR_WARM_UP = 100, 5  # timed and untimed forward passes of the floor mode


def timed(cls, names, calls: dict) -> None:
    """Wrap `cls`'s methods `names` so that every call appends (its start, its seconds) to `calls[name]`."""
    for name in names:
        original, spent = getattr(cls, name), calls.setdefault(name, [])

        @functools.wraps(original)
        def wrapper(self, *args, _original=original, _spent=spent, **kwargs):
            started = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                _spent.append((started, time.perf_counter() - started))

        setattr(cls, name, wrapper)


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
    return {"floor_ms": float(np.median(seconds)) * 1e3, "floor_calls": FLOOR_CALLS, "floor_layers": list(names),
            "floor_probes": int(len(probes))}


def stream_numbers(capture, partial: Path, writes: list, last_stamp: float) -> dict:
    """Finish the streamed archive as the capture stage does; return the writer's seconds and what it wrote."""
    from capture.archive import Capture
    from capture.partial import finish
    from model.stage import code_fingerprint

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
    """Return a callback whose `stamps` are the start of training and the end of every step (in every mode alike)."""
    import keras

    stamps = []
    timer = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: stamps.append(time.perf_counter()),
                                           on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    timer.stamps = stamps
    return timer


def run_fit(arguments) -> dict:
    """Train once in the asked mode and return the timings."""
    from model.quiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly()
    mode, mirrored = arguments.mode, arguments.mode.startswith("mirrored")
    if mirrored:  # split the CPU before anything touches the devices (the data and the config do not)
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * MIRRORED_DEVICES)
    from model.data import load_dataset
    from model.recorder import ActivationRecorder
    from model.train import Stream, to_inputs, train
    from pipeline.config import Config

    overrides = {"dataset": arguments.dataset, "steps": arguments.steps}
    if arguments.data_dir:
        overrides["data_dir"] = arguments.data_dir
    if mirrored:
        overrides["strategy"] = "mirrored"  # what `generate.py --strategy mirrored` sets
    config = Config.from_overrides(overrides)
    dataset = load_dataset(config)
    probes = to_inputs(dataset.x_test[dataset.probe_indices])

    calls: dict[str, list] = {}
    timer = step_timer()
    extra, naive, swapper, stream, writes = [timer], None, None, None, []
    if mode == "naive":
        naive = naive_recorder(probes, config.layer_names)
        timed(type(naive), ("on_train_begin", "on_train_batch_end"), calls)
        extra.append(naive)
    else:
        timed(ActivationRecorder, RECORDER_HOOKS, calls)
    if mode == "toggle":
        toggle = ActivationRecorder(probes, config.layer_names, total_steps=config.steps)
        if not toggle.in_graph:
            raise RuntimeError("mode toggle swaps the recorder's hooked train function: it needs TensorFlow")
        before, swapper = train_function_swapper(TOGGLE_BLOCK)
        extra = [timer, before, toggle, swapper]
    if arguments.partial:  # model/stage.py's wiring: a fresh partial archive, no state to resume
        from capture.chunk_writer import ChunkWriter
        from model.stage import code_fingerprint

        timed(ChunkWriter, ("__call__",), {"__call__": writes})
        stream = Stream(Path(arguments.partial), code_fingerprint())
    record = mode in RECORDING_MODES
    capture, trained, fit_seconds, _ = train(config, dataset, progress=False, record=record,
                                          evaluate_test=mode == "default", extra_callbacks=tuple(extra), stream=stream)
    if mirrored and capture.meta["replicas"] != MIRRORED_DEVICES:
        raise RuntimeError(f"mode {mode} trained on {capture.meta['replicas']} replica(s), not {MIRRORED_DEVICES}")

    totals = {name: sum(seconds for _, seconds in spent) for name, spent in calls.items()}
    # Interval between the ends of successive steps: the step and every callback after it (the recorder
    # included). The first interval also holds tf.function warm-up; the median is robust to bursts of load.
    intervals = np.diff(np.asarray(timer.stamps))
    median = float(np.median(intervals[1:]))
    begin, end = totals.get("on_train_begin", 0.0), totals.get("on_train_end", 0.0)
    out = {
        "mode": mode, "steps": config.steps, "every": config.capture_every, "fit_seconds": fit_seconds,
        "step_median_seconds": median, "first_step_seconds": float(intervals[0]),
        # robust to bursts of other load: the first step (tracing, hooks included) + median step x the other
        # steps + the recorder's set-up before the first step and its read-out after the last
        "robust_fit_seconds": float(intervals[0]) + median * (len(intervals) - 1) + begin + end,
        "recorder_seconds": sum(totals.values()),  # the recorder callback's own time (0 for bare)
        "recorder_begin_seconds": begin, "recorder_end_seconds": end, "replicas": capture.meta["replicas"],
        "snapshots": len(capture.steps) if record else (len(naive.snapshots[config.layer_names[0]]) if naive else 0),
        "predict_calls": naive.calls if naive else 0,
    }
    if swapper is not None:
        out.update(toggle_numbers(intervals, swapper, TOGGLE_BLOCK, config.steps, totals))
    if stream is not None:
        out.update(stream_numbers(capture, Path(arguments.partial), writes, timer.stamps[-1]))
    if mode == "floor":
        out.update(probe_floor(trained, [layer["name"] for layer in capture.meta["recorded_layers"]], probes))
    return out | {"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    """Parse the flags, train, print the numbers as one JSON line (bench/runs.py starts it in a fresh process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--steps", type=int, default=290)
    parser.add_argument("--dataset", default="bundled")
    parser.add_argument("--data-dir")
    parser.add_argument("--partial", help="stream into this partial archive folder (capture.h5 is assembled beside it)")
    arguments = parser.parse_args()
    if arguments.mode == "streamed" and not arguments.partial:
        parser.error("--mode streamed needs --partial")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project's packages
    print(json.dumps(run_fit(arguments)), flush=True)


if __name__ == "__main__":
    main()
