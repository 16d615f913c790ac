"""Item 8, capture variants: the streaming writer, the recorder under MirroredStrategy, the floor of the overhead."""

from __future__ import annotations

import statistics

from common import BUDGETS, OUT, fresh, listed, median_of, say
from item_capture import load_span, ratios_of
from report_table import Figure, Report
from runs import fit

PAIRS = (("recorded", "streamed"), ("mirrored-bare", "mirrored-recorded"))


def capture_variants(report: Report, options) -> None:
    """Run item 8's rounds (each A/B pair in alternating order, then the floor run) and add its three figures."""
    w, rounds = report.workload, []
    for r in range(options.pairs):
        say(f"{w.name}: capture variants (item 8), round {r + 1}/{options.pairs}")
        order = [mode for pair in PAIRS for mode in (pair if r % 2 == 0 else pair[::-1])] + ["floor"]
        rounds.append({mode: fit(w, mode, options.steps, f"variants-r{r}", patience_s=options.quiet_patience,
                                 partial=fresh(OUT / w.name / "stream") / "capture.partial" if mode == "streamed"
                                 else None) for mode in order})
    report.raw["variant_rounds"] = rounds
    streamed(report, rounds, options)
    mirrored(report, rounds)
    floor(report, rounds)


def streamed(report: Report, rounds: list[dict], options) -> None:
    """Add the streaming writer's figures: median step against snapshots kept in memory, the writer's seconds."""
    ratios = ratios_of(rounds, "streamed", "recorded", "step_median_seconds")
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
               "(median of per-pair ratios)", statistics.median(ratios), "x", BUDGETS["streamed_step"],
               f"{len(ratios)} interleaved pairs, ratios {listed(ratios)}; median step {stream_ms:.1f} ms vs "
               f"{memory_ms:.1f} ms; both recorded, no test evaluation, {options.steps} steps; the writer "
               f"(capture.chunk_writer.ChunkWriter, as `generate.py capture` wires it) took {s['writer_calls']} "
               f"chunk(s) "
               f"of <= 64 snapshots: its time on the training thread (a checkpoint per chunk and the hand-off; "
               f"the chunk files are compressed and written by a background thread) {writer:.2f} s in all, "
               f"{in_steps:.2f} s of it between steps, the rest at the end; assembling the archive afterwards "
               f"{finish:.2f} s ({s['archive_bytes'] / 1e6:.1f} MB, {s['snapshots']} snapshots)")
    report.add("8", "same, fit time with every write counted in full (first step + median step x the others + "
               "recorder set-up, read-out and the writes between steps)", statistics.median(full), "x", None,
               f"ratios {listed(full)}")


def mirrored(report: Report, rounds: list[dict]) -> None:
    """Add the capture overhead under MirroredStrategy on 2 logical CPU devices (item 1's robust ratio)."""
    ratios = ratios_of(rounds, "mirrored-recorded", "mirrored-bare")
    bare_ms = median_of(rounds, lambda run: run["mirrored-bare"]["step_median_seconds"]) * 1e3
    rec_ms = median_of(rounds, lambda run: run["mirrored-recorded"]["step_median_seconds"]) * 1e3
    single_ms = median_of(rounds, lambda run: run["floor"]["step_median_seconds"]) * 1e3
    first = median_of(rounds, lambda run: run["mirrored-recorded"]["first_step_seconds"]
                      - run["mirrored-bare"]["first_step_seconds"])
    report.add("8", "capture overhead under MirroredStrategy (2 logical CPU devices): fit with recorder / bare fit "
               "(median of per-pair ratios)", statistics.median(ratios), "x", BUDGETS["mirrored_overhead"],
               f"{len(ratios)} interleaved pairs, ratios {listed(ratios)}; fit time as item 1's (first step + "
               f"median step x the others + the recorder's set-up and read-out): median step {rec_ms:.1f} ms vs "
               f"{bare_ms:.1f} ms ({rounds[0]['mirrored-bare']['replicas']} replicas; one device, bare: "
               f"{single_ms:.1f} ms); first step {first:+.2f} s; "
               f"{load_span(rounds, ('mirrored-bare', 'mirrored-recorded'))}")


def floor(report: Report, rounds: list[dict]) -> None:
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
    if item1 and all("recorded" in run for run in item1):
        diff = median_of(item1, lambda run: run["recorded"]["step_median_seconds"]
                         - run["bare"]["step_median_seconds"]) * 1e3
        detail += f", item 1's rounds {diff:+.2f} ms"
    before = [i for i, figure in enumerate(report.figures) if figure.item == "1"]
    report.figures.insert(before[-1] + 1 if before else len(report.figures),
                          Figure("8", "floor of the capture overhead: probes' forward pass / bare median step "
                                 "(median of runs)", statistics.median(shares), "x", None, detail))
