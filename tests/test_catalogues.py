"""The editions' catalogues against the words the code marks today (issue 24).

The messages are extracted afresh from templates/ and report/ with Babel (as `make messages` does), so a sentence
added without a translation fails here even when nobody ran `make messages`.
"""

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from report.voice import LOCALES, SOURCE, catalogue_path
from tests.helpers import REPO

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:]+[A-Za-z][A-Za-z'’-]*){7,}")  # 8 English words in a row
HAN = re.compile(r"[\u4e00-\u9fff]")


def marked_messages() -> dict:
    """Return {(msgid, context): places} for every message babel.cfg extracts (a plural's msgid: both forms)."""
    with open(REPO / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(REPO, method_map, options_map):
        found.setdefault((message, context), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def messages():
    found = marked_messages()
    assert len(found) > 100, "the templates and report/ mark the article's words for translation"
    return found


@pytest.mark.parametrize("edition", [name for name in LOCALES if name != SOURCE])
def test_every_marked_message_has_a_checked_translation(messages, edition):
    with open(catalogue_path(edition), "rb") as file:
        catalog = read_po(file, locale=LOCALES[edition])
    missing, fuzzy, empty = [], [], []
    for (key, context), places in messages.items():
        entry = catalog.get(key[0] if isinstance(key, tuple) else key, context=context)
        if entry is None:
            missing.append(f"{places[0]}: {key!r}")
        elif entry.fuzzy:
            fuzzy.append(f"{places[0]}: {key!r}")
        elif not all(entry.string) if isinstance(entry.string, tuple) else not entry.string:
            empty.append(f"{places[0]}: {key!r}")
    assert not missing, f"{len(missing)} messages missing from the catalogue (make messages): {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy (unchecked) translations: {fuzzy[:5]}"
    assert not empty, f"{len(empty)} untranslated messages: {empty[:5]}"


@pytest.mark.parametrize("edition", [name for name in LOCALES if name != SOURCE])
def test_translations_keep_every_placeholder_and_are_written_in_the_language(messages, edition):
    with open(catalogue_path(edition), "rb") as file:
        catalog = read_po(file, locale=LOCALES[edition])
    wrong = []
    for entry in catalog:
        if not entry.id or entry.fuzzy:
            continue
        sources = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        targets = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        # one plural form (Chinese) may name the count or avoid it, as the singular does
        allowed = [set(PLACEHOLDER.findall(" ".join(sources))), set(PLACEHOLDER.findall(sources[0]))]
        for target in targets:
            if target and set(PLACEHOLDER.findall(target)) not in allowed:
                wrong.append(f"placeholders differ: {entry.id!r} -> {target!r}")
            words = len(re.findall(r"[A-Za-z]{2,}", PLACEHOLDER.sub("", sources[0])))
            if target and words >= 3 and not HAN.search(target):
                wrong.append(f"not translated: {entry.id!r} -> {target!r}")
            if target and ENGLISH_RUN.search(PLACEHOLDER.sub("", target)):
                wrong.append(f"8 English words in a row: {target!r}")
    assert not wrong, f"{len(wrong)} problems, e.g. {wrong[:5]}"
