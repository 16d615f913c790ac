"""The stall when the training pipeline's tf.data iterator is freed: before the fix (autotune on) and as shipped.

    .venv/bin/python bench/tfdata_stall.py [--runs 10] [--steps 290]

Each run is a fresh process: a bare `model.train.train` (no recorder, no test evaluation), then an
explicit `gc.collect()`, timed, then the process's exit, timed from outside. The fit's iterator sits in
a reference cycle, so the collector frees it wherever the collection happens to run (inside a later
stage of `make site`, or at exit). With tf.data's autotuning on, freeing it waits for the autotune
thread's current sleep, which grows with the run (seconds to tens of seconds). `model.train.
training_batches` now turns autotuning off (its pipeline has a fixed `prefetch(2)`); the "before"
variant turns it back on (`model.train.TF_DATA_AUTOTUNE = True`), as it was. Runs alternate between
the variants, each going first in every other run. Prints one line per run, then per variant the
distribution (min, quartiles, max) of the gc pause and of the whole process's time after the fit (the
collection, the rest of the script and the exit), and the fits' seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import gc, json, sys, time
sys.path.insert(0, {root!r})
from model.quiet import import_tensorflow_quietly
tf = import_tensorflow_quietly()
if {mirrored!r}:  # two logical CPU devices, as tests/test_recorder_strategy.py and bench item 8 set them up
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import model.train as train_module
from model.config import Config
from model.data import load_dataset
train_module.TF_DATA_AUTOTUNE = {variant!r} == "before (autotune on)"
overrides = {{"dataset": "bundled", "steps": {steps}}}
config = Config.from_overrides({{**overrides, "strategy": "mirrored"}} if {mirrored!r} else overrides)
capture, model, fit_seconds = train_module.train(config, load_dataset(config), progress=False, record=False,
                                                 evaluate_test=False)
started = time.perf_counter()
gc.collect()
print(json.dumps({{"fit_seconds": fit_seconds, "free_seconds": time.perf_counter() - started,
                  "fit_ended": time.time() - (time.perf_counter() - started)}}), flush=True)
"""


def _quartiles(values: list[float]) -> str:
    low, middle, high = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return f"min {min(values):.2f}, q1 {low:.2f}, median {middle:.2f}, q3 {high:.2f}, max {max(values):.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per variant (default 10)")
    parser.add_argument("--steps", type=int, default=290)
    parser.add_argument("--strategy", choices=("none", "mirrored"), default="none",
                        help="mirrored: train under MirroredStrategy on 2 logical CPU devices")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results-tfdata-stall.md"),
                        help="where the markdown summary goes (default %(default)s)")
    options = parser.parse_args(argv)
    begun = time.time()
    python = str(ROOT / ".venv" / "bin" / "python")
    variants = ("before (autotune on)", "as shipped")
    frees: dict[str, list[float]] = {variant: [] for variant in variants}
    afters: dict[str, list[float]] = {variant: [] for variant in variants}
    fits: dict[str, list[float]] = {variant: [] for variant in variants}
    for run in range(options.runs):
        for variant in (variants if run % 2 == 0 else variants[::-1]):  # each variant first in half the runs
            code = CHILD.format(root=str(ROOT), variant=variant, steps=options.steps,
                                mirrored=options.strategy == "mirrored")
            done = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=ROOT)
            exited = time.time()
            numbers = json.loads(done.stdout.strip().splitlines()[-1])
            frees[variant].append(numbers["free_seconds"])
            fits[variant].append(numbers["fit_seconds"])
            afters[variant].append(exited - numbers["fit_ended"])
            print(f"run {run + 1} {variant:20s}: fit {numbers['fit_seconds']:.1f} s, freeing the pipeline "
                  f"{numbers['free_seconds']:.2f} s, fit end to process exit {afters[variant][-1]:.2f} s", flush=True)
    lines = ["# The tf.data stall at the end of a fit, before and after the fix", "",
             f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"- command: `bench/tfdata_stall.py --runs {options.runs} --steps {options.steps} "
             f"--strategy {options.strategy}` "
             f"({(time.time() - begun) / 60:.1f} min), fresh processes, the variants alternating", "",
             "| variant | what | distribution over the runs | runs over 1 s |", "|---|---|---|---|"]
    for variant in variants:
        for what, values in (("gc.collect() freeing the fit's pipeline", frees[variant]),
                             ("fit end to process exit", afters[variant]), ("the fit itself", fits[variant])):
            over = "-" if values is fits[variant] else f"{sum(v > 1 for v in values)}/{len(values)}"
            lines.append(f"| {variant} | {what} | {_quartiles(values)} | {over} |")
    lines += ["", "Every run:", "", *[f"- {variant}: " + ", ".join(f"{free:.2f} / {after:.2f} s" for free, after
                                                                     in zip(frees[variant], afters[variant]))
                                     for variant in variants], "",
              "(each pair: the gc pause / fit end to exit)", ""]
    Path(options.results).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
