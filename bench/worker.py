"""One measurement in a fresh process; prints a single JSON line on stdout.

    python bench/worker.py fit --mode bare|recorded|naive|default|toggle [--steps N] [--dataset D] [--data-dir P]
                               [--every K] [--save ARCHIVE] [--block B]
    python bench/worker.py render --capture ARCHIVE --build-dir DIR [--gif-budget-mb 5]

Modes (everything else equal; all use model.train.train):
  bare      record=False, evaluate_test=False   (the bare `fit`)
  recorded  record=True,  evaluate_test=False   (bare + this project's ActivationRecorder)
  naive     record=False, evaluate_test=False, plus bench.naive.NaivePredictRecorder (predict() per layer per step)
  default   record=True,  evaluate_test=True    (what `make site` trains with)
  toggle    the project's ActivationRecorder installed, but every other block of B steps runs the plain
            train function Keras built before the recorder hooked it (per-step path: records only every
            other block): the ratio of the median step interval with and without it, within one run

The recorder callbacks' own time is accumulated in-process (two perf_counter calls per step).
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import time
from pathlib import Path

PROCESS_START = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


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


def block_recorder(recorder_class, block: int):
    """Return a subclass of the project's recorder that records only the steps of every other block of `block`.

    Used on the per-step path (the snapshot is a separate call after the step), where leaving a step
    out of the plan removes all the recorder's work for it.
    """

    class BlockRecorder(recorder_class):
        def planned_steps(self):
            planned = [step for step in range(self.total_steps + 1) if (step // block) % 2 == 0]
            return planned + ([self.total_steps] if planned[-1] != self.total_steps else [])

    return BlockRecorder


def train_function_swapper(block: int):
    """Return (before, after) callbacks that alternate the model's plain and recorder-hooked train functions.

    On TensorFlow the recorder wraps the compiled train step itself, so a step "without the recorder"
    must run the train function that Keras built before the recorder hooked it: `before` keeps that
    one, `after` (placed after the recorder) keeps the hooked one and picks, before every step, the
    one its block calls for. Keras reads `model.train_function` anew for every step.
    """
    import keras

    class Before(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.plain = self.model.train_function

    before = Before()

    class After(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.hooked = self.model.train_function
            self.hooked_steps = []
            self.step = 1  # the step about to run
            self._choose()

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            self._choose()

        def _choose(self):
            hooked = (self.step // block) % 2 == 0
            self.model.train_function = self.hooked if hooked else before.plain
            if hooked:
                self.hooked_steps.append(self.step)

    after = After()
    return before, after


def run_fit(arguments) -> dict:
    """Train once in the asked mode and return the timings."""
    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    imported = time.perf_counter()
    from model.recorder import ActivationRecorder
    from model.config import Config
    from model.data import load_dataset
    from model.train import to_inputs, train

    if getattr(arguments, "recorder", "project") == "lean":
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
    naive = None
    toggle = swapper = None
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
    evaluate_test = arguments.mode == "default"
    capture, model, fit_seconds = train(config, dataset, progress=False, record=record, evaluate_test=evaluate_test,
                                        extra_callbacks=extra)
    finished = time.perf_counter()
    save_seconds, archive_bytes = None, None
    if arguments.save:
        capture.save(arguments.save)
        save_seconds = time.perf_counter() - finished
        archive_bytes = Path(arguments.save).stat().st_size
    import numpy as np

    # Interval between the ends of successive steps: the step and every callback after it (the recorder
    # included). The first interval also holds tf.function warm-up; the median is robust to bursts of load.
    intervals = np.diff(np.asarray(timer.stamps))
    step_median = float(np.median(intervals[1:])) if len(intervals) > 2 else float("nan")
    toggle_numbers = {}
    if toggle is not None:
        # intervals[k - 1] runs from the end of step k - 1 to the end of step k. In the compiled train step
        # the snapshot of step k is taken inside step k; on the per-step path, in step k's callbacks, which
        # run after the timer's stamp, so inside the next interval.
        if swapper is not None:  # the hooked train function ran these steps
            planned, shift = set(swapper.hooked_steps), 0
        else:  # the per-step snapshot of step k runs in step k's callbacks, after the timer's stamp
            planned, shift = set(toggle.planned_steps()), 1
        flags = np.array([(k - shift) in planned and (k - shift) >= 1 for k in range(1, len(intervals) + 1)])
        on, off = intervals[1:][flags[1:]], intervals[1:][~flags[1:]]  # the first interval holds the warm-up
        median_off = float(np.median(off))
        # adjacent blocks compared pairwise: a slow drift of the machine's speed cancels out
        block = arguments.block
        steps_of = np.arange(1, len(intervals) + 1) - shift
        pair_ratios = []
        for first in range(0, int(steps_of.max()) // block, 2):
            on_block = intervals[1:][(steps_of[1:] // block == first) & flags[1:]]
            off_block = intervals[1:][(steps_of[1:] // block == first + 1) & ~flags[1:]]
            if on_block.size >= 2 and off_block.size >= 2:
                pair_ratios.append(float(np.median(on_block) / np.median(off_block)))
        toggle_numbers = {
            "toggle_paired_ratio": (float(np.median(pair_ratios))
                                    + totals.get("on_train_begin", 0.0) / (median_off * config.steps)
                                    + totals.get("on_train_end", 0.0) / (median_off * config.steps))
                                   if pair_ratios else None,
            "toggle_pairs": len(pair_ratios),
            "toggle_in_graph": bool(getattr(toggle, "in_graph", False)),
            "toggle_block": arguments.block, "toggle_on": int(on.size), "toggle_off": int(off.size),
            "toggle_median_on_ms": float(np.median(on)) * 1e3, "toggle_median_off_ms": median_off * 1e3,
            # per-step ratio, plus the one-off set-up spread over the run
            "toggle_ratio": float(np.median(on)) / median_off
                            + totals.get("on_train_begin", 0.0) / (median_off * config.steps)
                            + totals.get("on_train_end", 0.0) / (median_off * config.steps),
        }
    snapshots = len(capture.steps) if record else (len(naive.snapshots[config.layer_names[0]]) if naive else 0)
    return {
        "mode": arguments.mode, "recorder": getattr(arguments, "recorder", "project"), "steps": config.steps, "every": config.capture_every, "dataset": dataset.name,
        "train_size": int(len(dataset.x_train)),
        "fit_seconds": fit_seconds,
        "step_median_seconds": step_median,
        "step_p10_seconds": float(np.percentile(intervals[1:], 10)) if len(intervals) > 2 else None,
        "step_p90_seconds": float(np.percentile(intervals[1:], 90)) if len(intervals) > 2 else None,
        "first_step_seconds": float(intervals[0]) if len(intervals) else None,
        # robust fit time: the first step (tracing, hooks included) + median step x the other steps + the
        # recorder's set-up before the first step and its read-out after the last
        "robust_fit_seconds": (float(intervals[0]) + step_median * (len(intervals) - 1)
                               + totals.get("on_train_begin", 0.0) + totals.get("on_train_end", 0.0))
                              if len(intervals) > 2 else fit_seconds,
        "recorder_end_seconds": totals.get("on_train_end", 0.0),
        "recorder_seconds": sum(totals.values()),  # the recorder callback's own time (0 for bare)
        "recorder_begin_seconds": totals.get("on_train_begin", 0.0),
        "snapshots": snapshots, "predict_calls": naive.calls if naive else 0,
        "import_seconds": imported - PROCESS_START, "load_seconds": loaded - imported,
        "process_seconds": finished - PROCESS_START,
        "final_test_accuracy": capture.meta.get("final_test_accuracy"),
        "save_seconds": save_seconds, "archive_bytes": archive_bytes,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **toggle_numbers,
    }


class StageProbe:
    """Time the render stage's parts from outside: frame composition, yuv conversion, PNG writing.

    render.stage composes frames with render.frames.layer_frames (a generator) and streams them to
    ffmpeg, which encodes in its own process at the same time; the time spent inside the generator
    is composition, the rest of the video phase is conversion, piping and waiting for ffmpeg.
    """

    def __init__(self):
        self.seconds = {"compose_video": 0.0, "compose_gif": 0.0, "yuv": 0.0, "png": 0.0}
        self.frames = {"video": 0, "gif": 0}
        self.log_timings = None

    def install(self):
        import logging

        import render.encode
        import render.stage

        probe = self
        original_frames = render.stage.layer_frames

        def layer_frames(*args, **kwargs):
            kind = "video" if kwargs.get("indices") is None and kwargs.get("cell", 56) == 56 else "gif"
            generator = original_frames(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    frame = next(generator)
                except StopIteration:
                    probe.seconds[f"compose_{kind}"] += time.perf_counter() - started
                    return
                probe.seconds[f"compose_{kind}"] += time.perf_counter() - started
                probe.frames[kind] += 1
                yield frame

        render.stage.layer_frames = layer_frames
        original_yuv = render.encode.to_yuv420p

        def to_yuv420p(frame):
            started = time.perf_counter()
            try:
                return original_yuv(frame)
            finally:
                probe.seconds["yuv"] += time.perf_counter() - started

        render.encode.to_yuv420p = to_yuv420p
        original_png = render.stage.write_png

        def write_png(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original_png(*args, **kwargs)
            finally:
                probe.seconds["png"] += time.perf_counter() - started

        render.stage.write_png = write_png

        class Catch(logging.Handler):
            def emit(self, record):
                message = record.getMessage()
                if message.startswith("render timings: "):
                    try:
                        probe.log_timings = json.loads(message.split(": ", 1)[1])
                    except json.JSONDecodeError:
                        pass

        logger = logging.getLogger("render")
        logger.addHandler(Catch())
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
            logger.propagate = False


def rss_mb() -> float:
    """Return this process's current resident memory in MiB."""
    import os

    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_render(arguments) -> dict:
    """Load a capture and run the render stage on it, as `generate.py render` does after the capture stage."""
    import numpy  # noqa: F401

    started = time.perf_counter()
    baseline_mb = rss_mb()
    from model.capture import Capture

    imported_model = time.perf_counter()
    capture = Capture.load(arguments.capture)
    loaded = time.perf_counter()
    loaded_mb = rss_mb()
    import render.stage

    probe = StageProbe()
    probe.install()
    imported = time.perf_counter()
    build_dir = Path(arguments.build_dir)
    cpu_children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    render_if_stale = getattr(render.stage, "render_if_stale", None)
    if render_if_stale is None:
        try:
            from render.cache import render_if_stale
        except ImportError:
            render_if_stale = None
    if render_if_stale is not None:
        entry = f"{render_if_stale.__module__}.render_if_stale"
        manifest = render_if_stale(capture, build_dir, gif_budget_bytes=int(arguments.gif_budget_mb * 1e6),
                                   progress=False)
    else:  # before the staleness wrapper existed
        entry = "render_capture"
        manifest = render.stage.render_capture(capture, build_dir / "assets",
                                               gif_budget_bytes=int(arguments.gif_budget_mb * 1e6), progress=False)
    finished = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        stage_timings = json.loads((build_dir / "timings.json").read_text())
    except (OSError, json.JSONDecodeError):
        stage_timings = {}
    layers = manifest.get("layers", []) if isinstance(manifest, dict) else []
    formats = sorted({kind for layer in layers for kind in layer.get("files", {})})
    return {
        "entry": entry, "layer_workers": getattr(render.stage, "LAYER_WORKERS", 1), "frames": int(len(capture.steps)), "layers": len(capture.activations), "formats": formats,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "import_model_seconds": imported_model - started, "load_seconds": loaded - imported_model,
        "import_seconds": imported - loaded, "render_seconds": finished - imported,
        "process_seconds": finished - PROCESS_START,
        "probe_seconds": probe.seconds, "probe_frames": probe.frames, "layer_timings": probe.log_timings,
        "ffmpeg_cpu_seconds": (children.ru_utime + children.ru_stime)
                              - (cpu_children_before.ru_utime + cpu_children_before.ru_stime),
        "baseline_rss_mb": baseline_mb, "after_load_rss_mb": loaded_mb,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_maxrss_mb": children.ru_maxrss / 1024,
        "stage_timings": stage_timings,
        "gifs": {layer["name"]: {k: layer["files"]["gif"].get(k) for k in ("stride", "scale", "frames", "bytes")}
                 | {"attempts": len(layer["files"]["gif"].get("attempts", []))}
                 for layer in layers if "gif" in layer.get("files", {})},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=("fit", "render"))
    parser.add_argument("--mode", choices=("bare", "recorded", "naive", "default", "toggle"))
    parser.add_argument("--block", type=int, default=5, help="toggle: steps per on/off block")
    parser.add_argument("--recorder", default="project", choices=("project", "lean"),
                        help="fit: the project's recorder, or bench/recorder_lean.py's prototype")
    parser.add_argument("--save", help="fit: also save the capture archive here (timed)")
    parser.add_argument("--capture", help="render: the capture archive to render")
    parser.add_argument("--build-dir", help="render: where the assets go")
    parser.add_argument("--gif-budget-mb", type=float, default=5.0)
    parser.add_argument("--steps", type=int, default=290)
    parser.add_argument("--dataset", default="bundled")
    parser.add_argument("--data-dir")
    parser.add_argument("--every", type=int, default=1)
    arguments = parser.parse_args(argv)
    if arguments.task == "fit" and not arguments.mode:
        parser.error("fit needs --mode")
    if arguments.task == "render" and not (arguments.capture and arguments.build_dir):
        parser.error("render needs --capture and --build-dir")
    result = run_fit(arguments) if arguments.task == "fit" else run_render(arguments)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
