"""`make bench`: measure what the capture, render and site stages cost, against the issue's budgets.

    .venv/bin/python bench/run.py [--quick] [--items 2,4,5] [--list] [--dataset NAME [--data-dir DIR]] ...

bench/README.md lists the flags and says what each item measures and how. Everything is written under
bench/out/ (git-ignored), never build/ or site/; the table goes to bench/results.md (or --results).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import CODE, HERE, OUT, ROOT, Workload, fresh, say
from item_capture import capture_overhead, interleaved_rounds
from item_capture_variants import capture_variants
from item_run_length import run_length, seed_sweep
from item_site import render_alone, site_memory, site_vs_fit, site_weight, template_rebuild
from procs import code_state, describe
from report_table import Report, write_raw, write_results
from runs import copy_code

ITEMS = {
    1: "capture overhead: recorded / bare fit in interleaved pairs, the in-run on/off check, the naive baseline",
    2: "render stage alone: frame composition, encodings, peak memory",
    3: "`make site` from nothing / bare fit of the same round",
    4: "rebuild after editing only a template",
    5: "site weight: whole site, largest file, first view",
    6: "peak memory of `make site`",
    7: "growth with run length: capture and render at each of --lengths, growth exponents",
    8: "capture variants at --steps: streaming writer, MirroredStrategy, floor of the overhead",
    9: "seed sweep: `generate.py sweep --seeds 0-4` from nothing (`make seeds`)",
}


def parse(argv: list[str]) -> argparse.Namespace:
    """Return the options, with the defaults that --quick and --full change filled in."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="items 1 and 5 only (3 pairs, 1 naive run, 1 site run)")
    parser.add_argument("--list", action="store_true", help="print the items and settings that would run, then exit")
    parser.add_argument("--items", help="comma-separated item numbers (default: all)")
    parser.add_argument("--dataset", default="bundled", help="generate.py's --dataset (default bundled)")
    parser.add_argument("--data-dir", help="generate.py's --data-dir")
    parser.add_argument("--steps", type=int, default=290, help="training steps of items 1-6 and 8 (default 290)")
    parser.add_argument("--pairs", type=int,
                        help="interleaved A/B rounds of items 1 and 8 (default 5; --quick 3; minimum 3 for item 1)")
    parser.add_argument("--naive-rounds", type=int, default=1, help="rounds that also run the naive baseline (1)")
    parser.add_argument("--site-runs", type=int, help="rounds that also run make site (default 2; --quick 1)")
    parser.add_argument("--lengths", default="290,1160", help="item 7's run lengths in steps (default 290,1160)")
    parser.add_argument("--no-toggle", dest="toggle", action="store_false",
                        help="item 1: skip the in-run on/off measurement (one extra fit per round)")
    parser.add_argument("--quiet-patience", type=float, default=30.0,
                        help="seconds to wait before each timed run for other work to calm down (default 30; 0: don't)")
    parser.add_argument("--results", default=str(HERE / "results.md"), help="where the markdown goes")
    options = parser.parse_args(argv)
    options.command = "bench/run.py " + " ".join(argv) if argv else "make bench"
    options.items = {int(x) for x in options.items.split(",")} if options.items else (
        {1, 5} if options.quick else set(ITEMS))
    options.pairs = (3 if options.quick else 5) if options.pairs is None else options.pairs
    options.site_runs = (1 if options.quick else 2) if options.site_runs is None else options.site_runs
    options.lengths = [int(x) for x in options.lengths.split(",")]
    if options.items - set(ITEMS):
        parser.error("the items are 1-9")
    if options.pairs < (3 if 1 in options.items else 1):
        parser.error("--pairs must be at least 1, and 3 for item 1")
    return options


def measure(report: Report, options) -> None:
    """Run the asked items, adding their figures to `report`."""
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
    for item, measure_item in ((7, run_length), (8, capture_variants), (9, seed_sweep)):
        if item in items:
            measure_item(report, options)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; return 1 if some part aborted (what was measured is still written)."""
    argv = sys.argv[1:] if argv is None else argv
    options = parse(argv)
    report = Report(Workload(options.dataset, options.data_dir))
    if options.list:
        print("\n".join(f"{'*' if n in options.items else ' '} {n}. {text}" for n, text in ITEMS.items()))
        print(f"(* = would run) on {report.workload.description}: {options.steps} steps, {options.pairs} pairs, "
              f"naive in {options.naive_rounds} round(s), {options.site_runs} site run(s), run lengths "
              f"{options.lengths}; results -> {options.results}")
        return 0
    started = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    machine_info = describe() | {"code": code_state(ROOT)}
    fresh(CODE)
    copy_code(ROOT, CODE)
    say(f"{machine_info['cores']} cores ({machine_info['cpu']}), {machine_info['code']}; items "
        f"{sorted(options.items)} on {report.workload.description}; results -> {options.results}")
    try:
        measure(report, options)
    except Exception as error:  # report what was measured, then fail loudly
        report.notes.append(f"ABORTED: {type(error).__name__}: {str(error)[-1500:]}")
        say(f"aborted: {error}")
    write_raw(report, machine_info, OUT / "results.json")
    print(write_results(report, options, machine_info, started, Path(options.results)))
    over = [f for f in report.figures if f.status == "OVER"]
    aborted = any(note.startswith("ABORTED") for note in report.notes)
    say(f"done in {(time.time() - started) / 60:.1f} min; {len(over)} figure(s) over budget"
        + ("; some parts ABORTED" if aborted else ""))
    return 1 if aborted else 0


if __name__ == "__main__":
    sys.exit(main())
