"""Training on several devices with TensorFlow's own tf.distribute (no scheduler of our own).

    strategy = make_strategy("mirrored")  # every local GPU (or logical CPU), one copy of the model each

`--strategy none` (the default) trains on one device; `auto` picks mirrored when more than one GPU
is visible. The batch size is always the global batch: tf.distribute splits each batch over the
replicas, and the recorder reads replica 0 (the replicas hold the same weights).

Several machines (MultiWorkerMirroredStrategy) are refused with the reason: Keras 3's `fit` does not
run under that strategy (keras-team/keras#20585, tensorflow/tensorflow#72388; reproduced here with
Keras 3.15 and TensorFlow 2.21 on two local workers: "Attempt to convert a value (PerReplica...)").
"""

from __future__ import annotations

from model.config import STRATEGIES


def make_strategy(strategy_name: str):
    """Return the tf.distribute strategy for a name, or None to train on the default device."""
    import tensorflow as tf

    if strategy_name == "auto":
        strategy_name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "none"
    if strategy_name == "none":
        return None
    if strategy_name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raise ValueError(f"unknown strategy {strategy_name!r}: use one of {', '.join(STRATEGIES)}")
