"""`make bench`: measure what the capture, render and site stages cost, against the issue's budgets.

    .venv/bin/python bench/run.py            # default: items 1-7 on the bundled workload (~20 min on 2 cores)
    .venv/bin/python bench/run.py --quick    # items 1 and 5 only (~10 min)
    .venv/bin/python bench/run.py --full     # everything, naive baseline in every round, scaling to 2,900
                                             # steps, and the 60k Fashion-MNIST workload when installed
    .venv/bin/python bench/run.py --items 2,4,5 --pairs 3 --site-runs 1 --scale-steps 290,1160 ...

Every measured run is a fresh process (bench/worker.py or generate.py); A and B runs are
interleaved and the figure is the median of the per-pair ratios, so a loaded machine slows both
sides of a ratio alike. Everything is written under bench/out/ (git-ignored), never build/ or
site/; the table is printed and written to bench/results.md (raw numbers in bench/out/results.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import shlex
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402
from procs import load_average, measure, wait_for_quiet  # noqa: E402
from site_weight import measure_site  # noqa: E402

OUT = HERE / "out"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
MB = 1e6  # sizes and memory in decimal megabytes: 15 MB = 15,000,000 bytes, 2 GB = 2,000 MB

BUDGETS = {
    "capture_overhead": 1.03, "render_frames_s": 10.0, "render_encode_s": 30.0, "render_peak_mb": 1500.0,
    "site_vs_fit": 1.25, "template_rebuild_s": 15.0, "site_total_mb": 15.0, "site_largest_mb": 10.0,
    "first_view_mb": 2.0, "site_peak_mb": 2000.0, "growth_exponent": 1.10,
}
QUIET_PATIENCE_S = 30.0  # before each fit, wait up to this long for other work on the machine to calm down
TREE_PARTS = ("generate.py", "Makefile", "requirements.txt", "model", "render", "report", "templates", "data")
VENV = ROOT / ".venv"
# Everything runs from a copy of the code taken when the bench starts (bench/out/code), so that
# commits landing during a long run cannot mix two versions into one table.
CODE = OUT / "code"


def copy_code(source: Path, target: Path, parts=TREE_PARTS + ("bench",)) -> None:
    """Copy the parts of the working tree a run needs (mtimes kept, caches and bench/out left out)."""
    for part in parts:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, target / part, copy_function=shutil.copy2,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "out"))
        elif origin.exists():
            shutil.copy2(origin, target / part)


def make_site_argv(build: str, site: str, flags: list[str]) -> list[str]:
    """Return the `make site` command line (setup already done) for these folders and generate.py flags."""
    arguments = ["--build-dir", build, "--site-dir", site, "--quiet", *flags]
    return ["make", "--no-print-directory", "-s", "site", f"PY={PY}", f"VENV={VENV}", f"ARGS={shlex.join(arguments)}"]


@dataclass
class Workload:
    """The data a run trains on, as flags for generate.py and the worker."""

    name: str
    args: list[str]
    description: str


WORKLOADS = {
    "bundled": Workload("bundled", ["--dataset", "bundled"], "bundled 10k MNIST subset (the default workload)"),
    "fashion": Workload("fashion", ["--dataset", "fashion", "--data-dir", str(FASHION_DIR)],
                        "Fashion-MNIST, 60k training images (dataset-fashion-mnist)"),
}


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
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return "not measured"
        if self.budget is None:
            return "info"
        ok = self.value >= self.budget if self.higher_is_better else self.value <= self.budget
        return "met" if ok else "OVER"

    def cells(self) -> list[str]:
        value = "-" if self.value is None else f"{fmt(self.value)} {self.unit}".strip()
        budget = "-" if self.budget is None else f"{'≥' if self.higher_is_better else '≤'} {fmt(self.budget)} {self.unit}"
        return [self.item, self.name, value, budget.strip(), self.status, self.detail]


@dataclass
class Report:
    """Everything measured for one workload."""

    workload: Workload
    figures: list[Figure] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.figures.append(Figure(*args, **kwargs))


def fmt(value: float) -> str:
    """Format a number with sensible precision."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) < 2 else f"{value:.2f}"


def say(message: str) -> None:
    """Progress on stderr, with the clock and the load average."""
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_average():.2f}] {message}", file=sys.stderr, flush=True)


def fresh(path: Path) -> Path:
    """Return an empty folder at `path` (removed first if it exists; only ever under bench/out)."""
    path = Path(path)
    assert OUT in path.resolve().parents, f"refusing to clear {path}: not under {OUT}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def checked(result: dict, what: str) -> dict:
    """Raise with the log's tail when a measured command failed."""
    if result["rc"] != 0:
        log = result.get("log")
        tail = Path(log).read_text(errors="replace")[-3000:] if log and Path(log).exists() else result["stdout"][-3000:]
        raise RuntimeError(f"{what} failed with status {result['rc']}:\n{tail}")
    return result


def run_logged(argv: list[str], log_name: str, workload: Workload, **kwargs) -> dict:
    """Measure a command with its stderr in bench/out/logs/<workload>-<log_name>.log."""
    log = OUT / "logs" / f"{workload.name}-{log_name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(argv)}\n")
    result = measure(argv, cwd=kwargs.pop("cwd", CODE), log=log, **kwargs)
    result["log"] = str(log)
    return checked(result, f"{' '.join(argv[1:4])} ({log})")


