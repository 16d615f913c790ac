"""Checks a reader can redo: what was measured, against which threshold, and how far from it.

Use: `check(measure, value, threshold, at_least=True, margin=...)` returns one check as plain data;
`verdict(checks, decide)` applies a rule `decide(passes: list[bool]) -> verdict` to the checks and says
whether the verdict is borderline: whether flipping any check that lies within its margin of its threshold
(one at a time, or all of them together) would give another verdict. report.summaries builds the
conclusions' checks and verdicts with these; report.verdicts only words them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

HOLDS, PARTLY, DOES_NOT_HOLD = "holds", "partly holds", "does not hold"
VERDICTS = (HOLDS, PARTLY, DOES_NOT_HOLD)


def check(measure: str, value: float | None, threshold: float, *, at_least: bool = True, strict: bool = False,
          margin: float = 0.0, subject: str | None = None, unit: str = "") -> dict:
    """Return one check: passes when value >= threshold (at_least) or <= threshold; borderline within margin.

    `strict` asks for more than (or less than) the threshold. `gap` is signed so that a positive gap
    passes: value - threshold for at_least, threshold - value otherwise. A value at its threshold is always
    borderline; a missing value (None) fails and is not borderline. `unit` is "share", "r", "step" or
    "accuracy", for the wording.
    """
    if value is None:
        passes, gap, borderline = False, None, False
    else:
        gap = (value - threshold) if at_least else (threshold - value)
        passes = gap > 0 if strict else gap >= 0
        borderline = abs(gap) <= margin + 1e-12
    comparison = ("more than" if strict else "at least") if at_least else ("less than" if strict else "at most")
    return {"measure": measure, "subject": subject, "value": value, "threshold": threshold,
            "comparison": comparison, "margin": margin, "gap": gap,
            "passes": bool(passes), "borderline": bool(borderline), "unit": unit}


def verdict(checks: list[dict], decide: Callable[[list[bool]], str]) -> dict:
    """Return {"verdict", "borderline", "flips"}: the rule's verdict and the borderline checks that would change it."""
    passes = [item["passes"] for item in checks]
    result = decide(passes)
    close = [index for index, item in enumerate(checks) if item["borderline"]]
    flips = []
    for trial in chain(([index] for index in close), [close] if len(close) > 1 else []):
        flipped = [(not value) if index in trial else value for index, value in enumerate(passes)]
        other = decide(flipped)
        if other != result:
            flips.append({"checks": trial, "verdict": other})
    return {"verdict": result, "borderline": bool(flips), "flips": flips}
