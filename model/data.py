"""Datasets for the experiment: full MNIST, the bundled real subset, Fashion-MNIST, idx folders.

`load_dataset(config)` returns a `Dataset` with uint8 images, integer labels and the 10 probe
indices into the test set. Nothing here needs the internet: keras' loader is used only when its
file is cached or the download answers quickly; otherwise `auto` falls back to the bundled data.
"""

from __future__ import annotations

import gzip
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_PATH = REPO_ROOT / "data" / "mnist_bundled.npz"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DOWNLOAD_TIMEOUT_S = 20
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


class DataError(ValueError):
    """A dataset that cannot be loaded, with the fix in the message."""


@dataclass
class Dataset:
    """Train and test arrays plus which test images are the probes."""

    name: str  # "mnist", "bundled" or "fashion": what was actually used
    title: str  # human description for the article, e.g. "full MNIST (keras loader)"
    source: str  # where the arrays came from
    x_train: np.ndarray  # (n_train, 28, 28) uint8
    y_train: np.ndarray  # (n_train,) int
    x_test: np.ndarray  # (n_test, 28, 28) uint8
    y_test: np.ndarray  # (n_test,) int
    probe_indices: np.ndarray  # (10,) indices into the test set, one per class
    class_names: tuple[str, ...]
    notice: str = ""  # one line shown when the requested data was replaced by another

    def describe(self) -> dict:
        """Return the JSON-able facts the article states about the data."""
        return {"name": self.name, "title": self.title, "source": self.source,
                "train_size": int(len(self.x_train)), "test_size": int(len(self.x_test)),
                "probe_indices": [int(i) for i in self.probe_indices],
                "class_names": list(self.class_names), "notice": self.notice}


def load_dataset(config) -> Dataset:
    """Load the dataset the config names, resolving `auto` to full MNIST or the bundled subset."""
    if config.data_dir is not None:
        name = "mnist" if config.dataset == "auto" else config.dataset
        if name == "bundled":
            raise DataError("--data-dir cannot be combined with the bundled dataset: drop one of them")
        arrays = read_idx_folder(Path(config.data_dir))
        title = "Fashion-MNIST" if name == "fashion" else "MNIST"
        dataset = _make(name, f"{title} from idx files", str(config.data_dir), arrays, config)
    elif config.dataset == "bundled":
        dataset = load_bundled(config)
    elif config.dataset == "fashion":
        dataset = _load_fashion(config)
    else:
        try:
            arrays = _keras_loader("mnist")
            dataset = _make("mnist", "full MNIST", "keras.datasets.mnist", arrays, config)
        except DataError as error:
            if config.dataset == "mnist":
                raise
            dataset = load_bundled(config)
            dataset.notice = (f"full MNIST is not available ({error}); "
                              f"training on the bundled {len(dataset.x_train):,}-image MNIST subset instead")
            print(f"notice: {dataset.notice}", file=sys.stderr)
    if config.batch_size > len(dataset.x_train):
        raise DataError(f"batch size {config.batch_size} is larger than the {len(dataset.x_train):,} "
                        f"training images of {dataset.title}: use --batch-size {len(dataset.x_train)} or less")
    return dataset


def load_bundled(config) -> Dataset:
    """Load the real MNIST subset kept in data/ (first 10,000 training images, full test set)."""
    if not BUNDLED_PATH.exists():
        raise DataError(f"{BUNDLED_PATH} is missing: rebuild it with `python scripts/build_bundled_mnist.py`")
    with np.load(BUNDLED_PATH, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in IDX_FILES}
    return _make("bundled", "bundled MNIST subset", f"data/{BUNDLED_PATH.name}", arrays, config)


