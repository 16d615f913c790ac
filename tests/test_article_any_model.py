"""The article for a model that is not the original's: built end to end from synthetic captures of other shapes.

The captures come from tests/synthetic_capture.py (made-up runs with RGB probes, ReLU, linear and Dense layers, many
channels); the truths they are checked against are recomputed here with plain numpy from the same arrays,
and the layer table is written by hand. Run: .venv/bin/python -m pytest tests/test_article_any_model.py -q
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from report.capture_facts import recorded_layers
from report.numbers.analysis import analyse
from report.numbers.receptive_fields import Window, layer_chain
from report.numbers.thresholds import MOSTLY_ZERO_SHARE
from report.page.appendix import rebuild_command
from report.words.commentary import commentary, image_words
from report.words.dataset_text import subject
from report.words.model_text import recorded_facts
from report.words.post_observations import POST_OBSERVATIONS
from report.words.wording import DIGIT_WORDS, IMAGE_WORDS
from tests.helpers import build_site, page_text, stage_site
from tests.synthetic_capture import synthetic_capture

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def conv_row(name, shape, kernel, activation, strides=(1, 1), padding="same"):
    return {"name": name, "kind": "Conv2D", "output_shape": list(shape), "activation": activation, "parameters": 1,
            "kernel_size": list(kernel), "strides": list(strides), "padding": padding, "pool_size": None,
            "recorded": True}


def builder_capture(steps: int = 12):
    """A made-up user's model on CIFAR-like RGB data: a 5x5 ReLU conv, a 3x3 linear conv of 40 channels, a Dense."""
    capture = synthetic_capture(steps=steps, layers=("block1_conv", "conv_b", "dense"), widths=(6, 40, 12),
                                sizes=(28, 14, 1), activations=("relu", "linear", "relu"), rgb=True,
                                origin="builder")
    meta = capture.meta
    meta["dataset"].update(name="cifar10", title="CIFAR-10 (synthetic stand-in)", class_names=CIFAR_NAMES)
    meta["model"]["source"] = "examples/tiny.py:build"
    meta["layers"] = [
        {"name": "image", "kind": "InputLayer", "output_shape": [28, 28, 3], "activation": None, "parameters": 0},
        conv_row("block1_conv", (28, 28, 6), (5, 5), "relu"),
        {"name": "pool", "kind": "MaxPooling2D", "output_shape": [14, 14, 6], "activation": None, "parameters": 0,
         "kernel_size": None, "strides": [2, 2], "padding": "valid", "pool_size": [2, 2], "recorded": False},
        conv_row("conv_b", (14, 14, 40), (3, 3), "linear"),
        {"name": "flatten", "kind": "Flatten", "output_shape": [7840], "activation": None, "parameters": 0},
        {"name": "dense", "kind": "Dense", "output_shape": [12], "activation": "relu", "parameters": 1},
        {"name": "out", "kind": "Dense", "output_shape": [10], "activation": "softmax", "parameters": 1},
    ]
    return capture


def layer_sections_text(index: Path) -> str:
    """The visible text of the page's per-layer sections only (their commentary, tables and captions)."""
    sections = re.findall(r'<section id="[^"]*" class="layer".*?</section>', index.read_text(), flags=re.S)
    assert sections, "the page has no layer section"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", " ".join(sections))))


@pytest.fixture(scope="module")
def builder_site(tmp_path_factory):
    capture = builder_capture()
    root = tmp_path_factory.mktemp("builder")
    return capture, build_site(capture, root), root


@pytest.fixture(scope="module")
def builder_page(builder_site):
    capture, index, _ = builder_site
    return capture, page_text(index)


# --- The whole page -----------------------------------------------------------------------------------


def test_a_non_article_model_has_the_notice_and_no_post_observations(builder_page):
    _, text = builder_page
    assert "This is not the original model, so the original's observations are not compared." in text
    assert "examples/tiny.py:build" in text
    assert "What the original post saw" not in text and "Conclusions, checked" not in text
    for observation in POST_OBSERVATIONS.values():
        assert observation["text"] not in text
    assert "the post's" not in text.lower() and "This page tests that conclusion" not in text


