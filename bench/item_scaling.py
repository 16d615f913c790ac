"""Item 7: capture and render cost, archive size and memory at several run lengths, and their growth exponents."""

from __future__ import annotations

import math

from common import BUDGETS, MB, OUT, fresh, mib_to_mb, say
from report_table import Report
from runs import fit, render_run

GROWTH = (("capture_s", "capture time (fit + save)"), ("archive_mb", "archive size"),
          ("capture_peak_mb", "capture peak memory"), ("render_s", "render time"),
          ("render_peak_mb", "render peak memory"))


def exponent(n1: float, y1: float, n2: float, y2: float) -> float:
    """Return the log-log slope between two points: 1 = linear growth."""
    return math.log(y2 / y1) / math.log(n2 / n1)


def scaling_row(point: dict) -> dict:
    """Return one run length's numbers for the scaling table."""
    c = point["capture"]
    row = {"steps": point["steps"], "every": point["every"], "snapshots": point["snapshots"], "fit_s": c["fit_seconds"],
           "recorder_s": c["recorder_seconds"], "save_s": c["save_seconds"],
           "capture_s": c["fit_seconds"] + c["save_seconds"], "archive_mb": c["archive_bytes"] / MB,
           "capture_peak_mb": mib_to_mb(c["maxrss_mb"])}
    if "render" in point:
        render = point["render"]
        row.update({"render_s": render["render_seconds"],
                    "render_peak_mb": max(mib_to_mb(render["maxrss_mb"]), mib_to_mb(render["tree_peak_mb"] or 0)),
                    "assets_mb": (render["assets_bytes"] or 0) / MB})
    return row


def scaling(report: Report, options) -> None:
    """Measure the capture (default callbacks, archive saved) and the render stage at each length; add item 7."""
    w = report.workload
    points = []
    for steps in options.scale_steps:
        every = options.scale_every.get(steps, 1)
        say(f"{w.name}: scaling, {steps} steps, recording every {every}")
        archive = fresh(OUT / w.name / f"scale-{steps}") / "capture.h5"
        # streamed into capture.partial beside the archive and assembled, as `generate.py capture` records
        capture = fit(w, "default", steps, f"scale{steps}", every=every, partial=archive.parent / "capture.partial",
                      patience_s=options.quiet_patience)
        point = {"steps": steps, "every": every, "snapshots": capture["snapshots"], "capture": capture,
                 "render": render_run(w, archive, f"scale{steps}")}
        points.append(point)
    report.raw["scaling"] = points
    rows = [scaling_row(p) for p in points]
    report.raw["scaling_rows"] = rows
    if len(rows) < 2:
        report.notes.append("Item 7 needs at least two run lengths (--scale-steps).")
        return
    first, last = rows[0], rows[-1]
    span = f"{first['steps']:,} -> {last['steps']:,} steps"
    for key, label in GROWTH:
        if key not in first or key not in last:
            continue
        x = "steps" if key == "capture_s" else "snapshots"
        values = ", ".join(f"{r[key]:.1f}" for r in rows)
        report.add("7", f"scaling: {label}, growth exponent", exponent(first[x], first[key], last[x], last[key]), "",
                   None if key.endswith("peak_mb") else BUDGETS["growth_exponent"],
                   f"{span} ({x} {', '.join(str(r[x]) for r in rows)}): {values} "
                   f"{'MB' if key.endswith('mb') else 's'}; 1 = linear")
    for key, label in (("capture_peak_mb", "capture"), ("render_peak_mb", "render stage")):
        if key in first and key in last and last["snapshots"] > first["snapshots"]:
            slope = (last[key] - first[key]) / (last["snapshots"] - first["snapshots"]) * 100
            over = (f"; over the 2,000 MB `make site` budget from about "
                    f"{first['snapshots'] + (2000 - first[key]) / slope * 100:,.0f} snapshots"
                    if slope > 0 and last[key] > 2000 else "")
            report.notes.append(
                f"Item 7, memory: the {label}'s peak grows by {slope:.0f} MB per 100 snapshots "
                f"({first[key]:.0f} MB at {first['snapshots']:,}, {last[key]:.0f} MB at {last['snapshots']:,}{over}).")
    report.notes.append("Item 7 growth exponent = log(cost ratio) / log(length ratio) between the shortest and the "
                        "longest run: 1.0 is linear; the budget allows 1.10 for timing noise. Per-run numbers are in "
                        "the scaling table below.")
