"""The article's drawn figures, drawn once per run: kept in build/figures.json with what they were drawn from.

    cache = FigureCache.open(build_dir, findings_text, train_loss, article, edition)
    svg, size = cache.get("settling.svg") or draw()     # report/page/figure_files.py
    cache.put("settling.svg", svg, size); cache.save()

matplotlib's drawing of the settling figure, the heat maps and the XOR figure is the slowest part of the site
stage (two of a short run's three seconds), and `generate.py site` runs again far more often than the findings
change (a new date, a share, another edition list). The SVGs depend only on the findings (as findings.json holds
them), the training loss, whether the page may draw conclusion 3's line, the drawing code and its words, and
matplotlib. Those make the key: a key that differs, or a figure whose bytes no longer match the sha256 stored
beside it, means drawing again; a run that draws stores what it drew in one atomic write, so the same inputs give
the same page bytes whether its figures were drawn now or read back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np

from pipeline.files import fingerprint, write_text_atomically
from pipeline.layout import read_json

CACHE_NAME = "figures.json"
REPO = Path(__file__).resolve().parents[1]


def drawing_fingerprint() -> str:
    """Return a hash of the code and words the figures are drawn with (report/figures/, the words' templates and
    the editions' catalogues)."""
    numbers = REPO / "report" / "numbers"
    paths = [*sorted((REPO / "report" / "figures").glob("*.py")), REPO / "report" / "page" / "figure_files.py",
             REPO / "report" / "voice.py", numbers / "findings.py", numbers / "thresholds.py",
             *sorted((REPO / "templates" / "words").glob("*.txt.j2")), *sorted((REPO / "locale").rglob("*.po"))]
    return fingerprint(paths)


def _sha256(data: bytes) -> str:
    """Return the hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class FigureCache:
    """The drawings stored for one key, and those drawn by this run to store under it."""

    path: Path | None
    key: dict
    stored: dict = field(default_factory=dict)  # name -> {"svg": text, "width", "height"} read back and verified
    drawn: dict = field(default_factory=dict)  # name -> the same, drawn by this run

    @classmethod
    def open(cls, build_dir: Path | None, findings_text: str, train_loss, article: bool,
             edition: str) -> FigureCache:
        """Return the cache of build_dir (None: a cache that keeps nothing) for these findings and this loss, drawn
        in `edition`'s words."""
        loss = np.ascontiguousarray(np.asarray(train_loss, np.float64))
        key = {"findings_sha256": _sha256(findings_text.encode("utf-8")), "loss_sha256": _sha256(loss.tobytes()),
               "article": bool(article), "edition": edition, "drawing": drawing_fingerprint(),
               "matplotlib": matplotlib.__version__}
        path = None if build_dir is None else Path(build_dir) / CACHE_NAME
        cache = cls(path, key)
        if path is not None:
            stored = read_json(path)
            if stored.get("key") == key and isinstance(stored.get("figures"), dict):
                cache.stored = {name: entry for name, entry in stored["figures"].items() if _intact(entry)}
        return cache

    def get(self, name: str) -> tuple[bytes, tuple[int, int]] | None:
        """Return a stored figure's SVG bytes and (width, height), or None when it must be drawn."""
        entry = self.stored.get(name)
        if entry is None:
            return None
        self.drawn[name] = entry
        size = None if entry["width"] is None else (entry["width"], entry["height"])
        return entry["svg"].encode("utf-8"), size

    def put(self, name: str, svg: bytes, size: tuple[int, int] | None) -> None:
        """Keep a figure this run drew (size None: the figure's size is not used)."""
        width, height = size if size is not None else (None, None)
        text = svg.decode("utf-8")
        self.drawn[name] = {"svg": text, "sha256": _sha256(svg), "width": width, "height": height}

    def save(self) -> None:
        """Store this run's figures under its key, unless they are exactly what is stored already."""
        if self.path is None or (self.drawn == self.stored and self.stored):
            return
        write_text_atomically(self.path, json.dumps({"key": self.key, "figures": self.drawn}, sort_keys=True,
                                                    separators=(",", ":")))


def _intact(entry) -> bool:
    """Whether a stored figure is whole: its SVG text still has the sha256 stored beside it."""
    try:
        return _sha256(entry["svg"].encode("utf-8")) == entry["sha256"]
    except (KeyError, TypeError, AttributeError):
        return False
