"""Keras callbacks the training run uses besides ActivationRecorder: metrics, progress, stopping.

Each one records or reports only; none of them changes what the model learns.
"""

from __future__ import annotations

import sys

import keras
import numpy as np

LOSS_EPSILON = 1e-7  # keras clips probabilities to [eps, 1 - eps] in categorical cross-entropy


class BatchMetricsRecorder(keras.callbacks.Callback):
    """Record each step's own batch loss and accuracy.

    The `logs` a callback receives hold the epoch's running mean over equal-sized batches, so the
    batch's own value is recovered exactly as i * mean_i - (i - 1) * mean_(i-1) within an epoch.
    """

    def __init__(self, accuracy_key: str = "accuracy"):
        super().__init__()
        self.accuracy_key = accuracy_key  # the accuracy metric's name in the logs ("accuracy" or "acc")
        self.loss: list[float] = []
        self.accuracy: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        """Reset the running means, as Keras does at each epoch."""
        self._previous = {"loss": 0.0, "accuracy": 0.0}
        self._batches = 0

    def on_train_batch_end(self, batch, logs=None):
        """Turn the running means into this batch's own values."""
        self._batches += 1
        count = self._batches
        for key, name, store in (("loss", "loss", self.loss), ("accuracy", self.accuracy_key, self.accuracy)):
            mean = float(logs[name])
            store.append(count * mean - (count - 1) * self._previous[key])
            self._previous[key] = mean


class TestMetricsRecorder(keras.callbacks.Callback):
    """Evaluate the model on a fixed test subset at step 0 and every `every` steps (and the last)."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, every: int, total_steps: int, chunk: int = 1000,
                 loss=None, start_step: int = 0):
        super().__init__()
        self.start_step = start_step  # a resumed run's first step is start_step + 1 (start_step was measured)
        self.x_test = x_test  # (K, H, W, C) float32
        self.loss_function = loss  # see evaluate
        self.y_test = np.asarray(y_test, np.int64)  # (K,)
        self.every = every
        self.total_steps = total_steps
        self.chunk = chunk
        self.steps: list[int] = []
        self.loss: list[float] = []
        self.accuracy: list[float] = []

    def on_train_begin(self, logs=None):
        """Compile the forward pass and measure the untrained model (a resumed run: nothing yet)."""
        self._forward = compiled_forward(self.model)
        self._step = self.start_step
        if self.start_step == 0:
            self._measure(0)

    def on_train_batch_end(self, batch, logs=None):
        """Measure after every `every`-th step and after the last one."""
        self._step += 1
        if self._step % self.every == 0 or self._step == self.total_steps:
            self._measure(self._step)

    def _measure(self, step):
        loss, accuracy = evaluate(self._forward, self.x_test, self.y_test, self.chunk, loss=self.loss_function)
        self.steps.append(step)
        self.loss.append(loss)
        self.accuracy.append(accuracy)


def compiled_forward(model):
    """Return a function images -> the model's outputs (numpy), compiled once."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        forward = tf.function(lambda images: model(images, training=False), reduce_retracing=True)
        return lambda images: forward(tf.constant(images)).numpy()
    return lambda images: keras.ops.convert_to_numpy(model(images, training=False))


def evaluate(forward, images: np.ndarray, labels: np.ndarray, chunk: int = 1000, loss=None) -> tuple[float, float]:
    """Return (mean loss, argmax accuracy) of `forward` on labelled images.

    `loss` None: the article model's categorical cross-entropy of its probabilities; else a function
    (labels (K,), outputs (K, classes)) -> (K,) per-image losses, the model's own (model/user_model.py).
    """
    outputs = [forward(images[start:start + chunk]) for start in range(0, len(images), chunk)]
    if loss is not None:
        per_image = np.concatenate([loss(labels[start:start + chunk], out)
                                    for start, out in zip(range(0, len(images), chunk), outputs)])
        scores = np.concatenate(outputs)
        return float(np.mean(per_image)), float(np.mean(np.argmax(scores, axis=1) == labels))
    probabilities = np.concatenate(outputs).astype(np.float64)  # (K, classes)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], LOSS_EPSILON, 1 - LOSS_EPSILON)
    loss = float(np.mean(-np.log(picked)))
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
    return loss, accuracy


class DivergenceGuard(keras.callbacks.Callback):
    """Stop `fit` with TrainingDiverged at the first step whose batch loss or accuracy, as stored, is not finite.

    Put it right after `batches` (a BatchMetricsRecorder) in the callback list: the recorder and the test
    metrics after it then never see the step, and nothing of a diverged run is flushed after it.
    """

    def __init__(self, batches: BatchMetricsRecorder, fix: str, start_step: int = 0):
        super().__init__()
        self.batches, self.fix, self.start_step = batches, fix, start_step

    def on_train_batch_end(self, batch, logs=None):
        """Raise TrainingDiverged naming the step, the metric and the fix if this step's values are not finite."""
        from capture.value_checks import DIVERGED, TrainingDiverged, non_finite_clause

        step = self.start_step + len(self.batches.loss)
        for key, values in (("train_loss", self.batches.loss), ("train_accuracy", self.batches.accuracy)):
            with np.errstate(over="ignore"):  # the archive stores float32: a larger value is stored as infinity
                stored = np.float32(values[-1])
            clause = non_finite_clause(key, [stored], [step])
            if clause:
                raise TrainingDiverged(f"training stopped: {clause}: {DIVERGED}; {self.fix}")


class StopAtStep(keras.callbacks.Callback):
    """Stop training after exactly `total_steps` steps, mid-epoch if need be."""

    def __init__(self, total_steps: int):
        super().__init__()
        self.total_steps = total_steps
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        """Count steps and stop at the target."""
        self._step += 1
        if self._step >= self.total_steps:
            self.model.stop_training = True


class ProgressBar(keras.callbacks.Callback):
    """Show one tqdm bar over the whole run (Keras' own bar restarts every epoch), with the epoch-mean loss."""

    def __init__(self, total_steps: int, stream=sys.stderr, initial: int = 0):
        super().__init__()
        self.total_steps, self.initial = total_steps, initial
        self.stream = stream

    def on_train_begin(self, logs=None):
        """Open the bar; away from a terminal it prints a line every 10 s instead of redrawing."""
        from tqdm import tqdm

        tty = getattr(self.stream, "isatty", lambda: False)()
        self._bar = tqdm(total=self.total_steps, initial=self.initial, desc="training", unit="step", file=self.stream,
                         mininterval=0.5 if tty else 10.0, ascii=not tty)

    def on_train_batch_end(self, batch, logs=None):
        """Advance the bar by one step and show the loss."""
        self._bar.set_postfix_str(f"epoch-mean loss {float((logs or {}).get('loss', float('nan'))):.4f}",
                                  refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs=None):
        """Close the bar."""
        self.close()

    def close(self):
        """Close the bar if it is open (also when `fit` stopped with an error), so an error starts its own line."""
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.close()
            self._bar = None
