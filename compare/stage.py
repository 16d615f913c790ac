"""Write the comparison page of several finished runs into its own folder, built beside it and swapped in whole.

    index = run([Path("build-compare/tanh"), Path("build-compare/relu")], Path("site-compare"), align="step")

Everything is checked before anything is written (runs.py: each build folder finished and rendered; the site
folder absent, empty or a comparison page this tool wrote, and neither in nor over a build folder). Each build
folder's lock is held while it is read, so no run rewrites it meanwhile; the first build folder's marker
records the page's staging folder, as report/stage.py's build folder does, so that a killed run's leftovers
are cleared by the next. The page: templates/compare.html.j2 with the article's explorer code
(templates/static/explorer-data.js, explorer-draw.js: one instance per run) driven by static/compare.js; each
run's explorer data (its first channel group of every layer) is copied to runs/<n>/, so the folder works from
disk, offline; compare.json (summary.py) names the runs, so that their articles can link the page. Same runs ->
same bytes (given the same SOURCE_DATE_EPOCH).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from compare import align as alignment
from compare.curves import overlay_panels, run_metrics
from compare.differences import differences
from compare.runs import Run, check_build, load_run, run_labels
from compare.summary import write_summary
from pipeline.build_lock import hold
from pipeline.folders import check_output, clear_pending, replacing
from pipeline.ownership import COMPARE
from report.page.explorer import script_json
from report.stage import STATIC, build_date, readable_by_all, total_bytes, write_static_page
from report.voice import long_date
from report.words.wording import ordinal

STATIC_FILES = ("site.css", "explorer.css", "compare.css", "favicon.svg", "explorer-data.js", "explorer-draw.js",
                "compare.js")
RUN_COLOURS = 6  # compare.css's run-0 .. run-5; more runs reuse them in turn


def check_inputs(builds: list[Path], site_dir: Path) -> None:
    """Raise ValueError unless there are two runs or more, each a finished build, and the site folder may be written."""
    if len(builds) < 2:
        raise ValueError(f"compare needs at least two build folders, got {len(builds)}: pass BUILD_A BUILD_B [...]")
    resolved = [build.resolve() for build in builds]
    for index, build in enumerate(resolved):
        if build in resolved[:index]:
            raise ValueError(f"{builds[index]} is given twice: pass each build folder once")
    for build in builds:
        check_build(build)
    check_output(site_dir, "--site-dir", COMPARE,
                 {f"the build folder {build}": build for build in builds})


@contextlib.contextmanager
def held(builds: list[Path], wait: bool):
    """Hold every build folder's lock (in a fixed order, so two comparisons never wait on each other) while reading."""
    locks = []
    try:
        for build in sorted(builds, key=lambda path: str(path.resolve())):
            locks.append(hold(build, wait=wait, flag="build folder"))  # BuildBusy: one line naming the other run
        yield
    finally:
        for lock in locks:
            lock.close()


def trimmed_explore(explore: dict) -> dict:
    """Return a run's explore.json as the page holds it: each layer's first channel group only, no curves."""
    layers = [dict(layer, groups=layer["groups"][:1]) for layer in explore["layers"]]
    return {key: value for key, value in explore.items() if key != "curves"} | {"layers": layers}


def chunk_copies(run: Run, number: int) -> list[tuple[Path, str]]:
    """Return (source, path in the site) of every chunk of a run's first channel groups."""
    copies = []
    for layer in run.explore["layers"]:
        for entry in layer["groups"][0]["files"]:
            copies.append((run.chunk_files[entry["path"]], f"runs/{number}/{entry['path']}"))
    return copies


def _label(value: float, align: str) -> str:
    """Return a position's number as the control shows it: the step, or the percentage of training."""
    return str(int(value)) if align == "step" else f"{100 * value:.1f}".rstrip("0").rstrip(".")


def explorer_rows(runs: list[Run], table_layers: list[dict]) -> list[dict]:
    """Return one row per layer position: each run's block there (None past its last layer)."""
    rows = []
    for row in table_layers:
        cells = []
        for run in runs:
            layers = run.explore["layers"]
            if row["position"] > len(layers):
                cells.append(None)
                continue
            layer = layers[row["position"] - 1]
            cells.append({"name": layer["name"], "channels": int(layer["channels"]),
                          "shown": len(layer["groups"][0]["channels"]), "map": list(layer["map_size"]),
                          "signed": layer["domain"][0] < 0})
        rows.append({"position": row["position"], "paired": row["paired"], "cells": cells})
    return rows


