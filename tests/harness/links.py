"""Decide whether each URL a page references resolves: same site, existing file or HTTP 200, existing fragment."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

SKIP_SCHEMES = {"data", "blob", "javascript", "mailto", "tel", "about"}
# The test server is on loopback: an environment proxy must never see its requests.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse_srcset(value: str) -> list[str]:
    """Return the URLs of a srcset attribute (the HTML candidate-list grammar, simplified)."""
    urls, i, n = [], 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        if i >= n:
            break
        j = i
        while j < n and not value[j].isspace():
            j += 1
        url = value[i:j]
        i = j
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # skip descriptors up to the next comma outside parentheses
            depth = 0
            while i < n and not (value[i] == "," and depth == 0):
                depth += value[i] == "("
                depth -= value[i] == ")"
                i += 1
        if url:
            urls.append(url)
    return urls


def origin(url: str) -> tuple[str, str]:
    """Return a URL's (scheme, host:port), lower-cased."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.netloc or "").lower()


def is_same_site(url: str, page_url: str) -> bool:
    """Tell whether `url` comes from the page's own site (any file:// for a page opened from disk)."""
    scheme, netloc = origin(url)
    page_scheme, page_netloc = origin(page_url)
    if page_scheme == "file":
        return scheme == "file"
    return scheme in ("http", "https") and netloc == page_netloc


def has_anchor(html_text: str, fragment: str) -> bool:
    """Tell whether an HTML text has an element with that id or name."""
    name = re.escape(html.escape(fragment, quote=True))
    return re.search(rf"""\s(?:id|name)\s*=\s*(?:"{name}"|'{name}'|{name}(?=[\s>]))""", html_text) is not None


class LinkChecker:
    """Resolves each distinct URL once; remembers HTML bodies to check fragments."""

    def __init__(self, page_url: str, page_ids: set[str]):
        self.page_url = page_url
        self.page_doc = urllib.parse.urldefrag(page_url)[0]
        self.page_ids = page_ids
        self.cache: dict[str, tuple[str | None, str | None]] = {}  # doc url -> (error, html)

    def check(self, url: str) -> str | None:
        """Return None if `url` resolves, else why not."""
        scheme, _ = origin(url)
        if scheme in SKIP_SCHEMES:
            return None
        if not is_same_site(url, self.page_url):
            if scheme in ("http", "https"):
                return "external URL (the site must not depend on other hosts)"
            return f"URL scheme {scheme or '(none)'}: is not usable from a {origin(self.page_url)[0]}: page"
        doc, fragment = urllib.parse.urldefrag(url)
        fragment = urllib.parse.unquote(fragment)
        if doc == self.page_doc:
            if fragment and fragment != "top" and fragment not in self.page_ids:
                return f"no element with id {fragment!r} on this page"
            return None
        error, body = self._resolve(doc, want_body=bool(fragment))
        if error:
            return error
        if fragment and body is not None and fragment != "top" and not has_anchor(body, fragment):
            return f"no element with id {fragment!r} in {doc}"
        return None

    def _resolve(self, doc: str, want_body: bool) -> tuple[str | None, str | None]:
        cached = self.cache.get(doc)
        if cached is not None and (cached[1] is not None or cached[0] or not want_body):
            return cached
        result = resolve_file(doc, want_body) if origin(doc)[0] == "file" else resolve_http(doc, want_body)
        self.cache[doc] = result
        return result


def resolve_file(doc: str, want_body: bool) -> tuple[str | None, str | None]:
    """Return (error, HTML text if wanted) for a file:// URL."""
    path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(doc).path))
    if path.is_dir():
        if not (path / "index.html").is_file():
            return f"directory without index.html: {path}", None
        path = path / "index.html"
    if not path.is_file():
        return f"file does not exist: {path}", None
    if want_body and path.suffix.lower() in (".html", ".htm", ".svg", ".xhtml"):
        return None, path.read_text(encoding="utf-8", errors="replace")
    return None, None


def resolve_http(doc: str, want_body: bool) -> tuple[str | None, str | None]:
    """Return (error, HTML text if wanted) for an http(s):// URL; anything but 200 is an error."""
    try:
        with NO_PROXY_OPENER.open(urllib.request.Request(doc), timeout=30) as resp:
            status = resp.status
            ctype = resp.headers.get("Content-Type", "")
            body = None
            if want_body and ("html" in ctype or "svg" in ctype):
                body = resp.read().decode("utf-8", errors="replace")
            else:
                resp.read(1)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}", None
    except (urllib.error.URLError, OSError) as exc:
        return f"request failed: {exc}", None
    if status != 200:
        return f"HTTP {status} (expected 200)", None
    return None, body
