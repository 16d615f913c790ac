"""Describe the machine and the library versions a benchmark ran with (no TensorFlow import)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("tensorflow-cpu", "keras", "numpy", "pillow", "imageio-ffmpeg", "Jinja2", "matplotlib", "tqdm", "psutil")


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo (read by hand: psutil does not report the model)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gb() -> float:
    """Return the total memory in GiB."""
    return psutil.virtual_memory().total / 2**30


def ffmpeg_version() -> str:
    """Return the first line of the bundled ffmpeg's -version."""
    try:
        import imageio_ffmpeg

        text = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-version"], capture_output=True, text=True,
                              timeout=20).stdout
        return " ".join(text.split()[:3])
    except Exception as error:  # a description, not a failure
        return f"unknown ({type(error).__name__})"


def describe() -> dict:
    """Return cores, CPU model, memory, OS, Python and library versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(memory_gb(), 1), "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "versions": versions, "ffmpeg": ffmpeg_version(),
    }


def one_line(machine: dict) -> str:
    """Return the description as one line."""
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    return (f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gb']} GiB, {machine['system']}, "
            f"Python {machine['python']}; {versions}; {machine['ffmpeg']}")


def code_state(root: Path) -> str:
    """Return the commit measured and how many files outside bench/ differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=20).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                                timeout=20).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not head:  # not a git checkout
        return "unknown (no git)"
    changed = [line[3:] for line in status if not line[3:].startswith("bench/")]
    return f"commit {head}" + (f" with {len(changed)} changed/untracked file(s) outside bench/" if changed
                               else ", clean")
