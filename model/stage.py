"""The capture stage of `make site`: reuse a matching build/capture.npz or train and write one.

`run_capture(config, build_dir)` returns the Capture; it retrains when the archive was made by
another config or other training code, and refuses (CaptureError) to touch an archive it cannot
read, so nothing the user has is overwritten by mistake.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from model.capture import Capture
from model.files import fingerprint, write_text_atomically
from model.keras_file import normalise_keras_file

CODE_FILES = ("architecture.py", "callbacks.py", "capture.py", "data.py", "recorder.py", "train.py")
CAPTURE_NAME = "capture.npz"
MODEL_NAME = "model.keras"
TIMINGS_NAME = "timings.json"


def code_fingerprint() -> str:
    """Return a hash of the training code, so an archive made by other code is not reused."""
    folder = Path(__file__).resolve().parent
    return fingerprint(folder / name for name in CODE_FILES)


def check_writable(build_dir: Path) -> None:
    """Raise ValueError naming the fix when the build folder cannot be created or written."""
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=build_dir, prefix=".write-check-"):
            pass
    except OSError as error:
        raise ValueError(f"build folder {build_dir} is not writable ({error.strerror}): "
                         f"fix its permissions or pass another --build-dir") from None


def reusable_capture(config, build_dir: Path) -> Capture | None:
    """Return the existing capture if it was made by this config and code, else None."""
    path = build_dir / CAPTURE_NAME
    if not path.exists():
        return None
    capture = Capture.load(path)  # raises CaptureError for a corrupt or foreign archive
    if capture.config_json != config.to_json():
        print(f"capture: {path} was made with another config; retraining", file=sys.stderr)
        return None
    if capture.meta.get("code_fingerprint") != code_fingerprint():
        print(f"capture: {path} was made by other training code; retraining", file=sys.stderr)
        return None
    if not (build_dir / MODEL_NAME).exists():
        print(f"capture: {build_dir / MODEL_NAME} is missing; retraining", file=sys.stderr)
        return None
    return capture


def run_capture(config, build_dir: Path, progress: bool = True) -> Capture:
    """Reuse or create build/capture.npz and build/model.keras for `config`."""
    build_dir = Path(build_dir)
    check_writable(build_dir)
    existing = reusable_capture(config, build_dir)
    if existing is not None:
        print(f"capture: reusing {build_dir / CAPTURE_NAME} (same config and code)", file=sys.stderr)
        return existing

    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from model.data import load_dataset
    from model.train import train

    started = time.perf_counter()
    dataset = load_dataset(config)
    print(f"capture: training on {dataset.title} ({len(dataset.x_train):,} training images) "
          f"for {config.steps} steps of {config.batch_size}", file=sys.stderr)
    capture, model, fit_seconds = train(config, dataset, progress=progress)
    capture.meta["code_fingerprint"] = code_fingerprint()
    save_model_atomically(model, build_dir / MODEL_NAME)
    capture.save(build_dir / CAPTURE_NAME)
    record_timing(build_dir, "capture", {"fit_seconds": round(fit_seconds, 2),
                                         "total_seconds": round(time.perf_counter() - started, 2)})
    print(f"capture: wrote {build_dir / CAPTURE_NAME} ({len(capture.steps)} snapshots) and "
          f"{build_dir / MODEL_NAME}; final test accuracy {capture.meta['final_test_accuracy']:.4f}", file=sys.stderr)
    return capture


def save_model_atomically(model, path: Path) -> None:
    """Save a Keras model to a temporary .keras file, make it deterministic, and rename it into place."""
    temporary = path.with_name(f".{path.stem}.tmp{os.getpid()}.keras")
    try:
        model.save(temporary)
        normalise_keras_file(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def record_timing(build_dir: Path, stage: str, numbers: dict) -> None:
    """Merge one stage's timings into build/timings.json (written atomically)."""
    path = Path(build_dir) / TIMINGS_NAME
    try:
        timings = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        timings = {}
    timings[stage] = numbers
    write_text_atomically(path, json.dumps(timings, indent=2, sort_keys=True) + "\n")
