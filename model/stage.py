"""The capture stage: reuse a matching build/capture.h5 + model.keras, or train and write both.

    capture = model.stage.run(config, Layout(build_dir, site_dir), timings=timings)
    capture = model.stage.run(config, layout, resume=True)  # continue an interrupted run from its checkpoint

Training streams the snapshots into build/capture.partial/ chunk by chunk, with a model checkpoint
each time (capture/chunk_writer.py); the finished archive is assembled (capture/partial.py) and renamed
into place at the end, so an interrupted run leaves the previous complete archive whole.

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

from capture.archive import Capture
from capture.partial import read_state
from pipeline.files import crash_point, file_sha256, fingerprint
from pipeline.layout import Layout

# Every model/*.py whose code decides what the capture holds (config.py only parses: its values are in the config),
# and every file of the capture package (capture/*.py: the archive's layout, writers and checks).
CODE_FILES = ("architecture.py", "callbacks.py", "data.py", "data_arrays.py", "distribute.py",
              "layer_tap.py", "layers.py", "recorder.py", "setup.py", "train.py", "user_model.py")
KERAS_FILE = Path(__file__).resolve().parent.parent / "pipeline" / "keras_file.py"  # how model.keras is written
CAPTURE_PACKAGE = Path(__file__).resolve().parent.parent / "capture"
# The archive's share of the raw float16 bytes: 0.36-0.43 measured (shuffle + gzip-1; bench/archive_formats.py at
# 5973e53); twice that is needed while the final file is assembled beside the partial archive's chunks.
ARCHIVE_FRACTION = 0.5


class ResumeError(ValueError):
    """`--resume` cannot continue: no interrupted run, another config or code, or no checkpoint."""


def code_fingerprint() -> str:
    """Return a hash of the training and capture code, so an archive made by other code is not reused."""
    folder = Path(__file__).resolve().parent
    return fingerprint([*(folder / name for name in CODE_FILES), KERAS_FILE, *sorted(CAPTURE_PACKAGE.glob("*.py"))])


def reusable_capture(config, layout: Layout) -> tuple[Capture | None, str]:
    """Return the existing capture if this config and code made it with this model file, else (None, why not)."""
    path = layout.capture
    if not path.exists():
        return None, ""
    capture = Capture.load(path)  # raises CaptureError for a corrupt or foreign archive
    if capture.config_json != config.to_json():
        return None, f"capture: {path} was made with another config; retraining"
    if capture.meta.get("code_fingerprint") != code_fingerprint():
        return None, f"capture: {path} was made by other training code; retraining"
    if not layout.model.is_file() or file_sha256(layout.model) != capture.meta.get("model_sha256"):
        return None, f"capture: {layout.model} is missing or is not the model {path} recorded; retraining"
    return capture, ""


def check_memory(config, dataset, setup, buffers: int) -> None:
    """Raise ValueError with the fix when the run's peak memory (model.setup.memory_needs) exceeds free memory."""
    import dataclasses

    import psutil

    from model.setup import memory_needs

    needs = memory_needs(config, dataset, setup, buffers)
    needed, available = sum(needs.values()), psutil.virtual_memory().available
    if needed <= available:
        return
    parts = ", ".join(f"{name} {size / 1e9:.1f}" for name, size in sorted(needs.items(), key=lambda item: -item[1])
                      if size >= 0.1 * needed)
    low, high = 0, config.batch_size  # the largest batch size that fits: low fits (0: none does), high does not
    while high - low > 1:
        middle = (low + high) // 2
        smaller = dataclasses.replace(config, batch_size=middle)
        low, high = (middle, high) if sum(memory_needs(smaller, dataset, setup, buffers).values()) <= available \
            else (low, middle)
    fixes = [f"pass --batch-size {low}"] if low else []
    if needs["snapshots"] >= 0.1 * needed:
        fixes.append("record fewer --layers")
    if needs["analysis replay"] >= 0.1 * needed:
        fixes.append("replay fewer images (--set analysis_images=N)")
    fixes.append("use smaller images or a smaller model")
    shape = "x".join(str(size) for size in dataset.image_shape)
    raise ValueError(f"training on {shape} images in batches of {config.batch_size} would need about "
                     f"{needed / 1e9:.1f} GB of memory ({parts} GB) but {available / 1e9:.1f} GB is free: "
                     f"{', or '.join(fixes)}")


