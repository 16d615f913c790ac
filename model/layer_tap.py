"""Named layers' outputs for given inputs, from any Keras model: how the recorder (model/recorder.py) and the
analysis set's replay (model/analysis_replay.py) reach into a model.

    tap = LayerTap(model, ["conv1", "block1/conv"], probes)   # checked on the probes; RecorderError if it cannot
    outs = tap(probes)                                         # [one tensor per layer], as model(probes) computes
    extract = tap.compiled()                                   # the same in a tf.function, giving numpy arrays
    tap.close()                                                # put back any layer `call` it hooked

Where the model is a functional graph and each layer runs once, the tap is a sub-model up to the layers. Otherwise
(a subclassed model, a layer inside a sub-model named "outer/inner") it hooks each layer's `call` during a full
forward pass. Keras and numpy only (TensorFlow is imported when the TensorFlow backend is used).
"""

from __future__ import annotations

import functools

import keras
import numpy as np


class RecorderError(ValueError):
    """A model, input or setting the recorder cannot record exactly; raised when `fit` starts."""


def refuse(message: str):
    """Raise the recorder's one-line error."""
    raise RecorderError(f"ActivationRecorder: {message}")


def _first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else ""


def as_probe_inputs(probes):
    """Return the probes as float32 arrays (signed integer arrays kept), alone or in their list/dict."""
    def convert(value):
        array = np.asarray(value)
        return array if np.issubdtype(array.dtype, np.signedinteger) else array.astype(np.float32)

    if isinstance(probes, dict):
        converted = {key: convert(value) for key, value in probes.items()}
    elif isinstance(probes, (list, tuple)) and probes and all(hasattr(value, "shape") for value in probes):
        converted = [convert(value) for value in probes]
    else:
        converted = np.asarray(probes, np.float32)
    leaves = keras.tree.flatten(converted)
    if not leaves or any(leaf.ndim == 0 for leaf in leaves) or len({len(leaf) for leaf in leaves}) != 1:
        raise ValueError("probe_images must be an array (N, ...) or a list/dict of arrays with the same N, "
                         f"got shapes {[leaf.shape for leaf in leaves]}")
    return converted


def probe_tensors(probes):
    """Return the probes as the backend's constants (TensorFlow), or as they are."""
    if keras.backend.backend() != "tensorflow":
        return probes
    import tensorflow as tf

    return keras.tree.map_structure(tf.constant, probes)


def _probe_count(probes) -> int:
    return len(keras.tree.flatten(probes)[0])


def _model_inputs(model):
    """Return a functional model's input structure, or None (a subclassed model has none)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return inputs or None


def children(layer) -> list:
    """Return a layer's (or model's) direct sublayers."""
    if isinstance(getattr(layer, "layers", None), list):
        return layer.layers
    flatten = getattr(layer, "_flatten_layers", None)
    return list(flatten(include_self=False, recursive=False)) if flatten else []


def find_layer(model, path: str):
    """Return the layer at "outer/inner" (names of nested layers joined by "/"), or refuse."""
    layer = model
    parts = path.split("/")
    for depth, part in enumerate(parts):
        matches = [child for child in children(layer) if child.name == part]
        if not matches:
            where = "the model" if depth == 0 else repr("/".join(parts[:depth]))
            nested = [found for found in _layer_paths(model) if found.split("/")[-1] == parts[-1]]
            hint = f"; did you mean {' or '.join(map(repr, nested[:3]))}?" if nested else (
                f"; its layers: {', '.join(child.name for child in children(layer))[:200]}")
            refuse(f"no layer {part!r} in {where}{hint} (name a layer inside a sub-model as 'outer/inner')")
        layer = matches[0]
    return layer


def _layer_paths(layer, prefix: str = "") -> list[str]:
    paths = []
    for child in children(layer):
        path = f"{prefix}{child.name}"
        paths += [path, *_layer_paths(child, path + "/")]
    return paths


def compiled(extract):
    """Wrap a call (inputs, training) -> tensors in tf.function on the TensorFlow backend (eager calls cost ~15% of
    a step); the wrapped call takes numpy inputs and returns numpy arrays."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        probe_call = tf.function(lambda inputs: extract(inputs, training=False), reduce_retracing=True)
        return lambda inputs: [out.numpy() for out in probe_call(keras.tree.map_structure(tf.constant, inputs))]
    return lambda inputs: [keras.ops.convert_to_numpy(out) for out in extract(inputs, training=False)]


