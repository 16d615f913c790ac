"""The run's findings, measured once per capture: kept in build/findings.json beside what they were measured from.

    findings = cached_findings(capture, layout, scales)

The analysis of a default run takes ~10 s of CPU (every layer fitted and resampled on the analysis set), and
`generate.py site` is run again far more often than the capture changes (a new date, a share, a re-run). So the
findings are stored in the build folder with the key they depend on: the archive's sha256, the analysis code
(report/numbers/ and capture/) and the colour scales the render stage chose. A key that differs, or a file that
cannot be read, means measuring again. The page is always built from the findings as findings.json holds them
(rounded to its digits and read back), so a page from stored findings and one from a fresh analysis are the
same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.files import file_sha256, fingerprint, write_text_atomically
from pipeline.layout import read_json
from report.numbers.analysis import analyse
from report.numbers.findings import Findings

CACHE_NAME = "findings.json"
REPO = Path(__file__).resolve().parents[1]


def analysis_fingerprint() -> str:
    """Return a hash of the code the findings depend on: report/numbers/ (with its subfolders) and capture/."""
    paths = sorted((REPO / "report" / "numbers").rglob("*.py")) + sorted((REPO / "capture").glob("*.py"))
    return fingerprint(paths)


def manifest_scales(manifest: dict) -> dict:
    """Return {layer: the colour scale the render stage chose} from its manifest: the scales findings are keyed by."""
    return {layer["name"]: layer["scale"] for layer in manifest.get("layers", []) if "scale" in layer}


def findings_key(layout, scales: dict) -> dict:
    """Return what the findings of layout's capture depend on: its sha256, the analysis code, the colour scales."""
    return {"capture_sha256": file_sha256(layout.capture), "analysis": analysis_fingerprint(),
            "scales": json.loads(json.dumps(scales, sort_keys=True))}


def stored_findings(layout, scales: dict) -> Findings | None:
    """Return build/findings.json's findings when they were measured from this capture with this code, else None."""
    return _stored(Path(layout.build_dir) / CACHE_NAME, findings_key(layout, scales))


def _stored(path: Path, key: dict) -> Findings | None:
    """Return the findings stored in `path` under `key`, or None (another key, or a file of another structure)."""
    stored = read_json(path)
    if stored.get("key") != key or not isinstance(stored.get("findings"), dict):
        return None
    try:
        return Findings.from_dict(stored["findings"])
    except (KeyError, TypeError, ValueError):
        return None


def cached_findings(capture, layout, scales: dict) -> Findings:
    """Return the capture's findings: build/findings.json's when its key matches, else measured and stored."""
    if not Path(layout.capture).is_file():  # a capture not read from this build's archive: nothing to key it by
        return Findings.from_dict(json.loads(analyse(capture, scales).to_json()))
    path, key = Path(layout.build_dir) / CACHE_NAME, findings_key(layout, scales)
    stored = _stored(path, key)
    if stored is not None:
        return stored
    data = json.loads(analyse(capture, scales).to_json())
    write_text_atomically(path, json.dumps({"key": key, "findings": data}, sort_keys=True, separators=(",", ":")))
    return Findings.from_dict(data)