def resume_state(config, layout: Layout) -> dict:
    """Return the interrupted run's state to continue, or raise ResumeError saying in one line why it cannot."""
    folder = layout.partial_capture
    state = read_state(folder)
    again = "run without --resume to start over"
    if state is None:
        raise ResumeError(f"--resume: there is no interrupted run in {folder} to continue; {again}")
    if state.get("complete"):
        raise ResumeError(f"--resume: the run in {folder} already finished; {again}")
    if state.get("config") != config.to_json():
        raise ResumeError(f"--resume: the interrupted run in {folder} had another config: pass the same flags as "
                          f"that run, or {again}")
    if state.get("code_fingerprint") != code_fingerprint():
        raise ResumeError(f"--resume: the interrupted run in {folder} was made by other training code; {again}")
    if not state["chunks"] or not state.get("checkpoint"):
        raise ResumeError(f"--resume: the interrupted run in {folder} flushed no chunk yet; {again}")
    if not (folder / state["checkpoint"]).is_file():
        raise ResumeError(f"--resume: the checkpoint {folder / state['checkpoint']} is missing; {again}")
    return state


def check_disk(config, raw_bytes: int, folder: Path, analysis_bytes: int = 0) -> None:
    """Raise ValueError naming the fix when the archive of `raw_bytes` snapshots (and the analysis set's
    `analysis_bytes`, model.setup.analysis_disk_bytes) will not fit on the disk."""
    import shutil

    needed = int(2 * ARCHIVE_FRACTION * raw_bytes) + analysis_bytes
    existing = next(parent for parent in (folder, *folder.resolve().parents) if parent.exists())
    free = shutil.disk_usage(existing).free
    if needed <= free:
        return
    every = max(config.capture_every + 1, math.ceil(config.capture_every * needed / max(free, 1)))
    raise ValueError(f"recording {config.steps:,} steps (every {config.capture_every}) would need about "
                     f"{needed / 1e9:.1f} GB of disk for the archive but {free / 1e9:.1f} GB is free in {existing}: "
                     f"pass --every {every} or fewer --steps (or fewer --layers, or --set analysis_images=0), "
                     f"or free some space")


