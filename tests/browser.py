"""Real-browser test harness for the generated site (headless Chromium + Selenium).

Install what it needs once (Debian/Ubuntu, as root)::

    sudo bash scripts/install_test_deps.sh    # chromium, chromium-driver, Java (if missing), npm ci

Typical use in a pytest module::

    import pytest
    try:
        from tests import browser as harness      # repo root on sys.path
    except ImportError:
        import browser as harness                 # tests/ on sys.path (pytest rootdir insertion)

    @pytest.fixture(scope="module")
    def driver():
        harness.require(harness.chromium_available())   # skip, or fail when REQUIRE_BROWSER=1
        d = harness.start_browser(1280, 800)
        yield d
        d.quit()

    def test_site(driver, tmp_path):
        with harness.serve_directory("site") as base:     # http://127.0.0.1:<port>/
            report = harness.check_page(driver, base + "index.html")
            assert report.ok, str(report)
            assert harness.run_axe(driver) == []
            harness.screenshot(driver, tmp_path / "phone.png", *harness.PHONE)
        # the same checks work on file:// URLs:
        report = harness.check_page(driver, harness.file_url("site/index.html"))
        assert harness.run_vnu(["site/index.html"]) == []

What is provided:

* ``serve_directory(path)`` -- context manager; a quiet threaded HTTP server on
  127.0.0.1 (free port) that answers HTTP Range requests with 206 responses (needed
  for Chromium to play and seek MP4/WebM) and serves the right MIME types.
  Yields the base URL, ending in "/".
* ``chromium_available()`` / ``axe_available()`` / ``vnu_available()`` -> ``(ok, reason)``;
  ``require((ok, reason))`` turns a missing tool into ``pytest.skip`` -- or into a
  failure when the environment variable ``REQUIRE_BROWSER=1`` is set (CI sets it).
* ``start_browser(width, height)`` -- headless Chromium driven by /usr/bin/chromedriver
  (never Selenium Manager, no downloads), fresh temporary profile, browser console
  and DevTools network events captured.  Every host name except localhost is mapped
  to "not found", so a page that tries to reach the internet fails fast and is
  reported instead of hanging or leaking requests.  ``driver.quit()`` also deletes
  the profile.
* ``check_page(driver, url)`` -> ``PageReport`` with ``.ok``, ``.problems`` (list of
  ``Problem(kind, target, message)``) and what was seen.  Problem kinds:
  ``image`` (not loaded, checked after scrolling each <img> into view so lazy images
  load), ``video`` (muted play() via JS does not reach readyState >= 2 in time, or a
  media error), ``link`` (a href/src/srcset/poster/data URL that does not resolve:
  HTTP status other than 200, missing file, missing fragment target, any http(s) URL on
  another host), ``console`` (SEVERE browser console entries: JS errors, failed
  loads), ``external-request`` (a request to a host other than the page's own, from
  the Performance API and from DevTools network events) and ``request-failed``
  (a request of the page that failed or got an HTTP error status).
* ``run_axe(driver, context=None, options=None)`` -> list of ``AxeViolation`` for the
  page currently loaded (axe-core from node_modules/, injected; works on file://).
* ``run_vnu(html_paths)`` -> list of ``VnuMessage`` errors from the Nu Html Checker
  (node_modules/vnu-jar/build/dist/vnu.jar, run with java).
* ``screenshot(driver, path, width, height)`` -- full-page PNG at that CSS width;
  widths under 600 px emulate a phone (mobile viewport, touch).  ``DESKTOP`` and
  ``PHONE`` are ``(width, height)`` presets.

Environment overrides: ``CHROMIUM_BINARY`` (default /usr/bin/chromium),
``CHROMEDRIVER`` (default /usr/bin/chromedriver), ``JAVA`` (default: java on PATH).
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import functools
import html
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO_ROOT / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM_BINARY = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_HINT = "install with: sudo bash scripts/install_test_deps.sh"

DESKTOP = (1280, 800)
PHONE = (390, 844)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes renderers
    "--no-proxy-server",  # never route 127.0.0.1 (or anything) through an env proxy
    "--mute-audio",
    # Only loopback resolves: external requests fail at once (and are reported).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)

# ---------------------------------------------------------------------------
# HTTP server with Range support
# ---------------------------------------------------------------------------

_MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".vtt": "text/vtt; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
}

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class _RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single-range ``Range: bytes=a-b`` (206/416)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **_MIME_TYPES}

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def send_head(self):
        self._remaining = None
        path = self.translate_path(self.path)
        url_path = urllib.parse.urlsplit(self.path).path
        if not os.path.isfile(path) or url_path.endswith("/"):
            return super().send_head()  # directories, redirects, 404s
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(404, "File not found")
            return None
        try:
            st = os.fstat(f.fileno())
            size = st.st_size
            wanted = self._parse_range(self.headers.get("Range"), size)
            if wanted == "unsatisfiable":
                f.close()
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if wanted is None:
                self.send_response(200)
                length = size
            else:
                start, end = wanted
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                f.seek(start)
                length = end - start + 1
                self._remaining = length
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            return f
        except Exception:
            f.close()
            raise

    @staticmethod
    def _parse_range(header: str | None, size: int):
        """(start, end) inclusive, None to send the whole file, or "unsatisfiable"."""
        if not header:
            return None
        m = _RANGE_RE.match(header)
        if not m:  # multiple ranges or other units: ignoring Range is allowed (RFC 9110)
            return None
        first, last = m.groups()
        if not first and not last:
            return None
        if not first:  # suffix range: the last N bytes
            n = int(last)
            if n == 0 or size == 0:
                return "unsatisfiable"
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
        if start >= size:
            return "unsatisfiable"
        if end < start:
            return None
        return start, min(end, size - 1)

    def copyfile(self, source, outputfile):
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        while remaining > 0:
            chunk = source.read(min(64 * 1024, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout)):
            return  # the browser aborted a (media) download: normal
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve_directory(path: str | os.PathLike) -> Iterator[str]:
    """Serve ``path`` on http://127.0.0.1:<free port>/ from a background thread.

    Yields the base URL (ending in "/").  Supports Range requests (206 Partial
    Content, 416), so media can be played and seeked.  Stopped on exit.
    """
    root = Path(path).resolve()
    if not root.is_dir():
        raise NotADirectoryError(root)
    handler = functools.partial(_RangeRequestHandler, directory=str(root))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name=f"serve {root}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def file_url(path: str | os.PathLike) -> str:
    """file:// URL of a local path."""
    return Path(path).resolve().as_uri()


