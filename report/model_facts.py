"""Describe the trained model from its own layer table, so the prose follows `--set conv_widths=...` and the like.

Use: `architecture_facts(meta_layers)` takes the capture's `meta["layers"]` (model.architecture.layer_table)
and returns the phrases the experiment section shows: the conv layers' widths and resolutions, where the
pooling sits, the dense widths, and whether the model has the original post's shape.
"""

from __future__ import annotations

from report.receptive_fields import receptive_fields
from report.wording import number, series

# The post's model (../shared/docs/article.md): conv widths and the dense widths of its author's code.
POST_CONV_WIDTHS = (4, 4, 8, 8, 16, 16)
POST_DENSE_WIDTHS = (64, 32, 10)
_POOLS = ("MaxPooling2D", "AveragePooling2D")


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
    }
