"""Item 1 (capture overhead) and the interleaved rounds that also feed items 2-6 with their site runs."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from common import BUDGETS, OUT, say
from report_table import Report
from runs import fit, site_run


def round_order(r: int, options) -> list[str]:
    """Return the fits of round `r`: bare and recorded alternating first, then the extras this run asks for."""
    if 1 not in options.items:
        return ["bare"]
    order = ["bare", "recorded"] if r % 2 == 0 else ["recorded", "bare"]
    if options.toggle:
        order.append("toggle")
    if options.prototype:
        order.insert(1 + r % 2, "prototype")
    if r < options.naive_rounds:
        order.append("naive")
    return order


def interleaved_rounds(report: Report, options) -> list[dict]:
    """Run the rounds: bare and recorded fits (order alternating), the extras, and a full site run in the first ones.

    Hand-written on purpose: the A/B runs of a round run back to back, each in a fresh process after
    the machine calmed down, so a loaded machine slows both sides of every ratio alike.
    """
    w, patience = report.workload, options.quiet_patience
    count = options.pairs if 1 in options.items else max(1, options.site_runs)
    with_site = bool(options.items & {2, 3, 4, 5, 6})
    rounds = []
    for r in range(count):
        say(f"{w.name}: round {r + 1}/{count}")
        runs = {}
        for mode in round_order(r, options):
            if mode == "prototype":
                runs[mode] = fit(w, "recorded", options.steps, f"r{r}", patience_s=patience,
                                 recorder=options.prototype, save=OUT / w.name / "prototype-r0.npz" if r == 0 else None)
            elif mode == "recorded" and options.prototype and r == 0:
                runs[mode] = fit(w, mode, options.steps, f"r{r}", patience_s=patience,
                                 save=OUT / w.name / "recorded-r0.npz")
            else:
                runs[mode] = fit(w, mode, options.steps, f"r{r}", patience_s=patience)
        if with_site and r < max(1, options.site_runs):
            runs["site"] = site_run(w, f"r{r}", options.steps, patience_s=patience)
        rounds.append(runs)
    report.raw["rounds"] = rounds
    return rounds


def median_of(rounds: list[dict], key) -> float:
    """Return the median over the rounds of `key(run)`."""
    return statistics.median(key(run) for run in rounds)


def capture_overhead(report: Report, rounds: list[dict], options) -> None:
    """Add item 1's figures: the A/B ratio, the in-run toggle, the callbacks' share, prototype and naive baseline."""
    ratios = [run["recorded"]["robust_fit_seconds"] / run["bare"]["robust_fit_seconds"] for run in rounds]
    wall_ratios = [run["recorded"]["fit_seconds"] / run["bare"]["fit_seconds"] for run in rounds]
    bare = median_of(rounds, lambda run: run["bare"]["fit_seconds"])
    recorded = median_of(rounds, lambda run: run["recorded"]["fit_seconds"])
    step_bare = median_of(rounds, lambda run: run["bare"]["step_median_seconds"]) * 1e3
    step_rec = median_of(rounds, lambda run: run["recorded"]["step_median_seconds"]) * 1e3
    share = median_of(rounds, lambda run: run["recorded"]["recorder_seconds"] / run["recorded"]["fit_seconds"])
    per_step_ms = median_of(rounds, lambda run: run["recorded"]["recorder_seconds"] * 1e3
                            / run["recorded"]["snapshots"])
    loads = [x for run in rounds for m in ("bare", "recorded") for x in (run[m]["load_before"], run[m]["load_after"])]
    report.add("1", "capture overhead: fit with recorder / bare fit (median of per-pair ratios)",
               statistics.median(ratios), "x", BUDGETS["capture_overhead"],
               f"{len(ratios)} interleaved pairs, ratios {', '.join(f'{x:.3f}' for x in ratios)}; fit time taken as "
               f"first step + median step x the others + the recorder's set-up and read-out: median step "
               f"{step_rec:.1f} ms vs {step_bare:.1f} ms; "
               f"load avg {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")
    toggles = [run["toggle"] for run in rounds if "toggle" in run]
    if toggles:
        t_ratios = [t.get("toggle_paired_ratio") or t["toggle_ratio"] for t in toggles]
        how = ("the plain and the hooked compiled train step alternate" if toggles[0].get("toggle_in_graph")
               else "snapshots in every other block")
        report.add("1",
                   "capture overhead within one run: recorder on/off in alternating 5-step blocks (median of runs)",
                   statistics.median(t_ratios), "x", BUDGETS["capture_overhead"],
                   f"{len(t_ratios)} runs, ratios {', '.join(f'{x:.3f}' for x in t_ratios)}; median step "
                   f"{statistics.median(t['toggle_median_on_ms'] for t in toggles):.1f} ms with vs "
                   f"{statistics.median(t['toggle_median_off_ms'] for t in toggles):.1f} ms without ({how}); "
                   f"each run's figure = median over adjacent on/off block pairs of the ratio of their median "
                   f"steps, plus the recorder's set-up and read-out spread over {options.steps} steps")
    report.add("1", "same, from total `fit` seconds (sensitive to other load)", statistics.median(wall_ratios), "x",
               None, f"ratios {', '.join(f'{x:.3f}' for x in wall_ratios)}; fit {recorded:.1f} s vs {bare:.1f} s "
               f"({options.steps} steps, medians)")
    in_graph = rounds[0].get("toggle", {}).get("toggle_in_graph")
    report.add("1", "recorder's Python callbacks / recorded fit (in-process, median)", share, "x", None,
               f"{per_step_ms:.2f} ms per snapshot"
               + ("; the snapshots themselves are taken inside the compiled train step, so their cost is in "
                  "the step times above, not here" if in_graph else ""))
    if options.prototype:
        prototype(report, rounds, options, step_bare, step_rec)
    cost_split(report, rounds, options)
    naive_baseline(report, rounds, per_step_ms, statistics.median(ratios))


def prototype(report: Report, rounds: list[dict], options, step_bare: float, step_rec: float) -> None:
    """Add the figure of bench/recorder_<name>.py's prototype recorder against the bare fit."""
    w = report.workload
    p_ratios = [run["prototype"]["robust_fit_seconds"] / run["bare"]["robust_fit_seconds"] for run in rounds]
    p_steps = median_of(rounds, lambda run: run["prototype"]["step_median_seconds"]) * 1e3
    p_first = median_of(rounds, lambda run: run["prototype"]["first_step_seconds"])
    r_first = median_of(rounds, lambda run: run["recorded"]["first_step_seconds"])
    b_first = median_of(rounds, lambda run: run["bare"]["first_step_seconds"])
    same = archives_equal(OUT / w.name / "recorded-r0.npz", OUT / w.name / "prototype-r0.npz")
    report.add("1", f"PROTOTYPE recorder `{options.prototype}` (bench/recorder_{options.prototype}.py) / bare fit",
               statistics.median(p_ratios), "x", BUDGETS["capture_overhead"],
               f"ratios {', '.join(f'{x:.3f}' for x in p_ratios)}; median step {p_steps:.1f} ms vs "
               f"{step_rec:.1f} ms (project's recorder) and {step_bare:.1f} ms (bare); first step "
               f"{p_first:.2f} s vs {r_first:.2f} s and {b_first:.2f} s; snapshots identical to the "
               f"project's: {same}")


