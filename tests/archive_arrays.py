"""Read a capture archive into plain arrays with h5py or numpy alone: the tests' independent view of it.

`read_archive(path)` returns what `np.load` of the old .npz gave: "steps", "probe_images", ...,
"layer_names", one array per layer under its name, and "config"/"meta" as JSON text. It reads the
HDF5 layout documented in model/archive_h5.py without model/'s reader, so a test that recomputes a
number from it does not trust the code it checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


def read_archive(path: str | Path) -> dict:
    """Return every array of a capture archive (.h5 or .npz), layers under their names."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    with h5py.File(path, "r") as archive:
        texts = {key: bytes(archive[key][()]).decode("utf-8") for key in ("config", "meta", "layer_names")}
        arrays = {key: archive[key][()] for key in archive if key not in texts and key != "activations"}
        names = json.loads(texts["layer_names"])
        arrays.update({name: archive["activations"][str(index)][()] for index, name in enumerate(names)})
    arrays.update(config=texts["config"], meta=texts["meta"], layer_names=np.array(names))
    return arrays
