"""The reading path of a built page: its word count and the paragraphs that repeat each other (issue 22).

    python scripts/reading_path.py SITE/index.html [--json]

The reading path is the text a reader meets going down the article without opening anything: the visible
text inside <main>, leaving out

- tables (<table>, captions included): reference, not prose;
- folded <details> (their <summary> too): opened only on request;
- the appendix (<section id="appendix">);
- what a browser with scripts does not show: <script>, <style>, <template>, <noscript>, and any element with
  the `hidden` attribute, except those marked `data-explorer-ui`, which the page's script reveals on load.

Figure captions (<figcaption>) and the short labels of the explorer's controls do count.

A word is a run of letters and digits, possibly joined inside by apostrophes, hyphens, points or commas
("it's", "edge-share", "0.5", "1,024"); words are compared case-folded. A paragraph is the text of one <p>,
<li>, <figcaption>, <dd> or <blockquote> on the reading path (text of an inner one belongs to the inner one
only). Two paragraphs "share" the Jaccard index of their word sets, |A ∩ B| / |A ∪ B|; only paragraphs of at
least MIN_WORDS words are compared, so that one-line labels such as "Downloads" do not count as repetition.
A pair is reported when it shares more than SHARE_LIMIT.

The script also reports SNAKE_CASE names (two or more capitalised parts joined by "_") anywhere in the page's
visible text, appendix and tables included: those are the code's names, not the reader's.

Standard library only. Exit status 0 whatever it finds: it measures; tests/test_reading_path.py decides.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import combinations
from pathlib import Path

MIN_WORDS = 6
SHARE_LIMIT = 0.6
WORD = re.compile(r"[^\W_](?:[\w'’.,-]*[^\W_])?")
SNAKE_CASE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
UNSEEN = {"script", "style", "template", "noscript"}  # never visible with scripts on
FOLDED = {"table", "details"}  # visible, but not on the reading path
PARAGRAPH = {"p", "li", "figcaption", "dd", "blockquote"}


def words(text: str) -> list[str]:
    """The words of a text, case-folded (see the module docstring)."""
    return [w.casefold() for w in WORD.findall(text)]


def share(a: str, b: str) -> float:
    """Jaccard index of two texts' word sets: the share of their distinct words that both use."""
    sa, sb = set(words(a)), set(words(b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


@dataclass
class _Open:
    tag: str
    unseen: bool  # this element or one around it is never shown
    off_path: bool  # this element or one around it is visible but off the reading path
    paragraph: int | None  # index into Reader.paragraphs of the innermost paragraph around the text


class Reader(HTMLParser):
    """Walk a page once, collecting reading-path text, its paragraphs and all visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.path_text: list[str] = []
        self.visible_text: list[str] = []
        self.paragraphs: list[list[str]] = []
        self.stack: list[_Open] = []
        self.in_main = False

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        a = dict(attrs)
        top = self.stack[-1] if self.stack else _Open("", False, False, None)
        unseen = top.unseen or tag in UNSEEN or ("hidden" in a and "data-explorer-ui" not in a)
        off_path = top.off_path or tag in FOLDED or (tag == "section" and a.get("id") == "appendix")
        paragraph = top.paragraph
        if tag in PARAGRAPH and self.in_main and not unseen and not off_path:
            self.paragraphs.append([])
            paragraph = len(self.paragraphs) - 1
        self.stack.append(_Open(tag, unseen, off_path, paragraph))
        if tag == "main":
            self.in_main = True

    def handle_startendtag(self, tag, attrs):
        pass  # <img/> and the like hold no text

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):  # close up to the matching tag (tolerates omitted ends)
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                break
        if tag == "main":
            self.in_main = False

    def handle_data(self, data):
        top = self.stack[-1] if self.stack else _Open("", False, False, None)
        if top.unseen:
            return
        self.visible_text.append(data)
        if self.in_main and not top.off_path:
            self.path_text.append(data)
            if top.paragraph is not None:
                self.paragraphs[top.paragraph].append(data)


@dataclass
class Measure:
    words: int
    paragraphs: list[str]
    pairs: list[tuple[float, int, int]]  # (share, i, j), largest share first, i < j index paragraphs
    snake_case: list[str]


def measure(markup: str) -> Measure:
    """Measure one page's markup (see the module docstring)."""
    reader = Reader()
    reader.feed(markup)
    reader.close()
    paragraphs = [text for text in (re.sub(r"\s+", " ", "".join(parts)).strip() for parts in reader.paragraphs)
                  if text]
    long_enough = [i for i, text in enumerate(paragraphs) if len(words(text)) >= MIN_WORDS]
    pairs = sorted(((share(paragraphs[i], paragraphs[j]), i, j) for i, j in combinations(long_enough, 2)),
                   reverse=True)
    visible = " ".join(reader.visible_text)
    return Measure(words=len(words(" ".join(reader.path_text))), paragraphs=paragraphs,
                   pairs=[p for p in pairs if p[0] > SHARE_LIMIT] or pairs[:1],
                   snake_case=sorted(set(SNAKE_CASE.findall(visible))))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    result = measure(Path(argv[0]).read_text(encoding="utf-8"))
    over = [p for p in result.pairs if p[0] > SHARE_LIMIT]
    if "--json" in argv:
        print(json.dumps({"words": result.words, "snake_case": result.snake_case,
                          "pairs": [{"share": round(s, 3), "a": result.paragraphs[i], "b": result.paragraphs[j]}
                                    for s, i, j in result.pairs]}, indent=1, ensure_ascii=False))
        return 0
    print(f"reading path: {result.words} words in {len(result.paragraphs)} paragraphs")
    print(f"paragraph pairs sharing more than {SHARE_LIMIT:.0%} of their words: {len(over)}")
    for s, i, j in result.pairs:
        label = "over" if s > SHARE_LIMIT else "most shared (under the limit)"
        print(f"  {s:.0%} {label}:\n    A: {result.paragraphs[i][:200]}\n    B: {result.paragraphs[j][:200]}")
    print("SNAKE_CASE names in visible text: " + (", ".join(result.snake_case) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
