"""The article's two editions from one short real run: the Chinese page's words, links and explorer (issue 24)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import explorer_browser as page
from tests import harness
from tests.helpers import REPO, assert_refused, generate_here, page_text, screenshots_dir

HAN = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:()]+[A-Za-z][A-Za-z'’-]*){7,}")  # 8 English words in a row
# The source document (a Chinese translation of the post) that the project was built from, when this machine has it.
SOURCES = [REPO.parent / "shared" / "seed", Path("/work/shared/seed")]


class Blocks(HTMLParser):
    """Collect the text of each paragraph-like block (p, li, td, th, figcaption, summary, headings, dd, dt)."""

    BLOCK = {"p", "li", "td", "th", "figcaption", "summary", "h1", "h2", "h3", "h4", "dd", "dt", "caption"}

    def __init__(self):
        super().__init__()
        self.blocks, self.open, self.skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCK:
            self.open.append([])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        elif tag in self.BLOCK and self.open:
            self.blocks.append(" ".join("".join(self.open.pop()).split()))

    def handle_data(self, data):
        if not self.skip and self.open:
            self.open[-1].append(data)


def blocks_of(index: Path) -> list[str]:
    parser = Blocks()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser.blocks


def test_both_editions_are_written_and_link_to_each_other(built):
    _, site = built
    english, chinese = (site / "index.html").read_text(), (site / "zh" / "index.html").read_text()
    assert re.search(r'<html lang="en"', english) and re.search(r'<html lang="zh-Hans"', chinese)
    for markup, other in ((english, 'hreflang="zh-Hans" href="zh/index.html"'),
                          (chinese, 'hreflang="en" href="../index.html"')):
        assert markup.count('rel="alternate"') == 2, "each page lists both editions"
        assert other in markup
    # One copy of the videos and page data: the Chinese page reads the root's assets.
    assert not list((site / "zh").rglob("*.mp4")) and not list((site / "zh").rglob("*.bin"))
    for reference in re.findall(r'(?:src|href)="([^"#?]+)', chinese):
        if not re.match(r"[a-z]+:", reference):
            assert (site / "zh" / html.unescape(reference)).resolve().exists(), reference


def test_the_chinese_page_is_written_in_chinese(built):
    _, site = built
    index = site / "zh" / "index.html"
    text = page_text(index)
    assert len(HAN.findall(text)) >= 2000
    blocks = blocks_of(index)
    english = [block for block in blocks if ENGLISH_RUN.search(block)]
    assert english == [], f"{len(english)} blocks hold 8 English words in a row, e.g. {english[:3]}"
    spaced = [block for block in blocks if re.search(r"[\u4e00-\u9fff。，；：] [\u4e00-\u9fff]", block)]
    assert spaced == [], f"spaces between Chinese characters: {spaced[:3]}"


def test_the_chinese_page_copies_no_run_of_the_source_document(built):
    found = [folder for folder in SOURCES if folder.is_dir()]
    if not found:
        pytest.skip("the source document is not on this machine")
    source = "".join("".join(path.read_text(encoding="utf-8").split()) for path in sorted(found[0].iterdir()))
    runs = {source[i:i + 12] for i in range(len(source) - 11)}
    text = "".join(page_text(built[1] / "zh" / "index.html").split())
    copied = {text[i:i + 12] for i in range(len(text) - 11)} & runs
    assert not copied, sorted(copied)[:5]


def test_the_chinese_explorer_works_and_passes_axe_and_vnu_in_chromium(built, driver):
    index = built[1] / "zh" / "index.html"
    page.check_article_loads_plays_and_passes(driver, index)  # from disk: loads, draws, plays, axe, vnu
    valuetext = driver.find_element("id", "explorer-step").get_attribute("aria-valuetext")
    assert HAN.search(valuetext), valuetext
    harness.screenshot(driver, screenshots_dir() / "zh-phone.png", *harness.PHONE)
    width, height = harness.PHONE
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                   "deviceScaleFactor": 1, "mobile": True})
    try:  # at phone width: nothing but the tables' own scrolling regions is wider than the screen
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        assert harness.run_axe(driver) == []
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    harness.screenshot(driver, screenshots_dir() / "zh-desktop.png", *harness.DESKTOP)
    with harness.serve_directory(built[1]) as base:
        info = page.open_at(driver, base + "zh/index.html#step=2")
        assert page.state(driver)["shown"] == "2", info


def test_english_alone_and_an_unknown_edition(run_copy, tmp_path):
    build, _ = run_copy
    site = tmp_path / "english"
    assert generate_here("site", build, site, "--languages", "en").returncode == 0
    assert (site / "index.html").is_file() and not (site / "zh").exists()
    assert 'hreflang' not in (site / "index.html").read_text()
    assert_refused(generate_here("site", build, tmp_path / "other", "--languages", "en,fr"), "--languages", "fr")
    assert not (tmp_path / "other").exists()
