"""Make a saved .keras file byte-deterministic, so the same run gives the same download.

Keras writes the save time into metadata.json and the zip entries, and Python object ids into
config.json's `shared_object_id` fields; the weights themselves are already deterministic.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            if info.filename == "config.json":
                data = json.dumps(renumber_shared_objects(json.loads(data), {})).encode()
            elif info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            member.compress_type = info.compress_type
            archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())
