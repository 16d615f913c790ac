"""Record named layers' outputs for fixed probe images after every training step.

`ActivationRecorder` is a Keras callback for any functional model: pass it to `fit`, then call
`recorder.result()` for the steps (T,) and each layer's (T, N, H, W, C) float16 snapshots.
"""

from __future__ import annotations

import keras
import numpy as np


class ActivationRecorder(keras.callbacks.Callback):
    """Keras callback that records named layers' outputs for fixed probe inputs during `fit`.

    It records once before the first step (step 0) and after every `every`-th step (the last step
    is always recorded), into preallocated float16 buffers. It only records: no plotting,
    normalising or file writing happens inside training.
    """

    def __init__(self, probe_images: np.ndarray, layer_names=("conv1", "conv2", "conv3", "conv4", "conv5", "conv6"),
                 total_steps: int | None = None, every: int = 1):
        super().__init__()
        if every <= 0:
            raise ValueError(f"every must be a positive integer, got {every}")
        self.probe_inputs = np.asarray(probe_images, np.float32)  # (N, H, W, C) model inputs
        self.layer_names = tuple(layer_names)
        self.total_steps = total_steps
        self.every = every
        self.steps: list[int] = []
        self.snapshots: dict[str, np.ndarray] = {}
        self._step = 0
        self._extract = None

    def planned_steps(self) -> list[int]:
        """Return the steps that will be recorded: 0, every k-th, and the last."""
        planned = list(range(0, self.total_steps + 1, self.every))
        if planned[-1] != self.total_steps:
            planned.append(self.total_steps)
        return planned

    def on_train_begin(self, logs=None):
        """Build the extractor and buffers, and record the untrained model as step 0."""
        if self.total_steps is None:
            self.total_steps = int(self.params["steps"]) * int(self.params["epochs"])
        extractor = keras.Model(inputs=self.model.inputs,
                                outputs=[self.model.get_layer(name).output for name in self.layer_names])
        self._extract = _compiled(extractor)
        self._rows = {step: row for row, step in enumerate(self.planned_steps())}
        outputs = self._extract(self.probe_inputs)
        self.snapshots = {name: np.zeros((len(self._rows), *out.shape), np.float16)  # (T, N, H, W, C)
                          for name, out in zip(self.layer_names, outputs)}
        self.steps = []
        self._step = 0
        self._store(0, outputs)

    def on_train_batch_end(self, batch, logs=None):
        """Record after each step that the stride selects."""
        self._step += 1
        if self._step in self._rows:
            self._store(self._step, self._extract(self.probe_inputs))

    def _store(self, step, outputs):
        row = self._rows[step]
        for name, out in zip(self.layer_names, outputs):
            self.snapshots[name][row] = np.asarray(out)
        self.steps.append(step)

    def result(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return the recorded steps (T,) and each layer's (T, N, H, W, C) snapshots."""
        count = len(self.steps)
        return np.array(self.steps, np.int32), {name: values[:count] for name, values in self.snapshots.items()}


def _compiled(extractor):
    """Wrap a model call in tf.function on the TensorFlow backend (eager calls cost ~15% of a step)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        probe_call = tf.function(lambda inputs: extractor(inputs, training=False), reduce_retracing=True)
        return lambda inputs: [out.numpy() for out in probe_call(tf.constant(inputs))]
    return lambda inputs: [keras.ops.convert_to_numpy(out) for out in extractor(inputs, training=False)]
