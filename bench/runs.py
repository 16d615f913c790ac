"""Start each measured run in a fresh process from the bench's copy of the code: fits, `make site`, render."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from common import CODE, OUT, PY, VENV, Workload, fresh, read_json, say
from procs import measure, wait_for_quiet

# The parts of the working tree a run needs (copied to bench/out/code, and again for item 4's tree).
TREE_PARTS = ("generate.py", "Makefile", "requirements.txt", "requirements.in", "pyproject.toml", "model",
              "pipeline", "render", "report", "templates", "data")


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


def checked(result: dict, what: str) -> dict:
    """Return the result, or raise with the log's tail when the measured command failed."""
    if result["rc"] != 0:
        log = result.get("log")
        tail = Path(log).read_text(errors="replace")[-3000:] if log and Path(log).exists() else result["stdout"][-3000:]
        raise RuntimeError(f"{what} failed with status {result['rc']}:\n{tail}")
    return result


def run_logged(argv: list[str], log_name: str, workload: Workload, **kwargs) -> dict:
    """Measure a command with its stderr in bench/out/logs/<workload>-<log_name>.log."""
    log = OUT / "logs" / f"{workload.name}-{log_name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(argv)}\n")
    result = measure(argv, cwd=kwargs.pop("cwd", CODE), log=log, **kwargs)
    result["log"] = str(log)
    return checked(result, f"{' '.join(argv[1:4])} ({log})")


def quiet(patience_s: float) -> float:
    """Wait up to `patience_s` for other work on the machine to calm down; return the seconds waited."""
    return wait_for_quiet(patience_s=patience_s) if patience_s > 0 else 0.0


def fit(workload: Workload, mode: str, steps: int, tag: str, *, patience_s: float, every: int = 1,
        save: Path | None = None, recorder: str = "project", partial: Path | None = None) -> dict:
    """Run one training in a fresh worker process; return the worker's JSON plus wall/CPU/memory."""
    argv = [PY, str(CODE / "bench" / "worker.py"), "fit", "--mode", mode, "--steps", str(steps), "--every", str(every)]
    argv += ["--recorder", recorder] if recorder != "project" else []
    argv += workload.args + (["--save", str(save)] if save else []) + (["--partial", str(partial)] if partial else [])
    waited = quiet(patience_s)
    result = run_logged(argv, f"fit-{mode}{'-' + recorder if recorder != 'project' else ''}-{steps}-{tag}", workload)
    out = dict(result["json"])
    out.update({k: result[k] for k in ("wall_s", "cpu_s", "load_before", "load_after", "log", "foreign_cores")})
    out["waited_s"] = waited
    say(f"  {mode:8s} {steps} steps: fit {out['fit_seconds']:.1f} s (recorder callback {out['recorder_seconds']:.2f} "
        f"s), process {out['wall_s']:.1f} s, other load {out['foreign_cores']:.2f} cores (waited {waited:.0f} s)"
        + scale_detail(out))
    return out


def scale_detail(out: dict) -> str:
    """Return the progress line's tail for item 8's modes: median step, writer, replicas, forward pass."""
    if out["mode"] not in ("streamed", "mirrored-bare", "mirrored-recorded", "floor"):
        return ""
    tail = f"; median step {out['step_median_seconds'] * 1e3:.1f} ms"
    if "writer_seconds" in out:
        tail += f", writer {out['writer_seconds']:.2f} s in {out['writer_calls']} calls"
    if "floor_ms" in out:
        tail += f", probes' forward pass {out['floor_ms']:.2f} ms"
    return tail + (f", {out['replicas']} replicas" if out["mode"].startswith("mirrored") else "")


def site_run(workload: Workload, tag: str, steps: int, *, patience_s: float) -> dict:
    """Run `make site` (its capture and site commands, after setup) from nothing, in fresh build and site folders."""
    base = fresh(OUT / workload.name / f"site-{tag}")
    build, site = base / "build", base / "site"
    argv = make_site_argv(str(build), str(site), ["--steps", str(steps), *workload.args])
    quiet(patience_s)
    result = run_logged(argv, f"site-{tag}", workload, sample=True)
    result["build"], result["site"] = str(build), str(site)
    result["timings"] = read_json(build / "timings.json")
    say(f"  site run {tag}: {result['wall_s']:.1f} s wall, other load {result['foreign_cores']:.2f} cores, peak "
        f"{result['maxrss_mb']:.0f} MiB (process), {(result['tree_peak_mb'] or 0):.0f} MiB (tree, sampled)")
    return result


def render_run(workload: Workload, capture: Path, tag: str) -> dict:
    """Run the render stage alone on a capture, in a fresh process and a fresh build folder."""
    build = fresh(OUT / workload.name / f"render-{tag}")
    shutil.copy2(capture, build / "capture.h5")
    argv = [PY, str(CODE / "bench" / "worker.py"), "render", "--capture", str(build / "capture.h5"),
            "--build-dir", str(build)]
    result = run_logged(argv, f"render-{tag}", workload, sample=True, interval_s=0.05)
    out = dict(result["json"])
    out.update({k: result[k] for k in ("wall_s", "cpu_s", "maxrss_mb", "tree_peak_mb", "load_before", "load_after")})
    out["worker_maxrss_mb"] = result["json"]["maxrss_mb"]
    assets = build / "assets"
    out["assets_bytes"] = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file()) if assets.exists() else None
    say(f"  render {tag}: {out['render_seconds']:.1f} s, peak {out['maxrss_mb']:.0f} MiB (process), "
        f"{(out['tree_peak_mb'] or 0):.0f} MiB (tree)")
    return out
