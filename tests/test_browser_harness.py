"""Proves that the browser harness (tests/harness/) catches what it claims to, on small fixture pages.

Needs Chromium + chromedriver, Java 11+ and `npm ci` (axe-core, vnu-jar):
    sudo bash scripts/install_test_deps.sh
Without them the browser tests are skipped -- unless REQUIRE_BROWSER=1 (CI), then they fail.
"""

from __future__ import annotations

import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests import harness

# --------------------------------------------------------------------------- fixtures


def write_png(path: Path, width: int, height: int, rgb: tuple[int, int, int]) -> None:
    """A solid-colour RGB PNG, written with zlib only."""
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:] = rgb
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)


def write_mp4(path: Path, width: int = 64, height: int = 48, frames: int = 10) -> None:
    """A short H.264/yuv420p MP4 with the moov atom first (what the site ships)."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        (width, height),
        fps=10,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=16,
        output_params=["-movflags", "+faststart"],
    )
    writer.send(None)
    for i in range(frames):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, : (i + 1) * width // frames] = (30, 120, 220)
        writer.send(frame)
    writer.close()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="red.png">
<style>body {{ font-family: sans-serif; max-width: 50rem; margin: 0 auto; padding: 1rem; }}
img, video {{ max-width: 100%; height: auto; }} .spacer {{ height: 3200px; }}</style>
</head>
"""

GOOD_PAGE = HEAD.format(title="Harness fixture: good page") + """<body>
<header>
<h1>Good page</h1>
<nav aria-label="Contents">
<ul>
<li><a href="#results">Results</a></li>
<li><a href="other.html#details">Details on another page</a></li>
<li><a href="data.csv" download>Download the data (CSV)</a></li>
</ul>
</nav>
</header>
<main>
<section id="results" aria-labelledby="results-heading">
<h2 id="results-heading">Results</h2>
<figure>
<img src="red.png" srcset="red.png 1x, red@2x.png 2x" alt="A red rectangle" width="32" height="24">
<figcaption>A PNG with a 2x variant.</figcaption>
</figure>
<figure>
<img src="chart.svg" alt="A blue square chart" width="100" height="100">
<figcaption>An SVG image.</figcaption>
</figure>
<figure>
<video controls muted playsinline preload="metadata" width="64" height="48" poster="red.png">
<source src="clip.mp4" type="video/mp4">
<a href="clip.mp4">Download the clip</a>
</video>
<figcaption>An H.264 MP4 clip.</figcaption>
</figure>
</section>
<div class="spacer"></div>
<section aria-labelledby="lazy-heading">
<h2 id="lazy-heading">Below the fold</h2>
<img src="blue.png" loading="lazy" alt="A lazily loaded blue rectangle" width="32" height="24">
</section>
</main>
<footer><p>Made for the harness tests.</p></footer>
</body>
</html>
"""

OTHER_PAGE = HEAD.format(title="Harness fixture: other page") + """<body>
<main>
<h1>Other page</h1>
<h2 id="details">Details</h2>
<p><a href="index.html#results">Back to the results</a></p>
</main>
</body>
</html>
"""

# Declares no icon, so Chromium also probes /favicon.ico (404): that must not count.
BAD_PAGE = HEAD.format(title="Harness fixture: bad page").replace('<link rel="icon" href="red.png">\n', "") + """<body>
<main>
<h1>Bad page</h1>
<img src="missing.png" alt="An image that does not exist" width="10" height="10">
<p><a href="nowhere.html">A broken link</a>, <a href="#no-such-id">a broken fragment</a>
and <a href="https://example.com/page">an external link</a>.</p>
<video muted controls width="64" height="48"><source src="missing.mp4" type="video/mp4"></video>
<script>
fetch("https://cdn.example.net/beacon.js").catch(() => {});
throw new Error("deliberate boom");
</script>
</main>
</body>
</html>
"""

# No lang, an <img> without alt, a duplicate id, no <title>: axe and vnu must object.
BROKEN_MARKUP_PAGE = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><link rel="icon" href="red.png"></head>
<body>
<div id="twice">One</div><div id="twice">Two</div>
<img src="red.png">
</body>
</html>
"""

GOOD_PAGES = ("index.html", "other.html")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    write_png(root / "red.png", 32, 24, (200, 30, 30))
    write_png(root / "red@2x.png", 64, 48, (200, 30, 30))
    write_png(root / "blue.png", 32, 24, (30, 30, 200))
    (root / "chart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 10 10">'
        '<rect width="10" height="10" fill="#1f4e9e"/></svg>\n'
    )
    write_mp4(root / "clip.mp4")
    (root / "data.csv").write_text("epoch,loss\n1,0.5\n2,0.25\n")
    (root / "index.html").write_text(GOOD_PAGE)
    (root / "other.html").write_text(OTHER_PAGE)
    (root / "bad.html").write_text(BAD_PAGE)
    (root / "broken-markup.html").write_text(BROKEN_MARKUP_PAGE)
    return root


@pytest.fixture(scope="module")
def base_url(site):
    with harness.serve_directory(site) as url:
        yield url


@pytest.fixture(params=["http", "file"])
def page_url(request, site, base_url):
    """page_url("index.html") -> the page over http://127.0.0.1 or file://."""
    if request.param == "http":
        return lambda name: base_url + name
    return lambda name: harness.file_url(site / name)


# --------------------------------------------------------------------------- server


