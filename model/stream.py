"""Streaming capture: each flushed chunk of snapshots goes to disk during training, with a model checkpoint.

    writer = ChunkWriter(layout.partial_capture, config, setup, probes, metrics)  # ActivationRecorder's sink
    ... fit ...
    finish(writer.folder, layout.capture, capture)  # the final HDF5 archive, renamed into place

The partial archive (build/capture.partial/) is a folder:

    state.json             {"config", "code_fingerprint", "flush_every", "chunks": [file names],
                            "last_step" (the last flushed snapshot's step = the checkpoint's step),
                            "complete": false, "checkpoint": "checkpoint-<step>.keras"}
    chunk-000000.h5 ...    one per flushed chunk (model/archive_h5.py's layout): its snapshots (one HDF5
                           chunk per layer), their steps, the train and test metrics of its steps
    checkpoint-<step>.keras  model and optimizer state after that step (`--resume` continues from it)

Each chunk file and checkpoint is written beside its name and renamed in, and state.json, rewritten
atomically last, names only finished ones: a run killed at any moment leaves every flushed chunk
readable (`Capture.load(folder)`), and an earlier complete build/capture.h5 untouched. A full disk
raises ArchiveWriteError (one line) and leaves the flushed chunks as they were.

The checkpoint is saved when the chunk arrives (it must be the model at the chunk's last step); the
chunk file is compressed and written by one background thread while training goes on (HDF5's gzip
filter runs without the GIL), which then updates state.json. A failed write is raised at the next
chunk or at `close()`, which waits for the last one; its checkpoint is removed with it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from model.archive_h5 import CHUNK_ROWS, assemble, read_text, staged, write_chunk_file
from model.capture import Capture, CaptureError
from model.capture_checks import activations_problem, training_error
from pipeline.files import crash_point, write_text_atomically

STATE_NAME = "state.json"
FAIL_WRITE_VARIABLE = "GENERATE_FAIL_WRITE_AT_CHUNK"  # tests: raise OSError(ENOSPC) when writing this chunk


class ArchiveWriteError(ValueError):
    """The archive could not be written (disk full, permissions): one line, flushed chunks intact."""


class ResumeError(ValueError):
    """`--resume` cannot continue: no interrupted run, another config or code, or no checkpoint."""


def read_state(folder: Path) -> dict | None:
    """Return the partial archive's state, or None when there is none (or it is unreadable)."""
    try:
        state = json.loads((Path(folder) / STATE_NAME).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("chunks"), list) else None


class ChunkWriter:
    """The recorder's sink: writes each chunk, its metrics and a checkpoint into the partial archive."""

    def __init__(self, folder: Path, config_json: str, fingerprint: str, stored_shapes: dict, probe_images,
                 probe_labels, batch_metrics, test_metrics, model, state: dict | None = None, start_step: int = 0):
        self.folder, self.stored_shapes, self.model = Path(folder), stored_shapes, model
        self.probe_images, self.probe_labels = np.asarray(probe_images), np.asarray(probe_labels)
        self.batch_metrics, self.test_metrics, self.start_step = batch_metrics, test_metrics, start_step
        self.state = state or {"config": config_json, "code_fingerprint": fingerprint, "flush_every": CHUNK_ROWS,
                               "chunks": [], "last_step": None, "complete": False, "checkpoint": None}
        if state is None:  # a fresh run: an older partial archive is replaced
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(".*"):  # temporary files of a killed run
            leftover.unlink(missing_ok=True)
        for leftover in self.folder.glob("checkpoint-*.keras"):  # a checkpoint whose chunk never got written
            if leftover.name != self.state["checkpoint"]:
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
        index, self.submitted, self.last_submitted = self.submitted, self.submitted + 1, last
        checkpoint = f"checkpoint-{last}.keras"
        started = time.perf_counter()
        temporary = self.folder / f".checkpoint-{last}.tmp.keras"  # Keras insists on the .keras suffix
        try:
            self.model.save(temporary)
            os.replace(temporary, self.folder / checkpoint)
        except OSError as error:
            raise self._write_error(index, error) from None
        finally:
            temporary.unlink(missing_ok=True)
        self.seconds["checkpoints"] += time.perf_counter() - started
        self._raise_failure(wait=True)  # one chunk in flight at most: memory holds two chunks, never more
        self._pending = self._pool.submit(self._write_chunk, index, last, checkpoint, layers, arrays)

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

    def _write_chunk(self, index: int, last: int, checkpoint: str, layers: dict, arrays: dict) -> None:
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
            self.state.update(chunks=[*self.state["chunks"], name], last_step=last, checkpoint=checkpoint)
            write_text_atomically(self.folder / STATE_NAME, json.dumps(self.state, indent=1, sort_keys=True) + "\n")
        except OSError as error:
            self._failure = self._write_error(index, error)
            if self.state["checkpoint"] != checkpoint:  # not named by the state: no half-done chunk is left
                (self.folder / checkpoint).unlink(missing_ok=True)
            return
        finally:
            self.seconds["chunks"] += time.perf_counter() - started
        if previous and previous != checkpoint:
            (self.folder / previous).unlink(missing_ok=True)
        crash_point("capture-chunk-flushed")


