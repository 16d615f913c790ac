"""The reading path (scripts/reading_path.py, issue 22): its counting on hand-written markup, then on a built page."""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser

import pytest

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("reading_path", REPO / "scripts" / "reading_path.py")
reading_path = importlib.util.module_from_spec(spec)
sys.modules.setdefault("reading_path", reading_path)  # dataclasses look their module up there
spec.loader.exec_module(reading_path)

PAGE = """<!DOCTYPE html><html><head><title>Not counted</title><style>p { color: red }</style></head><body>
<header><p>Outside main, not counted at all.</p></header>
<main id="main">
<h2>Two words</h2>
<p>One two three four five six.</p>
<p>One two three four five seven.</p>
<p>Short one.</p>
<figure><img src="x.png" alt="alt text is not read"><figcaption>A caption of five words.</figcaption></figure>
<table><caption>Not on the path</caption><tr><td>MAX_STEPS</td><td>nine</td></tr></table>
<details><summary>Folded</summary><p>Folded text that nobody reads unless they open it.</p></details>
<script>var hidden = "script words";</script><noscript><p>No script words here at all.</p></noscript>
<p hidden>A hidden paragraph of several words here.</p>
<ul><li>Item with <em>inner</em> words it's got.</li></ul>
<section id="appendix"><h2>Appendix</h2><p>Appendix words are not on the path either.</p></section>
</main>
<footer><p>Footer words.</p></footer>
</body></html>"""


def test_counts_only_the_reading_path_on_hand_written_markup():
    result = reading_path.measure(PAGE)
    # "Two words" 2 + 6 + 6 + "Short one." 2 + caption 5 + "Item with inner words it's got." 6
    assert result.words == 27
    assert result.paragraphs == ["One two three four five six.", "One two three four five seven.", "Short one.",
                                 "A caption of five words.", "Item with inner words it's got."]
    # the first two share five of their seven distinct words: 5/7 > 60%; "Short one." is under MIN_WORDS
    assert [(round(share, 4), i, j) for share, i, j in result.pairs] == [(round(5 / 7, 4), 0, 1)]
    assert result.snake_case == ["MAX_STEPS"]  # visible in a table: off the path, but still on the page


def test_share_is_the_jaccard_index_of_word_sets():
    assert reading_path.share("a b c", "A B c") == 1.0
    assert reading_path.share("a b", "c d") == 0.0
    assert reading_path.share("a b c d", "c d e f") == pytest.approx(2 / 6)
    assert reading_path.words("Step 1,024 — it's edge-share") == ["step", "1,024", "it's", "edge-share"]


class _Cells(HTMLParser):
    """The text of every table cell of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells, self.open = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self.open = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.open is not None:
            self.cells.append(" ".join("".join(self.open).split()))
            self.open = None

    def handle_data(self, data):
        if self.open is not None:
            self.open.append(data)


def test_built_page_has_a_reading_path_and_no_code_names(built):
    _, site = built
    markup = (site / "index.html").read_text(encoding="utf-8")
    result = reading_path.measure(markup)
    assert result.words > 100 and len(result.paragraphs) > 10
    assert all(0 <= share <= 1 for share, _, _ in result.pairs)
    assert result.snake_case == [], result.snake_case  # the code's constant names are not the reader's words
    cells = _Cells()
    cells.feed(markup)
    kinds = [cell for cell in cells.cells if re.match(r"other\b", cell)]
    assert kinds == [], kinds  # a channel that is neither copy nor edge is "unnamed", not "other"
    assert "(other)" not in markup and "or other," not in markup


# The short run's reading path, measured (SOURCE_DATE_EPOCH fixed, tests/helpers.py's SHORT flags): 2,899 words and
# 32 paragraph pairs over SHARE_LIMIT before issue 22's rewrite (the explorer's caption repeated under every layer,
# the look-for lines and the conv5/conv6 comparisons alike), 2,530 words and 2 pairs after it. The limits leave room
# for a machine's other numbers to choose other sentences, not for a paragraph repeated per layer (six layers: 15
# pairs) or a hundred and twenty words more.
SHORT_RUN_WORDS = 2650
SHORT_RUN_PAIRS = 4


def test_short_run_reading_path_stays_within_its_measured_budget(built):
    _, site = built
    result = reading_path.measure((site / "index.html").read_text(encoding="utf-8"))
    over = [(round(share, 2), result.paragraphs[i][:80], result.paragraphs[j][:80])
            for share, i, j in result.pairs if share > reading_path.SHARE_LIMIT]
    assert result.words <= SHORT_RUN_WORDS, result.words
    assert len(over) <= SHORT_RUN_PAIRS, over
