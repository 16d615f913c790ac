"""What the article says about a comparison page that holds this run (`generate.py compare`), numbers only.

    compared = compared_context(layout, Path("site-compare"))   # None: no comparison of this run there

A comparison counts only when its folder was written by this tool (its marker says "compare"), its
compare.json (compare/summary.py) lists this run's archive by sha256, and it compares this run with at
least one other. The link is relative from the site folder, so it works where both folders are kept side by side
(the repository, a shared folder) and on a host that publishes both. templates/partials/compared.html.j2 owns the
words.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.files import file_sha256
from pipeline.layout import read_compare_summary
from pipeline.ownership import COMPARE, read_marker


def compared_context(layout, compare_dir: Path | None) -> dict | None:
    """Return this run and the others of the comparison in compare_dir, with the link to it; None without one."""
    if compare_dir is None or not (Path(compare_dir) / "index.html").is_file() or not layout.capture.is_file():
        return None
    marker = read_marker(Path(compare_dir))
    summary = read_compare_summary(Path(compare_dir)) if marker is not None and marker.kind == COMPARE else None
    if summary is None:
        return None
    mine = file_sha256(layout.capture)
    runs = summary["runs"]
    this = [run for run in runs if run["capture_sha256"] == mine]
    if not this:
        return None
    others = [run for run in runs if run["capture_sha256"] != mine]
    if not others:
        return None
    href = Path(os.path.relpath(Path(compare_dir).resolve() / "index.html", Path(layout.site_dir).resolve()))
    return {"href": href.as_posix(), "this": this[0], "others": others,
            "differing_fields": list(summary.get("differing_fields") or [])}
