"""`make clean`: remove build, site and share folders, but only those the tool can prove it wrote (its marker).

    python3 -m pipeline.clean build site share

Needs only the standard library, so it runs without the project's virtual environment. A folder
without the tool's marker is left as it is and named in one `error:` line (exit status 2); a build
folder another run is using is left too.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pipeline.build_lock import hold
from pipeline.ownership import BUILD, read_marker


def remove_owned(folder: Path) -> str | None:
    """Remove `folder` if the tool wrote it (absent is fine); return the problem otherwise."""
    if not folder.exists() and not folder.is_symlink():
        return None
    if folder.is_symlink() or not folder.is_dir():
        return f"{folder} is not a folder; left as it is"
    marker = read_marker(folder)
    if marker is None:
        return f"{folder} holds no marker of this tool, so it was not removed: delete it yourself if it is yours"
    if marker.kind == BUILD:
        hold(folder, flag="folder")  # refuses while another run uses it; released when this process ends
    shutil.rmtree(folder)
    return None


def main(argv: list[str]) -> int:
    """Remove each named folder the tool owns; exit status 2 when one was left."""
    problems = []
    for name in argv:
        try:
            problem = remove_owned(Path(name))
        except (OSError, ValueError) as error:
            problem = str(error)
        if problem:
            problems.append(problem)
    if problems:
        print(f"error: {'; '.join(problems)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
