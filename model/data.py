"""Datasets for the experiment: MNIST, the bundled real subset, Fashion-MNIST, CIFAR-10/100, idx folders, .npz.

`load_dataset(config)` returns a `Dataset` with the images as stored (uint8 or float32, (n, H, W) or
(n, H, W, C)), integer labels and the probe indices into the test set. keras' loaders are used only when
their file is cached or the download answers; offline they fail within seconds (MNIST falls back to the
bundled subset under `auto`; the others say to pass --data).
"""

from __future__ import annotations

import gzip
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.data_arrays import (
    FLOAT_SCALING,
    UINT8_SCALING,
    DataError,
    check_arrays,
    check_labels,
    choose_probes,
    display_images,
    image_shape,
    read_npz,
)
from pipeline.config import DEBIAN_FASHION_DIR

__all__ = ["DataError", "Dataset", "load_dataset"]

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_PATH = REPO_ROOT / "data" / "mnist_bundled.npz"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DOWNLOAD_TIMEOUT_S = 20
OFFLINE_FIX = "run once with network access (keras caches it), or pass --data FILE.npz with the images"
KERAS_DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR100_CLASSES = tuple("""apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur
dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster
man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree
plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail
snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout
tulip turtle wardrobe whale willow_tree wolf woman worm""".split())  # keras' fine labels, in label order
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


@dataclass
class Dataset:
    """Train and test arrays plus which test images are the probes."""

    name: str  # "mnist", "bundled", "fashion", "cifar10", "cifar100", "npz" or "idx": what was actually used
    title: str  # human description for the article, e.g. "full MNIST (keras loader)"
    source: str  # where the arrays came from
    x_train: np.ndarray  # (n_train, H, W) or (n_train, H, W, C), uint8 or float32
    y_train: np.ndarray  # (n_train,) int64
    x_test: np.ndarray  # (n_test, H, W[, C]), as x_train
    y_test: np.ndarray  # (n_test,) int64
    probe_indices: np.ndarray  # (N,) indices into the test set
    class_names: tuple[str, ...]
    notice: str = ""  # one line shown when the requested data was replaced by another
    class_names_given: bool = True  # False: numbered from the labels, so they may follow the model's outputs

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Return the model input (H, W, C)."""
        return image_shape(self.x_train)

    @property
    def input_scaling(self) -> str:
        """Return how stored values become model inputs: "uint8 / 255" or "float, as given"."""
        return UINT8_SCALING if self.x_train.dtype == np.uint8 else FLOAT_SCALING

    def probe_display(self) -> np.ndarray:
        """Return the probes as display images: (N, H, W) grey or (N, H, W, 3) RGB uint8."""
        return display_images(self.x_test[self.probe_indices])

    def describe(self) -> dict:
        """Return the JSON-able facts the article states about the data."""
        return {"name": self.name, "title": self.title, "source": self.source,
                "train_size": int(len(self.x_train)), "test_size": int(len(self.x_test)),
                "probe_indices": [int(i) for i in self.probe_indices],
                "class_names": list(self.class_names), "notice": self.notice,
                "image_shape": list(self.image_shape), "input_scaling": self.input_scaling}


def load_dataset(config) -> Dataset:
    """Load the dataset the config names, resolving `auto` to full MNIST or the bundled subset."""
    if config.data is not None:
        arrays, names = read_npz(Path(config.data))
        dataset = _make("npz", Path(config.data).name, str(config.data), arrays, config, names)
    elif config.dataset in KERAS_DATASETS:
        dataset = _make(config.dataset, KERAS_DATASETS[config.dataset], f"keras.datasets.{config.dataset}",
                        _keras_loader(config.dataset, fix=OFFLINE_FIX), config,
                        CIFAR10_CLASSES if config.dataset == "cifar10" else CIFAR100_CLASSES)
    elif config.data_dir is not None:
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


def _keras_loader(name: str, fix: str = "") -> dict[str, np.ndarray]:
    """Call keras' loader for `name`, failing fast instead of hanging when offline (`fix` ends the error)."""
    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    loader = getattr(keras.datasets, name)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # keras wraps network failures in several exception types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"keras could not load {name}: {first_line[:160]}" + (f"; {fix}" if fix else "")) from None
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


def _make(name: str, title: str, source: str, arrays: dict, config, class_names=None) -> Dataset:
    """Validate raw arrays and wrap them in a Dataset with its probes.

    The labels are checked against the article model's class count here; a model of your own is checked
    once it is built (model/setup.py), as only then is its class count known.
    """
    checked = check_arrays(arrays, source)
    y_train, y_test = checked["y_train"], checked["y_test"]
    largest = int(max(y_train.max(), y_test.max()))
    if config.model is None:
        check_labels(y_train, y_test, config.dense_widths[-1], source,
                     f"fix the labels or set --set dense_widths=[...,{largest + 1}]")
    given = class_names is not None or name in ("mnist", "bundled", "fashion")
    if class_names is None:
        class_names = (FASHION_CLASSES if name == "fashion" else DIGIT_CLASSES if given
                       else tuple(str(label) for label in range(largest + 1)))
    if len(class_names) <= largest:
        raise DataError(f"{source}: {len(class_names)} class_names for labels up to {largest}: give one name per class")
    official = name in ("mnist", "bundled") and _is_official_mnist_test(y_test, config.mnist_probe_indices)
    probes = choose_probes(y_test, config.probes, config.mnist_probe_indices if official else None)
    return Dataset(name, title, source, checked["x_train"], y_train, checked["x_test"], y_test, probes,
                   tuple(class_names), class_names_given=given)


def _is_official_mnist_test(y_test: np.ndarray, indices) -> bool:
    """Tell whether the test labels look like the official MNIST test set (10,000, probes = 0..9)."""
    return (len(y_test) == 10_000 and all(0 <= i < len(y_test) for i in indices)
            and [int(y_test[i]) for i in indices] == list(range(10)))