def chunk_paths(folder: Path, state: dict) -> list[Path]:
    """Return the partial archive's chunk files, checked to exist."""
    paths = [Path(folder) / name for name in state["chunks"]]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise CaptureError(f"{folder} lacks its chunk files {', '.join(missing[:3])}: delete {folder} and run again")
    return paths


def _concatenated(paths: list[Path], fix: str) -> tuple[dict, dict[str, np.ndarray], str]:
    """Return the chunk files' small arrays and snapshots, concatenated in order, and the config text."""
    import h5py

    arrays, layers, config = {}, {}, ""
    try:
        for path in paths:
            with h5py.File(path, "r") as chunk:
                names = json.loads(read_text(chunk, "layer_names"))
                config = read_text(chunk, "config")
                for key in ("steps", "train_loss", "train_accuracy", "test_steps", "test_loss", "test_accuracy"):
                    arrays.setdefault(key, []).append(chunk[key][()])
                arrays["probe_images"], arrays["probe_labels"] = chunk["probe_images"][()], chunk["probe_labels"][()]
                for index, name in enumerate(names):
                    layers.setdefault(name, []).append(chunk["activations"][str(index)][()])
    except (OSError, KeyError, ValueError) as error:
        raise CaptureError(f"a chunk of {paths[0].parent} is damaged ({' '.join(str(error).split())[:120]}); "
                           f"{fix}") from None
    merged = {key: np.concatenate(value) if isinstance(value, list) else value for key, value in arrays.items()}
    return merged, {name: np.concatenate(parts) for name, parts in layers.items()}, config


def read_partial(folder: Path) -> Capture:
    """Return the flushed snapshots and metrics of an interrupted run (meta: complete false, last_step)."""
    folder = Path(folder)
    state = read_state(folder)
    fix = f"delete {folder} and run `make site` again"
    if state is None:
        raise CaptureError(f"{folder} is not a partial capture archive (no readable {STATE_NAME}); {fix}")
    if not state["chunks"]:
        raise CaptureError(f"{folder} holds no flushed chunk yet; {fix}")
    arrays, layers, config = _concatenated(chunk_paths(folder, state), fix)
    return Capture(steps=arrays["steps"], probe_images=arrays["probe_images"], probe_labels=arrays["probe_labels"],
                   activations=layers, train_loss=arrays["train_loss"], train_accuracy=arrays["train_accuracy"],
                   test_steps=arrays["test_steps"], test_loss=arrays["test_loss"],
                   test_accuracy=arrays["test_accuracy"], config_json=config,
                   meta={"complete": False, "last_step": state["last_step"],
                         "code_fingerprint": state["code_fingerprint"]})


def finish(folder: Path, path: Path, capture: Capture) -> None:
    """Write the final archive from the partial one's chunks plus `capture`'s meta; then drop the partial one."""
    import h5py

    state = read_state(folder)
    paths = chunk_paths(folder, state)
    arrays = {"steps": [], "train_loss": [], "train_accuracy": [], "test_steps": [], "test_loss": [],
              "test_accuracy": []}
    try:
        for chunk_path in paths:
            with h5py.File(chunk_path, "r") as chunk:
                for key, parts in arrays.items():
                    parts.append(chunk[key][()])
    except OSError as error:
        raise CaptureError(f"a chunk of {folder} is damaged ({error}); delete {folder} and run again") from None
    small = {key: np.concatenate(parts) for key, parts in arrays.items()}
    small.update(probe_images=capture.probe_images, probe_labels=capture.probe_labels,
                 train_steps=np.arange(1, len(small["train_loss"]) + 1))
    try:
        with staged(path) as temporary:
            assemble(temporary, paths, small, capture.texts())
    except OSError as error:
        raise ArchiveWriteError(f"cannot write {path} ({error.strerror or error}): free some space, then run again "
                                f"(the {len(paths)} flushed chunks in {folder} are kept)") from None
    state.update(complete=True)
    write_text_atomically(Path(folder) / STATE_NAME, json.dumps(state, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
