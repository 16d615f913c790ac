"""The model's layers, flattened in model order, and the choice of the recorded ones (--layers).

`layer_table(model, input_shape, recorded)` gives meta["layers"]: a row per layer, nested layers named by
their path ("block1/conv"); `select_layers(model, input_shape, spec)` turns --layers into the recorded
names and the shape each is stored at ((H, W, C): a Dense layer's (units,) as (1, 1, units), (L, C) as
(1, L, C)), refusing unknown names and outputs that cannot be stored, with a one-line error;
`check_names(model, spec)` refuses layer names TensorFlow cannot put in its graphs, before any training.
"""

from __future__ import annotations

import functools
import re

import keras
import numpy as np

from capture.schema import ARCHIVE_KEYS
from model.layer_tap import children
from model.user_model import ModelError

KEYWORD_KINDS = {"conv": keras.layers.Conv2D, "dense": keras.layers.Dense}
ACTIVATION_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "ELU": "elu", "LeakyReLU": "leaky_relu", "PReLU": "prelu"}


# TensorFlow's node names (tensorflow/core/graph/graph_constructor.cc IsValidNodeName, and the name-scope
# patterns of tensorflow/python/framework/ops.py): letters, digits and _ . - (/ separates scopes), each ">" followed
# by a letter, digit or "."; a layer's name becomes a scope and begins its variables' names ("d>_kernel_momentum").
TF_NAME = re.compile(r"[A-Za-z0-9_.-]*(?:>[A-Za-z0-9.][A-Za-z0-9_.-]*)*")
TF_ROOT_START = re.compile(r"[A-Za-z0-9.]")  # the model's own name is the root scope: its first character
NAME_RULE = "letters, digits, _ . - and > only before a letter, digit or ."


class LayerChoiceError(ValueError):
    """A --layers value that names no layer, or a layer whose output cannot be stored."""


def flat_layers(model) -> list[tuple[str, keras.layers.Layer]]:
    """Return (path, layer) for every layer in model order, a sub-model's layers after it as "outer/inner"."""
    found = []

    def visit(layer, prefix):
        for child in children(layer):
            found.append((f"{prefix}{child.name}", child))
            visit(child, f"{prefix}{child.name}/")

    visit(model, "")
    return found


def check_names(model, spec: str) -> None:
    """Refuse (ModelError naming the layer and the fix) a model or layer name TensorFlow's graphs cannot hold."""
    name = model.name
    if not TF_NAME.fullmatch(name) or (name and not TF_ROOT_START.match(name)):
        raise ModelError(f"--model {spec}: the model's name {name!r} is not one TensorFlow accepts ({NAME_RULE}, "
                         f"beginning with a letter, digit or .): rename the model, e.g. name={_safe(name)!r}")
    for path, layer in flat_layers(model):
        if not isinstance(layer, keras.layers.InputLayer) and not TF_NAME.fullmatch(layer.name):
            raise ModelError(f"--model {spec}: layer {path!r} has a name TensorFlow does not accept ({NAME_RULE}): "
                             f"rename the layer, e.g. name={_safe(layer.name)!r}")


def _safe(name: str) -> str:
    safe = re.sub(r">(?![A-Za-z0-9.])", "_", re.sub(r"[^A-Za-z0-9_.>-]", "_", name))
    return safe if TF_ROOT_START.match(safe) else f"m{safe}"


def traced_outputs(model, input_shape) -> dict[str, list]:
    """Run one zero image through the model and return each layer's outputs (a list: one per call)."""
    layers = flat_layers(model)
    seen: dict[str, list] = {path: [] for path, _ in layers}
    hooks = []
    for path, layer in layers:
        saved, original = layer.__dict__.get("call"), layer.call

        def hooked(*args, _original=original, _path=path, **kwargs):
            out = _original(*args, **kwargs)
            if not isinstance(out, keras.KerasTensor):  # this concrete pass, not a symbolic build
                seen[_path].append(out)
            return out

        layer.call = functools.wraps(original)(hooked)
        hooks.append((layer, saved))
    try:
        model(np.zeros((1, *input_shape), np.float32), training=False)
    finally:
        for layer, saved in hooks:
            del layer.call
            if saved is not None:
                layer.call = saved
    return seen


