"""The tiny models, data and checks that tests/test_recorder_any_model.py trains with ActivationRecorder, shared
with tests/test_recorder_strategy.py's child process (which runs some of them under MirroredStrategy).

Random data on purpose (the numbers mean nothing): 64 images of 8x8, three classes, batches of 16 for two epochs.
`check_snapshots` compares snapshot k with a fresh forward pass (`training=False`) of the model holding step k's
weights, logged by `WeightLog`.
"""

from __future__ import annotations

import numpy as np

from model.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402 - after TensorFlow is imported quietly

X = np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)
V = np.random.default_rng(1).random((64, 5), dtype=np.float32)
Y = np.random.default_rng(2).integers(0, 3, 64)
PROBES = X[:3]
STEPS_PER_EPOCH, EPOCHS = 4, 2  # batch 16 of 64 images
LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


class WeightLog(keras.callbacks.Callback):
    """The model's weights at the start and after every callback step (every train step when steps_per_execution=1)."""

    def on_train_begin(self, logs=None):
        self.weights = [self.model.get_weights()]

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())


def compile_model(model, **options):
    model.compile(keras.optimizers.Adam(0.05), LOSS, **options)
    return model


def conv_model(**options):
    """Functional: conv, batch norm, dropout, dense head."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="tanh", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Dropout(0.3)(keras.layers.Flatten()(x))
    return compile_model(keras.Model(inputs, keras.layers.Dense(3, name="head")(x)), **options)


def functional_reference(names, probes=PROBES):
    def reference(model):
        extractor = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
        outputs = extractor(probes, training=False)
        return dict(zip(names, outputs if isinstance(outputs, (list, tuple)) else [outputs]))

    return reference


def check_snapshots(recorder, model, weights, reference, steps):
    """Snapshot k equals `reference(model)` with the weights of step k; the labels are `steps`."""
    recorded_steps, activations = recorder.result()
    assert recorded_steps.tolist() == steps
    final = model.get_weights()
    expected_by_step = {}
    for step in sorted(set(steps) | {0, 1}):
        model.set_weights(weights[step])
        expected_by_step[step] = {name: keras.ops.convert_to_numpy(out) for name, out in reference(model).items()}
    model.set_weights(final)
    for name in activations:
        assert activations[name].dtype == np.float16
        assert activations[name].shape == (len(steps), *expected_by_step[0][name].shape), name
        for row, step in enumerate(steps):
            np.testing.assert_allclose(activations[name][row].astype(np.float32), expected_by_step[step][name],
                                       atol=2e-3, rtol=2e-3, err_msg=f"{name} at step {step}")
        # one step moves the outputs well past the tolerance, so a wrong label would show
        assert np.abs(expected_by_step[1][name] - expected_by_step[0][name]).max() > 2e-2, name


def final_weights_without_recorder(build, fit):
    model = build()
    fit(model, [])
    return model.get_weights()


def fit_arrays(model, callbacks, **options):
    model.fit(X, Y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=callbacks, **options)


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(4, 3, activation="tanh", name="conv")
        self.norm = keras.layers.BatchNormalization(name="norm")

    def call(self, x, training=False):
        return self.norm(self.conv(x), training=training)


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.block = Block(name="block")
        self.flatten = keras.layers.Flatten()
        self.head = keras.layers.Dense(3, name="head")

    def call(self, x, training=False):
        return self.head(self.flatten(self.block(x, training=training)))


def subclassed_model(**options):
    keras.utils.set_random_seed(7)
    return compile_model(Net(), **options)


def subclassed_reference(model):
    conv = model.block.conv(PROBES)
    block = model.block(PROBES, training=False)
    return {"block/conv": conv, "block": block, "head": model.head(model.flatten(block))}
