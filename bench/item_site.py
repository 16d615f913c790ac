"""Items 2-6, measured on the interleaved rounds' `make site` runs: the render stage alone on a run's capture,
`make site` against the bare fit, a rebuild after editing only a template, the site's weight and peak memory.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

from common import BUDGETS, CODE, MB, OUT, fresh, listed, mib_to_mb, read_json, say
from report_table import Report
from runs import TREE_PARTS, copy_code, make_site_argv, render_run, run_logged
from site_weight import measure_site

ENCODINGS = ("mp4", "gif", "png", "curves")
REST = "rest (start-up, TF import, loading, exit)"
BEYOND_BARE = "recorder + test evaluation (fit beyond bare)"


def site_parts(site: dict, bare: dict) -> dict[str, float]:
    """Split a site run's wall time using the stages' timings.json and the bare fit of the same round."""
    timings = site.get("timings", {})
    capture, render, page = timings.get("capture", {}), timings.get("render", {}), timings.get("site", {})
    parts = {}
    if "fit_seconds" in capture:
        parts["bare fit"] = bare["fit_seconds"]
        parts[BEYOND_BARE] = capture["fit_seconds"] - bare["fit_seconds"]
        replay = capture.get("replay_seconds", 0.0)  # issue 21's analysis set, replayed on the weight grid
        if replay:
            parts["analysis replay"] = replay
        parts["capture outside fit (data, final test, saves)"] = capture["total_seconds"] - capture["fit_seconds"] \
            - replay
    if "total_seconds" in render:
        parts["render"] = render["total_seconds"]
    if "build_seconds" in page:
        parts["site"] = page["build_seconds"]
    known = capture.get("total_seconds", 0.0) + render.get("total_seconds", 0.0) + page.get("build_seconds", 0.0)
    return parts | {REST: site["wall_s"] - known}


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
               f"ratios {listed(site_ratios)}; run 1: "
               + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())
               + _archive_size(sites[0]["site"]))
    report.raw["site_runs"] = [run["site"] for run in sites]


def _archive_size(site: dict) -> str:
    """Return '; archive N MB' from a site run's capture timings (empty where they do not say)."""
    archive = site.get("timings", {}).get("capture", {}).get("archive_bytes")
    return f"; archive {archive / MB:.1f} MB" if archive else ""


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
    tree = max(mib_to_mb(s["tree_peak_mb"]) for s in sites)
    report.add("6", "peak memory of `make site`", max(process, tree), "MB", BUDGETS["site_peak_mb"],
               f"largest process (exact, wait4) {process:.0f} MB; whole process tree incl. ffmpeg, summed PSS "
               f"(sampled every 100 ms) {tree:.0f} MB; {len(sites)} run(s)")


def render_alone(report: Report, capture: Path, options) -> None:
    """Add item 2's figures from one render_probe.py run (the stage's timings hook splits its time)."""
    say(f"{report.workload.name}: render stage alone (item 2)")
    result = report.raw["render"] = render_run(report.workload, capture, f"{options.steps}")
    parts, threads = result["parts"], result["layer_workers"]
    summed = f"summed over the stage's {threads} layer threads" if threads > 1 else "one thread"
    report.add("2", f"render: compose all frames of all {result['layers']} layers", parts["compose"], "s",
               BUDGETS["render_frames_s"], f"{result['frames']} frames per layer, "
               f"{result['frames'] * result['layers']} in all, at full size, for the videos; {summed} (the GIFs' "
               f"own smaller frames are inside gif below)")
    encodes = {k: parts[k] for k in ENCODINGS if parts.get(k) is not None}
    report.add("2", "render: all encodings", sum(encodes.values()) if encodes else None, "s",
               BUDGETS["render_encode_s"], ", ".join(f"{k} {v:.1f} s" for k, v in encodes.items())
               + f" ({summed}; mp4 = yuv conversion, piping and waiting for ffmpeg, which used "
               f"{result['ffmpeg_cpu_seconds']:.1f} CPU s beside it; gif = its frames, imageio's Pillow encoding and "
               f"the size search; "
               f"png = the posters); the whole stage took {result['render_seconds']:.1f} s wall via "
               f"{result['entry']}, process {result['wall_s']:.1f} s")
    peak = mib_to_mb(max(result["maxrss_mb"], result["tree_peak_mb"] or 0))
    report.add("2", "render: peak memory of the stage", peak, "MB", BUDGETS["render_peak_mb"],
               f"render process peak {mib_to_mb(result['probe_maxrss_mb']):.0f} MB (capture loaded: "
               f"{mib_to_mb(result['after_load_rss_mb']):.0f} MB), largest ffmpeg child "
               f"{mib_to_mb(result['children_maxrss_mb']):.0f} MB, process tree, summed PSS (sampled every 50 ms) "
               f"{mib_to_mb(result['tree_peak_mb']):.0f} MB"
               + ("; TensorFlow was imported" if result["tensorflow_imported"] else "; no TensorFlow in the process"))


