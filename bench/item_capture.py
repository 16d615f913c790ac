"""Item 1 (capture overhead) and the interleaved rounds that also feed items 2-6 with their site runs."""

from __future__ import annotations

import os
import statistics

from common import BUDGETS, listed, median_of, say
from report_table import Report
from runs import fit, site_run


def interleaved_rounds(report: Report, options) -> list[dict]:
    """Run the rounds: bare and recorded fits (order alternating), the extras, and a full site run in the first ones.

    Hand-written on purpose: the A/B runs of a round run back to back, each in a fresh process after
    the machine calmed down, so a loaded machine slows both sides of every ratio alike. Without item 1
    a round is one bare fit (item 3's reference) and a site run.
    """
    w, patience, item1 = report.workload, options.quiet_patience, 1 in options.items
    count = options.pairs if item1 else max(1, options.site_runs)
    rounds = []
    for r in range(count):
        say(f"{w.name}: round {r + 1}/{count}")
        order = (["bare", "recorded"][::1 if r % 2 == 0 else -1] + ["toggle"] * options.toggle
                 + ["naive"] * (r < options.naive_rounds)) if item1 else ["bare"]
        runs = {mode: fit(w, mode, options.steps, f"r{r}", patience_s=patience) for mode in order}
        if options.items & {2, 3, 4, 5, 6} and r < max(1, options.site_runs):
            runs["site"] = site_run(w, f"r{r}", options.steps, patience_s=patience)
        rounds.append(runs)
    report.raw["rounds"] = rounds
    return rounds


def ratios_of(rounds: list[dict], mode: str, base: str = "bare", key: str = "robust_fit_seconds") -> list[float]:
    """Return each round's ratio of `mode`'s `key` to `base`'s."""
    return [run[mode][key] / run[base][key] for run in rounds]


def load_span(rounds: list[dict], modes: tuple[str, str]) -> str:
    """Return the range of the load averages before and after the runs of `modes`."""
    loads = [x for run in rounds for m in modes for x in (run[m]["load_before"], run[m]["load_after"])]
    return f"load avg {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"


def capture_overhead(report: Report, rounds: list[dict], options) -> None:
    """Add item 1's figures: the A/B ratio, the in-run toggle, the callbacks' share and the naive baseline."""
    ratios, wall_ratios = ratios_of(rounds, "recorded"), ratios_of(rounds, "recorded", key="fit_seconds")
    bare = median_of(rounds, lambda run: run["bare"]["fit_seconds"])
    recorded = median_of(rounds, lambda run: run["recorded"]["fit_seconds"])
    step_bare = median_of(rounds, lambda run: run["bare"]["step_median_seconds"]) * 1e3
    step_rec = median_of(rounds, lambda run: run["recorded"]["step_median_seconds"]) * 1e3
    share = median_of(rounds, lambda run: run["recorded"]["recorder_seconds"] / run["recorded"]["fit_seconds"])
    per_step_ms = median_of(rounds, lambda run: run["recorded"]["recorder_seconds"] * 1e3
                            / run["recorded"]["snapshots"])
    report.add("1", "capture overhead: fit with recorder / bare fit (median of per-pair ratios)",
               statistics.median(ratios), "x", BUDGETS["capture_overhead"],
               f"{len(ratios)} interleaved pairs, ratios {listed(ratios)}; fit time taken as first step + median "
               f"step x the others + the recorder's set-up and read-out: median step {step_rec:.1f} ms vs "
               f"{step_bare:.1f} ms; {load_span(rounds, ('bare', 'recorded'))}")
    toggles = [run["toggle"] for run in rounds if "toggle" in run]
    if toggles:
        t_ratios = [t.get("toggle_paired_ratio") or t["toggle_ratio"] for t in toggles]
        report.add("1",
                   "capture overhead within one run: recorder on/off in alternating 5-step blocks (median of runs)",
                   statistics.median(t_ratios), "x", BUDGETS["capture_overhead"],
                   f"{len(t_ratios)} runs, ratios {listed(t_ratios)}; median step "
                   f"{statistics.median(t['toggle_median_on_ms'] for t in toggles):.1f} ms with vs "
                   f"{statistics.median(t['toggle_median_off_ms'] for t in toggles):.1f} ms without (the plain and "
                   f"the hooked compiled train step alternate); each run's figure = median over adjacent on/off "
                   f"block pairs of the ratio of their median steps, plus the recorder's set-up and read-out "
                   f"spread over {options.steps} steps")
    report.add("1", "same, from total `fit` seconds (sensitive to other load)", statistics.median(wall_ratios), "x",
               None, f"ratios {listed(wall_ratios)}; fit {recorded:.1f} s vs {bare:.1f} s "
               f"({options.steps} steps, medians)")
    report.add("1", "recorder's Python callbacks / recorded fit (in-process, median)", share, "x", None,
               f"{per_step_ms:.2f} ms per snapshot; the snapshots themselves are taken inside the compiled train "
               f"step, so their cost is in the step times above, not here")
    cost_split(report, rounds, options)
    naive_baseline(report, rounds, per_step_ms, statistics.median(ratios))


def cost_split(report: Report, rounds: list[dict], options) -> None:
    """Note where the recorder's time goes: tracing the first step, every other step, set-up and read-out."""
    def diff(key):
        return median_of(rounds, lambda run: run["recorded"][key] - run["bare"][key])

    first_diff, step_diff = diff("first_step_seconds"), diff("step_median_seconds")
    once = median_of(rounds, lambda run: run["recorded"]["recorder_begin_seconds"]
                     + run["recorded"]["recorder_end_seconds"])
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
    naive_ratios = ratios_of(naive_rounds, "naive")
    naive_fit = median_of(naive_rounds, lambda run: run["naive"]["fit_seconds"])
    naive_cb = median_of(naive_rounds, lambda run: run["naive"]["recorder_seconds"] / run["naive"]["snapshots"] * 1e3)
    report.add("1", "naive baseline: fit with predict() per layer per step / bare fit",
               statistics.median(naive_ratios), "x", None,
               f"{len(naive_ratios)} run(s); fit {naive_fit:.1f} s, {naive_rounds[0]['naive']['predict_calls']} "
               f"predict() calls, {naive_cb:.1f} ms per snapshot vs {per_step_ms:.2f} ms "
               f"({naive_cb / per_step_ms:.0f}x); overhead {statistics.median(naive_ratios) - 1:.2f} vs "
               f"{ratio - 1:.3f}")
