"""Record named layers' outputs for fixed probe inputs after every training step.

`ActivationRecorder` is a Keras callback: pass it to `fit`, then call `recorder.result()` for the
recorded steps (T,) and each layer's (T, N, ...) float16 snapshots, where snapshot k is what
`model(probes, training=False)` computes inside that layer after step k (step 0: before training).
Keras and numpy only (TensorFlow is imported when the TensorFlow backend is used); how it reaches the
layers (a sub-model, or hooks on their `call`) is model/layer_tap.py's, so the two files, copied into a
folder `model/` beside a notebook, are all it needs::

    import keras, numpy as np
    from model.recorder import ActivationRecorder

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(10, name="head")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.random.rand(256, 28, 28, 1).astype("float32"), np.random.randint(0, 10, 256)
    recorder = ActivationRecorder(x[:5], ["conv", "head"])  # or one name: "conv"; nested: "block1/conv"
    model.fit(x, y, batch_size=32, epochs=2, callbacks=[recorder], verbose=0)
    steps, activations = recorder.result()  # steps: 0..16; activations["conv"].shape == (17, 5, 26, 26, 4)

What it records on:
- functional, Sequential and subclassed models (a subclassed model, or a layer inside a sub-model
  named "outer/inner", is recorded by hooking the layer's `call` during the probes' forward pass);
- probes as one array, or a list or dict of arrays for a model with several inputs;
- one or many layers whose call returns one tensor of any rank (the layer must run once per forward pass);
- `steps_per_execution`, a custom `train_step`, `jit_compile`, `tf.distribute` strategies (the
  in-graph path below), inputs of unknown length, and repeated `fit` calls (each starts at step 0,
  or at `start_step` for a run resumed from a checkpoint).

Long runs: pass `sink=callable(steps, snapshots)` and it is handed each `flush_every` snapshots
(steps (k,), {name: (k, N, ...) float16}, k <= flush_every) as soon as they are recorded, and the
rest when training ends, so the recorder's memory does not grow with the run; `result()` then
holds only what was not handed over (nothing). capture/chunk_writer.py writes them to disk that way.

Steps are true optimizer steps. It records step 0, every `every`-th step up to `total_steps` (by
default the `fit` call's epochs x steps per epoch) and always the final state, labelled with its
real step, also when the run ends before or after `total_steps`. A run that goes past `total_steps`
keeps training (an estimate is fine, and stopping someone's fit over a recording plan would lose it);
the stride's steps between `total_steps` and the final one are not recorded, and `fit`'s end says
which, once, as a `RecorderWarning`. Where it cannot record exactly it raises `RecorderError` at the
start of `fit`, saying what is supported.

On the TensorFlow backend the probe forward pass runs inside the compiled train step and writes
into preallocated float16 variables, so recording adds no extra function call or host round trip
per step; the buffers are read once, when training ends (with a sink: a ring of flush_every plus
steps_per_execution rows, read at each flush). Elsewhere (or with `in_graph=False`) a
compiled extractor is called after each step instead; that path needs `steps_per_execution=1`.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from model.layer_tap import LayerTap, RecorderError, as_probe_inputs, probe_tensors, refuse

__all__ = ["CONV_LAYERS", "ActivationRecorder", "RecorderError", "RecorderWarning"]  # RecorderError: layer_tap's

CONV_LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6")


class RecorderWarning(UserWarning):
    """The recorder kept going but left steps out (a fit that ran past `total_steps`)."""


class ActivationRecorder(keras.callbacks.Callback):
    """Keras callback that records named layers' outputs for fixed probe inputs during `fit`.

    It records once before the first step (step 0), after every `every`-th step up to
    `total_steps`, and the final state. It only records: no plotting, normalising or file writing
    happens inside training.
    """

    def __init__(self, probe_images, layer_names=CONV_LAYERS, total_steps: int | None = None,
                 every: int = 1, in_graph: bool | None = None, sink=None, flush_every: int = 64,
                 start_step: int = 0):
        super().__init__()
        for name, value in (("flush_every", flush_every), ("start_step", start_step)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < (name == "flush_every"):
                raise ValueError(f"{name} must be a {'positive' if name == 'flush_every' else 'non-negative'} "
                                 f"integer, got {value!r}")
        if sink is not None and not callable(sink):
            raise ValueError(f"sink must be a callable (steps, snapshots) or None, got {sink!r}")
        if not isinstance(every, (int, np.integer)) or isinstance(every, bool) or every <= 0:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if total_steps is not None and (not isinstance(total_steps, (int, np.integer)) or total_steps < 0):
            raise ValueError(f"total_steps must be a non-negative integer or None, got {total_steps!r}")
        names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
        if not names or not all(isinstance(name, str) and name for name in names):
            raise ValueError(f"layer_names must be one layer name or a sequence of names, got {layer_names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"layer_names repeats a name: {names}")
        self.probe_inputs = as_probe_inputs(probe_images)  # (N, ...) model inputs, or a list/dict of them
        self.layer_names = names
        self.total_steps = total_steps
        self.every = int(every)
        # the path it will take (on_train_begin settles it: an input of unknown length takes the per-step path)
        self.in_graph = keras.backend.backend() == "tensorflow" if in_graph is None else in_graph
        self._given_total, self._given_in_graph = total_steps, in_graph
        self.sink, self.flush_every, self.start_step = sink, int(flush_every), int(start_step)
        self.steps: list[int] = []
        self.snapshots: dict[str, np.ndarray] = {}

    def planned_steps(self) -> list[int]:
        """Return the steps that will be recorded: 0, every k-th, and the last."""
        planned = list(range(0, self.total_steps + 1, self.every))
        if planned[-1] != self.total_steps:
            planned.append(self.total_steps)
        return planned

    def on_train_begin(self, logs=None):
        """Check what can be recorded, build the extractor, record the untrained model as step 0."""
        tensorflow = keras.backend.backend() == "tensorflow"
        spe = int(getattr(self.model, "steps_per_execution", 1) or 1)
        fit_steps = _fit_steps(self.params)
        self.total_steps = self._given_total if self._given_total is not None else (
            None if fit_steps is None else self.start_step + fit_steps)
        if self._given_in_graph and not tensorflow:
            refuse(f"in_graph=True needs the TensorFlow backend (this is {keras.backend.backend()}); "
                    "use in_graph=False with steps_per_execution=1")
        if self.total_steps is None and (self._given_in_graph or spe > 1):
            refuse("the number of steps is unknown (an input of unknown length): pass total_steps=... "
                    "(an estimate is fine), or use in_graph=False with steps_per_execution=1")
        self.in_graph = self._given_in_graph if self._given_in_graph is not None else (
            tensorflow and self.total_steps is not None)
        if not self.in_graph and spe > 1:
            refuse(f"steps_per_execution={spe} runs {spe} steps per callback, so the per-step path "
                    "(in_graph=False) cannot see them: compile with steps_per_execution=1, or use "
                    "in_graph=True (TensorFlow backend)")
        self._tap = LayerTap(self.model, self.layer_names, self.probe_inputs)  # refuses what it cannot record
        self._extractor = self._tap
        start = self.start_step
        self._planned = ([step for step in self.planned_steps() if step > start or start == 0]
                         if self.total_steps is not None else None)
        self._rows = {step: row for row, step in enumerate(self._planned)} if self._planned else {}
        self._step = self._last = start
        self._flushed = 0  # in-graph rows already handed to the sink
        self.steps, self._values = [], {name: [] for name in self.layer_names}
        if self.in_graph:
            self._hook_train_step(spe)
        else:
            self._extract = self._tap.compiled()
            if start == 0:
                self._store(0, self._extract(self.probe_inputs))

    def on_train_batch_end(self, batch, logs=None):
        """Count the step; on the per-step path, record it if the stride selects it; hand full chunks to the sink."""
        self._step += 1
        if not self.in_graph and (self._step in self._rows if self._planned is not None
                                  else self._step % self.every == 0):
            self._store(self._step, self._extract(self.probe_inputs))
        if self.sink is None:
            return
        if self.in_graph:
            self._drain_ring(int(self._counter.numpy()), final=False)
        elif len(self.steps) >= self.flush_every:
            self._hand_pending()

    def on_train_end(self, logs=None):
        """Unhook, copy the in-graph buffers out, record the final state if no step held it, hand the rest over."""
        if self.in_graph:
            del self.model.train_step  # the instance attribute; the class's method is back
            self.model.train_function = None  # rebuilt without the hook on the next fit
            done = int(self._counter.numpy())  # train steps really run (all of each execution, every replica once)
            self._drain_ring(done, final=True)
            self._buffers = self._counter = None
        else:
            done = self._step
            if self._last != done:
                self._store(done, self._extract(self.probe_inputs))
            if self.sink is not None:
                self._hand_pending()
            self.snapshots = {name: np.stack(values) if values else np.zeros((0,), np.float16)
                              for name, values in self._values.items()}
            self._values = {}
        self._unhook()
        self._warn_dropped(done)

    def _warn_dropped(self, done: int):
        """Say once which of the stride's steps past `total_steps` (before the final one) were not recorded."""
        if self._planned is None or done <= self.total_steps:
            return
        first = (self.total_steps // self.every + 1) * self.every  # the stride's first step past the plan
        dropped = [step for step in range(first, done, self.every) if step > self.start_step]
        if not dropped:
            return
        listed = ", ".join(map(str, dropped)) if len(dropped) <= 4 else \
            f"{dropped[0]}, {dropped[1]}, ..., {dropped[-1]} ({len(dropped)} steps)"
        warnings.warn(f"ActivationRecorder: the fit ran to step {done}, past total_steps={self.total_steps}: steps "
                      f"{listed} were not recorded (the final step {done} was); pass total_steps={done} or None "
                      f"(the fit's own length) to record them", RecorderWarning, stacklevel=2)

    def _drain_ring(self, done: int, final: bool):
        """Copy the recorded rows not yet taken out of the in-graph ring; hand them on (or keep them, no sink)."""
        count = sum(1 for step in self._planned if step <= done)
        if not final:  # whole chunks only; the rest stays in the ring for the next flush
            count = self._flushed + (count - self._flushed) // self.flush_every * self.flush_every
            if count == self._flushed:
                return
        ring = [buffer.numpy() for buffer in self._buffers]
        rows = np.arange(self._flushed, count) % len(ring[0])
        steps = list(self._planned[self._flushed:count])
        values = {name: buffer[rows] for name, buffer in zip(self.layer_names, ring)}
        self._flushed = count
        self._last = steps[-1] if steps else self._last
        if final and self._last != done:  # ended off the stride, or past total_steps
            outs = [keras.ops.convert_to_numpy(out).astype(np.float16)
                    for out in self._extractor(probe_tensors(self.probe_inputs), training=False)]
            values = {name: np.concatenate([values[name], out[np.newaxis]])
                      for name, out in zip(self.layer_names, outs)}
            steps, self._last = [*steps, done], done
        if self.sink is None:
            self.steps, self.snapshots = steps, values
        else:
            self._hand(steps, values)

    def _hand_pending(self):
        """Hand the per-step path's stored snapshots to the sink, in chunks of flush_every."""
        self._hand(self.steps, {name: np.stack(values) for name, values in self._values.items()} if self.steps
                   else {})
        self.steps, self._values = [], {name: [] for name in self.layer_names}

    def _hand(self, steps, values):
        for start in range(0, len(steps), self.flush_every):
            self.sink(np.array(steps[start:start + self.flush_every], np.int32),
                      {name: array[start:start + self.flush_every] for name, array in values.items()})

    def _unhook(self):
        """Put the hooked layers' own `call` methods back."""
        if getattr(self, "_tap", None) is not None:
            self._tap.close()

    def _hook_train_step(self, steps_per_execution: int = 1):
        """Wrap the model's train step so it also writes the probes' activations into variables."""
        import tensorflow as tf

        probes = probe_tensors(self.probe_inputs)
        extractor = self._extractor
        first = self._tap.first
        strategy = self.model.distribute_strategy
        rows_total = len(self._planned)
        # With a sink the buffers are a ring: a flush takes whole chunks out after an execution, which may
        # have added up to steps_per_execution rows to the flush_every - 1 still waiting.
        ring = rows_total if self.sink is None else min(rows_total, self.flush_every + steps_per_execution)
        starts_at_zero = self._planned[0] == 0
        # Under a strategy these are mirrored variables with no aggregation: each replica writes its own copy
        # (the same values, as the weights are mirrored) with no cross-replica call, and counts its own
        # steps; reading them after training gives replica 0's copy.
        with strategy.scope():
            self._buffers = [
                tf.Variable(tf.concat([tf.cast(out, tf.float16)[tf.newaxis],
                                       tf.zeros((ring - 1, *out.shape), tf.float16)], axis=0)
                            if starts_at_zero else tf.zeros((ring, *out.shape), tf.float16),
                            trainable=False)
                for out in first]  # each (ring, N, ...); row 0 holds step 0 in a run from the start
            self._counter = tf.Variable(self.start_step, dtype=tf.int32, trainable=False)
        distributed = isinstance(self._counter, tf.distribute.DistributedValues)
        row_of_step = np.full(self.total_steps + 2, -1, np.int32)  # the last entry: any step past total_steps
        row_of_step[self._planned] = np.arange(rows_total, dtype=np.int32) % ring
        rows, buffers, counter = tf.constant(row_of_step), self._buffers, self._counter
        original = self.model.train_step
        past = self.total_steps + 1

        def record(row):
            # Runs after the weight update: TF orders reads of a variable after earlier writes to it.
            for buffer, out in zip(buffers, extractor(probes, training=False)):
                if distributed:  # mirrored variables take row updates as IndexedSlices
                    buffer.scatter_update(tf.IndexedSlices(tf.cast(out, tf.float16)[tf.newaxis], row[tf.newaxis]))
                else:
                    buffer.scatter_nd_update([[row]], [tf.cast(out, tf.float16)])
            return tf.constant(True)

        def train_step_and_record(data):
            logs = original(data)
            with tf.control_dependencies(tf.nest.flatten(data)[:1]):  # not counted if the input ran out
                step = counter.assign_add(1)
            row = tf.gather(rows, tf.minimum(step, past))
            tf.cond(row >= 0, lambda: record(row), lambda: tf.constant(False))
            return logs

        self.model.train_step = train_step_and_record
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:  # else the step's first trace creates its variables,
            with strategy.scope():  # and TensorFlow traces the step a second time
                optimizer.build(self.model.trainable_variables)
        self.model.make_train_function(force=True)

    def _store(self, step, outputs):
        for name, out in zip(self.layer_names, outputs):
            self._values[name].append(np.asarray(out).astype(np.float16))
        self.steps.append(step)
        self._last = step

    def result(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return the recorded steps (T,) and each layer's (T, N, ...) snapshots (with a sink: none are left)."""
        count = len(self.steps)
        return np.array(self.steps, np.int32), {name: values[:count] for name, values in self.snapshots.items()}



def _fit_steps(params) -> int | None:
    """Return epochs x steps per epoch of this `fit`, or None for an input of unknown length."""
    steps, epochs = (params or {}).get("steps"), (params or {}).get("epochs")
    return None if steps is None or epochs is None else int(steps) * int(epochs)