def test_class_names_and_image_size_follow_the_data(builder_page):
    capture, text = builder_page
    shown = ", ".join(CIFAR_NAMES[label] for label in capture.probe_labels)
    assert f"The probe images, left to right: {shown}" in text
    assert "digit" not in text.lower() and "handwritten" not in text
    assert "tell ten kinds of object apart in small colour photographs" in text
    assert "fed 28×28 colour images" in text


def test_the_experiment_sentence_states_the_real_kernels_and_activations(builder_page):
    _, text = builder_page
    assert "block1_conv (Conv2D, 5×5, relu, 28×28×6)" in text and "conv_b (Conv2D, 3×3, linear, 14×14×40)" in text
    assert "3×3 convolutions with tanh activations" not in text
    # receptive fields composed by hand: 5x5; then 2x2 pooling (6, stride 2); then 3x3 at stride 2: 6 + 2 * 2
    assert "receptive field: block1_conv 5×5 and conv_b 10×10 pixels" in text


def test_relu_layers_speak_of_zero_shares_not_saturation(builder_page):
    capture, text = builder_page
    final = capture.activations["block1_conv"][-1].astype(np.float64)  # (N, H, W, C)
    section = text[text.rfind("block1_conv: 6 channels at 28×28"):text.rfind("conv_b: 40 channels")]
    share = f"{100 * (final == 0).mean():.1f}".rstrip("0").rstrip(".") + "%"
    assert f"at the last step {share} of its values are exactly 0" in section
    assert "saturat" not in section.lower()
    assert "Exactly 0" in section  # the channel table's column


def test_many_channels_say_which_are_pictured(builder_page):
    _, text = builder_page
    assert "the 16 most active of its 40 channels pictured" in text
    assert "conv_b has more channels than fit in a picture" in text


def test_the_reading_guide_follows_each_layers_scale(builder_page):
    _, text = builder_page
    assert "no value is negative, so the colours run from white at 0 to full blue" in text
    assert "In conv_b values are signed and unbounded" in text
    assert "tanh keeps every value between" not in text and "pink backgrounds" not in text


def test_layer_commentary_speaks_of_strokes_and_ink_only_on_mnist(builder_site):
    import copy

    capture, index, root = builder_site
    other = layer_sections_text(index)
    # The same run, its data named MNIST: only the words for what the probes show may change.
    mnist = copy.deepcopy(capture)
    mnist.meta["dataset"].update(name="mnist", title="MNIST")
    manifest = json.loads((root / "build" / "assets" / "manifest.json").read_text())
    digits = layer_sections_text(stage_site(mnist, manifest, root / "build", root / "site-mnist"))
    findings = analyse(capture)
    edges = sum(layer.counts["edge"] for layer in findings.layers)
    inverted = [ch for layer in findings.layers if layer.spatial for ch in layer.channels if ch.kind == "copy"
                and (ch.filter.blob if ch.kind_basis == "filter" else ch.copy_r) < 0]
    assert edges and inverted  # the run has edge detectors and inverted copies to describe
    assert re.search(r"\bstrokes?\b", digits) and "negative on the ink" in digits
    assert not re.search(r"\bstrokes?\b|\bink\b", other, flags=re.I)
    assert "side of bright regions" in other and "negative on the bright parts of the image" in other
    # Nothing else differs: every number and every other word is the same on both pages.
    words = {"strokes": "bright regions", "the ink": "the bright parts of the image"}
    assert re.sub("|".join(words), lambda match: words[match.group(0)], digits) == other


def test_image_words_follow_the_dataset():
    assert image_words(None) == image_words({"name": "mnist"}) == DIGIT_WORDS
    assert image_words({"name": "bundled"}) == DIGIT_WORDS
    for name in ("fashion", "cifar10", "cifar100", "npz", "idx", "synthetic"):
        assert image_words({"name": name}) == IMAGE_WORDS