def fit(workload: Workload, mode: str, steps: int, tag: str, every: int = 1, save: Path | None = None,
        recorder: str = "project") -> dict:
    """One training run in a fresh worker process; returns the worker's JSON plus wall/CPU/memory."""
    argv = [PY, str(CODE / "bench" / "worker.py"), "fit", "--mode", mode, "--steps", str(steps), "--every", str(every)]
    argv += ["--recorder", recorder] if recorder != "project" else []
    argv += workload.args + (["--save", str(save)] if save else [])
    waited = wait_for_quiet(patience_s=QUIET_PATIENCE_S) if QUIET_PATIENCE_S > 0 else 0.0
    result = run_logged(argv, f"fit-{mode}{'-' + recorder if recorder != 'project' else ''}-{steps}-{tag}", workload)
    out = dict(result["json"])
    out.update({k: result[k] for k in ("wall_s", "cpu_s", "load_before", "load_after", "log", "foreign_cores")})
    out["waited_s"] = waited
    say(f"  {mode:8s} {steps} steps: fit {out['fit_seconds']:.1f} s (recorder callback {out['recorder_seconds']:.2f} s), "
        f"process {out['wall_s']:.1f} s, other load {out['foreign_cores']:.2f} cores (waited {waited:.0f} s for quiet)")
    return out


def site_run(workload: Workload, tag: str, steps: int) -> dict:
    """`make site` (its capture and site commands, after setup) from nothing, in fresh build and site folders."""
    base = fresh(OUT / workload.name / f"site-{tag}")
    build, site = base / "build", base / "site"
    argv = make_site_argv(str(build), str(site), ["--steps", str(steps), *workload.args])
    if QUIET_PATIENCE_S > 0:
        wait_for_quiet(patience_s=QUIET_PATIENCE_S)
    result = run_logged(argv, f"site-{tag}", workload, sample=True)
    result["build"], result["site"] = str(build), str(site)
    result["timings"] = read_json(build / "timings.json")
    say(f"  site run {tag}: {result['wall_s']:.1f} s wall, other load {result['foreign_cores']:.2f} cores, peak {result['maxrss_mb']:.0f} MiB (process), "
        f"{(result['tree_peak_mb'] or 0):.0f} MiB (tree, sampled)")
    return result


def render_run(workload: Workload, capture: Path, tag: str) -> dict:
    """The render stage alone on a capture, in a fresh process and a fresh build folder."""
    build = fresh(OUT / workload.name / f"render-{tag}")
    shutil.copy2(capture, build / "capture.npz")
    argv = [PY, str(CODE / "bench" / "worker.py"), "render", "--capture", str(build / "capture.npz"), "--build-dir",
            str(build)]
    result = run_logged(argv, f"render-{tag}", workload, sample=True, interval_s=0.05)
    out = dict(result["json"])
    out.update({k: result[k] for k in ("wall_s", "cpu_s", "maxrss_mb", "tree_peak_mb", "load_before", "load_after")})
    out["worker_maxrss_mb"] = result["json"]["maxrss_mb"]
    out["assets_bytes"] = sum(p.stat().st_size for p in (build / "assets").rglob("*") if p.is_file()) \
        if (build / "assets").exists() else None
    say(f"  render {tag}: {out['render_seconds']:.1f} s, peak {out['maxrss_mb']:.0f} MiB (process), "
        f"{(out['tree_peak_mb'] or 0):.0f} MiB (tree)")
    return out


