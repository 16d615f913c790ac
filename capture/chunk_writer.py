"""The recorder's sink: each flushed chunk of snapshots goes to disk during training, with a model checkpoint.

    settings = StreamSettings(layout.partial_capture, config.to_json(), code_fingerprint(), setup.stored_shapes,
                              probe_images, probe_labels)
    writer = ChunkWriter(settings, model, batch_metrics, test_metrics)  # ActivationRecorder(sink=writer)
    ... fit ...
    writer.close()
    finish(writer.folder, layout.capture, capture)  # capture/partial.py: the final archive, renamed into place

It writes the partial archive that capture/partial.py documents and reads. The checkpoint is saved when
the chunk arrives (it must be the model at the chunk's last step); the chunk file is compressed and
written by one background thread while training goes on (HDF5's gzip filter runs without the GIL),
which then updates state.json. A failed write is raised at the next chunk or at `close()`, which waits
for the last one; its checkpoint is removed with it. `model` is any Keras model with an optimizer
(`model.save`, `model.optimizer.iterations`); the metrics are model/callbacks.py's recorders.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capture.hdf5 import staged, write_chunk_file
from capture.partial import ArchiveWriteError, write_state, write_weight_snapshots
from capture.schema import CHUNK_ROWS
from capture.value_checks import activations_problem, training_error
from pipeline.files import crash_point

FAIL_WRITE_VARIABLE = "GENERATE_FAIL_WRITE_AT_CHUNK"  # tests: raise OSError(ENOSPC) when writing this chunk


@dataclass(frozen=True)
class StreamSettings:
    """One run's streaming: where its chunks go, and what each chunk carries besides its snapshots."""

    folder: Path  # the partial archive (build/capture.partial/)
    config_json: str  # the run's Config.to_json()
    fingerprint: str  # the training code's (model/stage.py code_fingerprint), kept in state.json
    stored_shapes: dict  # {layer: (H, W, C)} each layer's snapshots are stored at
    probe_images: np.ndarray  # (N, H, W[, 3]) uint8, as the archive keeps them
    probe_labels: np.ndarray  # (N,)
    state: dict | None = None  # an interrupted run's state.json to continue; None for a fresh run
    start_step: int = 0  # the step that interrupted run stopped at
    # (after, upto) -> {step: weight arrays} of the analysis grid's snapshots in that range of steps (model/
    # analysis_replay.py), saved with each checkpoint; None: the run replays nothing
    weight_snapshots: object = None


