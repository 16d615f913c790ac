"""Your own model: a builder file (--model FILE.py:FUNCTION) or a saved .keras file (--model FILE.keras).

`load_model(config, input_shape, num_classes)` returns the article's CNN, the builder's model (called as
FUNCTION(input_shape, num_classes) after the seed is set) or the loaded file, and `check_model` refuses,
with a one-line ModelError saying the fix, anything that cannot make a run: not a compiled keras.Model,
no accuracy metric, inputs that are not the data's images, outputs that are not one score per class.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path

import keras
import numpy as np

from pipeline.config import model_file
from pipeline.keras_file import archive_problem

ACCURACY_NAMES = ("accuracy", "acc")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
COMPILE_FIX = 'compile it with model.compile(optimizer, loss, metrics=["accuracy"])'


class ModelError(ValueError):
    """A --model file or the model it makes that cannot be trained and recorded, with the fix."""


def load_model(config, input_shape, num_classes):
    """Build or load the model the config names (seed first; inside strategy.scope() under a strategy)."""
    if config.model is None:
        from model.architecture import build_model

        return build_model(config, input_shape)
    path = model_file(config.model)
    if not path.is_file():
        raise ModelError(f"--model {path}: no such file; check the path")
    if config.model.endswith(".keras"):
        problem = archive_problem(path)
        if problem is not None:
            raise ModelError(f"--model {path} {problem}: save the model again with model.save('name.keras')")
        try:
            model = keras.saving.load_model(path)
        except Exception as error:  # noqa: BLE001 - Keras raises many types for a file it cannot read
            raise ModelError(f"--model {path} cannot be loaded by Keras ({_summary(error)}); save it with "
                             f"model.save('name.keras') (custom layers must be registered serializable)") from None
    else:
        function = config.model.rpartition(":")[2]
        builder = getattr(_import_file(path), function, None)
        if not callable(builder):
            raise ModelError(f"--model {config.model}: {path} has no function {function!r}; define "
                             f"def {function}(input_shape, num_classes) returning a compiled keras.Model")
        try:
            model = builder(tuple(input_shape), int(num_classes))
        except Exception as error:  # noqa: BLE001 - the user's code; say where it failed
            raise ModelError(f"--model {config.model} raised {_summary(error)}{_where(path, error)}; fix the "
                             f"function (it is called as {function}{tuple(input_shape), int(num_classes)})") from None
    if not isinstance(model, keras.Model):
        raise ModelError(f"--model {config.model} gave a {type(model).__name__}, not a keras.Model: return "
                         f"(or save) the compiled model")
    return model


def _import_file(path: Path):
    """Import a Python file by its path (its folder importable while it runs); refuse with file and line."""
    # Named by the file's content, not its path: the name is saved in model.keras with any class the file
    # defines, and the published model must not reveal (or depend on) the builder's folders.
    name = f"user_model_{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelError(f"--model {path} cannot be imported: give a .py file")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise ModelError(f"--model {path} line {error.lineno}: {error.msg}: fix the syntax") from None
    except Exception as error:  # noqa: BLE001 - anything the file raises while it is imported
        raise ModelError(f"--model {path}: importing it raised {_summary(error)}{_where(path, error)}; "
                         f"fix the file") from None
    finally:
        sys.path.remove(folder)
    return module


def _summary(error: BaseException) -> str:
    text = " ".join(ANSI_ESCAPE.sub("", str(error)).split())  # Keras bolds parts of its messages
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def _where(path: Path, error: BaseException) -> str:
    """Return " (line N of FILE)" for the innermost frame of the error in the user's file, or ""."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve() == path.resolve()]
    return f" (line {frames[-1].lineno} of {path})" if frames else ""


def loss_name(loss) -> str:
    """Return a compiled loss's name, e.g. "categorical_crossentropy" (strings, functions or Loss objects)."""
    if isinstance(loss, dict) and len(loss) == 1:
        loss = next(iter(loss.values()))
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
            return loss
    function = getattr(loss, "fn", loss)  # a Loss class wraps its function
    name = getattr(function, "__name__", None) or type(loss).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if name[:1].isupper() else name


