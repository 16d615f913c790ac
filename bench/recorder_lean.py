"""A leaner in-graph recorder, prototyped here to measure a proposed change to model/recorder.py.

The project's recorder (model.recorder.ActivationRecorder, TensorFlow path) adds to each train step:
a `tf.gather` of the row, a `tf.cond`, the probes' forward pass, six casts and six
`scatter_nd_update`s into six float16 variables. This variant keeps one flat float16 variable
(T, sum of the layers' sizes) and, when every step is recorded (the default), writes row = step
unconditionally: one concat and one scatter per step, no gather and no cond. At the end the flat
buffer is split into the same (T, N, H, W, C) arrays, so the capture is bit-identical (checked by
`python bench/recorder_lean.py`). Not used by `make site`; bench/worker.py runs it with
`--recorder lean`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # model.recorder imports keras, and keras TensorFlow
from model.recorder import ActivationRecorder


class LeanRecorder(ActivationRecorder):
    """ActivationRecorder with one flat buffer and no per-step branch when every step is recorded."""

    def _hook_train_step(self):
        import tensorflow as tf

        probes = tf.constant(self.probe_inputs)
        extractor = self._extractor
        first = extractor(probes, training=False)
        self._shapes = [tuple(int(d) for d in out.shape) for out in first]
        width = sum(int(np.prod(shape)) for shape in self._shapes)

        def flat(outputs):
            return tf.concat([tf.reshape(tf.cast(out, tf.float16), [-1]) for out in outputs], axis=0)

        self._flat = tf.Variable(tf.zeros((len(self._planned), width), tf.float16), trainable=False)
        self._flat[0].assign(flat(first))
        counter = tf.Variable(0, dtype=tf.int32, trainable=False)
        buffer, original, last = self._flat, self.model.train_step, self.total_steps
        every_step = self._planned == list(range(self.total_steps + 1))
        if not every_step:
            row_of_step = np.full(self.total_steps + 1, -1, np.int32)
            row_of_step[self._planned] = np.arange(len(self._planned), dtype=np.int32)
            rows = tf.constant(row_of_step)

        def record(row):
            buffer.scatter_nd_update([[row]], [flat(extractor(probes, training=False))])
            return tf.constant(True)

        def train_step_and_record(data):
            logs = original(data)
            step = tf.minimum(counter.assign_add(1), last)
            if every_step:  # row = step: no look-up, no branch
                record(step)
            else:
                row = tf.gather(rows, step)
                tf.cond(row >= 0, lambda: record(row), lambda: tf.constant(False))
            return logs

        self.model.train_step = train_step_and_record
        self.model.make_train_function(force=True)

    def on_train_end(self, logs=None):
        if not self.in_graph:
            return super().on_train_end(logs)
        del self.model.train_step
        self.model.train_function = None
        count = sum(1 for step in self._planned if step <= self._step)
        values = self._flat.numpy()[:count]  # (count, width)
        self.snapshots, start = {}, 0
        for name, shape in zip(self.layer_names, self._shapes):
            size = int(np.prod(shape))
            self.snapshots[name] = values[:, start:start + size].reshape(count, *shape)
            start += size
        self.steps = self._planned[:count]
        self._flat = None


def main() -> int:
    """Train 30 steps with each recorder from the same seed and compare the snapshots bit for bit."""
    import model.train as train_module
    from model.config import Config
    from model.data import load_dataset

    config = Config.from_overrides({"dataset": "bundled", "steps": 30})
    dataset = load_dataset(config)
    captures = {}
    for name, recorder in (("project", ActivationRecorder), ("lean", LeanRecorder)):
        train_module.ActivationRecorder = recorder
        captures[name], _, _ = train_module.train(config, dataset, progress=False, evaluate_test=False)
    a, b = captures["project"], captures["lean"]
    same = list(a.steps) == list(b.steps) and all(
        np.array_equal(a.activations[n].view(np.uint16), b.activations[n].view(np.uint16)) for n in a.activations)
    print(f"snapshots {len(a.steps)}; identical bits: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