class LayerTap:
    """Named layers' outputs for any inputs of a model (see the module's docstring); `first` holds the probes'."""

    def __init__(self, model, layer_names, probe_inputs):
        self.model, self.layer_names, self.probe_inputs = model, tuple(layer_names), probe_inputs
        self._hooks: list = []
        try:
            self._extract, self.first = self._build()
        except BaseException:
            self.close()
            raise

    def __call__(self, inputs, training: bool = False) -> list:
        """Return [one tensor per layer] for `inputs` (each as `model(inputs, training=training)` computes it)."""
        return self._extract(inputs, training=training)

    def compiled(self):
        """Return the tap as one compiled call, numpy inputs -> [numpy arrays] (see `compiled`)."""
        return compiled(self._extract)

    def close(self) -> None:
        """Put the hooked layers' own `call` methods back."""
        for layer, saved in self._hooks:
            del layer.call
            if saved is not None:
                layer.call = saved
        self._hooks = []

    def _build(self):
        """Return the extractor (inputs, training) -> [one tensor per layer name] and its outputs on the probes."""
        layers = [find_layer(self.model, name) for name in self.layer_names]
        inputs = _model_inputs(self.model)
        extractor = None
        single = all(len(getattr(layer, "_inbound_nodes", ())) <= 1 for layer in layers)  # not shared
        if inputs is not None and single and "/" not in "".join(self.layer_names):
            try:  # a functional graph: a sub-model up to the layers, the original fast path
                outputs = [layer.output for layer in layers]
                if all(isinstance(out, keras.KerasTensor) for out in outputs):
                    model = keras.Model(inputs=inputs, outputs=outputs)

                    def extractor(probes, training=False):
                        outs = model(probes, training=training)
                        return list(outs) if isinstance(outs, (list, tuple)) else [outs]  # one output: bare tensor

            except (AttributeError, ValueError):  # a layer used several times, or not in the graph
                extractor = None
        if extractor is None:
            try:  # build every layer first: a layer's first call may run its sublayers symbolically
                self.model(probe_tensors(self.probe_inputs), training=False)
            except Exception:  # noqa: BLE001 - reported below, with the checked call
                pass
            extractor = self._hooked_forward(layers)
        try:
            first = extractor(probe_tensors(self.probe_inputs), training=False)
        except RecorderError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure here is the probes not fitting the model
            refuse(f"the model cannot run on the probes ({type(error).__name__}: {_first_line(error)}); "
                   "pass one array for a one-input model, or a list or dict of arrays matching its inputs")
        for name, out in zip(self.layer_names, first):
            if not hasattr(out, "shape") or len(out.shape) == 0 or out.shape[0] != _probe_count(self.probe_inputs):
                refuse(f"layer {name!r} does not return one tensor with a row per probe; "
                       "record layers whose call returns one tensor")
        return extractor, first

    def _hooked_forward(self, layers):
        """Wrap each layer's `call` so a full `model(probes)` pass also hands back the layers' outputs."""
        captured = {"on": None}
        for index, layer in enumerate(layers):
            saved = layer.__dict__.get("call")
            original = layer.call

            def hooked(*args, _original=original, _index=index, **kwargs):
                out = _original(*args, **kwargs)
                if captured["on"] is not None and not isinstance(out, keras.KerasTensor):  # the probes' pass only
                    captured["on"][_index].append(out)
                return out

            layer.call = functools.wraps(original)(hooked)
            self._hooks.append((layer, saved))
        model, names = self.model, self.layer_names

        def extractor(probes, training=False):
            captured["on"] = [[] for _ in layers]
            try:
                model(probes, training=training)
                calls = captured["on"]
            finally:
                captured["on"] = None
            for name, outs in zip(names, calls):
                if len(outs) != 1:
                    refuse(f"layer {name!r} ran {len(outs)} times in one forward pass; record a layer that "
                           "runs once per pass (a shared layer's outputs are ambiguous)")
            return [outs[0] for outs in calls]

        return extractor