# ---------------------------------------------------------------------------
# Availability checks
# ---------------------------------------------------------------------------


def chromium_available() -> tuple[bool, str]:
    """(True, version) if Chromium and chromedriver are installed, else (False, why)."""
    for what, exe in (("Chromium", CHROMIUM_BINARY), ("chromedriver", CHROMEDRIVER)):
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            return False, f"{what} not found at {exe} ({INSTALL_HINT})"
    try:
        out = subprocess.run([CHROMEDRIVER, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"chromedriver does not run: {exc} ({INSTALL_HINT})"
    if out.returncode != 0:
        return False, f"chromedriver --version failed: {out.stderr.strip()} ({INSTALL_HINT})"
    return True, out.stdout.strip()


def axe_available() -> tuple[bool, str]:
    if AXE_JS.is_file():
        return True, str(AXE_JS)
    return False, f"{AXE_JS} missing: run `npm ci` in the repository root ({INSTALL_HINT})"


def _java() -> str | None:
    return os.environ.get("JAVA") or shutil.which("java")


def vnu_available() -> tuple[bool, str]:
    java = _java()
    if not java:
        return False, f"java not found ({INSTALL_HINT})"
    if not VNU_JAR.is_file():
        return False, f"{VNU_JAR} missing: run `npm ci` in the repository root ({INSTALL_HINT})"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"java does not run: {exc} ({INSTALL_HINT})"
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return False, f"cannot tell the java version: {out.stderr.strip()!r}"
    major = int(m.group(1)) if m.group(1) != "1" else int(m.group(2) or 0)
    if major < 11:
        return False, f"java {major} is too old for vnu.jar (need 11+) ({INSTALL_HINT})"
    return True, f"java {major}, {VNU_JAR}"


def require(availability: tuple[bool, str]) -> None:
    """pytest.skip when a tool is missing -- pytest.fail instead if REQUIRE_BROWSER=1."""
    ok, reason = availability
    if ok:
        return
    import pytest

    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------


def start_browser(width: int = DESKTOP[0], height: int = DESKTOP[1]):
    """Start headless Chromium (Selenium) with console + network logging enabled.

    The returned driver's ``quit()`` also removes its temporary profile directory.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    ok, reason = chromium_available()
    if not ok:
        raise RuntimeError(reason)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={int(width)},{int(height)}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=CHROMEDRIVER)  # explicit path: Selenium Manager is skipped
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    # The default resource-timing buffer holds only 250 entries.
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "try { performance.setResourceTimingBufferSize(100000); } catch (e) {}"},
    )
    original_quit = driver.quit

    def quit_and_clean() -> None:
        try:
            original_quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver


# ---------------------------------------------------------------------------
# check_page
# ---------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # image | video | link | console | external-request | request-failed
    target: str  # the URL (or log source) concerned
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.target}: {self.message}"


@dataclass
class PageReport:
    url: str
    problems: list[Problem] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    videos: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # every URL referenced by the page
    requests: list[str] = field(default_factory=list)  # every URL the page requested
    console: list[dict] = field(default_factory=list)  # all console entries
    notes: list[str] = field(default_factory=list)  # things seen but deliberately not counted

    @property
    def ok(self) -> bool:
        return not self.problems

    def of_kind(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def __str__(self) -> str:
        head = (
            f"{self.url}: {len(self.problems)} problem(s); {len(self.images)} image(s), "
            f"{len(self.videos)} video(s), {len(self.links)} link(s), {len(self.requests)} request(s)"
        )
        return "\n".join([head] + [f"  {p}" for p in self.problems])


_IMAGES_JS = r"""
const [timeoutMs, done] = [arguments[0], arguments[arguments.length - 1]];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const frame = () => Promise.race([new Promise(r => requestAnimationFrame(() => r())), sleep(100)]);
(async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) {            // lazy images start loading once near the viewport
    img.scrollIntoView({block: 'center', inline: 'center'});
    await frame(); await frame();
  }
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !imgs.every(i => i.complete)) await sleep(50);
  await Promise.all(imgs.map(i => i.complete && i.naturalWidth && i.decode ? i.decode().catch(() => {}) : null));
  window.scrollTo(0, 0);
  return imgs.map(i => ({
    src: i.currentSrc || i.src, attr: i.getAttribute('src'), srcset: i.getAttribute('srcset'),
    complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
    loading: i.loading, alt: i.getAttribute('alt'), html: i.outerHTML.slice(0, 200)}));
})().then(done, e => done({error: String(e && e.stack || e)}));
"""

_VIDEOS_JS = r"""
const [timeoutMs, done] = [arguments[0], arguments[arguments.length - 1]];
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function probe(v) {
  // Restart loading with listeners attached: a failing <source> fires 'error' on the
  // <source>, not on the <video>, and leaves play()'s promise pending forever.
  const sources = Array.from(v.querySelectorAll(':scope > source'));
  const usesSources = !v.hasAttribute('src');
  let sourceErrors = 0;
  const onSourceError = () => { sourceErrors++; };
  sources.forEach(s => s.addEventListener('error', onSourceError));
  v.muted = true;                      // muted play() is allowed without a user gesture
  v.scrollIntoView({block: 'center'});
  let playError = null;
  const t0 = performance.now();
  v.load();
  const p = v.play();
  if (p) p.catch(e => { playError = e.name + ': ' + e.message; });
  const noSource = usesSources && sources.length === 0;
  const allFailed = () => usesSources && sources.length > 0 && sourceErrors >= sources.length;
  while (!noSource && v.readyState < 2 && !v.error && !allFailed() && performance.now() < t0 + timeoutMs) await sleep(25);
  await sleep(0);                      // let a rejected play() promise report
  sources.forEach(s => s.removeEventListener('error', onSourceError));
  const r = {
    src: v.currentSrc, attrSrc: usesSources ? null : v.src,
    sources: sources.map(s => ({src: s.src, type: s.type})),
    noSource, allSourcesFailed: allFailed(),
    readyState: v.readyState, networkState: v.networkState,
    error: v.error ? ('MediaError ' + v.error.code + (v.error.message ? ': ' + v.error.message : '')) : null,
    playError, paused: v.paused, currentTime: v.currentTime, duration: v.duration,
    videoWidth: v.videoWidth, videoHeight: v.videoHeight,
    autoplay: v.autoplay, mutedAttr: v.hasAttribute('muted'), ms: Math.round(performance.now() - t0),
    html: v.outerHTML.slice(0, 300)};
  try { v.pause(); v.currentTime = 0; } catch (e) {}
  return r;
}
(async () => {
  const out = [];
  for (const v of Array.from(document.querySelectorAll('video'))) out.push(await probe(v));
  window.scrollTo(0, 0);
  return out;
})().then(done, e => done({error: String(e && e.stack || e)}));
"""

_REFS_JS = r"""
const out = [];
const abs = raw => { try { return new URL(raw, document.baseURI).href; } catch (e) { return null; } };
const add = (el, attr, raw) => {
  if (raw === null || raw === undefined) return;
  out.push({tag: el.tagName.toLowerCase(), attr, raw, url: attr.endsWith('srcset') ? null : abs(raw.trim())});
};
for (const el of document.querySelectorAll('[href]:not(base)')) add(el, 'href', el.getAttribute('href'));
for (const el of document.querySelectorAll('[src]')) add(el, 'src', el.getAttribute('src'));
for (const el of document.querySelectorAll('[srcset]')) add(el, 'srcset', el.getAttribute('srcset'));
for (const el of document.querySelectorAll('link[imagesrcset]')) add(el, 'imagesrcset', el.getAttribute('imagesrcset'));
for (const el of document.querySelectorAll('video[poster]')) add(el, 'poster', el.getAttribute('poster'));
for (const el of document.querySelectorAll('object[data]')) add(el, 'data', el.getAttribute('data'));
for (const el of document.querySelectorAll('svg *')) {
  const x = el.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
  if (x !== null && !el.hasAttribute('href')) add(el, 'xlink:href', x);
}
const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id)
  .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.getAttribute('name')));
