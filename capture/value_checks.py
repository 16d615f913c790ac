"""What an archive's values must be for the page to be true: real dtypes, shapes the meta states, finite numbers.

`Capture.load` (capture/archive.py) runs these after its layout checks (capture/schema.py) and before it
returns, so nothing is rendered or written from an archive they refuse. Training uses the same words:
`DivergenceGuard` (model/callbacks.py) stops a run whose batch loss stops being finite, the chunk writer
(capture/chunk_writer.py) checks each chunk before writing it, and `model/train.py` checks the metrics and
snapshots again before anything is assembled, so a diverged run leaves no archive behind.

Each function returns one clause saying what is wrong, or None. A clause about values that are not
finite ends with DIVERGED: `load` then adds the fix for a run that diverged (a lower learning rate).
The page's data budget is capture/schema.py's DATA_BUDGET_BYTES; the longest run and the default learning
rate come from pipeline/config.py.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from capture.schema import DATA_BUDGET_BYTES
from capture.step_blocks import step_blocks

DIVERGED = "the run diverged"
METRIC_KEYS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
FLOAT16_MAX = float(np.finfo(np.float16).max)  # a snapshot value beyond it is stored as infinity


class TrainingDiverged(ValueError):
    """Training produced a metric or snapshot that is not finite: stopped before any of it was assembled."""


def page_budget_bytes() -> int:
    """Return the page's whole data budget, which the probe images may not pass alone."""
    return DATA_BUDGET_BYTES


def probe_size_problem(shape: tuple) -> str | None:
    """Say when probe images of this (N, H, W[, 3]) display shape would not fit in the page, or return None."""
    # The page embeds them as base64 (render/page_data.py probe_pixels): one byte per pixel and channel,
    # times 4/3; the layers' snapshots are thinned to fit the budget, the probe images cannot be.
    page_bytes = 4 * math.ceil(math.prod(int(size) for size in shape) / 3)
    budget = page_budget_bytes()
    if page_bytes <= budget:
        return None
    size = "x".join(str(int(side)) for side in shape[1:])
    return (f"the {int(shape[0])} probe images of {size} pixels would take {page_bytes / 1e6:.2f} MB in the page, "
            f"more than the page's whole data budget of {budget / 1e6:g} MB (DATA_BUDGET_BYTES in "
            f"capture/schema.py)")


def stored_size_problem(key: str, shape: tuple | None) -> str | None:
    """Say when one of the archive's small arrays is too large to be what it claims, before it is read."""
    from pipeline.config import MAX_STEPS

    if shape is None:
        return f"its {key} is not an array"
    if key == "probe_images":
        return probe_size_problem(shape) if len(shape) >= 3 else None  # other shapes: refused once read
    # the others hold one value per step, test point or probe: never more than a run's longest
    if len(shape) > 1 or (shape and shape[0] > MAX_STEPS + 1):
        return f"its {key} is {tuple(shape)}, not a list of at most {MAX_STEPS + 1:,} values"
    return None


def analysis_size_problem(shapes: dict) -> str | None:
    """Say when the analysis group's arrays are larger than any run makes, before they are read, or return None."""
    from pipeline.config import MAX_ANALYSIS_IMAGES, MAX_STEPS

    limits = {"indices": MAX_ANALYSIS_IMAGES, "labels": MAX_ANALYSIS_IMAGES, "steps": MAX_STEPS + 1}
    for key, shape in shapes.items():
        if (key in limits and (len(shape) != 1 or shape[0] > limits[key])) or (
                key not in limits and (not shape or shape[0] > MAX_ANALYSIS_IMAGES)):
            return f"its analysis {key} is {tuple(shape)}, larger than any run records"
    return None


def analysis_values_problem(analysis: dict, names: list[str]) -> str | None:
    """Say which of the analysis group's arrays is not of real, finite numbers, or return None."""
    for key in ("indices", "labels", "steps"):
        if analysis[key].dtype.kind not in "iu":
            return f"its analysis {key} hold {analysis[key].dtype} values, not integers"
    for name in names:
        arrays = {"final": analysis["final"][name], **analysis["series"][name]}
        for key, values in arrays.items():
            if values.dtype.kind != "f":
                return f"its analysis {key} of layer {name} holds {values.dtype} values, not real numbers"
            if not np.isfinite(values).all():
                return f"its analysis {key} of layer {name} holds NaN or infinite values: {DIVERGED}"
    return None


def probe_shape_problem(probes: np.ndarray, meta: dict) -> str | None:
    """Say when the probe images do not have the model input's size and colour the meta states, or return None."""
    dataset = meta["dataset"]
    if len(dataset["probe_indices"]) != len(probes):
        return (f"it holds {len(probes)} probe images but its meta names {len(dataset['probe_indices'])} probe "
                f"indices")
    shape = dataset.get("image_shape")  # (H, W, C) of the model input; earlier archives and synthetic ones lack it
    if shape is None:
        return None
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(side, int) for side in shape)):
        return f"its meta's image_shape {shape!r} is not [height, width, channels]"
    # display_images (model/data_arrays.py): three channels are shown as RGB, any other count as grey
    expected = (*shape[:2], 3) if shape[2] == 3 else tuple(shape[:2])
    if tuple(probes.shape[1:]) != expected:
        return (f"its probe images are {'x'.join(map(str, probes.shape[1:]))} but the model takes "
                f"{'x'.join(map(str, shape))} images (so they should be {'x'.join(map(str, expected))})")
    return None


