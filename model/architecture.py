"""The article's CNN: six tanh conv layers and three dense layers, built with the functional API.

`build_model(config, input_shape)` returns a compiled, untrained `keras.Model` whose layers are named
`conv1`..`conv6` (config.layer_names), `pool1`, `pool2`, `flatten`, `dense1`..`dense3`; model/layers.py
describes any model's layers for the archive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

POOL_AFTER = ("conv2", "conv4")  # 2x2 max-pooling follows these layers, halving the resolution


def build_model(config, input_shape=(28, 28, 1)) -> keras.Model:
    """Build and compile the model the config describes (call keras.utils.set_random_seed first)."""
    import keras

    inputs = keras.Input(shape=input_shape, name="image")
    features = inputs
    pools = 0
    for name, width in zip(config.layer_names, config.conv_widths):
        features = keras.layers.Conv2D(
            width, 3, padding="same", activation="tanh", name=name,
            kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=config.kernel_init_stddev),
        )(features)
        if name in POOL_AFTER:
            pools += 1
            features = keras.layers.MaxPooling2D(2, name=f"pool{pools}")(features)
    features = keras.layers.Flatten(name="flatten")(features)
    *hidden, classes = config.dense_widths
    for index, width in enumerate(hidden, start=1):
        features = keras.layers.Dense(width, activation="relu", name=f"dense{index}")(features)
    outputs = keras.layers.Dense(classes, activation="softmax", name=f"dense{len(hidden) + 1}")(features)
    model = keras.Model(inputs, outputs, name="watch_it_learn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
