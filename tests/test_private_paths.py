"""No path of the builder's machine in the site: real builds from files in a folder with a distinctive name.

Two runs through generate.py, both from inside `secret-folder-name`: `--data x.npz --model m.py:build`, and
`--data-dir idx --model mine.keras`. Every file of each site (and every member of the published model.keras)
is read as bytes and searched for the folder's name and the temporary path; the page still names the files,
and its rebuild command is valid shell that gives back the run's config once the reader fills in the paths.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import re
import shlex
import shutil
import zipfile

import numpy as np
import pytest

from generate import config_from, parse_arguments
from model.quiet import import_tensorflow_quietly
from pipeline.config import DEBIAN_FASHION_DIR
from report.page.public_paths import public_meta, shown_path
from report.words.dataset_text import dataset_sentence
from tests.helpers import REPO, run_in_process

SECRET = "secret-folder-name"
COMMON = ["--steps", "4", "--batch-size", "100", "--set", "test_every=2", "--set", "analysis_images=100",
          "--set", "bootstrap=20"]


def write_idx(path, values: np.ndarray) -> None:
    """Write an unsigned-byte idx file (MNIST's format)."""
    header = bytes([0, 0, 8, values.ndim]) + b"".join(int(size).to_bytes(4, "big") for size in values.shape)
    path.write_bytes(header + values.astype(np.uint8).tobytes())


def digits(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return MNIST-like (count, 28, 28) uint8 images whose bright bar's height gives the label."""
    labels = rng.integers(0, 10, count)
    images = rng.integers(0, 60, (count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        images[index, 2 * label:2 * label + 6, 4:20] = 250
    return images, labels


def generate(*arguments: str) -> None:
    """Run generate.py site from the project folder (generate.main in this process); fail with its stderr."""
    result = run_in_process("site", "--quiet", *arguments)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Build both sites from files in tmp/secret-folder-name; return the folders, files and arguments."""
    root = tmp_path_factory.mktemp("private")
    secret = root / SECRET
    (secret / "idx").mkdir(parents=True)
    rng = np.random.default_rng(3)
    (x_train, y_train), (x_test, y_test) = digits(1000, rng), digits(200, rng)
    np.savez(secret / "x.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    for name, images, labels in (("train", x_train, y_train), ("t10k", x_test, y_test)):
        write_idx(secret / "idx" / f"{name}-images-idx3-ubyte", images)
        write_idx(secret / "idx" / f"{name}-labels-idx1-ubyte", labels)
    shutil.copyfile(REPO / "examples" / "relu_glorot.py", secret / "m.py")
    import_tensorflow_quietly()  # the builder imports keras
    spec = importlib.util.spec_from_file_location("private_paths_builder", secret / "m.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.build((28, 28, 1), 10).save(secret / "mine.keras")  # its layers are all named: as in a fresh process
    runs = {"npz": ["--data", str(secret / "x.npz"), "--model", f"{secret / 'm.py'}:build", *COMMON],
            "idx": ["--data-dir", str(secret / "idx"), "--model", str(secret / "mine.keras"), *COMMON]}
    for name, arguments in runs.items():
        generate(*arguments, "--build-dir", str(root / f"build-{name}"), "--site-dir", str(root / f"site-{name}"))
    return {"root": root, "secret": secret, "runs": runs}


def site_bytes(site) -> dict[str, bytes]:
    """Return every file of a site as bytes, and each member of a zip file (model.keras) unpacked."""
    files = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            name = str(path.relative_to(site))
            files[name] = path.read_bytes()
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    files.update({f"{name}/{member}": archive.read(member) for member in archive.namelist()})
    return files


def command_arguments(index_html: str) -> list[str]:
    """Return the arguments of the page's rebuild command, split as the reader's shell and make's would."""
    command = html.unescape(re.search(r"&amp;&amp; (make site[^<]*)</code>", index_html).group(1))
    words = shlex.split(command)
    assert words[:2] == ["make", "site"] and all(word.startswith("ARGS=") for word in words[2:])
    return [argument for word in words[2:] for argument in shlex.split(word[len("ARGS="):].replace("$$", "$"))]


@pytest.mark.parametrize("run", ["npz", "idx"])
def test_no_file_of_the_site_holds_the_builders_folder(sites, run):
    site = sites["root"] / f"site-{run}"
    files = site_bytes(site)
    assert "index.html" in files and "assets/model.keras/config.json" in files
    for needle in (SECRET.encode(), str(sites["root"]).encode()):
        assert [name for name, content in files.items() if needle in content] == []
    assert SECRET.encode() in (sites["root"] / f"build-{run}" / "capture.h5").read_bytes()  # the archive keeps it


@pytest.mark.parametrize("run", ["npz", "idx"])
def test_the_rebuild_command_is_shell_with_placeholders_that_give_back_the_run(sites, run):
    text = (sites["root"] / f"site-{run}" / "index.html").read_text()
    arguments = command_arguments(text)
    assert not any(argument.startswith("/") or SECRET in argument for argument in arguments)
    placeholders = [argument for argument in arguments if argument.startswith("path/to/")]
    assert len(placeholders) == 2 and all(f"<code>{path.split(':')[0]}</code>" in text for path in placeholders)
    filled = [str(sites["secret"]) + argument[len("path/to"):] if argument in placeholders else argument
              for argument in arguments]
    expected = config_from(parse_arguments(["site", *sites["runs"][run]])).to_dict()
    again = config_from(parse_arguments(["site", *filled])).to_dict()
    assert {key: value for key, value in again.items() if not key.endswith("sha256")} == \
        {key: value for key, value in expected.items() if not key.endswith("sha256")}


def test_the_page_names_the_files_and_their_sha256(sites):
    text = html.unescape((sites["root"] / "site-npz" / "index.html").read_text())
    data = hashlib.sha256((sites["secret"] / "x.npz").read_bytes()).hexdigest()
    model = hashlib.sha256((sites["secret"] / "m.py").read_bytes()).hexdigest()
    assert "trained on x.npz (1,000 training images and 200 test images)." in text
    assert f"<dd>x.npz (sha256 {data})</dd>" in text
    assert f"<dd>relu_glorot from m.py:build, sha256 {model}</dd>" in text
    keras = html.unescape((sites["root"] / "site-idx" / "index.html").read_text())
    assert "relu_glorot, from mine.keras" in keras and "<dd>MNIST from idx files (idx)</dd>" in keras


def test_debian_fashion_is_named_by_its_package_and_project_files_by_their_project_path():
    dataset = {"name": "fashion", "title": "Fashion-MNIST", "source": str(DEBIAN_FASHION_DIR), "train_size": 60000,
               "test_size": 10000}
    sentence = dataset_sentence(public_meta({"dataset": dataset})["dataset"])
    assert str(DEBIAN_FASHION_DIR) not in sentence and "dataset-fashion-mnist package" in sentence
    example = f"{REPO / 'examples' / 'relu_glorot.py'}:build"
    assert shown_path(example, "model") == "examples/relu_glorot.py:build"
