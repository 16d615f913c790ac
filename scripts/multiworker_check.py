"""Does Keras' own `fit` run under tf.distribute.MultiWorkerMirroredStrategy here? Two local workers say.

    .venv/bin/python scripts/multiworker_check.py           # Keras as shipped
    .venv/bin/python scripts/multiworker_check.py --mended  # with model/distribute.py's mends

Starts two worker processes on 127.0.0.1 with TF_CONFIG (the chief, task 0, and task 1), each building a
tiny Dense model inside `MultiWorkerMirroredStrategy().scope()` and fitting it for 3 steps, as TensorFlow's
multi-worker tutorial does. Prints each worker's outcome (its last error line when it fails) and exits 0
only when both trained. Keras 3.15 as shipped fails (keras-team/keras#20585); `generate.py --strategy
multiworker` trains with the mends. When a Keras release passes without them, model/distribute.py's
second mend can go (the first also keeps a strategy's batches the same as on one device).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
import keras
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16).repeat()
if os.environ.get("MEND_KERAS") == "1":
    from model.distribute import apply_fit_mends
    apply_fit_mends(model, strategy, data.element_spec)
model.fit(data, epochs=1, steps_per_epoch=3, verbose=0)
print(json.dumps({"trained_steps": int(model.optimizer.iterations.numpy()),
                  "replicas": strategy.num_replicas_in_sync}))
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    python = str(ROOT / ".venv" / "bin" / "python")
    processes = []
    for index in range(len(workers)):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        environment = dict(os.environ, TF_CONFIG=json.dumps(config), PYTHONPATH=str(ROOT),
                           MEND_KERAS="1" if "--mended" in sys.argv[1:] else "0")
        processes.append(subprocess.Popen([python, "-c", WORKER], env=environment, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    trained = 0
    for index, process in enumerate(processes):
        try:
            out, err = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += "\n(killed after 300 s)"
        lines = [line for line in err.strip().splitlines() if line.strip()]
        if process.returncode == 0:
            trained += 1
            print(f"worker {index}: trained: {out.strip().splitlines()[-1]}")
        else:
            starts = [i for i, line in enumerate(lines) if "Error" in line.split(":")[0]] or [len(lines) - 1]
            error = " ".join(" ".join(lines[starts[-1]:]).split()) if lines else "no output"  # may span lines
            print(f"worker {index}: failed (exit {process.returncode}): {error[:240]}")
    print("MultiWorkerMirroredStrategy + fit: " + ("works" if trained == len(processes) else "does not work here"))
    return 0 if trained == len(processes) else 1


if __name__ == "__main__":
    sys.exit(main())
