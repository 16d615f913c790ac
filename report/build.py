"""Write the article into site/: gather everything, write it into a temporary folder, swap it in.

`build_site(capture, manifest, build_dir, site_dir)` is the last stage of `make site`. An
interrupted build leaves the previous site whole; the same inputs give the same bytes
(`SOURCE_DATE_EPOCH` sets the date shown, and without it no date is shown).
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import jinja2

from model.stage import record_timing

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = REPO_ROOT / "templates"
STATIC = TEMPLATES / "static"


def environment() -> jinja2.Environment:
    """Return the Jinja2 environment: autoescaping on, undefined names are errors."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=False, lstrip_blocks=False)


def build_date() -> str | None:
    """Return the date to show (from SOURCE_DATE_EPOCH), or None to show none."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp: unset it or give seconds") from None
    return moment.strftime("%d %B %Y").lstrip("0")


def build_site(capture, manifest: dict, build_dir: Path, site_dir: Path) -> Path:
    """Build the whole site from the capture and the rendered assets, then swap it into `site_dir`."""
    from report.assemble import assemble

    started = time.perf_counter()
    build_dir, site_dir = Path(build_dir), Path(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-building-", dir=site_dir.parent))
    try:
        context, copies = assemble(capture, manifest, build_dir, staging, build_date())
        copies += [(path, f"static/{path.name}") for path in sorted(STATIC.iterdir()) if path.is_file()]
        for source, relative in copies:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        html = environment().get_template("article.html.j2").render(**context)
        (staging / "index.html").write_text(html, encoding="utf-8")
        (staging / ".nojekyll").write_bytes(b"")
        for path in staging.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.chmod(staging, 0o755)
        swap_in(staging, site_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    seconds = time.perf_counter() - started
    record_timing(build_dir, "site", {"build_seconds": round(seconds, 2)})
    print(f"site: wrote {site_dir / 'index.html'} ({total_bytes(site_dir) / 1e6:.1f} MB in all) "
          f"in {seconds:.1f}s", file=sys.stderr)
    return site_dir / "index.html"


def swap_in(staging: Path, site_dir: Path) -> None:
    """Replace `site_dir` with the finished `staging` folder, keeping the old one until the rename."""
    retired = site_dir.with_name(f".{site_dir.name}-old-{os.getpid()}")
    if site_dir.exists():
        os.replace(site_dir, retired)
    os.replace(staging, site_dir)
    shutil.rmtree(retired, ignore_errors=True)


def total_bytes(folder: Path) -> int:
    """Return the bytes of every file under a folder."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())

