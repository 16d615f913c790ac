"""Profile one `generate.py site` run from nothing with py-spy and say where its time goes.

    .venv/bin/python bench/profile_site.py [--py-spy PATH] [--steps 290] [--rate 100] [generate.py flags...]

py-spy is not a project dependency: install it anywhere (`pip install --target /tmp/pyspy py-spy`)
and pass --py-spy /tmp/pyspy/bin/py-spy, or have it on PATH. The run goes to bench/out/profile/;
the raw collapsed stacks are kept there (site.txt, open them with speedscope or flamegraph.pl).
The summary counts samples of running (not idle) Python threads, so with the render stage's
layer threads the seconds are thread-seconds, and time spent in ffmpeg (a separate process) shows
only as the Python side writing to its pipe.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "profile"

# (label, substring of a frame "function (file:line)") in the order they are looked for, innermost wins
MARKERS = [
    ("import tensorflow", "import_tensorflow_quietly"),
    ("capture: load data", "load_dataset ("),
    ("capture: fit (train steps + callbacks)", "fit (keras"),
    ("capture: test evaluation during fit", "TestMetricsRecorder._measure"),
    ("capture: recorder set-up / read-out", "ActivationRecorder.on_train_"),
    ("capture: final test evaluation", "evaluate (model/callbacks.py"),
    ("capture: save model.keras", "save_model_atomically"),
    ("capture: save capture.h5", "Capture.save"),
    ("render: compose frames", "layer_frames (render/frames.py"),
    ("render: yuv conversion", "to_yuv420p"),
    ("render: pipe to ffmpeg", "VideoWriter.write"),
    ("render: close ffmpeg (wait)", "VideoWriter.close"),
    ("render: GIF LZW", "_lzw (render/encode.py"),
    ("render: GIF frame diff", "GifWriter.write"),
    ("render: PNG", "write_png"),
    ("render: curves", "write_curves"),
    ("render: capture sha256", "file_sha256"),
    ("site: build", "run (report/stage.py"),
]


def summarize(raw: Path, rate: float) -> list[tuple[str, float]]:
    """Return (label, thread-seconds) for each marker, by the innermost marker on each sampled stack."""
    seconds: Counter = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        label = "other"
        for frame in reversed(frames):  # innermost first
            hit = next((name for name, marker in MARKERS if marker in frame), None)
            if hit:
                label = hit
                break
        seconds[label] += int(count) / rate
    order = {name: i for i, (name, _) in enumerate(MARKERS)}
    return sorted(seconds.items(), key=lambda item: order.get(item[0], len(order)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--steps", type=int, default=290)
    options, extra = parser.parse_known_args(argv)
    if not Path(options.py_spy).exists():
        print(f"py-spy not found at {options.py_spy}: pip install --target /tmp/pyspy py-spy", file=sys.stderr)
        return 2
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    raw = OUT / "site.txt"
    python = str(ROOT / ".venv" / "bin" / "python")
    command = [python, "generate.py", "site", "--build-dir", str(OUT / "build"), "--site-dir", str(OUT / "site"),
               "--steps", str(options.steps), "--quiet", *(extra or ["--dataset", "bundled"])]
    started = time.perf_counter()
    subprocess.run([options.py_spy, "record", "--rate", str(options.rate), "--format", "raw", "--output", str(raw),
                    "--", *command], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    rows = summarize(raw, options.rate)
    print(f"`{' '.join(command[1:])}` under py-spy: {wall:.1f} s wall (sampling slows it a little)")
    print("| part | thread-seconds |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
