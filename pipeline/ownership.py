"""Proof that the tool made a folder: the marker file it writes, holding the folder's kind and a random id.

    marker = read_marker(folder)          # None unless the tool wrote this folder
    marker.kind                           # "build", "site", "assets", "share" or "compare"
    claim(folder, BUILD)                  # create or adopt an empty folder as a build folder

A folder is the tool's only when it holds a marker the tool wrote: never because of its name or
the files it holds. The build folder's marker also lists the folders a run is building or retiring
(`pending`): their paths and the ids of their markers. A later run deletes or restores such a folder
only when it is still there with one of those ids, so a user's folder that happens to have a
similar name is never touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.files import write_text_atomically

MARKER_NAME = ".made-by-generate-py"
TOOL = "generate.py (Watch a neural network learn to see)"
NOTE = ("This folder was written by generate.py and is replaced or rewritten by every build: keep no files of your "
        "own in it. This file is how the tool knows the folder is its own; do not copy it into other folders.")
# The marker of versions before ids: the tool's own text, so it still proves the folder is the tool's.
LEGACY_TEXT = ("This folder was written by generate.py (Watch a neural network learn to see) and is replaced or "
               "rewritten by every build: keep no files of your own in it.\n")
BUILD, SITE, ASSETS, SHARE = "build", "site", "assets", "share"  # SHARE: the folder of the one-file report
COMPARE = "compare"  # the comparison page of several runs (compare/)
KINDS = (BUILD, SITE, ASSETS, SHARE, COMPARE)
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Marker:
    """What a folder's marker says: its kind, its id and (build folders) the folders a run left pending."""

    kind: str
    id: str
    pending: tuple[dict, ...] = field(default=())

    def to_json(self) -> str:
        """Return the marker file's text."""
        body = {"note": NOTE, "tool": TOOL, "kind": self.kind, "id": self.id}
        if self.pending:
            body["pending"] = list(self.pending)
        return json.dumps(body, indent=1, sort_keys=True) + "\n"


def new_id() -> str:
    """Return a fresh random id for a marker."""
    return secrets.token_hex(16)


def read_marker(folder: Path) -> Marker | None:
    """Return the marker the tool wrote in `folder`, or None when there is none (or it is not the tool's)."""
    path = Path(folder) / MARKER_NAME
    if path.is_symlink() or not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if text == LEGACY_TEXT:
        # Written by the tool before markers had kinds; only a site ever held an index.html.
        return Marker(SITE if (Path(folder) / "index.html").is_file() else BUILD, "")
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("tool") != TOOL or body.get("kind") not in KINDS:
        return None
    if not isinstance(body.get("id"), str) or not ID_PATTERN.fullmatch(body["id"]):
        return None
    pending = body.get("pending", [])
    pending = tuple(entry for entry in pending if _valid_entry(entry)) if isinstance(pending, list) else ()
    return Marker(body["kind"], body["id"], pending)


def _valid_entry(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("path"), str) and isinstance(entry.get("target"), str)
            and isinstance(entry.get("ids"), list) and all(isinstance(one, str) and ID_PATTERN.fullmatch(one)
                                                           for one in entry["ids"]))


def write_marker(folder: Path, marker: Marker) -> None:
    """Write (atomically) the marker of a folder the tool owns."""
    write_text_atomically(Path(folder) / MARKER_NAME, marker.to_json())


def with_id(folder: Path) -> Marker:
    """Return the folder's marker, first giving an id to a marker written before ids existed."""
    marker = read_marker(folder)
    if marker is None:
        raise ValueError(f"{folder} has no marker of this tool")
    if not marker.id:
        marker = replace(marker, id=new_id())
        write_marker(folder, marker)
    return marker


def is_empty(folder: Path, ignoring: frozenset = frozenset()) -> bool:
    """Return True when `folder` is a folder with nothing in it (but the entries named in `ignoring`)."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    with os.scandir(folder) as entries:
        return all(entry.name in ignoring for entry in entries)


def claim(folder: Path, kind: str, ignoring: frozenset = frozenset()) -> Marker:
    """Return the marker of a folder of `kind` the tool owns, marking it first when it is new or empty."""
    folder = Path(folder)
    marker = read_marker(folder) if folder.is_dir() else None
    if marker is not None and marker.kind == kind:
        return with_id(folder)
    if marker is not None or (folder.exists() and not is_empty(folder, ignoring)):
        raise ValueError(f"{folder} is not a {kind} folder of this tool")
    folder.mkdir(parents=True, exist_ok=True)
    marker = Marker(kind, new_id())
    write_marker(folder, marker)
    return marker


def add_pending(build_dir: Path, path: Path, target: Path, ids: list[str], restore: bool = False) -> None:
    """Record in the build folder's marker that `path` (marked with one of `ids`) is a run's unfinished folder."""
    marker = with_id(build_dir)
    entry = {"path": str(Path(path).absolute()), "target": str(Path(target).absolute()), "ids": sorted(ids),
             "restore": restore}
    kept = [one for one in marker.pending if one["path"] != entry["path"]]
    write_marker(build_dir, replace(marker, pending=(*kept, entry)))


def drop_pending(build_dir: Path, path: Path) -> None:
    """Forget a folder recorded by add_pending (it was swapped in, restored or removed)."""
    marker = read_marker(build_dir)
    if marker is None:
        return
    absolute = str(Path(path).absolute())
    kept = tuple(one for one in marker.pending if one["path"] != absolute)
    if kept != marker.pending:
        write_marker(build_dir, replace(marker, pending=kept))
