"""Output folders the tool owns: which folders it may write or replace, and how it swaps one in.

A folder is the tool's when it is absent, empty, or holds the marker file the tool writes (or
the files an older version of the tool left). The site folder is replaced whole, so it may never
be or hold the build folder, the project, the current folder, or a parent of any of them.

The swap exchanges the finished folder with the old one in one `renameat2(RENAME_EXCHANGE)`
call, so whatever moment the process dies, the path holds the old site or the new one. Where
the kernel or file system lacks it, two renames are used, and the next run restores the old
folder if a crash came between them. Folders and temporary files left by killed runs are
cleared at the start of the next run.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

from pipeline.files import TEMPORARY_SUFFIX, crash_point
from pipeline.layout import (
    ASSETS_NAME,
    CAPTURE_NAME,
    ERROR_LOG_NAME,
    LEGACY_CAPTURE_NAME,
    MODEL_NAME,
    PARTIAL_CAPTURE_NAME,
    TIMINGS_NAME,
    Layout,
)

OWNER_MARKER = ".made-by-generate-py"
MARKER_TEXT = ("This folder was written by generate.py (Watch a neural network learn to see) and is replaced or "
               "rewritten by every build: keep no files of your own in it.\n")
# What the project writes into a build folder: the stages' files, and the browser tests' screenshots.
BUILD_ENTRIES = frozenset({CAPTURE_NAME, LEGACY_CAPTURE_NAME, PARTIAL_CAPTURE_NAME, MODEL_NAME, TIMINGS_NAME,
                           ASSETS_NAME, ERROR_LOG_NAME, "screenshots"})
EARLIER_SITE_FILES = ("index.html", ".nojekyll", "assets/findings.json")  # a site from before the marker
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NO_EXCHANGE_VARIABLE = "GENERATE_NO_EXCHANGE"  # tests set it to exercise the two-rename fallback
RENAME_EXCHANGE = 2
AT_FDCWD = -100


class FolderError(ValueError):
    """An output folder the tool must not or cannot write, with the fix in the message."""


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _protected_places() -> dict[str, Path]:
    return {"the project folder": PROJECT_ROOT, "the current folder": Path.cwd().resolve()}


def check_owned(folder: Path, flag: str, earlier_output: tuple[str, ...] = (), own_names: frozenset = frozenset()
                ) -> None:
    """Raise FolderError unless `folder` is absent, empty, marked as the tool's, or holds the tool's files only.

    `earlier_output` names the files by which a folder written by a version without the marker is
    known; `own_names` are entries the project itself puts there (a folder holding nothing else is its).
    """
    if folder.is_symlink():
        raise FolderError(f"{flag} {folder} is a symbolic link: pass the folder it points to, or a new folder")
    if not folder.exists():
        return
    if not folder.is_dir():
        raise FolderError(f"{flag} {folder} is a file, not a folder: pass a folder path (it is created if missing)")
    names = sorted(os.listdir(folder))
    if not names or OWNER_MARKER in names or set(names) <= own_names:
        return
    if earlier_output and all((folder / name).is_file() for name in earlier_output):
        return
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    raise FolderError(f"{flag} {folder} already holds files this tool did not write ({shown}): pass an empty or "
                      f"new folder, or move those files away first")


def check_not_over(folder: Path, flag: str, others: dict[str, Path]) -> None:
    """Raise FolderError when `folder` is, or is a parent of, any of the protected places or `others`."""
    resolved = folder.resolve()
    for label, place in {**_protected_places(), **others}.items():
        if _is_within(place.resolve(), resolved):
            raise FolderError(f"{flag} {folder} is or holds {label}, which the tool must not replace: "
                              f"pass a folder of its own (the default is fine)")


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


def prepare(layout: Layout, writes_site: bool) -> None:
    """Check the output folders before any work, then clear what killed runs left and mark the build folder."""
    build, site = layout.build_dir, layout.site_dir
    check_owned(build, "--build-dir", (CAPTURE_NAME, LEGACY_CAPTURE_NAME), BUILD_ENTRIES)
    check_not_over(build, "--build-dir", {})
    check_writable(build, "--build-dir")
    if writes_site:
        check_owned(site, "--site-dir", EARLIER_SITE_FILES)
        check_not_over(site, "--site-dir", {"the build folder": build})
        if _is_within(site.resolve(), build.resolve()):
            raise FolderError(f"--site-dir {site} is inside the build folder {build}: pass a folder outside it")
        check_writable(site.parent, "--site-dir")
        clear_leftovers(site)
    clear_leftovers(layout.assets)
    clear_temporaries(build, (CAPTURE_NAME, LEGACY_CAPTURE_NAME, MODEL_NAME, TIMINGS_NAME))
    mark_owned(build)


def mark_owned(folder: Path) -> None:
    """Create `folder` if needed and write the marker that says the tool owns it."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / OWNER_MARKER
    if not marker.exists():
        marker.write_text(MARKER_TEXT)


def new_staging(target: Path) -> Path:
    """Return a new, marked, empty folder beside `target` to build its replacement in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-building-{os.getpid()}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it 0700; the folder it becomes should read as usual
    mark_owned(staging)
    return staging


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


def swap_in(staging: Path, target: Path, label: str) -> None:
    """Put the finished `staging` folder at `target`; the old folder (if any) is removed afterwards."""
    if not target.exists():
        os.replace(staging, target)
        crash_point(f"{label}-placed")
        return
    if _exchange(staging, target):
        crash_point(f"{label}-exchanged")  # staging now holds the old folder
        shutil.rmtree(staging)
        return
    retired = target.with_name(f".{target.name}-old-{os.getpid()}")
    os.replace(target, retired)
    crash_point(f"{label}-retired")
    os.replace(staging, target)
    shutil.rmtree(retired)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_leftovers(target: Path) -> list[Path]:
    """Restore or delete what killed runs left beside `target` (staging and retired folders); return them."""
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(target.name)}-(building|old)-(?:(\d+)(?:-.*)?|[^/]*)")
    found = []
    for entry in sorted(parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if not match or not entry.is_dir() or (match[2] and _alive(int(match[2]))):
            continue
        found.append(entry)
        if match[1] == "old" and not target.exists():
            os.replace(entry, target)  # a crash between the fallback's two renames: the old folder comes back
        else:
            shutil.rmtree(entry, ignore_errors=True)
    return found


def clear_temporaries(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """Delete temporary files that killed runs left for the named files in `folder`; return them."""
    if not folder.is_dir():
        return []
    found = [path for path in folder.iterdir() if path.is_file() and path.name.endswith(TEMPORARY_SUFFIX)
             and any(path.name.startswith(f".{name}.") for name in names)]
    found += [path for path in folder.glob(".*.tmp[0-9]*.keras") if path.is_file()]  # older versions' model temp
    for path in found:
        path.unlink(missing_ok=True)
    return found
