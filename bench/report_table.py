"""The bench's figures and how they are written: bench/results.md (tables) and bench/out/results.json (raw)."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Workload

# Why a budget is over where it cannot be met on this machine (issue: report, never loosen silently).
WHY_OVER = {
    "3": ("After the bare fit, `make site` must still evaluate the test subset every 10 steps during the fit, hand "
          "the snapshots to the streaming writer (a checkpoint per 64 steps, the chunks compressed beside training "
          "on the same 2 cores), render every snapshot into six H.264 videos (about 5 s here), start Python twice "
          "(TensorFlow once) and exit, load the data, evaluate the whole test set and write the archive and the "
          "model. The item-3 note above splits one site run's wall time into these parts (the stages' own "
          "build/timings.json and the bare fit of the same round). Cut so far: test evaluation every 10 "
          "steps instead of 5, two layers rendered at once, no TensorFlow import when the capture is reused, GIF "
          "previews only when asked, chunk files written in the background, and tf.data autotuning off "
          "(freeing its pipeline stalled for 1-60 s in some runs)."),
}


def fmt(value: float) -> str:
    """Format a number with sensible precision."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) < 2 else f"{value:.2f}"


@dataclass
class Figure:
    """One reported number, its budget and whether it is met."""

    item: str
    name: str
    value: float | None
    unit: str
    budget: float | None = None
    detail: str = ""
    higher_is_better: bool = False

    @property
    def status(self) -> str:
        """Return "met", "OVER", "info" (no budget) or "not measured"."""
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return "not measured"
        if self.budget is None:
            return "info"
        ok = self.value >= self.budget if self.higher_is_better else self.value <= self.budget
        return "met" if ok else "OVER"

    def cells(self) -> list[str]:
        """Return the figure's row of the results table."""
        value = "-" if self.value is None else f"{fmt(self.value)} {self.unit}".strip()
        sign = "≥" if self.higher_is_better else "≤"
        budget = "-" if self.budget is None else f"{sign} {fmt(self.budget)} {self.unit}"
        return [self.item, self.name, value, budget.strip(), self.status, self.detail]


@dataclass
class Report:
    """Everything measured for one workload."""

    workload: Workload
    figures: list[Figure] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        """Add a Figure (same arguments)."""
        self.figures.append(Figure(*args, **kwargs))


def table(figures: list[Figure]) -> list[str]:
    """Return a markdown table of figures."""
    lines = ["| # | figure | value | budget | status | measured beside it |", "|---|---|---|---|---|---|"]
    for f in figures:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in f.cells()) + " |")
    return lines


