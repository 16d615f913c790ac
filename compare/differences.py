"""The table of differences: each run's findings (report/numbers/analysis.py) side by side, as numbers.

`differences(runs, findings)` returns what templates/partials/compare_table.html.j2 shows (the words are the
template's): what differs in the runs' configs, each run's final test accuracy and the step its loss left the
plateau, per layer position its layer's settled step (with the interval of the resampled settled step where
the analysis has one), its channels per kind, and the three conclusions' verdicts. Each numeric row carries
`difference`: the second run minus the first, or, for three runs or more, the largest minus the smallest
(None when a run has no value). Fields the analysis gained recently are read with defaults, so a capture
analysed without them still compares.
"""

from __future__ import annotations

import json

from report.capture_facts import is_article, model_info
from report.numbers.conclusions import headline_borderline
from report.numbers.findings import CHANNEL_KINDS
from report.page.public_paths import public_config, public_meta
from report.page.this_run import duplicate_share, ninety_step

HASH_FIELDS = ("model_sha256", "data_sha256")  # differ exactly when the model or data file does, shown there


def difference(values: list) -> float | None:
    """Return the last minus the first of two values, the spread of more, or None when any is missing."""
    if len(values) < 2 or any(value is None for value in values):
        return None
    return values[1] - values[0] if len(values) == 2 else max(values) - min(values)


def _settled(layer) -> dict:
    """Return a layer's settled step, its interval [lo, hi] where known, and the share of resamples never settling."""
    settling = getattr(layer, "settling", None)
    step = getattr(settling, "settled_step", None)
    interval = list(getattr(layer, "settle_step_ci", None) or [None, None])
    known = len(interval) == 2 and None not in interval and step is not None
    return {"step": None if step is None else int(step), "interval": [int(v) for v in interval] if known else None,
            "never_share": getattr(layer, "settle_never_share", None)}


def layer_cell(layer, explore_layer: dict) -> dict:
    """Return one run's layer at a position: name, shape, settled step, channels per kind."""
    height, width = explore_layer["map_size"]
    counts = dict(getattr(layer, "counts", {}) or {})
    return {"name": layer.name, "shape": [int(height), int(width), int(explore_layer["channels"])],
            "settled": _settled(layer), "counts": [{"kind": kind, "count": int(counts.get(kind, 0))}
                                                   for kind in CHANNEL_KINDS]}


def layer_rows(findings: list, explores: list[dict]) -> list[dict]:
    """Return one row per layer position: each run's layer there (None past its last), paired when the shapes agree."""
    rows = []
    for position in range(max(len(f.layers) for f in findings)):
        cells = [layer_cell(f.layers[position], explore["layers"][position]) if position < len(f.layers) else None
                 for f, explore in zip(findings, explores)]
        paired = None not in cells and len({tuple(cell["shape"]) for cell in cells}) == 1
        settled = [cell["settled"]["step"] if cell else None for cell in cells]
        rows.append({"position": position + 1, "cells": cells, "paired": paired,
                     "difference": difference(settled) if paired else None})
    return rows


def config_rows(configs: list[dict]) -> list[dict]:
    """Return the config fields whose values differ between the runs (the model is its own row), each value as JSON."""
    public = [public_config(config) for config in configs]
    names = sorted(set().union(*public) - set(HASH_FIELDS) - {"model"})
    rows = []
    for name in names:
        values = [json.dumps(config.get(name), sort_keys=True) for config in public]
        if len(set(values)) > 1:
            rows.append({"field": name, "cells": values})
    return rows


def model_cell(meta: dict) -> dict:
    """Return the run's model as the page may name it: the article's, or its name and public source."""
    info = model_info(public_meta(meta))
    return {"article": is_article(meta), "name": info.get("name"), "source": info.get("source")}


def conclusion_rows(findings: list) -> list[dict]:
    """Return the three conclusions' verdicts per run, with how many other definitions agree, and whether all agree."""
    rows = []
    for number in (1, 2, 3):
        cells = []
        for f in findings:
            conclusion = getattr(f.run, f"conclusion_{number}")
            variants = list(getattr(conclusion, "variants", []) or [])
            cells.append({"verdict": conclusion.verdict, "borderline": headline_borderline(conclusion),
                          "variants": len(variants), "holding": int(getattr(conclusion, "variants_holding", 0) or 0)})
        rows.append({"number": number, "cells": cells, "agree": len({cell["verdict"] for cell in cells}) == 1})
    return rows


def differences(runs: list, findings: list, explores: list[dict]) -> dict:
    """Return the table's numbers for the runs (runs.Run), their Findings and their explore.json, in order."""
    accuracy = [f.run.final_test_accuracy for f in findings]
    plateau = [f.run.plateau.left_at_step for f in findings]
    last = [int(f.last_step) for f in findings]
    return {
        "models": [model_cell(run.capture.meta) for run in runs],
        "datasets": [(run.capture.meta.get("dataset") or {}).get("name") for run in runs],
        "config": config_rows([run.capture.config for run in runs]),
        "accuracy": {"runs": accuracy, "sources": [f.run.accuracy_source for f in findings],
                     "difference": difference(accuracy)},
        "plateau": {"runs": plateau, "chance": [f.run.plateau.chance_loss for f in findings],
                    "found": [bool(f.run.plateau.found) for f in findings],  # False: no plateau at all
                    "difference": difference(plateau)},
        "last_step": {"runs": last, "difference": difference(last)},
        # the article's "This run and the post" box shows these for a compared run of the article's model
        "ninety": [ninety_step(run.capture.test_steps, run.capture.test_accuracy) for run in runs],
        "duplicates": [duplicate_share(f.layers) for f in findings],
        "analysis_images": [int(getattr(f.run, "analysis_images", 0) or 0) for f in findings],
        "layers": layer_rows(findings, explores),
        "conclusions": conclusion_rows(findings),
    }
