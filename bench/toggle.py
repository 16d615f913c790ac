"""Item 1's in-run cross-check: the recorder on and off in alternating blocks of steps of one fit.

Hand-written on purpose: only inside one run do both sides share the same process, data order and
machine state, so the ratio of adjacent blocks is free of the run-to-run noise the A/B pairs have.
"""

from __future__ import annotations

import numpy as np


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

    return before, After()


def toggle_numbers(intervals: np.ndarray, toggle, swapper, block: int, steps: int, totals: dict) -> dict:
    """Return the on/off step medians and ratios of a toggle run from its step intervals."""
    # intervals[k - 1] runs from the end of step k - 1 to the end of step k. In the compiled train step
    # the snapshot of step k is taken inside step k; on the per-step path, in step k's callbacks, which
    # run after the timer's stamp, so inside the next interval.
    if swapper is not None:  # the hooked train function ran these steps
        planned, shift = set(swapper.hooked_steps), 0
    else:
        planned, shift = set(toggle.planned_steps()), 1
    flags = np.array([(k - shift) in planned and (k - shift) >= 1 for k in range(1, len(intervals) + 1)])
    on, off = intervals[1:][flags[1:]], intervals[1:][~flags[1:]]  # the first interval holds the warm-up
    median_off = float(np.median(off))
    # Adjacent blocks compared pairwise: a slow drift of the machine's speed cancels out.
    steps_of = np.arange(1, len(intervals) + 1) - shift
    pair_ratios = []
    for first in range(0, int(steps_of.max()) // block, 2):
        on_block = intervals[1:][(steps_of[1:] // block == first) & flags[1:]]
        off_block = intervals[1:][(steps_of[1:] // block == first + 1) & ~flags[1:]]
        if on_block.size >= 2 and off_block.size >= 2:
            pair_ratios.append(float(np.median(on_block) / np.median(off_block)))
    # the recorder's one-off set-up and read-out, spread over the run
    once = (totals.get("on_train_begin", 0.0) + totals.get("on_train_end", 0.0)) / (median_off * steps)
    return {
        "toggle_paired_ratio": float(np.median(pair_ratios)) + once if pair_ratios else None,
        "toggle_pairs": len(pair_ratios),
        "toggle_in_graph": bool(getattr(toggle, "in_graph", False)),
        "toggle_block": block, "toggle_on": int(on.size), "toggle_off": int(off.size),
        "toggle_median_on_ms": float(np.median(on)) * 1e3, "toggle_median_off_ms": median_off * 1e3,
        "toggle_ratio": float(np.median(on)) / median_off + once,
    }
