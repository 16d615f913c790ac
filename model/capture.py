"""The capture archive `build/capture.h5` (earlier `build/capture.npz`): one documented content, no Keras needed.

`Capture` holds what a run recorded (model/recorder.py records it during `fit`):

    steps               (T,)            int32    step of each snapshot (0 = before training)
    probe_images        (N, H, W)       uint8    the pictured test images, grey (0 black .. 255 white),
                        or (N, H, W, 3)          or RGB; float data min-max scaled over the probes
    probe_labels        (N,)            int32    their classes
    layer_names         (L,)            str      recorded layers, in model order ("outer/inner" if nested)
    <layer name>        (T, N, H, W, C) float16  that layer's output for the probes at each step (a Dense
                                                 layer's (units,) as (1, 1, units), (L, C) as (1, L, C))
    train_steps         (S,)            int32    1..S
    train_loss          (S,)            float32  each step's own batch loss (not a running mean)
    train_accuracy      (S,)            float32  each step's own batch accuracy
    test_steps          (K,)            int32    steps at which the test set was evaluated
    test_loss           (K,)            float32
    test_accuracy       (K,)            float32
    config              ()              str      Config.to_json() of the run
    meta                ()              str      JSON: dataset actually used, sizes, final test
                                                 metrics on the whole test set, timings, versions;
                                                 "layers" (every layer), "recorded_layers" (name, kind,
                                                 activation, output_shape, stored_shape, in archive
                                                 order) and "model" (origin, source, source_sha256,
                                                 name, loss, label_format): older archives lack the
                                                 last two (the article's tanh model)

`Capture.load(path)` is the one reader: it opens the HDF5 archive (model/archive_h5.py, written
chunk by chunk during training by model/stream.py), today's `.npz` archives (`np.load(path,
allow_pickle=False)` reads those too), and the partial archive of an interrupted run (a folder,
model/stream.py: the flushed snapshots, meta["complete"] false). From HDF5 a layer's snapshots
are read lazily, only where indexed (model/archive_h5.py `LazyLayer`); from `.npz` whole. A complete
archive is refused (CaptureError, one line naming the fix) unless its values are what this documents:
real dtypes, the shapes its meta states, probe images the page can carry, finite metrics and snapshots
(model/capture_checks.py; the snapshots are read through once, a block at a time).
"""

from __future__ import annotations

import json
import numbers
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.archive_h5 import is_hdf5
from model.capture_checks import DIVERGED, diverged_fix, stored_size_problem, values_problem
from pipeline.files import atomic_output

ARCHIVE_VERSION = 1
# The archive's own entries: a recorded layer may not have one of these names (its array would collide).
ARCHIVE_KEYS = frozenset({"steps", "probe_images", "probe_labels", "layer_names", "train_steps", "train_loss",
                          "train_accuracy", "test_steps", "test_loss", "test_accuracy", "config", "meta"})
# What the meta must hold (the report states each of these): key -> expected JSON kind.
META_FIELDS = {"dataset": dict, "final_test_accuracy": numbers.Real, "final_test_loss": numbers.Real,
               "final_test_size": int, "layers": list, "total_parameters": int, "steps_per_epoch": int,
               "epochs": numbers.Real, "test_subset_size": int}
DATASET_FIELDS = {"name": str, "title": str, "source": str, "train_size": int, "test_size": int,
                  "probe_indices": list, "class_names": list}


