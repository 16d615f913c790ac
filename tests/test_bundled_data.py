"""Checks of data/mnist_bundled.npz against the official MNIST idx files (rebuild: scripts/build_bundled_mnist.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import REPO

BUNDLED = REPO / "data" / "mnist_bundled.npz"
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
PROBE_INDICES = [10, 5, 35, 30, 4, 15, 11, 17, 268, 12]
TRAIN_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def read_idx(path: Path) -> np.ndarray:
    """Read a gzip idx file of uint8 data: byte 3 = number of dims, then big-endian uint32 dims, then data."""
    raw = gzip.decompress(path.read_bytes())
    assert raw[:3] == b"\x00\x00\x08", f"{path} is not an idx file of uint8 data"
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.fixture(scope="module")
def bundled() -> dict[str, np.ndarray]:
    """Load the bundled archive without pickles."""
    assert BUNDLED.is_file(), f"{BUNDLED} is missing: rebuild it with `python scripts/build_bundled_mnist.py`"
    with np.load(BUNDLED, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def official() -> Path:
    """Return the folder of the official idx files, or skip when this checkout has none beside it."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"official MNIST idx files not found at {SHARED_MNIST}: comparison with them skipped")
    return SHARED_MNIST


def test_keys_shapes_and_dtypes(bundled):
    """The archive holds exactly the four uint8 arrays with the documented shapes."""
    assert sorted(bundled) == ["x_test", "x_train", "y_test", "y_train"]
    assert bundled["x_train"].shape == (10_000, 28, 28)
    assert bundled["y_train"].shape == (10_000,)
    assert bundled["x_test"].shape == (10_000, 28, 28)
    assert bundled["y_test"].shape == (10_000,)
    for key, values in bundled.items():
        assert values.dtype == np.uint8, f"{key} is {values.dtype}"


def test_train_label_counts(bundled):
    """The training labels have the per-digit counts of the first 10,000 official training labels."""
    assert np.bincount(bundled["y_train"], minlength=10).tolist() == TRAIN_COUNTS


def test_y_train_is_first_10000_official_training_labels(bundled, official):
    """y_train is, in order, the first 10,000 official training labels."""
    labels = read_idx(official / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60_000,)
    np.testing.assert_array_equal(bundled["y_train"], labels[:10_000])


def test_test_set_is_official(bundled, official):
    """x_test and y_test are the official test set, pixel for pixel."""
    np.testing.assert_array_equal(bundled["x_test"], read_idx(official / "t10k-images-idx3-ubyte.gz"))
    np.testing.assert_array_equal(bundled["y_test"], read_idx(official / "t10k-labels-idx1-ubyte.gz"))


def test_probe_indices_are_digits_0_to_9(bundled):
    """The original post's probe indices into the test set are the digits 0..9."""
    assert bundled["y_test"][PROBE_INDICES].tolist() == list(range(10))
