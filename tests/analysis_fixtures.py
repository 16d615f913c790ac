"""Made-up captures for the analysis' tests: digit-like probes, the analysis' own reference maps, layer series.

The channels of such a capture are known copies, edge maps, idle or saturated, so a test knows what the
analysis (report/numbers/) must find in them (tests/test_analysis.py, test_commentary.py, test_truthful_claims.py).
"""

import json
from types import SimpleNamespace

import numpy as np

from report.numbers.reference_maps import input_maps

NUM_PROBES = 10


def make_probes(seed: int = 0, count: int = NUM_PROBES) -> np.ndarray:
    """Draw digit-like uint8 images: a few bright bars and blocks of random place, length and direction."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28), np.uint8)
    for image in images:
        for _ in range(3):
            row, col = rng.integers(4, 20, size=2)
            length, width = rng.integers(6, 14), rng.integers(2, 4)
            direction = rng.integers(3)
            for k in range(length):
                r, c = [(row, col + k), (row + k, col), (row + k, col + k)][direction]
                image[max(r, 0):min(r + width, 28), max(c, 0):min(c + width, 28)] = 255
    return images


def maps_at(probes: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Return the analysis' own reference maps at a resolution (the ground truth for the synthetic channels)."""
    return input_maps(probes, size, size)


def make_capture(layers: dict[str, np.ndarray], probes: np.ndarray, *, train_loss=None, test_accuracy=(0.5, 0.97),
                 meta=None) -> SimpleNamespace:
    """Wrap (T, N, H, W, C) layer series in an object with Capture's attributes."""
    count = next(iter(layers.values())).shape[0]
    steps = np.arange(count, dtype=np.int32)
    loss = np.full(max(count - 1, 1), 2.0, np.float32) if train_loss is None else np.asarray(train_loss, np.float32)
    return SimpleNamespace(
        steps=steps, probe_images=probes, probe_labels=np.arange(len(probes)),
        activations={name: np.asarray(values, np.float16) for name, values in layers.items()},
        train_loss=loss, train_accuracy=np.zeros_like(loss),
        test_steps=np.arange(1, len(test_accuracy) + 1), test_loss=np.ones(len(test_accuracy), np.float32),
        test_accuracy=np.asarray(test_accuracy, np.float32), config_json=json.dumps({"dense_widths": [64, 32, 10]}),
        meta=meta or {},
    )


def constant_series(final: np.ndarray, count: int = 4) -> np.ndarray:
    """Repeat one (N, H, W, C) map for `count` steps."""
    return np.repeat(final[None], count, axis=0)


def stack_channels(*maps: np.ndarray) -> np.ndarray:
    """Stack (N, H, W) maps into (N, H, W, C)."""
    return np.stack(maps, axis=-1)
