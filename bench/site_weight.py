"""Site weight: total bytes, largest file and first-view bytes of a built site folder.

    python bench/site_weight.py [SITE]

First view = what a browser fetches for index.html before any interaction: the HTML, its
stylesheets (and the fonts/images their url() name), its scripts, every <img> without
loading="lazy", every <video>/<audio> poster, and the first media source of each <video>/<audio>
whose preload is not "none". Lazy images and preload="none" media count only their posters.
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
EAGER_LINKS = {"stylesheet", "preload", "modulepreload"}


class FirstView(HTMLParser):
    """Collect a page's references as (kind, url): those fetched before any interaction, and the deferred ones."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.eager: list[tuple[str, str]] = []
        self.deferred: list[tuple[str, str]] = []
        self.media: list[bool] = []  # per open <video>/<audio>: whether it fetches no (further) source

    def add(self, eager: bool, kind: str, url: str) -> None:
        """Count a reference as eager or deferred."""
        (self.eager if eager else self.deferred).append((kind, url))

    def source(self, url: str) -> None:
        """Count a media source: a browser fetches only the first one, and none with preload="none"."""
        self.add(not self.media[-1], "media", url)
        self.media[-1] = True

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        src, lazy = a.get("src"), a.get("loading", "").lower() == "lazy"
        rel = set(a.get("rel", "").lower().split())
        if tag == "link" and a.get("href") and rel & (EAGER_LINKS | {"icon"}):
            self.add(bool(rel & EAGER_LINKS), "css" if "stylesheet" in rel else "link", a["href"])
        elif tag == "script" and src:
            self.add(True, "js", src)
        elif tag in ("img", "iframe", "embed") and src:
            self.add(not lazy, "img" if tag == "img" else "frame", src)
        elif tag in ("video", "audio"):
            if a.get("poster"):
                self.add(True, "poster", a["poster"])
            self.media.append(a.get("preload", "").lower() == "none")
            if src:
                self.source(src)
        elif tag == "source" and self.media and src:
            self.source(src)

    def handle_endtag(self, tag):
        if tag in ("video", "audio") and self.media:
            self.media.pop()


def local(site: Path, base: Path, url: str) -> Path | None:
    """Return the file a relative or site-absolute URL names, or None for other URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("data:") or not parts.path:
        return None
    path = unquote(parts.path)
    return (site / path.lstrip("/")) if path.startswith("/") else (base / path)


def measure_site(site: str | Path, index: str = "index.html") -> dict:
    """Return total bytes and file count, the largest file, and the first-view bytes with their parts."""
    site = Path(site)
    sizes = {p: p.stat().st_size for p in site.rglob("*") if p.is_file()}
    largest = max(sizes, key=sizes.get, default=None)
    page = site / index
    parser = FirstView()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    counted: dict[Path, tuple[str, int]] = {page.resolve(): ("html", sizes.get(page, 0))}
    missing: list[str] = []
    for kind, url in parser.eager:
        path = local(site, page.parent, url)
        if path is None or path.resolve() in counted:
            continue
        if not path.is_file():
            missing.append(url)
            continue
        counted[path.resolve()] = (kind, path.stat().st_size)
        if kind == "css":  # fonts and images a stylesheet names load with it
            for ref in CSS_URL.findall(path.read_text(encoding="utf-8", errors="replace")):
                sub = local(site, path.parent, ref)
                if sub is not None and sub.resolve() not in counted and sub.is_file():
                    counted[sub.resolve()] = ("css-url", sub.stat().st_size)
    by_kind = {kind: sum(size for k, size in counted.values() if k == kind) for kind, _ in counted.values()}
    return {
        "total_bytes": sum(sizes.values()), "files": len(sizes),
        "largest_file": str(largest.relative_to(site)) if largest else None,
        "largest_bytes": sizes[largest] if largest else 0,
        "first_view_bytes": sum(size for _, size in counted.values()),
        "first_view_by_kind": by_kind, "first_view_files": len(counted),
        "deferred_refs": len(parser.deferred), "missing_refs": missing,
        "scripts_fetch_at_runtime": any(re.search(r"\bfetch\(|XMLHttpRequest|import\(", p.read_text(errors="replace"))
                                        for p in site.rglob("*.js")),
    }


if __name__ == "__main__":
    print(json.dumps(measure_site(sys.argv[1] if len(sys.argv) > 1 else "site"), indent=2))
