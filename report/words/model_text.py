"""Describe the trained model from its own layer table, so the prose follows `--set conv_widths=...` and the like.

Use: `architecture_facts(meta_layers)` takes the capture's `meta["layers"]` (model.architecture.layer_table)
and returns the phrases the experiment section shows: the conv layers' widths and resolutions, where the
pooling sits, the dense widths, and whether the model has the original post's shape. `recorded_facts` describes
the recorded layers of any model; `model_rows` formats the layer table and `settings` the training settings
shown beside it.
"""

from __future__ import annotations

from report.capture_facts import kernel_phrases
from report.numbers.receptive_fields import layer_chain, receptive_fields
from report.words.wording import number, series

# The post's model (../shared/docs/article.md): conv widths and the dense widths of its author's code.
POST_CONV_WIDTHS = (4, 4, 8, 8, 16, 16)
POST_DENSE_WIDTHS = (64, 32, 10)
_POOLS = ("MaxPooling2D", "AveragePooling2D")


def _uniform(values: list[str | None], fallback: str) -> str:
    """Return the distinct values in order as a phrase ("3×3", "3×3 and 5×5"), or the fallback for none."""
    distinct = list(dict.fromkeys(value for value in values if value))
    return series(distinct) if distinct else fallback


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
            pools.append((f"{factor}\u00d7{factor} {kind}-pooling", previous_conv))
        if len(shape) == 3:
            resolution = int(shape[0])
    if pools:
        kinds = sorted({kind for kind, _ in pools})
        after = series([name for _, name in pools if name])
        pooling = f"{kinds[0] if len(kinds) == 1 else ' or '.join(kinds)} after {after}"
    else:
        pooling = "no pooling"
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
        "conv_count": number(len(convs)),
        "conv_widths": series([str(width) for width in widths]),
        "resolutions": series([f"{series(names)} at {size}" for size, names in resolutions]),
        "pooling": pooling,
        "dense_widths": series([str(width) for width in dense_widths[:-1]]),
        "classes": dense_widths[-1] if dense_widths else None,
        "receptive_fields": series([f"{name} {window.size}\u00d7{window.size}"
                                    for name, window in windows.items() if name in {row["name"] for row in convs}]),
        "original_shape": tuple(widths) == POST_CONV_WIDTHS and tuple(dense_widths) == POST_DENSE_WIDTHS,
        # the article's conv layers, as the table has them (older tables lack the kernel: 3x3, 'same')
        "kernels": _uniform(kernel_phrases(convs, article=True), "3\u00d73"),
        "activations": _uniform([row.get("activation") for row in convs], "tanh"),
        "padding": _uniform([row.get("padding") for row in convs], "same"),
        "dense_activation": _uniform([row.get("activation") for row in dense[:-1]], "ReLU").replace("relu", "ReLU"),
    }


# Why a recorded layer has no receptive field, per report.numbers.receptive_fields.layer_chain's stop reason.
_STOP_REASONS = {
    "merge": "the model is not a simple chain of layers (it has {kind} layer {name}), so which input pixels each "
             "layer sees is not worked out",
    "unknown kind": "layer {name} is a {kind}, whose effect on the input window is not modelled",
    "unknown size": "the capture does not give layer {name}'s kernel size, strides and padding",
    "size mismatch": "the sizes worked out for layer {name} do not match the model's own table",
    "not square": "layer {name}'s input window would differ between rows and columns",
    "end": "layer {name} ({kind}) sees the whole image",
}


def _layer_phrase(row: dict, table_row: dict, kernel: str | None) -> str:
    """Describe one recorded layer: kind, kernel and strides, activation, output shape."""
    parts = [row["kind"]]
    if kernel:
        parts.append(kernel)
    strides = table_row.get("strides")
    if strides and max(strides) > 1:
        parts.append("stride " + "\u00d7".join(str(int(size)) for size in strides))
    parts.append(row.get("activation") or "no activation")
    parts.append("\u00d7".join(str(int(size)) for size in row["output_shape"]))
    return f"{row['name']} ({', '.join(parts)})"


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
        reason = _STOP_REASONS[stop["why"]].format(**stop) if stop else \
            f"{series(missing)} {'is' if len(missing) == 1 else 'are'} not in the model's layer table"
    kinds = {row["kind"] for row in recorded}
    return {
        "layers": series([_layer_phrase(row, table_row, kernel)
                          for row, table_row, kernel in zip(recorded, rows, kernels)]),
        "count_word": number(len(recorded)), "count": len(recorded),
        "receptive_fields": series([f"{row['name']} {windows[row['name']].size}\u00d7{windows[row['name']].size}"
                                    for row in spatial if row["name"] in windows]),
        "receptive_fields_missing": series(missing),
        "receptive_fields_reason": reason,
        "noun": "convolutional layers" if kinds == {"Conv2D"} else "dense layers" if kinds == {"Dense"} else
        "recorded layers",
    }


def model_rows(layers: list[dict]) -> list[dict]:
    """Format the Keras layer table for the article."""
    return [{"name": layer["name"], "kind": layer["kind"],
             "shape": " × ".join(str(size) for size in layer["output_shape"]),
             "activation": layer["activation"] or "—", "parameters": f"{layer['parameters']:,}"} for layer in layers]


LOSS_NAMES = {"categorical_crossentropy": "categorical cross-entropy",
              "sparse_categorical_crossentropy": "sparse categorical cross-entropy"}


def settings(config: dict, meta: dict, model: dict | None = None) -> list[dict]:
    """List the training settings shown beside the model table (model: report.capture_facts.model_info)."""
    article = model is None or model.get("origin", "article") == "article"
    loss = (model or {}).get("loss") or "categorical_crossentropy"
    rows = [
        {"label": "Optimiser", "value": f"Adam, learning rate {config['learning_rate']:g} (Keras defaults)"
         if article else f"the one the model was compiled with ({model['source']})"},
        {"label": "Loss", "value": LOSS_NAMES.get(loss, loss)},
        {"label": "Batch size", "value": f"{config['batch_size']:,} images (remainder of each epoch dropped)"},
        {"label": "Training steps", "value": f"{config['steps']:,} ({meta['steps_per_epoch']} per epoch, "
                                             f"{meta['epochs']:g} epochs)"},
        {"label": "Conv kernel initialiser",
         "value": f"normal, mean 0, standard deviation {config['kernel_init_stddev']:g}"},
        {"label": "Snapshots", "value": f"every {config['capture_every']} step(s), plus step 0"},
        {"label": "Test curve", "value": f"every {config['test_every']} steps on {meta['test_subset_size']:,} "
                                         f"fixed test images; the final figure on all {meta['final_test_size']:,}"},
        {"label": "Seed", "value": str(config["seed"])},
    ]
    return rows if article else [row for row in rows if row["label"] != "Conv kernel initialiser"]
