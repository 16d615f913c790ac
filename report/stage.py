"""The report stage: write the article into site/, built in a folder beside it and swapped in whole.

    index = report.stage.run(capture, manifest, Layout(build_dir, site_dir))

It is the last stage of `make site` and always runs (it takes about two seconds). An
interrupted build leaves the previous site whole; the same inputs give the same bytes
(`SOURCE_DATE_EPOCH` sets the date shown, and without it no date is shown). The site folder
carries the marker of pipeline/folders.py, so only a folder this tool wrote is ever replaced.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import time
from pathlib import Path

import jinja2

from pipeline.files import crash_point, file_sha256
from pipeline.folders import replacing
from pipeline.layout import RENDER_KEY_NAME, Layout, read_json
from pipeline.ownership import SITE
from report.compiled_templates import CACHE_NAME as COMPILED_NAME
from report.editions import edition_folder, edition_links, point_at_shared_assets, shared_copies
from report.page.sections import ASSETS
from report.published_model import source_sha256
from report.voice import COMPILED, LOCALES, SOURCE, close_cjk_gaps, speaking
from report.voice import environment as voice_environment

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = REPO_ROOT / "templates"
STATIC = TEMPLATES / "static"


def environment(edition: str = "en") -> jinja2.Environment:
    """Return an edition's Jinja2 environment (report/voice.py): autoescaping on, undefined names are errors."""
    return voice_environment(edition)


def build_date() -> datetime.date | None:
    """Return the day to show (from SOURCE_DATE_EPOCH), or None to show none."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp: unset it or give seconds") from None
    return moment.date()


def run(capture, manifest: dict, layout: Layout, public_url: str | None = None, sweep_dir: Path | None = None,
        compare_dir: Path | None = None, editions: tuple[str, ...] = tuple(LOCALES)) -> Path:
    """Build the whole site from the capture and the rendered assets, swap it into place, return index.html.

    The seconds it took go to build/timings.json (layout.record_timing). public_url: the published site's
    address, ending in "/", which makes og:image absolute (None: relative). sweep_dir: a seed sweep
    (report/page/seeds.py); compare_dir: a comparison page that may hold this run (report/page/compared.py).
    editions: the languages written (report/voice.py), English first at the root, each other in its own folder
    (zh/index.html) that shares the root's assets.
    """
    from report.page.assemble import assemble
    from report.page.compared import compared_context

    started = time.perf_counter()
    site_dir = layout.site_dir
    kept = layout.build_dir / COMPILED_NAME
    COMPILED.load(kept)  # the templates the last run compiled (report/compiled_templates.py)
    with replacing(site_dir, SITE, layout.build_dir, "site") as staging:
        first = None
        for edition in editions:
            folder = staging / edition_folder(edition)
            with speaking(edition):
                context, copies = assemble(capture, manifest, layout, folder, build_date(), sweep_dir,
                                           compared_context(layout, compare_dir), first)
            first = first or {"assets": staging / ASSETS, "findings": context["findings"], "moment": context["moment"]}
            context["editions"] = edition_links(editions, edition, public_url) if len(editions) > 1 else []
            if public_url:
                context["og_image"]["src"] = public_url + context["og_image"]["src"]
            if edition == SOURCE:
                # The comparison page's own script and styles (compare/) are not the article's.
                copies += [(path, f"static/{path.name}") for path in sorted(STATIC.iterdir())
                           if path.is_file() and not path.name.startswith("compare")]
                write_static_page(staging, copies, "article.html.j2", context)
            else:  # the root's videos, data and styles serve every edition; only its own figures stay here
                html = close_cjk_gaps(environment(edition).get_template("article.html.j2").render(**context))
                own = shared_copies(staging, folder)
                (folder / "index.html").write_text(point_at_shared_assets(html, own), encoding="utf-8")
        check_one_commit(capture, layout, staging)
        readable_by_all(staging)
        crash_point("site-staged")
    COMPILED.save(kept)
    seconds = time.perf_counter() - started
    layout.record_timing("site", {"build_seconds": round(seconds, 2)})
    print(f"site: wrote {site_dir / 'index.html'} ({total_bytes(site_dir) / 1e6:.1f} MB in all) "
          f"in {seconds:.1f}s", file=sys.stderr)
    return site_dir / "index.html"


def write_static_page(staging: Path, copies: list, template: str, context: dict) -> None:
    """Copy (source, relative path) files into `staging`, render `template` as its index.html, add .nojekyll."""
    for source, relative in copies:
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    html = environment().get_template(template).render(**context)
    (staging / "index.html").write_text(html, encoding="utf-8")
    (staging / ".nojekyll").write_bytes(b"")


def readable_by_all(folder: Path) -> None:
    """Give a page folder's files mode 644 and its folders 755, as a web server expects."""
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(folder, 0o755)


def check_one_commit(capture, layout: Layout, staging: Path) -> None:
    """Raise ValueError unless the published model and the rendered assets are those of the capture described."""
    if "model_sha256" not in capture.meta:
        return  # a synthetic capture (the renderer's test fixture) has no trained model to match
    published = source_sha256(staging / "assets" / "model.keras")  # the build's model it was stripped from
    rendered_from = read_json(layout.assets / RENDER_KEY_NAME).get("capture_sha256")
    if published != capture.meta.get("model_sha256") or rendered_from != file_sha256(layout.capture):
        raise ValueError(f"the build folder {layout.build_dir} changed while the site was being written (its model "
                         f"or assets are not those of the capture described): run again")


def total_bytes(folder: Path) -> int:
    """Return the bytes of every file under a folder."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())