class ChunkWriter:
    """The recorder's sink: writes each chunk, its metrics and a checkpoint into the partial archive."""

    def __init__(self, settings: StreamSettings, model, batch_metrics, test_metrics):
        """Open the partial archive of `settings` (a fresh one, or the interrupted run's), for `model`'s chunks."""
        self.folder, self.stored_shapes, self.model = Path(settings.folder), settings.stored_shapes, model
        self.probe_images, self.probe_labels = np.asarray(settings.probe_images), np.asarray(settings.probe_labels)
        self.batch_metrics, self.test_metrics, self.start_step = batch_metrics, test_metrics, settings.start_step
        self.weight_snapshots = settings.weight_snapshots
        state = settings.state
        self.state = dict(state) if state else {
            "config": settings.config_json, "code_fingerprint": settings.fingerprint, "flush_every": CHUNK_ROWS,
            "chunks": [], "last_step": None, "complete": False, "checkpoint": None, "analysis_weights": []}
        if state is None:  # a fresh run: an older partial archive is replaced
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(".*"):  # temporary files of a killed run
            leftover.unlink(missing_ok=True)
        for leftover in self.folder.glob("checkpoint-*.keras"):  # a checkpoint whose chunk never got written
            if leftover.name != self.state["checkpoint"]:
                leftover.unlink(missing_ok=True)
        for leftover in self.folder.glob("analysis-weights-*.npz"):  # likewise the weights saved with it
            if leftover.name not in self.state.get("analysis_weights", []):
                leftover.unlink(missing_ok=True)
        self.test_taken = 0
        self.seconds = {"chunks": 0.0, "checkpoints": 0.0}  # time spent writing, for build/timings.json
        self.submitted, self.last_submitted = len(self.state["chunks"]), self.state["last_step"]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer")
        self._pending = None  # the chunk being written
        self._failure: ArchiveWriteError | None = None

    def __call__(self, steps: np.ndarray, snapshots: dict) -> None:
        """Save the checkpoint of one chunk (steps (k,), {layer: (k, N, ...)}); write the chunk, then the state naming
        both, in the background."""
        self._raise_failure(wait=False)
        # A snapshot that is not finite would make the archive unusable (Capture.load refuses it): stop here,
        # before its checkpoint or chunk is written, with the words Capture.load would use.
        problem = activations_problem({"steps": steps, **snapshots}, list(snapshots))
        if problem:
            raise training_error(problem, json.loads(self.state["config"]), "stopped")
        last = int(steps[-1])
        trained = int(self.model.optimizer.iterations.numpy())
        if trained != last:
            raise ArchiveWriteError(f"the chunk ends at step {last} but the model is at step {trained}: record "
                                    f"with steps_per_execution=1 to stream the capture")
        first = (self.last_submitted or 0) + 1 if self.submitted else 1
        losses = self.batch_metrics.loss[first - 1 - self.start_step:last - self.start_step]
        accuracies = self.batch_metrics.accuracy[first - 1 - self.start_step:last - self.start_step]
        tests = list(zip(self.test_metrics.steps, self.test_metrics.loss, self.test_metrics.accuracy))
        tests = [row for row in tests[self.test_taken:] if row[0] <= last]
        self.test_taken += len(tests)
        arrays = {"steps": np.array(steps), "probe_images": self.probe_images, "probe_labels": self.probe_labels,
                  "train_steps": np.arange(first, last + 1), "train_loss": list(losses),
                  "train_accuracy": list(accuracies), "test_steps": [row[0] for row in tests],
                  "test_loss": [row[1] for row in tests], "test_accuracy": [row[2] for row in tests]}
        layers = {name: np.array(values).reshape(*values.shape[:2], *self.stored_shapes[name])  # own copies
                  for name, values in snapshots.items()}
        after = self.last_submitted if self.submitted else -1  # the weights saved so far: steps up to this one
        index, self.submitted, self.last_submitted = self.submitted, self.submitted + 1, last
        checkpoint = f"checkpoint-{last}.keras"
        started = time.perf_counter()
        temporary = self.folder / f".checkpoint-{last}.tmp.keras"  # Keras insists on the .keras suffix
        try:
            self.model.save(temporary)
            os.replace(temporary, self.folder / checkpoint)
            weights = self._save_weights(after, last)
        except OSError as error:
            (self.folder / checkpoint).unlink(missing_ok=True)
            raise self._write_error(index, error) from None
        finally:
            temporary.unlink(missing_ok=True)
        self.seconds["checkpoints"] += time.perf_counter() - started
        self._raise_failure(wait=True)  # one chunk in flight at most: memory holds two chunks, never more
        self._pending = self._pool.submit(self._write_chunk, index, last, checkpoint, layers, arrays, weights)

    def _save_weights(self, after: int, last: int) -> str | None:
        """Save the analysis grid's weight snapshots of steps after..last beside the checkpoint; return its name."""
        snapshots = self.weight_snapshots(after, last) if self.weight_snapshots is not None else {}
        if not snapshots:
            return None
        name = f"analysis-weights-{last}.npz"
        with staged(self.folder / name) as temporary:
            write_weight_snapshots(temporary, snapshots)
        return name

    def close(self) -> None:
        """Wait for the last chunk's write; raise ArchiveWriteError if any write failed."""
        try:
            self._raise_failure(wait=True)
        finally:
            self._pool.shutdown(wait=True)

    def abandon(self) -> None:
        """Wait for the chunk in flight after training failed; its own error, if any, gives way to training's."""
        self._pool.shutdown(wait=True)
        if not self.state["chunks"]:  # nothing flushed (a run that failed early): nothing to resume, no folder left
            shutil.rmtree(self.folder, ignore_errors=True)

    def _raise_failure(self, wait: bool) -> None:
        if self._pending is not None and (wait or self._pending.done()):
            self._pending.result()  # _write_chunk keeps its error in self._failure rather than raising it
            self._pending = None
        if self._failure is not None:
            raise self._failure

    def _write_error(self, index: int, error: OSError) -> ArchiveWriteError:
        return ArchiveWriteError(
            f"cannot write the capture's chunk {index} into {self.folder} ({error.strerror or error}): free some "
            f"space, then `python generate.py capture --resume` continues after step "
            f"{self.state['last_step'] or 0} ({len(self.state['chunks'])} chunks kept)")

    def _write_chunk(self, index: int, last: int, checkpoint: str, layers: dict, arrays: dict,
                     weights: str | None) -> None:
        """Write one chunk file, then the state naming it and its checkpoint (the background thread's job)."""
        if self._failure is not None:
            return
        name = f"chunk-{index:06d}.h5"
        started = time.perf_counter()
        try:
            if os.environ.get(FAIL_WRITE_VARIABLE) == str(index):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.folder / name))
            with staged(self.folder / name) as temporary:
                write_chunk_file(temporary, layers, arrays, {"config": self.state["config"], "meta": "{}"})
            previous = self.state["checkpoint"]
            named = [*self.state.get("analysis_weights", []), *([weights] if weights else [])]
            self.state.update(chunks=[*self.state["chunks"], name], last_step=last, checkpoint=checkpoint,
                              analysis_weights=named)
            write_state(self.folder, self.state)
        except OSError as error:
            self._failure = self._write_error(index, error)
            if self.state["checkpoint"] != checkpoint:  # not named by the state: no half-done chunk is left
                (self.folder / checkpoint).unlink(missing_ok=True)
                if weights:
                    (self.folder / weights).unlink(missing_ok=True)
            return
        finally:
            self.seconds["chunks"] += time.perf_counter() - started
        if previous and previous != checkpoint:
            (self.folder / previous).unlink(missing_ok=True)
        crash_point("capture-chunk-flushed")
