"""The naive recording method the original post used, re-implemented for comparison only.

After every training step it calls `predict()` on one sub-model per conv layer, the way the
original did (it ran 9 sub-model `predict()` calls per step; this project's model has 6 conv
layers, so 6 here). The sub-models are built once, before training, which is cheaper than
rebuilding them each step: the baseline is a charitable one, so the gain reported is a floor.
"""

from __future__ import annotations

import keras
import numpy as np


class NaivePredictRecorder(keras.callbacks.Callback):
    """Record conv activations for the probes with one `Model.predict()` call per layer per step."""

    def __init__(self, probe_inputs: np.ndarray, layer_names=("conv1", "conv2", "conv3", "conv4", "conv5", "conv6"),
                 keep: bool = True):
        super().__init__()
        self.probe_inputs = np.asarray(probe_inputs, np.float32)  # (N, 28, 28, 1)
        self.layer_names = tuple(layer_names)
        self.keep = keep
        self.snapshots: dict[str, list[np.ndarray]] = {name: [] for name in self.layer_names}
        self.calls = 0

    def on_train_begin(self, logs=None):
        """Build one sub-model per conv layer and record step 0."""
        self._models = [keras.Model(self.model.inputs, self.model.get_layer(name).output)
                        for name in self.layer_names]
        self._record()

    def on_train_batch_end(self, batch, logs=None):
        """Record every layer after every step, one predict() each."""
        self._record()

    def _record(self):
        for name, sub_model in zip(self.layer_names, self._models):
            out = sub_model.predict(self.probe_inputs, verbose=0)  # (N, H, W, C) float32
            self.calls += 1
            if self.keep:
                self.snapshots[name].append(out.astype(np.float16))