def read_json(path: Path) -> dict:
    """Return a JSON file's content, or {} if absent or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def mib_to_mb(mib: float | None) -> float | None:
    """ru_maxrss and /proc report KiB-based units: convert MiB to decimal MB."""
    return None if mib is None else mib * 2**20 / MB


# ------------------------------------------------------------------------------------------------ items 1 and 3


def item_1_and_3(report: Report, options) -> None:
    """Interleaved rounds: bare and recorded fits (order alternating), the naive baseline, a full site run."""
    w = report.workload
    rounds = []
    count = options.pairs if 1 in options.items else max(1, options.site_runs)
    with_site = bool(options.items & {2, 3, 4, 5, 6})
    for r in range(count):
        say(f"{w.name}: round {r + 1}/{count}")
        if 1 in options.items:
            order = ["bare", "recorded"] if r % 2 == 0 else ["recorded", "bare"]
            if options.toggle:
                order.append("toggle")
            if options.prototype:
                order.insert(1 + r % 2, "prototype")
            if r < options.naive_rounds:
                order.append("naive")
        else:
            order = ["bare"]
        runs = {}
        for mode in order:
            if mode == "toggle":
                runs[mode] = fit(w, "toggle", options.steps, f"r{r}")
            elif mode == "prototype":
                runs[mode] = fit(w, "recorded", options.steps, f"r{r}", recorder=options.prototype,
                                 save=OUT / w.name / "prototype-r0.npz" if r == 0 else None)
            elif mode == "recorded" and options.prototype and r == 0:
                runs[mode] = fit(w, mode, options.steps, f"r{r}", save=OUT / w.name / "recorded-r0.npz")
            else:
                runs[mode] = fit(w, mode, options.steps, f"r{r}")
        if with_site and r < max(1, options.site_runs):
            runs["site"] = site_run(w, f"r{r}", options.steps)
        rounds.append(runs)
    report.raw["rounds"] = rounds
    if 1 in options.items:
        ratios = [run["recorded"]["robust_fit_seconds"] / run["bare"]["robust_fit_seconds"] for run in rounds]
        wall_ratios = [run["recorded"]["fit_seconds"] / run["bare"]["fit_seconds"] for run in rounds]
        bare = statistics.median(run["bare"]["fit_seconds"] for run in rounds)
        recorded = statistics.median(run["recorded"]["fit_seconds"] for run in rounds)
        step_bare = statistics.median(run["bare"]["step_median_seconds"] for run in rounds) * 1e3
        step_rec = statistics.median(run["recorded"]["step_median_seconds"] for run in rounds) * 1e3
        share = statistics.median(run["recorded"]["recorder_seconds"] / run["recorded"]["fit_seconds"] for run in rounds)
        per_step_ms = statistics.median(run["recorded"]["recorder_seconds"] / run["recorded"]["snapshots"] * 1e3
                                        for run in rounds)
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
            report.add("1", "capture overhead within one run: recorder on/off in alternating 5-step blocks (median of runs)",
                       statistics.median(t_ratios), "x", BUDGETS["capture_overhead"],
                       f"{len(t_ratios)} runs, ratios {', '.join(f'{x:.3f}' for x in t_ratios)}; median step "
                       f"{statistics.median(t['toggle_median_on_ms'] for t in toggles):.1f} ms with vs "
                       f"{statistics.median(t['toggle_median_off_ms'] for t in toggles):.1f} ms without "
                       f"({'the plain and the hooked compiled train step alternate' if toggles[0].get('toggle_in_graph') else 'snapshots in every other block'}); "
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
            p_ratios = [run["prototype"]["robust_fit_seconds"] / run["bare"]["robust_fit_seconds"] for run in rounds]
            p_steps = statistics.median(run["prototype"]["step_median_seconds"] for run in rounds) * 1e3
            p_first = statistics.median(run["prototype"]["first_step_seconds"] for run in rounds)
            r_first = statistics.median(run["recorded"]["first_step_seconds"] for run in rounds)
            b_first = statistics.median(run["bare"]["first_step_seconds"] for run in rounds)
            report.add("1", f"PROTOTYPE recorder `{options.prototype}` (bench/recorder_{options.prototype}.py) / bare fit",
                       statistics.median(p_ratios), "x", BUDGETS["capture_overhead"],
                       f"ratios {', '.join(f'{x:.3f}' for x in p_ratios)}; median step {p_steps:.1f} ms vs "
                       f"{step_rec:.1f} ms (project's recorder) and {step_bare:.1f} ms (bare); first step "
                       f"{p_first:.2f} s vs {r_first:.2f} s and {b_first:.2f} s; snapshots identical to the "
                       f"project's: {archives_equal(OUT / w.name / 'recorded-r0.npz', OUT / w.name / 'prototype-r0.npz')}")
        first_diff = statistics.median(run["recorded"]["first_step_seconds"] - run["bare"]["first_step_seconds"]
                                       for run in rounds)
        step_diff = statistics.median(run["recorded"]["step_median_seconds"] - run["bare"]["step_median_seconds"]
                                      for run in rounds)
        once = statistics.median(run["recorded"]["recorder_begin_seconds"] + run["recorded"].get("recorder_end_seconds", 0)
                                 for run in rounds)
        bare_robust = statistics.median(run["bare"]["robust_fit_seconds"] for run in rounds)
        report.notes.append(
            f"Item 1, where the recorder's time goes (medians over the rounds, share of the bare fit of "
            f"{bare_robust:.1f} s): first step, i.e. tracing the hooked train step, {first_diff:+.2f} s "
            f"({first_diff / bare_robust:+.1%}); every other step {step_diff * 1e3:+.2f} ms x {options.steps - 1} = "
            f"{step_diff * (options.steps - 1):+.2f} s ({step_diff * (options.steps - 1) / bare_robust:+.1%}); "
            f"set-up before the first step and read-out after the last {once:.2f} s ({once / bare_robust:.1%}).")
        naive_rounds = [run for run in rounds if "naive" in run]
        if naive_rounds:
            naive_ratios = [run["naive"]["robust_fit_seconds"] / run["bare"]["robust_fit_seconds"] for run in naive_rounds]
            naive_fit = statistics.median(run["naive"]["fit_seconds"] for run in naive_rounds)
            naive_cb = statistics.median(run["naive"]["recorder_seconds"] / run["naive"]["snapshots"] * 1e3
                                         for run in naive_rounds)
            calls = naive_rounds[0]["naive"]["predict_calls"]
            report.add("1", "naive baseline: fit with predict() per layer per step / bare fit",
                       statistics.median(naive_ratios), "x", None,
                       f"{len(naive_ratios)} run(s); fit {naive_fit:.1f} s, {calls} predict() calls, "
                       f"{naive_cb:.1f} ms per snapshot vs {per_step_ms:.2f} ms ({naive_cb / per_step_ms:.0f}x); "
                       f"overhead {statistics.median(naive_ratios) - 1:.2f} vs {statistics.median(ratios) - 1:.3f}")
    sites = [run for run in rounds if "site" in run]
    if sites:
        site_ratios = [run["site"]["wall_s"] / run["bare"]["fit_seconds"] for run in sites]
        walls = [run["site"]["wall_s"] for run in sites]
        parts = site_parts(sites[0]["site"], sites[0]["bare"])
        report.raw["site_parts"] = parts
        report.add("3", "`make site` (from nothing) wall / bare fit of the same run", statistics.median(site_ratios),
                   "x", BUDGETS["site_vs_fit"],
                   f"{len(sites)} run(s), site {statistics.median(walls):.1f} s vs bare fit "
                   f"{statistics.median(run['bare']['fit_seconds'] for run in sites):.1f} s; "
                   f"ratios {', '.join(f'{x:.3f}' for x in site_ratios)}; run 1: "
                   + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()))
        report.raw["site_runs"] = [run["site"] for run in sites]
        ratio = statistics.median(site_ratios)
        bare_fit = parts.get("bare fit")
        if ratio > BUDGETS["site_vs_fit"] and bare_fit and "render" in parts:
            wall = sites[0]["site"]["wall_s"]
            fixed = sum(v for k, v in parts.items() if k.startswith(("capture outside", "site", "rest")))
            report.notes.append(
                f"Item 3 (run 1): without the render stage the run would take {(wall - parts['render']) / bare_fit:.2f}x "
                f"the bare fit; the parts that neither record nor render (start-up and exit, data, final test, "
                f"saves, site) take {fixed:.1f} s = {fixed / bare_fit:.2f} of the bare fit of {bare_fit:.1f} s, so "
                f"the render stage ({parts['render']:.1f} s) would have to fit in "
                f"{max(0.0, (BUDGETS['site_vs_fit'] - 1) * bare_fit - fixed - parts.get('recorder + test evaluation (fit beyond bare)', 0)):.1f} s.")
        for i, run in enumerate(sites, 1):
            rest = site_parts(run["site"], run["bare"]).get("rest (start-up, TF import, loading, exit)", 0.0)
            if rest > 6:
                report.notes.append(
                    f"Item 3 run {i}: {rest:.1f} s outside the stages' own timings (start-up with the TensorFlow import "
                    f"is about 3 s): typically the stall when the fit's tf.data iterator is freed with autotuning on "
                    f"(reproduce: bench/tfdata_stall.py).")


def site_parts(site: dict, bare: dict) -> dict[str, float]:
    """Split a site run's wall time using the stages' timings.json and the bare fit of the same round."""
    timings = site.get("timings", {})
    capture, render, page = timings.get("capture", {}), timings.get("render", {}), timings.get("site", {})
    parts = {}
    if "fit_seconds" in capture:
        parts["bare fit"] = bare["fit_seconds"]
        parts["recorder + test evaluation (fit beyond bare)"] = capture["fit_seconds"] - bare["fit_seconds"]
    if "total_seconds" in capture and "fit_seconds" in capture:
        parts["capture outside fit (data, final test, saves)"] = capture["total_seconds"] - capture["fit_seconds"]
    if "total_seconds" in render:
        parts["render"] = render["total_seconds"]
    if "build_seconds" in page:
        parts["site"] = page["build_seconds"]
    known = sum(stage_total(block) or 0.0 for block in (capture, render, page))
    parts["rest (start-up, TF import, loading, exit)"] = site["wall_s"] - known
    return parts


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


def stage_total(numbers) -> float | None:
    """Return a stage's total seconds from its timings.json block."""
    if not isinstance(numbers, dict):
        return None
    if isinstance(numbers.get("total_seconds"), (int, float)):
        return float(numbers["total_seconds"])
    for key, value in numbers.items():
        if key.endswith("seconds") and isinstance(value, (int, float)) and "fit" not in key:
            return float(value)
    return None


