"""Checks a reader can redo: what was measured, against which threshold, and how far from it.

Use: `check(measure, value, threshold, at_least=True, margin=...)` returns one `Check`; `decide_verdict(checks,
decide)` applies a rule `decide(passes: list[bool]) -> verdict` to the checks and returns a `Verdict` that says
whether it is borderline: whether flipping any check that lies within its margin of its threshold (one at a
time, or all of them together) would give another verdict. report/numbers/conclusions.py builds the
conclusions' checks and verdicts with these; report/words/conclusion_text.py only words them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

HOLDS, PARTLY, DOES_NOT_HOLD = "holds", "partly holds", "does not hold"
VERDICTS = (HOLDS, PARTLY, DOES_NOT_HOLD)


@dataclass
class Check:
    """One measured value against its threshold, and whether it lies within its margin of it."""

    measure: str
    subject: str | None  # the layer or channel the measure is of, when it is of one
    value: float | None  # None: not measured (the check fails and is not borderline)
    threshold: float
    comparison: str  # "at least", "more than", "at most" or "less than"
    margin: float
    gap: float | None  # signed so that a positive gap passes
    passes: bool
    borderline: bool
    unit: str  # "share", "r", "step", "accuracy" or "", for the wording


@dataclass
class ShareCheck(Check):
    """A check of a share of channels, with the borderline channels that could move the share."""

    part: int
    whole: int
    could_leave: int
    could_join: int


@dataclass
class ChannelCheck(Check):
    """A check of one channel of a layer (0-based index)."""

    channel: int


@dataclass
class Flip:
    """Borderline checks that, flipped together, would give another verdict."""

    checks: list[int]  # indices into the conclusion's checks
    verdict: str


@dataclass
class Verdict:
    """A rule's verdict on some checks, and the flips of borderline checks that would change it."""

    verdict: str
    borderline: bool
    flips: list[Flip]


def check(measure: str, value: float | None, threshold: float, *, at_least: bool = True, strict: bool = False,
          margin: float = 0.0, subject: str | None = None, unit: str = "") -> Check:
    """Return one check: passes when value >= threshold (at_least) or <= threshold; borderline within margin.

    `strict` asks for more than (or less than) the threshold. `gap` is signed so that a positive gap
    passes: value - threshold for at_least, threshold - value otherwise. A value at its threshold is always
    borderline; a missing value (None) fails and is not borderline.
    """
    if value is None:
        passes, gap, borderline = False, None, False
    else:
        gap = (value - threshold) if at_least else (threshold - value)
        passes = gap > 0 if strict else gap >= 0
        borderline = abs(gap) <= margin + 1e-12
    comparison = ("more than" if strict else "at least") if at_least else ("less than" if strict else "at most")
    return Check(measure=measure, subject=subject, value=value, threshold=threshold, comparison=comparison,
                 margin=margin, gap=gap, passes=bool(passes), borderline=bool(borderline), unit=unit)


def decide_verdict(checks: list[Check], decide: Callable[[list[bool]], str]) -> Verdict:
    """Return the rule's verdict on the checks and the borderline checks whose flipping would change it."""
    passes = [item.passes for item in checks]
    result = decide(passes)
    close = [index for index, item in enumerate(checks) if item.borderline]
    flips = []
    for trial in chain(([index] for index in close), [close] if len(close) > 1 else []):
        flipped = [(not value) if index in trial else value for index, value in enumerate(passes)]
        other = decide(flipped)
        if other != result:
            flips.append(Flip(checks=trial, verdict=other))
    return Verdict(verdict=result, borderline=bool(flips), flips=flips)
