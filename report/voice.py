"""The article's editions: one Jinja2 environment per language, its catalogue, and `say` for report/words/.

English is the source language: every word of the article is in templates/, marked for translation with
Jinja2's i18n extension (`{% trans %}`, `gettext`); another edition's words come from the catalogue
locale/<locale>/LC_MESSAGES/messages.po (`make messages` extracts and updates it with Babel), compiled in
memory when first used so that no .mo file can fall out of step. Sentences that depend on the run are macros in
templates/words/*.txt.j2; report/words/ chooses which to say and with which numbers, and renders one with
`say("regime", "units")` in the edition being written (`speaking("zh")`, English by default). Numbers, percents
and lists are written per locale by the filters below (Babel).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext as gettext_module
import hashlib
import io
import re
import sys
from pathlib import Path

import jinja2
from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from report.compiled_templates import CompiledTemplates

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = REPO_ROOT / "templates"
LOCALE_DIR = REPO_ROOT / "locale"
# edition -> Babel locale. British English writes lists as "a, b and c", as the article always has.
LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}
HTML_LANG = {"en": "en", "zh": "zh-Hans"}  # <html lang> and hreflang (BCP 47)
SOURCE = "en"
_EDITION: contextvars.ContextVar[str] = contextvars.ContextVar("edition", default=SOURCE)
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def catalogue_path(edition: str) -> Path:
    """Return the .po file that holds an edition's translations."""
    return LOCALE_DIR / LOCALES[edition] / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(edition: str) -> gettext_module.NullTranslations:
    """Return an edition's translations: none for English (the source), else its catalogue compiled in memory."""
    if edition not in LOCALES:
        raise ValueError(f"no edition {edition!r}: choose from {', '.join(LOCALES)}")
    if edition == SOURCE:
        return gettext_module.NullTranslations()
    with open(catalogue_path(edition), "rb") as file:
        catalog = read_po(file, locale=LOCALES[edition])
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy (unchecked) entry falls back to English
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def _escaped(name: str | None) -> bool:
    """Autoescape the page templates, not the plain-text sentence macros (templates/words/*.txt.j2)."""
    return name is None or not name.endswith(".txt.j2")


def _settings_stamp() -> str:
    """Return a hash of what a compiled template depends on besides its source: this file's settings of the
    environments, and Jinja2's and Python's versions."""
    text = Path(__file__).read_bytes() + f"{jinja2.__version__} {sys.version_info[:2]}".encode()
    return hashlib.sha256(text).hexdigest()[:16]


COMPILED = CompiledTemplates(_settings_stamp())  # every edition's environment compiles into it (one process)


@functools.cache
def environment(edition: str = SOURCE) -> jinja2.Environment:
    """Return the Jinja2 environment of one edition: its catalogue installed, its locale's filters, strict names."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=_escaped,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             extensions=["jinja2.ext.i18n"], bytecode_cache=COMPILED)
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks and indents are not part of it
    env.install_gettext_translations(translations(edition), newstyle=True)
    env.filters.update(_filters(edition))
    env.globals.update(share=None, edition=edition, html_lang=HTML_LANG[edition])
    return env


def _filters(edition: str) -> dict:
    """Return the number and list filters of an edition's locale (the same digits in every edition)."""
    locale = Locale.parse(LOCALES[edition])
    english = edition == "en"

    def number(count: int) -> str:
        """A count as a word up to ten in English ("no" for 0), else as digits."""
        return _NUMBER_WORDS[count] if english and 0 <= count < len(_NUMBER_WORDS) else str(count)

    def ordinal(count: int) -> str:
        """2nd, 3rd, 11th in English; the bare number elsewhere (a template adds the locale's word for it)."""
        if not english:
            return str(count)
        suffix = "th" if 10 <= count % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
        return f"{count}{suffix}"

    def series(values, style: str = "standard") -> str:
        """Values joined as the locale joins a list ("a, b and c"; style "or": "a, b or c")."""
        values = [str(value) for value in values]
        return format_list(values, style=style, locale=locale) if values else ""

    def grouped(value) -> str:
        """A whole number with the locale's thousands separator (60,000)."""
        return format_decimal(value, locale=locale)

    def capitalise(text) -> str:
        """Upper-case the first letter of a sentence (no change where the script has no case)."""
        text = str(text)
        return text[:1].upper() + text[1:]

    return {"number": number, "ordinal": ordinal, "series": series, "grouped": grouped, "capitalise": capitalise,
            "percent": percent, "share_percent": share_percent, "r": r_value, "signed": signed, "score": score,
            "limit": limit, "add": lambda value, amount: value + amount}


def percent(share: float, digits: int = 0) -> str:
    """Format a share in [0, 1] as a percentage (a negative one with a minus sign)."""
    return f"{100 * share:.{digits}f}%".replace("-", "\u2212")


def share_percent(share: float) -> str:
    """Format a share of a count as a percentage to at most one decimal (3 of 24 is "12.5%", 1 of 2 "50%")."""
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"


def r_value(value: float) -> str:
    """Format an unsigned correlation for display (two decimals)."""
    return f"{abs(value):.2f}"


def signed(value: float) -> str:
    """Format a signed correlation for display, with an explicit sign."""
    rounded = round(value, 2)
    return f"+{abs(rounded):.2f}" if rounded >= 0 else f"\u2212{abs(rounded):.2f}"