# ------------------------------------------------------------------------------------------------ item 2


def render_parts(result: dict) -> dict:
    """Split the render stage's time into composition and each format's encoding (bench/worker.py's probe)."""
    probe = result["probe_seconds"]
    layers = {k: v for k, v in (result.get("layer_timings") or {}).items() if isinstance(v, dict)}
    video = sum(v.get("video_s", 0.0) for v in layers.values())
    gif = sum(v.get("gif_s", 0.0) for v in layers.values())
    curves = (result.get("layer_timings") or {}).get("curves_s")
    posters = probe["png"]
    parts = {
        "compose": probe["compose_video"],  # all frames of all layers at full size, for the videos
        # the video phase minus composition and the poster PNG: yuv conversion, piping, waiting for ffmpeg
        "mp4": max(0.0, video - probe["compose_video"] - posters) if layers else None,
        "gif": max(0.0, gif - probe["compose_gif"]) if layers else None,  # LZW + the size search, composition excluded
        "gif_compose": probe["compose_gif"],
        "png": posters,  # posters and colour bars
        "curves": curves,
        "yuv": probe["yuv"],
    }
    if "webm" in result.get("formats", []):
        parts["mp4+webm"] = parts.pop("mp4")
    return parts


def item_2(report: Report, capture: Path, options) -> dict:
    """Render stage alone on the run's capture: composition, encodings, peak memory."""
    w = report.workload
    say(f"{w.name}: render stage alone (item 2)")
    result = render_run(w, capture, f"{options.steps}")
    report.raw["render"] = result
    parts = render_parts(result)
    report.raw["render_parts"] = parts
    n = result["frames"]
    threads = result.get("layer_workers") or 1
    summed = f"summed over the stage's {threads} layer threads" if threads > 1 else "one thread"
    report.add("2", f"render: compose all frames of all {result['layers']} layers", parts["compose"], "s",
               BUDGETS["render_frames_s"], f"{n} frames per layer, {result['probe_frames']['video']} in all, "
               f"at full size; {summed} (the GIF search composed {result['probe_frames']['gif']} more, "
               f"{parts['gif_compose']:.1f} s)")
    encodes = {k: parts[k] for k in ("mp4", "mp4+webm", "gif", "png", "curves") if parts.get(k) is not None}
    report.add("2", "render: all encodings", sum(encodes.values()) if encodes else None, "s", BUDGETS["render_encode_s"],
               ", ".join(f"{k} {v:.1f} s" for k, v in encodes.items())
               + f" ({summed}; mp4 = the video phase less composition: yuv conversion {parts['yuv']:.1f} s, piping "
               f"and waiting for ffmpeg, which used {result['ffmpeg_cpu_seconds']:.1f} CPU s beside it); "
               f"the whole stage took {result['render_seconds']:.1f} s wall via {result['entry']}, "
               f"process {result['wall_s']:.1f} s")
    peak = max(x for x in (mib_to_mb(result["maxrss_mb"]), mib_to_mb(result["tree_peak_mb"])) if x is not None)
    report.add("2", "render: peak memory of the stage", peak, "MB", BUDGETS["render_peak_mb"],
               f"render process peak {mib_to_mb(result['worker_maxrss_mb']):.0f} MB (capture loaded: "
               f"{mib_to_mb(result['after_load_rss_mb']):.0f} MB), largest ffmpeg child "
               f"{mib_to_mb(result['children_maxrss_mb']):.0f} MB, process tree, summed PSS (sampled every 50 ms) "
               f"{mib_to_mb(result['tree_peak_mb'] or 0):.0f} MB"
               + ("; TensorFlow was imported" if result["tensorflow_imported"] else "; no TensorFlow in the process"))
    return result