def rounds_table(rounds: list[dict]) -> list[str]:
    """Return the per-run numbers of the interleaved rounds."""
    if not rounds:
        return []
    lines = ["| round | order | bare fit s | recorded fit s | ratio | median step ms bare / recorded | robust ratio | "
             "in-run on/off ratio | recorder cb s | naive fit s | site wall s | other load, cores (bare / recorded) |",
             "|" + "---|" * 12]

    def cell(run, mode, pattern, key, scale=1.0):
        value = run.get(mode, {}).get(key)
        return "-" if value is None else pattern.format(value * scale)

    for i, run in enumerate(rounds, 1):
        bare, recorded = run.get("bare", {}), run.get("recorded", {})
        ratio = f"{recorded['fit_seconds'] / bare['fit_seconds']:.3f}" if recorded and bare else "-"
        robust = f"{recorded['robust_fit_seconds'] / bare['robust_fit_seconds']:.3f}" if recorded and bare else "-"
        cells = [str(i), " > ".join(run), cell(run, "bare", "{:.1f}", "fit_seconds"),
                 cell(run, "recorded", "{:.1f}", "fit_seconds"), ratio,
                 f"{cell(run, 'bare', '{:.1f}', 'step_median_seconds', 1e3)} / "
                 f"{cell(run, 'recorded', '{:.1f}', 'step_median_seconds', 1e3)}", robust,
                 cell(run, "toggle", "{:.3f}", "toggle_paired_ratio"),
                 cell(run, "recorded", "{:.2f}", "recorder_seconds"),
                 cell(run, "naive", "{:.1f}", "fit_seconds"), cell(run, "site", "{:.1f}", "wall_s"),
                 f"{cell(run, 'bare', '{:.2f}', 'foreign_cores')} / {cell(run, 'recorded', '{:.2f}', 'foreign_cores')}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def scaling_table(rows: list[dict]) -> list[str]:
    """Return the per-length scaling numbers as a markdown table."""
    if not rows:
        return []
    lines = ["| steps | every | snapshots | fit s | recorder s | save s | archive MB | capture peak MB | render s | "
             "render peak MB | assets MB | s per 100 snapshots (render) |", "|" + "---|" * 12]
    for r in rows:
        render = r.get("render_s")
        if render is None:
            tail = "- | - | - | -"
        else:
            tail = (f"{render:.1f} | {r['render_peak_mb']:.0f} | {r['assets_mb']:.1f} | "
                    f"{render / r['snapshots'] * 100:.2f}")
        lines.append(f"| {r['steps']:,} | {r['every']} | {r['snapshots']:,} | {r['fit_s']:.1f} | "
                     f"{r['recorder_s']:.2f} | {r['save_s']:.1f} | {r['archive_mb']:.1f} | "
                     f"{r['capture_peak_mb']:.0f} | {tail} |")
    return lines


def scale_table(rounds: list[dict]) -> list[str]:
    """Return item 8's per-run numbers as a markdown table."""
    if not rounds:
        return []
    lines = ["| round | order | median step ms in memory / streamed | ratio | writer s (between steps / all) | "
             "median step ms mirrored bare / recorded | robust ratio | forward pass of the probes ms | "
             "bare median step ms | share | other load, cores (in memory / streamed / mirrored bare / recorded) |",
             "|" + "---|" * 11]
    for i, run in enumerate(rounds, 1):
        memory, stream = run["recorded"], run["streamed"]
        bare, recorded, floor = run["mirrored-bare"], run["mirrored-recorded"], run["floor"]
        cells = [str(i), " > ".join(run),
                 f"{memory['step_median_seconds'] * 1e3:.1f} / {stream['step_median_seconds'] * 1e3:.1f}",
                 f"{stream['step_median_seconds'] / memory['step_median_seconds']:.3f}",
                 f"{stream['writer_in_steps_seconds']:.2f} / {stream['writer_seconds']:.2f}",
                 f"{bare['step_median_seconds'] * 1e3:.1f} / {recorded['step_median_seconds'] * 1e3:.1f}",
                 f"{recorded['robust_fit_seconds'] / bare['robust_fit_seconds']:.3f}", f"{floor['floor_ms']:.2f}",
                 f"{floor['step_median_seconds'] * 1e3:.1f}",
                 f"{floor['floor_ms'] / (floor['step_median_seconds'] * 1e3):.3f}",
                 " / ".join(f"{run[m]['foreign_cores']:.2f}" for m in ("recorded", "streamed", "mirrored-bare",
                                                                          "mirrored-recorded"))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def workload_section(report: Report) -> list[str]:
    """Return one workload's part of results.md: figures, rounds, scaling, notes, why a budget is over."""
    lines = [f"## {report.workload.description}", ""] + table(report.figures) + [""]
    if report.raw.get("rounds"):
        lines += ["Interleaved rounds (each run a fresh process):", ""] + rounds_table(report.raw["rounds"]) + [""]
    if report.raw.get("scaling_rows"):
        lines += ["Scaling (capture with the default callbacks incl. test evaluation, then the render stage alone):",
                  ""] + scaling_table(report.raw["scaling_rows"]) + [""]
    if report.raw.get("scale_rounds"):
        lines += ["Item 8's rounds (each run a fresh process):", ""] + scale_table(report.raw["scale_rounds"]) + [""]
    if report.notes:
        lines += [f"- {note}" for note in report.notes] + [""]
    explained = sorted({f.item for f in report.figures if f.status == "OVER" and f.item in WHY_OVER})
    lines += [f"- Over budget, item {item}: {WHY_OVER[item]}" for item in explained] + ([""] if explained else [])
    return lines


def write_results(reports: list[Report], options, machine_info: dict, started: float, path: Path) -> str:
    """Write bench/results.md and return the text."""
    now = dt.datetime.now(dt.UTC).astimezone()  # local time, as before
    lines = ["# Benchmark results", "",
             f"- date: {now.strftime('%Y-%m-%d %H:%M %Z')}",
             f"- command: `{options.command}` ({(time.time() - started) / 60:.1f} min)",
             f"- code: {machine_info.get('code', 'unknown')}, copied to bench/out/code at the start and run from there",
             f"- machine: {machine_info['cores']} cores ({machine_info['cpu']}), {machine_info['memory_gb']} GiB "
             f"memory, {machine_info['system']}",
             f"- libraries: Python {machine_info['python']}, "
             + ", ".join(f"{k} {v}" for k, v in machine_info["versions"].items()) + f"; {machine_info['ffmpeg']}",
             f"- settings: {options.steps} steps of 1024, {options.pairs} interleaved pairs, naive baseline in "
             f"{min(options.naive_rounds, options.pairs)} round(s), {options.site_runs} site run(s), scaling at "
             f"{', '.join(f'{s:,}' for s in options.scale_steps)} steps",
             "- memory and sizes in decimal MB (1 MB = 1,000,000 bytes); every time is wall-clock; every ratio is "
             "taken between runs of the same round on the same machine.", ""]
    for report in reports:
        lines += workload_section(report)
    lines += ["## Method", "", "What each item measures and how: bench/README.md.", ""]
    text = "\n".join(lines)
    path.write_text(text)
    return text


def write_raw(reports: list[Report], machine_info: dict, path: Path) -> None:
    """Write every figure, raw number and note as JSON (bench/out/results.json)."""
    path.write_text(json.dumps(
        {"machine": machine_info, "reports": {r.workload.name: {"figures": [vars(f) for f in r.figures],
                                                                "raw": r.raw, "notes": r.notes} for r in reports}},
        indent=1, default=str))
