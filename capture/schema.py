"""What the capture archive holds, and the checks of its layout; numpy only (no h5py, no Keras).

`Capture` (capture/archive.py) holds what a run recorded (model/recorder.py records it during `fit`):

    steps               (T,)            int32    step of each snapshot (0 = before training)
    probe_images        (N, H, W)       uint8    the pictured test images, grey (0 black .. 255 white),
                        or (N, H, W, 3)          or RGB; float data min-max scaled over the probes
    probe_labels        (N,)            int32    their classes
    layer_names         (L,)            str      recorded layers, in model order ("outer/inner" if nested)
    <layer name>        (T, N, H, W, C) float16  that layer's output for the probes at each step (a Dense
                                                 layer's (units,) as (1, 1, units), (L, C) as (1, L, C))
    train_steps         (S,)            int32    1..S
    train_loss          (S,)            float32  each step's own batch loss (not a running mean)
    train_accuracy      (S,)            float32  each step's own batch accuracy
    test_steps          (K,)            int32    steps at which the test set was evaluated
    test_loss           (K,)            float32
    test_accuracy       (K,)            float32
    config              ()              str      Config.to_json() of the run
    meta                ()              str      JSON: dataset actually used, sizes, final test
                                                 metrics on the whole test set, timings, versions;
                                                 "layers" (every layer), "recorded_layers" (name, kind,
                                                 activation, output_shape, stored_shape, in archive
                                                 order) and "model" (origin, source, source_sha256,
                                                 name, loss, label_format): every archive this
                                                 tool writes has both; the reader accepts a meta
                                                 without them (the tests' synthetic captures)

    analysis/           optional (Capture.analysis, capture/analysis_record.py; docs/analysis-set.md): the
                        analysis set's replay; an archive without it has analysis None
      indices           (A,)            int32    test-set indices, ascending, none of them a probe
      images            (A, H, W[, 3])  uint8    those test images, stored as the probe images are
      labels            (A,)            int32    their classes
      steps             (G,)            int32    the replayed grid: the first recorded step .. the last
      final/<i>         (A, H, W, C)    float16  layer_names[i] at the last step
      series/<i>/cka_final, cka_next, pc1_share   (B+1, G) float64  row 0 the full set, row b resample b
      series/<i>/channel_r, channel_rms, channel_spread  (G, C) float64  full set, per channel
                        meta["analysis"]: {"images": A, "resamples": B, "seed", "per_class", "grid_every"};
                        an archive without the group may say why in meta["analysis"]["skipped"]

capture/hdf5.py stores these in one HDF5 file, each layer chunked CHUNK_ROWS snapshots at a time.
The checks here look at the layout (which entries, which shapes, which meta fields); the values are
checked by capture/value_checks.py. Each check returns one clause saying what is wrong, or None.
"""

from __future__ import annotations

import numbers

import numpy as np

ARCHIVE_VERSION = 1
CHUNK_ROWS = 64  # snapshots per HDF5 chunk = per flushed chunk of the streaming writer = per block read
# The page's whole data budget (render/page_data.py cuts the explorer's data to it; the probe images, which the
# page cannot thin, may not pass it alone):
# 100 GB/month of traffic: a reader who opens every view fetches at most this much (4 MB for the default
# run), so the MP4s keep room beside it and about 2,000 such complete visits fit a month.
DATA_BUDGET_BYTES = 50_000_000
# The small arrays, stored whole, as these dtypes; and the UTF-8 JSON texts.
SMALL = {"steps": np.int32, "probe_images": np.uint8, "probe_labels": np.int32, "train_steps": np.int32,
         "train_loss": np.float32, "train_accuracy": np.float32, "test_steps": np.int32,
         "test_loss": np.float32, "test_accuracy": np.float32}
TEXTS = ("config", "meta", "layer_names")
# The analysis group's own arrays (its per-layer ones are named in capture/analysis_record.py SERIES).
ANALYSIS_ARRAYS = {"indices": np.int32, "images": np.uint8, "labels": np.int32, "steps": np.int32}
ANALYSIS_META = {"images": int, "resamples": int, "seed": int, "per_class": list, "grid_every": int}
# The archive's own entries: a recorded layer may not have one of these names (it would collide with the entry
# in the table the reader checks, capture/archive.py).
ARCHIVE_KEYS = frozenset({"steps", "probe_images", "probe_labels", "layer_names", "train_steps", "train_loss",
                          "train_accuracy", "test_steps", "test_loss", "test_accuracy", "config", "meta",
                          "analysis"})
# What the meta must hold (the report states each of these): key -> expected JSON kind.
META_FIELDS = {"dataset": dict, "final_test_accuracy": numbers.Real, "final_test_loss": numbers.Real,
               "final_test_size": int, "layers": list, "total_parameters": int, "steps_per_epoch": int,
               "epochs": numbers.Real, "test_subset_size": int}
DATASET_FIELDS = {"name": str, "title": str, "source": str, "train_size": int, "test_size": int,
                  "probe_indices": list, "class_names": list}


class CaptureError(ValueError):
    """A capture archive that cannot be used (corrupt, foreign, or of another config)."""


