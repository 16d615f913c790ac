"""The comparison page's summary.json: which runs it compares and their headline numbers, for the article.

    write_summary(staging, runs, table)       # compare/stage.py, beside index.html
    pipeline.layout.read_compare_summary(folder)   # report/page/compared.py: None unless it is one this tool wrote

Each run is named by its archive's sha256, so an article can tell whether it is one of the compared runs
(a rebuilt run has another archive, and the article then says nothing about a comparison of the old one).
"""

from __future__ import annotations

import json
from pathlib import Path

from compare.runs import check_build
from pipeline.files import file_sha256, write_text_atomically
from pipeline.layout import COMPARE_SUMMARY_NAME


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
    write_text_atomically(Path(folder) / COMPARE_SUMMARY_NAME, text)
