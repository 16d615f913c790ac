"""A synthetic, deterministic capture of the real shapes, for tests and the render benchmark.

Probe images are drawn strokes; each layer's maps are tanh of evolving 3x3 filters applied to the
probes pooled to the layer's resolution, with a gain that stays small for an early plateau and
then grows, so the frames look and compress like a real run (digit-shaped, smoothly changing).
"""

from __future__ import annotations

import json

import numpy as np

LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6")
WIDTHS = (4, 4, 8, 8, 16, 16)
SIZES = (28, 28, 14, 14, 7, 7)


def probe_digits(count: int = 10, seed: int = 0) -> np.ndarray:
    """Return (count, 28, 28) uint8 stroke images that look roughly like handwriting."""
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
    return images


def _pool(images: np.ndarray, size: int) -> np.ndarray:
    factor = images.shape[-1] // size
    n = images.shape[0]
    return images.reshape(n, size, factor, size, factor).mean(axis=(2, 4))  # (N, size, size)


def _filter3x3(fields: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    padded = np.pad(fields, ((0, 0), (1, 1), (1, 1)))
    size = fields.shape[-1]
    return sum(kernel[dy, dx] * padded[:, dy:dy + size, dx:dx + size] for dy in range(3) for dx in range(3))


def synthetic_layer(images: np.ndarray, steps: int, size: int, channels: int, seed: int) -> np.ndarray:
    """Return (steps + 1, N, size, size, channels) float16 tanh activations of evolving filters."""
    rng = np.random.default_rng(seed)
    base = _pool(images.astype(np.float32) / 255, size)  # (N, size, size)
    start = rng.normal(size=(channels, 3, 3))
    end = rng.normal(size=(channels, 3, 3))
    bias = rng.normal(scale=0.3, size=channels)
    progress = np.arange(steps + 1) / max(steps, 1)
    gain = 0.05 + 2.5 / (1 + np.exp(-(progress - 0.2) * 25))  # (T,) plateau, then growth
    out = np.empty((steps + 1, len(images), size, size, channels), np.float16)  # (T, N, H, W, C)
    for t, (p, g) in enumerate(zip(progress, gain)):
        wobble = np.sin(np.arange(channels) + 40 * p)[:, None, None] * 0.2
        kernels = (1 - p) * start + p * end + wobble  # (C, 3, 3)
        for c in range(channels):
            out[t, ..., c] = np.tanh(g * (_filter3x3(base, kernels[c]) + bias[c]))
    return out


def synthetic_capture(steps: int = 290, probes: int = 10, *, layers=LAYERS, widths=WIDTHS, sizes=SIZES,
                      test_every: int = 5, seed: int = 0):
    """Build a `model.capture.Capture` of a made-up run with the given shapes (steps + 1 snapshots)."""
    from model.capture import Capture

    images = probe_digits(probes, seed)
    activations = {name: synthetic_layer(images, steps, size, width, seed + i + 1)
                   for i, (name, width, size) in enumerate(zip(layers, widths, sizes))}
    rng = np.random.default_rng(seed)
    train = np.arange(1, steps + 1)
    learned = 1 / (1 + np.exp(-(train / max(steps, 1) - 0.2) * 25))  # (S,)
    train_loss = (2.303 - 2.2 * learned + rng.normal(scale=0.03, size=steps)).astype(np.float32)
    train_accuracy = np.clip(0.1 + 0.88 * learned + rng.normal(scale=0.01, size=steps), 0, 1).astype(np.float32)
    test_steps = np.unique(np.r_[np.arange(test_every, steps + 1, test_every), steps]).astype(np.int32)
    config = {"layer_names": list(layers), "conv_widths": list(widths), "steps": steps}
    return Capture(
        steps=np.arange(steps + 1, dtype=np.int32), probe_images=images,
        probe_labels=np.arange(probes, dtype=np.int32) % 10, activations=activations,
        train_loss=train_loss, train_accuracy=train_accuracy, test_steps=test_steps,
        test_loss=train_loss[test_steps - 1] + 0.02, test_accuracy=train_accuracy[test_steps - 1] - 0.01,
        config_json=json.dumps(config, sort_keys=True), meta=synthetic_meta(probes, test_loss_final=float(
            train_loss[-1] + 0.02), test_accuracy_final=float(train_accuracy[-1] - 0.01)),
    )


def synthetic_meta(probes: int, test_loss_final: float, test_accuracy_final: float) -> dict:
    """Return a meta of the shape a real run writes, describing the made-up data honestly."""
    return {
        "dataset": {"name": "synthetic", "title": "synthetic digits", "source": "render/synthetic.py",
                    "train_size": 0, "test_size": probes, "probe_indices": list(range(probes)),
                    "class_names": [str(digit) for digit in range(10)], "notice": ""},
        "final_test_loss": test_loss_final, "final_test_accuracy": test_accuracy_final, "final_test_size": probes,
        "layers": [], "total_parameters": 0, "steps_per_epoch": 1, "epochs": 0, "test_subset_size": probes,
    }