def snapshot_shape_problem(name: str, shape: tuple, steps: int, probes: int) -> str | None:
    """Say what is wrong with a layer's snapshot array shape, or return None if it is (T, N, H, W, C)."""
    if len(shape) != 5 or shape[0] != steps or shape[1] != probes or 0 in shape:
        return f"layer {name} has shape {tuple(shape)}, expected (T={steps}, N={probes}, H, W, C)"
    return None


def _kind_problem(where: str, values: dict, fields: dict) -> str | None:
    for key, kind in fields.items():
        value = values.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{where} lacks {key!r} or it is not a {kind.__name__}"
    return None


def meta_problem(meta) -> str | None:
    """Say what is wrong with an archive's meta, or return None."""
    if not isinstance(meta, dict):
        return "its meta is not a JSON object"
    return _kind_problem("its meta", meta, META_FIELDS) or _kind_problem("its meta's dataset", meta["dataset"],
                                                                         DATASET_FIELDS)


def arrays_problem(data: dict, names: list[str], config, meta: dict) -> str | None:
    """Say what is wrong with an archive's arrays and labels, or return None."""
    if not isinstance(config, dict):
        return "its config is not a JSON object"
    steps, labels, probes = data["steps"], data["probe_labels"], data["probe_images"]
    if steps.ndim != 1 or steps.size == 0 or steps.dtype.kind not in "iu" or np.any(np.diff(steps) <= 0):
        return "its steps are not an increasing list of integers"
    rgb = probes.ndim == 4 and probes.shape[-1] == 3
    if (probes.ndim != 3 and not rgb) or probes.dtype != np.uint8 or len(probes) != len(labels):
        return (f"its probe images are {probes.shape} {probes.dtype}, expected (N, H, W) or (N, H, W, 3) uint8 "
                f"with one label each")
    classes = len(meta["dataset"]["class_names"])
    out_of_range = labels.size and (labels.min() < 0 or labels.max() >= classes)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or out_of_range:
        return f"its probe labels are not class numbers 0..{classes - 1}"
    recorded = meta.get("recorded_layers")
    if recorded is not None and (not isinstance(recorded, list) or [row.get("name") if isinstance(row, dict)
                                                                     else None for row in recorded] != names):
        return "its meta's recorded_layers do not name the recorded layers in order"
    for key in ("train_loss", "train_accuracy", "test_steps", "test_loss", "test_accuracy"):
        if data[key].ndim != 1:
            return f"its {key} is not a 1-D array"
    if len(data["train_loss"]) != len(data["train_accuracy"]) or not (
            len(data["test_steps"]) == len(data["test_loss"]) == len(data["test_accuracy"])):
        return "its metric arrays have different lengths"
    return None


def analysis_problem(analysis: dict, data: dict, names: list[str], meta: dict) -> str | None:
    """Say what is wrong with the layout of an archive's `analysis/` group (capture/hdf5.py read_analysis), or None."""
    from capture.analysis_record import RESAMPLED_SERIES, SERIES

    if "missing" in analysis or "oversized" in analysis:
        return analysis.get("oversized") or f"its analysis group lacks {', '.join(analysis['missing'][:3])}"
    about = meta.get("analysis")
    problem = _kind_problem("its meta's analysis", about, ANALYSIS_META) if isinstance(about, dict) else (
        "its meta lacks the analysis group's description")
    if problem:
        return problem
    indices, images, labels, steps = (analysis[key] for key in ANALYSIS_ARRAYS)
    count, resamples, probes = len(indices), about["resamples"], data["probe_images"]
    if indices.ndim != 1 or count != about["images"] or count < 1 or np.any(np.diff(indices) <= 0) or (
            indices.min() < 0 or indices.max() >= meta["dataset"]["test_size"]):
        return f"its analysis indices are not {about['images']} ascending test-set indices"
    if np.isin(indices, meta["dataset"]["probe_indices"]).any():
        return "its analysis images include a probe"
    if images.shape != (count, *probes.shape[1:]) or labels.shape != (count,):
        return f"its analysis images are {images.shape} with {labels.shape} labels, expected ({count}, " \
               f"{', '.join(map(str, probes.shape[1:]))}) with one label each"
    if labels.min() < 0 or labels.max() >= len(meta["dataset"]["class_names"]) or (
            sum(about["per_class"]) != count):
        return "its analysis labels are not class numbers, or meta's per_class does not count them"
    recorded = data["steps"]
    if steps.ndim != 1 or len(steps) < 1 or np.any(np.diff(steps) <= 0) or steps[0] != recorded[0] or (
            steps[-1] != recorded[-1]):
        return (f"its analysis steps are not an increasing grid from step {int(recorded[0])} to "
                f"{int(recorded[-1])}")
    for name in names:
        stored = tuple(data[name].shape[2:])
        if analysis["final"][name].shape != (count, *stored):
            return f"its analysis/final of layer {name} is {analysis['final'][name].shape}, expected " \
                   f"({count}, {', '.join(map(str, stored))})"
        series = analysis["series"][name]
        for key in SERIES:
            expected = (resamples + 1, len(steps)) if key in RESAMPLED_SERIES else (len(steps), stored[-1])
            if key not in series or series[key].shape != expected:
                return f"its analysis series {key} of layer {name} is not {expected}"
    return None
