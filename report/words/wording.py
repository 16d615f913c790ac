"""The few words Python still hands to the page: counts, ordinals, lists and channel names in the edition written.

Use: report/page/ modules that put a number or a list into a template's placeholder call these, so the value
reads as the edition writes it (English: "six", "2nd", "a, b and c", "channel 3"; Chinese: "6", "2", "a、b和c",
"通道 3"); the sentences themselves are in templates/words/ (report/voice.py). `DIGIT_WORDS` / `IMAGE_WORDS` name
what the probes show (strokes of ink on MNIST, bright regions on any other data), marked for translation;
report.words.commentary.image_words picks one for a run's dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

from report.voice import edition, environment, percent, r_value, say, share_percent, signed

__all__ = ["DIGIT_WORDS", "IMAGE_WORDS", "ImageWords", "channel_label", "number", "ordinal", "percent", "r_value",
           "scale_basis", "series", "share_percent", "signed"]


@dataclass(frozen=True)
class ImageWords:
    """How the commentary names the bright parts of the probes, where the copy and edge maps are positive.

    Each field names a macro of templates/words/common.txt.j2; `regions` and `bright` return its words."""

    regions_macro: str  # what an edge map's positive side borders: "top side of <regions>"
    bright_macro: str  # where an inverted copy is negative: "negative on <bright>"

    @property
    def regions(self) -> str:
        """Return what an edge map's positive side borders, in the edition written."""
        return say("common", self.regions_macro)

    @property
    def bright(self) -> str:
        """Return where an inverted copy is negative, in the edition written."""
        return say("common", self.bright_macro)


# The analysis compares channels with the input's brightness (report.numbers.reference_maps), so an edge is the side
# of a region brighter than its surroundings. On MNIST the bright parts are the ink of the strokes.
DIGIT_WORDS = ImageWords(regions_macro="digit_regions", bright_macro="digit_bright")
IMAGE_WORDS = ImageWords(regions_macro="image_regions", bright_macro="image_bright")


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


def scale_basis(scale: dict) -> str | None:
    """Say what a colour scale's domain is based on (pipeline/scales.py's basis_terms) in the edition written."""
    terms = dict(scale.get("basis_terms") or {})
    return say("scale", terms.pop("form"), **terms) if terms else scale.get("basis")