class CaptureError(ValueError):
    """A capture archive that cannot be used (corrupt, foreign, or of another config)."""


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

    @property
    def config(self) -> dict:
        """Return the run's config as a dict (parsed from `config_json`)."""
        return json.loads(self.config_json)

    @property
    def layer_names(self) -> list[str]:
        """Return the recorded layers in model order."""
        return list(self.activations)

    def save(self, path: str | os.PathLike) -> None:
        """Write the archive atomically (a temporary file renamed over `path`): HDF5 for `.h5`, else `.npz`."""
        path = Path(path)
        if path.suffix == ".h5":
            from model.archive_h5 import staged, write_chunk_file

            with staged(path) as staging:
                write_chunk_file(staging, {name: np.asarray(values, np.float16)
                                           for name, values in self.activations.items()},
                                 self.small_arrays(), self.texts())
            return
        arrays = {
            "steps": np.asarray(self.steps, np.int32),
            "probe_images": np.asarray(self.probe_images, np.uint8),
            "probe_labels": np.asarray(self.probe_labels, np.int32),
            "layer_names": np.array(self.layer_names),
            "train_steps": np.arange(1, len(self.train_loss) + 1, dtype=np.int32),
            "train_loss": np.asarray(self.train_loss, np.float32),
            "train_accuracy": np.asarray(self.train_accuracy, np.float32),
            "test_steps": np.asarray(self.test_steps, np.int32),
            "test_loss": np.asarray(self.test_loss, np.float32),
            "test_accuracy": np.asarray(self.test_accuracy, np.float32),
            "config": np.array(self.config_json),
            "meta": np.array(json.dumps({"archive_version": ARCHIVE_VERSION, **self.meta}, sort_keys=True)),
        }
        for name, values in self.activations.items():
            arrays[name] = np.asarray(values, np.float16)
        write_npz_atomically(path, arrays)

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
        """Read an archive (HDF5, .npz, or an interrupted run's partial folder); raise CaptureError naming the fix."""
        path = Path(path)
        fix = f"delete {path} and run `make site` again to retrain"
        if path.is_dir():
            from model.stream import read_partial

            return read_partial(path)
        if is_hdf5(path):
            data = _read_hdf5(path, fix)
        else:
            try:
                with np.load(path, allow_pickle=False) as archive:
                    data = {key: archive[key] for key in archive.files}
            except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error, KeyError) as error:
                raise CaptureError(f"{path} is not a readable capture archive ({_short(error)}); {fix}") from None
        required = ("steps", "probe_images", "probe_labels", "layer_names", "train_loss", "train_accuracy",
                    "test_steps", "test_loss", "test_accuracy", "config", "meta")
        missing = [key for key in required if key not in data]
        names = [str(name) for name in data.get("layer_names", [])]
        missing += [name for name in names if name not in data]
        if missing:
            raise CaptureError(f"{path} lacks {', '.join(missing)}: not a capture of this tool; {fix}")
        for name in names:
            problem = snapshot_shape_problem(name, data[name].shape, len(data["steps"]), len(data["probe_labels"]))
            if problem:
                raise CaptureError(f"{path}: {problem}; {fix}")
        try:
            meta = json.loads(str(data["meta"]))
            config = json.loads(str(data["config"]))
        except json.JSONDecodeError:
            raise CaptureError(f"{path}: its config or meta is not JSON; {fix}") from None
        # The layout first, then the values (model/capture_checks.py): nothing is used before both pass.
        problem = _meta_problem(meta) or _arrays_problem(data, names, config, meta) or values_problem(data, names, meta)
        if problem:
            fix = f"delete {path} and {diverged_fix(config)}" if problem.endswith(DIVERGED) else fix
            raise CaptureError(f"{path}: {problem}; {fix}")
        return cls(
            steps=data["steps"], probe_images=data["probe_images"], probe_labels=data["probe_labels"],
            activations={name: data[name] for name in names},
            train_loss=data["train_loss"], train_accuracy=data["train_accuracy"],
            test_steps=data["test_steps"], test_loss=data["test_loss"], test_accuracy=data["test_accuracy"],
            config_json=str(data["config"]), meta=meta,
        )


def _short(error) -> str:
    return " ".join(str(error).split())[:160] or type(error).__name__