return {refs: out, ids, baseURI: document.baseURI, url: location.href,
        hasIcon: !!document.querySelector('link[rel~="icon" i]')};
"""

_RESOURCES_JS = r"""
return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .map(e => ({name: e.name, initiator: e.initiatorType || e.entryType,
              status: (typeof e.responseStatus === 'number') ? e.responseStatus : null}));
"""

_SKIP_SCHEMES = {"data", "blob", "javascript", "mailto", "tel", "about"}


def _parse_srcset(value: str) -> list[str]:
    """URLs of a srcset attribute (the HTML candidate-list grammar, simplified)."""
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


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.netloc or "").lower()


def _is_same_site(url: str, page_url: str) -> bool:
    scheme, netloc = _origin(url)
    page_scheme, page_netloc = _origin(page_url)
    if page_scheme == "file":
        return scheme == "file"
    return scheme in ("http", "https") and netloc == page_netloc


def _has_anchor(html_text: str, fragment: str) -> bool:
    name = re.escape(html.escape(fragment, quote=True))
    return re.search(rf"""\s(?:id|name)\s*=\s*(?:"{name}"|'{name}'|{name}(?=[\s>]))""", html_text) is not None


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _LinkChecker:
    """Resolves each distinct URL once; remembers HTML bodies to check fragments."""

    def __init__(self, page_url: str, page_ids: set[str]):
        self.page_url = page_url
        self.page_doc = urllib.parse.urldefrag(page_url)[0]
        self.page_ids = page_ids
        self.cache: dict[str, tuple[str | None, str | None]] = {}  # doc url -> (error, html)

    def check(self, url: str) -> str | None:
        """None if ``url`` resolves, else why not."""
        scheme, _ = _origin(url)
        if scheme in _SKIP_SCHEMES:
            return None
        if not _is_same_site(url, self.page_url):
            if scheme in ("http", "https"):
                return "external URL (the site must not depend on other hosts)"
            return f"URL scheme {scheme or '(none)'}: is not usable from a {_origin(self.page_url)[0]}: page"
        doc, fragment = urllib.parse.urldefrag(url)
        fragment = urllib.parse.unquote(fragment)
        if doc == self.page_doc:
            if fragment and fragment != "top" and fragment not in self.page_ids:
                return f"no element with id {fragment!r} on this page"
            return None
        error, body = self._resolve(doc, want_body=bool(fragment))
        if error:
            return error
        if fragment and body is not None and fragment != "top" and not _has_anchor(body, fragment):
            return f"no element with id {fragment!r} in {doc}"
        return None

    def _resolve(self, doc: str, want_body: bool) -> tuple[str | None, str | None]:
        cached = self.cache.get(doc)
        if cached is not None and (cached[1] is not None or cached[0] or not want_body):
            return cached
        if _origin(doc)[0] == "file":
            result = self._resolve_file(doc, want_body)
        else:
            result = self._resolve_http(doc, want_body)
        self.cache[doc] = result
        return result

    @staticmethod
    def _resolve_file(doc: str, want_body: bool):
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

    @staticmethod
    def _resolve_http(doc: str, want_body: bool):
        try:
            with _NO_PROXY_OPENER.open(urllib.request.Request(doc), timeout=30) as resp:
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


def _drain_logs(driver) -> None:
    for kind in ("browser", "performance"):
        try:
            driver.get_log(kind)
        except Exception:
            pass


def _network_events(driver) -> list[dict]:
    """DevTools Network.* events of the current page from the performance log."""
    events = []
    try:
        entries = driver.get_log("performance")
    except Exception:
        return events
    for entry in entries:
        try:
            msg = json.loads(entry["message"])["message"]
        except (KeyError, ValueError, TypeError):
            continue
        if msg.get("method", "").startswith("Network."):
            events.append(msg)
    return events


def check_page(
    driver,
    url: str,
    *,
    image_timeout: float = 15.0,
    video_timeout: float = 15.0,
    check_links: bool = True,
) -> PageReport:
    """Load ``url`` (http:// or file://) and report everything broken on it."""
    _drain_logs(driver)  # forget entries of previously loaded pages
    driver.get(url)
    deadline = time.monotonic() + 30
    while driver.execute_script("return document.readyState") != "complete" and time.monotonic() < deadline:
        time.sleep(0.05)

    report = PageReport(url=driver.current_url)
    page_url = report.url
    problems = report.problems

    # Images ---------------------------------------------------------------
    images = driver.execute_async_script(_IMAGES_JS, int(image_timeout * 1000))
    if isinstance(images, dict):
        raise RuntimeError(f"image probe failed: {images.get('error')}")
    report.images = images
    for img in images:
        target = img["src"] or img["attr"] or img["srcset"] or img["html"]
        if not (img["attr"] or img["srcset"]):
            problems.append(Problem("image", img["html"], "<img> without src"))
        elif not img["complete"]:
            problems.append(Problem("image", target, f"not loaded after {image_timeout:g} s"))
        elif not img["naturalWidth"]:
            problems.append(Problem("image", target, "failed to load or decode (naturalWidth 0)"))

    # Videos ---------------------------------------------------------------
    videos = driver.execute_async_script(_VIDEOS_JS, int(video_timeout * 1000))
    if isinstance(videos, dict):
        raise RuntimeError(f"video probe failed: {videos.get('error')}")
    report.videos = videos
    for v in videos:
        candidates = [s["src"] for s in v["sources"]] + ([v["attrSrc"]] if v["attrSrc"] else [])
        target = v["src"] or ", ".join(c for c in candidates if c) or v["html"]
        if v["noSource"]:
            problems.append(Problem("video", v["html"], "<video> without src or <source>"))
        elif v["error"] or v["allSourcesFailed"] or v["readyState"] < 2:
            if v["error"]:
                why = v["error"]
            elif v["allSourcesFailed"]:
                why = "no <source> could be loaded and decoded"
            else:
                why = f"readyState {v['readyState']} after {v['ms']} ms (networkState {v['networkState']})"

            if v["playError"]:
                why += f"; play() rejected: {v['playError']}"
            problems.append(Problem("video", target, f"cannot play: {why}"))
        elif not v["videoWidth"]:
            problems.append(Problem("video", target, "plays but has no decodable video track (videoWidth 0)"))
        if v["autoplay"] and not v["mutedAttr"]:
            problems.append(Problem("video", target, "autoplay without muted: browsers block it"))

    # Links and references -------------------------------------------------
    refs = driver.execute_script(_REFS_JS)
    urls: list[str] = []
    for ref in refs["refs"]:
        if ref["attr"].endswith("srcset"):
            urls += [urllib.parse.urljoin(refs["baseURI"], u) for u in _parse_srcset(ref["raw"])]
        elif ref["url"]:
            urls.append(ref["url"])
        else:
            problems.append(Problem("link", ref["raw"], f"unparsable URL in <{ref['tag']} {ref['attr']}>"))
    report.links = list(dict.fromkeys(urls))
    if check_links:
        checker = _LinkChecker(page_url, set(refs["ids"]))
        for link in report.links:
            why = checker.check(link)
            if why:
                problems.append(Problem("link", link, why))

    # Chromium probes /favicon.ico over http when a page declares no icon; that is
    # the browser's doing, not the page's, and its timing is racy (it can even land
    # after the next check_page started): not counted, only noted.
    def implicit_favicon(u: str) -> bool:
        parts = urllib.parse.urlsplit(u)
        return not refs["hasIcon"] and parts.scheme in ("http", "https") and parts.path == "/favicon.ico"

    # Requests (Performance API + DevTools network events) -----------------
    requested: list[str] = []
    for entry in driver.execute_script(_RESOURCES_JS):
        requested.append(entry["name"])
        status = entry["status"]
        if implicit_favicon(entry["name"]):
            report.notes.append(f"ignored: implicit {entry['name']} (HTTP {status}); add <link rel=icon> to avoid it")
        elif status and status >= 400 and _is_same_site(entry["name"], page_url):
            problems.append(Problem("request-failed", entry["name"], f"HTTP {status} ({entry['initiator']})"))
    failed_ids: dict[str, str] = {}
    ids_to_url: dict[str, str] = {}
    for event in _network_events(driver):
        params = event.get("params", {})
        if event["method"] == "Network.requestWillBeSent":
            req_url = params.get("request", {}).get("url", "")
            ids_to_url[params.get("requestId", "")] = req_url
            requested.append(req_url)
        elif event["method"] == "Network.loadingFailed" and not params.get("canceled"):
            failed_ids[params.get("requestId", "")] = params.get("errorText", "failed")
    report.requests = list(dict.fromkeys(u for u in requested if u and _origin(u)[0] not in _SKIP_SCHEMES))
    for req_url in report.requests:
        if not _is_same_site(req_url, page_url) and not implicit_favicon(req_url):
            problems.append(Problem("external-request", req_url, "request to a host other than the page's own"))
    already = {p.target for p in problems if p.kind == "request-failed"}
    for request_id, error_text in failed_ids.items():
        req_url = ids_to_url.get(request_id, "")
        if req_url and req_url not in already and _is_same_site(req_url, page_url) and not implicit_favicon(req_url):
            already.add(req_url)
            problems.append(Problem("request-failed", req_url, error_text))

    # Console ----------------------------------------------------------------
    report.console = driver.get_log("browser")
    for entry in report.console:
        if entry.get("level") != "SEVERE":
            continue
        failed_url = entry.get("message", "").split(" - Failed to load resource:", 1)
        if len(failed_url) == 2 and implicit_favicon(failed_url[0].strip()):
            continue
        target = failed_url[0].strip() if len(failed_url) == 2 else entry.get("source", "console")
        problems.append(Problem("console", target, entry.get("message", "")))
    return report


# ---------------------------------------------------------------------------
# axe-core
# ---------------------------------------------------------------------------


@dataclass
class AxeViolation:
    id: str
    impact: str | None
    help: str
    help_url: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.id} ({self.impact}): {self.help} -- {', '.join(self.targets)}"


