"""Everything decided before `fit`: the seeded model (article, builder or file), its checks, the recorded layers.

    setup = prepare_run(config, dataset)  # raises a one-line ValueError for a model or data that cannot run
    setup.stored_shapes                   # {layer: (H, W, C)}: what the memory check and the archive use
    memory_needs(config, dataset, setup, buffers)  # {part: bytes} the run will hold at its peak
    analysis_disk_bytes(config, dataset, setup)     # what the analysis set adds to the archive's disk

It builds the model once, inside the strategy's scope, after `keras.utils.set_random_seed(config.seed)`,
so the same config gives the same weights; nothing is written.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import keras

from capture.schema import CHUNK_ROWS
from model.data_arrays import check_labels
from model.distribute import make_strategy
from model.layers import check_names, layer_table, select_layers
from model.user_model import accuracy_key, check_model, label_format, load_model, loss_name, per_image_loss

ARTICLE_SOURCE = "model/architecture.py"
# The memory estimate (memory_needs), each figure measured on this machine (CPU, TensorFlow 2.21):
RUNTIME_BYTES = 700_000_000  # Python, TensorFlow and Keras loaded, before any data: 550 MB measured
# tf.data's from_tensor_slices holds two copies of x_train and its shuffle buffer (all of the training set)
# a third, plus a tensor per image: measured 2.1x (500 MB of images) to 3.5x (47 MB, 60,000 images).
PIPELINE_COPIES, PIPELINE_BYTES_PER_IMAGE = 3, 300
PREFETCHED_BATCHES = 3  # prefetch(2) and the batch being prepared, as float32
# A training step keeps every layer's float32 output for the backward pass, and its gradient and temporaries
# beside it: TRAINING_FACTOR x the forward pass's values, per image of the batch (and of the recorded probes);
# 1.8x measured (256x256x3 images, three 16-channel convolutions, batches of 64 and 128).
TRAINING_FACTOR = 2
# Writing or reading one HDF5 chunk of the archive (CHUNK_ROWS snapshots of a layer) holds it and its
# compressed copy: 1.85-1.95x the chunk measured (a 537 MB chunk).
ARCHIVE_CHUNK_COPIES = 2
EVALUATION_CHUNK = 1000  # images per forward pass of the test evaluation (model/callbacks.py evaluate's chunk)
OPTIMIZER_COPIES = 4  # the weights, their gradients and Adam's two moments
# The analysis set's replay (model/analysis_replay.py) holds three float32 copies of every recorded layer's
# activations (the final, the previous and this grid step's), and one layer's float64 samples three times over
# while its statistics are summed (capture/replay_stats.py), besides the weight snapshots of the grid.
REPLAY_COPIES, REPLAY_LAYER_COPIES = 3, 3


@dataclass
class RunSetup:
    """The model to train and how to train, evaluate and record it."""

    model: keras.Model
    strategy: object | None
    recorded: list[str]  # recorded layer names, in model order
    stored_shapes: dict[str, tuple[int, int, int]]  # each one's (H, W, C) in the archive
    layers: list[dict]  # meta["layers"]
    model_meta: dict  # meta["model"]
    classes: int  # the model's output width
    label_format: str  # "one_hot" or "integer"
    accuracy_key: str = "accuracy"  # the accuracy metric's name in fit's logs
    test_loss: object = None  # (labels, outputs) -> per-image losses; None: the article's cross-entropy
    recorded_layers: list[dict] = field(default_factory=list)  # meta["recorded_layers"]


def prepare_run(config, dataset) -> RunSetup:
    """Seed, build or load the model, check it against the data, and choose the recorded layers."""
    keras.backend.clear_session()  # fresh name counters, so a second run in one process saves the same file
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    shape = dataset.image_shape
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = load_model(config, shape, len(dataset.class_names))  # variables mirrored under a strategy
        if config.model is None:
            classes = config.dense_widths[-1]
        else:
            check_names(model, config.model)  # before anything runs it: TensorFlow refuses some names mid-fit
            named = len(dataset.class_names) if dataset.class_names_given else None
            classes = check_model(model, config.model, shape, named)
            check_labels(dataset.y_train, dataset.y_test, classes, dataset.source,
                         f"fix the labels or give the model's last layer "
                         f"{int(max(dataset.y_train.max(), dataset.y_test.max())) + 1} units")
        if not dataset.class_names_given and len(dataset.class_names) < classes:
            dataset.class_names = tuple(str(label) for label in range(classes))  # numbered: one per output
        recorded, stored, traced = select_layers(model, shape, config.layers)
    rows = layer_table(model, shape, recorded, traced)
    by_name = {row["name"]: row for row in rows}
    recorded_layers = [{"name": name, "kind": by_name[name]["kind"], "activation": by_name[name]["activation"],
                        "output_shape": by_name[name]["output_shape"], "stored_shape": list(stored[name])}
                       for name in recorded]
    if config.model is None:
        fmt, test_loss, key = "one_hot", None, "accuracy"
        origin, source, loss = "article", ARTICLE_SOURCE, "categorical_crossentropy"
    else:
        fmt, key = label_format(model.loss), accuracy_key(model)
        test_loss = per_image_loss(model.loss, fmt, classes)
        origin = "keras_file" if config.model.endswith(".keras") else "builder"
        source, loss = config.model, loss_name(model.loss)
    model_meta = {"origin": origin, "source": source, "source_sha256": config.model_sha256, "name": model.name,
                  "loss": loss, "label_format": fmt}
    return RunSetup(model, strategy, recorded, stored, rows, model_meta, classes, fmt, key, test_loss,
                    recorded_layers)


def snapshot_bytes(config, setup: RunSetup, probes: int) -> int:
    """Return the bytes the recorder's float16 buffers hold (all layers, all probes, all snapshots)."""
    snapshots = config.steps // config.capture_every + 1 + (1 if config.steps % config.capture_every else 0)
    values = sum(height * width * channels for height, width, channels in setup.stored_shapes.values())
    return snapshots * probes * values * 2


