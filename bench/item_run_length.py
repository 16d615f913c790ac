"""Item 7, growth with run length: capture and render cost, archive size and memory at several run lengths."""

from __future__ import annotations

import math

from common import BUDGETS, MB, OUT, PY, fresh, mib_to_mb, read_json, say
from report_table import Report
from runs import fit, render_run, run_logged

GROWTH = (("capture_s", "capture time (fit + save)"), ("archive_mb", "archive size"),
          ("capture_peak_mb", "capture peak memory"), ("render_s", "render time"),
          ("render_peak_mb", "render peak memory"))


def length_row(capture: dict, render: dict) -> dict:
    """Return one run length's numbers for the table and the exponents."""
    return {"steps": capture["steps"], "every": capture["every"], "snapshots": capture["snapshots"],
            "fit_s": capture["fit_seconds"],
            "recorder_s": capture["recorder_seconds"], "save_s": capture["finish_seconds"],
            "capture_s": capture["fit_seconds"] + capture["finish_seconds"],
            "archive_mb": capture["archive_bytes"] / MB,
            "capture_peak_mb": mib_to_mb(capture["probe_maxrss_mb"]), "render_s": render["render_seconds"],
            "render_peak_mb": mib_to_mb(max(render["maxrss_mb"], render["tree_peak_mb"] or 0)),
            "assets_mb": render["assets_bytes"] / MB}


def run_length(report: Report, options) -> None:
    """Measure the capture (default callbacks, archive streamed) and the render stage at each length; add item 7."""
    w = report.workload
    points = []
    for steps in options.lengths:
        say(f"{w.name}: run length {steps} steps (item 7)")
        archive = fresh(OUT / w.name / f"length-{steps}") / "capture.h5"
        # streamed into capture.partial beside the archive and assembled, as `generate.py capture` records
        capture = fit(w, "default", steps, f"length{steps}", partial=archive.parent / "capture.partial",
                      patience_s=options.quiet_patience)
        render = render_run(w, archive, f"length{steps}")
        points.append({"steps": steps, "capture": capture, "render": render})
    rows = report.raw["run_length_rows"] = [length_row(p["capture"], p["render"]) for p in points]
    report.raw["run_length"] = points
    if len(rows) < 2:
        report.notes.append("Item 7 needs at least two run lengths (--lengths).")
        return
    first, last = rows[0], rows[-1]
    for key, label in GROWTH:
        x = "steps" if key == "capture_s" else "snapshots"  # growth exponent: the log-log slope, 1 = linear
        slope = math.log(last[key] / first[key]) / math.log(last[x] / first[x])
        report.add("7", f"run length: {label}, growth exponent", slope, "", None if key.endswith("peak_mb")
                   else BUDGETS["growth_exponent"],
                   f"{first['steps']:,} -> {last['steps']:,} steps ({x} {', '.join(str(r[x]) for r in rows)}): "
                   f"{', '.join(f'{r[key]:.1f}' for r in rows)} {'MB' if key.endswith('mb') else 's'}; 1 = linear")
    for key, label in (("capture_peak_mb", "capture"), ("render_peak_mb", "render stage")):
        if last["snapshots"] > first["snapshots"]:
            slope = (last[key] - first[key]) / (last["snapshots"] - first["snapshots"]) * 100
            over = (f"; over the 2,000 MB `make site` budget from about "
                    f"{first['snapshots'] + (2000 - first[key]) / slope * 100:,.0f} snapshots"
                    if slope > 0 and last[key] > 2000 else "")
            report.notes.append(
                f"Item 7, memory: the {label}'s peak grows by {slope:.0f} MB per 100 snapshots "
                f"({first[key]:.0f} MB at {first['snapshots']:,}, {last[key]:.0f} MB at {last['snapshots']:,}{over}).")
    report.notes.append("Item 7 growth exponent = log(cost ratio) / log(length ratio) between the shortest and the "
                        "longest run: 1.0 is linear; the budget allows 1.10 for timing noise. Per-run numbers are in "
                        "the run-length table below.")


def seed_sweep(report: Report, options) -> None:
    """Add item 9: `generate.py sweep --seeds 0-4` from nothing, its wall time and each seed's (sweep.json)."""
    say(f"{report.workload.name}: seed sweep 0-4 (item 9)")
    folder = fresh(OUT / report.workload.name / "sweep")
    result = run_logged([PY, "generate.py", "sweep", "--seeds", "0-4", "--sweep-dir", str(folder), "--quiet", "--steps",
                         str(options.steps), *report.workload.args], "sweep", report.workload, sample=True)
    seeds = [run["seconds"] for run in read_json(folder / "sweep.json").get("runs", [])]
    report.raw["sweep"] = {"wall_s": result["wall_s"], "seed_seconds": seeds}
    report.add("9", f"seed sweep: {len(seeds)} seeds of {options.steps} steps from nothing (`make seeds`)",
               result["wall_s"], "s", None, "per seed (train, replay, analysis) " + ", ".join(f"{s:.1f}" for s in seeds)
               + f" s; peak memory {mib_to_mb(result['maxrss_mb']):.0f} MB")