def label_format(loss) -> str:
    """Return "integer" for a sparse categorical loss (labels as class numbers), else "one_hot"."""
    return "integer" if loss_name(loss).startswith("sparse_") else "one_hot"


def accuracy_key(model) -> str | None:
    """Return the log name of the model's accuracy metric ("accuracy" or "acc"), or None without one."""
    try:
        metrics = model.get_compile_config().get("metrics")
    except Exception:  # noqa: BLE001 - a metric that does not serialise: look at the objects instead
        metrics = getattr(getattr(model, "_compile_config", None), "config", {}).get("metrics")

    def names(node):
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            if "class_name" in node:
                return [node.get("config", {}).get("name")]
            return [name for value in node.values() for name in names(value)]
        if isinstance(node, (list, tuple)):
            return [name for value in node for name in names(value)]
        return [getattr(node, "name", None) or getattr(node, "__name__", None)]

    return next((name for name in names(metrics) if name in ACCURACY_NAMES), None)


def check_model(model, spec: str, input_shape, classes: int | None) -> int:
    """Refuse a model that cannot make a run (ModelError with the fix); return its number of outputs."""
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None or model.loss is None:
        raise ModelError(f"--model {spec} is not compiled (with a loss): {COMPILE_FIX} before returning or saving it")
    if accuracy_key(model) is None:
        raise ModelError(f'--model {spec} has no accuracy metric: compile with metrics=["accuracy"]')
    if int(getattr(model, "steps_per_execution", 1) or 1) != 1:
        raise ModelError(f"--model {spec} is compiled with steps_per_execution={model.steps_per_execution}: "
                         f"compile with steps_per_execution=1 (each step's loss is recorded)")
    inputs = _inputs(model)
    expected = tuple(int(size) for size in input_shape)
    if inputs is not None:
        if len(inputs) != 1:
            raise ModelError(f"--model {spec} takes {len(inputs)} inputs: give it one input, the images {expected}")
        declared = tuple(inputs[0].shape[1:])
        if len(declared) != len(expected) or any(d is not None and d != e for d, e in zip(declared, expected)):
            raise ModelError(f"--model {spec} takes inputs of shape {_text(declared)} but the data's images are "
                             f"{expected} (H, W, C): build it with keras.Input(shape={expected}), or use other data")
    try:
        outputs = model(np.zeros((1, *expected), np.float32), training=False)
    except Exception as error:  # noqa: BLE001 - whatever the model raises on the data's shape
        raise ModelError(f"--model {spec} cannot run on the data's images of shape {expected}: "
                         f"{_summary(error)}") from None
    if not hasattr(outputs, "shape") or len(outputs.shape) != 2:
        shape = _text(tuple(outputs.shape[1:])) if hasattr(outputs, "shape") else "several tensors"
        raise ModelError(f"--model {spec} outputs {shape}: it must output one score per class, shape (classes,)")
    width = int(outputs.shape[-1])
    if classes is not None and width != classes:
        raise ModelError(f"--model {spec} outputs {width} values but the data has {classes} classes: "
                         f"give its last layer {classes} units")
    return width


def _inputs(model):
    try:
        return list(model.inputs) or None
    except (AttributeError, ValueError):  # a subclassed model has no symbolic inputs
        return None


def _text(shape) -> str:
    return "(" + ", ".join("?" if size is None else str(size) for size in shape) + (",)" if len(shape) == 1 else ")")


def per_image_loss(loss, label_format_name: str, classes: int):
    """Return a function (labels (K,), outputs (K, classes)) -> (K,) losses, computed by the model's own loss."""
    function = keras.losses.get(loss) if isinstance(loss, str) else loss
    call = function.call if isinstance(function, keras.losses.Loss) else function  # unreduced: one per image

    def compute(labels: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        truth = (labels.astype(np.int32) if label_format_name == "integer"
                 else np.eye(classes, dtype=np.float32)[labels])
        values = np.asarray(keras.ops.convert_to_numpy(call(keras.ops.convert_to_tensor(truth),
                                                            keras.ops.convert_to_tensor(outputs))), np.float64)
        return np.full(len(labels), float(values)) if values.ndim == 0 else values.reshape(len(labels), -1).mean(1)

    return compute
