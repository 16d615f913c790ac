"""The render stage: reuse build/assets/ when it matches the capture, settings and renderer, else render it anew.

    manifest = render.stage.run(capture, Layout(build_dir, site_dir), RenderSettings(), timings=timings)

(RenderSettings: render/encode.py; the render key holds all of its fields.)

A reused folder is checked file by file against the sha256 its manifest recorded, so a damaged
or truncated asset is re-rendered, never published. A new folder is rendered beside the old one
and swapped in whole, so a failed or killed render leaves the previous assets as they were;
editing a template therefore never re-encodes a video, and a bad setting never costs a render.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from pipeline.files import crash_point, file_sha256, fingerprint, write_text_atomically
from pipeline.folders import replacing
from pipeline.layout import MANIFEST_NAME, RENDER_KEY_NAME, Layout, read_json
from pipeline.ownership import ASSETS
from render.assets import file_entries, render_capture
from render.encode import DEFAULT_SETTINGS, RenderSettings


def renderer_fingerprint() -> str:
    """Return a hash of the render package's code and of the colour scales it shares with report/."""
    here = Path(__file__).resolve().parent
    return fingerprint([*sorted(here.glob("*.py")), here.parent / "pipeline" / "scales.py"])


def render_key(layout: Layout, settings: RenderSettings) -> dict:
    """Return what the rendered assets depend on."""
    return {"capture_sha256": file_sha256(layout.capture), "renderer": renderer_fingerprint(),
            "settings": asdict(settings)}


def current_manifest(assets_dir: Path, key: dict) -> dict | None:
    """Return the existing manifest if it was rendered with `key` and every file matches its hash, else None."""
    if read_json(assets_dir / RENDER_KEY_NAME) != key:
        return None
    manifest = read_json(assets_dir / MANIFEST_NAME)
    try:
        entries = file_entries(manifest)
        names = [(entry["path"], entry["sha256"], entry["bytes"]) for entry in entries]
    except (KeyError, TypeError, AttributeError):
        return None  # a manifest of another structure: render again rather than trust it
    for name, digest, size in names:
        path = assets_dir / str(name)
        if Path(str(name)).name != name or not path.is_file() or path.stat().st_size != size:
            return None
        if file_sha256(path) != digest:
            return None
    return manifest


def run(capture, layout: Layout, settings: RenderSettings = DEFAULT_SETTINGS, *, progress: bool = True,
        timings: dict | None = None) -> dict:
    """Return the manifest of build/assets/, rendering it first unless it already matches."""
    key = render_key(layout, settings)
    manifest = current_manifest(layout.assets, key)
    if manifest is not None:
        print(f"render: reusing {layout.assets} (same capture, settings and renderer; files verified)",
              file=sys.stderr)
        return manifest
    started = time.perf_counter()
    stage_timings = {} if timings is None else timings
    with replacing(layout.assets, ASSETS, layout.build_dir, "render") as staging:
        manifest = render_capture(capture, staging, settings, progress=progress, timings=stage_timings)
        write_text_atomically(staging / RENDER_KEY_NAME, json.dumps(key, indent=2, sort_keys=True) + "\n")
        crash_point("render-staged")
    seconds = time.perf_counter() - started
    layout.record_timing("render", {"total_seconds": round(seconds, 2),
                                    "curves_seconds": round(stage_timings.get("curves_s", 0.0), 2)})
    total = sum(entry["bytes"] for entry in file_entries(manifest))
    print(f"render: wrote {layout.assets} ({total / 1e6:.1f} MB) in {seconds:.1f}s", file=sys.stderr)
    return manifest
