"""Make a saved .keras file byte-deterministic, so the same run gives the same download; tell a damaged one.

Keras writes the save time into metadata.json and the zip entries, and Python object ids into
config.json's `shared_object_id` fields; the weights themselves are already deterministic.
`archive_problem(path)` says what is wrong with a file that is not an intact .keras zip (Keras itself
reports a file that is not a zip as "File not found").
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pipeline.files import rewritten_zip

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
KERAS_MEMBERS = ("config.json", "model.weights.h5")  # what every model.save("name.keras") writes


def archive_problem(path: Path) -> str | None:
    """Return what makes `path` not an intact .keras zip (damaged, not a zip, members missing), or None."""
    if not zipfile.is_zipfile(path):
        return "is damaged or not a saved Keras model: it is not a zip archive, which a .keras file is"
    try:
        with zipfile.ZipFile(path) as archive:
            missing = [name for name in KERAS_MEMBERS if name not in archive.namelist()]
            damaged = archive.testzip()  # the first member whose CRC does not match, or None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f"is damaged: its zip archive cannot be read ({error})"
    if damaged is not None:
        return f"is damaged: its member {damaged} fails its checksum"
    if missing:
        return f"is a zip archive without {' and '.join(missing)}, so not a saved Keras model"
    return None


def renumber_shared_objects(node, numbering: dict):
    """Replace each `shared_object_id` with its order of first appearance (sharing is kept)."""
    if isinstance(node, dict):
        return {key: (numbering.setdefault(value, len(numbering) + 1) if key == "shared_object_id"
                      else renumber_shared_objects(value, numbering)) for key, value in node.items()}
    if isinstance(node, list):
        return [renumber_shared_objects(value, numbering) for value in node]
    return node


def normalise_keras_file(path: Path) -> None:
    """Rewrite a .keras zip in place with fixed times, no save date and stable object ids."""
    def normalised(name: str, data: bytes) -> bytes:
        if name == "config.json":
            return json.dumps(renumber_shared_objects(json.loads(data), {})).encode()
        if name == "metadata.json":
            metadata = json.loads(data)
            metadata.pop("date_saved", None)
            return json.dumps(metadata).encode()
        return data

    path = Path(path)
    path.write_bytes(rewritten_zip(path.read_bytes(), normalised, FIXED_ZIP_TIME))