def run(config, layout: Layout, *, progress: bool = True, timings: dict | None = None,
        resume: bool = False) -> Capture:
    """Reuse or create the capture archive and model file for `config` (`resume`: continue an interrupted run)."""
    state = resume_state(config, layout) if resume else None
    # Under several workers the others are training now, and wait for the chief: it trains with them.
    existing, why = (None, "") if resume or config.strategy == "multiworker" else reusable_capture(config, layout)
    if existing is not None:
        print(f"capture: reusing {layout.capture} (same config, code and model)", file=sys.stderr)
        return existing

    from model.data import load_dataset
    from model.quiet import import_tensorflow_quietly

    started = time.perf_counter()
    dataset = load_dataset(config)  # bad data fails here, before TensorFlow's import (keras' loaders import it)
    importing = time.perf_counter()
    import_tensorflow_quietly()
    started += time.perf_counter() - importing  # total_seconds counts the work, not TensorFlow's start-up
    from capture.partial import finish
    from capture.schema import CHUNK_ROWS
    from model.distribute import lost_workers_reported
    from model.setup import analysis_disk_bytes, prepare_run, snapshot_bytes
    from model.train import Stream, train

    setup = prepare_run(config, dataset)  # builds and checks the model: bad models fail here, before any write
    rows = config.steps // config.capture_every + 2
    ring = min(rows, CHUNK_ROWS + int(getattr(setup.model, "steps_per_execution", 1) or 1))
    raw = snapshot_bytes(config, setup, len(dataset.probe_indices))
    check_memory(config, dataset, setup, raw * ring // rows)
    check_disk(config, raw, layout.build_dir, analysis_disk_bytes(config, dataset, setup))
    earlier = read_state(layout.partial_capture)
    if state is None and earlier is not None and not earlier.get("complete"):
        print(f"capture: starting over; the interrupted run in {layout.partial_capture} (up to step "
              f"{earlier.get('last_step')}) is replaced (`--resume` would continue it)", file=sys.stderr)
    if why:  # said only now that the data and model loaded and passed the checks: retraining really starts
        print(why, file=sys.stderr)
    if state is not None:
        print(f"capture: resuming from step {state['last_step']} ({len(state['chunks'])} chunks kept)",
              file=sys.stderr)
    print(f"capture: training {setup.model_meta['source']} on {dataset.title} ({len(dataset.x_train):,} training "
          f"images), recording {len(setup.recorded)} layers for {config.steps} steps of {config.batch_size}",
          file=sys.stderr)
    stream = Stream(layout.partial_capture, code_fingerprint(), state)
    with lost_workers_reported(config):
        capture, model, fit_seconds, written = train(config, dataset, progress=progress, setup=setup, stream=stream)
    capture.meta["code_fingerprint"] = code_fingerprint()
    save_model_atomically(model, capture, layout.model)
    crash_point("capture-model-written")
    assembling = time.perf_counter()
    finish(layout.partial_capture, layout.capture, capture)
    assembled = time.perf_counter() - assembling
    capture = Capture.load(layout.capture)
    numbers = {"fit_seconds": round(fit_seconds, 2), "total_seconds": round(time.perf_counter() - started, 2),
               "chunk_write_seconds": round(written.get("chunks", 0.0), 2),
               "checkpoint_seconds": round(written.get("checkpoints", 0.0), 2),
               "archive_assemble_seconds": round(assembled, 2), "archive_bytes": layout.capture.stat().st_size,
               "replay_seconds": round(written.get("replay", 0.0), 2)}
    layout.record_timing("capture", numbers)
    if timings is not None:
        timings["capture"] = numbers
    print(f"capture: wrote {layout.capture} ({len(capture.steps)} snapshots) and {layout.model}; "
          f"final test accuracy {capture.meta['final_test_accuracy']:.4f}", file=sys.stderr)
    return capture


def save_model_atomically(model, capture: Capture, path: Path) -> None:
    """Save the model deterministically beside `path`, note its sha256 in the capture's meta, rename it in."""
    from pipeline.keras_file import normalise_keras_file

    temporary = path.with_name(f".{path.stem}.tmp{os.getpid()}.keras")  # Keras insists on the .keras suffix
    try:
        model.save(temporary)
        normalise_keras_file(temporary)
        capture.meta["model_sha256"] = file_sha256(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def train_as_worker(config, role, progress: bool = True) -> None:
    """Train as a non-chief worker of a multi-worker cluster, writing nothing outside a deleted scratch folder.

    Every worker runs the same `fit` (MultiWorkerMirroredStrategy keeps their weights equal with collective
    calls at every step) and only the chief writes the archive, the model and the site. The others still save
    each chunk's checkpoint and the final model, into scratch space deleted at the end: TensorFlow's rule for
    this strategy, because saving may take part in collective calls that every worker must make.
    """
    import tempfile

    from model.distribute import lost_workers_reported
    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from model.data import load_dataset
    from model.setup import prepare_run
    from model.train import Stream, train

    dataset = load_dataset(config)
    setup = prepare_run(config, dataset)
    print(f"capture: {role.label} training with the chief; the chief writes the archive, model and site",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="generate-worker-") as scratch:
        stream = Stream(Path(scratch) / "capture.partial", code_fingerprint())
        with lost_workers_reported(config):
            model = train(config, dataset, progress=progress, setup=setup, stream=stream).model
            model.save(Path(scratch) / "model.keras")  # in step with the chief's save (see the docstring)
    print(f"capture: {role.label} finished", file=sys.stderr)
