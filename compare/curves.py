"""Every run's loss and accuracy curves overlaid, as inline-SVG geometry with one cursor the page moves.

`overlay_panels(runs, align, axis_end, cursor)` takes each run's metrics ({"train_loss", "train_accuracy",
"test_steps", "test_loss", "test_accuracy", "last_step"}) and returns the loss and accuracy panels for
templates/partials/compare_curves.html.j2: per run a line of its batch metrics and a line with dots of its
test points, in the run's colour class; ticks; and where the x axis starts and ends (data-x0/x1, so the page
maps a click to a position). The x axis is the step, or the fraction of training under `--align fraction`.
A run longer than MAX_POINTS steps has its batch line thinned to every k-th step (its test points are all kept).
Coordinates are rounded to 0.1 unit: same runs -> same markup.
"""

from __future__ import annotations

import math

from report.page.explorer_curves import loss_top, tick_spacing

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 24, 32
MAX_POINTS = 1000  # batch points per run and panel


def _x(value: float, end: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * value / (end or 1)


def _y(value: float, top_value: float) -> float:
    share = min(max(value / top_value, 0.0), 1.0)
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share)


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def _along(step: int, last_step: int, align: str) -> float:
    """Return a step's place on the x axis: the step itself, or its fraction of the run."""
    return step if align == "step" else step / max(1, last_step)


def _x_ticks(end: float, align: str) -> list[dict]:
    if align == "fraction":
        return [{"x": f"{_x(share, 1.0):.1f}", "value": round(share * 100)} for share in (0, .25, .5, .75, 1)]
    last = int(end)
    spacing = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10**9)
                   if last / s <= 6)
    return [{"x": f"{_x(step, end):.1f}", "value": step} for step in range(0, last + 1, spacing)]


def _y_ticks(top_value: float, percent: bool) -> list[dict]:
    if percent:
        values = [0.0, 0.25, 0.5, 0.75, 1.0]
    else:
        spacing = tick_spacing(top_value)
        values = [i * spacing for i in range(int(top_value / spacing) + 1)]
    return [{"y": f"{_y(v, top_value):.1f}", "value": round(v * 100) if percent else float(f"{v:g}")}
            for v in values]


def _line(run: dict, key: str, align: str, end: float, top_value: float) -> str:
    """Return "x,y x,y ..." for a run's batch values (step i + 1 at index i), thinned to MAX_POINTS."""
    values = run[f"train_{key}"]
    stride = max(1, math.ceil(len(values) / MAX_POINTS))
    kept = sorted(set(range(0, len(values), stride)) | ({len(values) - 1} if values else set()))
    return " ".join(f"{_x(_along(i + 1, run['last_step'], align), end):.1f},{_y(values[i], top_value):.1f}"
                    for i in kept if _finite(values[i]))


def overlay_panels(runs: list[dict], align: str, end: float, cursor: float) -> list[dict]:
    """Return the loss and accuracy panels (see the module's docstring); `cursor` is the x value shown first."""
    panels = []
    for key, percent in (("loss", False), ("accuracy", True)):
        if percent:
            top_value = 1.0
        else:
            top_value = max(loss_top(list(run["train_loss"]), list(run["test_loss"])) for run in runs)
        lines = []
        for number, run in enumerate(runs):
            dots = [{"x": f"{_x(_along(step, run['last_step'], align), end):.1f}", "y": f"{_y(value, top_value):.1f}"}
                    for step, value in zip(run["test_steps"], run[f"test_{key}"]) if _finite(value)]
            lines.append({"run": number, "train_points": _line(run, key, align, end, top_value), "test_dots": dots,
                          "test_line": " ".join(f"{dot['x']},{dot['y']}" for dot in dots)})
        panels.append({
            "id": f"compare-{key}", "key": key, "percent": percent, "width": WIDTH, "height": HEIGHT,
            "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
            "x0": f"{_x(0, end):.1f}", "x1": f"{_x(end, end):.1f}", "end": end,
            "x_ticks": _x_ticks(end, align), "y_ticks": _y_ticks(top_value, percent),
            "lines": lines, "cursor": f"{_x(cursor, end):.1f}",
        })
    return panels


def run_metrics(capture) -> dict:
    """Return a capture's curves as plain lists (non-finite values as None) and its last step."""
    def plain(values) -> list:
        return [float(v) if math.isfinite(float(v)) else None for v in values]

    return {"train_loss": plain(capture.train_loss), "train_accuracy": plain(capture.train_accuracy),
            "test_steps": [int(step) for step in capture.test_steps], "test_loss": plain(capture.test_loss),
            "test_accuracy": plain(capture.test_accuracy), "last_step": int(capture.steps[-1])}
