"""The experiment's one frozen config: its defaults ARE the original post's experiment.

Use: `Config()` for the article's run, `Config.from_overrides({"steps": 20})` for a variant;
`config.to_json()` is what every artifact carries so a stale one is detected, not reused.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

DATASETS = ("auto", "mnist", "bundled", "fashion")


@dataclass(frozen=True)
class Config:
    """Everything that decides the capture; change a field and the capture is rebuilt."""

    # Data: "auto" = full MNIST from keras' loader when cached or reachable, else "bundled";
    # "bundled" = the 10k real MNIST training images kept in data/; "fashion" = Fashion-MNIST.
    dataset: str = "auto"
    # A folder of idx(.gz) files to read instead of keras' loader (Fashion-MNIST from Debian, say).
    data_dir: str | None = None
    # Training length in optimiser steps (60,000 // 1024 = 58 per epoch, so 290 = 5 epochs of MNIST).
    steps: int = 290
    # Images per step; the remainder batch of each epoch is dropped, as in the original.
    batch_size: int = 1024
    # Widths of conv1..conv6 (3x3, same padding, tanh); 2x2 max-pooling follows conv2 and conv4.
    conv_widths: tuple[int, ...] = (4, 4, 8, 8, 16, 16)
    # Widths of dense1..dense3 (ReLU, ReLU, softmax); the last one is the number of classes.
    dense_widths: tuple[int, ...] = (64, 32, 10)
    # Standard deviation of the N(0, sd) conv kernel initialiser of the original code.
    kernel_init_stddev: float = 0.01
    # Adam's learning rate (Keras' default, as in the original).
    learning_rate: float = 0.001
    # Seed for weights, shuffling and everything else random (keras.utils.set_random_seed).
    seed: int = 0
    # Record a snapshot every `capture_every` steps (1 = every step; step 0 and the last always kept).
    capture_every: int = 1
    # Evaluate on a fixed test subset at step 0 and every `test_every` steps (0, 10, ..., 290 = 30
    # points), and on the whole test set at the end; every 5 steps cost ~10% of the fit here.
    test_every: int = 10
    # Test images used for the periodic test points (the final evaluation uses the whole test set).
    test_subset: int = 2000
    # The original's probe indices into the official MNIST test set (digits 0..9).
    mnist_probe_indices: tuple[int, ...] = (10, 5, 35, 30, 4, 15, 11, 17, 268, 12)
    # Names of the recorded layers, in order.
    layer_names: tuple[str, ...] = field(default=("conv1", "conv2", "conv3", "conv4", "conv5", "conv6"))

    def __post_init__(self) -> None:
        """Reject values that cannot make a run, with the fix in the message."""
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}: use one of {', '.join(DATASETS)}")
        for name in ("steps", "batch_size", "capture_every", "test_every", "test_subset"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if len(self.conv_widths) != len(self.layer_names):
            raise ValueError("conv_widths and layer_names must have the same length")
        if self.kernel_init_stddev <= 0 or self.learning_rate <= 0:
            raise ValueError("kernel_init_stddev and learning_rate must be positive")

    @classmethod
    def from_overrides(cls, overrides: dict) -> "Config":
        """Build a config from the defaults and named overrides; an unknown name is an error."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise ValueError(f"unknown config field(s) {', '.join(unknown)}: valid ones are {', '.join(fields)}")
        values = {}
        for name, value in overrides.items():
            default = getattr(cls(), name)
            if isinstance(default, tuple) and isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict:
        """Return the config as plain JSON-able data."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        """Return the canonical JSON text stored in every artifact."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Config":
        """Rebuild a config from `to_json` output."""
        return cls.from_overrides(json.loads(text))
