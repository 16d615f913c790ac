"""Item 8 (scale): the streaming writer, the recorder under MirroredStrategy, and the floor of the capture overhead."""

from __future__ import annotations

import os
import statistics

from common import OUT, fresh, say
from item_capture import median_of
from report_table import Figure, Report
from runs import fit

STREAM_BUDGET = 1.01  # streamed / in-memory median step
MIRRORED_BUDGET = 1.05  # recorded / bare under MirroredStrategy on 2 logical CPU devices
PAIRS = (("recorded", "streamed"), ("mirrored-bare", "mirrored-recorded"))


def scale_order(r: int) -> list[str]:
    """Return the fits of item 8's round `r`: each A/B pair in alternating order, then the floor run."""
    order = []
    for first, second in PAIRS:
        order += [first, second] if r % 2 == 0 else [second, first]
    return order + ["floor"]


def scale_rounds(report: Report, options) -> list[dict]:
    """Run item 8's rounds, every fit in a fresh process after the machine calmed down."""
    w = report.workload
    rounds = []
    for r in range(options.pairs):
        say(f"{w.name}: item 8, round {r + 1}/{options.pairs}")
        runs = {}
        for mode in scale_order(r):
            partial = fresh(OUT / w.name / "stream") / "capture.partial" if mode == "streamed" else None
            runs[mode] = fit(w, mode, options.steps, f"scale-r{r}", patience_s=options.quiet_patience,
                             partial=partial)
        rounds.append(runs)
    report.raw["scale_rounds"] = rounds
    return rounds


def listed(values: list[float]) -> str:
    """Return the per-round values as text."""
    return ", ".join(f"{x:.3f}" for x in values)


def scale(report: Report, options) -> None:
    """Run item 8 and add its three figures (the floor beside item 1's)."""
    rounds = scale_rounds(report, options)
    streamed(report, rounds, options)
    mirrored(report, rounds, options)
    floor(report, rounds, options)


def streamed(report: Report, rounds: list[dict], options) -> None:
    """Add the streaming writer's figures: median step against snapshots kept in memory, the writer's seconds."""
    ratios = [run["streamed"]["step_median_seconds"] / run["recorded"]["step_median_seconds"] for run in rounds]
    # every write counted in full: the median step leaves out the few steps a chunk was written after
    full = [(run["streamed"]["robust_fit_seconds"] + run["streamed"]["writer_in_steps_seconds"])
            / run["recorded"]["robust_fit_seconds"] for run in rounds]
    s = rounds[0]["streamed"]
    memory_ms = median_of(rounds, lambda run: run["recorded"]["step_median_seconds"]) * 1e3
    stream_ms = median_of(rounds, lambda run: run["streamed"]["step_median_seconds"]) * 1e3
    writer = median_of(rounds, lambda run: run["streamed"]["writer_seconds"])
    in_steps = median_of(rounds, lambda run: run["streamed"]["writer_in_steps_seconds"])
    finish = median_of(rounds, lambda run: run["streamed"]["finish_seconds"])
    report.add("8", "streaming writer: median step with snapshots streamed to disk / kept in memory "
               "(median of per-pair ratios)", statistics.median(ratios), "x", STREAM_BUDGET,
               f"{len(ratios)} interleaved pairs, ratios {listed(ratios)}; median step {stream_ms:.1f} ms vs "
               f"{memory_ms:.1f} ms; both recorded, no test evaluation, {options.steps} steps; the writer "
               f"(model.stream.ChunkWriter, as `generate.py capture` wires it) took {s['writer_calls']} chunk(s) "
               f"of <= 64 snapshots: its time on the training thread (a checkpoint per chunk and the hand-off; "
               f"the chunk files are compressed and written by a background thread) {writer:.2f} s in all, "
               f"{in_steps:.2f} s of it between steps, the rest at the end; assembling the archive afterwards "
               f"{finish:.2f} s "
               f"({s['archive_bytes'] / 1e6:.1f} MB, {s['snapshots']} snapshots)")
    report.add("8", "same, fit time with every write counted in full (first step + median step x the others + "
               "recorder set-up, read-out and the writes between steps)", statistics.median(full), "x", None,
               f"ratios {listed(full)}")


