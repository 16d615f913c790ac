"""The HDF5 capture archive (`build/capture.h5`): deterministic files, chunked snapshots, lazy reading.

One file holds what capture/schema.py documents, as HDF5 datasets:

    steps, probe_images, probe_labels, train_steps, train_loss, train_accuracy,
    test_steps, test_loss, test_accuracy     the arrays, stored whole (small)
    config, meta, layer_names                UTF-8 JSON text as uint8 bytes (no attribute size limit)
    activations/0, activations/1, ...        each recorded layer's (T, N, H, W, C) float16, in
                                             recording order (layer_names[i] is activations/i), chunked
                                             CHUNK_ROWS snapshots at a time, shuffle + gzip + fletcher32
    analysis/...                             optional: the analysis set's replay (capture/schema.py's
                                             table); analysis/final/<i> and analysis/series/<i>/<name>
                                             numbered as activations/<i>

Read it with `Capture.load(path)` (capture/archive.py: `read_entries` here, then the checks; a layer is
read lazily, when indexed) or with h5py directly. The same arrays give the same bytes: no timestamps
(track_times off for every object, the root included), fixed library version bounds, fixed chunk shape
and filters.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np

from capture.analysis_record import SERIES
from capture.schema import ANALYSIS_ARRAYS, CHUNK_ROWS, SMALL, TEXTS, CaptureError
from capture.value_checks import analysis_size_problem, stored_size_problem
from pipeline.files import TEMPORARY_SUFFIX, publish, temporary_prefix

GZIP_LEVEL = 1  # level 4 saved 10% more space for 20% more write time (bench/archive_formats.py at 5973e53)
SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ORDER = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED


def short_error(error: BaseException) -> str:
    """Return an error's text on one line, at most 160 characters (its type's name when it has none)."""
    return " ".join(str(error).split())[:160] or type(error).__name__


def not_hdf5_reason(path: Path) -> str | None:
    """Say why a file is not an HDF5 file (unreadable, or another kind of file), or return None when it is one."""
    try:
        with open(path, "rb") as stream:
            return None if stream.read(8) == SIGNATURE else "not an HDF5 file"
    except OSError as error:
        return short_error(error)


@contextlib.contextmanager
def staged(path: Path):
    """Yield a temporary path beside `path` to write a file by name; rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=TEMPORARY_SUFFIX, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        publish(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_file(path: Path) -> h5py.File:
    """Create an HDF5 file whose bytes depend only on what is written into it."""
    access = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    access.set_libver_bounds(h5py.h5f.LIBVER_V110, h5py.h5f.LIBVER_V110)
    creation = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    creation.set_obj_track_times(False)  # the root group's object header would carry the time
    creation.set_link_creation_order(_ORDER)
    return h5py.File(h5py.h5f.create(os.fsencode(path), h5py.h5f.ACC_TRUNC, fapl=access, fcpl=creation))


def _group(parent: h5py.Group, name: str) -> h5py.Group:
    creation = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    creation.set_obj_track_times(False)
    creation.set_link_creation_order(_ORDER)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=creation))


def _layer_dataset(group: h5py.Group, index: int, shape: tuple) -> h5py.Dataset:
    return group.create_dataset(str(index), shape=shape, maxshape=(None, *shape[1:]), dtype=np.float16,
                                chunks=(CHUNK_ROWS, *shape[1:]),
                                compression="gzip", compression_opts=GZIP_LEVEL, shuffle=True, fletcher32=True,
                                track_times=False)


def write_small(archive: h5py.File, arrays: dict, texts: dict) -> None:
    """Write the small arrays (as their documented dtypes) and the JSON texts."""
    for key, dtype in SMALL.items():
        if key in arrays:
            archive.create_dataset(key, data=np.asarray(arrays[key], dtype), track_times=False)
    for key, text in texts.items():
        archive.create_dataset(key, data=np.frombuffer(text.encode("utf-8"), np.uint8), track_times=False)