# ------------------------------------------------------------------------------------------------ item 4


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Return {relative path: (mtime_ns, sha256)} for every file under `folder`."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder))] = (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def item_4(report: Report, site_result: dict, steps: int) -> None:
    """Copy the code and a finished build into bench/out, edit a template copy, rebuild, and check what was redone."""
    w = report.workload
    say(f"{w.name}: template-only rebuild (item 4)")
    tree = fresh(OUT / w.name / "tree")
    copy_code(CODE, tree, TREE_PARTS)
    shutil.copytree(site_result["build"], tree / "build", copy_function=shutil.copy2)
    shutil.copytree(site_result["site"], tree / "site", copy_function=shutil.copy2)
    argv = make_site_argv("build", "site", ["--steps", str(steps), *w.args])

    before = snapshot(tree / "build")
    unchanged = run_logged(argv, "rebuild-unchanged", w, cwd=tree, sample=True)
    after_unchanged = snapshot(tree / "build")

    template = tree / "templates" / "article.html.j2"
    marker = f"<!-- bench: template edited {time.time():.0f} -->"
    template.write_text(template.read_text() + "\n" + marker + "\n")
    edited = run_logged(argv, "rebuild-template", w, cwd=tree, sample=True)
    after_edit = snapshot(tree / "build")

    def redone(old, new):
        return sorted(k for k in new if k not in old or old[k][0] != new[k][0])

    def changed(old, new):
        return sorted(k for k in new if k not in old or old[k][1] != new[k][1])

    heavy = lambda names: [n for n in names if n != "timings.json" and not n.endswith(".json")]  # noqa: E731
    rewritten = heavy(redone(after_unchanged, after_edit))
    log_text = Path(edited["log"]).read_text(errors="replace")
    reused = "reusing" in log_text
    page = (tree / "site" / "index.html").read_text(errors="replace") if (tree / "site" / "index.html").exists() else ""
    visible = marker in page
    first_redone = heavy(redone(before, after_unchanged))
    checks = [f"capture reused: {'yes' if reused and 'capture.npz' not in rewritten else 'NO'}",
              f"heavy files rewritten: {', '.join(rewritten) if rewritten else 'none'}",
              f"edit reached site/index.html: {'yes' if visible else 'NO'}"]
    report.raw["rebuild"] = {"unchanged_wall_s": unchanged["wall_s"], "edited_wall_s": edited["wall_s"],
                             "rewritten_after_edit": redone(after_unchanged, after_edit),
                             "content_changed_after_edit": changed(after_unchanged, after_edit),
                             "rewritten_without_edit": redone(before, after_unchanged), "capture_reused": reused,
                             "edit_visible": visible, "timings": read_json(tree / "build" / "timings.json")}
    if first_redone:
        checks.append(f"the rebuild with nothing edited rewrote {', '.join(first_redone[:6])}")
    ok = reused and not rewritten and visible and not first_redone
    report.add("4", "rebuild after editing only a template", edited["wall_s"], "s", BUDGETS["template_rebuild_s"],
               "; ".join(checks) + f"; rebuild with nothing edited {unchanged['wall_s']:.1f} s"
               + ("" if ok else " — CHECK FAILED"))
    if not ok:
        report.notes.append("Item 4: the template-only rebuild redid work it should not have: " + "; ".join(checks))


# ------------------------------------------------------------------------------------------------ items 5 and 6


