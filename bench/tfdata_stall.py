"""Reproduce the stall when the training pipeline's tf.data iterator is freed, with and without autotune.

    .venv/bin/python bench/tfdata_stall.py [--runs 8] [--steps 290]

Each run is a fresh process: a bare `model.train.train` (no recorder, no test evaluation), then an
explicit `gc.collect()`, timed. The fit's iterator sits in a reference cycle, so the collector frees
it, wherever the collection happens to run (inside a later stage of `make site`, or at exit). With
tf.data's default autotuning, freeing it waits for the autotune thread's current sleep, which grows
with the run (seconds to tens of seconds); the second variant wraps `model.train.training_batches`
with `options.autotune.enabled = False` (the pipeline already has a fixed `prefetch(2)`).
Runs alternate between the variants; prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import gc, json, sys, time
sys.path.insert(0, {root!r})
from model.quiet import import_tensorflow_quietly
tf = import_tensorflow_quietly()
import model.train as train_module
from model.config import Config
from model.data import load_dataset
if {variant!r} == "autotune off":
    original = train_module.training_batches
    def training_batches(dataset, config):
        options = tf.data.Options()
        options.autotune.enabled = False
        return original(dataset, config).with_options(options)
    train_module.training_batches = training_batches
config = Config.from_overrides({{"dataset": "bundled", "steps": {steps}}})
capture, model, fit_seconds = train_module.train(config, load_dataset(config), progress=False, record=False,
                                                 evaluate_test=False)
started = time.perf_counter()
gc.collect()
print(json.dumps({{"fit_seconds": fit_seconds, "free_seconds": time.perf_counter() - started}}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs per variant (default 8)")
    parser.add_argument("--steps", type=int, default=290)
    options = parser.parse_args(argv)
    python = str(ROOT / ".venv" / "bin" / "python")
    results: dict[str, list[float]] = {"default": [], "autotune off": []}
    for run in range(options.runs):
        for variant in results:
            code = CHILD.format(root=str(ROOT), variant=variant, steps=options.steps)
            output = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
            numbers = json.loads(output.strip().splitlines()[-1])
            results[variant].append(numbers["free_seconds"])
            print(f"run {run + 1} {variant:12s}: fit {numbers['fit_seconds']:.1f} s, "
                  f"freeing the pipeline {numbers['free_seconds']:.2f} s", flush=True)
    for variant, values in results.items():
        print(f"{variant:12s}: median {statistics.median(values):.2f} s, max {max(values):.2f} s, "
              f"runs over 1 s: {sum(v > 1 for v in values)}/{len(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