def analysis_images(config, dataset) -> int:
    """Return how many analysis images the run will replay (0: it measures on the probes)."""
    if config.analysis_images == 0 or config.strategy == "multiworker":
        return 0
    return min(config.analysis_images, max(0, len(dataset.x_test) - len(dataset.probe_indices)))


def analysis_disk_bytes(config, dataset, setup: RunSetup) -> int:
    """Return the disk the analysis set takes: its final float16 activations, images, and the weight snapshots."""
    from model.analysis_replay import grid_steps

    images = analysis_images(config, dataset)
    if not images:
        return 0
    values = sum(math.prod(shape) for shape in setup.stored_shapes.values())
    snapshots = len(grid_steps(config)) * 4 * int(setup.model.count_params())  # kept beside the checkpoints
    return images * (values * 2 + math.prod(dataset.image_shape)) + snapshots


def analysis_memory_bytes(config, dataset, setup: RunSetup) -> int:
    """Return the bytes the analysis replay holds at its peak: activations, statistics, weight snapshots."""
    from model.analysis_replay import grid_steps

    images = analysis_images(config, dataset)
    if not images:
        return 0
    shapes = setup.stored_shapes.values()
    values = sum(math.prod(shape) for shape in shapes)
    largest = max((math.prod(shape) for shape in shapes), default=0)
    channels = max((shape[-1] for shape in shapes), default=0)
    resamples = config.bootstrap + 1
    statistics = (REPLAY_LAYER_COPIES * images * largest * 8 + resamples * images * 4  # samples, counts
                  + 2 * resamples * channels * channels * 8 + 32_000_000)  # moments; capture/replay_stats.py's block
    snapshots = len(grid_steps(config)) * 4 * int(setup.model.count_params())
    return REPLAY_COPIES * images * values * 4 + statistics + snapshots + images * math.prod(dataset.image_shape) * 4


def memory_needs(config, dataset, setup: RunSetup, buffers: int) -> dict[str, int]:
    """Return the bytes the run holds at its peak, by part (runtime, data, pipeline, training step, ...)."""
    x_train, x_test = dataset.x_train, dataset.x_test
    image = math.prod(dataset.image_shape)  # values per image
    forward = image + sum(math.prod(row["output_shape"]) for row in setup.layers  # float32 values per image
                          if row["output_shape"] and all(isinstance(size, int) for size in row["output_shape"]))
    tested = min(config.test_subset, len(x_test))
    evaluated = min(EVALUATION_CHUNK, len(x_test))
    return {
        "runtime": RUNTIME_BYTES,
        "data": x_train.nbytes + x_test.nbytes + dataset.y_train.nbytes + dataset.y_test.nbytes,
        "input pipeline": (PIPELINE_COPIES * x_train.nbytes + PIPELINE_BYTES_PER_IMAGE * len(x_train)
                           + PREFETCHED_BATCHES * config.batch_size * image * 4),
        "test images": tested * image * 4,  # the periodic test points' images, as float32 all along
        # the larger of a training step and the final evaluation (the test set as float32, a chunk's forward pass)
        "training step": max(TRAINING_FACTOR * (config.batch_size + len(dataset.probe_indices)) * forward * 4,
                             (evaluated * forward + len(x_test) * image) * 4),
        "weights": OPTIMIZER_COPIES * 4 * int(setup.model.count_params()),
        "snapshots": 2 * buffers,  # the buffers, and their copy when training ends
        "analysis replay": analysis_memory_bytes(config, dataset, setup),
        "archive chunk": ARCHIVE_CHUNK_COPIES * CHUNK_ROWS * len(dataset.probe_indices) * 2  # float16 values
                         * max((math.prod(shape) for shape in setup.stored_shapes.values()), default=0),
    }