def write_analysis(archive: h5py.File, analysis, names: list[str]) -> None:
    """Write an AnalysisRecord as the `analysis/` group, its layers numbered in the order of `names`."""
    group = _group(archive, "analysis")
    for key, dtype in ANALYSIS_ARRAYS.items():
        group.create_dataset(key, data=np.asarray(getattr(analysis, key), dtype), track_times=False)
    final, series = _group(group, "final"), _group(group, "series")
    for index, name in enumerate(names):
        values = np.asarray(analysis.final[name], np.float16)
        final.create_dataset(str(index), data=values, chunks=(min(CHUNK_ROWS, len(values)), *values.shape[1:]),
                             compression="gzip", compression_opts=GZIP_LEVEL, shuffle=True, fletcher32=True,
                             track_times=False)
        layer = _group(series, str(index))
        for key in SERIES:
            layer.create_dataset(key, data=np.asarray(analysis.series[name][key], np.float64), track_times=False)


def read_analysis(archive: h5py.File, names: list[str]) -> dict | None:
    """Return the `analysis/` group's arrays ({key}, final {name}, series {name: {key}}), or None without one."""
    group = archive.get("analysis")
    if group is None:
        return None
    missing = [key for key in (*ANALYSIS_ARRAYS, "final", "series") if key not in group]
    final = group.get("final", {})
    missing += [f"final/{index}" for index in range(len(names)) if str(index) not in final]
    if missing:
        return {"missing": missing}
    # Shapes before values: a forged group of gigabytes is refused (capture/schema.py analysis_size_problem).
    shapes = {key: group[key].shape for key in ANALYSIS_ARRAYS}
    shapes.update({f"final/{index}": group["final"][str(index)].shape for index in range(len(names))})
    oversized = analysis_size_problem(shapes)
    if oversized:
        return {"oversized": oversized}
    data = {key: group[key][()] for key in ANALYSIS_ARRAYS}
    data["final"] = {name: group["final"][str(index)][()] for index, name in enumerate(names)}
    series = group["series"]
    data["series"] = {name: {key: series[str(index)][key][()] for key in SERIES
                             if str(index) in series and key in series[str(index)]}
                      for index, name in enumerate(names)}
    return data


def write_chunk_file(path: Path, layers: dict[str, np.ndarray], arrays: dict, texts: dict, analysis=None) -> None:
    """Write one flushed chunk (at most CHUNK_ROWS snapshots per layer, one HDF5 chunk each) as its own file."""
    with create_file(path) as archive:
        write_small(archive, arrays, {**texts, "layer_names": json.dumps(list(layers))})
        group = _group(archive, "activations")
        for index, values in enumerate(layers.values()):
            _layer_dataset(group, index, values.shape)[...] = np.asarray(values, np.float16)
        if analysis is not None:
            write_analysis(archive, analysis, list(layers))


def assemble(path: Path, chunk_files: list[Path], arrays: dict, texts: dict, analysis=None) -> None:
    """Write the final archive from the chunk files, copying their compressed chunks as they are."""
    sources = [h5py.File(file, "r") for file in chunk_files]
    try:
        names = json.loads(bytes(sources[0]["layer_names"][()]).decode())
        total = sum(len(source["steps"]) for source in sources)
        with create_file(path) as archive:
            write_small(archive, arrays, {**texts, "layer_names": json.dumps(names)})
            group = _group(archive, "activations")
            for index in range(len(names)):
                first = sources[0]["activations"][str(index)]
                target = _layer_dataset(group, index, (total, *first.shape[1:]))
                row = 0
                for source in sources:
                    dataset = source["activations"][str(index)]
                    mask, raw = dataset.id.read_direct_chunk((0,) * dataset.ndim)
                    target.id.write_direct_chunk((row,) + (0,) * (dataset.ndim - 1), raw, mask)
                    row += len(dataset)
            if analysis is not None:
                write_analysis(archive, analysis, names)
    finally:
        for source in sources:
            source.close()