def item_5(report: Report, site: Path) -> None:
    """Site weight of the built article."""
    weight = measure_site(site)
    report.raw["site_weight"] = weight
    kinds = ", ".join(f"{k} {v / MB:.2f}" for k, v in sorted(weight["first_view_by_kind"].items()))
    report.add("5", "site weight: whole site", weight["total_bytes"] / MB, "MB", BUDGETS["site_total_mb"],
               f"{weight['files']} files")
    report.add("5", "site weight: largest file", weight["largest_bytes"] / MB, "MB", BUDGETS["site_largest_mb"],
               str(weight["largest_file"]))
    report.add("5", "site weight: first view (before any interaction)", weight["first_view_bytes"] / MB, "MB",
               BUDGETS["first_view_mb"], f"{weight['first_view_files']} files: {kinds} MB; "
               f"{weight['deferred_refs']} lazy/preload=none references not counted"
               + (f"; MISSING: {', '.join(weight['missing_refs'][:5])}" if weight["missing_refs"] else "")
               + ("; site.js fetches at run time (not counted)" if weight["scripts_fetch_at_runtime"] else ""))


def item_6(report: Report) -> None:
    """Peak memory of the whole `make site` runs."""
    sites = report.raw.get("site_runs", [])
    if not sites:
        return
    process = max(mib_to_mb(s["maxrss_mb"]) for s in sites)
    tree = max(mib_to_mb(s["tree_peak_mb"] or 0) for s in sites)
    report.add("6", "peak memory of `make site`", max(process, tree), "MB", BUDGETS["site_peak_mb"],
               f"largest process (exact, wait4) {process:.0f} MB; whole process tree incl. ffmpeg, summed PSS "
               f"(sampled every 100 ms) {tree:.0f} MB; {len(sites)} run(s)")


# ------------------------------------------------------------------------------------------------ item 7


def exponent(n1: float, y1: float, n2: float, y2: float) -> float:
    """Return the log-log slope between two points: 1 = linear growth."""
    return math.log(y2 / y1) / math.log(n2 / n1)


def item_7(report: Report, options) -> None:
    """Capture and render cost and archive size for several run lengths."""
    w = report.workload
    points = []
    for steps in options.scale_steps:
        every = options.scale_every.get(steps, 1)
        say(f"{w.name}: scaling, {steps} steps, recording every {every}")
        folder = fresh(OUT / w.name / f"scale-{steps}")
        archive = folder / "capture.npz"
        capture = fit(w, "default", steps, f"scale{steps}", every=every, save=archive)
        point = {"steps": steps, "every": every, "snapshots": capture["snapshots"], "capture": capture}
        if 2 in options.items or options.render_scaling:
            point["render"] = render_run(w, archive, f"scale{steps}")
        points.append(point)
    report.raw["scaling"] = points
    rows = []
    for p in points:
        c = p["capture"]
        row = {"steps": p["steps"], "every": p["every"], "snapshots": p["snapshots"], "fit_s": c["fit_seconds"],
               "recorder_s": c["recorder_seconds"], "save_s": c["save_seconds"],
               "capture_s": c["fit_seconds"] + c["save_seconds"], "archive_mb": c["archive_bytes"] / MB,
               "capture_peak_mb": mib_to_mb(c["maxrss_mb"])}
        if "render" in p:
            row.update({"render_s": p["render"]["render_seconds"],
                        "render_peak_mb": max(mib_to_mb(p["render"]["maxrss_mb"]), mib_to_mb(p["render"]["tree_peak_mb"] or 0)),
                        "assets_mb": (p["render"]["assets_bytes"] or 0) / MB})
        rows.append(row)
    report.raw["scaling_rows"] = rows
    if len(rows) < 2:
        report.notes.append("Item 7 needs at least two run lengths (--scale-steps).")
        return
    first, last = rows[0], rows[-1]
    span = f"{first['steps']:,} -> {last['steps']:,} steps"
    for key, label in (("capture_s", "capture time (fit + save)"), ("archive_mb", "archive size"),
                       ("capture_peak_mb", "capture peak memory"), ("render_s", "render time"),
                       ("render_peak_mb", "render peak memory")):
        if key not in first or key not in last:
            continue
        x = "steps" if key == "capture_s" else "snapshots"
        b = exponent(first[x], first[key], last[x], last[key])
        values = ", ".join(f"{r[key]:.1f}" for r in rows)
        report.add("7", f"scaling: {label}, growth exponent", b, "",
                   None if key.endswith("peak_mb") else BUDGETS["growth_exponent"],
                   f"{span} ({x} {', '.join(str(r[x]) for r in rows)}): {values} "
                   f"{'MB' if key.endswith('mb') else 's'}; 1 = linear")
    for key, label in (("capture_peak_mb", "capture"), ("render_peak_mb", "render stage")):
        if key in first and key in last and last["snapshots"] > first["snapshots"]:
            slope = (last[key] - first[key]) / (last["snapshots"] - first["snapshots"]) * 100
            report.notes.append(
                f"Item 7, memory: the {label}'s peak grows by {slope:.0f} MB per 100 snapshots "
                f"({first[key]:.0f} MB at {first['snapshots']:,}, {last[key]:.0f} MB at {last['snapshots']:,}"
                + (f"; over the 2,000 MB `make site` budget from about "
                   f"{first['snapshots'] + (2000 - first[key]) / slope * 100:,.0f} snapshots"
                   if slope > 0 and last[key] > 2000 else "") + ").")
    report.notes.append("Item 7 growth exponent = log(cost ratio) / log(length ratio) between the shortest and the "
                        "longest run: 1.0 is linear; the budget allows 1.10 for timing noise. Per-run numbers are in "
                        "the scaling table below.")


