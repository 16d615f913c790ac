"""The share stage: the whole report as one HTML file that works anywhere, written into share/<name>.html.

    path = report.share.run(capture, manifest, Layout(build_dir, site_dir, share_dir), public_url=None)

The file is the article `make site` writes, with its styles, scripts, figures and the explorer's data inside it
(report/page/inline.py): copied alone anywhere and opened from disk, it shows the whole article and a working
explorer, and requests nothing. Each layer's video and the trained model are left out, and the page says so,
linking the published site when `public_url` (--public-url) gives its address. The whole file stays within
BUDGET_BYTES: the explorer keeps the site's snapshots when they fit in what the rest of the page leaves, else
every k-th (render/page_data.py's stride, for that many bytes), and says which. The file is written in a folder
beside share/ and swapped in whole (pipeline/folders.py); that folder carries the tool's marker, so only a share
folder this tool wrote is ever replaced. The same capture gives the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from pipeline.files import crash_point
from pipeline.folders import replacing
from pipeline.layout import Layout
from pipeline.ownership import SHARE
from render.page_data import write_page_data
from render.page_levels import inline_script
from report.capture_facts import is_article, model_info
from report.page.explorer import step_context
from report.page.inline import inline_context, share_context, story_script
from report.stage import build_date, environment
from report.words.wording import ordinal

BUDGET_BYTES = 10_000_000  # the whole file: a mail attachment, a chat upload, a course page's file
SLACK_BYTES = 4_000  # what the page's words may grow by when the explorer keeps fewer snapshots
INLINE_SCRIPT_BYTES = len("<script></script>\n")  # each chunk's wrapping in the page


def file_name(capture) -> str:
    """Return the shared file's name from the run: model (when not the article's), data and length."""
    meta = capture.meta
    parts = [] if is_article(meta) else [model_info(meta).get("name") or "model", "on"]
    parts += [meta["dataset"]["name"], f"{int(capture.steps[-1])}-steps"]
    return re.sub(r"[^A-Za-z0-9_.]+", "-", "-".join(["learning-to-see", *map(str, parts)])).strip("-.") + ".html"


def explorer_data(capture, manifest: dict, layout: Layout, budget: int) -> tuple[dict, list[bytes]]:
    """Return the explore.json and chunk scripts the file holds: the site's when they fit `budget`, else sparser.

    Inside the one HTML file the chunks' payloads are base64 (render/page_levels.py): its parser refuses the
    control characters of the site's 7-bit text."""
    explore, assets = manifest["explore"], layout.assets
    budget -= INLINE_SCRIPT_BYTES * len(explore["chunks"])
    scripts = [inline_script((assets / chunk["path"]).read_bytes()) for chunk in explore["chunks"]]
    if sum(len(script) for script in scripts) <= budget:
        return json.loads((assets / explore["meta"]["path"]).read_text()), scripts
    layers = manifest["layers"]
    with tempfile.TemporaryDirectory(prefix="share-data-") as folder:
        entry = write_page_data(capture, folder, {layer["name"]: layer["scale"] for layer in layers},
                                {layer["name"]: layer["channel_ranking"] for layer in layers},
                                budget_bytes=max(budget, 1), inline=True)
        return (json.loads((Path(folder) / entry["meta"]["path"]).read_text()),
                [(Path(folder) / chunk["path"]).read_bytes() for chunk in entry["chunks"]])


def page(capture, manifest: dict, layout: Layout, public_url: str | None,
         sweep_dir: Path | None = None) -> tuple[str, dict]:
    """Return the one-file report's HTML and the explore.json it holds (with the seeds section of sweep_dir's sweep).

    A comparison page is not linked: the file travels alone, and the link would point outside it.
    """
    from report.page.assemble import assemble

    template = environment().get_template("article.html.j2")
    with tempfile.TemporaryDirectory(prefix="share-figures-") as scratch:
        context, copies = assemble(capture, manifest, layout, Path(scratch), build_date(), sweep_dir)
        files = {relative: source for source, relative in copies}
        files.update({path.relative_to(scratch).as_posix(): path
                      for path in Path(scratch).rglob("*") if path.is_file()})
        context = inline_context(context, files, public_url)
        story = story_script(files.get(f"assets/{context['explorer'].get('story')}"), files)
    site_meta = json.loads((layout.assets / manifest["explore"]["meta"]["path"]).read_text())
    context["explorer"].update(step_context(site_meta, ""))
    rest = len(template.render(**context, share=share_context([], public_url, story)).encode("utf-8"))
    meta, chunks = explorer_data(capture, manifest, layout, BUDGET_BYTES - rest - SLACK_BYTES)
    context["explorer"].update(step_context(meta, ""))
    return template.render(**context, share=share_context(chunks, public_url, story)), meta


def run(capture, manifest: dict, layout: Layout, public_url: str | None = None, sweep_dir: Path | None = None) -> Path:
    """Write the one-file report into layout.share_dir (swapped in whole); return its path.

    public_url: the published site's address, ending in "/" (generate.py checks it), or None.
    """
    started = time.perf_counter()
    name = file_name(capture)
    with replacing(layout.share_dir, SHARE, layout.build_dir, "share") as staging:
        html, meta = page(capture, manifest, layout, public_url, sweep_dir)
        (staging / name).write_text(html, encoding="utf-8")
        os.chmod(staging / name, 0o644)
        os.chmod(staging, 0o755)
        crash_point("share-staged")
    seconds = time.perf_counter() - started
    size = (layout.share_dir / name).stat().st_size
    layout.record_timing("share", {"build_seconds": round(seconds, 2), "bytes": size, "stride": meta["stride"]})
    kept = "every snapshot" if meta["stride"] == 1 else \
        f"{len(meta['steps'])} of {meta['snapshots']} snapshots, every {ordinal(meta['stride'])}"
    over = f"; over its {BUDGET_BYTES / 1e6:g} MB budget even with the first and last steps only" \
        if size > BUDGET_BYTES else ""
    print(f"share: wrote {layout.share_dir / name} ({size / 1e6:.1f} MB, {kept}{over}) in {seconds:.1f}s",
          file=sys.stderr)
    return layout.share_dir / name
