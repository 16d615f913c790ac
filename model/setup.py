"""Everything decided before `fit`: the seeded model (article, builder or file), its checks, the recorded layers.

    setup = prepare_run(config, dataset)  # raises a one-line ValueError for a model or data that cannot run
    setup.stored_shapes                   # {layer: (H, W, C)}: what the memory check and the archive use

It builds the model once, inside the strategy's scope, after `keras.utils.set_random_seed(config.seed)`,
so the same config gives the same weights; nothing is written.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import keras

from model.data_arrays import check_labels
from model.distribute import make_strategy
from model.layers import layer_table, select_layers
from model.user_model import accuracy_key, check_model, label_format, load_model, loss_name, per_image_loss

ARTICLE_SOURCE = "model/architecture.py"


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
