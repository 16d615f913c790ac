"""`Capture`: one training run's record (capture/schema.py documents it), read and written whole, no Keras needed.

    capture = Capture.load("build/capture.h5")   # or an interrupted run's build/capture.partial/ folder
    capture.activations["conv1"][5]              # (N, H, W, C): only that snapshot is read from the file
    capture.save(path)                           # a deterministic HDF5 archive, renamed into place

`Capture.load(path)` is the one reader. It opens the HDF5 archive (capture/hdf5.py, written chunk by
chunk during training by capture/chunk_writer.py and assembled by capture/partial.py) or the partial
archive of an interrupted run (a folder: the flushed snapshots, meta["complete"] false). From HDF5 a
layer's snapshots are read lazily, only where indexed (capture/hdf5.py `LazyLayer`). A complete
archive is refused (CaptureError, one line naming the fix) unless its layout (capture/schema.py) and
its values (capture/value_checks.py: real dtypes, the shapes its meta states, probe images the page
can carry, finite metrics and snapshots; the snapshots read through once, a block at a time) are
what the schema documents. Its optional `analysis/` group (the analysis set's replay) is read whole into
`Capture.analysis` (an AnalysisRecord) and checked the same way; an archive without one has analysis None.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capture.analysis_record import AnalysisRecord
from capture.hdf5 import not_hdf5_reason, read_entries, staged, write_chunk_file
from capture.partial import read_partial
from capture.schema import (
    ARCHIVE_VERSION,
    CaptureError,
    analysis_problem,
    arrays_problem,
    meta_problem,
    snapshot_shape_problem,
)
from capture.value_checks import DIVERGED, analysis_values_problem, diverged_fix, values_problem


@dataclass
class Capture:
    """Everything one training run recorded, in plain numpy arrays."""

    steps: np.ndarray  # (T,)
    probe_images: np.ndarray  # (N, H, W) grey or (N, H, W, 3) RGB, uint8
    probe_labels: np.ndarray  # (N,)
    activations: dict[str, np.ndarray]  # name -> (T, N, H, W, C) float16, in model order
    train_loss: np.ndarray  # (S,)
    train_accuracy: np.ndarray  # (S,)
    test_steps: np.ndarray  # (K,)
    test_loss: np.ndarray  # (K,)
    test_accuracy: np.ndarray  # (K,)
    config_json: str
    meta: dict = field(default_factory=dict)
    analysis: AnalysisRecord | None = None  # the analysis set's replay (docs/analysis-set.md); None: probes only

    @property
    def config(self) -> dict:
        """Return the run's config as a dict (parsed from `config_json`)."""
        return json.loads(self.config_json)

    @property
    def layer_names(self) -> list[str]:
        """Return the recorded layers in model order."""
        return list(self.activations)

    def save(self, path: str | os.PathLike) -> None:
        """Write the HDF5 archive atomically (a temporary file renamed over `path`)."""
        layers = {name: np.asarray(values, np.float16) for name, values in self.activations.items()}
        with staged(Path(path)) as staging:
            write_chunk_file(staging, layers, self.small_arrays(), self.texts(), self.analysis)

    def small_arrays(self) -> dict:
        """Return every array but the snapshots, as the archive stores them."""
        return {"steps": self.steps, "probe_images": self.probe_images, "probe_labels": self.probe_labels,
                "train_steps": np.arange(1, len(self.train_loss) + 1), "train_loss": self.train_loss,
                "train_accuracy": self.train_accuracy, "test_steps": self.test_steps, "test_loss": self.test_loss,
                "test_accuracy": self.test_accuracy}

    def texts(self) -> dict:
        """Return the config and meta texts as the archive stores them."""
        return {"config": self.config_json,
                "meta": json.dumps({"archive_version": ARCHIVE_VERSION, **self.meta}, sort_keys=True)}

    @classmethod
    def load(cls, path: str | os.PathLike) -> Capture:
        """Read an archive (HDF5, or an interrupted run's partial folder); raise CaptureError naming the fix."""
        path = Path(path)
        fix = f"delete {path} and run `make site` again to retrain"
        if path.is_dir():
            return cls(**read_partial(path))
        reason = not_hdf5_reason(path)
        if reason:
            raise CaptureError(f"{path} is not a readable capture archive ({reason}); {fix}")
        data = read_entries(path, fix)
        names = [str(name) for name in data["layer_names"]]
        for name in names:
            problem = snapshot_shape_problem(name, data[name].shape, len(data["steps"]), len(data["probe_labels"]))
            if problem:
                raise CaptureError(f"{path}: {problem}; {fix}")
        try:
            meta = json.loads(str(data["meta"]))
            config = json.loads(str(data["config"]))
        except json.JSONDecodeError:
            raise CaptureError(f"{path}: its config or meta is not JSON; {fix}") from None
        # The layout first, then the values (capture/value_checks.py): nothing is used before both pass.
        problem = meta_problem(meta) or arrays_problem(data, names, config, meta) or values_problem(data, names, meta)
        analysis = data["analysis"]
        if not problem and analysis is not None:  # optional: an archive without it measures on the probes
            problem = analysis_problem(analysis, data, names, meta) or analysis_values_problem(analysis, names)
        if problem:
            fix = f"delete {path} and {diverged_fix(config)}" if problem.endswith(DIVERGED) else fix
            raise CaptureError(f"{path}: {problem}; {fix}")
        return cls(
            steps=data["steps"], probe_images=data["probe_images"], probe_labels=data["probe_labels"],
            activations={name: data[name] for name in names},
            train_loss=data["train_loss"], train_accuracy=data["train_accuracy"],
            test_steps=data["test_steps"], test_loss=data["test_loss"], test_accuracy=data["test_accuracy"],
            config_json=str(data["config"]), meta=meta, analysis=None if analysis is None else AnalysisRecord(
                indices=analysis["indices"], images=analysis["images"], labels=analysis["labels"],
                steps=analysis["steps"], resamples=int(meta["analysis"]["resamples"]),
                seed=int(meta["analysis"]["seed"]), final=analysis["final"], series=analysis["series"]),
        )
