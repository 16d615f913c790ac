"""Peak memory of `make site` as the run grows: 290, 2,900 and 11,600 recorded steps (issue 13's flat-memory rows).

    .venv/bin/python bench/scale_memory.py [--runs 290x1024,2900x1024,11600x128] [--results bench/results-scale.md]

Each run, from a copy of the code in bench/out/scale-memory-code, is what `make site ARGS="--steps S
--batch-size B"` does, from nothing, in a fresh folder under bench/out/scale-memory/: `generate.py
capture` (training, streaming the archive), then `generate.py site` (render and article), each its own
process, as the Makefile runs them. Each process's peak RSS is exact (os.wait4, bench/procs.py: the
process or its largest descendant, e.g. an ffmpeg); `make site`'s peak is the larger of the two. Beside
it: the whole process tree's sampled sum (PSS, every 100 ms), the archive's size and the time spent
writing it (chunks during the fit, checkpoints, the final assembly; from build/timings.json), the
stages' wall times and the page's stride. The budget is the issue's: every
longer run's peak within 1.1x the first (shortest) run's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
from common import OUT, ROOT, fresh, say  # noqa: E402
from procs import measure  # noqa: E402
from runs import TREE_PARTS, copy_code  # noqa: E402

BUDGET_RATIO = 1.10


def run_length(steps: int, batch: int, code: Path) -> dict:
    """Run capture then site for one length from nothing; return their measures and the build's numbers."""
    folder = fresh(OUT / "scale-memory" / f"{steps}x{batch}")
    build, site = folder / "build", folder / "site"
    flags = ["--steps", str(steps), "--batch-size", str(batch), "--build-dir", str(build), "--site-dir", str(site),
             "--quiet"]
    python = str(ROOT / ".venv" / "bin" / "python")
    result = {"steps": steps, "batch": batch}
    for stage in ("capture", "site"):
        say(f"{steps} steps of {batch}: generate.py {stage}")
        measured = measure([python, str(code / "generate.py"), stage, *flags], cwd=code, sample=True,
                           timeout_s=3 * 3600, log=folder / f"{stage}.log")
        if measured["rc"] != 0:
            raise SystemExit(f"generate.py {stage} failed ({measured['rc']}); see {folder / (stage + '.log')}")
        result[stage] = {key: measured[key] for key in ("wall_s", "cpu_s", "maxrss_mb", "tree_peak_mb")}
    timings = json.loads((build / "timings.json").read_text())
    manifest = json.loads((build / "assets" / "manifest.json").read_text())
    result.update(timings=timings, snapshots=manifest["steps"]["count"], stride=manifest["explore"]["stride"],
                  site_mb=sum(path.stat().st_size for path in site.rglob("*") if path.is_file()) / 1e6)
    return result


def table(results: list[dict]) -> list[str]:
    """Return the markdown rows: one per run, the peak as a ratio to the first run's."""
    first = max(results[0]["capture"]["maxrss_mb"], results[0]["site"]["maxrss_mb"]) * 1.048576
    lines = ["| steps x batch | snapshots | capture peak MB | site peak MB | make site peak MB | / first run | "
             "budget | status | process tree (sampled) MB | archive MB | chunk writes s | checkpoints s | "
             "assembly s | fit s | capture wall s | site wall s | page stride | site MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in results:
        capture, site, timing = run["capture"], run["site"], run["timings"]["capture"]
        peak = max(capture["maxrss_mb"], site["maxrss_mb"]) * 1.048576  # MiB -> MB
        ratio = peak / first
        tree = max(capture["tree_peak_mb"] or 0, site["tree_peak_mb"] or 0) * 1.048576
        status = "-" if run is results[0] else ("met" if ratio <= BUDGET_RATIO else "OVER")
        lines.append(
            f"| {run['steps']:,} x {run['batch']} | {run['snapshots']:,} | {capture['maxrss_mb'] * 1.048576:.0f} | "
            f"{site['maxrss_mb'] * 1.048576:.0f} | {peak:.0f} | {ratio:.3f} | ≤ {BUDGET_RATIO:.2f} | {status} | "
            f"{tree:.0f} | {timing.get('archive_bytes', 0) / 1e6:.1f} | {timing.get('chunk_write_seconds', 0):.1f} | "
            f"{timing.get('checkpoint_seconds', 0):.1f} | {timing.get('archive_assemble_seconds', 0):.1f} | "
            f"{timing['fit_seconds']:.1f} | {capture['wall_s']:.1f} | {site['wall_s']:.1f} | {run['stride']} | "
            f"{run['site_mb']:.1f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="290x1024,2900x1024,11600x128",
                        help="comma-separated STEPSxBATCH, the first being the reference (default %(default)s)")
    parser.add_argument("--results", default=str(Path(__file__).resolve().parent / "results-scale.md"))
    options = parser.parse_args(argv)
    runs = [tuple(int(part) for part in item.split("x")) for item in options.runs.split(",")]
    started = time.time()
    code = fresh(OUT / "scale-memory-code")  # the runs use a copy: editing the tree meanwhile changes nothing
    copy_code(ROOT, code, TREE_PARTS)
    measured_code = machine.code_state(ROOT)  # the tree as copied, not as it is when the runs end
    results = [run_length(steps, batch, code) for steps, batch in runs]
    (OUT / "scale-memory" / "results.json").write_text(json.dumps(results, indent=1))
    text = ["# Peak memory of `make site` by run length", "",
            f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            f"- command: `bench/scale_memory.py --runs {options.runs}` ({(time.time() - started) / 60:.1f} min)",
            f"- code: {measured_code}", f"- machine: {machine.one_line(machine.describe())}",
            "- each run from nothing: `generate.py capture` then `generate.py site`, as `make site`; peaks exact "
            "(wait4), in decimal MB", "", *table(results), ""]
    Path(options.results).write_text("\n".join(text))
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
