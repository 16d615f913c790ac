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
from pathlib import Path

# Where Debian's dataset-fashion-mnist package puts Fashion-MNIST: read by model/data.py, named by the page.
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

DATASETS = ("auto", "mnist", "bundled", "fashion", "fashion_mnist", "cifar10", "cifar100")
DATASET_ALIASES = {"fashion_mnist": "fashion"}  # stored under one name, so both spellings share a capture
STRATEGIES = ("none", "mirrored", "multiworker", "auto")  # model/distribute.py makes them
MAX_STEPS = 10_000_000  # far beyond any run this machine can hold; the memory check decides the real limit
MIN_ANALYSIS_IMAGES, MAX_ANALYSIS_IMAGES = 10, 100_000  # the statistics need a few images; memory decides the rest
MAX_BOOTSTRAP = 10_000  # far more than the percentiles need; each resample costs a weighted sum per step and layer
MAX_SEED = 2**32 - 1  # numpy's and TensorFlow's seeds (keras.utils.set_random_seed) are 0..2**32-1
LAYER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")  # what Keras accepts as a layer name, and safe in files
RESERVED_NAMES = frozenset({"image", "flatten", "pool1", "pool2", "dense1", "dense2", "dense3"})  # the model's others
LAYER_KEYWORDS = ("conv", "dense")  # --layers conv = every Conv2D, dense = every Dense (nested ones too)
BUILDER_SPEC = re.compile(r"(?P<file>.+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)")
EMPTY_TUPLE_ITEMS = {"probes": 0}  # the item kind of a tuple field whose default is empty


def model_file(spec: str) -> Path:
    """Return the file a --model value names: FILE.keras, or FILE of FILE.py:FUNCTION."""
    return Path(spec if spec.endswith(".keras") else spec.rpartition(":")[0])


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

    if default is None:  # data_dir, model, data and their hashes: a path (or hash) or nothing
        ok = value is None or (isinstance(value, str) and value != "")
        expected = "a folder path" if name == "data_dir" else "a file path" if name in ("model", "data") else "a string"
    elif isinstance(default, tuple):
        example = default or (EMPTY_TUPLE_ITEMS[name],)
        ok = isinstance(value, tuple) and all(fits(item, example[0]) for item in value)
        expected = _type_name(example)
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
    # Devices: "none" (one device), "mirrored" (every local GPU or logical device, tf.distribute),
    # "multiworker" (every machine in TF_CONFIG), "auto" (mirrored when more than one GPU is visible).
    # batch_size stays the global batch either way.
    strategy: str = "none"
    # Names of the article model's conv layers, in order (the recorded layers are chosen by `layers`).
    layer_names: tuple[str, ...] = field(default=("conv1", "conv2", "conv3", "conv4", "conv5", "conv6"))
    # The model: None = the article's CNN (model/architecture.py); "file.py:function" = a builder called with
    # (input_shape, num_classes) returning a compiled keras.Model; "file.keras" = a saved compiled model.
    model: str | None = None
    # sha256 of the model file's bytes (filled in by generate.py), so a changed file retrains.
    model_sha256: str | None = None
    # Recorded layers, in model order: layer names ("block1/conv" inside a sub-model) and/or the keywords
    # "conv" (every Conv2D) and "dense" (every Dense).
    layers: tuple[str, ...] = ("conv",)
    # An .npz of x_train, y_train, x_test, y_test (optional class_names) to train on instead of `dataset`.
    data: str | None = None
    # sha256 of the data file's bytes (filled in by generate.py), so changed data retrains.
    data_sha256: str | None = None
    # Test-set indices of the pictured probes; () = the first test image of each class, up to 10 classes
    # (on the official MNIST test set: the original's mnist_probe_indices).
    probes: tuple[int, ...] = ()
    # Test images every claim is measured on (docs/analysis-set.md): stratified by class, seeded, disjoint
    # from the probes; 0 = none, the page measures on the probes.
    analysis_images: int = 1000
    # Replay the analysis images every `analysis_every` steps (0 = automatic: at most ~32 points, a
    # multiple of capture_every); step 0 and the last step always.
    analysis_every: int = 0
    # Bootstrap resamples of the analysis images (capture/bootstrap.py) behind every uncertainty on the page.
    bootstrap: int = 200

    def __post_init__(self) -> None:
        """Reject values that cannot make a run, with the fix in the message."""
        for item in dataclasses.fields(self):
            check_type(item.name, getattr(self, item.name), item.default if item.default is not dataclasses.MISSING
                       else item.default_factory())
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}: use one of {', '.join(DATASETS)}")
        object.__setattr__(self, "dataset", DATASET_ALIASES.get(self.dataset, self.dataset))
        self._check_model_and_data()
        for name in ("steps", "batch_size", "capture_every", "test_every", "test_subset"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.analysis_images < 0 or self.analysis_every < 0 or self.bootstrap < 0:
            raise ValueError("analysis_images, analysis_every and bootstrap must be 0 or more, got "
                             f"{self.analysis_images}, {self.analysis_every} and {self.bootstrap}")
        if 0 < self.analysis_images < MIN_ANALYSIS_IMAGES or self.analysis_images > MAX_ANALYSIS_IMAGES:
            raise ValueError(f"analysis_images must be 0 (measure on the probes) or from {MIN_ANALYSIS_IMAGES} to "
                             f"{MAX_ANALYSIS_IMAGES:,}, got {self.analysis_images}")
        if self.bootstrap > MAX_BOOTSTRAP:
            raise ValueError(f"bootstrap must be at most {MAX_BOOTSTRAP:,} resamples, got {self.bootstrap:,}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be from 0 to {MAX_SEED} (2**32-1, what numpy and TensorFlow accept), "
                             f"got {self.seed}: pass a --seed in that range")
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

    def _check_model_and_data(self) -> None:
        """Reject a malformed --model, --data, --layers or --probes, with the fix in the message."""
        if self.model is not None and not (self.model.endswith(".keras") or BUILDER_SPEC.fullmatch(self.model)):
            raise ValueError(f"--model {self.model!r} must be FILE.py:FUNCTION (a function returning a compiled "
                             f"keras.Model) or FILE.keras (a saved compiled model)")
        if self.data is not None and not self.data.endswith(".npz"):
            raise ValueError(f"--data {self.data!r} must be an .npz file holding x_train, y_train, x_test, y_test")
        for name, source in (("model_sha256", "model"), ("data_sha256", "data")):
            if getattr(self, name) is not None and getattr(self, source) is None:
                raise ValueError(f"{name} is set but {source} is not: drop {name} (generate.py fills it in)")
        if self.data is not None and (self.dataset != "auto" or self.data_dir is not None):
            raise ValueError("--data replaces --dataset and --data-dir: pass only one of them")
        if not self.layers or any(not name.strip() or name != name.strip() for name in self.layers):
            raise ValueError(f"layers must be layer names or the keywords conv, dense, got {list(self.layers)}")
        if len(set(self.layers)) != len(self.layers):
            raise ValueError(f"layers names a layer twice: {list(self.layers)}")
        if min(self.probes, default=0) < 0 or len(set(self.probes)) != len(self.probes):
            raise ValueError(f"probes must be distinct test-set indices (0 or more), got {list(self.probes)}")

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