def page_context(runs: list[Run], findings: list, align: str) -> dict:
    """Return the template's data: runs, control positions, curves, explorer rows and the table of differences."""
    steps = [[int(step) for step in run.explore["steps"]] for run in runs]
    points = alignment.positions(steps, align)
    end = alignment.axis_end(steps, align)
    initial = len(points) - 1  # every run's last snapshot: the trained networks
    table = differences(runs, findings, [run.explore for run in runs])
    control = {"values": [point["value"] for point in points], "labels": [_label(p["value"], align) for p in points],
               "indices": [point["indices"] for point in points], "align": align, "end": end}
    run_rows = []
    for number, (run, run_steps) in enumerate(zip(runs, steps)):
        shown = run_steps[points[initial]["indices"][number]]
        run_rows.append({"number": number + 1, "label": run.label, "colour": number % RUN_COLOURS,
                         "meta_id": f"compare-run-{number + 1}-meta", "base": f"runs/{number + 1}/",
                         "meta_json": script_json(trimmed_explore(run.explore)), "initial_step": shown,
                         "held": align == "step" and run_steps[-1] < points[initial]["value"],
                         "last_step": run_steps[-1], "stride": int(run.explore.get("stride", 1)),
                         "stride_ordinal": ordinal(int(run.explore.get("stride", 1))),
                         "probe_names": ", ".join(run.explore["probe_names"]), "model": table["models"][number]})
    probe_names = runs[0].explore["probe_names"]
    return {
        "runs": run_rows, "align": align, "date": long_date(build_date()),
        "control": {"json": script_json(control), "slider_max": len(points) - 1, "initial_index": initial,
                    "initial_label": control["labels"][initial], "last_label": control["labels"][-1]},
        "probes": [{"index": index, "number": index + 1, "name": name} for index, name in enumerate(probe_names)],
        "same_probes": len({tuple(run.explore["probe_labels"]) for run in runs}) == 1,
        "curves": overlay_panels([run_metrics(run.capture) for run in runs], align, end, points[initial]["value"]),
        "rows": explorer_rows(runs, table["layers"]),
        "table": table,
    }


def write_page(runs: list[Run], findings: list, align: str, staging: Path) -> None:
    """Write index.html, the static files and every run's explorer data into `staging`."""
    context = page_context(runs, findings, align)
    copies = [(STATIC / name, f"static/{name}") for name in STATIC_FILES]
    for number, run in enumerate(runs):
        copies += chunk_copies(run, number + 1)
    write_static_page(staging, copies, "compare.html.j2", context)
    write_summary(staging, runs, context["table"])  # lets each run's article link here (report/page/compared.py)
    readable_by_all(staging)


def run(builds: list[Path], site_dir: Path, align: str = "step", *, wait: bool = False, progress: bool = True) -> Path:
    """Check, read and analyse every run, then write the comparison page into `site_dir`; return its index.html."""
    from report.findings_cache import cached_findings, manifest_scales

    started = time.perf_counter()
    if align not in alignment.ALIGNS:
        raise ValueError(f"--align must be one of {', '.join(alignment.ALIGNS)}, got {align!r}")
    check_inputs(builds, site_dir)
    with held(builds, wait):
        runs = [load_run(build, label) for build, label in zip(builds, run_labels(builds))]
        findings = []
        for run_ in runs:
            if progress:
                print(f"compare: analysing {run_.label} ({run_.build_dir})", file=sys.stderr)
            # The run's own build/findings.json when its article measured the same archive (else measured and kept).
            findings.append(cached_findings(run_.capture, check_build(run_.build_dir), manifest_scales(run_.manifest)))
        clear_pending(builds[0])  # what a killed comparison left beside its page
        with replacing(site_dir, COMPARE, builds[0], "compare") as staging:
            write_page(runs, findings, align, staging)
    seconds = time.perf_counter() - started
    print(f"compare: wrote {site_dir / 'index.html'} ({len(runs)} runs, {total_bytes(site_dir) / 1e6:.1f} MB in all) "
          f"in {seconds:.1f}s", file=sys.stderr)
    return site_dir / "index.html"