def cost_split(report: Report, rounds: list[dict], options) -> None:
    """Note where the recorder's time goes: tracing the first step, every other step, set-up and read-out."""
    first_diff = median_of(rounds, lambda run: run["recorded"]["first_step_seconds"]
                           - run["bare"]["first_step_seconds"])
    step_diff = median_of(rounds, lambda run: run["recorded"]["step_median_seconds"]
                          - run["bare"]["step_median_seconds"])
    once = median_of(rounds, lambda run: run["recorded"]["recorder_begin_seconds"]
                     + run["recorded"].get("recorder_end_seconds", 0))
    bare_robust = median_of(rounds, lambda run: run["bare"]["robust_fit_seconds"])
    later = step_diff * (options.steps - 1)
    report.notes.append(
        f"Item 1, where the recorder's time goes (medians over the rounds, share of the bare fit of "
        f"{bare_robust:.1f} s): first step, i.e. tracing the hooked train step, {first_diff:+.2f} s "
        f"({first_diff / bare_robust:+.1%}); every other step {step_diff * 1e3:+.2f} ms x {options.steps - 1} = "
        f"{later:+.2f} s ({later / bare_robust:+.1%}); "
        f"set-up before the first step and read-out after the last {once:.2f} s ({once / bare_robust:.1%}).")


def naive_baseline(report: Report, rounds: list[dict], per_step_ms: float, ratio: float) -> None:
    """Add the naive baseline's figure (predict() per layer per step) where a round ran it."""
    naive_rounds = [run for run in rounds if "naive" in run]
    if not naive_rounds:
        return
    naive_ratios = [run["naive"]["robust_fit_seconds"] / run["bare"]["robust_fit_seconds"] for run in naive_rounds]
    naive_fit = median_of(naive_rounds, lambda run: run["naive"]["fit_seconds"])
    naive_cb = median_of(naive_rounds, lambda run: run["naive"]["recorder_seconds"] / run["naive"]["snapshots"] * 1e3)
    calls = naive_rounds[0]["naive"]["predict_calls"]
    report.add("1", "naive baseline: fit with predict() per layer per step / bare fit",
               statistics.median(naive_ratios), "x", None,
               f"{len(naive_ratios)} run(s); fit {naive_fit:.1f} s, {calls} predict() calls, "
               f"{naive_cb:.1f} ms per snapshot vs {per_step_ms:.2f} ms ({naive_cb / per_step_ms:.0f}x); "
               f"overhead {statistics.median(naive_ratios) - 1:.2f} vs {ratio - 1:.3f}")


def archives_equal(a: Path, b: Path) -> str:
    """Return whether two capture archives hold the same steps and activation bits."""
    import numpy as np

    if not (a.exists() and b.exists()):
        return "not compared"
    with np.load(a) as first, np.load(b) as second:
        names = [str(n) for n in first["layer_names"]]
        same = np.array_equal(first["steps"], second["steps"]) and all(
            np.array_equal(first[n].view(np.uint16), second[n].view(np.uint16)) for n in names)
    return "yes" if same else "NO"
