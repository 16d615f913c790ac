"""The analysis set (docs/analysis-set.md): choose it, snapshot the weights on a grid of steps, replay them after fit.

    indices = choose_analysis_set(dataset, config, dataset.probe_indices)  # stratified, seeded, no probe
    snapshots = WeightSnapshots(grid_steps(config))                        # a callback: fit(..., [snapshots])
    ... fit ...
    snapshots.finish()                                                     # the final step's weights too
    final, series = replay(model, layer_names, stored_shapes, snapshots.snapshots, inputs, counts)

The replay reads the layers' outputs as the recorder does (model/layer_tap.py, so functional, Sequential and subclassed
models all work) for the analysis images at each grid step's weights, computes capture/replay_stats.py's
statistics against the last step and the previous grid step, and puts the final weights back exactly. It
holds three sets of activations of every recorded layer at a time (the final, the previous and this step's).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from capture.analysis_record import AnalysisRecord
from capture.bootstrap import STREAM, resample_counts
from capture.replay_stats import step_series
from model.data_arrays import display_images
from model.layer_tap import LayerTap, as_probe_inputs
from pipeline.blas_threads import one_blas_thread

GRID_POINTS = 32  # the automatic grid's most points: a replay each (~0.15 s for the default run on 2 cores), which
# keeps the replay near a fifth of the fit's time there; a finer grid is one --set analysis_every=K away
REPLAY_BATCH = 256  # analysis images per forward pass of the replay
STATS_THREADS = 2  # layers whose statistics are computed at once (this machine's cores; each on one BLAS thread)


def grid_every(config) -> int:
    """Return the grid's stride: analysis_every, or the smallest multiple of capture_every giving <= ~32 points."""
    if config.analysis_every:
        return int(config.analysis_every)
    wanted = math.ceil(config.steps / GRID_POINTS)
    return config.capture_every * math.ceil(wanted / config.capture_every)  # grid steps are recorded steps


def grid_steps(config) -> list[int]:
    """Return the planned grid: 0, every grid_every-th step, and the last step."""
    steps = list(range(0, config.steps + 1, grid_every(config)))
    return steps if steps[-1] == config.steps else [*steps, config.steps]


def choose_analysis_set(dataset, config, probe_indices) -> np.ndarray:
    """Return config.analysis_images test-set indices (ascending), an equal share per class, none a probe."""
    labels = np.asarray(dataset.y_test).astype(np.int64)
    candidates = np.setdiff1d(np.arange(len(labels)), np.asarray(probe_indices, np.int64))
    wanted = config.analysis_images
    if wanted >= len(candidates):
        return candidates.astype(np.int32)
    rng = np.random.default_rng([config.seed, STREAM, 1])  # another stream than the bootstrap's
    by_class = {label: rng.permutation(candidates[labels[candidates] == label]) for label in np.unique(labels)}
    taken = dict.fromkeys(by_class, 0)
    left = wanted
    while left:
        open_classes = [label for label in by_class if taken[label] < len(by_class[label])]
        share = left // len(open_classes)
        if share == 0:  # the remainder: one more each to the classes with the most images left
            for label in sorted(open_classes, key=lambda label: (taken[label] - len(by_class[label]), label))[:left]:
                taken[label] += 1
            break
        for label in open_classes:
            more = min(share, len(by_class[label]) - taken[label])
            taken[label], left = taken[label] + more, left - more
    return np.sort(np.concatenate([by_class[label][:taken[label]] for label in by_class])).astype(np.int32)


class WeightSnapshots(keras.callbacks.Callback):
    """Keep a copy of the model's weights at the grid's steps (step 0: before training; s: after the s-th step).

    `kept`: the snapshots a resumed run made before it stopped (capture/partial.py read_weight_snapshots).
    A step the fit runs over (steps_per_execution > 1) is snapshotted at the first step it sees after it,
    labelled with that real step.
    """

    def __init__(self, grid, start_step: int = 0, kept: dict | None = None):
        super().__init__()
        self.grid, self.start_step = sorted(int(step) for step in grid), int(start_step)
        self.snapshots: dict[int, list[np.ndarray]] = dict(kept or {})
        self._pending = [step for step in self.grid if step > self.start_step or step == self.start_step == 0]

    def on_train_begin(self, logs=None):
        """Snapshot the untrained model as step 0 (a resumed run has its own from before)."""
        if self._pending and self._pending[0] == 0:
            self._take(0)

    def on_train_batch_end(self, batch, logs=None):
        """Snapshot when the model has passed the next grid step."""
        if self._pending:
            step = int(self.model.optimizer.iterations.numpy())
            if step >= self._pending[0]:
                self._take(step)

    def finish(self, model=None) -> None:
        """Snapshot the final weights when the fit ended off the grid (or took no step)."""
        model = model or self.model
        step = int(model.optimizer.iterations.numpy())
        if step not in self.snapshots:
            self.snapshots[step] = _copied(model)
        self._pending = []

    def between(self, after: int, upto: int) -> dict[int, list[np.ndarray]]:
        """Return the snapshots of steps after < step <= upto (what the chunk writer saves with a checkpoint)."""
        return {step: weights for step, weights in sorted(self.snapshots.items()) if after < step <= upto}

    def _take(self, step: int) -> None:
        self.snapshots[step] = _copied(self.model)
        self._pending = [planned for planned in self._pending if planned > step]


