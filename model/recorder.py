"""Record named layers' outputs for fixed probe images after every training step.

`ActivationRecorder` is a Keras callback for any functional model: pass it to `fit`, then call
`recorder.result()` for the steps (T,) and each layer's (T, N, H, W, C) float16 snapshots.

On the TensorFlow backend the probe forward pass runs inside the compiled train step and writes
into preallocated float16 variables with `scatter_nd_update`, so recording adds no extra function
call or host round trip per step; the buffers are read once, when training ends. Elsewhere (or
with `in_graph=False`) a compiled extractor is called after each step instead.
"""

from __future__ import annotations

import keras
import numpy as np

CONV_LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6")


class ActivationRecorder(keras.callbacks.Callback):
    """Keras callback that records named layers' outputs for fixed probe inputs during `fit`.

    It records once before the first step (step 0) and after every `every`-th step (the last step
    is always recorded). It only records: no plotting, normalising or file writing happens inside
    training.
    """

    def __init__(self, probe_images: np.ndarray, layer_names=CONV_LAYERS, total_steps: int | None = None,
                 every: int = 1, in_graph: bool | None = None):
        super().__init__()
        if every <= 0:
            raise ValueError(f"every must be a positive integer, got {every}")
        self.probe_inputs = np.asarray(probe_images, np.float32)  # (N, H, W, C) model inputs
        self.layer_names = tuple(layer_names)
        self.total_steps = total_steps
        self.every = every
        self.in_graph = keras.backend.backend() == "tensorflow" if in_graph is None else in_graph
        self.steps: list[int] = []
        self.snapshots: dict[str, np.ndarray] = {}

    def planned_steps(self) -> list[int]:
        """Return the steps that will be recorded: 0, every k-th, and the last."""
        planned = list(range(0, self.total_steps + 1, self.every))
        if planned[-1] != self.total_steps:
            planned.append(self.total_steps)
        return planned

    def on_train_begin(self, logs=None):
        """Build the extractor and buffers, record the untrained model as step 0, hook the train step."""
        if self.total_steps is None:
            self.total_steps = int(self.params["steps"]) * int(self.params["epochs"])
        self._extractor = keras.Model(inputs=self.model.inputs,
                                      outputs=[self.model.get_layer(name).output for name in self.layer_names])
        self._planned = self.planned_steps()
        self._rows = {step: row for row, step in enumerate(self._planned)}
        self._step = 0
        if self.in_graph:
            self._hook_train_step()
        else:
            self._extract = _compiled(self._extractor)
            outputs = self._extract(self.probe_inputs)
            self.snapshots = {name: np.zeros((len(self._planned), *out.shape), np.float16)  # (T, N, H, W, C)
                              for name, out in zip(self.layer_names, outputs)}
            self._store(0, outputs)

    def on_train_batch_end(self, batch, logs=None):
        """Count the step; on the per-step path, record it if the stride selects it."""
        self._step += 1
        if not self.in_graph and self._step in self._rows:
            self._store(self._step, self._extract(self.probe_inputs))

    def on_train_end(self, logs=None):
        """Unhook the train step and copy the in-graph buffers out once."""
        if not self.in_graph:
            return
        del self.model.train_step  # the instance attribute; the class's method is back
        self.model.train_function = None  # rebuilt without the hook on the next fit
        count = sum(1 for step in self._planned if step <= self._step)
        self.snapshots = {name: buffer.numpy()[:count] for name, buffer in zip(self.layer_names, self._buffers)}
        self.steps = self._planned[:count]
        self._buffers = None

    def _hook_train_step(self):
        """Wrap the model's train step so it also writes the probes' activations into variables."""
        import tensorflow as tf

        probes = tf.constant(self.probe_inputs)
        extractor = self._extractor
        first = extractor(probes, training=False)
        self._buffers = [tf.Variable(tf.zeros((len(self._planned), *out.shape), tf.float16), trainable=False)
                         for out in first]  # each (T, N, H, W, C)
        for buffer, out in zip(self._buffers, first):
            buffer[0].assign(tf.cast(out, tf.float16))
        row_of_step = np.full(self.total_steps + 1, -1, np.int32)
        row_of_step[self._planned] = np.arange(len(self._planned), dtype=np.int32)
        rows, buffers = tf.constant(row_of_step), self._buffers
        counter = tf.Variable(0, dtype=tf.int32, trainable=False)
        original = self.model.train_step
        last = self.total_steps

        def record(row):
            # Runs after the weight update: TF orders reads of a variable after earlier writes to it.
            for buffer, out in zip(buffers, extractor(probes, training=False)):
                buffer.scatter_nd_update([[row]], [tf.cast(out, tf.float16)])
            return tf.constant(True)

        def train_step_and_record(data):
            logs = original(data)
            row = tf.gather(rows, tf.minimum(counter.assign_add(1), last))
            tf.cond(row >= 0, lambda: record(row), lambda: tf.constant(False))
            return logs

        self.model.train_step = train_step_and_record
        self.model.make_train_function(force=True)

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