def _read_hdf5(path: Path, fix: str) -> dict:
    """Return the archive's entries as `load` checks them: small arrays whole, layers as LazyLayer."""
    import h5py

    from model.archive_h5 import SMALL, TEXTS, LazyLayer, read_text

    try:
        with h5py.File(path, "r") as archive:
            missing = [key for key in (*SMALL, *TEXTS) if key not in archive]
            if missing:
                raise CaptureError(f"{path} lacks {', '.join(missing)}: not a capture of this tool; {fix}")
            # Sizes before reading: a forged array of gigabytes is refused, not loaded.
            oversized = next(filter(None, (stored_size_problem(key, getattr(archive[key], "shape", None))
                                            for key in SMALL)), None)
            if oversized:
                raise CaptureError(f"{path}: {oversized}; {fix}")
            data = {key: archive[key][()] for key in SMALL}
            texts = {key: read_text(archive, key) for key in TEXTS}
            names = [str(name) for name in json.loads(texts["layer_names"])]
            group = archive.get("activations")
            layers = [group[str(index)] if group is not None and str(index) in group else None
                      for index in range(len(names))]
            shapes = [None if layer is None else layer.shape for layer in layers]
            dtypes = [None if layer is None else layer.dtype for layer in layers]
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as error:
        if isinstance(error, CaptureError):
            raise
        raise CaptureError(f"{path} is not a readable capture archive (truncated or damaged: {_short(error)}); "
                           f"{fix}") from None
    absent = [name for name, shape in zip(names, shapes) if shape is None]
    if absent:
        raise CaptureError(f"{path} lacks {', '.join(absent)}: not a capture of this tool; {fix}")
    data.update(config=np.array(texts["config"]), meta=np.array(texts["meta"]), layer_names=np.array(names))
    data.update({name: LazyLayer(path, index, shape, fix, dtype)
                 for index, (name, shape, dtype) in enumerate(zip(names, shapes, dtypes))})
    return data


def snapshot_shape_problem(name: str, shape: tuple, steps: int, probes: int) -> str | None:
    """Say what is wrong with a layer's snapshot array shape, or return None if it is (T, N, H, W, C)."""
    if len(shape) != 5 or shape[0] != steps or shape[1] != probes or 0 in shape:
        return f"layer {name} has shape {tuple(shape)}, expected (T={steps}, N={probes}, H, W, C)"
    return None


def _kind_problem(where: str, values: dict, fields: dict) -> str | None:
    for key, kind in fields.items():
        value = values.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{where} lacks {key!r} or it is not a {kind.__name__}"
    return None


def _meta_problem(meta) -> str | None:
    """Say what is wrong with an archive's meta, or return None."""
    if not isinstance(meta, dict):
        return "its meta is not a JSON object"
    return _kind_problem("its meta", meta, META_FIELDS) or _kind_problem("its meta's dataset", meta["dataset"],
                                                                         DATASET_FIELDS)


def _arrays_problem(data: dict, names: list[str], config, meta: dict) -> str | None:
    """Say what is wrong with an archive's arrays and labels, or return None."""
    if not isinstance(config, dict):
        return "its config is not a JSON object"
    steps, labels, probes = data["steps"], data["probe_labels"], data["probe_images"]
    if steps.ndim != 1 or steps.size == 0 or steps.dtype.kind not in "iu" or np.any(np.diff(steps) <= 0):
        return "its steps are not an increasing list of integers"
    rgb = probes.ndim == 4 and probes.shape[-1] == 3
    if (probes.ndim != 3 and not rgb) or probes.dtype != np.uint8 or len(probes) != len(labels):
        return (f"its probe images are {probes.shape} {probes.dtype}, expected (N, H, W) or (N, H, W, 3) uint8 "
                f"with one label each")
    classes = len(meta["dataset"]["class_names"])
    out_of_range = labels.size and (labels.min() < 0 or labels.max() >= classes)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or out_of_range:
        return f"its probe labels are not class numbers 0..{classes - 1}"
    recorded = meta.get("recorded_layers")
    if recorded is not None and (not isinstance(recorded, list) or [row.get("name") if isinstance(row, dict)
                                                                     else None for row in recorded] != names):
        return "its meta's recorded_layers do not name the recorded layers in order"
    for key in ("train_loss", "train_accuracy", "test_steps", "test_loss", "test_accuracy"):
        if data[key].ndim != 1:
            return f"its {key} is not a 1-D array"
    if len(data["train_loss"]) != len(data["train_accuracy"]) or not (
            len(data["test_steps"]) == len(data["test_loss"]) == len(data["test_accuracy"])):
        return "its metric arrays have different lengths"
    return None


def write_npz_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save arrays as a deterministic compressed .npz next to `path`, then rename it into place.

    np.savez_compressed stamps each member with the current time; a fixed stamp keeps the bytes
    identical for identical arrays.
    """
    with atomic_output(path) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, values in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(values), allow_pickle=False)
