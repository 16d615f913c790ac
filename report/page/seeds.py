"""What the article says about a sweep of seeds (`generate.py sweep`): counts and ranges, numbers only.

    seeds = seeds_context(config, Path("build-seeds"))   # None: no sweep.json there, or one of another config

A sweep counts only when its configuration, and every one of its runs' configurations, is this run's except for
the seed; anything else (no file, another config, a file of another structure) gives None and the page is as it
was without it. templates/partials/seeds.html.j2 owns the words.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.layout import read_json

SWEEP_NAME = "sweep.json"  # sweep/record.py's name for the file
VERDICTS = ("holds", "partly holds", "does not hold")  # report/numbers/checks.py's verdicts


def _without_seed(config: dict) -> dict:
    return {name: value for name, value in config.items() if name != "seed"}


def _span(values: list) -> dict:
    """Return how many of the values are known (not None) and their smallest and largest."""
    known = [value for value in values if value is not None]
    return {"count": len(known), "low": min(known) if known else None, "high": max(known) if known else None}


def matching_runs(config: dict, sweep_dir: Path | None) -> list[dict] | None:
    """Return the sweep's runs when sweep_dir holds a sweep of this config (but the seed), else None."""
    if sweep_dir is None:
        return None
    sweep = read_json(Path(sweep_dir) / SWEEP_NAME)
    runs, wanted = sweep.get("runs"), _without_seed(config)
    if not isinstance(runs, list) or not runs or not isinstance(sweep.get("config"), dict) or \
            _without_seed(sweep["config"]) != wanted:
        return None
    if not all(isinstance(run, dict) and isinstance(run.get("config"), dict) and
               _without_seed(run["config"]) == wanted for run in runs):
        return None
    return runs


def seeds_context(config: dict, sweep_dir: Path | None) -> dict | None:
    """Return the numbers of the article's seeds section, or None when no sweep of this config is there."""
    runs = matching_runs(config, sweep_dir)
    if runs is None:
        return None
    try:
        seeds = [int(run["seed"]) for run in runs]
        names = [layer["name"] for layer in runs[0]["layers"]]
        by_name = [{layer["name"]: layer["settled_step"] for layer in run["layers"]} for run in runs]
        plateau = _span([run["plateau_end"] if run["plateau_end"] > 0 else None for run in runs])
        layers = [dict(_span([settled.get(name) for settled in by_name]), name=name) for name in names]
        accuracy = _span([run["final_test_accuracy"] * 100 if run["final_test_accuracy"] is not None else None
                          for run in runs])
        conclusions = [{"number": number, "counts": [sum(run["verdicts"][f"conclusion_{number}"] == verdict
                                                         for run in runs) for verdict in VERDICTS]}
                       for number in (1, 2, 3)]
    except (KeyError, TypeError, ValueError):
        return None  # a sweep.json of another structure
    return {
        "total": len(runs), "seeds": sorted(seeds), "first": min(seeds), "last": max(seeds),
        "consecutive": sorted(seeds) == list(range(min(seeds), max(seeds) + 1)),
        "this_seed": int(config["seed"]), "includes_this": int(config["seed"]) in seeds,
        "plateau": plateau, "layers": layers, "accuracy": accuracy, "conclusions": conclusions,
    }
