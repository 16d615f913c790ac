"""The trained model as the site publishes it: architecture and weights, without the optimizer's state.

    write_published_model(layout.model, staging / "assets" / "model.keras")

build/model.keras keeps everything Keras saved, the optimizer's moment estimates included (for the default run
458 of its 754 KB). A reader who downloads the model wants the network that made the pictures, so the site's
copy drops the weights file's "optimizer" group and the config's compile settings: `keras.models.load_model`
returns the same layers and weights (the same predictions), uncompiled and without a warning about optimizer
variables it could not restore. Its metadata.json records the sha256 of the build's file it was made from
(`source_sha256`), which the capture's meta names, so the site stage can prove the published network is the
capture's. The zip is rewritten with h5py and zipfile alone, so the site stage still needs no TensorFlow; the
same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import h5py

from pipeline.files import rewritten_zip

WEIGHTS = "model.weights.h5"
CONFIG = "config.json"
METADATA = "metadata.json"


def _without_optimizer(weights: bytes) -> bytes:
    """Return a Keras weights file's bytes without its top-level "optimizer" group.

    The groups and datasets are made anew rather than copied with H5Ocopy, whose object headers carry the time of
    the copy: made as Keras makes them, the same weights give the same bytes.
    """
    out = io.BytesIO()
    with h5py.File(io.BytesIO(weights), "r") as source, h5py.File(out, "w") as target:
        _copy_attributes(source, target)
        for name in source:
            if name != "optimizer":
                _copy(source[name], target, name)
    return out.getvalue()


def _copy(item, parent, name: str) -> None:
    """Make `item` (a group, recursively, or a dataset) anew under `parent` with its attributes."""
    if isinstance(item, h5py.Dataset):
        made = parent.create_dataset(name, data=item[()])
    else:
        made = parent.create_group(name)
        for child in item:
            _copy(item[child], made, child)
    _copy_attributes(item, made)


def _copy_attributes(source, target) -> None:
    for key, value in source.attrs.items():
        target.attrs[key] = value


def _without_compile(config: bytes) -> bytes:
    """Return a Keras config.json without its compile settings (the model loads uncompiled)."""
    data = json.loads(config)
    data.pop("compile_config", None)
    return json.dumps(data).encode()


def write_published_model(source: Path, target: Path) -> None:
    """Write the site's copy of a .keras file: the same zip members, weights and config stripped as above."""
    original = Path(source).read_bytes()  # read once: the sha256 recorded is that of the bytes stripped

    def stripped(name: str, data: bytes) -> bytes:
        if name == WEIGHTS:
            return _without_optimizer(data)
        if name == CONFIG:
            return _without_compile(data)
        if name == METADATA:
            return json.dumps(dict(json.loads(data), source_sha256=hashlib.sha256(original).hexdigest())).encode()
        return data

    Path(target).write_bytes(rewritten_zip(original, stripped))


def source_sha256(published: Path) -> str | None:
    """Return the sha256 of the file a published model was made from (None: not one write_published_model wrote)."""
    try:
        with zipfile.ZipFile(published) as archive:
            return json.loads(archive.read(METADATA)).get("source_sha256")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
