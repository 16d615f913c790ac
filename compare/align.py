"""The one control's positions, and which snapshot of each run every position shows.

    points = positions([[0, 1, ..., 290], [0, 1, ..., 580]], "step")
    points[k] = {"value": 300, "indices": [290, 300]}   # run 0 holds its last frame

By step (the default): the positions are every step any run kept, and each run shows its last kept snapshot
at or before that step, so the shorter run holds its last frame. By fraction: the positions are every
fraction of training (step / last step) any run kept, and each run shows its last snapshot at or before
that fraction. `value` is the position on the curves' x axis: a step, or a fraction from 0 to 1.
"""

from __future__ import annotations

import bisect

ALIGNS = ("step", "fraction")
FRACTION_DIGITS = 9  # fractions that agree to this many digits are one position


def _at_or_before(values: list[float], wanted: float) -> int:
    """Return the index of the last value <= wanted (0 when every value is larger)."""
    return max(0, bisect.bisect_right(values, wanted) - 1)


def positions(steps_per_run: list[list[int]], align: str) -> list[dict]:
    """Return the control's positions in order, each {"value", "indices": one snapshot index per run}."""
    if align not in ALIGNS:
        raise ValueError(f"--align must be one of {', '.join(ALIGNS)}, got {align!r}")
    if align == "step":
        axes = [[int(step) for step in steps] for steps in steps_per_run]
    else:
        axes = [[round(int(step) / max(1, int(steps[-1])), FRACTION_DIGITS) for step in steps]
                for steps in steps_per_run]
    values = sorted(set().union(*map(set, axes)))
    return [{"value": value, "indices": [_at_or_before(axis, value) for axis in axes]} for value in values]


def axis_end(steps_per_run: list[list[int]], align: str) -> float:
    """Return the x axis' last value: the longest run's last step, or 1 (the whole of training)."""
    return max(int(steps[-1]) for steps in steps_per_run) if align == "step" else 1.0
