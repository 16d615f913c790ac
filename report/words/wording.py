"""The few words Python still hands to the page: counts, ordinals, lists and channel names in the edition written.

Use: report/page/ modules that put a number or a list into a template's placeholder call these, so the value
reads as the edition writes it (English: "six", "2nd", "a, b and c", "channel 3"; Chinese: "6", "2", "a、b和c",
"通道 3"); the sentences themselves are in templates/words/ (report/voice.py). `DIGIT_WORDS` / `IMAGE_WORDS` name
what the probes show (strokes of ink on MNIST, bright regions on any other data), marked for translation;
report.words.commentary.image_words picks one for a run's dataset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from report.voice import N_, edition, environment, percent, r_value, say, share_percent, signed

__all__ = ["DIGIT_WORDS", "IMAGE_WORDS", "ImageWords", "channel_label", "number", "ordinal", "percent", "r_value",
           "scale_basis", "series", "share_percent", "signed"]


@dataclass(frozen=True)
class ImageWords:
    """How the commentary names the bright parts of the probes, where the copy and edge maps are positive."""

    regions: str  # what an edge map's positive side borders: "top side of <regions>"
    bright: str  # where an inverted copy is negative: "negative on <bright>"


# The analysis compares channels with the input's brightness (report.numbers.reference_maps), so an edge is the side
# of a region brighter than its surroundings. On MNIST the bright parts are the ink of the strokes.
DIGIT_WORDS = ImageWords(regions=N_("strokes"), bright=N_("the ink"))
IMAGE_WORDS = ImageWords(regions=N_("bright regions"), bright=N_("the bright parts of the image"))


def number(count: int) -> str:
    """Return a count as the edition writes it: in English a word up to ten ("no" for 0), digits above."""
    return environment(edition()).filters["number"](count)


def ordinal(count: int) -> str:
    """Return "2nd", "3rd", "5th", "11th" for a count in English (the bare number in another edition)."""
    return environment(edition()).filters["ordinal"](count)


def series(values: list[str], conjunction: str = "and") -> str:
    """Join words as the edition lists them: "a", "a and b", "a, b and c" (conjunction "or": "a, b or c")."""
    return environment(edition()).filters["series"](values, "or" if conjunction == "or" else "standard")


def channel_label(index: int) -> str:
    """Return the 1-based name of a channel ("channel 1" for index 0) in the edition written."""
    return say("common", "channel", index=index)


# The four ways pipeline/scales.py (the render stage, English) says what a colour scale's domain is based on.
_BASES = (
    (re.compile(r"(?P<name>[\w-]+)'s range, (?P<span>.+)"), "fixed_range"),
    (re.compile(r"the (?P<percent>[\d.]+)th percentile of the run's (?P<signed>\|)?values\|?"), "percentile"),
    (re.compile(r"the run's largest (?P<signed>\|)?value\|? \(its (?P<percent>[\d.]+)th percentile is 0\)"), "largest"),
    (re.compile(r"a unit scale: every value of the run is 0"), "unit"),
)


def scale_basis(text: str) -> str:
    """Say a scale's basis (as the renderer wrote it) in the edition written; text of another form stays as it is."""
    for pattern, macro in _BASES:
        found = pattern.fullmatch(text or "")
        if found:
            return say("scale", macro, **found.groupdict())
    return text
