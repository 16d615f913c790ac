"""Describe the trained model from its own layer table, so the prose follows `--set conv_widths=...` and the like.

Use: `architecture_facts(meta_layers)` takes the capture's `meta["layers"]` (model.architecture.layer_table)
and returns the phrases the experiment section shows: the conv layers' widths and resolutions, where the
pooling sits, the dense widths, and whether the model has the original post's shape. `recorded_facts` describes
the recorded layers of any model; `model_rows` formats the layer table and `settings` the training settings
shown beside it. The phrases are macros of templates/words/model.txt.j2; this module measures and chooses.
"""

from __future__ import annotations

from report.capture_facts import kernel_phrases
from report.numbers.receptive_fields import layer_chain, receptive_fields
from report.voice import gettext, say

# The post's model (../shared/docs/article.md): conv widths and the dense widths of its author's code.
POST_CONV_WIDTHS = (4, 4, 8, 8, 16, 16)
POST_DENSE_WIDTHS = (64, 32, 10)
_POOLS = ("MaxPooling2D", "AveragePooling2D")


def _listed(items: list) -> str:
    """Return items as the edition writes a list ("3, 4 and 5")."""
    return say("model", "listed", items=[str(item) for item in items])


def _uniform(values: list[str | None], fallback: str) -> str:
    """Return the distinct values in order as a phrase ("3×3", "3×3 and 5×5"), or the fallback for none."""
    distinct = list(dict.fromkeys(value for value in values if value))
    return _listed(distinct) if distinct else fallback


def _size(shape: list) -> str:
    """Return a shape as "28×28" (or "28×28×4")."""
    return "\u00d7".join(str(int(size)) for size in shape)


def architecture_facts(meta_layers: list[dict], input_size: int = 28) -> dict:
    """Return the model's conv widths, resolutions, pooling, dense widths and receptive fields as phrases."""
    convs = [row for row in meta_layers if row.get("kind") == "Conv2D"]
    dense = [row for row in meta_layers if row.get("kind") == "Dense"]
    pools = []
    previous_conv, resolution = None, input_size
    for row in meta_layers:
        shape = row.get("output_shape") or []
        if row.get("kind") == "Conv2D":
            previous_conv = row["name"]
        elif row.get("kind") in _POOLS and len(shape) == 3:
            kind = "max" if row["kind"] == "MaxPooling2D" else "average"
            factor = resolution // int(shape[0]) if int(shape[0]) else 0
            pools.append((say("model", "pool", factor=factor, kind=kind), previous_conv))
        if len(shape) == 3:
            resolution = int(shape[0])
    pooling = say("model", "pooling", kinds=sorted({kind for kind, _ in pools}),
                  after=[name for _, name in pools if name])
    widths = [int(row["output_shape"][-1]) for row in convs]
    dense_widths = [int(row["output_shape"][-1]) for row in dense]
    resolutions = []
    for row in convs:
        size = f"{row['output_shape'][0]}\u00d7{row['output_shape'][1]}"
        if not resolutions or resolutions[-1][0] != size:
            resolutions.append((size, [row["name"]]))
        else:
            resolutions[-1][1].append(row["name"])
    windows = receptive_fields(meta_layers, input_size)
    return {
        "conv_count": say("model", "count_word", count=len(convs)),
        "conv_widths": _listed(widths),
        "resolutions": say("model", "resolutions", groups=resolutions),
        "pooling": pooling,
        "dense_widths": _listed(dense_widths[:-1]),
        "classes": dense_widths[-1] if dense_widths else None,
        "receptive_fields": _listed([f"{name} {window.size}\u00d7{window.size}"
                                     for name, window in windows.items() if name in {row["name"] for row in convs}]),
        "original_shape": tuple(widths) == POST_CONV_WIDTHS and tuple(dense_widths) == POST_DENSE_WIDTHS,
        # the article's conv layers, as the table has them (older tables lack the kernel: 3x3, 'same')
        "kernels": _uniform(kernel_phrases(convs, article=True), "3\u00d73"),
        "activations": _uniform([row.get("activation") for row in convs], "tanh"),
        "padding": _uniform([row.get("padding") for row in convs], "same"),
        "dense_activation": _uniform([row.get("activation") for row in dense[:-1]], "ReLU").replace("relu", "ReLU"),
    }


