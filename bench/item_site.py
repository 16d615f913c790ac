"""Items 3, 5 and 6: `make site` against the bare fit, the weight of the built site, and its peak memory."""

from __future__ import annotations

import statistics
from pathlib import Path

from common import BUDGETS, MB, mib_to_mb
from report_table import Report
from site_weight import measure_site

REST = "rest (start-up, TF import, loading, exit)"
BEYOND_BARE = "recorder + test evaluation (fit beyond bare)"


def stage_total(numbers) -> float | None:
    """Return a stage's total seconds from its timings.json block."""
    if not isinstance(numbers, dict):
        return None
    if isinstance(numbers.get("total_seconds"), (int, float)):
        return float(numbers["total_seconds"])
    for key, value in numbers.items():
        if key.endswith("seconds") and isinstance(value, (int, float)) and "fit" not in key:
            return float(value)
    return None


def site_parts(site: dict, bare: dict) -> dict[str, float]:
    """Split a site run's wall time using the stages' timings.json and the bare fit of the same round."""
    timings = site.get("timings", {})
    capture, render, page = timings.get("capture", {}), timings.get("render", {}), timings.get("site", {})
    parts = {}
    if "fit_seconds" in capture:
        parts["bare fit"] = bare["fit_seconds"]
        parts[BEYOND_BARE] = capture["fit_seconds"] - bare["fit_seconds"]
    if "total_seconds" in capture and "fit_seconds" in capture:
        parts["capture outside fit (data, final test, saves)"] = capture["total_seconds"] - capture["fit_seconds"]
    if "total_seconds" in render:
        parts["render"] = render["total_seconds"]
    if "build_seconds" in page:
        parts["site"] = page["build_seconds"]
    known = sum(stage_total(block) or 0.0 for block in (capture, render, page))
    parts[REST] = site["wall_s"] - known
    return parts


def site_vs_fit(report: Report, rounds: list[dict]) -> None:
    """Add item 3: the wall time of `make site` from nothing over the bare fit of the same round."""
    sites = [run for run in rounds if "site" in run]
    if not sites:
        return
    site_ratios = [run["site"]["wall_s"] / run["bare"]["fit_seconds"] for run in sites]
    walls = [run["site"]["wall_s"] for run in sites]
    parts = site_parts(sites[0]["site"], sites[0]["bare"])
    report.raw["site_parts"] = parts
    report.add("3", "`make site` (from nothing) wall / bare fit of the same run", statistics.median(site_ratios),
               "x", BUDGETS["site_vs_fit"],
               f"{len(sites)} run(s), site {statistics.median(walls):.1f} s vs bare fit "
               f"{statistics.median(run['bare']['fit_seconds'] for run in sites):.1f} s; "
               f"ratios {', '.join(f'{x:.3f}' for x in site_ratios)}; run 1: "
               + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()))
    report.raw["site_runs"] = [run["site"] for run in sites]
    ratio = statistics.median(site_ratios)
    bare_fit = parts.get("bare fit")
    if ratio > BUDGETS["site_vs_fit"] and bare_fit and "render" in parts:
        wall = sites[0]["site"]["wall_s"]
        fixed = sum(v for k, v in parts.items() if k.startswith(("capture outside", "site", "rest")))
        room = (BUDGETS["site_vs_fit"] - 1) * bare_fit - fixed - parts.get(BEYOND_BARE, 0)
        report.notes.append(
            f"Item 3 (run 1): without the render stage the run would take {(wall - parts['render']) / bare_fit:.2f}x "
            f"the bare fit; the parts that neither record nor render (start-up and exit, data, final test, "
            f"saves, site) take {fixed:.1f} s = {fixed / bare_fit:.2f} of the bare fit of {bare_fit:.1f} s, so "
            f"the render stage ({parts['render']:.1f} s) would have to fit in {max(0.0, room):.1f} s.")
    for i, run in enumerate(sites, 1):
        rest = site_parts(run["site"], run["bare"]).get(REST, 0.0)
        if rest > 6:
            report.notes.append(
                f"Item 3 run {i}: {rest:.1f} s outside the stages' own timings (start-up with the TensorFlow import "
                f"is about 3 s): typically the stall when the fit's tf.data iterator is freed with autotuning on "
                f"(reproduce: bench/tfdata_stall.py).")


def site_weight(report: Report, site: Path) -> None:
    """Add item 5: the whole site, its largest file, and what the first view fetches."""
    weight = measure_site(site)
    report.raw["site_weight"] = weight
    kinds = ", ".join(f"{k} {v / MB:.2f}" for k, v in sorted(weight["first_view_by_kind"].items()))
    report.add("5", "site weight: whole site", weight["total_bytes"] / MB, "MB", BUDGETS["site_total_mb"],
               f"{weight['files']} files")
    report.add("5", "site weight: largest file", weight["largest_bytes"] / MB, "MB", BUDGETS["site_largest_mb"],
               str(weight["largest_file"]))
    report.add("5", "site weight: first view (before any interaction)", weight["first_view_bytes"] / MB, "MB",
               BUDGETS["first_view_mb"], f"{weight['first_view_files']} files: {kinds} MB; "
               f"{weight['deferred_refs']} lazy/preload=none references not counted"
               + (f"; MISSING: {', '.join(weight['missing_refs'][:5])}" if weight["missing_refs"] else "")
               + ("; site.js fetches at run time (not counted)" if weight["scripts_fetch_at_runtime"] else ""))


def site_memory(report: Report) -> None:
    """Add item 6: the peak memory of the whole `make site` runs of item 3."""
    sites = report.raw.get("site_runs", [])
    if not sites:
        return
    process = max(mib_to_mb(s["maxrss_mb"]) for s in sites)
    tree = max(mib_to_mb(s["tree_peak_mb"] or 0) for s in sites)
    report.add("6", "peak memory of `make site`", max(process, tree), "MB", BUDGETS["site_peak_mb"],
               f"largest process (exact, wait4) {process:.0f} MB; whole process tree incl. ffmpeg, summed PSS "
               f"(sampled every 100 ms) {tree:.0f} MB; {len(sites)} run(s)")
