"""An interrupted run's partial archive: the folder the chunk writer streams into, read and finished here.

    state = read_state(layout.partial_capture)           # None when there is no (readable) partial archive
    Capture.load(layout.partial_capture)                  # its flushed snapshots (capture/archive.py)
    finish(layout.partial_capture, layout.capture, capture)  # the final HDF5 archive, renamed into place

The partial archive (build/capture.partial/) is a folder, written by capture/chunk_writer.py:

    state.json             {"config", "code_fingerprint", "flush_every", "chunks": [file names],
                            "last_step" (the last flushed snapshot's step = the checkpoint's step),
                            "complete": false, "checkpoint": "checkpoint-<step>.keras"}
    chunk-000000.h5 ...    one per flushed chunk (capture/hdf5.py's layout): its snapshots (one HDF5
                           chunk per layer), their steps, the train and test metrics of its steps
    checkpoint-<step>.keras  model and optimizer state after that step (`--resume` continues from it)
    analysis-weights-<step>.npz  the weight snapshots of the analysis grid's steps up to that step, since
                           the previous one (state "analysis_weights" names them), so a resumed run
                           replays the same snapshots as an uninterrupted one

Each chunk file and checkpoint is written beside its name and renamed in, and state.json, rewritten
atomically last, names only finished ones: a run killed at any moment leaves every flushed chunk
readable (`Capture.load(folder)`), and an earlier complete build/capture.h5 untouched. A full disk
raises ArchiveWriteError (one line) and leaves the flushed chunks as they were.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np

from capture.hdf5 import assemble, read_text, staged
from capture.schema import CaptureError
from pipeline.files import write_text_atomically

STATE_NAME = "state.json"


class ArchiveWriteError(ValueError):
    """The archive could not be written (disk full, permissions): one line, flushed chunks intact."""


def read_state(folder: Path) -> dict | None:
    """Return the partial archive's state, or None when there is none (or it is unreadable)."""
    try:
        state = json.loads((Path(folder) / STATE_NAME).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("chunks"), list) else None


def write_state(folder: Path, state: dict) -> None:
    """Rewrite the partial archive's state.json atomically."""
    write_text_atomically(Path(folder) / STATE_NAME, json.dumps(state, indent=1, sort_keys=True) + "\n")


def write_weight_snapshots(path: Path, snapshots: dict[int, list[np.ndarray]]) -> None:
    """Write {step: the model's weight arrays} as one .npz (keys "<step>_<i>")."""
    with open(path, "wb") as stream:
        np.savez(stream, **{f"{step}_{index}": array for step, weights in snapshots.items()
                            for index, array in enumerate(weights)})


def read_weight_snapshots(folder: Path, state: dict) -> dict[int, list[np.ndarray]]:
    """Return the weight snapshots the partial archive's state names, {step: weight arrays}, steps ascending."""
    snapshots: dict[int, dict[int, np.ndarray]] = {}
    try:
        for name in state.get("analysis_weights") or []:
            with np.load(Path(folder) / name, allow_pickle=False) as stored:
                for key in stored.files:
                    step, index = (int(part) for part in key.split("_"))
                    snapshots.setdefault(step, {})[index] = stored[key]
    except (OSError, ValueError) as error:
        raise CaptureError(f"the analysis weight snapshots in {folder} are damaged ({error}); delete {folder} "
                           f"and run again") from None
    return {step: [weights[index] for index in sorted(weights)] for step, weights in sorted(snapshots.items())}


def chunk_paths(folder: Path, state: dict) -> list[Path]:
    """Return the partial archive's chunk files, checked to exist."""
    paths = [Path(folder) / name for name in state["chunks"]]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise CaptureError(f"{folder} lacks its chunk files {', '.join(missing[:3])}: delete {folder} and run again")
    return paths


def _concatenated(paths: list[Path], fix: str) -> tuple[dict, dict[str, np.ndarray], str]:
    """Return the chunk files' small arrays and snapshots, concatenated in order, and the config text."""
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


def read_partial(folder: Path) -> dict:
    """Return the `Capture` fields of an interrupted run's flushed snapshots and metrics (meta: complete false)."""
    folder = Path(folder)
    state = read_state(folder)
    fix = f"delete {folder} and run `make site` again"
    if state is None:
        raise CaptureError(f"{folder} is not a partial capture archive (no readable {STATE_NAME}); {fix}")
    if not state["chunks"]:
        raise CaptureError(f"{folder} holds no flushed chunk yet; {fix}")
    arrays, layers, config = _concatenated(chunk_paths(folder, state), fix)
    return {"steps": arrays["steps"], "probe_images": arrays["probe_images"], "probe_labels": arrays["probe_labels"],
            "activations": layers, "train_loss": arrays["train_loss"], "train_accuracy": arrays["train_accuracy"],
            "test_steps": arrays["test_steps"], "test_loss": arrays["test_loss"],
            "test_accuracy": arrays["test_accuracy"], "config_json": config,
            "meta": {"complete": False, "last_step": state["last_step"],
                     "code_fingerprint": state["code_fingerprint"]}}


def finish(folder: Path, path: Path, capture) -> None:
    """Write the final archive from the partial one's chunks plus `capture`'s probes and texts; drop the partial one."""
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
            assemble(temporary, paths, small, capture.texts(), capture.analysis)
    except OSError as error:
        raise ArchiveWriteError(f"cannot write {path} ({error.strerror or error}): free some space, then run again "
                                f"(the {len(paths)} flushed chunks in {folder} are kept)") from None
    state.update(complete=True)
    write_state(folder, state)
    shutil.rmtree(folder, ignore_errors=True)
