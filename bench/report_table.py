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
    "3": ("After the bare fit, `make site` still evaluates the test subset every 10 steps, streams the snapshots "
          "to disk, replays the 1,000 analysis images on the weight grid and measures every claim on them (issue "
          "21), renders six H.264 videos and starts Python twice. Item 3's detail splits one run into these parts "
          "(the stages' own build/timings.json and the bare fit of the same round)."),
}


def fmt(value: float) -> str:
    """Format a number with sensible precision."""
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) < 2 else f"{value:.2f}"


@dataclass
class Figure:
    """One reported number, its budget (always an upper bound) and whether it is met."""

    item: str
    name: str
    value: float | None
    unit: str
    budget: float | None = None
    detail: str = ""

    @property
    def status(self) -> str:
        """Return "met", "OVER", "info" (no budget) or "not measured"."""
        if self.value is None or math.isnan(self.value):
            return "not measured"
        if self.budget is None:
            return "info"
        return "met" if self.value <= self.budget else "OVER"

    def cells(self) -> list[str]:
        """Return the figure's row of the results table."""
        value = "-" if self.value is None else f"{fmt(self.value)} {self.unit}".strip()
        budget = "-" if self.budget is None else f"≤ {fmt(self.budget)} {self.unit}".strip()
        return [self.item, self.name, value, budget, self.status, self.detail]


@dataclass
class Report:
    """Everything measured for one workload."""

    workload: Workload
    figures: list[Figure] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, *args) -> None:
        """Add a Figure (same arguments)."""
        self.figures.append(Figure(*args))


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    """Return a markdown table."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]


def cell(run: dict, mode: str, key: str, pattern: str, scale: float = 1.0) -> str:
    """Return one run's number formatted, or "-" where that run or number is absent."""
    value = run.get(mode, {}).get(key)
    return "-" if value is None else pattern.format(value * scale)


def ratio(run: dict, a: str, b: str, key: str) -> str:
    """Return run[a][key] / run[b][key] to 3 decimals, or "-"."""
    return f"{run[a][key] / run[b][key]:.3f}" if a in run and b in run else "-"


def rounds_table(rounds: list[dict]) -> list[str]:
    """Return the per-run numbers of the interleaved rounds."""
    header = ["round", "order", "bare fit s", "recorded fit s", "ratio", "median step ms bare / recorded",
              "robust ratio", "in-run on/off ratio", "recorder cb s", "naive fit s", "site wall s",
              "other load, cores (bare / recorded)"]
    return markdown(header, [
        [i, " > ".join(run), cell(run, "bare", "fit_seconds", "{:.1f}"), cell(run, "recorded", "fit_seconds", "{:.1f}"),
         ratio(run, "recorded", "bare", "fit_seconds"),
         f"{cell(run, 'bare', 'step_median_seconds', '{:.1f}', 1e3)} / "
         f"{cell(run, 'recorded', 'step_median_seconds', '{:.1f}', 1e3)}",
         ratio(run, "recorded", "bare", "robust_fit_seconds"), cell(run, "toggle", "toggle_paired_ratio", "{:.3f}"),
         cell(run, "recorded", "recorder_seconds", "{:.2f}"), cell(run, "naive", "fit_seconds", "{:.1f}"),
         cell(run, "site", "wall_s", "{:.1f}"),
         f"{cell(run, 'bare', 'foreign_cores', '{:.2f}')} / {cell(run, 'recorded', 'foreign_cores', '{:.2f}')}"]
        for i, run in enumerate(rounds, 1)])


def length_table(rows: list[dict]) -> list[str]:
    """Return item 7's numbers per run length."""
    header = ["steps", "every", "snapshots", "fit s", "recorder s", "save s", "archive MB", "capture peak MB",
              "render s", "render peak MB", "assets MB", "s per 100 snapshots (render)"]
    return markdown(header, [
        [f"{r['steps']:,}", r["every"], f"{r['snapshots']:,}", f"{r['fit_s']:.1f}", f"{r['recorder_s']:.2f}",
         f"{r['save_s']:.1f}", f"{r['archive_mb']:.1f}", f"{r['capture_peak_mb']:.0f}", f"{r['render_s']:.1f}",
         f"{r['render_peak_mb']:.0f}", f"{r['assets_mb']:.1f}", f"{r['render_s'] / r['snapshots'] * 100:.2f}"]
        for r in rows])


