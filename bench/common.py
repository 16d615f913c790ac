"""What every part of `make bench` shares: its folders, the budgets, the workloads, progress and small helpers."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
CODE = OUT / "code"  # everything runs from a copy of the code taken when the bench starts (bench/README.md)
VENV = ROOT / ".venv"
PY = str(VENV / "bin" / "python") if (VENV / "bin" / "python").exists() else sys.executable
MB = 1e6  # sizes and memory in decimal megabytes: 15 MB = 15,000,000 bytes, 2 GB = 2,000 MB

# Issue 13 (scale) tightened the capture overhead from 1.03 to 1.02 and set make site / bare fit to 1.5
# (the speed issue had asked 1.25, which the notes in results.md explain cannot be met on 2 cores).
BUDGETS = {
    "capture_overhead": 1.02, "render_frames_s": 10.0, "render_encode_s": 30.0, "render_peak_mb": 1500.0,
    "site_vs_fit": 1.5, "template_rebuild_s": 15.0, "site_total_mb": 15.0, "site_largest_mb": 10.0,
    "first_view_mb": 2.0, "site_peak_mb": 2000.0, "growth_exponent": 1.10,
    "streamed_step": 1.01,  # item 8: streamed / in-memory median step
    "mirrored_overhead": 1.05,  # item 8: recorded / bare under MirroredStrategy on 2 logical CPU devices
}


@dataclass
class Workload:
    """The data the runs train on (run.py's --dataset, --data-dir), as flags for generate.py and fit_probe.py."""

    name: str = "bundled"
    data_dir: str | None = None

    def __post_init__(self):
        self.args = ["--dataset", self.name] + (["--data-dir", self.data_dir] if self.data_dir else [])
        self.description = ("bundled 10k MNIST subset (the default workload)" if len(self.args) == 2 and
                            self.name == "bundled" else "dataset " + " from ".join(self.args[1::2]))


def say(message: str) -> None:
    """Print progress on stderr, with the clock and the load average."""
    print(f"[bench {time.strftime('%H:%M:%S')} load {psutil.getloadavg()[0]:.2f}] {message}", file=sys.stderr,
          flush=True)


def fresh(path: Path) -> Path:
    """Return an empty folder at `path` (removed first if it exists; only ever under bench/out)."""
    assert OUT in Path(path).resolve().parents, f"refusing to clear {path}: not under {OUT}"
    shutil.rmtree(path, ignore_errors=True)
    Path(path).mkdir(parents=True)
    return Path(path)


def read_json(path: Path) -> dict:
    """Return a JSON file's content, or {} if absent or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def mib_to_mb(mib: float | None) -> float:
    """Convert MiB (what ru_maxrss and the samplers give; None: not sampled, 0) to decimal MB."""
    return (mib or 0) * 2**20 / MB


def median_of(runs: list[dict], key) -> float:
    """Return the median over the runs (rounds) of `key(run)`."""
    return statistics.median(key(run) for run in runs)


def listed(values: list[float]) -> str:
    """Return per-round ratios as text."""
    return ", ".join(f"{x:.3f}" for x in values)
