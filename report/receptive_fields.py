"""Work out, from the model's layer table, which input pixels each recorded layer's activations depend on.

Use: `receptive_fields(meta_layers, input_size)` returns {layer name: Window} for every layer of the table,
where a Window (size, stride, offset) says that the activation at row i of that layer depends on input rows
`stride * i + offset` .. `stride * i + offset + size - 1` (columns alike). `window_for(...)` returns one
layer's window, falling back to a 3x3 filter at the layer's own resolution when the table cannot tell.

The table is the capture's `meta["layers"]` (model.architecture.layer_table): each row has `kind` and
`output_shape`, and may have `kernel_size` and `pool_size`. A Conv2D row without `kernel_size` is taken to
be 3x3 with 'same' padding and stride 1, as model/architecture.py builds every conv layer; a pooling row
without `pool_size` is sized from the ratio of its input and output resolution. Layers of other kinds that
keep the resolution (activations, normalisation, dropout) leave the window unchanged; any other change of
resolution makes the windows unknown from there on.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_KERNEL = 3  # model/architecture.py builds every conv layer 3x3 with 'same' padding
_CONV_KINDS = ("Conv2D",)
_POOL_KINDS = ("MaxPooling2D", "AveragePooling2D")


@dataclass(frozen=True)
class Window:
    """The input rows (and columns) one activation depends on: stride * i + offset, `size` of them."""

    size: int
    stride: int
    offset: int

    def to_dict(self) -> dict:
        """Return plain JSON-able data."""
        return {"size": self.size, "stride": self.stride, "offset": self.offset}


def _pair(value, default: int) -> int:
    """Return the first of an int or a pair (Keras writes sizes as [3, 3]), or `default` for None."""
    if value is None:
        return default
    if isinstance(value, (list, tuple)):
        return int(value[0])
    return int(value)


def receptive_fields(meta_layers: list[dict] | None, input_size: int) -> dict[str, Window]:
    """Return the input window of every layer in the table whose window can be worked out."""
    windows: dict[str, Window] = {}
    size, stride, offset, resolution = 1, 1, 0, input_size
    for row in meta_layers or []:
        kind, shape = row.get("kind"), row.get("output_shape") or []
        out_resolution = int(shape[0]) if len(shape) == 3 else None
        if kind == "InputLayer":
            continue
        if kind in _CONV_KINDS:
            kernel = _pair(row.get("kernel_size"), DEFAULT_KERNEL)
            if out_resolution != resolution:  # strided or 'valid' convolutions are not modelled
                return windows
            size += (kernel - 1) * stride
            offset -= ((kernel - 1) // 2) * stride  # 'same' pads (k - 1) // 2 before
        elif kind in _POOL_KINDS:
            if not out_resolution:
                return windows
            pool = _pair(row.get("pool_size"), resolution // out_resolution)
            if pool < 1 or resolution // pool != out_resolution:
                return windows
            size += (pool - 1) * stride
            stride *= pool
        elif out_resolution != resolution:
            return windows
        resolution = out_resolution
        windows[row["name"]] = Window(size, stride, offset)
    return windows


def window_for(name: str, height: int, input_size: int, meta_layers: list[dict] | None) -> Window:
    """Return a layer's input window from the table, else a 3x3 filter at its own resolution."""
    window = receptive_fields(meta_layers, input_size).get(name)
    if window is not None:
        return window
    stride = max(input_size // height, 1)
    size = DEFAULT_KERNEL * stride  # a 3x3 filter applied to the input area-pooled to this resolution
    return Window(size, stride, (stride - size) // 2)
