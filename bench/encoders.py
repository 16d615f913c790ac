"""Benchmark: the encoders' bytes and quality, and the render stage's seconds and memory, of one capture (issue 20).

    .venv/bin/python bench/encoders.py measure BUILD --tree before=/tmp/old --tree after=. [--runs 3]
        [--gif-budget-mb 5]
    .venv/bin/python bench/encoders.py table bench/out/encoders/before.json bench/out/encoders/after.json

BUILD holds a capture (`generate.py capture --dataset bundled --build-dir BUILD`). `measure` runs the
render stage (`render.stage.run`, as `generate.py render` does after the capture stage) with the code
of each `--tree` (`git archive COMMIT | tar -x -C DIR` gives older code) in a fresh process on a fresh
copy of BUILD under bench/out/encoders/: `--runs` rounds, each without GIF previews (what `make site`
renders) and with them (`--gif-budget-mb`), the trees alternating within a round so that other load on
the machine hits them alike. Seconds: the stage's own `timings.json` "render" total, median of the
rounds; memory: the render process's peak RSS (wait4; ffmpeg's own not included). Quality, from each
tree's last run with previews, per layer: bytes, and the PSNR of the decoded frames (imageio) against
the exact frames, composed from the capture by this checkout's render/frames.py (the frames are the same
in every version; only the encoders differ); a GIF uses the frames' own palette, so exact = inf.
`measure` writes bench/out/encoders/LABEL.json per tree and prints `table`'s markdown comparison.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "encoders"
sys.path.insert(0, str(ROOT))


_WORKER = """
import sys
from pathlib import Path
try:
    from capture.archive import Capture
except ImportError:  # a checkout from before the capture package (issue 20)
    from model.capture import Capture
import render.stage
from pipeline.layout import Layout
build, budget = Path(sys.argv[1]), (int(sys.argv[2]) if sys.argv[2] != "none" else None)
layout = Layout(build, build.parent / "site")
render.stage.run(Capture.load(layout.capture), layout, render.stage.RenderSettings(gif_budget_bytes=budget),
                 progress=False)
"""


def _render(tree: Path, build: Path, work: Path, gif_mb: float | None) -> dict:
    """Run the render stage once, in a fresh process, on a fresh copy of `build`; return its seconds and assets."""
    if work.exists():
        shutil.rmtree(work)
    copy = work / "build"
    shutil.copytree(build, copy, ignore=shutil.ignore_patterns(".generate.lock", "assets", "timings.json"))
    budget = "none" if gif_mb is None else str(int(gif_mb * 1_000_000))
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, str(copy), budget], cwd=tree,
                              stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(tree)})
    _, status, usage = os.wait4(worker.pid, 0)  # its own peak memory (ffmpeg's children are not waited for here)
    worker.returncode = os.waitstatus_to_exitcode(status)
    if worker.returncode:
        raise SystemExit(f"the render worker of {tree} failed ({worker.returncode})")
    timings = json.loads((copy / "timings.json").read_text())
    return {"render_s": timings["render"]["total_seconds"], "peak_mb": round(usage.ru_maxrss * 1024 / 1e6),
            "assets": copy / "assets"}


def _psnr(squared_error: float, count: int) -> float:
    return math.inf if squared_error == 0 else 10 * math.log10(255**2 * count / squared_error)


def _truth(capture, entry: dict, kind: str):
    """Yield the exact RGB frames of a layer's MP4 or GIF (consecutive repeats dropped for a GIF)."""
    from render.frames import PAPER_LEVEL, layer_frames, layer_layout
    from render.page_data import strided_indices
    from render.palette import PALETTE, grey_index
    from render.probes import probe_row_rgb

    files = entry["files"][kind]
    values = capture.activations[entry["name"]]
    indices = strided_indices(len(capture.steps), files["stride"])
    frames = layer_frames(values, capture.probe_images, name=entry["name"], steps=[int(s) for s in capture.steps],
                          scale=entry["scale"], block=files["block_px"], shown=entry["shown_channels"],
                          indices=indices)
    overlay = None
    if kind == "mp4":
        layout = layer_layout(values.shape, block=files["block_px"], shown=entry["shown_channels"])
        overlay = probe_row_rgb(layout, capture.probe_images, PALETTE[grey_index(PAPER_LEVEL)])
    previous = None
    for frame in frames:
        if kind == "gif" and previous is not None and np.array_equal(frame, previous):
            continue
        previous = frame
        rgb = PALETTE[frame]  # (H, W, 3)
        if overlay is not None:
            y, x, pixels = overlay
            rgb[y:y + pixels.shape[0], x:x + pixels.shape[1]] = pixels
        yield rgb


