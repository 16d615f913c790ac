"""The capture archive `build/capture.h5`: what one training run recorded, the one way every stage reads it.

    schema.py        what the archive holds (names, dtypes, shapes), CaptureError, the layout checks (no h5py)
    value_checks.py  what its values must be (real dtypes, sizes, finite metrics and snapshots) (no h5py)
    step_blocks.py   a layer read a block of archive chunks at a time (no h5py)
    hdf5.py          the HDF5 file: deterministic writing, chunk copying, reading, LazyLayer
    partial.py       an interrupted run's folder (state.json + chunk files): read it, finish it into the archive
    chunk_writer.py  the recorder's sink: writes each chunk and a checkpoint into that folder during training
    archive.py       `Capture`, with `Capture.load(path)` (archive or partial folder) and `capture.save(path)`

model/ writes captures through this package; render/ and report/ read them only through it. It imports
pipeline/ (atomic files) and nothing of the stages at import time.
"""