def _layer(row: dict, table_row: dict, kernel: str | None) -> dict:
    """Return what the page says of one recorded layer: kind, kernel and strides, activation, output shape."""
    strides = table_row.get("strides")
    return {"name": row["name"], "kind": row["kind"], "kernel": kernel,
            "strides": _size(strides) if strides and max(strides) > 1 else None,
            "activation": row.get("activation"), "shape": _size(row["output_shape"])}


def recorded_facts(recorded: list[dict], meta_layers: list[dict], input_shape: list[int], article: bool) -> dict:
    """Describe the recorded layers of any model and their receptive fields, or why those are left out."""
    table = {row.get("name"): row for row in meta_layers or []}
    rows = [table.get(row["name"], {}) for row in recorded]
    kernels = kernel_phrases(rows, article)
    chain = layer_chain(meta_layers, tuple(input_shape[:2]), article=article)
    windows = chain["windows"]
    spatial = [row for row in recorded if row["stored_shape"][0] * row["stored_shape"][1] > 1]
    missing = [row["name"] for row in spatial if row["name"] not in windows]
    stop = chain["stop"]
    reason = None
    if missing:
        reason = say("model", "stop_reason", why=stop["why"], name=stop.get("name"), kind=stop.get("kind")) \
            if stop else say("model", "not_in_table", missing=missing)
    kinds = {row["kind"] for row in recorded}
    return {
        "layers": say("model", "layers", rows=[_layer(row, table_row, kernel)
                                               for row, table_row, kernel in zip(recorded, rows, kernels)]),
        "count_word": say("model", "count_word", count=len(recorded)), "count": len(recorded),
        "receptive_fields": _listed([f"{row['name']} {windows[row['name']].size}\u00d7{windows[row['name']].size}"
                                     for row in spatial if row["name"] in windows]),
        "receptive_fields_missing": _listed(missing),
        "receptive_fields_reason": reason,
        "noun": gettext("convolutional layers") if kinds == {"Conv2D"} else gettext("dense layers")
        if kinds == {"Dense"} else gettext("recorded layers"),
    }


def model_rows(layers: list[dict]) -> list[dict]:
    """Format the Keras layer table for the article."""
    return [{"name": layer["name"], "kind": layer["kind"],
             "shape": " × ".join(str(size) for size in layer["output_shape"]),
             "activation": layer["activation"] or "—", "parameters": f"{layer['parameters']:,}"} for layer in layers]


def settings(config: dict, meta: dict, model: dict | None = None) -> list[dict]:
    """List the training settings shown beside the model table (model: report.capture_facts.model_info)."""
    article = model is None or model.get("origin", "article") == "article"
    loss = (model or {}).get("loss") or "categorical_crossentropy"
    rows = [
        {"label": gettext("Optimiser"), "value": say("model", "optimiser", learning_rate=config["learning_rate"])
         if article else say("model", "own_optimiser", source=model["source"])},
        {"label": gettext("Loss"), "value": say("model", "loss", name=loss)},
        {"label": gettext("Batch size"), "value": say("model", "batch_size", size=config["batch_size"])},
        {"label": gettext("Training steps"), "value": say("model", "training_steps", steps=config["steps"],
                                                          per_epoch=meta["steps_per_epoch"], epochs=meta["epochs"])},
    ]
    if article:  # the kernel initialiser is a setting of the article's model only
        rows.append({"label": gettext("Conv kernel initialiser"),
                     "value": say("model", "initialiser", stddev=config["kernel_init_stddev"])})
    rows += [
        {"label": gettext("Snapshots"), "value": say("model", "snapshots", every=config["capture_every"])},
        {"label": gettext("Test curve"), "value": say("model", "test_curve", every=config["test_every"],
                                                      subset=meta["test_subset_size"], final=meta["final_test_size"])},
        {"label": gettext("Seed"), "value": str(config["seed"])},
    ]
    return rows
