"""A synthetic, deterministic capture of any shape for the tests (outside render/: editing it re-renders nothing).

Probe images are drawn strokes (grey, or coloured strokes on a tinted ground with `rgb=True`); each
layer's maps are an activation ("tanh", "relu" or "linear") of evolving 3x3 filters applied to the
probes resampled to the layer's map size, with a gain that stays small for an early plateau and then
grows, so the frames look and compress like a real run (digit-shaped, smoothly changing). The
defaults are the article's shapes (six tanh conv layers on 28x28 grey probes).

    synthetic_capture(steps=12, layers=("conv", "dense"), widths=(40, 64), sizes=((6, 9), 1),
                      activations=("relu", "linear"), rgb=True, origin="builder")

A size is an int (square) or (h, w); (1, 1) is a Dense layer's (units,) stored as (1, 1, units).
"""

from __future__ import annotations

import json

import numpy as np

LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6")
WIDTHS = (4, 4, 8, 8, 16, 16)
SIZES = (28, 28, 14, 14, 7, 7)
ACTIVATIONS = ("tanh", "relu", "linear")


def probe_digits(count: int = 10, seed: int = 0, *, rgb: bool = False) -> np.ndarray:
    """Return (count, 28, 28) uint8 stroke images that look roughly like handwriting ((count, 28, 28, 3) if rgb)."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28), np.uint8)  # (N, 28, 28)
    for i in range(count):
        canvas = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(canvas)
        points = [tuple(p) for p in rng.integers(6, 22, size=(4, 2)).tolist()]
        draw.line(points, fill=255, width=3)
        if i % 2:
            draw.ellipse((8, 6, 20, 20), outline=255, width=2)
        images[i] = np.asarray(canvas.filter(ImageFilter.GaussianBlur(0.7)))
    if not rgb:
        return images
    # Coloured strokes over a tinted ground, each probe its own pair: every channel differs per pixel.
    colours = np.random.default_rng(seed + 1000).integers(0, 256, size=(count, 2, 3))  # (N, 2, 3) stroke, ground
    alpha = images.astype(np.float32)[..., None] / 255  # (N, 28, 28, 1)
    ground = colours[:, None, None, 1, :] * 0.35
    mixed = alpha * colours[:, None, None, 0, :] + (1 - alpha) * ground  # (N, 28, 28, 3)
    return np.rint(mixed).astype(np.uint8)


def _size_pair(size) -> tuple[int, int]:
    pair = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"a synthetic map size is an int or (h, w) of positive ints, got {size!r}")
    return pair


def _pool(images: np.ndarray, size) -> np.ndarray:
    """Resample (N, H, W) fields to (N, h, w): block means where the sizes divide, else nearest samples."""
    h, w = _size_pair(size)
    n, height, width = images.shape
    if height % h == 0 and width % w == 0:
        return images.reshape(n, h, height // h, w, width // w).mean(axis=(2, 4))  # (N, h, w)
    rows = (np.arange(h) * height) // h
    cols = (np.arange(w) * width) // w
    return images[:, rows[:, None], cols[None, :]]


def _filter3x3(fields: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    padded = np.pad(fields, ((0, 0), (1, 1), (1, 1)))
    h, w = fields.shape[-2:]
    return sum(kernel[dy, dx] * padded[:, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3))


def _apply(activation: str, x: np.ndarray) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(x)
    if activation == "relu":
        return np.maximum(x, 0)
    if activation == "linear":
        return x
    raise ValueError(f"synthetic activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")


def synthetic_layer(images: np.ndarray, steps: int, size, channels: int, seed: int,
                    activation: str = "tanh") -> np.ndarray:
    """Return (steps + 1, N, h, w, channels) float16 activations of evolving filters (size: int or (h, w))."""
    rng = np.random.default_rng(seed)
    h, w = _size_pair(size)
    grey = images if images.ndim == 3 else images.astype(np.float32).mean(axis=-1)  # (N, H, W)
    base = _pool(grey.astype(np.float32) / 255, (h, w))  # (N, h, w)
    start = rng.normal(size=(channels, 3, 3))
    end = rng.normal(size=(channels, 3, 3))
    bias = rng.normal(scale=0.3, size=channels)
    progress = np.arange(steps + 1) / max(steps, 1)
    gain = 0.05 + 2.5 / (1 + np.exp(-(progress - 0.2) * 25))  # (T,) plateau, then growth
    out = np.empty((steps + 1, len(images), h, w, channels), np.float16)  # (T, N, h, w, C)
    for t, (p, g) in enumerate(zip(progress, gain)):
        wobble = np.sin(np.arange(channels) + 40 * p)[:, None, None] * 0.2
        kernels = (1 - p) * start + p * end + wobble  # (C, 3, 3)
        for c in range(channels):
            out[t, ..., c] = _apply(activation, g * (_filter3x3(base, kernels[c]) + bias[c]))
    return out


def synthetic_capture(steps: int = 290, probes: int = 10, *, layers=LAYERS, widths=WIDTHS, sizes=SIZES,
                      activations=None, rgb: bool = False, origin: str = "article", new_meta: bool = True,
                      test_every: int = 5, seed: int = 0):
    """Build a `capture.archive.Capture` of a made-up run with the given shapes (steps + 1 snapshots).

    activations: one name for every layer or one per layer (default tanh); rgb: (N, 28, 28, 3) probes;
    origin: meta["model"]["origin"] (the config lists conv_widths only for "article"); new_meta=False
    leaves out meta["recorded_layers"], meta["model"] and the dataset's image_shape (an older capture).
    """
    from capture.archive import Capture

    layers, widths, sizes = tuple(layers), tuple(widths), tuple(sizes)
    if isinstance(activations, str) or activations is None:
        activations = (activations or "tanh",) * len(layers)
    activations = tuple(activations)
    if not len(layers) == len(widths) == len(sizes) == len(activations):
        raise ValueError("synthetic_capture needs one width, size and activation per layer")
    images = probe_digits(probes, seed, rgb=rgb)
    values = {name: synthetic_layer(images, steps, size, width, seed + i + 1, activation)
              for i, (name, width, size, activation) in enumerate(zip(layers, widths, sizes, activations))}
    rng = np.random.default_rng(seed)
    train = np.arange(1, steps + 1)
    learned = 1 / (1 + np.exp(-(train / max(steps, 1) - 0.2) * 25))  # (S,)
    train_loss = (2.303 - 2.2 * learned + rng.normal(scale=0.03, size=steps)).astype(np.float32)
    train_accuracy = np.clip(0.1 + 0.88 * learned + rng.normal(scale=0.01, size=steps), 0, 1).astype(np.float32)
    test_steps = np.unique(np.r_[np.arange(test_every, steps + 1, test_every), steps]).astype(np.int32)
    config = {"layer_names": list(layers), "steps": steps}
    if origin == "article":
        config["conv_widths"] = list(widths)
    meta = synthetic_meta(probes, test_loss_final=float(train_loss[-1] + 0.02),
                          test_accuracy_final=float(train_accuracy[-1] - 0.01))
    if new_meta:
        meta["dataset"]["image_shape"] = list(images.shape[1:3]) + [3 if rgb else 1]
        meta["dataset"]["input_scaling"] = "uint8 / 255"
        meta["model"] = {"origin": origin, "source": "tests/synthetic_capture.py", "source_sha256": None,
                         "name": "synthetic", "loss": "categorical_crossentropy", "label_format": "one_hot"}
        meta["recorded_layers"] = [
            {"name": name, "kind": "Dense" if value.shape[2:4] == (1, 1) else "Conv2D", "activation": activation,
             "output_shape": [value.shape[4]] if value.shape[2:4] == (1, 1) else list(value.shape[2:]),
             "stored_shape": list(value.shape[2:])}
            for (name, value), activation in zip(values.items(), activations)]
    return Capture(
        steps=np.arange(steps + 1, dtype=np.int32), probe_images=images,
        probe_labels=np.arange(probes, dtype=np.int32) % 10, activations=values,
        train_loss=train_loss, train_accuracy=train_accuracy, test_steps=test_steps,
        test_loss=train_loss[test_steps - 1] + 0.02, test_accuracy=train_accuracy[test_steps - 1] - 0.01,
        config_json=json.dumps(config, sort_keys=True), meta=meta,
    )


def synthetic_meta(probes: int, test_loss_final: float, test_accuracy_final: float) -> dict:
    """Return a meta of the shape a real run writes, describing the made-up data honestly."""
    return {
        "dataset": {"name": "synthetic", "title": "synthetic digits", "source": "tests/synthetic_capture.py",
                    "train_size": 0, "test_size": probes, "probe_indices": list(range(probes)),
                    "class_names": [str(digit) for digit in range(10)], "notice": ""},
        "final_test_loss": test_loss_final, "final_test_accuracy": test_accuracy_final, "final_test_size": probes,
        "layers": [], "total_parameters": 0, "steps_per_epoch": 1, "epochs": 0, "test_subset_size": probes,
    }
