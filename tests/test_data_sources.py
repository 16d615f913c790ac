"""Data checks without TensorFlow: display images, default probes, label shapes, .npz reading.

All arrays are small synthetic ones made here; each expectation is worked out by hand from them.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.data import load_dataset
from model.data_arrays import DataError, check_arrays, choose_probes, display_images, read_npz
from pipeline.config import Config


def test_display_keeps_uint8_grey_and_rgb_and_averages_other_channel_counts():
    grey = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(display_images(grey), grey)
    np.testing.assert_array_equal(display_images(grey[..., np.newaxis]), grey)
    rgb = np.random.default_rng(0).integers(0, 256, (2, 3, 3, 3), dtype=np.uint8)
    np.testing.assert_array_equal(display_images(rgb), rgb)
    two = np.stack([np.full((1, 2, 2), 10, np.uint8), np.full((1, 2, 2), 21, np.uint8)], axis=-1)
    np.testing.assert_array_equal(display_images(two), np.full((1, 2, 2), 16, np.uint8))  # mean 15.5, rounded to even


def test_display_scales_float_images_over_all_probes_together():
    values = np.array([[[-1.0, 0.0]], [[1.0, 3.0]]], np.float32)  # (2, 1, 2): min -1, max 3
    np.testing.assert_array_equal(display_images(values), np.array([[[0, 64]], [[128, 255]]], np.uint8))
    np.testing.assert_array_equal(display_images(np.full((2, 2, 2), 0.7, np.float32)), np.zeros((2, 2, 2), np.uint8))


def test_default_probes_are_each_classes_first_test_image_up_to_ten():
    labels = np.array([3, 1, 1, 0, 3, 2] + list(range(4, 14)))
    assert choose_probes(labels).tolist() == [3, 1, 5, 0, 6, 7, 8, 9, 10, 11]  # classes 0..9 only
    assert choose_probes(labels, (4, 2)).tolist() == [4, 2]
    with pytest.raises(DataError, match=r"--probes 16 is outside the test set's 16 images"):
        choose_probes(labels, (1, 16))


def arrays(**changes):
    base = {"x_train": np.zeros((4, 5, 6), np.uint8), "y_train": np.array([[0], [1], [2], [1]]),
            "x_test": np.zeros((2, 5, 6), np.uint8), "y_test": np.array([2, 0], np.uint8)}
    return {**base, **changes}


def test_labels_as_a_column_become_a_vector_and_bad_arrays_are_refused():
    checked = check_arrays(arrays(), "test data")
    assert checked["y_train"].tolist() == [0, 1, 2, 1] and checked["y_train"].dtype == np.int64
    for changes, words in [({"y_train": np.array([0, 1, -1, 1])}, "negative label -1"),
                           ({"x_train": np.zeros((4, 5), np.uint8)}, "(n, H, W)"),
                           ({"x_test": np.zeros((2, 5, 6), np.float64) + np.inf}, "NaN or infinite"),
                           ({"y_test": np.array([True, False])}, "integer class numbers")]:
        with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)")):
            check_arrays(arrays(**changes), "test data")


def test_an_npz_with_class_names_and_probes(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, **arrays(), class_names=np.array(["cat", "dog", "fish"]))
    assert read_npz(path)[1] == ("cat", "dog", "fish")
    dataset = load_dataset(Config(data=str(path), batch_size=2, probes=(1,)))
    assert dataset.class_names == ("cat", "dog", "fish") and dataset.probe_indices.tolist() == [1]
    assert dataset.image_shape == (5, 6, 1) and dataset.describe()["image_shape"] == [5, 6, 1]
    np.savez(tmp_path / "objects.npz", **arrays(), class_names=np.array(["cat", None, "fish"], dtype=object))
    with pytest.raises(DataError, match=r"class_names is an array of Python objects .* dtype=str"):
        read_npz(tmp_path / "objects.npz")
