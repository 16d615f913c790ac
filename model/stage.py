"""The capture stage: reuse a matching build/capture.npz + model.keras, or train and write both.

    capture = model.stage.run(config, Layout(build_dir, site_dir), timings=timings)

It retrains when the archive was made by another config or other training code, or when
model.keras is not the model the archive recorded (its sha256 is in the archive's meta, so a
crash between the two writes or a damaged model is noticed). It refuses (CaptureError) to touch
an archive it cannot read, so nothing the user has is overwritten by mistake.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from model.capture import Capture
from pipeline.files import crash_point, file_sha256, fingerprint
from pipeline.layout import Layout

# Every model/*.py whose code decides what the capture holds (config.py only parses: its values are in the config).
CODE_FILES = ("architecture.py", "callbacks.py", "capture.py", "data.py", "data_arrays.py", "distribute.py",
              "keras_file.py", "layers.py", "recorder.py", "setup.py", "train.py", "user_model.py")
MEMORY_HEADROOM_BYTES = 1_500_000_000  # TensorFlow, the data and the model beside the snapshot buffers


def code_fingerprint() -> str:
    """Return a hash of the training code, so an archive made by other code is not reused."""
    folder = Path(__file__).resolve().parent
    return fingerprint(folder / name for name in CODE_FILES)


def reusable_capture(config, layout: Layout) -> Capture | None:
    """Return the existing capture if it was made by this config and code with this model file, else None."""
    path = layout.capture
    if not path.exists():
        return None
    capture = Capture.load(path)  # raises CaptureError for a corrupt or foreign archive
    if capture.config_json != config.to_json():
        print(f"capture: {path} was made with another config; retraining", file=sys.stderr)
        return None
    if capture.meta.get("code_fingerprint") != code_fingerprint():
        print(f"capture: {path} was made by other training code; retraining", file=sys.stderr)
        return None
    if not layout.model.is_file() or file_sha256(layout.model) != capture.meta.get("model_sha256"):
        print(f"capture: {layout.model} is missing or is not the model {path} recorded; retraining",
              file=sys.stderr)
        return None
    return capture


def check_memory(config, buffers: int) -> None:
    """Raise ValueError naming the fix when `buffers` bytes of snapshots cannot fit in free memory."""
    import psutil

    needed = 2 * buffers + MEMORY_HEADROOM_BYTES  # the buffers, and their copy when training ends
    available = psutil.virtual_memory().available
    if needed <= available:
        return
    room = available - MEMORY_HEADROOM_BYTES
    fix = (f"pass --every {max(config.capture_every + 1, math.ceil(config.capture_every * 2 * buffers / room))} "
           f"or fewer --steps (or fewer --layers)" if room > 0 else "free some memory first")
    raise ValueError(f"recording {config.steps:,} steps (every {config.capture_every}) would need about "
                     f"{needed / 1e9:.1f} GB of memory but {available / 1e9:.1f} GB is free: {fix}")


def run(config, layout: Layout, *, progress: bool = True, timings: dict | None = None) -> Capture:
    """Reuse or create the capture archive and model file for `config`; return the Capture."""
    existing = reusable_capture(config, layout)
    if existing is not None:
        print(f"capture: reusing {layout.capture} (same config, code and model)", file=sys.stderr)
        return existing

    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from model.data import load_dataset
    from model.setup import prepare_run, snapshot_bytes
    from model.train import train

    started = time.perf_counter()
    dataset = load_dataset(config)
    setup = prepare_run(config, dataset)  # builds and checks the model: bad models fail here, before any write
    check_memory(config, snapshot_bytes(config, setup, len(dataset.probe_indices)))
    print(f"capture: training {setup.model_meta['source']} on {dataset.title} ({len(dataset.x_train):,} training "
          f"images), recording {len(setup.recorded)} layers for {config.steps} steps of {config.batch_size}",
          file=sys.stderr)
    capture, model, fit_seconds = train(config, dataset, progress=progress, setup=setup)
    capture.meta["code_fingerprint"] = code_fingerprint()
    save_model_atomically(model, capture, layout.model)
    crash_point("capture-model-written")
    capture.save(layout.capture)
    numbers = {"fit_seconds": round(fit_seconds, 2), "total_seconds": round(time.perf_counter() - started, 2)}
    layout.record_timing("capture", numbers)
    if timings is not None:
        timings["capture"] = numbers
    print(f"capture: wrote {layout.capture} ({len(capture.steps)} snapshots) and {layout.model}; "
          f"final test accuracy {capture.meta['final_test_accuracy']:.4f}", file=sys.stderr)
    return capture


def save_model_atomically(model, capture: Capture, path: Path) -> None:
    """Save the model deterministically beside `path`, note its sha256 in the capture's meta, rename it in."""
    from model.keras_file import normalise_keras_file

    temporary = path.with_name(f".{path.stem}.tmp{os.getpid()}.keras")  # Keras insists on the .keras suffix
    try:
        model.save(temporary)
        normalise_keras_file(temporary)
        capture.meta["model_sha256"] = file_sha256(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
