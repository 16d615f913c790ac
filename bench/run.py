"""`make bench`: measure what the capture, render and site stages cost, against the issue's budgets.

    .venv/bin/python bench/run.py [--quick | --full] [--items 2,4,5] [--workloads bundled,fashion] ...

bench/README.md lists the flags and says what each item measures and how. Everything is written under
bench/out/ (git-ignored), never build/ or site/; the table goes to bench/results.md (or --results).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import machine
from common import CODE, FASHION_DIR, HERE, OUT, ROOT, WORKLOADS, fresh, say
from item_capture import capture_overhead, interleaved_rounds
from item_rebuild import template_rebuild
from item_render import render_alone
from item_scale import scale
from item_scaling import scaling
from item_site import site_memory, site_vs_fit, site_weight
from report_table import Report, write_raw, write_results
from runs import copy_code

QUIET_PATIENCE_S = 30.0  # before each timed run, wait up to this long for other work on the machine to calm down
EVERYTHING = {1, 2, 3, 4, 5, 6, 7, 8}


def parse(argv: list[str]) -> argparse.Namespace:
    """Return the options, with the defaults that --quick and --full change filled in."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="items 1 and 5 only (3 pairs, 1 naive run, 1 site run)")
    level.add_argument("--full", action="store_true", help="all items, naive in every round, scaling to 2,900 "
                                                           "steps, and the Fashion-MNIST 60k workload if installed")
    parser.add_argument("--items", help="comma-separated item numbers (default: all)")
    parser.add_argument("--workloads", help="comma-separated: bundled, fashion")
    parser.add_argument("--steps", type=int, default=290, help="training steps of items 1-6 (default 290)")
    parser.add_argument("--pairs", type=int,
                        help="interleaved A/B rounds of items 1 and 8 (default 5; --quick 3; minimum 3 for item 1)")
    parser.add_argument("--naive-rounds", type=int,
                        help="rounds that also run the naive baseline (default 1; --full: all)")
    parser.add_argument("--site-runs", type=int, help="rounds that also run make site (default 2; --quick 1; --full 3)")
    parser.add_argument("--scale-steps", help="run lengths of item 7 (default 290,1160; --full 290,1160,2900)")
    parser.add_argument("--scale-every", help="recording stride per length, e.g. 2900:10 (default: every step)")
    parser.add_argument("--no-toggle", dest="toggle", action="store_false",
                        help="item 1: skip the in-run on/off measurement (one extra fit per round)")
    parser.add_argument("--quiet-patience", type=float, default=QUIET_PATIENCE_S,
                        help="seconds to wait before each timed run for other work to calm down (0: don't wait)")
    parser.add_argument("--prototype", choices=("lean",),
                        help="item 1: also time bench/recorder_lean.py's recorder in every round (a proposed change)")
    parser.add_argument("--results", default=str(HERE / "results.md"), help="where the markdown goes")
    options = parser.parse_args(argv)
    options.command = "bench/run.py " + " ".join(argv) if argv else "make bench"
    if options.items:
        options.items = {int(x) for x in options.items.split(",")}
    else:
        options.items = {1, 5} if options.quick else set(EVERYTHING)
    if options.pairs is None:
        options.pairs = 3 if options.quick else 5
    if options.naive_rounds is None:
        options.naive_rounds = options.pairs if options.full else 1
    if options.site_runs is None:
        options.site_runs = 3 if options.full else (1 if options.quick else 2)
    if options.scale_steps:
        options.scale_steps = [int(x) for x in options.scale_steps.split(",")]
    else:
        options.scale_steps = [290, 1160, 2900] if options.full else [290, 1160]
    options.scale_every = {int(k): int(v) for k, v in (p.split(":") for p in options.scale_every.split(","))} \
        if options.scale_every else {}
    if options.workloads:
        options.workloads = options.workloads.split(",")
    else:
        options.workloads = ["bundled"] + (["fashion"] if options.full else [])
    if "fashion" in options.workloads and not FASHION_DIR.is_dir():
        print(f"note: {FASHION_DIR} is absent (install Debian's dataset-fashion-mnist); skipping the 60k workload",
              file=sys.stderr)
        options.workloads.remove("fashion")
    if 1 in options.items and options.pairs < 3:
        parser.error("item 1 needs at least 3 pairs")
    if options.pairs < 1:
        parser.error("--pairs must be at least 1")
    return options


def measure_workload(report: Report, options) -> None:
    """Run the asked items on one workload, adding their figures to `report`."""
    items = options.items
    if items & {1, 2, 3, 4, 5, 6}:
        rounds = interleaved_rounds(report, options)
        if 1 in items:
            capture_overhead(report, rounds, options)
        site_vs_fit(report, rounds)
    site_runs = report.raw.get("site_runs", [])
    if site_runs:
        first = site_runs[0]
        if 2 in items:
            render_alone(report, Path(first["build"]) / "capture.h5", options)
        if 4 in items:
            template_rebuild(report, first, options.steps)
        if 5 in items:
            site_weight(report, Path(first["site"]))
        if 6 in items:
            site_memory(report)
    if 7 in items:
        scaling(report, options)
    if 8 in items:
        scale(report, options)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; return 1 if some part aborted (what was measured is still written)."""
    argv = sys.argv[1:] if argv is None else argv
    options = parse(argv)
    started = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    machine_info = machine.describe()
    machine_info["code"] = machine.code_state(ROOT)
    fresh(CODE)
    copy_code(ROOT, CODE)
    say(f"machine: {machine.one_line(machine_info)}")
    say(f"items {sorted(options.items)} on {', '.join(options.workloads)}; results -> {options.results}")
    reports = []
    for name in options.workloads:
        report = Report(WORKLOADS[name])
        reports.append(report)
        # Items 7 and 8 run on the default workload and on the first one asked for, not on every one.
        items = set(options.items) - ({7, 8} if name not in ("bundled", options.workloads[0]) else set())
        try:
            measure_workload(report, argparse.Namespace(**{**vars(options), "items": items}))
        except Exception as error:  # report what was measured, then fail loudly
            report.notes.append(f"ABORTED: {type(error).__name__}: {str(error)[-1500:]}")
            say(f"{name}: aborted: {error}")
        write_raw(reports, machine_info, OUT / "results.json")
        text = write_results(reports, options, machine_info, started, Path(options.results))
    print(text)
    over = [f for r in reports for f in r.figures if f.status == "OVER"]
    aborted = any(note.startswith("ABORTED") for r in reports for note in r.notes)
    say(f"done in {(time.time() - started) / 60:.1f} min; {len(over)} figure(s) over budget"
        + ("; some parts ABORTED" if aborted else ""))
    return 1 if aborted else 0


if __name__ == "__main__":
    sys.exit(main())
