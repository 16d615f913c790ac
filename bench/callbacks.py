"""Item 1's extra callbacks: the recorder on and off in alternating blocks of one fit, and the naive baseline.

The toggle is hand-written on purpose: only inside one run do both sides share the same process, data
order and machine state, so the ratio of adjacent blocks is free of the run-to-run noise the A/B pairs have.
The naive baseline is the recording method the original post used, re-implemented for comparison only.
Keras is imported inside the functions, after bench/fit_probe.py imported TensorFlow quietly.
"""

from __future__ import annotations

import numpy as np


def naive_recorder(probe_inputs: np.ndarray, layer_names: tuple[str, ...]):
    """Return a callback that records the layers for the probes with one `Model.predict()` per layer per step.

    As the original did (it ran 9 sub-model `predict()` calls per step; this project's model has 6 conv
    layers, so 6 here). The sub-models are built once, before training, which is cheaper than rebuilding
    them each step: the baseline is a charitable one, so the gain reported is a floor.
    """
    import keras

    class NaivePredictRecorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.probe_inputs = np.asarray(probe_inputs, np.float32)  # (N, 28, 28, 1)
            self.snapshots: dict[str, list[np.ndarray]] = {name: [] for name in layer_names}
            self.calls = 0

        def on_train_begin(self, logs=None):
            self._models = [keras.Model(self.model.inputs, self.model.get_layer(name).output) for name in layer_names]
            self.record()  # step 0

        def on_train_batch_end(self, batch, logs=None):
            self.record()

        def record(self):
            for name, sub_model in zip(layer_names, self._models):
                out = sub_model.predict(self.probe_inputs, verbose=0)  # (N, H, W, C) float32
                self.calls += 1
                self.snapshots[name].append(out.astype(np.float16))

    return NaivePredictRecorder()


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

    return before, After()


def toggle_numbers(intervals: np.ndarray, swapper, block: int, steps: int, totals: dict) -> dict:
    """Return the on/off step medians and ratios of a toggle run from its step intervals."""
    # intervals[k - 1] runs from the end of step k - 1 to the end of step k; the hooked train function takes
    # step k's snapshot inside step k. The first interval holds the warm-up and is left out.
    flags = np.isin(np.arange(1, len(intervals) + 1), swapper.hooked_steps)[1:]
    later, step_of = intervals[1:], np.arange(2, len(intervals) + 1)
    on, off = later[flags], later[~flags]
    median_off = float(np.median(off))
    # Adjacent blocks compared pairwise: a slow drift of the machine's speed cancels out.
    pair_ratios = []
    for first in range(0, int(step_of.max()) // block, 2):
        on_block = later[(step_of // block == first) & flags]
        off_block = later[(step_of // block == first + 1) & ~flags]
        if on_block.size >= 2 and off_block.size >= 2:
            pair_ratios.append(float(np.median(on_block) / np.median(off_block)))
    # the recorder's one-off set-up and read-out, spread over the run
    once = (totals.get("on_train_begin", 0.0) + totals.get("on_train_end", 0.0)) / (median_off * steps)
    return {
        "toggle_paired_ratio": float(np.median(pair_ratios)) + once if pair_ratios else None,
        "toggle_pairs": len(pair_ratios), "toggle_block": block,
        "toggle_median_on_ms": float(np.median(on)) * 1e3, "toggle_median_off_ms": median_off * 1e3,
        "toggle_ratio": float(np.median(on)) / median_off + once,
    }
