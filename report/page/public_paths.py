"""What the page may publish of the builder's paths: project-relative inside the project, else a name only.

Use: `public_meta(meta)` and `public_config(config)` give the capture's meta and config as the page shows them:
a file inside the project by its project-relative path, any other by its name only (the page shows the file's
sha256 beside it) and, in the rebuild command, as a placeholder the reader fills in (`path/to/NAME`);
`placeholders(config)` lists those placeholders. The archive keeps the real paths.
"""

from __future__ import annotations

from pathlib import Path

from report.capture_facts import ARTICLE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "path/to"  # stands, in the rebuild command, for a folder outside the project
DEBIAN_FASHION = "Debian's dataset-fashion-mnist package"  # model/data.py's fallback, named by package, not path
PATH_FIELDS = ("model", "data", "data_dir")  # config fields that hold a path of the builder's machine
NOT_PATHS = ("keras.datasets.",)  # dataset sources that name a loader, not a file


def project_path(path: str) -> str | None:
    """Return the path relative to the project when it lies inside it (relative paths: from here), else None."""
    full = Path(path)
    try:
        return (full if full.is_absolute() else Path.cwd() / full).resolve().relative_to(PROJECT_ROOT).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


def _spec_parts(spec: str, field: str) -> tuple[str, str]:
    """Split a --model FILE.py:FUNCTION into (FILE.py, ":FUNCTION"); any other path is (path, "")."""
    if field == "model" and not spec.endswith(".keras") and ":" in spec:
        file, _, function = spec.rpartition(":")
        return file, f":{function}"
    return spec, ""


def shown_path(spec: str, field: str = "data") -> str:
    """Return a path as the page shows it: project-relative inside the project, else the file's name alone."""
    file, suffix = _spec_parts(spec, field)
    return (project_path(file) or Path(file).name or PLACEHOLDER) + suffix


def command_path(spec: str, field: str = "data") -> str:
    """Return a path as the rebuild command gives it: project-relative, else a placeholder ending in its name."""
    file, suffix = _spec_parts(spec, field)
    return (project_path(file) or f"{PLACEHOLDER}/{Path(file).name or 'folder'}") + suffix


def public_config(config: dict) -> dict:
    """Return the config with its paths as the rebuild command gives them (hashes and the rest unchanged)."""
    return {name: command_path(value, name) if name in PATH_FIELDS and isinstance(value, str) else value
            for name, value in config.items()}


def placeholders(config: dict) -> list[str]:
    """Return the rebuild command's placeholder paths (files outside the project) of a public_config."""
    return [_spec_parts(value, name)[0] for name, value in config.items()
            if name in PATH_FIELDS and isinstance(value, str) and value.startswith(f"{PLACEHOLDER}/")]


def public_meta(meta: dict) -> dict:
    """Return the meta with the dataset's and the model's sources as the page may show them."""
    from pipeline.config import DEBIAN_FASHION_DIR

    public = dict(meta)
    dataset = dict(meta.get("dataset") or {})
    source = dataset.get("source")
    if isinstance(source, str) and dataset.get("name") != "bundled" and not source.startswith(NOT_PATHS):
        debian = Path(source).resolve() == DEBIAN_FASHION_DIR.resolve()
        dataset["source"] = DEBIAN_FASHION if debian else shown_path(source)
        public["dataset"] = dataset
    model = meta.get("model")
    if model and model.get("origin", ARTICLE) != ARTICLE and isinstance(model.get("source"), str):
        public["model"] = dict(model, source=shown_path(model["source"], "model"))
    return public
