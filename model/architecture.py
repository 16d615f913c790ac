"""The article's CNN: six tanh conv layers and three dense layers, built with the functional API.

`build_model(config)` returns a compiled, untrained `keras.Model` whose layers are named
`conv1`..`conv6`, `pool1`, `pool2`, `flatten`, `dense1`..`dense3`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

POOL_AFTER = ("conv2", "conv4")  # 2x2 max-pooling follows these layers, halving the resolution
SNAPSHOT_BYTES_PER_VALUE = 2  # float16


def recorded_shapes(config, input_shape=(28, 28, 1)) -> dict[str, tuple[int, int, int]]:
    """Return each conv layer's output (H, W, C), worked out without building the model."""
    height, width = input_shape[:2]
    shapes = {}
    for name, channels in zip(config.layer_names, config.conv_widths):
        shapes[name] = (height, width, channels)
        if name in POOL_AFTER:
            height, width = height // 2, width // 2
    return shapes


def snapshot_bytes(config) -> int:
    """Return the bytes the recorder's buffers hold for this config (all layers, all probes, all snapshots)."""
    snapshots = config.steps // config.capture_every + 1 + (1 if config.steps % config.capture_every else 0)
    probes = config.dense_widths[-1]  # one probe per class
    values = sum(height * width * channels for height, width, channels in recorded_shapes(config).values())
    return snapshots * probes * values * SNAPSHOT_BYTES_PER_VALUE


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


def layer_table(model: keras.Model) -> list[dict]:
    """Return (name, kind, output shape, parameter count) for each layer, for the article's table."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        rows.append({"name": layer.name, "kind": type(layer).__name__, "output_shape": list(shape),
                     "activation": activation, "parameters": int(layer.count_params())})
    return rows
