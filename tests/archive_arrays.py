"""Read a capture archive into plain arrays with h5py or numpy alone: the tests' independent view of it.

`read_archive(path)` returns a flat table: "steps", "probe_images", ..., "layer_names", one array per
layer under its name, and "config"/"meta" as JSON text. It reads the HDF5 layout documented in
capture/hdf5.py without the capture package's reader, so a test that recomputes a number from it does
not trust the code it checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


def read_archive(path: str | Path) -> dict:
    """Return every array of a capture archive, layers under their names."""
    with h5py.File(Path(path), "r") as archive:
        texts = {key: bytes(archive[key][()]).decode("utf-8") for key in ("config", "meta", "layer_names")}
        arrays = {key: archive[key][()] for key in archive  # groups (activations/, analysis/) are not arrays
                  if key not in texts and isinstance(archive[key], h5py.Dataset)}
        names = json.loads(texts["layer_names"])
        arrays.update({name: archive["activations"][str(index)][()] for index, name in enumerate(names)})
    arrays.update(config=texts["config"], meta=texts["meta"], layer_names=np.array(names))
    return arrays
