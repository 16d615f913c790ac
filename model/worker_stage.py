"""The capture stage on a worker of a multi-worker cluster that is not the chief: train in step, keep nothing.

    train_as_worker(config, worker_role(), progress=True)  # generate.py on worker 1, 2, ... of TF_CONFIG

Every worker runs the same `fit` (MultiWorkerMirroredStrategy keeps their weights equal with collective
calls at every step), and only the chief writes the archive, the model and the site. The others still
save each chunk's checkpoint and the final model, into scratch space that is deleted at the end:
TensorFlow's rule for this strategy, because saving may take part in collective calls that every
worker must make. A run in which a worker stops (or cannot be reached) raises WorkerLostError.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from pathlib import Path


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


def train_as_worker(config, role, progress: bool = True) -> None:
    """Train as one of the cluster's non-chief workers, writing nothing outside a deleted scratch folder."""
    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from model.data import load_dataset
    from model.setup import prepare_run
    from model.stage import code_fingerprint
    from model.train import train

    dataset = load_dataset(config)
    setup = prepare_run(config, dataset)
    print(f"capture: {role.label} training with the chief; the chief writes the archive, model and site",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="generate-worker-") as scratch:
        stream = {"folder": Path(scratch) / "capture.partial", "fingerprint": code_fingerprint(), "state": None}
        with lost_workers_reported(config):
            _, model, _ = train(config, dataset, progress=progress, setup=setup, stream=stream)
            model.save(Path(scratch) / "model.keras")  # in step with the chief's save (see the module's note)
    print(f"capture: {role.label} finished", file=sys.stderr)
