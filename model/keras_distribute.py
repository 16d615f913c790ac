"""Two mends to Keras 3's `fit` under tf.distribute: the same batches as on one device, and several workers.

    apply_distribute_fixes(model, strategy, pipeline.element_spec)  # just before model.fit(pipeline)

Keras 3.15's TensorFlow trainer, reproduced here on 2 logical CPUs and with two local workers:
1. Under any strategy, `fit` first draws a batch from the training iterator only to learn its shapes
   (`_maybe_symbolic_build`), so training then starts on a different batch than it does on one device,
   and under MultiWorkerMirroredStrategy that draw itself fails: `strategy.reduce("MEAN", batch)` on the
   whole (x, y) structure ("Attempt to convert a value (PerReplica:...) ... to a Tensor",
   keras-team/keras#20585). The mend builds from the pipeline's element spec instead: the same shapes
   and dtypes, no batch drawn, no collective call. A mirrored run then trains on the same batches in
   the same order as a run on one device (tests/test_distribute.py compares their losses).
2. Under MultiWorkerMirroredStrategy `reduce_per_replica` averages each step's scalar metric values
   with `strategy.reduce("MEAN", v, axis=0)`, which fails to build ("Invalid reduction dimension 0 for
   input with 0 dimensions"). The mend reduces across the replicas (axis=None): the mean over replicas
   that the function's single-machine branch computes.

Written by hand because no released Keras has these fixes; without a strategy nothing is changed.
"""

from __future__ import annotations

import types


def apply_distribute_fixes(model, strategy, element_spec) -> None:
    """Mend Keras' first build and multi-worker metric reduction for `model` (a no-op without a strategy)."""
    if strategy is None:
        return
    import tensorflow as tf

    def symbolic_build_from_spec(self, iterator=None, data_batch=None):
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=element_spec if iterator is not None else data_batch)

    model._maybe_symbolic_build = types.MethodType(symbolic_build_from_spec, model)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer.reduce_per_replica, "mends_multiworker_mean", False):
        return  # already mended in this process
    shipped = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy_, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy_):
            return tf.nest.map_structure(lambda value: strategy_.reduce("MEAN", value, axis=None), values)
        return shipped(values, strategy_, reduction)

    reduce_per_replica.mends_multiworker_mean = True
    trainer.reduce_per_replica = reduce_per_replica  # the train/test step functions look it up when traced