_AXE_RUN_JS = r"""
const [context, options, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
axe.run(context || document, Object.assign({resultTypes: ['violations']}, options || {}))
  .then(r => done({violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      targets: v.nodes.map(n => n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : String(t)).join(' | '))}))}),
        e => done({error: String(e && e.stack || e)}));
"""


def run_axe(driver, context=None, options: dict | None = None) -> list[AxeViolation]:
    """Run axe-core on the page currently loaded; returns its violations."""
    ok, reason = axe_available()
    if not ok:
        raise RuntimeError(reason)
    if not driver.execute_script("return typeof window.axe === 'object' && !!window.axe.run"):
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(_AXE_RUN_JS, context, options or {})
    if "error" in result:
        raise RuntimeError(f"axe.run failed: {result['error']}")
    return [
        AxeViolation(v["id"], v["impact"], v["help"], v["helpUrl"], list(v["targets"])) for v in result["violations"]
    ]


# ---------------------------------------------------------------------------
# Nu Html Checker
# ---------------------------------------------------------------------------


@dataclass
class VnuMessage:
    file: str
    line: int | None
    column: int | None
    message: str
    extract: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.message}"


def run_vnu(html_paths: Iterable[str | os.PathLike] | str | os.PathLike, extra_args: Iterable[str] = ()) -> list[VnuMessage]:
    """Validate HTML files (or directories of them) with vnu.jar; returns the errors."""
    ok, reason = vnu_available()
    if not ok:
        raise RuntimeError(reason)
    if isinstance(html_paths, (str, os.PathLike)):
        html_paths = [html_paths]
    paths = [str(Path(p).resolve()) for p in html_paths]
    if not paths:
        return []
    args = [_java(), "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--errors-only", "--exit-zero-always"]
    if any(Path(p).is_dir() for p in paths):
        args.append("--skip-non-html")
    args += list(extra_args) + paths
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    raw = proc.stderr.strip() or proc.stdout.strip()
    try:
        data = json.loads(raw)
    except ValueError:
        raise RuntimeError(f"vnu.jar exited {proc.returncode} without JSON output:\n{raw[-2000:]}") from None
    messages = []
    for m in data.get("messages", []):
        if m.get("type") not in ("error", "non-document-error") and m.get("subType") != "fatal":
            continue
        file = m.get("url", "")
        if file.startswith("file:"):
            file = urllib.request.url2pathname(urllib.parse.urlsplit(file).path)
        messages.append(
            VnuMessage(file, m.get("lastLine"), m.get("firstColumn") or m.get("lastColumn"), m.get("message", ""), m.get("extract", ""))
        )
    return messages


