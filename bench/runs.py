"""Start each measured run in a fresh process from the bench's copy of the code: fits, `make site`, render."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from common import CODE, OUT, PY, ROOT, VENV, Workload, fresh, read_json, say
from procs import measure, wait_for_quiet

# The parts of the working tree a run needs (copied to bench/out/code, and again for item 4's tree):
# the project's packages (every top-level folder with an __init__.py but the tests and the bench) and these (locale:
# the Chinese edition's catalogue, which make site reads).
TREE_PARTS = ("generate.py", "Makefile", "requirements.txt", "requirements.in", "pyproject.toml", "templates",
              "data", "locale", "babel.cfg") + tuple(sorted(p.parent.name for p in ROOT.glob("*/__init__.py")
                                                            if p.parent.name not in ("tests", "bench")))
KEPT = ("wall_s", "cpu_s", "maxrss_mb", "tree_peak_mb", "load_before", "load_after", "log", "foreign_cores")


def copy_code(source: Path, target: Path, parts=TREE_PARTS + ("bench",)) -> None:
    """Copy the parts of the working tree a run needs (mtimes kept, caches and bench/out left out)."""
    for part in parts:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, target / part, copy_function=shutil.copy2,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "out"))
        elif origin.exists():
            shutil.copy2(origin, target / part)


def make_site_argv(build: str, site: str, flags: list[str]) -> list[str]:
    """Return the `make site` command line (setup already done) for these folders and generate.py flags."""
    arguments = ["--build-dir", build, "--site-dir", site, "--quiet", *flags]
    return ["make", "--no-print-directory", "-s", "site", f"PY={PY}", f"VENV={VENV}", f"ARGS={shlex.join(arguments)}"]


def run_logged(argv: list[str], log_name: str, workload: Workload, **kwargs) -> dict:
    """Measure a command with its stderr in bench/out/logs/<workload>-<log_name>.log; raise if it failed."""
    log = OUT / "logs" / f"{workload.name}-{log_name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(argv)}\n")
    result = measure(argv, cwd=kwargs.pop("cwd", CODE), log=log, **kwargs)
    result["log"] = str(log)
    if result["rc"] != 0:
        tail = log.read_text(errors="replace")[-3000:] + result["stdout"][-1000:]
        raise RuntimeError(f"{' '.join(argv[1:4])} ({log}) failed with status {result['rc']}:\n{tail}")
    return result


def probe(script: str, args: list[str], log_name: str, workload: Workload, **kwargs) -> dict:
    """Run bench/<script> in a fresh process; return its JSON line plus wall/CPU/memory/load."""
    result = run_logged([PY, str(CODE / "bench" / script), *args], log_name, workload, **kwargs)
    return {**result["json"], **{k: result[k] for k in KEPT}, "probe_maxrss_mb": result["json"]["maxrss_mb"]}


def fit(workload: Workload, mode: str, steps: int, tag: str, *, patience_s: float, partial: Path | None = None) -> dict:
    """Run one training in a fresh fit_probe.py process; return its JSON plus wall/CPU/memory/load."""
    args = ["--mode", mode, "--steps", str(steps), *workload.args]
    args += ["--partial", str(partial)] if partial else []
    waited = wait_for_quiet(patience_s)
    out = probe("fit_probe.py", args, f"fit-{mode}-{steps}-{tag}", workload)
    out["waited_s"] = waited
    say(f"  {mode:8s} {steps} steps: fit {out['fit_seconds']:.1f} s, median step "
        f"{out['step_median_seconds'] * 1e3:.1f} ms, recorder callback {out['recorder_seconds']:.2f} s, process "
        f"{out['wall_s']:.1f} s, other load {out['foreign_cores']:.2f} cores (waited {waited:.0f} s)")
    return out


def site_run(workload: Workload, tag: str, steps: int, *, patience_s: float) -> dict:
    """Run `make site` (its capture and site commands, after setup) from nothing, in fresh build and site folders."""
    base = fresh(OUT / workload.name / f"site-{tag}")
    build, site = base / "build", base / "site"
    argv = make_site_argv(str(build), str(site), ["--steps", str(steps), *workload.args])
    wait_for_quiet(patience_s)
    result = run_logged(argv, f"site-{tag}", workload, sample=True)
    result.update(build=str(build), site=str(site), timings=read_json(build / "timings.json"))
    say(f"  site run {tag}: {result['wall_s']:.1f} s wall, other load {result['foreign_cores']:.2f} cores, peak "
        f"{result['maxrss_mb']:.0f} MiB (process), {(result['tree_peak_mb'] or 0):.0f} MiB (tree, sampled)")
    return result


def render_run(workload: Workload, capture: Path, tag: str) -> dict:
    """Run the render stage alone on a capture, in a fresh process and a fresh build folder."""
    build = fresh(OUT / workload.name / f"render-{tag}")
    shutil.copy2(capture, build / "capture.h5")
    out = probe("render_probe.py", ["--capture", str(build / "capture.h5"), "--build-dir", str(build)],
                f"render-{tag}", workload, sample=True, interval_s=0.05)
    assets = build / "assets"
    out["assets_bytes"] = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file()) if assets.exists() else 0
    say(f"  render {tag}: {out['render_seconds']:.1f} s, peak {out['maxrss_mb']:.0f} MiB (process), "
        f"{(out['tree_peak_mb'] or 0):.0f} MiB (tree)")
    return out
