"""Turn numbers and counts into the article's words: counts as words, agreeing nouns and verbs, r and percents.

Use: the modules of report/words/ (layer_text, post_observations, conclusion_text, training_text, ...) build
every sentence from these, so a number reads the same way everywhere. They take plain values (counts, floats,
indices), return plain text and never HTML. Channels are numbered from 1 in the text (index 0 is "channel 1").
`DIGIT_WORDS` / `IMAGE_WORDS` name what the probes show (strokes of ink on MNIST, bright regions on any
other data); report.words.commentary.image_words picks one for a run's dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

from report.voice import N_

# How each edge kind of report.numbers.reference_maps is named in the text.
ORIENTATIONS = {
    "horizontal": "horizontal",
    "vertical": "vertical",
    "diagonal_rising": "rising diagonal (/)",
    "diagonal_falling": "falling diagonal (\\)",
}
KIND_NOUNS = {  # singular, plural
    "copy": ("copy of the input", "copies of the input"),
    "edge": ("edge detector", "edge detectors"),
    "other": ("unnamed channel", "unnamed channels"),
    "idle": ("idle channel", "idle channels"),
    "saturated": ("saturated channel", "saturated channels"),
}


@dataclass(frozen=True)
class ImageWords:
    """How the commentary names the bright parts of the probes, where the copy and edge maps are positive."""

    regions: str  # what an edge map's positive side borders: "top side of <regions>"
    bright: str  # where an inverted copy is negative: "negative on <bright>"


# The analysis compares channels with the input's brightness (report.numbers.reference_maps), so an edge is the side
# of a region brighter than its surroundings. On MNIST the bright parts are the ink of the strokes.
DIGIT_WORDS = ImageWords(regions=N_("strokes"), bright=N_("the ink"))
IMAGE_WORDS = ImageWords(regions=N_("bright regions"), bright=N_("the bright parts of the image"))
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number(count: int) -> str:
    """Return a count as a word up to ten ("no" for 0), as digits above."""
    return _WORDS[count] if 0 <= count < len(_WORDS) else str(count)


def ordinal(count: int) -> str:
    """Return "2nd", "3rd", "5th", "11th" for a count."""
    suffix = "th" if 10 <= count % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
    return f"{count}{suffix}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "<count> <noun>" with the noun agreeing with the count ("one channel", "three channels")."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{number(count)} {noun}"


def verb(count: int, singular: str, plural_form: str) -> str:
    """Return the verb form that agrees with a count (singular for exactly 1)."""
    return singular if count == 1 else plural_form


def count_clause(count: int, singular: str, plural_form: str) -> str:
    """Return "none is a copy", "one is a copy" or "three are copies" for a count."""
    if count == 0:
        return f"none {singular}"
    return f"{number(count)} {verb(count, singular, plural_form)}"


def capitalise(text: str) -> str:
    """Upper-case the first letter of a sentence."""
    return text[:1].upper() + text[1:]


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


def step(value: float | None) -> str:
    """Format a step (medians can end in .5) for display."""
    if value is None:
        return "never"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def percent(share: float, digits: int = 0) -> str:
    """Format a share in [0, 1] as a percentage (a negative one with a minus sign)."""
    return f"{100 * share:.{digits}f}%".replace("-", "\u2212")


def share_percent(share: float) -> str:
    """Format a share of a count as a percentage to at most one decimal (3 of 24 is "12.5%", 1 of 2 "50%")."""
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"


def series(values: list[str], conjunction: str = "and") -> str:
    """Join words as "a", "a and b", "a, b and c"."""
    if not values:
        return ""
    if len(values) == 1:
        return values[0]
    return f"{', '.join(values[:-1])} {conjunction} {values[-1]}"


def r_list(values: list[float], at_most: int = 4) -> str:
    """Show up to `at_most` |r| values largest first, or their range when there are more."""
    ordered = sorted((abs(v) for v in values), reverse=True)
    if len(ordered) > 1 and r_value(ordered[0]) == r_value(ordered[-1]):
        return f"|r| = {r_value(ordered[0])} each"
    if len(ordered) <= at_most:
        return f"|r| = {', '.join(r_value(v) for v in ordered)}"
    return f"|r| from {r_value(ordered[-1])} to {r_value(ordered[0])}"


def channel_label(index: int) -> str:
    """Return the 1-based name of a channel for the text ("channel 1" for index 0)."""
    return f"channel {index + 1}"


def channel_list(indices: list[int]) -> str:
    """Return "channel 2" or "channels 1, 3 and 4" (1-based)."""
    numbers = [str(i + 1) for i in indices]
    return ("channel " if len(numbers) == 1 else "channels ") + series(numbers)


def of_total(count: int, total: int, noun: str = "channel") -> str:
    """Return the subject for `count` of `total` things: "all four channels", "three of the eight channels"."""
    if total == 1:
        return f"the only {noun}" if count == 1 else f"no {noun}"
    if count == total:
        return f"all {number(total)} {noun}s" if total > 2 else f"both {noun}s"
    if count == 0:
        return f"none of the {number(total)} {noun}s"
    return f"{number(count)} of the {number(total)} {noun}s"


def kind_phrase(counts: dict[str, int], kinds: list[str]) -> str:
    """Return e.g. "four copies of the input and no edge detector" for the given kinds, in order."""
    parts = [plural(counts.get(kind, 0), *KIND_NOUNS[kind]) for kind in kinds]
    return series(parts)