def score(value: float) -> str:
    """Format a score on a 0..1 scale for display (two decimals)."""
    return f"{value:.2f}"


def limit(value: float) -> str:
    """Format a threshold on a layer's own scale with three significant digits."""
    return f"{value:.3g}"


@contextlib.contextmanager
def speaking(edition: str):
    """Write the sentences of report/words/ in `edition` inside the block."""
    environment(edition)  # an unknown edition or a broken catalogue fails here, before anything is written
    token = _EDITION.set(edition)
    try:
        yield
    finally:
        _EDITION.reset(token)


def edition() -> str:
    """Return the edition being written ("en" unless inside `speaking`)."""
    return _EDITION.get()


def say(words: str, macro: str, /, **values) -> str:
    """Render macro `macro` of templates/words/<words>.txt.j2 with `values`, as one line of plain text."""
    module = environment(edition()).get_template(f"words/{words}.txt.j2").module
    return " ".join(str(getattr(module, macro)(**values)).split())


def long_date(day) -> str | None:
    """Write a date as the edition does ("5 December 2026", "2026年12月5日"), None as None."""
    return None if day is None else format_date(day, "long", locale=LOCALES[edition()])


def gettext(message: str) -> str:
    """Translate a short label written in Python (a table cell, a unit) into the edition being written."""
    return translations(edition()).gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the name Babel extracts by default
    """Mark a message for extraction and return it unchanged: it is translated where it is shown."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a short label that agrees with a count into the edition being written."""
    return translations(edition()).ngettext(singular, plural, count)


_PUNCTUATION = "\u3000-\u303f\uff00-\uffef"  # CJK symbols and punctuation, full-width forms
_CJK = "\u3400-\u4dbf\u4e00-\u9fff" + _PUNCTUATION
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])|(?<=[{_PUNCTUATION}])\s+|\s+(?=[{_PUNCTUATION}])")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
# ASCII punctuation that joining pieces leaves between Chinese words becomes full-width.
_FULL_WIDTH = [(re.compile(rf"(?<=[{_HAN}）])\s*{re.escape(mark)}\s*(?=[{_HAN}（])"), wide)
               for mark, wide in ((";", "；"), (",", "，"), (":", "："))]
_LATIN_GAP = re.compile(rf"(?<=[{_HAN}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9%])(?=[{_HAN}])")
# Raw-text elements whole (never changed), other tags, and the text between them.
_TOKENS = re.compile(r"(<(?:script|style|pre|textarea)\b.*?</(?:script|style|pre|textarea)>|<[^>]*>)", re.S | re.I)


def close_cjk_gaps(html: str) -> str:
    """Remove the spaces that joining sentences leaves between Chinese characters or beside full-width punctuation
    (within a text and across inline tags), and make the ASCII ; , : left between Chinese words full-width.

    Written by hand: a space between two Chinese sentences is visible in Chromium (it does not drop segment
    breaks between CJK characters), and the pieces of a paragraph are joined with spaces for English. Attributes,
    script, style and pre are untouched.
    """
    tokens = [token for token in _TOKENS.split(html) if token]
    texts = [index for index, token in enumerate(tokens) if not token.startswith("<")]
    for index in texts:
        tokens[index] = _chinese_text(tokens[index])
    visible = [(index, tokens[index].strip()) for index in texts]
    for place, (index, text) in enumerate(visible):
        before = next((other[-1] for _, other in reversed(visible[:place]) if other), "")
        after = next((other[0] for _, other in visible[place + 1:] if other), "")
        token = tokens[index]
        if not text:  # only white space between two tags
            if _joins(before, after):
                tokens[index] = ""
            continue
        if token[:1].isspace() and _joins(before, text[0]):
            token = token.lstrip()
        if token[-1:].isspace() and _joins(text[-1], after):
            token = token.rstrip()
        tokens[index] = token
    # A Latin letter or digit beside a Chinese character across a tag ("3</a>和"): the space goes on the Chinese
    # side, so that it never sits inside a link's text.
    for place in range(1, len(visible)):
        (left, left_text), (right, right_text) = visible[place - 1], visible[place]
        between = "".join(tokens[left:right + 1])
        if not left_text or not right_text or re.search(r"\s<|>\s", between):
            continue
        pair = left_text[-1] + right_text[0]
        if re.fullmatch(rf"[A-Za-z0-9%][{_HAN}]", pair):
            tokens[right] = " " + tokens[right]
        elif re.fullmatch(rf"[{_HAN}][A-Za-z0-9]", pair):
            tokens[left] = tokens[left] + " "
    return "".join(tokens)


def _joins(left: str, right: str) -> bool:
    """True when no space belongs between these two characters in Chinese text."""
    return bool(left and right and _CJK_GAP.search(f"{left} {right}"))


def _chinese_text(text: str) -> str:
    """Full-width punctuation between Chinese words, no gap between Chinese characters, and one space between a
    Chinese character and a Latin letter or digit (where a list join such as Babel's "3和4" left none)."""
    for pattern, wide in _FULL_WIDTH:
        text = pattern.sub(wide, text)
    return _LATIN_GAP.sub(" ", _CJK_GAP.sub("", text))
