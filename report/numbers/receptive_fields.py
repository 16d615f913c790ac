"""Work out, from the model's layer table, which input pixels each recorded layer's activations depend on.

Use: `receptive_fields(meta_layers, input_size)` returns {layer name: Window} for every layer of the table whose
window can be worked out, where a Window (size, stride, offset) says that the activation at row i of that layer
depends on input rows `stride * i + offset` .. `stride * i + offset + size - 1` (columns alike).
`layer_chain(meta_layers, input_size, article=...)` returns the same windows and, where they stop, the layer and
the reason (a sentence part for the page). `window_for(...)` returns one layer's window, falling back to a 3x3
filter at the layer's own resolution when the table cannot tell.

The table is the capture's `meta["layers"]`: each row has `kind` and `output_shape`, and may have
`kernel_size`, `strides`, `padding` and `pool_size`. Convolutions and poolings are composed exactly, per axis,
as Keras pads them ('same': the output is ceil(n / stride), the padding split with the smaller half before;
'valid': none). Only a simple chain is modelled: a model with a merge layer (Add, Concatenate, ...) has no
windows at all, since a flattened table cannot say which branch feeds which layer; a layer kind whose effect is
not known, or a computed size that disagrees with the table, ends the windows there. A Conv2D row without
`kernel_size` (a capture made before the table had it) is taken to be 3x3, stride 1, 'same', as
model/architecture.py builds the article's conv layers, but only when `article` is true; a pooling row without
`pool_size` is sized from the ratio of its input and output resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_KERNEL = 3  # model/architecture.py builds every conv layer 3x3 with 'same' padding
_CONV_KINDS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
_POOL_KINDS = ("MaxPooling2D", "AveragePooling2D")
MERGE_KINDS = ("Add", "Concatenate", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot")
# Kinds that act on each position alone: the window stays as it is.
_POINTWISE_KINDS = ("InputLayer", "Activation", "BatchNormalization", "LayerNormalization", "GroupNormalization",
                    "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ReLU", "LeakyReLU", "PReLU",
                    "ELU", "Softmax", "Rescaling", "Normalization", "Identity", "ActivityRegularization")
# Kinds after which a position no longer has a window of its own (the rest of the model sees the whole image).
_SPATIAL_END_KINDS = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dense", "Reshape")


@dataclass(frozen=True)
class Window:
    """The input rows (and columns) one activation depends on: stride * i + offset, `size` of them."""

    size: int
    stride: int
    offset: int

    def start(self, index):
        """Return the first input row (or column) of output position `index`'s window (an int or an array)."""
        return index * self.stride + self.offset


def _pair(value, default: int | None) -> tuple[int, int] | None:
    """Return an int or a pair (Keras writes sizes as [3, 3]) as a pair, or (default, default) for None."""
    if value is None:
        return None if default is None else (default, default)
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def _step(window: tuple[int, int, int], resolution: int, kernel: int, stride: int,
          padding: str) -> tuple[tuple[int, int, int], int] | None:
    """Compose one axis of a window with a kernel; return (size, jump, offset) and the output resolution."""
    size, jump, offset = window
    if padding == "same":
        out = math.ceil(resolution / stride)
        before = max((out - 1) * stride + kernel - resolution, 0) // 2
    elif padding == "valid":
        out = math.ceil((resolution - kernel + 1) / stride)
        before = 0
    else:
        return None
    return (size + (kernel - 1) * jump, jump * stride, offset - before * jump), out


def layer_chain(meta_layers: list[dict] | None, input_size, *, article: bool = True) -> dict:
    """Return {"windows": {name: Window}, "stop": None or {"name", "kind", "why"}} for the table's chain."""
    rows = list(meta_layers or [])
    merges = [row for row in rows if row.get("kind") in MERGE_KINDS]
    if merges:
        first = merges[0]
        return {"windows": {}, "stop": {"name": first.get("name"), "kind": first["kind"], "why": "merge"}}
    height, width = _pair(input_size, None)
    axes = [((1, 1, 0), height), ((1, 1, 0), width)]  # per axis: (size, jump, offset), resolution
    windows: dict[str, Window] = {}
    for row in rows:
        kind, shape = row.get("kind"), row.get("output_shape") or []
        out_shape = (int(shape[0]), int(shape[1])) if len(shape) == 3 else None
        stop = {"name": row.get("name"), "kind": kind}
        if kind == "InputLayer":
            continue
        if kind in _CONV_KINDS or kind in _POOL_KINDS:
            if kind in _CONV_KINDS:
                kernel = _pair(row.get("kernel_size"), DEFAULT_KERNEL if article else None)
                strides = _pair(row.get("strides"), 1 if article or kernel else None)
                padding = row.get("padding") or ("same" if article else None)
            else:
                ratio = None
                if out_shape and all(out_shape):
                    ratio = (axes[0][1] // out_shape[0], axes[1][1] // out_shape[1])
                kernel = _pair(row.get("pool_size"), None) or ratio
                strides = _pair(row.get("strides"), None) or kernel
                padding = row.get("padding") or "valid"
            if kernel is None or strides is None or padding is None or min(kernel) < 1:
                return {"windows": windows, "stop": dict(stop, why="unknown size")}
            stepped = [_step(window, resolution, k, s, padding)
                       for (window, resolution), k, s in zip(axes, kernel, strides)]
            if None in stepped:
                return {"windows": windows, "stop": dict(stop, why="unknown size")}
            if out_shape is None or tuple(out for _, out in stepped) != out_shape:
                return {"windows": windows, "stop": dict(stop, why="size mismatch")}
            axes = stepped
        elif kind in _SPATIAL_END_KINDS:
            return {"windows": windows, "stop": dict(stop, why="end")}
        elif kind not in _POINTWISE_KINDS or out_shape != (axes[0][1], axes[1][1]):
            return {"windows": windows, "stop": dict(stop, why="unknown kind")}
        if axes[0][0] != axes[1][0]:  # rows and columns would need windows of their own
            return {"windows": windows, "stop": dict(stop, why="not square")}
        windows[row["name"]] = Window(*axes[0][0])
    return {"windows": windows, "stop": None}


def receptive_fields(meta_layers: list[dict] | None, input_size, *, article: bool = True) -> dict[str, Window]:
    """Return the input window of every layer in the table whose window can be worked out."""
    return layer_chain(meta_layers, input_size, article=article)["windows"]


def window_for(name: str, height: int, input_size, meta_layers: list[dict] | None) -> Window:
    """Return a layer's input window from the table, else a 3x3 filter at its own resolution."""
    window = receptive_fields(meta_layers, input_size).get(name)
    if window is not None:
        return window
    input_height = _pair(input_size, None)[0]
    stride = max(input_height // height, 1)
    size = DEFAULT_KERNEL * stride  # a 3x3 filter applied to the input area-pooled to this resolution
    return Window(size, stride, (stride - size) // 2)