# --- The parts, against numpy truth -------------------------------------------------------------------


def test_relu_findings_recompute():
    capture = builder_capture(steps=6)
    findings = analyse(capture)
    layer = findings.layer("block1_conv")
    final = capture.activations["block1_conv"][-1].astype(np.float64).reshape(-1, 6)  # (P, C)
    assert layer.regime == "non-negative" and layer.activation == "relu"
    assert layer.zero_share == pytest.approx((final == 0).mean())
    for ch in layer.channels:
        assert ch.saturated_share is None and ch.kind != "saturated"
        assert ch.zero_share == pytest.approx((final[:, ch.channel] == 0).mean())
    for item in layer.mostly_zero:
        assert item.passes == ((final[:, item.channel] == 0).mean() >= MOSTLY_ZERO_SHARE)
    assert findings.layer("conv_b").regime == "signed"
    dense = findings.layer("dense")
    assert not dense.spatial and all(ch.kind in ("other", "idle") for ch in dense.channels)


def test_the_render_stages_scales_are_used_as_they_are():
    from pipeline.scales import choose_scale

    capture = builder_capture(steps=6)
    activations = {row["name"]: row["activation"] for row in recorded_layers(capture)}
    scales = {name: choose_scale(capture.activations[name], activations[name]) for name in capture.activations}
    # The page's own scales give the findings that choosing them again gives.
    assert analyse(capture, scales).to_dict() == analyse(capture).to_dict()
    # And they are taken, not recomputed: a scale twice as wide doubles the idle limit.
    wide = {name: {**scale, "domain": [2 * end for end in scale["domain"]]} for name, scale in scales.items()}
    layer = analyse(capture).layer("block1_conv")
    widened = analyse(capture, wide).layer("block1_conv")
    assert widened.scale["domain"] == [2 * end for end in layer.scale["domain"]]
    assert widened.idle_limit == pytest.approx(2 * layer.idle_limit)


@pytest.mark.parametrize("values, activation, form", [
    (np.linspace(-0.9, 0.9, 101), "tanh", "fixed_range"),
    (np.linspace(0.0, 0.9, 101), "sigmoid", "fixed_range"),
    (np.linspace(-3.0, 5.0, 1001), "linear", "percentile"),
    (np.linspace(0.0, 5.0, 1001), "relu", "percentile"),
    (np.r_[np.zeros(10_000), 2.5], "relu", "largest"),
    (np.r_[np.zeros(10_000), -2.5], None, "largest"),
    (np.zeros(100), "relu", "unit"),
])
def test_a_scales_basis_reads_in_each_edition_as_the_renderer_states_it(values, activation, form):
    from pipeline.scales import choose_scale
    from report.voice import speaking
    from report.words.wording import scale_basis

    scale = choose_scale(np.asarray(values, np.float16)[None, :, None, None, None], activation)
    assert scale["basis_terms"]["form"] == form
    with speaking("en"):
        english = scale_basis(scale)
    with speaking("zh"):
        chinese = scale_basis(scale)
    # the renderer's own English text (render/legend.py's captions) and the article's English say the same thing
    assert english == scale["basis"]
    assert chinese != english and re.search(r"[\u4e00-\u9fff]", chinese)


def test_commentary_for_another_model_compares_nothing_with_the_post():
    findings = analyse(builder_capture(steps=6))
    said = commentary(findings, article=False)
    assert said["conclusions"] == [] and all(item["post"] is None and not item["comparison"]
                                            for item in said["layers"])
    assert "post" not in " ".join(said["training"])
    names = {row["name"] for row in said["thresholds"]}
    assert "MOSTLY_ZERO_SHARE" in names and "CLAIMED_ACCURACY" not in names and "SATURATION_LEVEL" not in names


