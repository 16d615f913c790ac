"""The comparison page's summary.json: which runs it compares and their headline numbers, for the article.

    write_summary(staging, runs, table)       # report/compare/stage.py, beside index.html
    read_summary(folder)                      # report/page/compared.py: None unless it is one this tool wrote

Each run is named by its archive's sha256, so an article can tell whether it is one of the compared runs
(a rebuilt run has another archive, and the article then says nothing about a comparison of the old one).
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.files import file_sha256, write_text_atomically
from pipeline.layout import read_json
from report.compare.runs import check_build

SUMMARY_NAME = "compare.json"


def summary(runs: list, table: dict) -> dict:
    """Return the summary of compared runs (runs.Run) and their table of differences (differences.py)."""
    rows = []
    for number, run in enumerate(runs):
        rows.append({"label": run.label, "capture_sha256": file_sha256(check_build(run.build_dir).capture),
                     "model": table["models"][number], "dataset": table["datasets"][number],
                     "accuracy": table["accuracy"]["runs"][number], "plateau_step": table["plateau"]["runs"][number],
                     "last_step": table["last_step"]["runs"][number], "ninety_step": table["ninety"][number],
                     "duplicates": table["duplicates"][number]})
    return {"runs": rows, "differing_fields": [row["field"] for row in table["config"]]}


def write_summary(folder: Path, runs: list, table: dict) -> None:
    """Write summary.json into the comparison page's (staging) folder."""
    text = json.dumps(summary(runs, table), sort_keys=True, indent=1) + "\n"
    write_text_atomically(Path(folder) / SUMMARY_NAME, text)


def read_summary(folder: Path) -> dict | None:
    """Return a comparison folder's summary, or None when it has none of the expected structure."""
    data = read_json(Path(folder) / SUMMARY_NAME)
    runs = data.get("runs")
    if not isinstance(runs, list) or len(runs) < 2 or not all(
            isinstance(run, dict) and isinstance(run.get("capture_sha256"), str) for run in runs):
        return None
    return data