def read_text(archive: h5py.File, key: str) -> str:
    """Return one of the JSON texts."""
    return bytes(archive[key][()]).decode("utf-8")


def read_entries(path: Path, fix: str) -> dict:
    """Return the archive's entries as `Capture.load` checks them: small arrays whole, layers as LazyLayer."""
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
            analysis = read_analysis(archive, names)
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as error:
        if isinstance(error, CaptureError):
            raise
        raise CaptureError(f"{path} is not a readable capture archive (truncated or damaged: {short_error(error)}); "
                           f"{fix}") from None
    absent = [name for name, shape in zip(names, shapes) if shape is None]
    if absent:
        raise CaptureError(f"{path} lacks {', '.join(absent)}: not a capture of this tool; {fix}")
    data.update(config=np.array(texts["config"]), meta=np.array(texts["meta"]), layer_names=np.array(names),
                analysis=analysis)
    data.update({name: LazyLayer(path, index, shape, fix, dtype)
                 for index, (name, shape, dtype) in enumerate(zip(names, shapes, dtypes))})
    return data


class LazyLayer(np.lib.mixins.NDArrayOperatorsMixin):
    """A layer's (T, N, H, W, C) snapshots in an HDF5 file, read only where indexed.

    Indexing (`values[k]`, `values[a:b]`, `values[[0, 4]]`) reads just those snapshots; `np.asarray(values)`
    and any ndarray method or operator (`.astype`, `.max()`, `values * 2`) read the whole layer.
    The file is opened once per process and thread-safe through h5py's lock.
    """

    def __init__(self, path: Path, index: int, shape: tuple, fix: str, dtype=np.float16):
        self.path, self.index, self.shape, self.fix = Path(path), index, tuple(shape), fix
        self.dtype = np.dtype(dtype)  # the file's own: Capture.load refuses any but floats
        self._handle = None

    def __getstate__(self):
        return {**self.__dict__, "_handle": None}

    @property
    def ndim(self) -> int:
        """Return 5."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Return the number of values."""
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Return the bytes the layer takes when read whole."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    @contextlib.contextmanager
    def reading(self):
        """Yield the layer's h5py dataset from a handle of its own, closed afterwards (for one pass over it)."""
        with h5py.File(self.path, "r") as archive:
            yield archive["activations"][str(self.index)]

    def _dataset(self) -> h5py.Dataset:
        if self._handle is None or self._handle[0] != os.getpid():
            self._handle = (os.getpid(), h5py.File(self.path, "r"))
        return self._handle[1]["activations"][str(self.index)]

    def __getitem__(self, key):
        try:
            dataset = self._dataset()
            first = key[0] if isinstance(key, tuple) and key else key
            if isinstance(first, (list, np.ndarray)) and not isinstance(first, bool):
                rows = np.asarray(first).astype(np.int64) % self.shape[0]
                unique, inverse = np.unique(rows, return_inverse=True)  # h5py wants increasing rows
                taken = dataset[unique] if len(unique) else np.zeros((0, *self.shape[1:]), self.dtype)
                rest = key[1:] if isinstance(key, tuple) else ()
                return taken[inverse][(slice(None), *rest)] if rest else taken[inverse]
            return dataset[key]
        except (OSError, KeyError, RuntimeError) as error:
            raise CaptureError(f"{self.path}: layer {self.index} cannot be read ({error}); {self.fix}") from None

    def __array__(self, dtype=None, copy=None):
        values = self[...]
        return values if dtype is None else values.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(np.asarray(value) if isinstance(value, LazyLayer) else value for value in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getattr__(self, name):
        if name.startswith("_") or name in ("path", "index", "shape", "fix", "dtype"):
            raise AttributeError(name)
        return getattr(np.asarray(self), name)  # an ndarray method: read the whole layer

    def __repr__(self) -> str:
        return f"LazyLayer({self.path.name}, activations/{self.index}, shape={self.shape}, {self.dtype})"