def mirrored(report: Report, rounds: list[dict], options) -> None:
    """Add the capture overhead under MirroredStrategy on 2 logical CPU devices (item 1's robust ratio)."""
    ratios = [run["mirrored-recorded"]["robust_fit_seconds"] / run["mirrored-bare"]["robust_fit_seconds"]
              for run in rounds]
    bare_ms = median_of(rounds, lambda run: run["mirrored-bare"]["step_median_seconds"]) * 1e3
    rec_ms = median_of(rounds, lambda run: run["mirrored-recorded"]["step_median_seconds"]) * 1e3
    single_ms = median_of(rounds, lambda run: run["floor"]["step_median_seconds"]) * 1e3
    first = median_of(rounds, lambda run: run["mirrored-recorded"]["first_step_seconds"]
                      - run["mirrored-bare"]["first_step_seconds"])
    loads = [x for run in rounds for m in ("mirrored-bare", "mirrored-recorded")
             for x in (run[m]["load_before"], run[m]["load_after"])]
    report.add("8", "capture overhead under MirroredStrategy (2 logical CPU devices): fit with recorder / bare fit "
               "(median of per-pair ratios)", statistics.median(ratios), "x", MIRRORED_BUDGET,
               f"{len(ratios)} interleaved pairs, ratios {listed(ratios)}; fit time as item 1's (first step + "
               f"median step x the others + the recorder's set-up and read-out): median step {rec_ms:.1f} ms vs "
               f"{bare_ms:.1f} ms ({rounds[0]['mirrored-bare']['replicas']} replicas; one device, bare: "
               f"{single_ms:.1f} ms); first step {first:+.2f} s; load avg {min(loads):.1f}-{max(loads):.1f} on "
               f"{os.cpu_count()} cores")


def floor(report: Report, rounds: list[dict], options) -> None:
    """Add the floor of the capture overhead (the probes' forward pass / bare median step) after item 1's rows."""
    shares = [run["floor"]["floor_ms"] / (run["floor"]["step_median_seconds"] * 1e3) for run in rounds]
    f = rounds[0]["floor"]
    floor_ms = median_of(rounds, lambda run: run["floor"]["floor_ms"])
    bare_ms = median_of(rounds, lambda run: run["floor"]["step_median_seconds"]) * 1e3
    rec_ms = median_of(rounds, lambda run: run["recorded"]["step_median_seconds"]) * 1e3
    detail = (f"{len(shares)} run(s), shares {listed(shares)}; one compiled forward pass of the {f['floor_probes']} "
              f"probes up to the {len(f['floor_layers'])} recorded layers {floor_ms:.2f} ms (median of "
              f"{f['floor_calls']} calls, timed after a bare fit in the same process) vs its bare median step "
              f"{bare_ms:.1f} ms: the recorder cannot cost less than {1 + statistics.median(shares):.3f}x; "
              f"measured per-step cost of the recorder (item 8's rounds, recorded - bare median step) "
              f"{rec_ms - bare_ms:+.2f} ms")
    item1 = report.raw.get("rounds") or []
    if item1 and all("recorded" in run and "bare" in run for run in item1):
        diff = median_of(item1, lambda run: run["recorded"]["step_median_seconds"]
                         - run["bare"]["step_median_seconds"]) * 1e3
        detail += f", item 1's rounds {diff:+.2f} ms"
    before = [i for i, figure in enumerate(report.figures) if figure.item == "1"]
    at = before[-1] + 1 if before else len(report.figures)
    report.figures.insert(at, Figure("8", "floor of the capture overhead: probes' forward pass / bare median step "
                                     "(median of runs)", statistics.median(shares), "x", None, detail))
