"""One writer per build folder: an exclusive `flock` on a file in it, held until the process ends.

    lock = hold(build_dir, wait=False)   # raises BuildBusy naming the other run's pid when it is taken

The kernel releases the lock when the holding process dies however it dies, so a killed run never
leaves the folder locked. Every stage of a run reads and writes the build folder under this one lock,
so two runs can never mix one's capture with the other's model.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

LOCK_NAME = ".generate.lock"


class BuildBusy(ValueError):
    """Another run holds the build folder's lock."""


class BuildLock:
    """An exclusive lock on a build folder, released when closed or when the process ends."""

    def __init__(self, handle: int, path: Path):
        self.handle, self.path = handle, path

    def close(self) -> None:
        """Release the lock."""
        if self.handle >= 0:
            os.close(self.handle)  # closing the descriptor releases the flock
            self.handle = -1


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


def hold(build_dir: Path, *, wait: bool = False, flag: str = "--build-dir") -> BuildLock:
    """Take the build folder's lock; when another run holds it, wait (`wait`) or raise BuildBusy."""
    path = Path(build_dir) / LOCK_NAME
    handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            if not wait:
                raise BuildBusy(f"another generate.py run{holder} is using {flag} {build_dir}: wait for it to "
                                f"finish, pass --wait to wait for it, or pass another {flag}") from None
            print(f"waiting for the other generate.py run{holder} using {build_dir} to finish...", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(handle)
        raise
    return BuildLock(handle, path)
