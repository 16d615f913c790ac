"""What render_capture checks and reads from a capture before drawing: its layers, their activations, its probes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from capture.schema import snapshot_shape_problem

FIX = "rebuild the capture (delete build/capture.h5 and run `make site`) or pass layers=[...] to render fewer"
DEFAULT_ACTIVATION = "tanh"  # the article's model, and captures made before meta["recorded_layers"]


def expected_layers(capture) -> list[str]:
    """Return the recorded layers: the meta's `recorded_layers`, else the config's list (older archives), else all."""
    rows = _meta(capture).get("recorded_layers")
    if isinstance(rows, list) and rows and all(isinstance(row, dict) and "name" in row for row in rows):
        return [str(row["name"]) for row in rows]
    try:
        names = capture.config.get("layer_names")
    except (TypeError, ValueError, AttributeError):
        names = None
    return [str(name) for name in names] if names else list(capture.activations)


def _meta(capture) -> dict:
    meta = getattr(capture, "meta", None)
    return meta if isinstance(meta, dict) else {}


def model_origin(capture) -> str:
    """Return meta["model"]["origin"] ("article" when the capture does not say)."""
    model = _meta(capture).get("model")
    return str(model.get("origin") or "article") if isinstance(model, dict) else "article"


def layer_activation(capture, name: str) -> str | None:
    """Return a layer's activation name: meta["recorded_layers"], else its meta["layers"] row, else tanh."""
    meta = _meta(capture)
    for key in ("recorded_layers", "layers"):
        for row in meta.get(key) or ():
            if isinstance(row, dict) and row.get("name") == name:
                activation = row.get("activation")
                return str(activation) if activation else None
    return DEFAULT_ACTIVATION


def _config_widths(capture) -> dict[str, int]:
    """Return the article model's {layer: channels} from the config (empty for other models or none listed)."""
    if model_origin(capture) != "article":
        return {}
    try:
        config = capture.config
        return dict(zip(config["layer_names"], config["conv_widths"]))
    except (TypeError, ValueError, KeyError, AttributeError):
        return {}


def probe_problem(probes: np.ndarray) -> str | None:
    """Say what is wrong with the capture's probe images, or return None for (N, H, W) or (N, H, W, 3) uint8."""
    grey = probes.ndim == 3
    rgb = probes.ndim == 4 and probes.shape[-1] == 3
    if not (grey or rgb) or probes.dtype != np.uint8 or 0 in probes.shape:
        return (f"probe_images must be (N, H, W) grey or (N, H, W, 3) RGB uint8, got {probes.shape} "
                f"{probes.dtype}")
    return None


def check_capture(capture, layers: Sequence[str]) -> None:
    """Raise ValueError, saying what to do, when the capture cannot be rendered for these layers."""
    for attribute in ("steps", "probe_images", "activations", "train_loss", "train_accuracy", "test_steps",
                      "test_loss", "test_accuracy"):
        if not hasattr(capture, attribute):
            raise ValueError(f"the capture has no `{attribute}`: pass a capture.archive.Capture (Capture.load(path))")
    steps = np.asarray(capture.steps)
    probes = np.asarray(capture.probe_images)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"capture steps must be a non-empty (T,) array, got shape {steps.shape}; {FIX}")
    problem = probe_problem(probes)
    if problem:
        raise ValueError(f"{problem}; {FIX}")
    missing = [name for name in layers if name not in capture.activations]
    if missing:
        present = ", ".join(capture.activations) or "none"
        raise ValueError(f"the capture lacks layer(s) {', '.join(missing)} (it has {present}); {FIX}")
    widths = _config_widths(capture)
    for name in layers:
        shape = np.shape(capture.activations[name])
        problem = snapshot_shape_problem(name, shape, steps.size, len(probes))
        if problem:
            raise ValueError(f"{problem}; {FIX}")
        if name in widths and shape[4] != widths[name]:
            raise ValueError(f"layer {name} has {shape[4]} channels but the capture's config says {widths[name]}; "
                             f"{FIX}")
