"""Output folders the tool owns: which folders it may write or replace, and how it swaps one in.

A folder is the tool's only when it holds the marker the tool wrote (pipeline/ownership.py), of the
right kind: a build folder is never taken as a site, nor a site as a build folder. Anything else
that is not absent or empty is refused. The site folder (and the share folder of the one-file report,
never in or over the site) is replaced whole, so it may never be or hold the build folder, the project,
the current folder, or a parent of any of them.

`prepare` takes the build folder's lock (pipeline/build_lock.py) for the whole run. `replacing`
builds a folder's replacement beside it and exchanges the two in one `renameat2(RENAME_EXCHANGE)`
call, so whatever moment the process dies, the path holds the old folder or the new one. Where the
kernel or file system lacks it, two renames are used, and the next run restores the old folder if
a crash came between them. The build folder's marker records every folder being built or retired,
with its marker's id, so the next run clears exactly those and nothing that only looks like them.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.build_lock import LOCK_NAME, BuildLock, hold
from pipeline.files import TEMPORARY_SUFFIX, crash_point, file_sha256
from pipeline.layout import CAPTURE_NAME, MODEL_NAME, TIMINGS_NAME, Layout
from pipeline.ownership import (
    ASSETS,
    BUILD,
    COMPARE,
    MARKER_NAME,
    SHARE,
    SITE,
    Marker,
    add_pending,
    claim,
    drop_pending,
    is_empty,
    new_id,
    read_marker,
    with_id,
    write_marker,
)

OWNER_MARKER = MARKER_NAME
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NO_EXCHANGE_VARIABLE = "GENERATE_NO_EXCHANGE"  # tests set it to exercise the two-rename fallback
RENAME_EXCHANGE = 2
AT_FDCWD = -100
KIND_WORDS = {BUILD: "a build folder (capture, model, assets)", SITE: "a published site", ASSETS: "a render folder",
              SHARE: "a folder of the one-file report", COMPARE: "a comparison page of several runs"}


class FolderError(ValueError):
    """An output folder the tool must not or cannot write, with the fix in the message."""


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _protected_places() -> dict[str, Path]:
    return {"the project folder": PROJECT_ROOT, "the current folder": Path.cwd().resolve()}


def check_owned(folder: Path, flag: str, kind: str) -> None:
    """Raise FolderError unless `folder` is absent, empty, or holds the tool's marker for a folder of `kind`."""
    if folder.is_symlink():
        raise FolderError(f"{flag} {folder} is a symbolic link: pass the folder it points to, or a new folder")
    if not folder.exists():
        return
    if not folder.is_dir():
        raise FolderError(f"{flag} {folder} is a file, not a folder: pass a folder path (it is created if missing)")
    if is_empty(folder, frozenset({LOCK_NAME})):
        return
    marker = read_marker(folder)
    if marker is None:
        names = sorted(os.listdir(folder))
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise FolderError(f"{flag} {folder} already holds files this tool did not write ({shown}): pass an empty or "
                          f"new folder, or move those files away first")
    if marker.kind != kind:
        raise FolderError(f"{flag} {folder} is {KIND_WORDS[marker.kind]} written by this tool, not "
                          f"{KIND_WORDS[kind]}: pass another {flag} (the default is fine)")


def check_not_over(folder: Path, flag: str, others: dict[str, Path]) -> None:
    """Raise FolderError when `folder` is, or is a parent of, any of the protected places or `others`."""
    resolved = folder.resolve()
    for label, place in {**_protected_places(), **others}.items():
        if _is_within(place.resolve(), resolved):
            raise FolderError(f"{flag} {folder} is or holds {label}, which the tool must not replace: "
                              f"pass a folder of its own (the default is fine)")


def check_output(folder: Path, flag: str, kind: str, outside: dict[str, Path]) -> None:
    """Raise FolderError unless `folder` may be replaced whole by a new folder of `kind`, outside all of `outside`."""
    check_owned(folder, flag, kind)
    check_not_over(folder, flag, outside)
    for label, place in outside.items():
        if _is_within(folder.resolve(), place.resolve()):
            raise FolderError(f"{flag} {folder} is inside {label} {place}: pass a folder outside it")
    check_writable(folder.parent, flag)
    check_removable(folder, flag)


def check_writable(folder: Path, flag: str) -> None:
    """Raise FolderError naming the fix when files cannot be created in `folder` (or where it would be made)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"{existing} is a file"
    else:
        try:
            with tempfile.NamedTemporaryFile(dir=existing, prefix=".write-check-"):
                pass
        except OSError as error:
            problem = error.strerror
    if problem:
        raise FolderError(f"{flag} {folder} is not writable ({problem}): fix its permissions or pass another {flag}")


def check_removable(folder: Path, flag: str) -> None:
    """Raise FolderError when a folder that a new build replaces could not be removed afterwards."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for inner, _, _ in os.walk(folder):
        if not os.access(inner, os.W_OK | os.X_OK):  # False for an immutable folder even for root
            raise FolderError(f"{flag}: {inner} is not writable, so the old files in it could not be replaced: "
                              f"fix its permissions (chmod -R u+w {folder}) or pass another {flag}")


@dataclass
class Preparation:
    """A prepared run: the build folder's lock, and whether this run created the build folder."""

    lock: BuildLock
    build_dir: Path
    created: bool

    def undo_if_unused(self) -> bool:
        """Remove the build folder again when this run created it and wrote nothing but its marker and lock."""
        if not self.created or not is_empty(self.build_dir, frozenset({MARKER_NAME, LOCK_NAME})):
            return False
        for name in (MARKER_NAME, LOCK_NAME):
            (self.build_dir / name).unlink(missing_ok=True)
        self.lock.close()
        self.build_dir.rmdir()
        return True