# ------------------------------------------------------------------------------------------------ output


def table(figures: list[Figure]) -> list[str]:
    """Return a markdown table of figures."""
    lines = ["| # | figure | value | budget | status | measured beside it |", "|---|---|---|---|---|---|"]
    for f in figures:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in f.cells()) + " |")
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
        lines.append(f"| {r['steps']:,} | {r['every']} | {r['snapshots']:,} | {r['fit_s']:.1f} | {r['recorder_s']:.2f} | "
                     f"{r['save_s']:.1f} | {r['archive_mb']:.1f} | {r['capture_peak_mb']:.0f} | {tail} |")
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
        ratio = (f"{recorded['fit_seconds'] / bare['fit_seconds']:.3f}" if recorded and bare else "-")
        robust = (f"{recorded['robust_fit_seconds'] / bare['robust_fit_seconds']:.3f}" if recorded and bare else "-")
        cells = [str(i), " > ".join(run), cell(run, "bare", "{:.1f}", "fit_seconds"),
                 cell(run, "recorded", "{:.1f}", "fit_seconds"), ratio,
                 f"{cell(run, 'bare', '{:.1f}', 'step_median_seconds', 1e3)} / "
                 f"{cell(run, 'recorded', '{:.1f}', 'step_median_seconds', 1e3)}", robust,
                 cell(run, "toggle", "{:.3f}", "toggle_paired_ratio"), cell(run, "recorded", "{:.2f}", "recorder_seconds"),
                 cell(run, "naive", "{:.1f}", "fit_seconds"), cell(run, "site", "{:.1f}", "wall_s"),
                 f"{cell(run, 'bare', '{:.2f}', 'foreign_cores')} / {cell(run, 'recorded', '{:.2f}', 'foreign_cores')}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# Why a budget is over where it cannot be met on this machine (issue: report, never loosen silently).
WHY_OVER = {
    "3": ("After the bare fit, `make site` must still render 1,746 frames into six H.264 videos and six GIF "
          "previews (about 10 s here: x264 at preset veryfast for 582x1018 frames is most of it), start Python "
          "and TensorFlow twice and exit (3-10 s), load the data and evaluate the test set (2-3 s). On a 21 s "
          "bare fit the 1.25x budget leaves about 5 s for all of that. Rendering cannot overlap training: "
          "training already keeps both cores busy, and the snapshots are read once, at the end. Cut so far: "
          "test evaluation every 10 steps instead of 5 (it cost about 12% of the fit), two layers rendered at "
          "once, no TensorFlow import when the capture is reused."),
}


def write_results(reports: list[Report], options, machine_info: dict, started: float, path: Path) -> str:
    """Write bench/results.md and return the text."""
    lines = ["# Benchmark results", "",
             f"- date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
             f"- command: `{options.command}` ({(time.time() - started) / 60:.1f} min)",
             f"- code: {machine_info.get('code', 'unknown')}, copied to bench/out/code at the start and run from there",
             f"- machine: {machine_info['cores']} cores ({machine_info['cpu']}), {machine_info['memory_gb']} GiB memory, "
             f"{machine_info['system']}",
             f"- libraries: Python {machine_info['python']}, "
             + ", ".join(f"{k} {v}" for k, v in machine_info["versions"].items()) + f"; {machine_info['ffmpeg']}",
             f"- settings: {options.steps} steps of 1024, {options.pairs} interleaved pairs, naive baseline in "
             f"{min(options.naive_rounds, options.pairs)} round(s), {options.site_runs} site run(s), scaling at "
             f"{', '.join(f'{s:,}' for s in options.scale_steps)} steps",
             "- memory and sizes in decimal MB (1 MB = 1,000,000 bytes); every time is wall-clock; every ratio is "
             "taken between runs of the same round on the same machine.", ""]
    for report in reports:
        lines += [f"## {report.workload.description}", ""] + table(report.figures) + [""]
        if report.raw.get("rounds"):
            lines += ["Interleaved rounds (each run a fresh process):", ""] + rounds_table(report.raw["rounds"]) + [""]
        if report.raw.get("scaling_rows"):
            lines += ["Scaling (capture with the default callbacks incl. test evaluation, then the render stage alone):",
                      ""] + scaling_table(report.raw["scaling_rows"]) + [""]
        if report.notes:
            lines += [f"- {note}" for note in report.notes] + [""]
        explained = sorted({figure.item for figure in report.figures if figure.status == "OVER" and figure.item in WHY_OVER})
        lines += [f"- Over budget, item {item}: {WHY_OVER[item]}" for item in explained] + ([""] if explained else [])
    lines += ["## Method", "",
              "1. Capture overhead: `model.train.train` with `record=True` vs `record=False`, both with "
              "`evaluate_test=False` (so the denominator is the bare fit), each in a fresh process "
              "(bench/worker.py), order alternating per round, each started once the machine's other CPU use "
              "is low (it is recorded as 'other load'). The figure is the median of the per-round ratios of the "
              "fit time, taken as the first step (tracing) + the median step interval x the other steps + the "
              "recorder's set-up and read-out: a per-step cost is counted in full, while a burst of other work "
              "moves a median of 290 intervals far less than the total, whose ratio is shown beside it. "
              "Cross-check within one run (mode `toggle`): the project's recorder is installed, and every other "
              "block of 5 steps runs the plain compiled train step Keras built before the recorder hooked it; the "
              "ratio of the median steps of adjacent blocks, median over block pairs, plus set-up and read-out. "
              "The naive baseline adds bench/naive.py's callback to the bare fit: one "
              "`keras.Model(inputs, layer.output).predict(probes)` per conv layer after every step (sub-models "
              "built once, a charitable version of the original's method).",
              "2. Render: bench/worker.py loads the capture and calls `render_if_stale` on an empty build folder, "
              "after wrapping `render.stage.layer_frames`, `render.encode.to_yuv420p` and `render.stage.write_png` "
              "with timers: composition = time inside the frame generators; mp4 = the video phase (the stage's own "
              "per-layer timings) less composition and posters, i.e. yuv conversion, piping and waiting for "
              "ffmpeg; gif = the GIF phase less its own composition. With the stage's layer threads these are "
              "thread-seconds, summed (so they can exceed the stage's wall time). Peak memory is the larger of the "
              "process's exact peak (wait4) and the sampled sum of PSS over its process tree (ffmpeg included).",
              "0. Every run uses a copy of the code taken when the bench starts (bench/out/code), so commits made "
              "meanwhile do not mix into the table; `make site` runs with `PY` and `VENV` pointing at the "
              "project's .venv.",
              "3. `make site`: the Makefile target itself (its capture and site commands; setup already done) from empty build and site folders, "
              "wall-clock including Python and TensorFlow start-up and exit, divided by the bare fit of the same "
              "round; the split uses the stages' timings.json.",
              "4. Template rebuild: the code (bench/out/code) is copied again to bench/out/<workload>/tree with the "
              "build and site of a site run; templates/article.html.j2 (the copy) gets a comment appended and "
              "`make site` is timed there; file mtimes and hashes show what was redone.",
              "5. Site weight: all files under the site folder; first view = index.html plus its stylesheets (and "
              "their url()s), scripts, non-lazy <img>, every poster, and the first source of media without "
              "preload=\"none\" (bench/site_weight.py).",
              "6. Peak memory of `make site`: the site runs of item 3, measured as in item 2.",
              "7. Scaling: bench/worker.py trains with the default callbacks and saves the archive (timed), then the "
              "render stage runs alone on it; growth exponent = log(cost ratio) / log(length ratio).", ""]
    text = "\n".join(lines)
    path.write_text(text)
    return text


# ------------------------------------------------------------------------------------------------ main


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="items 1 and 5 only (3 pairs, 1 naive run, 1 site run)")
    level.add_argument("--full", action="store_true", help="all items, naive in every round, scaling to 2,900 "
                                                           "steps, and the Fashion-MNIST 60k workload if installed")
    parser.add_argument("--items", help="comma-separated item numbers (default: all)")
    parser.add_argument("--workloads", help="comma-separated: bundled, fashion")
    parser.add_argument("--steps", type=int, default=290, help="training steps of items 1-6 (default 290)")
    parser.add_argument("--pairs", type=int, help="interleaved A/B rounds (default 5; --quick 3; minimum 3 for item 1)")
    parser.add_argument("--naive-rounds", type=int, help="rounds that also run the naive baseline (default 1; --full: all)")
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
    everything = {1, 2, 3, 4, 5, 6, 7}
    if options.items:
        options.items = {int(x) for x in options.items.split(",")}
    else:
        options.items = {1, 5} if options.quick else everything
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
    options.render_scaling = True
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
    return options


