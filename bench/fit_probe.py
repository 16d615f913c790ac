"""Time one training run (`model.train.train`) in the asked mode: step intervals, the recorder's own time, memory.

Modes (everything else equal):
  bare      record=False, evaluate_test=False   (the bare `fit`)
  recorded  record=True,  evaluate_test=False   (bare + this project's ActivationRecorder)
  naive     record=False, evaluate_test=False, plus bench.naive.NaivePredictRecorder (predict() per layer per step)
  default   record=True,  evaluate_test=True    (what `make site` trains with)
  toggle    the project's recorder installed, but every other block of B steps runs without it (bench/toggle.py)

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

    import_tensorflow_quietly()
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
    record = arguments.mode in ("recorded", "default")
    capture, _, fit_seconds = train(config, dataset, progress=False, record=record,
                                    evaluate_test=arguments.mode == "default", extra_callbacks=extra)
    finished = time.perf_counter()
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
        **toggled,
    }