def stored_shape_problem(data: dict, names: list[str], meta: dict) -> str | None:
    """Say when a layer's snapshots are not the (H, W, C) its meta's recorded_layers states, or return None."""
    for row, name in zip(meta.get("recorded_layers") or [], names):
        stored = row.get("stored_shape")
        if stored is not None and list(data[name].shape[2:]) != stored:
            return f"layer {name} holds {tuple(data[name].shape[2:])} maps but its meta says {tuple(stored)}"
    return None


def dtype_problem(data: dict, names: list[str]) -> str | None:
    """Say which array does not hold real numbers of its kind (complex, strings, objects), or return None."""
    for key in ("train_steps", "test_steps"):
        if key in data and data[key].dtype.kind not in "iu":
            return f"its {key} hold {data[key].dtype} values, not integers"
    for key in METRIC_KEYS:
        if data[key].dtype.kind != "f":
            return f"its {key} holds {data[key].dtype} values, not real numbers"
    for name in names:
        if data[name].dtype.kind != "f":
            return f"layer {name} holds {data[name].dtype} values, not real numbers"
    return None


def non_finite_clause(label: str, values, steps) -> str | None:
    """Say from which step `values` (one per step of `steps`) stop being finite, or return None."""
    values = np.asarray(values, np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if not bad.size:
        return None
    first = int(bad[0])
    kind = "NaN" if np.isnan(values[first]) else "infinite"
    if bad.size == len(values) - first:
        return f"{label} is {kind} from step {int(steps[first])} on"
    return f"{label} is {kind} at step {int(steps[first])} (and {bad.size - 1} later steps)"


def metrics_problem(data: dict, meta: dict) -> str | None:
    """Say which per-step or final metric is not finite (a diverged run), or return None."""
    train_steps = data.get("train_steps")
    if train_steps is None or len(train_steps) != len(data["train_loss"]):
        train_steps = np.arange(1, len(data["train_loss"]) + 1)
    for key in METRIC_KEYS:
        steps = train_steps if key.startswith("train") else data["test_steps"]
        clause = non_finite_clause(key, data[key], steps)
        if clause:
            return f"{clause}: {DIVERGED}"
    for key in ("final_test_loss", "final_test_accuracy"):
        if not math.isfinite(meta[key]):
            return f"its meta's {key} is {meta[key]}: {DIVERGED}"
    return None


def activations_problem(data: dict, names: list[str]) -> str | None:
    """Say which layer holds NaN or infinite snapshots and from which step, or return None; reads a block at a time."""
    steps = np.asarray(data["steps"])
    for name in names:
        values = data[name]
        # An archive's layer is read through a handle of its own, closed after the pass: the LazyLayer's
        # own handle stays unopened until a stage reads it, as before the check.
        try:
            with values.reading() if hasattr(values, "reading") else contextlib.nullcontext(values) as source:
                first = _first_non_finite(source)
        except (OSError, KeyError, RuntimeError) as error:
            return f"layer {name} cannot be read (damaged: {' '.join(str(error).split())[:120]})"
        if first is None:
            continue
        if first == 0 and int(steps[0]) == 0:  # the untrained model: nothing diverged, the values are too large
            return (f"layer {name} has non-finite activations already at step 0, before any training (values "
                    f"past float16's largest, {FLOAT16_MAX:g}, are stored as infinity): record other layers "
                    f"(--layers) or give this one smaller outputs")
        # the words report/step_series.py uses for the same finding
        return (f"layer {name} has non-finite activations from step {int(steps[first])} (NaN, or past "
                f"float16's largest value {FLOAT16_MAX:g}): {DIVERGED}")
    return None


def _first_non_finite(values) -> int | None:
    """Return the first snapshot holding a NaN or infinity, or None; one block of steps in memory at a time."""
    for positions, block in step_blocks(values):  # a block is one archive chunk: a long run's layer never whole
        finite = np.isfinite(block).reshape(len(block), -1).all(axis=1)
        if not finite.all():
            return int(positions[np.flatnonzero(~finite)[0]])
    return None


def values_problem(data: dict, names: list[str], meta: dict) -> str | None:
    """Run every check on a loaded archive whose layout is sound; return the first problem, or None."""
    # dtypes before any arithmetic on the values; the snapshots last (they are read in full, block by block)
    return (dtype_problem(data, names) or probe_size_problem(data["probe_images"].shape)
            or probe_shape_problem(data["probe_images"], meta) or stored_shape_problem(data, names, meta)
            or metrics_problem(data, meta) or activations_problem(data, names))


def training_error(problem: str, config: dict, when: str) -> TrainingDiverged:
    """Return the error that stops training over `problem` (with the learning-rate fix where the run diverged)."""
    fix = f"; {diverged_fix(config)}" if problem.endswith(DIVERGED) else ""
    return TrainingDiverged(f"training {when}: {problem}{fix}")


def diverged_fix(config: dict) -> str:
    """Return how to train a run that diverged again: a lower learning rate (the flag, or the user's optimizer)."""
    if config.get("model") is not None:
        return "run again with a lower learning rate in your model's optimizer"
    from pipeline.config import Config

    default = Config.__dataclass_fields__["learning_rate"].default
    rate = config.get("learning_rate")
    was = (f"the default, {default:g}" if rate == default else
           f"{rate:g}; the default is {default:g}" if isinstance(rate, (int, float)) else repr(rate))
    return f"run again with a lower learning rate: --set learning_rate=... (it was {was})"
