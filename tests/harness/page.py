"""Load a page in the browser and report everything broken on it: images, videos, links, requests, console."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field

from .links import SKIP_SCHEMES, LinkChecker, is_same_site, origin, parse_srcset
from .tools import script


@dataclass
class Problem:
    """One thing broken on a page."""

    kind: str  # image | video | link | console | external-request | request-failed
    target: str  # the URL (or log source) concerned
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.target}: {self.message}"


@dataclass
class PageReport:
    """What check_page saw on a page, and the problems among it."""

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
        """Tell whether nothing is broken."""
        return not self.problems

    def of_kind(self, kind: str) -> list[Problem]:
        """Return the problems of one kind."""
        return [p for p in self.problems if p.kind == kind]

    def __str__(self) -> str:
        head = (
            f"{self.url}: {len(self.problems)} problem(s); {len(self.images)} image(s), "
            f"{len(self.videos)} video(s), {len(self.links)} link(s), {len(self.requests)} request(s)"
        )
        return "\n".join([head] + [f"  {p}" for p in self.problems])


def check_page(driver, url: str, *, image_timeout: float = 15.0, video_timeout: float = 15.0,
               check_links: bool = True) -> PageReport:
    """Load `url` (http:// or file://) and report everything broken on it."""
    drain_logs(driver)  # forget entries of previously loaded pages
    driver.get(url)
    deadline = time.monotonic() + 30
    while driver.execute_script("return document.readyState") != "complete" and time.monotonic() < deadline:
        time.sleep(0.05)
    report = PageReport(url=driver.current_url)
    check_images(driver, report, image_timeout)
    check_videos(driver, report, video_timeout)
    refs = driver.execute_script(script("refs"))
    check_references(report, refs, check_links)

    # Chromium probes /favicon.ico over http when a page declares no icon; that is the browser's doing,
    # not the page's, and its timing is racy (it can even land after the next check_page started):
    # not counted, only noted.
    def implicit_favicon(u: str) -> bool:
        parts = urllib.parse.urlsplit(u)
        return not refs["hasIcon"] and parts.scheme in ("http", "https") and parts.path == "/favicon.ico"

    check_requests(driver, report, implicit_favicon)
    check_console(driver, report, implicit_favicon)
    return report


def _probe(driver, name: str, timeout: float) -> list[dict]:
    """Run one of tests/js/'s element probes; it answers a list, or {"error": ...} when the probe itself failed."""
    found = driver.execute_async_script(script(name), int(timeout * 1000))
    if isinstance(found, dict):
        raise RuntimeError(f"{name} probe failed: {found.get('error')}")
    return found


def check_images(driver, report: PageReport, timeout: float) -> None:
    """Scroll every <img> into view and report those not loaded or not decodable."""
    images = report.images = _probe(driver, "images", timeout)
    for img in images:
        target = img["src"] or img["attr"] or img["srcset"] or img["html"]
        if not (img["attr"] or img["srcset"]):
            report.problems.append(Problem("image", img["html"], "<img> without src"))
        elif not img["complete"]:
            report.problems.append(Problem("image", target, f"not loaded after {timeout:g} s"))
        elif not img["naturalWidth"]:
            report.problems.append(Problem("image", target, "failed to load or decode (naturalWidth 0)"))


def check_videos(driver, report: PageReport, timeout: float) -> None:
    """Play every <video> muted and report those that cannot play, have no video track, or autoplay unmuted."""
    videos = report.videos = _probe(driver, "videos", timeout)
    for v in videos:
        candidates = [s["src"] for s in v["sources"]] + ([v["attrSrc"]] if v["attrSrc"] else [])
        target = v["src"] or ", ".join(c for c in candidates if c) or v["html"]
        if v["noSource"]:
            report.problems.append(Problem("video", v["html"], "<video> without src or <source>"))
        elif v["error"] or v["allSourcesFailed"] or v["readyState"] < 2:
            if v["error"]:
                why = v["error"]
            elif v["allSourcesFailed"]:
                why = "no <source> could be loaded and decoded"
            else:
                why = f"readyState {v['readyState']} after {v['ms']} ms (networkState {v['networkState']})"
            if v["playError"]:
                why += f"; play() rejected: {v['playError']}"
            report.problems.append(Problem("video", target, f"cannot play: {why}"))
        elif not v["videoWidth"]:
            report.problems.append(Problem("video", target, "plays but has no decodable video track (videoWidth 0)"))
        if v["autoplay"] and not v["mutedAttr"]:
            report.problems.append(Problem("video", target, "autoplay without muted: browsers block it"))


def check_references(report: PageReport, refs: dict, check_links: bool) -> None:
    """Collect every URL the page references (srcset included) and report those that do not resolve."""
    urls: list[str] = []
    for ref in refs["refs"]:
        if ref["attr"].endswith("srcset"):
            urls += [urllib.parse.urljoin(refs["baseURI"], u) for u in parse_srcset(ref["raw"])]
        elif ref["url"]:
            urls.append(ref["url"])
        else:
            report.problems.append(Problem("link", ref["raw"], f"unparsable URL in <{ref['tag']} {ref['attr']}>"))
    report.links = list(dict.fromkeys(urls))
    if check_links:
        checker = LinkChecker(report.url, set(refs["ids"]))
        for link in report.links:
            why = checker.check(link)
            if why:
                report.problems.append(Problem("link", link, why))


def check_requests(driver, report: PageReport, implicit_favicon) -> None:
    """Report requests to other hosts and failed requests, from the Performance API and DevTools events."""
    page_url, problems = report.url, report.problems
    requested: list[str] = []
    for entry in driver.execute_script(script("resources")):
        requested.append(entry["name"])
        status = entry["status"]
        if implicit_favicon(entry["name"]):
            report.notes.append(f"ignored: implicit {entry['name']} (HTTP {status}); add <link rel=icon> to avoid it")
        elif status and status >= 400 and is_same_site(entry["name"], page_url):
            problems.append(Problem("request-failed", entry["name"], f"HTTP {status} ({entry['initiator']})"))
    failed_ids: dict[str, str] = {}
    ids_to_url: dict[str, str] = {}
    for event in network_events(driver):
        params = event.get("params", {})
        if event["method"] == "Network.requestWillBeSent":
            req_url = params.get("request", {}).get("url", "")
            ids_to_url[params.get("requestId", "")] = req_url
            requested.append(req_url)
        elif event["method"] == "Network.loadingFailed" and not params.get("canceled"):
            failed_ids[params.get("requestId", "")] = params.get("errorText", "failed")
    report.requests = list(dict.fromkeys(u for u in requested if u and origin(u)[0] not in SKIP_SCHEMES))
    for req_url in report.requests:
        if not is_same_site(req_url, page_url) and not implicit_favicon(req_url):
            problems.append(Problem("external-request", req_url, "request to a host other than the page's own"))
    already = {p.target for p in problems if p.kind == "request-failed"}
    for request_id, error_text in failed_ids.items():
        req_url = ids_to_url.get(request_id, "")
        if req_url and req_url not in already and is_same_site(req_url, page_url) and not implicit_favicon(req_url):
            already.add(req_url)
            problems.append(Problem("request-failed", req_url, error_text))


def check_console(driver, report: PageReport, implicit_favicon) -> None:
    """Report the SEVERE browser console entries (JS errors, failed loads)."""
    report.console = driver.get_log("browser")
    for entry in report.console:
        if entry.get("level") != "SEVERE":
            continue
        failed_url = entry.get("message", "").split(" - Failed to load resource:", 1)
        if len(failed_url) == 2 and implicit_favicon(failed_url[0].strip()):
            continue
        target = failed_url[0].strip() if len(failed_url) == 2 else entry.get("source", "console")
        report.problems.append(Problem("console", target, entry.get("message", "")))


def drain_logs(driver) -> None:
    """Read and drop the browser's console and performance logs."""
    for kind in ("browser", "performance"):
        try:
            driver.get_log(kind)
        except Exception:
            pass


def network_events(driver) -> list[dict]:
    """Return the DevTools Network.* events of the current page from the performance log."""
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
