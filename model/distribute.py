"""Training on several devices and machines with TensorFlow's own tf.distribute (no scheduler of our own).

    strategy = make_strategy("mirrored")  # every local GPU (or logical CPU), one copy of the model each
    role = worker_role()                  # under "multiworker": this process's task in TF_CONFIG
    with lost_workers_reported(config):   # a worker lost during training: one-line WorkerLostError
        ...

`--strategy none` (the default) trains on one device; `auto` picks mirrored when more than one GPU
is visible; `multiworker` trains on every machine of the cluster that the TF_CONFIG environment
variable describes (tf.distribute.MultiWorkerMirroredStrategy, with the mends for Keras 3
below). The batch size is always the global batch: tf.distribute splits each batch over
the replicas, and the recorder reads this worker's replica 0 (the replicas hold the same weights).
Only the chief writes the archive, the model and the site.

The mends (`apply_fit_mends`, at the end of this file):
    apply_fit_mends(model, strategy, pipeline.element_spec)  # just before model.fit(pipeline); None: one device

Keras 3.15's TensorFlow trainer, reproduced here on one device, on 2 logical CPUs and with two local workers:
1. Under any strategy, `fit` first draws a batch from the training iterator only to learn its shapes
   (`_maybe_symbolic_build`), so training then starts on a different batch than it does on one device,
   and under MultiWorkerMirroredStrategy that draw itself fails: `strategy.reduce("MEAN", batch)` on the
   whole (x, y) structure ("Attempt to convert a value (PerReplica:...) ... to a Tensor",
   keras-team/keras#20585). The mend builds from the pipeline's element spec instead: the same shapes
   and dtypes, no batch drawn, no collective call. A mirrored run then trains on the same batches in
   the same order as a run on one device (tests/test_distribute.py compares their losses).
   On one device `fit` builds nothing before training: the optimizer's and the metrics' variables are created
   by the train step's first trace, and TensorFlow, having seen variables created there, traces the step a
   second time (about half a CPU-second of every run). The same build from the spec makes that one trace, with
   the same variables and values (tests/test_capture.py counts the traces). A model that cannot be built
   symbolically is left to that first trace, as Keras leaves it.
2. Under MultiWorkerMirroredStrategy `reduce_per_replica` averages each step's scalar metric values
   with `strategy.reduce("MEAN", v, axis=0)`, which fails to build ("Invalid reduction dimension 0 for
   input with 0 dimensions"). The mend reduces across the replicas (axis=None): the mean over replicas
   that the function's single-machine branch computes.

Written by hand because no released Keras has these fixes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import types
from dataclasses import dataclass

from pipeline.config import STRATEGIES


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in a multi-worker cluster."""

    task_type: str
    index: int
    workers: int  # the cluster's chief and workers together
    chief: bool  # the one that writes the archive, model and site

    @property
    def label(self) -> str:
        """Return e.g. "worker 1 of 2"."""
        return f"{self.task_type} {self.index} of {self.workers}"


def worker_role(environ=None) -> WorkerRole:
    """Return this process's role from TF_CONFIG, or raise ValueError saying in one line what is wrong with it."""
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG", "")
    example = ('e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    if not text.strip():
        raise ValueError(f"--strategy multiworker needs the TF_CONFIG environment variable on every machine, {example}")
    try:
        spec = json.loads(text)
        cluster, task = spec["cluster"], spec["task"]
        task_type, index = task["type"], task["index"]
        members = cluster[task_type]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError(f"TF_CONFIG is not a cluster and task description: {example}") from None
    if not isinstance(cluster, dict) or not all(isinstance(hosts, list) for hosts in cluster.values()):
        raise ValueError(f"TF_CONFIG's cluster must map each task type to a list of host:port, {example}")
    if task_type not in ("chief", "worker") or not isinstance(index, int) or not 0 <= index < len(members):
        raise ValueError(f"TF_CONFIG's task {task!r} is not one of its cluster's chief or workers")
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    # TensorFlow's rule (multi_worker_util.is_chief): the chief task, or worker 0 in a cluster without one.
    chief = task_type == "chief" or ("chief" not in cluster and index == 0)
    return WorkerRole(task_type, index, workers, chief)


def make_strategy(strategy_name: str):
    """Return the tf.distribute strategy for a name, or None to train on the default device."""
    import tensorflow as tf

    if strategy_name == "auto":
        strategy_name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "none"
    if strategy_name == "none":
        return None
    if strategy_name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy_name == "multiworker":
        role = worker_role()
        # Creating the strategy waits, without a word or a time limit, until every worker has started; the wait
        # is in TensorFlow's C++ code, which Ctrl-C cannot interrupt (its SIGINT waits for Python), Ctrl-\ can.
        print(f"capture: {role.label} waiting for every worker in TF_CONFIG to start (Ctrl-\\ stops the wait)",
              file=sys.stderr, flush=True)
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {strategy_name!r}: use one of {', '.join(STRATEGIES)}")


class WorkerLostError(ValueError):
    """A worker of the cluster stopped or could not be reached during training: one line."""


def worker_lost(config, error: BaseException) -> WorkerLostError | None:
    """Return the one-line error for a training failure caused by a lost worker, or None for any other failure."""
    if config.strategy != "multiworker":
        return None
    import tensorflow as tf

    if not isinstance(error, (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.DeadlineExceededError,
                              tf.errors.InternalError, tf.errors.AbortedError)):
        return None
    text = str(error)
    # TensorFlow names the lost task in the message: "... tasks are unhealthy (stopped sending heartbeats):
    # /job:worker/replica:0/task:1", after a node trace that says nothing to the user.
    named = re.search(r"unhealthy[^/]*/job:(\w+)/replica:\d+/task:(\d+)", text) or re.search(
        r"(?:unavailable|aborted)[^/]*/job:(\w+)/(?:replica:\d+/)?task:(\d+)", text, re.IGNORECASE)
    who = f"{named[1]} {named[2]}" if named else "a worker"
    return WorkerLostError(f"training stopped: {who} of the cluster stopped or cannot be reached "
                           f"({type(error).__name__}); the archive, model and site were not written: "
                           "start every worker again")


@contextlib.contextmanager
def lost_workers_reported(config):
    """Turn a training failure caused by a lost worker into WorkerLostError (one line); let others through."""
    try:
        yield
    except Exception as error:
        lost = worker_lost(config, error)
        if lost is None:
            raise
        raise lost from None


# --- Mends to Keras 3 under tf.distribute (see the module docstring) ---------------------------------------

def apply_fit_mends(model, strategy, element_spec) -> None:
    """Mend Keras' first build (`strategy` None: on one device) and multi-worker metric reduction for `model`."""
    import tensorflow as tf

    def symbolic_build_from_spec(self, iterator=None, data_batch=None):
        with self.distribute_strategy.scope():
            try:
                self._symbolic_build(data_batch=element_spec if iterator is not None else data_batch)
            except (RuntimeError, ValueError, TypeError, NotImplementedError):
                if strategy is not None:  # Keras' own build under a strategy raises these too
                    raise

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