def needs_site(items: set[int]) -> bool:
    return bool(items & {2, 3, 4, 5, 6})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    options = parse(argv)
    global QUIET_PATIENCE_S
    QUIET_PATIENCE_S = options.quiet_patience
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
        # Item 7 runs on the default workload only unless asked for explicitly.
        items = set(options.items) - ({7} if name != "bundled" and options.workloads[0] != name else set())
        local = argparse.Namespace(**{**vars(options), "items": items})
        try:
            if items & {1, 2, 3, 4, 5, 6}:
                item_1_and_3(report, local)
            site_runs = report.raw.get("site_runs", [])
            if site_runs:
                first = site_runs[0]
                if 2 in items:
                    item_2(report, Path(first["build"]) / "capture.npz", local)
                if 4 in items:
                    item_4(report, first, options.steps)
                if 5 in items:
                    item_5(report, Path(first["site"]))
                if 6 in items:
                    item_6(report)
            if 7 in items:
                item_7(report, local)
        except Exception as error:  # report what was measured, then fail loudly
            report.notes.append(f"ABORTED: {type(error).__name__}: {str(error)[-1500:]}")
            say(f"{name}: aborted: {error}")
        (OUT / "results.json").write_text(json.dumps(
            {"machine": machine_info, "reports": {r.workload.name: {"figures": [vars(f) for f in r.figures],
                                                                    "raw": r.raw, "notes": r.notes} for r in reports}},
            indent=1, default=str))
        text = write_results(reports, options, machine_info, started, Path(options.results))
    print(text)
    over = [f for r in reports for f in r.figures if f.status == "OVER"]
    aborted = any(note.startswith("ABORTED") for r in reports for note in r.notes)
    say(f"done in {(time.time() - started) / 60:.1f} min; {len(over)} figure(s) over budget"
        + ("; some parts ABORTED" if aborted else ""))
    return 1 if aborted else 0


if __name__ == "__main__":
    sys.exit(main())
