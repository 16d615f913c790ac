"""Each compared run's build folder: checked to be finished and rendered, then loaded.

    run = load_run(Path("build-a"), "tanh")   # raises ValueError naming the fix when the folder is not ready

A build folder is ready when this tool wrote it (its marker), it holds a complete `capture.h5` (not only an
interrupted run's `capture.partial/`), and its assets were rendered from that very capture (render-key.json's
capture_sha256) with every explorer file the manifest lists, byte for byte (its sha256). Nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from capture.archive import Capture
from pipeline.files import file_sha256
from pipeline.layout import RENDER_KEY_NAME, Layout, read_json
from pipeline.ownership import BUILD, read_marker
from render.page_data import FORMAT_VERSION


@dataclass
class Run:
    """One compared run: its label, build folder, capture, render manifest and explorer data."""

    label: str
    build_dir: Path
    capture: Capture
    manifest: dict
    explore: dict  # the explore.json render/page_data.py wrote
    chunk_files: dict[str, Path]  # chunk path (as explore.json names it) -> the file in build/assets


def _render_hint(build: Path) -> str:
    return (f"run `python generate.py render --build-dir {build}` with the flags that built it, then compare again")


def check_build(build: Path) -> Layout:
    """Raise ValueError (with the fix) unless `build` is a finished, rendered build folder; return its layout."""
    layout = Layout(build, build / "unused-site")
    if build.is_symlink() or not build.is_dir():
        raise ValueError(f"{build} is not a folder: pass build folders that `generate.py render` or `generate.py "
                         f"site` wrote (--build-dir)")
    marker = read_marker(build)
    if marker is None or marker.kind != BUILD:
        raise ValueError(f"{build} is not a build folder written by this tool: pass the --build-dir of a finished "
                         f"`generate.py render` or `generate.py site` run")
    if not layout.capture.is_file():
        interrupted = " (it holds an interrupted run: finish it with `generate.py capture --resume`)" \
            if layout.partial_capture.exists() else ""
        raise ValueError(f"{build} holds no complete capture.h5{interrupted}: {_render_hint(build)}")
    key = read_json(layout.assets / RENDER_KEY_NAME)
    if not layout.manifest.is_file() or key.get("capture_sha256") != file_sha256(layout.capture):
        raise ValueError(f"{build}: its rendered assets are missing or not those of its capture.h5: "
                         f"{_render_hint(build)}")
    return layout


def _checked_file(layout: Layout, entry: dict) -> Path:
    """Return an explorer file the manifest lists, refusing one that is missing or changed."""
    name = str(entry.get("path", ""))
    path = layout.assets / name
    if Path(name).name != name or not path.is_file() or path.stat().st_size != entry.get("bytes") \
            or file_sha256(path) != entry.get("sha256"):
        raise ValueError(f"{layout.build_dir}: the explorer file assets/{name} is missing or changed since it was "
                         f"rendered: {_render_hint(layout.build_dir)}")
    return path


def load_run(build: Path, label: str) -> Run:
    """Check and load one build folder (see the module's docstring); raise ValueError naming the fix."""
    layout = check_build(build)
    manifest = read_json(layout.manifest)
    explore_entry = manifest.get("explore")
    if not isinstance(explore_entry, dict) or "meta" not in explore_entry:
        raise ValueError(f"{build}: its render manifest has no explorer data (rendered by an older version): "
                         f"{_render_hint(build)}")
    explore = json.loads(_checked_file(layout, explore_entry["meta"]).read_text())
    if explore.get("format_version") != FORMAT_VERSION:  # the page's scripts read this version's files only
        raise ValueError(f"{build}: its explorer data are of format {explore.get('format_version')}, not this "
                         f"version's {FORMAT_VERSION}: {_render_hint(build)}")
    chunks = {str(entry["path"]): _checked_file(layout, entry) for entry in explore_entry.get("chunks", [])}
    capture = Capture.load(layout.capture)
    if [layer["name"] for layer in explore["layers"]] != capture.layer_names:
        raise ValueError(f"{build}: its explorer data and its capture name different layers: {_render_hint(build)}")
    return Run(label, build, capture, manifest, explore, chunks)


def run_labels(builds: list[Path]) -> list[str]:
    """Return each run's label: its build folder's name, numbered where two names are the same."""
    names = [build.resolve().name or "run" for build in builds]
    return [name if names.count(name) == 1 else f"{name} ({index + 1})" for index, name in enumerate(names)]
