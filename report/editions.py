"""Place the article's editions in one site: English at the root, each other edition in its own folder.

`edition_links(editions, edition, public_url)` gives a page the links to every edition (the <link rel=alternate
hreflang> set and the visible switch); `point_at_shared_assets(html, own)` makes a translated page, which lives
one folder down, use the root's assets/ except for the files it wrote itself (figures with translated labels);
`shared_copies(root, folder)` removes from an edition's assets/ every file identical to the root's, so the
videos, posters and explorer data exist once.
"""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

from report.voice import HTML_LANG, SOURCE

ASSET_REFERENCE = re.compile(r"(?<![\w/.-])(?:assets|static)/[\w./-]*")  # the site's two folders of files
NAMES = {"en": "English", "zh": "中文"}  # each edition named in its own language, as language switches do


def edition_folder(edition: str) -> str:
    """Return an edition's folder inside the site ("" for English, the root)."""
    return "" if edition == SOURCE else f"{edition}/"


def edition_links(editions: tuple[str, ...], edition: str, public_url: str | None = None) -> list[dict]:
    """Return every edition's link from `edition`'s page: code, html lang, name, href, and whether it is this one."""
    up = "" if edition == SOURCE else "../"
    links = []
    for other in editions:
        relative = up + edition_folder(other) + "index.html"
        href = (public_url + edition_folder(other)) if public_url else relative
        links.append({"code": other, "lang": HTML_LANG[other], "name": NAMES[other], "href": href,
                      "relative": relative, "current": other == edition})
    return links


def point_at_shared_assets(html: str, own: set[str]) -> str:
    """Return a page one folder down whose assets/ and static/ references lead to the root's, except `own` files."""
    return ASSET_REFERENCE.sub(lambda match: match.group(0) if match.group(0) in own else "../" + match.group(0),
                               html)


def shared_copies(root: Path, folder: Path) -> set[str]:
    """Delete the files of folder/assets identical to root/assets's; return those the edition keeps ("assets/x")."""
    own = set()
    assets = folder / "assets"
    for path in sorted(assets.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        twin = root / name
        if twin.is_file() and filecmp.cmp(path, twin, shallow=False):
            path.unlink()
        else:
            own.add(name)
    for path in sorted(assets.rglob("*"), reverse=True):  # folders left empty
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if assets.is_dir() and not any(assets.iterdir()):
        assets.rmdir()
    return own