def variants_table(rounds: list[dict]) -> list[str]:
    """Return item 8's per-run numbers."""
    header = ["round", "order", "median step ms in memory / streamed", "ratio", "writer s (between steps / all)",
              "median step ms mirrored bare / recorded", "robust ratio", "forward pass of the probes ms",
              "bare median step ms", "share", "other load, cores (in memory / streamed / mirrored bare / recorded)"]
    rows = []
    for i, run in enumerate(rounds, 1):
        stream, floor = run["streamed"], run["floor"]
        step = {mode: f"{run[mode]['step_median_seconds'] * 1e3:.1f}" for mode in run}
        rows.append([
            i, " > ".join(run), f"{step['recorded']} / {step['streamed']}",
            ratio(run, "streamed", "recorded", "step_median_seconds"),
            f"{stream['writer_in_steps_seconds']:.2f} / {stream['writer_seconds']:.2f}",
            f"{step['mirrored-bare']} / {step['mirrored-recorded']}",
            ratio(run, "mirrored-recorded", "mirrored-bare", "robust_fit_seconds"), f"{floor['floor_ms']:.2f}",
            step["floor"], f"{floor['floor_ms'] / (floor['step_median_seconds'] * 1e3):.3f}",
            " / ".join(f"{run[m]['foreign_cores']:.2f}" for m in ("recorded", "streamed", "mirrored-bare",
                                                                  "mirrored-recorded"))])
    return markdown(header, rows)


def workload_section(report: Report) -> list[str]:
    """Return one workload's part of results.md: figures, per-run tables, notes, why a budget is over."""
    lines = [f"## {report.workload.description}", ""] + markdown(
        ["#", "figure", "value", "budget", "status", "measured beside it"], [f.cells() for f in report.figures]) + [""]
    for key, title, table in (
            ("rounds", "Interleaved rounds (each run a fresh process):", rounds_table),
            ("run_length_rows", "Run lengths, item 7 (capture with the default callbacks incl. test evaluation, "
                                "then the render stage alone):", length_table),
            ("variant_rounds", "Capture variants' rounds, item 8 (each run a fresh process):", variants_table)):
        if report.raw.get(key):
            lines += [title, ""] + table(report.raw[key]) + [""]
    if report.notes:
        lines += [f"- {note}" for note in report.notes] + [""]
    explained = sorted({f.item for f in report.figures if f.status == "OVER" and f.item in WHY_OVER})
    lines += [f"- Over budget, item {item}: {WHY_OVER[item]}" for item in explained] + ([""] if explained else [])
    return lines


def write_results(report: Report, options, machine_info: dict, started: float, path: Path) -> str:
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
             f"{min(options.naive_rounds, options.pairs)} round(s), {options.site_runs} site run(s), run lengths "
             f"{', '.join(f'{s:,}' for s in options.lengths)} steps",
             "- memory and sizes in decimal MB (1 MB = 1,000,000 bytes); every time is wall-clock; every ratio is "
             "taken between runs of the same round on the same machine.", ""] + workload_section(report)
    text = "\n".join(lines + ["## Method", "", "What each item measures and how: bench/README.md.", ""])
    path.write_text(text)
    return text


def write_raw(report: Report, machine_info: dict, path: Path) -> None:
    """Write every figure, raw number and note as JSON (bench/out/results.json)."""
    path.write_text(json.dumps({"machine": machine_info, "dataset": report.workload.args, "raw": report.raw,
                                "figures": [vars(f) for f in report.figures], "notes": report.notes},
                               indent=1, default=str))
