"""The one-file report's context: the article's, with every file it links held inside the page.

Use: `inline_context(context, files, public_url)` returns a copy of the article's context (report/page/assemble.py)
in which every image the page shows is a base64 data: URI (PNG, SVG), every download that one HTML file can carry
is one too (with its file name), and those it cannot (LEFT_OUT: the videos and the trained model) are dropped,
which the templates say in one line. `files` maps each site-relative path ("assets/conv1.png") to the file holding
its bytes. `share_context(chunks, public_url)` is what the templates' `share` holds: the favicon, the styles and
scripts of templates/static/ to inline, the explorer's chunk scripts and the published site's address.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path, PurePosixPath

from markupsafe import Markup

STATIC = Path(__file__).resolve().parents[2] / "templates" / "static"
MIME = {".png": "image/png", ".svg": "image/svg+xml", ".json": "application/json"}
LEFT_OUT = (".mp4", ".webm", ".keras")  # too big to travel inside one HTML file: the published site has them
# The explorer's scripts in the order templates/partials/explorer_head.html.j2 loads them on the site.
EXPLORER_SCRIPTS = ("explorer-data.js", "explorer-draw.js", "explorer-control.js", "explorer-tooltip.js",
                    "explorer-legend.js", "explorer-views.js", "explorer-channel.js")
# An image a channel's story names (report/figures/channel_story.py), relative to the explorer's assets/.
STORY_IMAGE = re.compile(r'"src":"([^"]+)"')
# What would end an inline <script> or <style> early, or change how the HTML parser reads it.
UNSAFE_INLINE = re.compile(r"</(script|style)|<!--", re.IGNORECASE)


def data_uri(path: Path) -> str:
    """Return a file's bytes as a base64 data: URI of its type."""
    return f"data:{MIME[Path(path).suffix]};base64,{base64.b64encode(Path(path).read_bytes()).decode('ascii')}"


def inline_text(text: str, what: str) -> Markup:
    """Return text to place inside a <script> or <style> element as it is; raise ValueError if it would end it."""
    if UNSAFE_INLINE.search(text):
        raise ValueError(f"{what} holds '</script', '</style' or '<!--', so it cannot be inlined into one HTML file")
    return Markup(text)


def _images(value, files: dict[str, Path]):
    """Return a copy of a context value with every {"src": "assets/..."} pointing at its bytes (a data: URI)."""
    if isinstance(value, dict):
        copy = {key: _images(item, files) for key, item in value.items()}
        if isinstance(copy.get("src"), str) and copy["src"] in files:
            copy["src"] = data_uri(files[copy["src"]])
        return copy
    if isinstance(value, list):
        return [_images(item, files) for item in value]
    return value


def carried_downloads(items: list[dict], files: dict[str, Path]) -> list[dict]:
    """Return the downloads one HTML file can carry, each as a data: URI with its file name."""
    return [dict(item, href=data_uri(files[item["href"]]), file=PurePosixPath(item["href"]).name)
            for item in items if not item["href"].endswith(LEFT_OUT)]


def inline_context(context: dict, files: dict[str, Path], public_url: str | None) -> dict:
    """Return the article's context with its images and downloads inside the page (og:image absolute, or none)."""
    og_image = context["og_image"]
    inlined = _images({key: value for key, value in context.items() if key != "og_image"}, files)
    inlined["og_image"] = dict(og_image, src=public_url + og_image["src"]) if public_url else None
    inlined["appendix"]["downloads"] = carried_downloads(inlined["appendix"]["downloads"], files)
    for layer in inlined["layers"]:
        layer["downloads"] = carried_downloads(layer["downloads"], files)
    return inlined


def story_script(path: Path | None, files: dict[str, Path]) -> Markup | None:
    """Return the channel story's script (assets/story.js) with every image it names as a data: URI, or None."""
    if path is None:
        return None
    text = STORY_IMAGE.sub(lambda found: f'"src":"{data_uri(files["assets/" + found.group(1)])}"',
                           Path(path).read_text(encoding="utf-8"))
    return inline_text(text, "the channel story's data")


def share_context(chunks: list[bytes], public_url: str | None, story: Markup | None = None) -> dict:
    """Return the templates' `share`: favicon, inline styles and scripts, the explorer's chunks, the channel story's
    data (story_script), the site's address."""
    def static(name: str) -> Markup:
        return inline_text((STATIC / name).read_text(encoding="utf-8"), f"templates/static/{name}")

    return {"favicon": data_uri(STATIC / "favicon.svg"), "site_css": static("site.css"),
            "explorer_css": static("explorer.css"), "scripts": [static(name) for name in EXPLORER_SCRIPTS],
            "chunks": [inline_text(chunk.decode("ascii"), "an explorer data chunk") for chunk in chunks],
            "story": story, "public_url": public_url}