# ---------------------------------------------------------------------------
# Screenshots
# ---------------------------------------------------------------------------

_SCROLL_THROUGH_JS = r"""
const done = arguments[arguments.length - 1];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const frame = () => Promise.race([new Promise(r => requestAnimationFrame(() => r())), sleep(100)]);
(async () => {
  const step = Math.max(200, window.innerHeight);
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y); await frame(); await frame();
  }
  const imgs = Array.from(document.images);
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && !imgs.every(i => i.complete)) await sleep(50);
  window.scrollTo(0, 0); await frame();
  return Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
})().then(done, e => done(-1));
"""


def screenshot(
    driver,
    path: str | os.PathLike,
    width: int = DESKTOP[0],
    height: int = DESKTOP[1],
    *,
    mobile: bool | None = None,
    max_height: int = 16000,
) -> Path:
    """Full-page PNG of the current page at ``width`` CSS px (1 device px per CSS px).

    ``height`` is the viewport height (what 100vh means).  Widths under 600 px, or
    ``mobile=True``, emulate a phone: mobile viewport (honours <meta name=viewport>)
    and touch.  Lazy content is loaded by scrolling through the page first.
    """
    if mobile is None:
        mobile = width < 600
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {"width": int(width), "height": int(height), "deviceScaleFactor": 1, "mobile": bool(mobile)}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    if mobile:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        full_height = driver.execute_async_script(_SCROLL_THROUGH_JS)
        full_height = min(max(int(full_height), int(height)), max_height)
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": int(width), "height": full_height, "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        if mobile:
            driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path