class Replayer:
    """The recorder's LayerTap for `layer_names` on `model`, run on any inputs in batches (a context manager)."""

    def __init__(self, model, layer_names, stored_shapes: dict, example_inputs: np.ndarray):
        self.stored_shapes = stored_shapes
        # the hooked path (subclassed models) wraps layers' calls until close()
        self._tap = LayerTap(model, list(layer_names), as_probe_inputs(example_inputs[:REPLAY_BATCH]))
        self._extract = self._tap.compiled()

    def activations(self, inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Return each layer's (n, H, W, C) float32 outputs for `inputs`, with the model's weights as they are."""
        parts = [self._extract(inputs[start:start + REPLAY_BATCH]) for start in range(0, len(inputs), REPLAY_BATCH)]
        return {name: np.concatenate([np.asarray(part[index], np.float32) for part in parts]).reshape(
                    len(inputs), *self.stored_shapes[name])
                for index, name in enumerate(self._tap.layer_names)}

    def close(self) -> None:
        """Put the hooked layers' own `call` back."""
        self._tap.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def replay(model, layer_names, stored_shapes: dict, snapshots: dict, inputs: np.ndarray,
           counts: np.ndarray) -> tuple[dict, dict]:
    """Return the final (A, H, W, C) float16 activations and every layer's series over the snapshots' steps.

    The model's weights must be the last snapshot's; they are put back exactly afterwards.
    """
    steps = sorted(snapshots)
    with one_blas_thread():
        return _replay(model, layer_names, stored_shapes, snapshots, inputs, counts, steps)


def _replay(model, layer_names, stored_shapes, snapshots, inputs, counts, steps):
    final_weights = model.get_weights()
    if not _equal(final_weights, snapshots[steps[-1]]):
        raise ValueError(f"the model's weights are not its snapshot of the last step {steps[-1]}")
    with Replayer(model, layer_names, stored_shapes, inputs) as replayer, \
            ThreadPoolExecutor(max_workers=STATS_THREADS) as pool:
        final = replayer.activations(inputs)  # first, with the final weights
        series = step_series(final, counts, len(steps))

        def add_all(activations: dict) -> None:
            # The layers' statistics are independent and mostly numpy calls that release the GIL: two at a time.
            list(pool.map(lambda name: series[name].add(activations[name]), series))

        try:
            for step in steps[:-1]:
                model.set_weights(snapshots[step])
                current = replayer.activations(inputs)
                add_all(current)
                del current  # the series keep it as the previous step's; no fourth copy
            add_all(final)  # the last step's weights are the final ones
        finally:
            model.set_weights(final_weights)
    if not _equal(model.get_weights(), snapshots[steps[-1]]):
        raise AssertionError("the replay did not restore the model's final weights exactly")
    return ({name: values.astype(np.float16) for name, values in final.items()},
            {name: layer.series for name, layer in series.items()})


def measure(model, setup, dataset, config, indices: np.ndarray, inputs: np.ndarray,
            snapshots: dict) -> tuple[AnalysisRecord, dict]:
    """Replay the snapshots on the analysis images; return the AnalysisRecord and meta["analysis"]."""
    counts = resample_counts(config.seed, len(indices), config.bootstrap)
    final, series = replay(model, setup.recorded, setup.stored_shapes, snapshots, inputs, counts)
    labels = np.asarray(dataset.y_test[indices], np.int32)
    record = AnalysisRecord(indices=np.asarray(indices, np.int32), images=display_images(dataset.x_test[indices]),
                            labels=labels, steps=np.array(sorted(snapshots), np.int32), resamples=config.bootstrap,
                            seed=config.seed, final=final, series=series)
    about = {"images": len(indices), "resamples": config.bootstrap, "seed": config.seed,
             "per_class": np.bincount(labels, minlength=len(dataset.class_names)).tolist(),
             "grid_every": grid_every(config)}
    return record, about


def skipped_reason(config, dataset) -> str | None:
    """Say why this run measures on the probes instead of an analysis set, or return None."""
    from pipeline.config import MIN_ANALYSIS_IMAGES

    if config.analysis_images == 0:
        return "analysis_images is 0"
    if config.strategy == "multiworker":
        return "several workers train it (the replay runs on one machine only)"
    if len(dataset.x_test) - len(dataset.probe_indices) < MIN_ANALYSIS_IMAGES:
        return f"the test set has fewer than {MIN_ANALYSIS_IMAGES} images besides the probes"
    return None


def _copied(model) -> list[np.ndarray]:
    """Return copies of the model's weights (float32 as its variables are), owning their memory."""
    return [np.array(weights, copy=True) for weights in model.get_weights()]


def _equal(left: list, right: list) -> bool:
    return len(left) == len(right) and all(np.array_equal(a, b) for a, b in zip(left, right))