def _load_fashion(config) -> Dataset:
    """Load Fashion-MNIST from keras' loader, else from Debian's dataset-fashion-mnist folder."""
    try:
        return _make("fashion", "Fashion-MNIST", "keras.datasets.fashion_mnist", _keras_loader("fashion_mnist"), config)
    except DataError as keras_error:
        if DEBIAN_FASHION_DIR.is_dir():
            arrays = read_idx_folder(DEBIAN_FASHION_DIR)
            return _make("fashion", "Fashion-MNIST", str(DEBIAN_FASHION_DIR), arrays, config)
        raise DataError(f"Fashion-MNIST is not available ({keras_error}): install Debian's dataset-fashion-mnist "
                        f"or pass --data-dir with its idx files") from None


def _keras_loader(name: str) -> dict[str, np.ndarray]:
    """Call keras' loader for `name`, failing fast instead of hanging when offline."""
    import keras

    loader = getattr(keras.datasets, name)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # keras wraps network failures in several exception types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"keras could not load {name}: {first_line[:160]}") from None
    finally:
        socket.setdefaulttimeout(previous)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """Read the four MNIST-format idx files (optionally .gz) from a folder."""
    if not folder.is_dir():
        raise DataError(f"--data-dir {folder} is not a folder: give a folder holding the four idx files")
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found = next((path for path in candidates if path.exists()), None)
        if found is None:
            raise DataError(f"--data-dir {folder} lacks {stem}[.gz]: it needs "
                            f"{', '.join(IDX_FILES.values())} (each optionally .gz)")
        arrays[key] = read_idx(found)
    return arrays


def read_idx(path: Path) -> np.ndarray:
    """Read one idx file: byte 3 = number of dimensions, big-endian uint32 sizes, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} cannot be read ({error}): replace it with an intact idx file") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte idx file: replace it with an MNIST-format file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} holds {data.size} bytes of data for shape {shape}: the file is truncated")
    return data.reshape(shape)


def choose_probes(y_test: np.ndarray, official_mnist_test: bool, mnist_indices) -> np.ndarray:
    """Pick one test image per class: the original's indices on MNIST, else each class's first."""
    if official_mnist_test:
        return np.asarray(mnist_indices, np.int64)
    classes = np.unique(y_test)
    return np.array([int(np.flatnonzero(y_test == label)[0]) for label in classes], np.int64)


def _make(name: str, title: str, source: str, arrays: dict, config) -> Dataset:
    """Validate raw arrays and wrap them in a Dataset with its probes."""
    x_train, y_train = np.asarray(arrays["x_train"]), np.asarray(arrays["y_train"]).astype(np.int64)
    x_test, y_test = np.asarray(arrays["x_test"]), np.asarray(arrays["y_test"]).astype(np.int64)
    for split, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8 or len(images) != len(labels):
            raise DataError(f"{source}: {split} images must be (n, 28, 28) uint8 with one label each, "
                            f"got {images.shape} {images.dtype} and {len(labels)} labels")
        classes_count = config.dense_widths[-1]
        if len(labels) and (labels.min() < 0 or labels.max() >= classes_count):
            raise DataError(f"{source}: {split} labels must be class numbers 0..{classes_count - 1} (the model has "
                            f"{classes_count} outputs), found {int(labels.min())}..{int(labels.max())}: fix the "
                            f"labels or set --set dense_widths=[...,{int(labels.max()) + 1}]")
        if len(images) == 0:
            raise DataError(f"{source}: the {split} set is empty")
    official = name in ("mnist", "bundled") and _is_official_mnist_test(y_test, config.mnist_probe_indices)
    classes = FASHION_CLASSES if name == "fashion" else DIGIT_CLASSES
    probes = choose_probes(y_test, official, config.mnist_probe_indices)
    return Dataset(name, title, source, x_train, y_train, x_test, y_test, probes, classes)


def _is_official_mnist_test(y_test: np.ndarray, indices) -> bool:
    """Tell whether the test labels look like the official MNIST test set (10,000, probes = 0..9)."""
    return (len(y_test) == 10_000 and all(0 <= i < len(y_test) for i in indices)
            and [int(y_test[i]) for i in indices] == list(range(10)))