def mtimes(folder: Path) -> dict[str, int]:
    """Return {relative path: mtime_ns} for every file under `folder`."""
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}


# Small bookkeeping every run may rewrite: timings, manifests, the findings and figures stores, templates.zip (the
# compiled templates, which a template edit changes by design), and the hidden lock and ownership marker.
BOOKKEEPING = (".json", "templates.zip")


def redone(old: dict, new: dict) -> list[str]:
    """Return the files written again between two mtimes(), bookkeeping aside."""
    return sorted(k for k in new if old.get(k) != new[k] and not k.endswith(BOOKKEEPING) and not k.startswith("."))


def template_rebuild(report: Report, site_result: dict, steps: int) -> None:
    """Copy the code and a finished build into bench/out, edit a template copy, rebuild, and check what was redone."""
    w = report.workload
    say(f"{w.name}: template-only rebuild (item 4)")
    tree = fresh(OUT / w.name / "tree")
    copy_code(CODE, tree, TREE_PARTS)
    shutil.copytree(site_result["build"], tree / "build", copy_function=shutil.copy2)
    shutil.copytree(site_result["site"], tree / "site", copy_function=shutil.copy2)
    argv = make_site_argv("build", "site", ["--steps", str(steps), *w.args])

    before = mtimes(tree / "build")
    unchanged = run_logged(argv, "rebuild-unchanged", w, cwd=tree, sample=True)
    after_unchanged = mtimes(tree / "build")
    template = tree / "templates" / "article.html.j2"
    marker = f"<!-- bench: template edited {time.time():.0f} -->"
    template.write_text(template.read_text() + "\n" + marker + "\n")
    edited = run_logged(argv, "rebuild-template", w, cwd=tree, sample=True)
    after_edit = mtimes(tree / "build")

    rewritten, first_redone = redone(after_unchanged, after_edit), redone(before, after_unchanged)
    reused = "reusing" in Path(edited["log"]).read_text(errors="replace")
    index = tree / "site" / "index.html"
    visible = index.exists() and marker in index.read_text(errors="replace")
    checks = [f"capture reused: {'yes' if reused and 'capture.h5' not in rewritten else 'NO'}",
              f"heavy files rewritten: {', '.join(rewritten) if rewritten else 'none'}",
              f"edit reached site/index.html: {'yes' if visible else 'NO'}"]
    report.raw["rebuild"] = {"unchanged": unchanged, "edited": edited, "checks": checks,
                             "timings": read_json(tree / "build" / "timings.json")}
    if first_redone:
        checks.append(f"the rebuild with nothing edited rewrote {', '.join(first_redone[:6])}")
    ok = reused and not rewritten and visible and not first_redone
    report.add("4", "rebuild after editing only a template", edited["wall_s"], "s", BUDGETS["template_rebuild_s"],
               "; ".join(checks) + f"; rebuild with nothing edited {unchanged['wall_s']:.1f} s"
               + ("" if ok else " — CHECK FAILED"))
    if not ok:
        report.notes.append("Item 4: the template-only rebuild redid work it should not have: " + "; ".join(checks))
