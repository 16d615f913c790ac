"""What every part of `make bench` shares: its folders, the budgets, the workloads, progress and small helpers."""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from procs import load_average

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
# Everything runs from a copy of the code taken when the bench starts (bench/README.md says why).
CODE = OUT / "code"
VENV = ROOT / ".venv"
PY = str(VENV / "bin" / "python") if (VENV / "bin" / "python").exists() else sys.executable
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MB = 1e6  # sizes and memory in decimal megabytes: 15 MB = 15,000,000 bytes, 2 GB = 2,000 MB

# Issue 13 (scale) tightened the capture overhead from 1.03 to 1.02 and set make site / bare fit to 1.5
# (the speed issue had asked 1.25, which the notes in results.md explain cannot be met on 2 cores).
BUDGETS = {
    "capture_overhead": 1.02, "render_frames_s": 10.0, "render_encode_s": 30.0, "render_peak_mb": 1500.0,
    "site_vs_fit": 1.5, "template_rebuild_s": 15.0, "site_total_mb": 15.0, "site_largest_mb": 10.0,
    "first_view_mb": 2.0, "site_peak_mb": 2000.0, "growth_exponent": 1.10,
}


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


def say(message: str) -> None:
    """Print progress on stderr, with the clock and the load average."""
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_average():.2f}] {message}", file=sys.stderr, flush=True)


def fresh(path: Path) -> Path:
    """Return an empty folder at `path` (removed first if it exists; only ever under bench/out)."""
    path = Path(path)
    assert OUT in path.resolve().parents, f"refusing to clear {path}: not under {OUT}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def read_json(path: Path) -> dict:
    """Return a JSON file's content, or {} if absent or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def mib_to_mb(mib: float | None) -> float | None:
    """Convert MiB (what ru_maxrss and the samplers give) to decimal MB."""
    return None if mib is None else mib * 2**20 / MB
