"""The page templates compiled once: shared by every edition in a process, and kept in build/templates.zip.

    COMPILED = CompiledTemplates(stamp)        # report/voice.py hands it to each edition's Jinja2 environment
    COMPILED.load(path); ...; COMPILED.save(path)   # report/stage.py, around writing the site

Jinja2 compiles each template to Python code on first use (1.5 s of a site build for every process and edition).
The editions' environments have the same settings and differ only in their catalogue, filters and globals, which a
compiled template looks up from its environment when it is loaded, so one compiled template serves them all. The
build folder keeps them for the next `generate.py site` under a stamp of the environments' settings (report/voice.py,
Jinja2's and Python's versions), which Jinja2's own key (a template's name and source checksum) does not see; a
template whose source changed is compiled again, as Jinja2's checksum says. The archive is written in one atomic
write, only when something was compiled.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import jinja2

from pipeline.files import atomic_output

CACHE_NAME = "templates.zip"  # in the build folder
STAMP_MEMBER = "stamp"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja2's bytecode cache in this process's memory, loaded from and saved to a zip file (see the module)."""

    def __init__(self, stamp: str):
        self.stamp = stamp
        self._code: dict[str, bytes] = {}
        self._compiled = False  # something was compiled since the last load or save
        self._whole: Path | None = None  # the file last read or written whole, with this stamp

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill the bucket with the code compiled for this template (a changed source is compiled again)."""
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the code just compiled."""
        self._code[bucket.key] = bucket.bytecode_to_string()
        self._compiled = True

    def load(self, path: Path) -> None:
        """Add the templates kept in `path` when its stamp is this one's (a missing or damaged file adds none)."""
        self._whole = None
        try:
            with zipfile.ZipFile(path) as archive:
                if archive.read(STAMP_MEMBER).decode("ascii") != self.stamp:
                    return
                kept = {name: archive.read(name) for name in archive.namelist() if name != STAMP_MEMBER}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, UnicodeDecodeError):
            return
        for name, code in kept.items():
            self._code.setdefault(name, code)
        self._whole = Path(path)

    def save(self, path: Path) -> None:
        """Write every compiled template into `path`, stamped, unless it was read whole and nothing compiled since."""
        if not self._compiled and self._whole == Path(path):
            return
        with atomic_output(path) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in [(STAMP_MEMBER, self.stamp.encode("ascii")), *sorted(self._code.items())]:
                archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
        self._compiled, self._whole = False, Path(path)