def prepare(layout: Layout, writes_site: bool, *, wait: bool = False, writes_share: bool = False) -> Preparation:
    """Check the output folders, take the build folder's lock, then clear what killed runs left there."""
    build, site = layout.build_dir, layout.site_dir
    check_owned(build, "--build-dir", BUILD)
    check_not_over(build, "--build-dir", {})
    check_writable(build, "--build-dir")
    check_removable(layout.assets, "--build-dir")
    if writes_site:
        check_output(site, "--site-dir", SITE, {"the build folder": build})
    if writes_share:
        check_output(layout.share_dir, "--share-dir", SHARE, {"the build folder": build, "the site folder": site})
    created = not build.exists()
    build.mkdir(parents=True, exist_ok=True)
    lock = None
    try:
        lock = hold(build, wait=wait)
        check_owned(build, "--build-dir", BUILD)  # again: another run may have changed it while we waited
        claim(build, BUILD, frozenset({LOCK_NAME}))
    except BaseException:
        if lock is not None:
            lock.close()
        if created and is_empty(build, frozenset({LOCK_NAME})):
            (build / LOCK_NAME).unlink(missing_ok=True)
            build.rmdir()
        raise
    clear_pending(build)
    clear_temporaries(build, (CAPTURE_NAME, MODEL_NAME, TIMINGS_NAME))
    return Preparation(lock, build, created)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with renameat2; return False where the system does not offer it."""
    if os.environ.get(NO_EXCHANGE_VARIABLE):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _old_id(target: Path, kind: str) -> str | None:
    """Return the id of the folder about to be replaced (giving it one if it has none), None if there is none."""
    if not target.exists() or is_empty(target):
        return None
    if read_marker(target) is None:
        if kind in (SITE, SHARE, COMPARE):  # refused before; never replace one the tool cannot prove its own
            flag = "--site-dir" if kind == COMPARE else f"--{kind}-dir"
            raise FolderError(f"{flag} {target} already holds files this tool did not write: pass a new folder")
        write_marker(target, Marker(kind, new_id()))  # inside the tool's own build folder
    return with_id(target).id


@contextlib.contextmanager
def replacing(target: Path, kind: str, build_dir: Path, label: str):
    """Yield a new marked folder beside `target`; when the block ends normally, swap it in and remove the old one."""
    claim(build_dir, BUILD, frozenset({LOCK_NAME}))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-building-", dir=target.parent))
    staging_id = new_id()
    old_id = _old_id(target, kind)
    add_pending(build_dir, staging, target, [staging_id] + ([old_id] if old_id else []))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it 0700; the folder it becomes should read as usual
        write_marker(staging, Marker(kind, staging_id))
        yield staging
        # A finished folder's id is a hash of its content, so the same run gives the same bytes (marker included).
        finished_id = content_id(staging)
        add_pending(build_dir, staging, target, [staging_id, finished_id] + ([old_id] if old_id else []))
        write_marker(staging, Marker(kind, finished_id))
        _swap_in(staging, target, label, build_dir, old_id)
    finally:
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)  # after a swap it holds the old folder
        if not staging.exists():
            drop_pending(build_dir, staging)


def content_id(folder: Path) -> str:
    """Return a marker id made from the names and bytes of every file in `folder` but its marker."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MARKER_NAME:
            digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()[:32]


def _swap_in(staging: Path, target: Path, label: str, build_dir: Path, old_id: str | None) -> None:
    if old_id is None:
        if target.exists():
            target.rmdir()  # empty: nothing of anyone's is lost
        os.replace(staging, target)
        crash_point(f"{label}-placed")
        return
    if _exchange(staging, target):
        crash_point(f"{label}-exchanged")  # staging now holds the old folder; the caller removes it
        return
    retired = target.with_name(f".{target.name}-old-{new_id()[:12]}")
    add_pending(build_dir, retired, target, [old_id], restore=True)
    os.rename(target, retired)
    crash_point(f"{label}-retired")
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)
    if not retired.exists():
        drop_pending(build_dir, retired)


def clear_pending(build_dir: Path) -> list[Path]:
    """Restore or delete the unfinished folders killed runs recorded in the build marker; return them."""
    marker = read_marker(build_dir)
    found = []
    for entry in marker.pending if marker else ():
        path, target = Path(entry["path"]), Path(entry["target"])
        mine = path.is_dir() and not path.is_symlink() and getattr(read_marker(path), "id", None) in entry["ids"]
        if mine and entry.get("restore") and not target.exists():
            os.replace(path, target)  # a crash between the fallback's two renames: the old folder comes back
        elif mine:
            shutil.rmtree(path, ignore_errors=True)
        elif is_empty(path):
            path.rmdir()  # killed before its marker was written: an empty folder, nothing anyone could lose
        found += [path] if mine else []
        if not (mine and path.exists()):
            drop_pending(build_dir, path)
    return found


def clear_temporaries(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """Delete temporary files that killed runs left for the named files in the tool's own `folder`; return them."""
    if not folder.is_dir():
        return []
    found = [path for path in folder.iterdir() if path.is_file() and path.name.endswith(TEMPORARY_SUFFIX)
             and any(path.name.startswith(f".{name}.") for name in names)]
    found += [path for path in folder.glob(".*.tmp[0-9]*.keras") if path.is_file()]  # the model's temporary file
    for path in found:
        path.unlink(missing_ok=True)
    return found
