"""Real-browser test harness for the generated site (headless Chromium + Selenium).

Install what it needs once (Debian/Ubuntu, as root)::

    sudo bash scripts/install_test_deps.sh    # chromium, chromium-driver, Java (if missing), npm ci

Typical use in a pytest module (the `driver` fixture is in tests/conftest.py)::

    from tests import harness

    def test_site(driver, tmp_path):
        with harness.serve_directory("site") as base:     # http://127.0.0.1:<port>/
            report = harness.check_page(driver, base + "index.html")
            assert report.ok, str(report)
            assert harness.run_axe(driver) == []
            harness.screenshot(driver, tmp_path / "phone.png", *harness.PHONE)
        report = harness.check_page(driver, harness.file_url("site/index.html"))   # file:// works too
        assert harness.run_vnu(["site/index.html"]) == []

One job per module:

* serving -- ``serve_directory(path)``: a quiet threaded HTTP server on 127.0.0.1 (free port), the
  standard library's handler plus HTTP Range requests (206/416, which Chromium needs to play and seek
  MP4/WebM) and fixed MIME types; yields the base URL, ending in "/". ``file_url(path)``.
* tools -- ``chromium_available()`` / ``axe_available()`` / ``vnu_available()`` -> ``(ok, reason)``;
  ``require((ok, reason))`` turns a missing tool into ``pytest.skip``, or into a failure when
  ``REQUIRE_BROWSER=1`` (CI sets it); ``script(name)`` reads the page-side JavaScript in tests/js/.
* chromium -- ``start_browser(width, height)``: headless Chromium driven by /usr/bin/chromedriver (never
  Selenium Manager, no downloads), fresh temporary profile, console and DevTools network events
  captured. Every host name except localhost maps to "not found", so a page that tries to reach the
  internet fails fast and is reported. ``driver.quit()`` also deletes the profile. ``DESKTOP`` and
  ``PHONE`` are ``(width, height)`` presets.
* page -- ``check_page(driver, url)`` -> ``PageReport`` with ``.ok``, ``.problems`` (``Problem(kind,
  target, message)``) and what was seen. Kinds: ``image`` (not loaded after scrolling each <img> into
  view, so lazy ones load), ``video`` (muted play() does not reach readyState >= 2 in time, or a media
  error), ``link`` (a href/src/srcset/poster/data URL that does not resolve: status other than 200,
  missing file or fragment target, any URL on another host; see links), ``console`` (SEVERE entries),
  ``external-request`` (a request to another host, from the Performance API and DevTools events) and
  ``request-failed``.
* axe -- ``run_axe(driver, context=None, options=None)`` -> ``AxeViolation`` list for the loaded page.
* vnu -- ``run_vnu(html_paths)`` -> ``VnuMessage`` errors from the Nu Html Checker (java -jar vnu.jar).
* screenshot -- ``screenshot(driver, path, width, height)``: full-page PNG at that CSS width; widths under
  600 px emulate a phone (mobile viewport, touch).

Environment overrides: ``CHROMIUM_BINARY`` (default /usr/bin/chromium), ``CHROMEDRIVER`` (default
/usr/bin/chromedriver), ``JAVA`` (default: java on PATH).
"""

from .axe import AxeViolation, run_axe
from .chromium import CHROMIUM_FLAGS, DESKTOP, PHONE, start_browser
from .links import parse_srcset
from .page import PageReport, Problem, check_page
from .screenshot import screenshot
from .serving import file_url, serve_directory
from .tools import AXE_JS, INSTALL_HINT, VNU_JAR, axe_available, chromium_available, require, vnu_available
from .vnu import VnuMessage, run_vnu

__all__ = [
    "AXE_JS", "CHROMIUM_FLAGS", "DESKTOP", "INSTALL_HINT", "PHONE", "VNU_JAR", "AxeViolation", "PageReport",
    "Problem", "VnuMessage", "axe_available", "check_page", "chromium_available", "file_url", "parse_srcset",
    "require", "run_axe", "run_vnu", "screenshot", "serve_directory", "start_browser", "vnu_available",
]
