"""One measurement in a fresh process; prints a single JSON line on stdout.

    python bench/worker.py fit --mode bare|recorded|naive|default|toggle|streamed|mirrored-bare|mirrored-recorded|floor
                               [--steps N] [--dataset D] [--data-dir P] [--every K] [--save ARCHIVE] [--block B]
                               [--recorder project|lean] [--partial DIR/capture.partial]
    python bench/worker.py render --capture ARCHIVE --build-dir DIR [--gif-budget-mb MB]

bench/fit_probe.py describes the fit modes; bench/render_probe.py how the render stage's time is split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROCESS_START = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's packages (model, render) and bench.* for the fit modes


def main(argv=None) -> int:
    """Parse the task, run it, print its numbers as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=("fit", "render"))
    parser.add_argument("--mode", choices=("bare", "recorded", "naive", "default", "toggle", "streamed",
                                           "mirrored-bare", "mirrored-recorded", "floor"))
    parser.add_argument("--block", type=int, default=5, help="toggle: steps per on/off block")
    parser.add_argument("--recorder", default="project", choices=("project", "lean"),
                        help="fit: the project's recorder, or bench/recorder_lean.py's prototype")
    parser.add_argument("--save", help="fit: also save the capture archive here (timed)")
    parser.add_argument("--partial", help="streamed: the partial archive folder (capture.h5 is finished beside it)")
    parser.add_argument("--capture", help="render: the capture archive to render")
    parser.add_argument("--build-dir", help="render: where the assets go")
    parser.add_argument("--gif-budget-mb", type=float, default=None, help="GIF previews too (make site writes none)")
    parser.add_argument("--steps", type=int, default=290)
    parser.add_argument("--dataset", default="bundled")
    parser.add_argument("--data-dir")
    parser.add_argument("--every", type=int, default=1)
    arguments = parser.parse_args(argv)
    if arguments.task == "fit" and not arguments.mode:
        parser.error("fit needs --mode")
    if arguments.mode == "streamed" and not arguments.partial:
        parser.error("--mode streamed needs --partial")
    if arguments.task == "render" and not (arguments.capture and arguments.build_dir):
        parser.error("render needs --capture and --build-dir")
    if arguments.task == "fit":
        from fit_probe import run_fit

        result = run_fit(arguments, PROCESS_START)
    else:
        from render_probe import run_render

        result = run_render(arguments, PROCESS_START)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
