"""The file layout of build/, site/ and share/: every name a stage reads or writes, and the timings file.

    layout = Layout(Path("build"), Path("site"), Path("share"))
    layout.capture        build/capture.h5      the recorded run (capture/schema.py documents it)
    layout.partial_capture build/capture.partial/ an unfinished run's flushed chunks (capture/partial.py)
    layout.model          build/model.keras     the trained model; its sha256 is in the capture's meta
    layout.assets         build/assets/         rendered files + manifest.json + render-key.json
    layout.timings        build/timings.json    wall-clock seconds per stage (never published)
    layout.site_dir       site/                 the article, swapped in whole
    layout.share_dir      share/                the article as one HTML file (report/share.py); None: not written

Stages receive a Layout and never spell these names themselves, so no stage imports another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.files import write_text_atomically

CAPTURE_NAME = "capture.h5"
PARTIAL_CAPTURE_NAME = "capture.partial"
MODEL_NAME = "model.keras"
TIMINGS_NAME = "timings.json"
ASSETS_NAME = "assets"
MANIFEST_NAME = "manifest.json"
RENDER_KEY_NAME = "render-key.json"
ERROR_LOG_NAME = "error.log"
COMPARE_SUMMARY_NAME = "compare.json"  # a comparison page's runs (compare/summary.py writes it, report/ reads it)


@dataclass(frozen=True)
class Layout:
    """Where one run's artifacts live."""

    build_dir: Path
    site_dir: Path
    share_dir: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "build_dir", Path(self.build_dir))
        object.__setattr__(self, "site_dir", Path(self.site_dir))
        if self.share_dir is not None:
            object.__setattr__(self, "share_dir", Path(self.share_dir))

    @property
    def capture(self) -> Path:
        """Return the capture archive's path."""
        return self.build_dir / CAPTURE_NAME

    @property
    def partial_capture(self) -> Path:
        """Return the folder of an unfinished run's flushed chunks and checkpoint."""
        return self.build_dir / PARTIAL_CAPTURE_NAME

    @property
    def model(self) -> Path:
        """Return the trained model's path."""
        return self.build_dir / MODEL_NAME

    @property
    def assets(self) -> Path:
        """Return the rendered assets' folder."""
        return self.build_dir / ASSETS_NAME

    @property
    def manifest(self) -> Path:
        """Return the render manifest's path."""
        return self.assets / MANIFEST_NAME

    @property
    def timings(self) -> Path:
        """Return the timings file's path."""
        return self.build_dir / TIMINGS_NAME

    @property
    def error_log(self) -> Path:
        """Return where an unexpected error's traceback is written."""
        return self.build_dir / ERROR_LOG_NAME

    def record_timing(self, stage: str, numbers: dict) -> None:
        """Merge one stage's timings into build/timings.json (written atomically)."""
        timings = read_json(self.timings)
        timings[stage] = numbers
        write_text_atomically(self.timings, json.dumps(timings, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> dict:
    """Return a JSON object file's content, or {} when it is absent, unreadable or not an object."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def read_compare_summary(folder: Path) -> dict | None:
    """Return a comparison folder's compare.json, or None without two or more runs named by archive sha256."""
    data = read_json(Path(folder) / COMPARE_SUMMARY_NAME)
    runs = data.get("runs")
    if not isinstance(runs, list) or len(runs) < 2 or not all(
            isinstance(run, dict) and isinstance(run.get("capture_sha256"), str) for run in runs):
        return None
    return data
