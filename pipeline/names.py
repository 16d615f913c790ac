"""File names made from layer names, one rule for every stage: the renderer's assets and the article's figures.

    file_stems(["conv1", "block1/conv"])  ->  {"conv1": "conv1", "block1/conv": "block1-conv"}
"""

from __future__ import annotations

import re


def file_stems(names: list[str]) -> dict[str, str]:
    """Return a file-name-safe stem per layer name ("block1/conv" -> "block1-conv"), unique within `names`."""
    stems = {}
    for index, name in enumerate(names):
        stem = re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-.") or "layer"
        stems[name] = stem if stem not in stems.values() else f"{stem}-{index}"
    return stems
