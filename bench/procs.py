"""The machine and the processes measured on it: one command's wall time, CPU time, peak memory and other load.

`measure(argv)` starts the command, optionally samples the summed memory of its whole process tree
(the Python process plus any ffmpeg it starts) every `interval_s`, and reaps it with `os.wait4`.
The machine's load and busy CPU come from psutil; `describe()` gives its CPU, memory and library versions.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("tensorflow-cpu", "keras", "numpy", "pillow", "imageio", "imageio-ffmpeg", "Jinja2", "matplotlib", "tqdm",
            "psutil")


def busy_cpu_seconds() -> float:
    """Return the CPU seconds all cores have spent busy (not idle, not waiting for I/O) since boot."""
    t = psutil.cpu_times()  # Linux fields; guest time is already inside user time
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def wait_for_quiet(patience_s: float, max_busy_cores: float = 0.3, window_s: float = 2.0) -> float:
    """Wait (at most `patience_s`) until the machine's busy CPU over `window_s` is below `max_busy_cores`.

    Returns the seconds waited. Other people's work cannot be stopped, only avoided.
    """
    started = time.perf_counter()
    while patience_s > 0:
        before = busy_cpu_seconds()
        time.sleep(window_s)
        waited = time.perf_counter() - started
        if (busy_cpu_seconds() - before) / window_s <= max_busy_cores or waited >= patience_s:
            return waited
    return 0.0


def memory_bytes(process: psutil.Process) -> int:
    """Return a process's PSS (RSS where PSS is unreadable; 0 once it is gone)."""
    try:
        try:
            return process.memory_full_info().pss
        except (psutil.AccessDenied, AttributeError):
            return process.memory_info().rss
    except psutil.Error:
        return 0


def sample_tree(pid: int, interval_s: float, stop: threading.Event, peak: list[int]) -> None:
    """Keep the largest summed memory of `pid` and its descendants in `peak[0]` until `stop` is set.

    Summed PSS, not RSS: a child just forked from the Python process shares its pages, and summing RSS
    would count them twice.
    """
    while not stop.is_set():
        try:
            parent = psutil.Process(pid)
            peak[0] = max(peak[0], sum(map(memory_bytes, [parent, *parent.children(recursive=True)])))
        except psutil.Error:  # not started yet or gone
            pass
        stop.wait(interval_s)


def measure(argv: list[str], *, cwd: str | os.PathLike | None = None, sample: bool = False,
            interval_s: float = 0.1, timeout_s: float = 3600, log: Path | None = None) -> dict:
    """Run `argv` to completion; return wall/CPU seconds, peak memory, load, exit status and output.

    Reaped by hand with `os.wait4`, not psutil or subprocess: only wait4's rusage gives the exact
    peak RSS and CPU time of that one child (or its largest reaped descendant), and a sampler can
    miss a short peak. stdout is returned (the probes print one JSON line last); stderr goes to `log`.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
    load_before, busy_before = psutil.getloadavg()[0], busy_cpu_seconds()
    stop, peak = threading.Event(), [0]
    with open(log or os.devnull, "ab") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr)
        sampler = threading.Thread(target=sample_tree, args=(process.pid, interval_s, stop, peak), daemon=True)
        if sample:
            sampler.start()
        output = bytearray()
        reader = threading.Thread(target=lambda: output.extend(process.stdout.read()), daemon=True)
        reader.start()
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > started + timeout_s:
                process.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - started
        reader.join()
        stop.set()
        if sample:
            sampler.join()
    own = usage.ru_utime + usage.ru_stime
    text = output.decode(errors="replace")
    return {
        # CPU seconds spent by everything else on the machine while the command ran, per second of wall
        "foreign_cores": max(0.0, busy_cpu_seconds() - busy_before - own) / wall if wall > 0 else 0.0,
        "argv": argv, "rc": os.waitstatus_to_exitcode(status), "wall_s": wall, "cpu_s": own,
        "maxrss_mb": usage.ru_maxrss / 1024,  # the child's (or its largest descendant's) exact peak, MiB
        "tree_peak_mb": peak[0] / 2**20 if sample else None,  # sampled sum over the process tree, MiB
        "load_before": load_before, "load_after": psutil.getloadavg()[0], "stdout": text, "json": last_json(text),
    }


def last_json(text: str) -> dict | None:
    """Return the last line of `text` as JSON (the probes print their numbers last), else None."""
    try:
        return json.loads(text.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return None


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo (read by hand: psutil does not report the model)."""
    return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), platform.machine())


def ffmpeg_version() -> str:
    """Return the first words of the bundled ffmpeg's -version."""
    try:
        import imageio_ffmpeg

        return " ".join(command([imageio_ffmpeg.get_ffmpeg_exe(), "-version"]).split()[:3])
    except Exception as error:  # a description, not a failure
        return f"unknown ({type(error).__name__})"


def describe() -> dict:
    """Return cores, CPU model, memory, OS, Python and library versions."""
    installed = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in metadata.distributions()}
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "versions": {name: installed.get(name.lower(), "absent") for name in PACKAGES}, "ffmpeg": ffmpeg_version(),
    }


def command(argv: list[str], cwd: Path | None = None) -> str:
    """Return a short command's stdout."""
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=20).stdout


def code_state(root: Path) -> str:
    """Return the commit measured and how many files outside bench/ differ from it."""
    try:
        head = command(["git", "rev-parse", "--short", "HEAD"], root).strip()
        changed = [s for s in command(["git", "status", "--porcelain"], root).splitlines() if s[3:9] != "bench/"]
    except (OSError, subprocess.SubprocessError):
        head = ""
    if not head:  # not a git checkout
        return "unknown (no git)"
    return f"commit {head}" + (f" with {len(changed)} changed/untracked file(s) outside bench/" if changed
                               else ", clean")
