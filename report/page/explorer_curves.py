"""The explorer's two small curves (loss, accuracy) as inline-SVG geometry, with a cursor the page moves.

`curve_panels(curves, last_step, plateau_end, cursor_step, marks)` takes explore.json's "curves"
(render/page_data.py) and returns one dict per panel for templates/partials/explorer_curves.html.j2: polyline
points in viewBox units, ticks, the plateau band, where the step axis starts and ends (data-x0/x1, so the page
maps a click to a step), the train/test legend's place, and a vertical mark at each step `marks` names
({"plateau": step or None, "informative": step or None}; None: no mark), with where its label goes. The words
are the template's. Coordinates are rounded to 0.1 unit: same curves -> same markup.
"""

from __future__ import annotations

import math

WIDTH, HEIGHT = 480, 150
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 24, 30
MARK_KINDS = ("plateau", "informative")  # drawn in this order; a later label steps down when they are close
LABEL_ROOM = 190  # viewBox units a mark's label may take beside its line (its 16-unit phone font included)


def _x(step: float, last_step: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * step / max(1, last_step)


def _y(value: float, top_value: float) -> float:
    share = min(max(value / top_value, 0.0), 1.0)
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share)


def _points(steps, values, last_step: int, top_value: float) -> str:
    """Return "x,y x,y ..." for the finite values (a gap is bridged: the line is a guide, the dots are data)."""
    return " ".join(f"{_x(step, last_step):.1f},{_y(value, top_value):.1f}"
                    for step, value in zip(steps, values) if value is not None and math.isfinite(value))


def _step_ticks(last_step: int) -> list[dict]:
    spacing = next(s for s in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10**9) if last_step / s <= 6)
    return [{"x": f"{_x(step, last_step):.1f}", "label": str(step)} for step in range(0, last_step + 1, spacing)]


def loss_top(train_loss: list, test_loss: list) -> float:
    """Return a loss-axis top that shows the starting level but not a rare spike (at most 1.5x the start)."""
    finite = [v for v in train_loss + test_loss if v is not None and math.isfinite(v)]
    if not finite:
        return 1.0
    start = sorted(v for v in train_loss[:3] if v is not None and math.isfinite(v)) or sorted(finite)
    start_level = start[len(start) // 2]
    cap = max(finite) if start_level <= 0 else min(max(finite), 1.5 * start_level)
    return max(start_level, cap) * 1.08 or 1.0


def tick_spacing(top_value: float) -> float:
    """Return the smallest round spacing (at least 0.1) that gives at most 5 intervals up to `top_value`."""
    rough = top_value / 5
    if not rough > 0.1:
        return 0.1
    power = 10.0 ** math.floor(math.log10(rough))
    multiples = (1, 2, 2.5, 5, 10) if power < 1 else (1, 2, 5, 10)  # 0.25 is a round step, 2.5 is not
    return next(multiple * power for multiple in multiples if multiple * power >= rough * (1 - 1e-12))


def _value_ticks(top_value: float, percent: bool) -> list[dict]:
    if percent:
        values = [0.0, 0.25, 0.5, 0.75, 1.0]
        labels = [f"{round(v * 100)}%" for v in values]
    else:
        spacing = tick_spacing(top_value)
        values = [i * spacing for i in range(int(top_value / spacing) + 1)]
        labels = [f"{v:g}" for v in values]
    return [{"y": f"{_y(v, top_value):.1f}", "label": label} for v, label in zip(values, labels)]


def mark_positions(marks: dict | None, last_step: int) -> list[dict]:
    """Return the vertical marks: {"kind", "step", "x", "label_x", "label_y", "anchor"}, one per step given.

    A label sits beside its line (after it, or before it near the right end), one line lower than the one
    before when the two would overlap."""
    out: list[dict] = []
    for kind in MARK_KINDS:
        step = (marks or {}).get(kind)
        if step is None or not 0 <= int(step) <= last_step:
            continue
        x = _x(int(step), last_step)
        after = x + 4 + LABEL_ROOM <= WIDTH - RIGHT
        label_x = x + 4 if after else x - 4
        span = (label_x, label_x + LABEL_ROOM) if after else (label_x - LABEL_ROOM, label_x)
        row = 0
        for other in out:
            if other["span"][0] < span[1] and span[0] < other["span"][1]:
                row = max(row, other["row"] + 1)
        out.append({"kind": kind, "step": int(step), "x": f"{x:.1f}", "label_x": f"{label_x:.1f}",
                    "label_y": f"{TOP + 11 + 12 * row:.1f}", "anchor": "start" if after else "end",
                    "span": span, "row": row})
    for mark in out:
        del mark["span"], mark["row"]
    return out


def curve_panels(curves: dict, last_step: int, plateau_end: int, cursor_step: int,
                 marks: dict | None = None) -> list[dict]:
    """Return the loss and accuracy panels' geometry for the explorer's inline SVG."""
    train_steps = list(range(1, len(curves["train_loss"]) + 1))
    panels = []
    for key, percent in (("loss", False), ("accuracy", True)):
        train, test = curves[f"train_{key}"], curves[f"test_{key}"]
        top_value = 1.0 if percent else loss_top(train, test)
        cursor = f"{_x(cursor_step, last_step):.1f}"
        test_points = [{"x": f"{_x(s, last_step):.1f}", "y": f"{_y(v, top_value):.1f}"}
                       for s, v in zip(curves["test_steps"], test) if v is not None and math.isfinite(v)]
        panels.append({
            "id": f"explorer-{key}", "key": key, "width": WIDTH, "height": HEIGHT,
            "x0": f"{_x(0, last_step):.1f}", "x1": f"{_x(last_step, last_step):.1f}", "last": last_step,
            "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
            "train_points": _points(train_steps, train, last_step, top_value), "test_points": test_points,
            "test_line": " ".join(f"{p['x']},{p['y']}" for p in test_points),
            "x_ticks": _step_ticks(last_step), "y_ticks": _value_ticks(top_value, percent),
            "plateau": ({"x": f"{_x(0, last_step):.1f}", "width": f"{_x(plateau_end, last_step) - LEFT:.1f}"}
                        if plateau_end else None),
            "cursor": cursor, "marks": mark_positions(marks, last_step),
            "legend": {"x": WIDTH - RIGHT - 150, "y": TOP - 9},
        })
    return panels
