"""Checks and conversions of image arrays from any source: shapes, dtypes, labels, probes, display images.

Images are (n, H, W) or (n, H, W, C), uint8 (the model sees them / 255) or float (finite, used as given);
labels are integers, (n,) or (n, 1). Everything wrong is a DataError with the fix, raised before training.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

SPLITS = ("x_train", "y_train", "x_test", "y_test")
MAX_DEFAULT_PROBES = 10  # the default probes: the first test image of each class, for at most this many classes
UINT8_SCALING, FLOAT_SCALING = "uint8 / 255", "float, as given"


class DataError(ValueError):
    """A dataset that cannot be loaded, with the fix in the message."""


def check_arrays(arrays: dict, source: str) -> dict[str, np.ndarray]:
    """Return the four arrays checked and normalised (labels int64 (n,), float images float32), or raise."""
    checked = {}
    for split in ("train", "test"):
        images, labels = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        if images.ndim not in (3, 4) or 0 in images.shape:
            raise DataError(f"{source}: x_{split} must be images (n, H, W) or (n, H, W, C), got shape {images.shape}")
        if images.dtype != np.uint8 and images.dtype.kind != "f":
            raise DataError(f"{source}: x_{split} is {images.dtype}: store images as uint8 (0..255) or float")
        if images.dtype.kind == "f":
            images = images.astype(np.float32)
            if not np.all(np.isfinite(images)):
                raise DataError(f"{source}: x_{split} holds NaN or infinite values: replace them with finite ones")
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]  # keras' CIFAR loaders give (n, 1)
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise DataError(f"{source}: y_{split} must be integer class numbers, shape (n,) or (n, 1), got "
                            f"{labels.shape} {labels.dtype} (one-hot labels: take their argmax)")
        if len(labels) != len(images):
            raise DataError(f"{source}: x_{split} has {len(images):,} images but y_{split} {len(labels):,} labels")
        if labels.min() < 0:
            raise DataError(f"{source}: y_{split} holds the negative label {int(labels.min())}: classes are 0, 1, ...")
        checked[f"x_{split}"], checked[f"y_{split}"] = images, labels.astype(np.int64)
    train, test = checked["x_train"], checked["x_test"]
    if image_shape(train) != image_shape(test) or train.dtype != test.dtype:
        raise DataError(f"{source}: train images are {image_shape(train)} {train.dtype} but test images "
                        f"{image_shape(test)} {test.dtype}: both must have one shape and dtype")
    return checked


def check_labels(y_train: np.ndarray, y_test: np.ndarray, classes: int, source: str, fix: str) -> None:
    """Raise DataError when a label is not a class number 0..classes-1 of the model."""
    for split, labels in (("train", y_train), ("test", y_test)):
        if labels.max() >= classes:
            raise DataError(f"{source}: {split} labels must be class numbers 0..{classes - 1} (the model has "
                            f"{classes} outputs), found {int(labels.min())}..{int(labels.max())}: {fix}")


def image_shape(images: np.ndarray) -> tuple[int, int, int]:
    """Return the model input (H, W, C) of an image array (n, H, W) or (n, H, W, C)."""
    return (*images.shape[1:3], images.shape[3] if images.ndim == 4 else 1)


def read_npz(path: Path) -> tuple[dict[str, np.ndarray], tuple[str, ...] | None]:
    """Read x_train, y_train, x_test, y_test and the optional class_names from an .npz, without pickles."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in SPLITS if key not in archive.files]
            if missing:
                raise DataError(f"--data {path} lacks {', '.join(missing)}: it needs x_train, y_train, x_test, "
                                f"y_test (np.savez(path, x_train=..., ...)); it holds {', '.join(archive.files)}")
            check_loadable(archive, path)
            arrays = {key: _member(archive, key, path) for key in SPLITS}
            names = _member(archive, "class_names", path) if "class_names" in archive.files else None
    except DataError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged zip raises one of several types
        raise DataError(f"--data {path} is not a readable .npz ({type(error).__name__}): save it with np.savez") \
            from None
    if names is None:
        return arrays, None
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) == 0:
        raise DataError(f"--data {path}: class_names must be a 1-D array of strings, got {names.shape} {names.dtype}")
    return arrays, tuple(name.decode() if isinstance(name, bytes) else str(name) for name in names.tolist())


def check_loadable(archive, path: Path) -> None:
    """Raise DataError when the arrays of an open .npz (sizes read from their headers) cannot fit in free memory."""
    import psutil

    needed = 0
    for key in SPLITS:
        member = f"{key}.npy" if f"{key}.npy" in archive.zip.namelist() else key
        with archive.zip.open(member) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                return  # a newer header: the arrays are loaded unchecked, and the stage's estimate follows
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(stream)
        values = math.prod(shape)
        needed += values * dtype.itemsize + (values * 4 if dtype.kind == "f" else 0)  # check_arrays' float32 copy
    available = psutil.virtual_memory().available
    if needed > available:
        raise DataError(f"--data {path} holds arrays that need about {needed / 1e9:.1f} GB of memory to load but "
                        f"{available / 1e9:.1f} GB is free: use fewer or smaller images (or uint8 ones)")


def _member(archive, key: str, path: Path) -> np.ndarray:
    """Return one array of an open .npz; an object array (a pickle, which could run code) is a DataError."""
    try:
        return archive[key]
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise
    fix = ("np.array([...], dtype=str)" if key == "class_names"
           else "np.asarray(..., np.uint8) or float32" if key.startswith("x_") else "np.asarray(..., np.int64)")
    raise DataError(f"--data {path}: {key} is an array of Python objects (stored as a pickle, which is refused as "
                    f"it could run code): save {key} as {fix}")


def choose_probes(y_test: np.ndarray, chosen=(), official_indices=None) -> np.ndarray:
    """Return the probe indices: the chosen ones, the original's on official MNIST, else each class's first."""
    if chosen:
        outside = [index for index in chosen if index >= len(y_test)]
        if outside:
            raise DataError(f"--probes {outside[0]} is outside the test set's {len(y_test):,} images: "
                            f"use indices 0..{len(y_test) - 1}")
        return np.asarray(chosen, np.int64)
    if official_indices is not None:
        return np.asarray(official_indices, np.int64)
    classes = np.unique(y_test)[:MAX_DEFAULT_PROBES]
    return np.array([int(np.flatnonzero(y_test == label)[0]) for label in classes], np.int64)


def display_images(images: np.ndarray) -> np.ndarray:
    """Return probe images for display: (N, H, W) grey or (N, H, W, 3) RGB uint8, 0 black .. 255 full.

    uint8 values are kept; float values are min-max scaled over all the probes together; one channel is
    grey, three are RGB, any other count is shown as the mean over channels.
    """
    values = np.asarray(images)
    if values.dtype != np.uint8:
        values = values.astype(np.float64)
        low, high = float(values.min()), float(values.max())
        values = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    if values.ndim == 4:
        channels = values.shape[-1]
        values = values[..., 0] if channels == 1 else values if channels == 3 else values.mean(axis=-1)
    if values.dtype == np.uint8:
        return values
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
