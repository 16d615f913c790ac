"""The article's CNN with ReLU convolutions and Glorot-uniform kernels, to see whether the plateau disappears.

    make site ARGS="--model examples/relu_glorot.py:build"

Same layers as model/architecture.py (six 3x3 same-padding convolutions of widths 4, 4, 8, 8, 16, 16,
2x2 max-pooling after the second and fourth, dense 64 and 32 ReLU, softmax), Adam 0.001 and categorical
cross-entropy; only the convolutions' activation (ReLU, not tanh) and kernel initialiser (Glorot uniform,
not N(0, 0.01)) differ. The original's plateau comes from its tiny initial weights.
"""

import keras

WIDTHS = (4, 4, 8, 8, 16, 16)
POOL_AFTER = (2, 4)  # 2x2 max-pooling follows conv2 and conv4


def build(input_shape, num_classes):
    """Return the compiled model for images of `input_shape` (H, W, C) and `num_classes` classes."""
    inputs = keras.Input(shape=input_shape, name="image")
    features = inputs
    for index, width in enumerate(WIDTHS, start=1):
        features = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                       kernel_initializer="glorot_uniform", name=f"conv{index}")(features)
        if index in POOL_AFTER:
            features = keras.layers.MaxPooling2D(2, name=f"pool{POOL_AFTER.index(index) + 1}")(features)
    features = keras.layers.Flatten(name="flatten")(features)
    features = keras.layers.Dense(64, activation="relu", name="dense1")(features)
    features = keras.layers.Dense(32, activation="relu", name="dense2")(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="dense3")(features)
    model = keras.Model(inputs, outputs, name="relu_glorot")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model
