"""Atomic file writes, content hashes and the test hooks that kill or stop a run at a named point.

Every file a stage publishes is written beside its target and renamed into place, so a reader
(or the next run) sees either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import tempfile
import zipfile
from pathlib import Path

CRASH_VARIABLE = "GENERATE_CRASH_AT"  # tests set it to a crash_point name to kill the run right there
STOP_VARIABLE = "GENERATE_STOP_AT"  # tests set it to a crash_point name to stop (SIGSTOP) the run there
TEMPORARY_SUFFIX = ".tmp"


def crash_point(name: str) -> None:
    """Kill (or stop, until SIGCONT) this process when the test hooks name this point: a crash or pause on cue."""
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(STOP_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGSTOP)


def publish(temporary: str | Path, path: Path) -> None:
    """Give a finished temporary file the usual permissions (mkstemp makes it 0600) and rename it."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)


def temporary_prefix(path: Path) -> str:
    """Return the name prefix of the temporary files written for `path` (the leftovers a killed run leaves)."""
    return f".{Path(path).name}."


@contextlib.contextmanager
def atomic_output(path: Path):
    """Yield a binary stream to a temporary file beside `path`; rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=TEMPORARY_SUFFIX, dir=path.parent)
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


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def rewritten_zip(data: bytes, change, date_time: tuple | None = None) -> bytes:
    """Return a zip's bytes with each member's data replaced by change(name, data), order and compression kept.

    Each member is written anew, dated `date_time` (None: its own date), so the same input gives the same bytes.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, content in members:
            member = zipfile.ZipInfo(info.filename, date_time=date_time or info.date_time)
            member.compress_type = info.compress_type
            archive.writestr(member, change(info.filename, content))
    return buffer.getvalue()
