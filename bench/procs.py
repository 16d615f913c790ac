"""Run one measured command in a fresh process: wall time, CPU time, exact and sampled peak memory.

`measure(argv)` starts the command, optionally samples the summed memory of its whole process tree
(the Python process plus any ffmpeg it starts) every `interval_s`, and reaps it with `os.wait4`.
The machine's load and busy CPU come from psutil.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import psutil


def load_average() -> float:
    """Return the 1-minute load average."""
    return psutil.getloadavg()[0]


def busy_cpu_seconds() -> float:
    """Return the CPU seconds all cores have spent busy (not idle, not waiting for I/O) since boot."""
    t = psutil.cpu_times()  # Linux fields; guest time is already inside user time
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def wait_for_quiet(max_busy_cores: float = 0.3, window_s: float = 2.0, patience_s: float = 90.0) -> float:
    """Wait (at most `patience_s`) until the machine's busy CPU over `window_s` is below `max_busy_cores`.

    Returns the seconds waited. Other people's work cannot be stopped, only avoided.
    """
    started = time.perf_counter()
    while True:
        before = busy_cpu_seconds()
        time.sleep(window_s)
        busy = (busy_cpu_seconds() - before) / window_s
        waited = time.perf_counter() - started
        if busy <= max_busy_cores or waited >= patience_s:
            return waited


def process_memory_bytes(process: psutil.Process) -> int:
    """Return a process's proportional set size (shared pages split between their users), else its RSS, else 0."""
    try:
        return process.memory_full_info().pss
    except (psutil.AccessDenied, AttributeError):  # no PSS readable: RSS
        try:
            return process.memory_info().rss
        except psutil.Error:
            return 0
    except psutil.Error:  # gone meanwhile
        return 0


def tree_memory_bytes(root: int) -> int:
    """Return the memory of `root` and all its descendants: summed PSS (RSS where PSS is unreadable).

    PSS, not RSS: a child just forked from the Python process shares its pages, and summing RSS
    would count them twice.
    """
    try:
        parent = psutil.Process(root)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0
    return sum(process_memory_bytes(process) for process in processes)


class TreeSampler(threading.Thread):
    """Record the largest summed memory of a process tree until stopped."""

    def __init__(self, pid: int, interval_s: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self._stop_event = threading.Event()

    def run(self):
        """Sample until stopped."""
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_memory_bytes(self.pid))
            self._stop_event.wait(self.interval_s)

    def stop(self):
        """Stop sampling and wait for the thread."""
        self._stop_event.set()
        self.join()


def measure(argv: list[str], *, cwd: str | os.PathLike | None = None, sample: bool = False,
            interval_s: float = 0.1, timeout_s: float = 3600, log: Path | None = None) -> dict:
    """Run `argv` to completion; return wall/CPU seconds, peak memory, load, exit status and output.

    Reaped by hand with `os.wait4`, not psutil or subprocess: only wait4's rusage gives the exact
    peak RSS and CPU time of that one child (or its largest reaped descendant), and a sampler can
    miss a short peak. stdout is returned (the workers print one JSON line last); stderr goes to `log`.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
    load_before = load_average()
    busy_before = busy_cpu_seconds()
    stderr = open(log, "ab") if log else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr)
        sampler = TreeSampler(process.pid, interval_s) if sample else None
        if sampler:
            sampler.start()
        output = bytearray()
        reader = threading.Thread(target=lambda: output.extend(process.stdout.read()), daemon=True)
        reader.start()
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        reader.join()
        if sampler:
            sampler.stop()
    finally:
        if log:
            stderr.close()
    busy = busy_cpu_seconds() - busy_before
    text = output.decode(errors="replace")
    own = usage.ru_utime + usage.ru_stime
    return {
        # CPU seconds spent by everything else on the machine while the command ran, per second of wall
        "foreign_cores": max(0.0, busy - own) / wall if wall > 0 else 0.0,
        "argv": argv, "rc": process.returncode, "wall_s": wall,
        "cpu_s": own,
        "maxrss_mb": usage.ru_maxrss / 1024,  # the child's (or its largest descendant's) exact peak, MiB
        "tree_peak_mb": sampler.peak / 2**20 if sampler else None,  # sampled sum over the process tree, MiB
        "load_before": load_before, "load_after": load_average(), "stdout": text, "json": last_json(text),
    }


def last_json(text: str):
    """Return the last line of `text` that parses as a JSON object, else None."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None