def _quality(capture, assets: Path) -> dict:
    """Return {layer: {kind: {bytes, frames, psnr_db}}} of the MP4s and GIFs in `assets`."""
    import imageio.v3 as iio

    manifest = json.loads((assets / "manifest.json").read_text())
    figures = {}
    for entry in manifest["layers"]:
        figures[entry["name"]] = {}
        for kind, plugin in (("mp4", "FFMPEG"), ("gif", "pillow")):
            if kind not in entry["files"]:
                continue
            path = assets / entry["files"][kind]["path"]
            decoded = iio.imiter(path, plugin=plugin, **({"mode": "RGB"} if kind == "gif" else {}))
            error, pixels, frames = 0.0, 0, 0
            for made, truth in zip(decoded, _truth(capture, entry, kind), strict=True):
                error += float(((made.astype(np.float64) - truth) ** 2).sum())
                pixels, frames = pixels + truth.size, frames + 1
            figures[entry["name"]][kind] = {"bytes": path.stat().st_size, "frames": frames,
                                            "psnr_db": round(_psnr(error, pixels), 3)}
            if kind == "gif":
                figures[entry["name"]][kind]["scale"] = entry["files"]["gif"]["scale"]
                figures[entry["name"]][kind]["stride"] = entry["files"]["gif"]["stride"]
    return figures


def measure(arguments) -> list[dict]:
    """Render with each tree, alternating, `runs` times without and with previews; return each tree's figures."""
    from capture.archive import Capture

    build = Path(arguments.build).resolve()
    trees = dict(tree.split("=", 1) for tree in arguments.tree)  # label -> checkout
    runs = {label: {"mp4": [], "mp4+gif": []} for label in trees}
    for run in range(arguments.runs):
        for config, gif_mb in (("mp4", None), ("mp4+gif", arguments.gif_budget_mb)):
            for label, tree in trees.items():
                result = _render(Path(tree).resolve(), build, OUT / label / config, gif_mb)
                print(f"run {run + 1} {label} {config}: {result['render_s']} s, {result['peak_mb']} MB",
                      file=sys.stderr)
                runs[label][config].append(result)
    capture = Capture.load(build / "capture.h5")
    return [{"label": label, "tree": str(Path(trees[label]).resolve()), "capture": str(build / "capture.h5"),
             "gif_budget_mb": arguments.gif_budget_mb, "runs": arguments.runs,
             "render_s": {config: [r["render_s"] for r in results] for config, results in configs.items()},
             "render_median_s": {config: statistics.median(r["render_s"] for r in results)
                                 for config, results in configs.items()},
             "peak_mb": {config: max(r["peak_mb"] for r in results) for config, results in configs.items()},
             "layers": _quality(capture, configs["mp4+gif"][-1]["assets"])}
            for label, configs in runs.items()]


def table(paths: list[str]) -> str:
    """Return a markdown comparison of `measure` results (one column pair per label)."""
    results = [json.loads(Path(path).read_text()) for path in paths]
    labels = [result["label"] for result in results]
    lines = ["| | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for config in ("mp4", "mp4+gif"):
        lines.append(f"| render stage, {config} (median s; runs) | " + " | ".join(
            f"{r['render_median_s'][config]:.2f} ({', '.join(f'{s:.2f}' for s in r['render_s'][config])})"
            for r in results) + " |")
        lines.append(f"| peak memory of the render process, {config} (MB) | "
                     + " | ".join(f"{r['peak_mb'][config]:,}" for r in results) + " |")
    for kind in ("mp4", "gif"):
        totals = [sum(layer[kind]["bytes"] for layer in r["layers"].values() if kind in layer) for r in results]
        lines.append(f"| all {kind} bytes | " + " | ".join(f"{total:,}" for total in totals) + " |")
        for name in results[0]["layers"]:
            cells = []
            for r in results:
                figure = r["layers"].get(name, {}).get(kind)
                extra = f", {figure['frames']} frames, scale {figure['scale']}" if kind == "gif" and figure else ""
                cells.append("-" if figure is None else f"{figure['bytes']:,} B, {figure['psnr_db']} dB{extra}")
            lines.append(f"| {name}.{kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure one version, or print the table of several."""
    parser = argparse.ArgumentParser(prog="bench/encoders.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("measure", help="render a capture and measure the encoders' output")
    run.add_argument("build", help="a build folder with capture.h5 and model.keras")
    run.add_argument("--tree", action="append", required=True, metavar="LABEL=DIR",
                     help="a checkout to render with, and its name (e.g. before=/tmp/old after=.); repeatable")
    run.add_argument("--runs", type=int, default=3)
    run.add_argument("--gif-budget-mb", type=float, default=5.0)
    show = commands.add_parser("table", help="print the markdown comparison of measure results")
    show.add_argument("results", nargs="+")
    arguments = parser.parse_args(argv)
    if arguments.command == "table":
        print(table(arguments.results), end="")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for result in measure(arguments):
        paths.append(OUT / f"{result['label']}.json")
        paths[-1].write_text(json.dumps(result, indent=2) + "\n")
    print(table([str(path) for path in paths]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
