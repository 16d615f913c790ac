"""Site weight: total bytes, largest file, first-view bytes and the explorer's data of a built site folder.

First view = what a browser fetches for index.html before any interaction: the HTML, its
stylesheets (and the fonts/images their url() name), its scripts, every <img> without
loading="lazy", every <video>/<audio> poster, and the first media source of each <video>/<audio>
whose preload is not "none". Lazy images and preload="none" media count only their posters.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


class _FirstView(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.eager: list[tuple[str, str]] = []  # (kind, url)
        self.deferred: list[tuple[str, str]] = []
        self._media: list[dict] = []  # open <video>/<audio> elements

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if "stylesheet" in rel or "preload" in rel or "icon" in rel or "modulepreload" in rel:
                (self.eager if ("stylesheet" in rel or "preload" in rel or "modulepreload" in rel)
                 else self.deferred).append(("css" if "stylesheet" in rel else "link", a["href"]))
        elif tag == "script" and a.get("src"):
            self.eager.append(("js", a["src"]))
        elif tag == "img" and a.get("src"):
            (self.deferred if a.get("loading", "").lower() == "lazy" else self.eager).append(("img", a["src"]))
        elif tag in ("video", "audio"):
            if a.get("poster"):
                self.eager.append(("poster", a["poster"]))
            media = {"lazy": a.get("preload", "").lower() == "none", "taken": False}
            if a.get("src"):
                (self.deferred if media["lazy"] else self.eager).append(("media", a["src"]))
                media["taken"] = True
            self._media.append(media)
        elif tag == "source" and self._media and a.get("src"):
            media = self._media[-1]
            if media["lazy"] or media["taken"]:
                self.deferred.append(("media", a["src"]))
            else:  # a browser fetches the first playable source only
                self.eager.append(("media", a["src"]))
                media["taken"] = True
        elif tag in ("iframe", "embed") and a.get("src"):
            (self.deferred if a.get("loading", "").lower() == "lazy" else self.eager).append(("frame", a.get("src")))

    def handle_endtag(self, tag):
        if tag in ("video", "audio") and self._media:
            self._media.pop()


def _local(site: Path, base: Path, url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("data:") or not parts.path:
        return None
    path = unquote(parts.path)
    return (site / path.lstrip("/")) if path.startswith("/") else (base / path)


def measure_site(site: str | Path, index: str = "index.html") -> dict:
    """Return total bytes and file count, the largest file, and the first-view bytes with their parts."""
    site = Path(site)
    files = [p for p in site.rglob("*") if p.is_file()]
    sizes = {p: p.stat().st_size for p in files}
    largest = max(sizes, key=sizes.get) if sizes else None
    html_path = site / index
    parser = _FirstView()
    parser.feed(html_path.read_text(encoding="utf-8", errors="replace"))
    counted: dict[Path, tuple[str, int]] = {html_path.resolve(): ("html", sizes.get(html_path, 0))}
    missing: list[str] = []
    queue = list(parser.eager)
    base = html_path.parent
    while queue:
        kind, url = queue.pop(0)
        path = _local(site, base, url)
        if path is None:
            continue
        resolved = path.resolve()
        if resolved in counted:
            continue
        if not path.is_file():
            missing.append(url)
            continue
        counted[resolved] = (kind, path.stat().st_size)
        if kind == "css":  # fonts and images a stylesheet names load with it
            for ref in CSS_URL.findall(path.read_text(encoding="utf-8", errors="replace")):
                sub = _local(site, path.parent, ref)
                if sub is not None and sub.resolve() not in counted and sub.is_file():
                    counted[sub.resolve()] = ("css-url", sub.stat().st_size)
    by_kind: dict[str, int] = {}
    for kind, size in counted.values():
        by_kind[kind] = by_kind.get(kind, 0) + size
    scripts = [site / p for p in site.rglob("*.js")]
    dynamic = any(re.search(r"\bfetch\(|XMLHttpRequest|import\(", p.read_text(errors="replace")) for p in scripts)
    return {
        "total_bytes": sum(sizes.values()), "files": len(files),
        "largest_file": str(largest.relative_to(site)) if largest else None,
        "largest_bytes": sizes[largest] if largest else 0,
        "first_view_bytes": sum(size for _, size in counted.values()),
        "first_view_by_kind": by_kind, "first_view_files": len(counted),
        "deferred_refs": len(parser.deferred), "missing_refs": missing,
        "scripts_fetch_at_runtime": dynamic,
        "explorer": explorer_weight(site),
    }


def explorer_weight(site: Path) -> dict | None:
    """Return the explorer's data: stride, snapshots, chunk bytes in all and for each layer's first group."""
    import json

    meta_path = next(iter(sorted(site.rglob("explore.json"))), None)
    if meta_path is None:
        return None
    meta = json.loads(meta_path.read_text())
    files = [(g, file) for layer in meta["layers"] for g, group in enumerate(layer["groups"])
             for file in group["files"]]
    return {"stride": meta.get("stride", 1), "snapshots": meta.get("snapshots", len(meta["steps"])),
            "steps_shown": len(meta["steps"]), "budget_bytes": meta.get("budget_bytes"), "chunks": len(files),
            "chunk_bytes": sum(file["bytes"] for _, file in files),
            "first_group_bytes": sum(file["bytes"] for g, file in files if g == 0)}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure_site(sys.argv[1] if len(sys.argv) > 1 else "site"), indent=2))
