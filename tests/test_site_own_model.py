"""A site built by the command line from the ReLU example model on colour images, checked in real Chromium.

The images are synthetic (generated here, seeded): 32x32 RGB pictures of ten classes, each class a
coloured square at its own place on noise, so that a few training steps already learn something.
This is the user's path of issue 12: `generate.py site --model examples/relu_glorot.py:build --data x.npz`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests import explorer_browser as page
from tests.helpers import run_in_process

CLASSES = ("red", "orange", "yellow", "green", "teal", "blue", "violet", "pink", "brown", "grey")


def synthetic_rgb(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (count, 32, 32, 3) uint8 images and their labels: class k is a square of colour k at place k."""
    labels = rng.integers(0, len(CLASSES), count)
    images = rng.integers(0, 70, (count, 32, 32, 3)).astype(np.uint8)
    hues = np.linspace(0, 1, len(CLASSES), endpoint=False)
    for index, label in enumerate(labels):
        row, column = divmod(int(label), 5)
        colour = np.array([abs(np.sin(np.pi * (hues[label] + shift))) for shift in (0, 1 / 3, 2 / 3)]) * 255
        images[index, 4 + 12 * row:14 + 12 * row, 2 + 6 * column:8 + 6 * column] = colour.astype(np.uint8)
    return images, labels


@pytest.fixture(scope="module")
def own_site(tmp_path_factory):
    """Build the site of the ReLU example on synthetic RGB data through generate.main; return its folders."""
    folder = tmp_path_factory.mktemp("own-model")
    rng = np.random.default_rng(7)
    x_train, y_train = synthetic_rgb(640, rng)
    x_test, y_test = synthetic_rgb(160, rng)
    data = folder / "colours.npz"
    np.savez(data, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=np.array(CLASSES))
    result = run_in_process("site", "--quiet", "--model", "examples/relu_glorot.py:build", "--data", str(data),
                            "--steps", "12", "--batch-size", "64", "--layers", "conv,dense", "--build-dir",
                            str(folder / "build"), "--site-dir", str(folder / "site"))
    assert result.returncode == 0, result.stderr
    return {"build": folder / "build", "site": folder / "site", "probes": x_test, "labels": y_test}


def test_the_manifest_gives_relu_layers_sequential_scales_and_colour_probes(own_site):
    manifest = json.loads((own_site["build"] / "assets" / "manifest.json").read_text())
    assert manifest["probe_color"] == "rgb"
    kinds = {layer["name"]: (layer["activation"], layer["scale"]["kind"]) for layer in manifest["layers"]}
    assert kinds["conv1"] == ("relu", "sequential") and kinds["dense1"] == ("relu", "sequential")
    assert kinds["dense3"][0] == "softmax"  # bounded to [0, 1], never negative: sequential from the data
    assert len(manifest["layers"]) == 9  # six Conv2D and three Dense, as --layers conv,dense asks


def test_the_page_names_the_model_and_the_classes_and_not_the_post(own_site):
    text = (own_site["site"] / "index.html").read_text()
    assert "this is not the original model" in text.lower()
    assert "examples/relu_glorot.py:build" in text
    assert "violet" in text and "digit" not in text.lower()


def test_the_site_loads_plays_and_passes_axe_and_vnu(own_site, driver):
    index = own_site["site"] / "index.html"
    page.check_article_loads_plays_and_passes(driver, index)
