"""Atomic file writes shared by every stage: write beside the target, then rename into place."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def publish(temporary: str | Path, path: Path) -> None:
    """Give a finished temporary file the usual permissions (mkstemp makes it 0600) and rename it."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)


@contextlib.contextmanager
def atomic_output(path: Path):
    """Yield a binary stream to a temporary file beside `path`; rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        publish(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path` and rename it into place."""
    with atomic_output(path) as stream:
        stream.write(data)


def write_text_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text to a temporary file beside `path` and rename it into place."""
    write_bytes_atomically(path, text.encode("utf-8"))


def fingerprint(paths) -> str:
    """Return a short hash of the names and contents of the given files, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
