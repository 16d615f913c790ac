"""A small residual CNN for Fashion-MNIST-sized images: convolutions with skip connections (Add).

    make site ARGS="--model examples/residual_fashion.py:build --dataset fashion"

(Fashion-MNIST comes from keras' loader, or offline from Debian's dataset-fashion-mnist in
/usr/share/datasets/fashion-mnist.) A 3x3 stem, two residual blocks (the second halves the resolution
and widens, its skip a strided 1x1 convolution), global average pooling and a softmax; integer labels
(sparse categorical cross-entropy), Adam 0.001. The recorded layers are its Conv2D layers (the default
--layers conv); add --layers conv,add1,add2 to see the blocks' sums too.
"""

import keras


def residual_block(features, width, stride, name):
    """Two 3x3 convolutions plus the input (a strided 1x1 convolution when the shape changes), then ReLU."""
    shortcut = features
    features = keras.layers.Conv2D(width, 3, strides=stride, padding="same", activation="relu",
                                   name=f"{name}_conv1")(features)
    features = keras.layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(features)
    if stride != 1 or shortcut.shape[-1] != width:
        shortcut = keras.layers.Conv2D(width, 1, strides=stride, name=f"{name}_skip")(shortcut)
    features = keras.layers.Add(name=f"add{name[-1]}")([features, shortcut])
    return keras.layers.Activation("relu", name=f"{name}_relu")(features)


def build(input_shape, num_classes):
    """Return the compiled model for images of `input_shape` (H, W, C) and `num_classes` classes."""
    inputs = keras.Input(shape=input_shape, name="image")
    features = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inputs)
    features = residual_block(features, 16, 1, "block1")
    features = residual_block(features, 32, 2, "block2")
    features = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(features)
    model = keras.Model(inputs, outputs, name="residual_fashion")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