def test_receptive_fields_compose_strides_and_padding():
    rows = [conv_row("a", (16, 16, 4), (5, 5), "relu", strides=(2, 2)),
            conv_row("b", (14, 14, 4), (3, 3), "relu", padding="valid")]
    windows = layer_chain(rows, (32, 32), article=False)["windows"]
    # 'same' at stride 2 on 32 pads (15 * 2 + 5 - 32) // 2 = 1 before; 'valid' pads none
    assert windows == {"a": Window(5, 2, -1), "b": Window(9, 2, -1)}


def test_a_residual_model_leaves_receptive_fields_out_and_says_why():
    capture = builder_capture(steps=3)
    table = capture.meta["layers"]
    table.insert(4, {"name": "skip", "kind": "Add", "output_shape": [14, 14, 40], "activation": None,
                     "parameters": 0})
    facts = recorded_facts(recorded_layers(capture), table, [28, 28, 3], article=False)
    assert facts["receptive_fields"] == "" and facts["receptive_fields_missing"] == "block1_conv and conv_b"
    assert "not a simple chain of layers (it has Add layer skip)" in facts["receptive_fields_reason"]
    unknown = [conv_row("a", (28, 28, 4), (3, 3), "relu")]
    unknown[0].update(kernel_size=None, strides=None, padding=None)  # a table that does not say
    assert layer_chain(unknown, (28, 28), article=False)["windows"] == {}
    assert layer_chain(unknown, (28, 28), article=True)["windows"] == {"a": Window(3, 1, -1)}


def test_subjects_are_digits_only_for_mnist():
    assert subject({"name": "npz", "class_names": ["a", "b", "c"]})["task"] == "tell three classes of image apart"
    assert subject({"name": "cifar100"})["plural"] == "images"
    assert subject({"name": "idx"})["plural"] == "images"


def test_rebuild_command_carries_model_data_layers_and_probes(tmp_path):
    import shlex

    from generate import config_from, parse_arguments
    from pipeline.config import Config

    (tmp_path / "tiny.py").write_text("def build(input_shape, num_classes):\n    raise NotImplementedError\n")
    np.savez(tmp_path / "my data.npz", x_train=np.zeros((1, 2, 2)))  # only its bytes are hashed here
    config = Config(model=f"{tmp_path}/tiny.py:build", model_sha256="ab" * 32, data=f"{tmp_path}/my data.npz",
                    data_sha256="cd" * 32, layers=("conv", "dense"), probes=(3, 17, 42))
    command = rebuild_command(config.to_dict())
    assert "sha256" not in command and "abab" not in command
    arguments = shlex.split(shlex.split(command.split("ARGS=", 1)[1])[0])
    again = config_from(parse_arguments(["site", *arguments])).to_dict()
    expected = config.to_dict()
    assert {key: value for key, value in again.items() if not key.endswith("sha256")} == \
        {key: value for key, value in expected.items() if not key.endswith("sha256")}


def test_nested_layer_names_give_one_file_name_in_every_stage(tmp_path):
    """"block1/conv" is "block1-conv" in the renderer's files and in the article's figures, and every local
    reference of the page resolves to a file of the site."""
    capture = synthetic_capture(steps=20, probes=4, layers=("block1/conv", "block2/conv"), widths=(4, 6),
                                sizes=(8, 4), activations=("relu", "tanh"), origin="builder")
    index = build_site(capture, tmp_path)
    site = index.parent
    names = {path.name for path in (site / "assets").rglob("*")}
    assert {"block1-conv.png", "pairs-block1-conv.svg", "block2-conv.png", "pairs-block2-conv.svg"} <= names
    assert not any("--" in name for name in names)
    references = re.findall(r'(?:href|src|poster)="([^"#?:]+)"', index.read_text())
    local = [ref for ref in references if not ref.startswith(("http", "//", "mailto"))]
    assert local and all((site / ref).exists() for ref in local), [ref for ref in local if not (site / ref).exists()]
