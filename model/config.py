"""The experiment's one frozen config: its defaults ARE the original post's experiment.

Use: `Config()` for the article's run, `Config.from_overrides({"steps": 20})` for a variant;
`config.to_json()` is what every artifact carries so a stale one is detected, not reused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field

DATASETS = ("auto", "mnist", "bundled", "fashion")
STRATEGIES = ("none", "mirrored", "auto")  # model/distribute.py makes them
MULTIWORKER_REFUSAL = ("--strategy multiworker is not supported: Keras 3's fit does not run under "
                       "MultiWorkerMirroredStrategy (keras-team/keras#20585); use --strategy mirrored on one machine")
MAX_STEPS = 10_000_000  # far beyond any run this machine can hold; the memory check decides the real limit
LAYER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")  # what Keras accepts as a layer name, and safe in files
RESERVED_NAMES = frozenset({"image", "flatten", "pool1", "pool2", "dense1", "dense2", "dense3"})  # the model's others


def _type_name(default) -> str:
    if isinstance(default, tuple):
        return f"a list of {'names' if default and isinstance(default[0], str) else 'integers'}"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(type(default), "null")


def check_type(name: str, value, default) -> None:
    """Raise ValueError when `value` is not of the kind the field's default is (NaN and infinity are not numbers)."""
    def fits(item, example) -> bool:
        if isinstance(example, bool) or isinstance(item, bool):
            return isinstance(item, bool) and isinstance(example, bool)
        if isinstance(example, float):
            return isinstance(item, (int, float)) and math.isfinite(item)
        if isinstance(example, int):
            return isinstance(item, int)
        return isinstance(item, type(example))

    if default is None:  # data_dir: a folder path or nothing
        ok = value is None or (isinstance(value, str) and value != "")
        expected = "a folder path"
    elif isinstance(default, tuple):
        ok = isinstance(value, tuple) and all(fits(item, default[0]) for item in value)
        expected = _type_name(default)
    else:
        ok = fits(value, default)
        expected = _type_name(default)
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


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
    # Devices: "none" (one device), "mirrored" (every local GPU or logical device, tf.distribute), "auto"
    # (mirrored when more than one GPU is visible). batch_size stays the global batch either way.
    strategy: str = "none"
    # Names of the recorded layers, in order.
    layer_names: tuple[str, ...] = field(default=("conv1", "conv2", "conv3", "conv4", "conv5", "conv6"))

    def __post_init__(self) -> None:
        """Reject values that cannot make a run, with the fix in the message."""
        for item in dataclasses.fields(self):
            check_type(item.name, getattr(self, item.name), item.default if item.default is not dataclasses.MISSING
                       else item.default_factory())
        if self.strategy == "multiworker":
            raise ValueError(MULTIWORKER_REFUSAL)
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}: use one of {', '.join(DATASETS)}")
        for name in ("steps", "batch_size", "capture_every", "test_every", "test_subset"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.steps > MAX_STEPS:
            raise ValueError(f"steps must be at most {MAX_STEPS:,}, got {self.steps:,}")
        for name in ("conv_widths", "dense_widths"):
            if not getattr(self, name) or min(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be a non-empty list of positive integers, "
                                 f"got {list(getattr(self, name))}")
        if len(self.conv_widths) != len(self.layer_names):
            raise ValueError("conv_widths and layer_names must have the same length")
        if self.kernel_init_stddev <= 0 or self.learning_rate <= 0:
            raise ValueError("kernel_init_stddev and learning_rate must be positive")
        if min(self.mnist_probe_indices, default=0) < 0:
            raise ValueError("mnist_probe_indices must be indices into the test set (0 or more)")
        bad = [name for name in self.layer_names if not LAYER_NAME.fullmatch(name) or name in RESERVED_NAMES]
        if bad or len(set(self.layer_names)) != len(self.layer_names):
            raise ValueError(f"layer_names must be distinct names of letters, digits, _ . or -, other than "
                             f"{', '.join(sorted(RESERVED_NAMES))}; got {list(self.layer_names)}")

    @classmethod
    def from_overrides(cls, overrides: dict) -> Config:
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
    def from_json(cls, text: str) -> Config:
        """Rebuild a config from `to_json` output."""
        return cls.from_overrides(json.loads(text))
