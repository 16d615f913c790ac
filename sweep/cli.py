"""`generate.py sweep --seeds 0-4 [config flags] [--sweep-dir DIR]`: the arguments, the checks and the run.

Every seed is trained (or its fresh archive reused) into DIR/seed-N/ by model/stage.py, in this process, one seed
after another; its findings come from report/findings_cache.py (measured once per archive, without the render
stage's colour scales). Then DIR/sweep.json is written (record.py). Everything is checked before any work:
bad input raises ValueError (generate.py prints one `error:` line and exits with status 2) and writes nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from sweep.record import SWEEP_NAME, seed_record, without_seed

DEFAULT_SWEEP_DIR = "build-seeds"
MAX_SEEDS = 100
DESCRIPTION = ("Train one configuration over several seeds, each into its own build folder (a fresh archive of the "
               "same config and code is reused), and write sweep.json, which `generate.py site` reads.")
# generate.py's flags that name no config field, with their defaults: the sweep chooses these itself.
NOT_CONFIG = {"build_dir": "build", "site_dir": "site", "share_dir": "share", "public_url": None,
              "gif_budget_mb": None, "resume": False, "seed": None, "sweep_dir": DEFAULT_SWEEP_DIR}


def parse_seeds(text: str) -> list[int]:
    """Parse --seeds: FIRST-LAST (0-4), or numbers separated by commas (0,3,7); raise ValueError otherwise."""
    hint = f"--seeds {text!r} must be a range FIRST-LAST such as 0-4, or seeds separated by commas such as 0,3,7"
    seeds = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not (first.isdigit() and (not dash or last.isdigit())):
            raise ValueError(hint)
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(f"--seeds {text!r}: the range {low}-{high} runs backwards; write {high}-{low}")
        if high - low >= MAX_SEEDS:
            raise ValueError(f"--seeds {text!r} asks for more than {MAX_SEEDS} seeds; sweep fewer at a time")
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds) or len(seeds) > MAX_SEEDS:
        raise ValueError(f"--seeds {text!r} names a seed twice or more than {MAX_SEEDS} seeds; name each once")
    return seeds


def parse_arguments(argv: list[str], parser_class, flags_of, config_of) -> argparse.Namespace:
    """Parse the sweep's own flags; the rest are generate.py's (`flags_of(rest)`, turned into a Config by config_of)."""
    parser = parser_class(prog="generate.py sweep", description=DESCRIPTION, allow_abbrev=False,
                          epilog="Any other flag is a config flag of `generate.py` (see `generate.py --help`).")
    parser.add_argument("--seeds", required=True, help="the seeds: FIRST-LAST (e.g. 0-4) or a list (0,3,7)")
    parser.add_argument("--sweep-dir", default=DEFAULT_SWEEP_DIR,
                        help=f"where seed-N/ build folders and {SWEEP_NAME} go (default {DEFAULT_SWEEP_DIR})")
    parser.add_argument("--wait", action="store_true", help="wait for a run using a seed's build folder")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    arguments, rest = parser.parse_known_args(argv)
    arguments.flags, arguments.config_of = flags_of(rest), config_of
    return arguments


def _configs(arguments: argparse.Namespace) -> list:
    """Return one Config per seed, refusing generate.py flags that the sweep sets itself."""
    for name, default in NOT_CONFIG.items():
        if getattr(arguments.flags, name, default) != default:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} does not work with `generate.py sweep`: it sets each seed's build folder and "
                             f"seed itself (use --seeds and --sweep-dir)")
    if arguments.flags.stage != "capture":
        raise ValueError("`generate.py sweep` takes no stage: give --seeds and config flags only")
    seeds = parse_seeds(arguments.seeds)
    base = arguments.config_of(arguments.flags)
    return [dataclasses.replace(base, seed=seed) for seed in seeds]


def _check_folders(sweep_dir: Path, builds: list[Path]) -> None:
    """Raise ValueError (FolderError) unless the sweep folder and every seed's build folder may be written."""
    from pipeline.folders import FolderError, check_not_over, check_owned, check_writable
    from pipeline.ownership import BUILD, read_marker

    if sweep_dir.is_symlink() or (sweep_dir.exists() and not sweep_dir.is_dir()):
        raise FolderError(f"--sweep-dir {sweep_dir} is not a folder: pass a folder path (it is created if missing)")
    if sweep_dir.is_dir() and read_marker(sweep_dir) is not None:
        raise FolderError(f"--sweep-dir {sweep_dir} is a folder this tool writes whole (a build folder or a site): "
                          f"pass a folder of its own (the default is fine)")
    check_not_over(sweep_dir, "--sweep-dir", {})
    check_writable(sweep_dir, "--sweep-dir")
    if (sweep_dir / SWEEP_NAME).is_dir() or (sweep_dir / SWEEP_NAME).is_symlink():
        raise FolderError(f"--sweep-dir {sweep_dir}: {SWEEP_NAME} there is not a plain file; move it away first")
    for build in builds:
        check_owned(build, "--sweep-dir", BUILD)


def run_seed(config, build: Path, *, wait: bool, progress: bool) -> dict:
    """Train (or reuse) one seed's capture in `build`, measure its findings, return its sweep.json entry."""
    import model.stage
    from pipeline.folders import prepare
    from pipeline.layout import Layout
    from report.findings_cache import cached_findings

    started = time.perf_counter()
    layout = Layout(build, build / "unused-site")
    held = prepare(layout, writes_site=False, wait=wait)
    before = layout.capture.stat().st_mtime_ns if layout.capture.is_file() else None
    done = False
    try:
        capture = model.stage.run(config, layout, progress=progress)
        findings = cached_findings(capture, layout, {})
        done = True
    finally:
        if not done:
            held.undo_if_unused()
        held.lock.close()
    entry = seed_record(config.to_dict(), capture, findings, str(build), time.perf_counter() - started)
    return dict(entry, reused=before is not None and before == layout.capture.stat().st_mtime_ns)


def run(arguments: argparse.Namespace) -> Path:
    """Run every seed, then write sweep.json; return its path (ValueError: bad input, nothing written)."""
    from pipeline.files import write_text_atomically

    configs = _configs(arguments)
    sweep_dir = Path(arguments.sweep_dir)
    builds = [sweep_dir / f"seed-{config.seed}" for config in configs]
    _check_folders(sweep_dir, builds)
    started = time.perf_counter()
    runs = []
    for config, build in zip(configs, builds):
        runs.append(run_seed(config, build, wait=arguments.wait, progress=not arguments.quiet))
        if not arguments.quiet:
            print(f"sweep: seed {config.seed} done in {runs[-1]['seconds']:.1f} s ({build})", file=sys.stderr)
    seconds = round(time.perf_counter() - started, 2)
    sweep = {"config": without_seed(configs[0].to_dict()), "seeds": [config.seed for config in configs],
             "seconds": seconds, "runs": runs}
    path = sweep_dir / SWEEP_NAME
    write_text_atomically(path, json.dumps(sweep, indent=2, sort_keys=True) + "\n")
    print(f"sweep: {len(runs)} seeds in {seconds:.1f} s, summary in {path}", file=sys.stderr)
    return path
