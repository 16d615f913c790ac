"""Compare archive formats for the capture's snapshots: today's .npz, a folder of .npy files, HDF5 (h5py).

    .venv/bin/python bench/archive_formats.py [--capture build/capture.h5] [--scale 10] [--out DIR]

It takes a real run's snapshots (the default run's 291 x 10 probes of conv1..conv6) and, for the longer
run, makes `scale` times as many by interpolating between consecutive snapshots (activations drift
slowly, so this keeps their compressibility close to a real run's). For each format it reports the
write time (the HDF5 one appends 64-snapshot chunks, as the streaming writer does), the size, the time
to read one layer whole and one step of every layer (each in a fresh file handle, after the page cache
was warmed by the write), and whether writing twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from model.archive_h5 import create_file  # noqa: E402

CHUNK = 64  # snapshots per flushed chunk


def snapshots(capture: Path, scale: int) -> dict[str, np.ndarray]:
    """Return {layer: (T, N, H, W, C) float16}, stretched `scale` times by linear interpolation."""
    with np.load(capture, allow_pickle=False) as archive:
        layers = {str(name): archive[str(name)] for name in archive["layer_names"]}
    if scale == 1:
        return layers
    out = {}
    for name, values in layers.items():
        values = values.astype(np.float32)
        parts = [values[:1]]
        for step in range(1, len(values)):
            weights = (np.arange(1, scale + 1, dtype=np.float32) / scale)[:, None, None, None, None]
            parts.append(values[step - 1] + weights * (values[step] - values[step - 1]))
        out[name] = np.concatenate(parts).astype(np.float16)
    return out


def write_npz(path: Path, layers: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, values in layers.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, values, allow_pickle=False)


def read_npz(path: Path, name: str | None, step: int | None):
    with np.load(path, allow_pickle=False) as archive:
        if name is not None:
            return archive[name].sum(dtype=np.float64)
        return sum(archive[key][step].sum(dtype=np.float64) for key in archive.files)  # whole members inflated


def write_npy_folder(path: Path, layers: dict) -> None:
    path.mkdir()
    for name, values in layers.items():  # appended chunk by chunk, header written for the final length
        with open(path / f"{name}.npy", "wb") as stream:
            np.lib.format.write_array_header_1_0(stream, {"descr": "<f2", "fortran_order": False,
                                                           "shape": values.shape})
            for start in range(0, len(values), CHUNK):
                stream.write(values[start:start + CHUNK].tobytes())


def read_npy_folder(path: Path, name: str | None, step: int | None):
    if name is not None:
        return np.load(path / f"{name}.npy", mmap_mode="r").sum(dtype=np.float64)
    return sum(np.load(file, mmap_mode="r")[step].sum(dtype=np.float64) for file in sorted(path.glob("*.npy")))


def hdf5_writer(compression, level, rows):
    def write(path: Path, layers: dict) -> None:
        with create_file(path) as archive:  # no timestamps: the same bytes for the same arrays
            sets = {}
            for name, values in layers.items():
                sets[name] = archive.create_dataset(
                    name, shape=(0, *values.shape[1:]), maxshape=(None, *values.shape[1:]), dtype=np.float16,
                    chunks=(rows, *values.shape[1:]), compression=compression, compression_opts=level,
                    shuffle=compression is not None, track_times=False)
            total = len(next(iter(layers.values())))
            for start in range(0, total, CHUNK):
                for name, values in layers.items():
                    part = values[start:start + CHUNK]
                    sets[name].resize(start + len(part), axis=0)
                    sets[name][start:] = part
                archive.flush()
    return write


def read_hdf5(path: Path, name: str | None, step: int | None):
    with h5py.File(path, "r") as archive:
        if name is not None:
            return archive[name][()].sum(dtype=np.float64)
        return sum(archive[key][step].sum(dtype=np.float64) for key in archive)


def size_of(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*")) if path.is_dir() else path.stat().st_size


def digest(path: Path) -> str:
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return hashlib.sha256(b"".join(file.read_bytes() for file in files)).hexdigest()


def timed(function, *args, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - started)
    return best


FORMATS = {
    "npz (today, deflate)": (write_npz, read_npz, ".npz"),
    "npy folder (raw, mmap)": (write_npy_folder, read_npy_folder, ""),
    "hdf5 gzip-1 + shuffle, 64-row chunks": (hdf5_writer("gzip", 1, 64), read_hdf5, ".h5"),
    "hdf5 gzip-4 + shuffle, 64-row chunks": (hdf5_writer("gzip", 4, 64), read_hdf5, ".h5"),
    "hdf5 gzip-1 + shuffle, 8-row chunks": (hdf5_writer("gzip", 1, 8), read_hdf5, ".h5"),
    "hdf5 lzf + shuffle, 64-row chunks": (hdf5_writer("lzf", None, 64), read_hdf5, ".h5"),
    "hdf5 uncompressed, 64-row chunks": (hdf5_writer(None, None, 64), read_hdf5, ".h5"),
}


def measure(layers: dict, folder: Path) -> list[dict]:
    rows = []
    raw = sum(values.nbytes for values in layers.values())
    steps = len(next(iter(layers.values())))
    for label, (write, read, suffix) in FORMATS.items():
        paths = [folder / f"a{suffix}", folder / f"b{suffix}"]
        started = time.perf_counter()
        write(paths[0], layers)
        write_s = time.perf_counter() - started
        write(paths[1], layers)
        rows.append({"format": label, "snapshots": steps, "raw_mb": round(raw / 1e6, 1),
                     "write_s": round(write_s, 3), "size_mb": round(size_of(paths[0]) / 1e6, 1),
                     "read_layer_conv1_s": round(timed(read, paths[0], "conv1", None), 4),
                     "read_one_step_all_layers_s": round(timed(read, paths[0], None, steps // 2), 4),
                     "same_bytes_twice": digest(paths[0]) == digest(paths[1])})
        for path in paths:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", default="build/capture.h5")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--out", default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    scratch = Path(args.out or tempfile.mkdtemp(prefix="archive-formats-"))
    scratch.mkdir(parents=True, exist_ok=True)
    results = {}
    for scale in (1, args.scale):
        results[f"x{scale}"] = measure(snapshots(Path(args.capture), scale), scratch)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
