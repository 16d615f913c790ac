"""Run one measured command in a fresh process: wall time, CPU time, exact and sampled peak memory.

`measure(argv)` starts the command, optionally samples the summed resident memory of its whole
process tree (the Python process plus any ffmpeg it starts) every `interval_s`, and reaps it with
`os.wait4`, whose rusage gives the exact peak RSS of the child or of its largest reaped descendant.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def load_average() -> float:
    """Return the 1-minute load average."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def busy_cpu_seconds() -> float:
    """Return the CPU seconds all cores have spent busy since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


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


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stream:
                fields = stream.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))  # fields[1] = ppid
    return children


def _pss_bytes(pid: int) -> int | None:
    """Return a process's proportional set size (shared pages split between their users), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as stream:
            for line in stream:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def tree_rss_bytes(root: int) -> int:
    """Return the memory of `root` and all its descendants: summed PSS (RSS where PSS is unreadable).

    PSS, not RSS: a child just forked from the Python process shares its pages, and summing RSS
    would count them twice.
    """
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        pss = _pss_bytes(pid)
        if pss is not None:
            total += pss
        else:
            try:
                with open(f"/proc/{pid}/statm", "rb") as stream:
                    total += int(stream.read().split()[1]) * PAGE
            except (OSError, IndexError, ValueError):
                pass
        stack.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """Record the largest summed RSS of a process tree until stopped."""

    def __init__(self, pid: int, interval_s: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop_event.wait(self.interval_s)

    def stop(self):
        self._stop_event.set()
        self.join()


def measure(argv: list[str], *, cwd: str | os.PathLike | None = None, sample: bool = False,
            interval_s: float = 0.1, timeout_s: float = 3600, log: Path | None = None) -> dict:
    """Run `argv` to completion; return wall/CPU seconds, peak memory, load, exit status and output.

    stdout is returned (the workers print one JSON line last); stderr goes to `log` if given.
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
    result = {
        # CPU seconds spent by everything else on the machine while the command ran, per second of wall
        "foreign_cores": max(0.0, busy - own) / wall if wall > 0 else 0.0,
        "argv": argv, "rc": process.returncode, "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,  # the child's (or its largest descendant's) exact peak
        "tree_peak_mb": sampler.peak / 2**20 if sampler else None,  # sampled sum over the process tree
        "load_before": load_before, "load_after": load_average(), "stdout": text,
    }
    result["json"] = last_json(text)
    return result


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