def _shape(outputs: list, layer) -> list | None:
    """Return a layer's output shape without the batch axis, from the graph or from the traced call."""
    try:
        symbolic = layer.output
        if isinstance(symbolic, keras.KerasTensor):
            return [None if size is None else int(size) for size in symbolic.shape[1:]]
    except (AttributeError, ValueError):  # a layer of a subclassed model has no graph output
        pass
    if len(outputs) >= 1 and hasattr(outputs[0], "shape"):
        return [int(size) for size in outputs[0].shape[1:]]
    return None


def _pair(value) -> list[int] | None:
    """Return a kernel/stride/pool size as [h, w] ([1, k] for a 1-D layer), else None."""
    if isinstance(value, int):
        return [1, value]
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(isinstance(v, int) for v in value):
        return [1, *value] if len(value) == 1 else list(value)
    return None


def activation_name(layer) -> str | None:
    """Return the name of a layer's activation function ("tanh", "relu", "linear", ...), or None."""
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) else ACTIVATION_LAYERS.get(type(layer).__name__)


def layer_table(model, input_shape, recorded=(), traced=None) -> list[dict]:
    """Return meta["layers"]: name, kind, output shape, activation, parameters, sizes, recorded, per layer."""
    traced = traced_outputs(model, input_shape) if traced is None else traced
    rows = []
    for path, layer in flat_layers(model):
        try:
            parameters = int(layer.count_params())
        except ValueError:  # never built
            parameters = 0
        padding = getattr(layer, "padding", None)
        rows.append({"name": path, "kind": type(layer).__name__, "output_shape": _shape(traced.get(path, []), layer),
                     "activation": activation_name(layer), "parameters": parameters,
                     "kernel_size": _pair(getattr(layer, "kernel_size", None)),
                     "strides": _pair(getattr(layer, "strides", None)),
                     "padding": padding if isinstance(padding, str) else None,
                     "pool_size": _pair(getattr(layer, "pool_size", None)), "recorded": path in recorded})
    return rows


def stored_shape(shape) -> tuple[int, int, int] | None:
    """Return the (H, W, C) an output of this shape (no batch axis) is stored at, or None if it cannot be."""
    if shape is None or any(size is None for size in shape):
        return None
    return {3: tuple(shape), 2: (1, *shape), 1: (1, 1, *shape)}.get(len(shape))


def select_layers(model, input_shape, spec) -> tuple[list[str], dict[str, tuple[int, int, int]], dict]:
    """Return the recorded layer names in model order, their stored (H, W, C), and the traced outputs."""
    traced = traced_outputs(model, input_shape)
    layers = flat_layers(model)
    names = [path for path, _ in layers]
    wanted, unknown = set(), []
    for item in spec:
        if item in KEYWORD_KINDS:
            matches = [path for path, layer in layers if isinstance(layer, KEYWORD_KINDS[item])]
            if not matches:
                raise LayerChoiceError(f"--layers {item}: the model has no {KEYWORD_KINDS[item].__name__} layer; "
                                       f"name the layers to record, e.g. --layers {_listing(names, 3)}")
            wanted.update(matches)
        elif item in names:
            wanted.add(item)
        else:
            unknown.append(item)
    if unknown:
        raise LayerChoiceError(f"--layers: the model has no layer {', '.join(map(repr, unknown))}; its layers are "
                               f"{_listing(names)} (nested ones as outer/inner)")
    chosen = [path for path in names if path in wanted]
    shapes = {}
    for path in chosen:
        outputs = traced[path]
        if path in ARCHIVE_KEYS:
            raise LayerChoiceError(f"layer {path!r} has the name of a capture archive entry: rename the layer")
        if len(outputs) != 1:
            raise LayerChoiceError(f"layer {path!r} runs {len(outputs)} times in one forward pass, so its output is "
                                   f"ambiguous: record another layer (--layers)")
        shape = list(outputs[0].shape[1:]) if hasattr(outputs[0], "shape") else None
        stored = stored_shape(shape)
        if stored is None:
            what = f"shape {tuple(shape)}" if shape else "no single tensor"
            raise LayerChoiceError(f"layer {path!r} outputs {what}: only outputs (H, W, C), (L, C) or (units,) "
                                   f"can be stored; record another layer")
        shapes[path] = stored
    return chosen, shapes, traced


def _listing(names: list[str], limit: int = 60) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