def _get(url: str, range_header: str | None = None):
    request = urllib.request.Request(url, headers={"Range": range_header} if range_header else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()  # names case-insensitive
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_server_answers_range_requests(site, base_url):
    video = (site / "clip.mp4").read_bytes()
    size = len(video)

    status, headers, body = _get(base_url + "clip.mp4")
    assert (status, body, headers["Content-Type"], headers["Accept-Ranges"]) == (200, video, "video/mp4", "bytes")

    status, headers, body = _get(base_url + "clip.mp4", "bytes=0-9")
    assert (status, headers["Content-Range"], headers["Content-Length"], body) == (
        206, f"bytes 0-9/{size}", "10", video[:10])

    status, headers, body = _get(base_url + "clip.mp4", "bytes=100-")
    assert (status, headers["Content-Range"], body) == (206, f"bytes 100-{size - 1}/{size}", video[100:])

    status, headers, body = _get(base_url + "clip.mp4", "bytes=-16")
    assert (status, body) == (206, video[-16:])

    status, headers, _ = _get(base_url + "clip.mp4", f"bytes={size}-")
    assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")

    assert _get(base_url + "missing.mp4")[0] == 404
    assert _get(base_url + "chart.svg")[1]["Content-Type"] == "image/svg+xml"


def test_parse_srcset():
    assert harness.parse_srcset("a.png 1x, b@2x.png 2x") == ["a.png", "b@2x.png"]
    assert harness.parse_srcset("small.png 320w,big.png 1280w") == ["small.png", "big.png"]
    assert harness.parse_srcset("one.png") == ["one.png"]


# --------------------------------------------------------------------------- check_page


def test_good_page_passes(driver, page_url):
    report = harness.check_page(driver, page_url("index.html"))
    assert report.ok, str(report)
    assert len(report.images) == 3
    lazy = [img for img in report.images if img["loading"] == "lazy"]
    assert lazy and lazy[0]["naturalWidth"] == 32, "the lazy image was not loaded"
    assert len(report.videos) == 1 and report.videos[0]["readyState"] >= 2
    assert report.videos[0]["src"].endswith("/clip.mp4")
    assert any(link.endswith("other.html#details") for link in report.links)
    assert any(link.endswith("red@2x.png") for link in report.links)  # srcset is checked


def test_bad_page_reports_each_problem(driver, page_url):
    report = harness.check_page(driver, page_url("bad.html"))
    assert not report.ok

    def has(kind: str, needle: str) -> bool:
        return any(needle in p.target or needle in p.message for p in report.of_kind(kind))

    expected = {
        "missing image": has("image", "missing.png"),
        "broken link": has("link", "nowhere.html"),
        "broken fragment": has("link", "#no-such-id"),
        "external link": has("link", "https://example.com/page"),
        "unplayable video": has("video", "missing.mp4"),
        "JS error": has("console", "deliberate boom"),
        "external request": has("external-request", "https://cdn.example.net/beacon.js"),
    }
    missed = [what for what, found in expected.items() if not found]
    assert not missed, f"not reported: {missed}\n{report}"
    assert not any("favicon.ico" in str(p) for p in report.problems), str(report)


# --------------------------------------------------------------------------- axe


def test_axe_finds_no_violations_on_good_page(driver, page_url):
    harness.require(harness.axe_available())
    driver.get(page_url("index.html"))
    violations = harness.run_axe(driver)
    assert violations == [], "\n".join(map(str, violations))


def test_axe_reports_violations(driver, base_url):
    harness.require(harness.axe_available())
    driver.get(base_url + "broken-markup.html")
    ids = {v.id for v in harness.run_axe(driver)}
    assert {"html-has-lang", "image-alt"} <= ids, ids


# --------------------------------------------------------------------------- vnu


def test_vnu_accepts_good_pages(site):
    harness.require(harness.vnu_available())
    errors = harness.run_vnu([site / name for name in GOOD_PAGES + ("bad.html",)])
    assert errors == [], "\n".join(map(str, errors))


def test_vnu_reports_errors(site):
    harness.require(harness.vnu_available())
    errors = harness.run_vnu(site / "broken-markup.html")
    text = "\n".join(e.message for e in errors)
    assert all(e.file.endswith("broken-markup.html") for e in errors)
    assert "Duplicate ID" in text and "alt" in text and "title" in text, text


# --------------------------------------------------------------------------- screenshots


@pytest.mark.parametrize("size", [harness.DESKTOP, harness.PHONE], ids=["desktop", "phone"])
def test_screenshot_is_full_page(driver, page_url, tmp_path, size):
    width, height = size
    driver.get(page_url("index.html"))
    path = harness.screenshot(driver, tmp_path / "shot.png", width, height)
    shot_width, shot_height = png_size(path)
    assert shot_width == width
    assert shot_height > 3200, "not the full page (the fixture is over 3200 px tall)"
    # the window is back to its own size afterwards
    assert driver.execute_script("return window.innerWidth") == harness.DESKTOP[0]


# --------------------------------------------------------------------------- skip / fail policy


def test_missing_tool_skips_or_fails_with_require_browser(monkeypatch):
    missing = (False, "widget not found (install with: sudo bash scripts/install_test_deps.sh)")
    monkeypatch.delenv("REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install_test_deps.sh"):
        harness.require(missing)
    monkeypatch.setenv("REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_BROWSER=1 but widget not found"):
        harness.require(missing)
    harness.require((True, "ok"))  # no-op
