"""Skip re-rendering when nothing it depends on changed (the capture, the settings, the renderer).

`render_if_stale(capture, build_dir, ...)` returns the manifest of build/assets/, rendering only
when its recorded key differs; editing a template therefore never re-encodes a video.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from model.files import fingerprint, write_text_atomically
from model.stage import CAPTURE_NAME, record_timing
from render.stage import render_capture

ASSETS = "assets"
KEY_NAME = "render-key.json"


def renderer_fingerprint() -> str:
    """Return a hash of the render package's code."""
    return fingerprint(sorted(Path(__file__).resolve().parent.glob("*.py")))


def file_digest(path: Path) -> str:
    """Return the sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def render_key(build_dir: Path, settings: dict) -> dict:
    """Return what the rendered assets depend on."""
    return {"capture_sha256": file_digest(Path(build_dir) / CAPTURE_NAME), "renderer": renderer_fingerprint(),
            "settings": settings}


def current_manifest(assets_dir: Path, key: dict) -> dict | None:
    """Return the existing manifest if it was rendered with `key` and all its files exist, else None."""
    try:
        stored_key = json.loads((assets_dir / KEY_NAME).read_text())
        manifest = json.loads((assets_dir / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if stored_key != key:
        return None
    names = [entry["path"] for layer in manifest["layers"] for entry in layer["files"].values()]
    names += [manifest["curves"][kind]["path"] for kind in ("svg", "png")]
    return manifest if all((assets_dir / name).exists() for name in names) else None


def render_if_stale(capture, build_dir: Path, *, gif_budget_bytes: int = 5_000_000, fps: float = 10,
                    progress: bool = True) -> dict:
    """Render build/assets/ unless it already matches the capture, settings and renderer code."""
    assets_dir = Path(build_dir) / ASSETS
    key = render_key(build_dir, {"gif_budget_bytes": gif_budget_bytes, "fps": fps})
    manifest = current_manifest(assets_dir, key)
    if manifest is not None:
        print(f"render: reusing {assets_dir} (same capture, settings and renderer)", file=sys.stderr)
        return manifest
    (assets_dir / KEY_NAME).unlink(missing_ok=True)
    started = time.perf_counter()
    timings: dict = {}
    manifest = render_capture(capture, assets_dir, fps=fps, gif_budget_bytes=gif_budget_bytes, progress=progress,
                              timings=timings)
    write_text_atomically(assets_dir / KEY_NAME, json.dumps(key, indent=2, sort_keys=True) + "\n")
    seconds = time.perf_counter() - started
    record_timing(build_dir, "render", {"total_seconds": round(seconds, 2),
                                        "curves_seconds": round(timings.get("curves_s", 0.0), 2)})
    total = sum(entry["bytes"] for layer in manifest["layers"] for entry in layer["files"].values())
    print(f"render: wrote {assets_dir} ({total / 1e6:.1f} MB) in {seconds:.1f}s", file=sys.stderr)
    return manifest
