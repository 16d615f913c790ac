"""Every run gets a true story (issue 23): the plateau, "white, then colour", dead units, the data notice and the
post's yardsticks are said only where the run's own numbers make them true.

The rules are checked on made-up captures whose truth is planted (tests/analysis_fixtures.py), and once on a real
short run of examples/relu_glorot.py (ReLU and Glorot initialisation: no plateau, a dead conv3 channel; the test
run's one such run, tests/conftest.py's relu_run, which tests/test_this_run.py reads too), whose page is read
sentence by sentence against numbers recomputed here with numpy from its capture.h5.
Run: .venv/bin/python -m pytest tests/test_run_story.py -p no:cacheprovider -n 0 -q
"""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pytest

from report.numbers.analysis import analyse
from report.numbers.channel_kinds import dead_steps
from report.numbers.conclusions import conclusion_1, plateau
from report.numbers.findings import Findings
from report.numbers.thresholds import (
    CLAIMED_ACCURACY,
    DEAD_ZERO_SHARE,
    FAINT_MAX_SHARE,
    INFORMATIVE_SHARE,
    PLATEAU_ACCURACY_MARGIN,
    PLATEAU_ACCURACY_SE,
    PLATEAU_MIN_STEPS,
    PLATEAU_TOLERANCE,
)
from report.page.explorer import jump_points
from report.words.commentary import commentary
from report.words.conclusion_text import conclusion_1_text, conclusion_3_text
from report.words.dataset_text import dataset_notice, dataset_sentence
from report.words.figure_text import settling_text
from report.words.layer_text import layer_commentary
from report.words.training_text import training_sentences
from tests.analysis_fixtures import make_capture, make_probes, maps_at, stack_channels
from tests.commentary_fixtures import kinds_layer
from tests.helpers import page_text

CHANCE = math.log(10)
PLATEAU_WORDS = ("stayed at chance", "left its plateau", "Loss leaves its plateau", "grey band is the loss plateau",
                 "The settled steps, the end of the loss plateau", "flat at chance")


@pytest.fixture(scope="module")
def probes():
    return make_probes(seed=23)


def _said_about_training(findings: Findings, article: bool = True) -> str:
    """Everything the page's words say about the training curve and the settling figure, as one text."""
    said = commentary(findings, article=article, dataset={"name": "mnist", "title": "full MNIST"})
    figure = settling_text(findings, article=article)
    return " ".join(said["training"] + [figure["alt"], figure["caption"]] +
                    [conclusion_3_text(findings.run.conclusion_3)["evidence"]])


def _capture(probes, loss, accuracy, count=None, layers=None, meta=None):
    """A one-layer capture (a copy of the input growing in contrast) with the given training curves."""
    count = count or len(loss) + 1
    final = stack_channels(maps_at(probes, 14)["copy"], maps_at(probes, 14)["vertical"])
    grow = np.clip(np.arange(count) / (count / 2), 0.05, 1.0)
    series = {"conv3": grow[:, None, None, None, None] * final[None]} if layers is None else layers
    capture = make_capture(series, probes, train_loss=loss, meta=meta)
    capture.train_accuracy = np.asarray(accuracy, np.float32)
    return capture


# --- 1. The plateau --------------------------------------------------------------------------------------


def test_a_loss_falling_from_the_first_step_has_no_plateau_and_no_sentence_claims_one(probes):
    steps = 60
    loss = CHANCE - 0.006 * np.arange(steps)  # within the tolerance for eight steps, but learning from step 1
    accuracy = np.minimum(0.1 + 0.06 * np.arange(steps), 0.9)  # 16% at step 2
    found = plateau(loss, 10, accuracy, 1024)
    assert not found.found and found.steps == 0 and found.left_at_step is None
    assert found.at_chance_steps == 1 and found.off_step == 2 and found.left_by == ["accuracy"]
    findings = analyse(_capture(probes, loss, accuracy))
    run = findings.run
    assert not run.plateau.found and run.conclusion_3.learning_start == 0 and not run.conclusion_3.plateau_found
    text = _said_about_training(findings) + " " + _said_about_training(findings, article=False)
    assert "No plateau: the loss falls from the first steps" in text
    assert f"({loss[0]:.3f} at step 1, {loss[9]:.3f} at step 10)" in text
    assert "at step 2 the batch accuracy is 16.0%, above the 15.0% that counts as chance" in text
    for words in PLATEAU_WORDS:
        assert words not in text, words
    assert "no loss plateau" in conclusion_3_text(run.conclusion_3)["evidence"]
    assert commentary(findings)["plateau"] is False  # the curves' section: no plateau band, no plateau words
    assert "plateau" not in [point["kind"] for point in jump_points(findings, findings.steps)]  # no jump button


def test_a_planted_plateau_is_found_with_its_step(probes):
    steps, flat = 80, 30
    rng = np.random.default_rng(0)
    loss = np.r_[CHANCE + 0.01 * rng.standard_normal(flat), np.linspace(2.2, 0.4, steps - flat)]
    accuracy = np.r_[0.1 + 0.01 * rng.standard_normal(flat), np.linspace(0.3, 0.9, steps - flat)]
    found = plateau(loss, 10, accuracy, 1024)
    assert found.found and found.steps == flat and found.left_at_step == flat + 1
    assert set(found.left_by) == {"loss", "accuracy"}
    findings = analyse(_capture(probes, loss, accuracy))
    assert findings.run.plateau.steps == flat and findings.run.conclusion_3.learning_start == flat
    sentence = training_sentences(findings.run)[0]
    assert f"for the first {flat} steps" in sentence and f"left it at step {flat + 1}" in sentence
    assert "close to the post's 60" not in sentence and "fewer than the post's 60" in sentence
    assert {"kind": "plateau", "step": flat + 1} in jump_points(findings, findings.steps)  # the jump button


def test_the_settling_figure_marks_the_early_limit_only_where_the_page_states_conclusion_3(probes):
    from report.figures.settling_figure import settling_svg

    steps, flat = 80, 30
    loss = np.r_[np.full(flat, CHANCE), np.linspace(2.2, 0.4, steps - flat)]
    accuracy = np.r_[np.full(flat, 0.1), np.linspace(0.3, 0.9, steps - flat)]
    findings = analyse(_capture(probes, loss, accuracy))
    limit = findings.run.conclusion_3.early_limit
    article, other = (settling_svg(findings, loss, early_line=line)[0].decode() for line in (True, False))
    # the early limit is the only red (#b2182b) mark: a dashed line in each of the three panels, and its label
    assert article.count("#b2182b") >= 3 and "#b2182b" not in other
    own, theirs = settling_text(findings, article=True), settling_text(findings, article=False)
    assert f"A dashed red line marks step {limit:g}" in own["alt"] and "conclusion 3" in own["caption"]
    assert "dashed" not in theirs["alt"] + theirs["caption"] and "conclusion 3" not in theirs["caption"]
    assert theirs["caption"].endswith("The grey band is the loss plateau.")


def test_the_accuracy_ends_a_plateau_the_loss_alone_would_not_and_the_loss_alone_decides_without_it():
    loss = np.r_[np.full(40, CHANCE), np.linspace(2.2, 1.0, 40)]
    accuracy = np.r_[np.full(20, 0.1), np.full(60, 0.3)]  # learning shows in the accuracy from step 21
    assert plateau(loss, 10, accuracy).steps == 20 and plateau(loss, 10, accuracy).left_by == ["accuracy"]
    assert plateau(loss, 10).steps == 40  # no accuracy recorded: the loss alone
    short = np.r_[np.full(PLATEAU_MIN_STEPS - 1, CHANCE), np.linspace(2.2, 1.0, 40)]
    assert not plateau(short, 10).found  # fewer steps at chance than a plateau needs
    assert plateau(np.r_[np.full(PLATEAU_MIN_STEPS, CHANCE), np.linspace(2.2, 1.0, 40)], 10).found


def test_a_small_batch_widens_the_accuracy_margin_to_its_sampling_noise():
    loss = np.r_[np.full(30, CHANCE), np.linspace(2.2, 1.0, 30)]
    accuracy = np.r_[np.full(30, 0.2), np.full(30, 0.6)]  # 20%: noise for a batch of 32, learning for 1,024
    noise = PLATEAU_ACCURACY_SE * math.sqrt(0.1 * 0.9 / 32)
    assert noise > PLATEAU_ACCURACY_MARGIN
    small = plateau(loss, 10, accuracy, 32)
    assert small.found and small.steps == 30 and small.accuracy_limit == pytest.approx(0.1 + noise)
    assert not plateau(loss, 10, accuracy, 1024).found


def test_a_plateau_that_never_ends_says_the_run_did_not_learn():
    never = plateau(np.full(30, CHANCE), 10, np.full(30, 0.1))
    assert never.found and never.steps == 30 and never.left_at_step is None and never.off_step is None


# --- 2. White, then colour -----------------------------------------------------------------------------------


def _contrast_layer(probes, scale: np.ndarray):
    """Analyse one layer whose maps are the final maps times scale[t] (the pattern fixed from the first step)."""
    final = stack_channels(maps_at(probes, 14)["copy"], maps_at(probes, 14)["vertical"])
    capture = make_capture({"conv3": scale[:, None, None, None, None] * final[None]}, probes)
    findings = analyse(capture)
    return findings.layer("conv3"), findings.steps


def test_a_layer_at_half_its_contrast_at_the_start_is_not_said_to_be_white(probes):
    scale = np.r_[np.full(5, 0.6), np.full(10, 0.3), np.ones(15)]  # 60% at step 0, a dip, full from step 15
    layer, steps = _contrast_layer(probes, scale)
    assert layer.timeline["relative_spread"][0] == pytest.approx(0.6, abs=0.01)
    said = layer_commentary(layer, steps[-1], steps)
    text = " ".join([said["look_for"]] + said["run"])
    assert "nearly white" not in text and "almost white" not in text and "colours arrive" not in text
    assert "before it could be seen" not in text
    assert said["look_for"].startswith(f"Contrast grows from 60% of its final value at step 0 and stays at least "
                                       f"{100 * INFORMATIVE_SHARE:.0f}% of it from step 15")


def test_a_layer_that_starts_faint_stays_white_until_it_reaches_the_threshold(probes):
    scale = np.r_[np.full(10, 0.02), np.linspace(0.04, 1.0, 20)]  # no share right at a threshold
    layer, steps = _contrast_layer(probes, scale)
    until = steps[int(np.argmax(scale / scale[-1] >= FAINT_MAX_SHARE))]
    contrast = steps[int(np.argmax(scale / scale[-1] >= INFORMATIVE_SHARE))]
    said = layer_commentary(layer, steps[-1], steps)["look_for"]
    assert said.startswith(f"Until about step {until} the frames stay nearly white")
    assert f"from step {contrast} the maps keep at least 50% of their final contrast" in said


# --- 3. Dead units ---------------------------------------------------------------------------------------


def test_a_planted_dead_channel_is_dead_from_the_step_it_died(probes):
    count, died = 30, 12
    rng = np.random.default_rng(3)
    shape = (count, len(probes), 14, 14)
    alive = 0.5 + rng.random(shape)  # positive everywhere
    dead = alive.copy()
    dead[died:] = 0.0  # exactly 0 from step 12 to the end
    sparse = alive * (rng.random(shape) < 0.025)  # exactly 0 on about 97.5% of values: mostly zero, not dead
    series = np.stack([alive, dead, sparse], axis=-1)
    meta = {"recorded_layers": [{"name": "conv3", "kind": "Conv2D", "activation": "relu"}]}
    findings = analyse(make_capture({"conv3": series}, probes, meta=meta))
    layer = findings.layer("conv3")
    assert layer.regime == "non-negative"
    assert [ch.dead for ch in layer.channels] == [False, True, False]
    assert layer.channels[1].dead_step == died
    said = layer_commentary(layer, findings.last_step, findings.steps)
    text = " ".join(said["run"])
    assert f"channel 2 from step {died}" in text and "Channel 2 is idle" not in text
    assert said["table"]["rows"][1][1] == f"dead (from step {died})"
    assert said["channels"][1]["text"].startswith(f"Channel 2 is dead from step {died}: exactly 0 on at least 99%")
    assert f"channel 2 is nearly all white from step {died} on: it is dead" in said["look_for"]
    assert [item.channel for item in layer.mostly_zero] == [0, 2]  # the dead channel is not a "working" one
    again = Findings.from_dict(json.loads(findings.to_json()))  # findings.json keeps the new fields
    assert again.layer("conv3").channels[1].dead and again.layer("conv3").channels[1].dead_step == died
    assert json.loads(again.to_json()) == json.loads(findings.to_json())


def test_a_channel_is_dead_only_when_it_stays_so_to_the_end_and_on_the_analysis_images():
    zero = np.array([[0.5, 0.999, 0.999], [0.995, 0.999, 0.98], [0.999, 0.999, 0.999], [0.999, 0.999, 0.999]])
    steps = np.array([0, 10, 20, 30])
    assert dead_steps(zero, steps) == [10, 0, 20]
    assert dead_steps(zero, steps, np.array([0.999, DEAD_ZERO_SHARE - 0.001, 1.0])) == [10, None, 20]
    assert dead_steps(np.array([[1.0], [0.5]]), np.array([0, 1])) == [None]  # it fires again at the end


# --- 4. The data notice's cause ------------------------------------------------------------------------------


BUNDLED = {"name": "bundled", "title": "bundled MNIST subset", "source": "data/mnist_bundled.npz",
           "train_size": 10000, "test_size": 10000}


def test_the_bundled_subset_asked_for_is_not_said_to_be_a_fallback():
    chosen = dict(BUNDLED, notice="")
    notice = dataset_notice(chosen, 0.962)
    assert "could not be loaded" not in notice and "chosen for this run (--dataset bundled)" in notice
    assert "Expect slightly lower" not in notice and "96.2%, is above the 95%" in notice
    sentence = dataset_sentence(chosen)
    assert "chosen for this run" in sentence and "used automatically" not in sentence
    fallback = dict(BUNDLED, notice="full MNIST is not available (offline); training on the bundled subset instead")
    assert "because full MNIST could not be loaded" in dataset_notice(fallback)
    assert "below the 95%" in dataset_notice(fallback, 0.93)
    assert "could not be loaded" in dataset_sentence(fallback)
    unknown = dataset_notice(BUNDLED)  # a capture too old to say why: no cause, no expectation
    assert "could not be loaded" not in unknown and "chosen" not in unknown and "Expect" not in unknown
    assert dataset_notice(dict(BUNDLED, name="mnist")) == ""


# --- 5. Yardsticks that belong to the data -------------------------------------------------------------------


def test_on_fashion_mnist_the_posts_accuracy_is_not_a_yardstick_but_the_model_must_have_learned():
    layers = [kinds_layer(f"conv{i + 1}", ["copy"] * 6) for i in range(4)]
    fashion = conclusion_1(layers, 0.802, 10_000, "fashion", classes=10)
    assert not fashion.accuracy_applies and len(fashion.checks) == 4
    # "accurate" on other data: half way from chance (1/10) to 100%, i.e. 55%, computed here independently
    assert fashion.checks[3].threshold == pytest.approx(0.1 + 0.5 * 0.9)
    assert fashion.checks[3].passes and fashion.definition_verdict == "holds"
    assert all(len(item.checks) == 4 for item in fashion.variants) and not fashion.data_explained
    words = conclusion_1_text(fashion, "Fashion-MNIST")
    assert "well above chance" in words["evidence"] and "55.0%" in words["evidence"]
    assert "Fashion-MNIST" in words["evidence"] and "80.2%" in words["evidence"]
    assert f"below the claimed {100 * CLAIMED_ACCURACY:.0f}%" not in words["evidence"]
    # a model that learned nothing cannot make the claim hold, however few features its layers extract
    untrained = conclusion_1(layers, 0.11, 10_000, "fashion", classes=10)
    assert not untrained.checks[3].passes and untrained.definition_verdict != "holds"
    assert conclusion_1(layers, 0.70, 10_000, "cifar10", classes=2).checks[3].threshold == pytest.approx(0.75)
    mnist = conclusion_1(layers, 0.802, 10_000, "bundled")
    assert mnist.accuracy_applies and len(mnist.checks) == 4 and mnist.definition_verdict == "partly holds"
    assert mnist.checks[3].threshold == CLAIMED_ACCURACY
    assert conclusion_1(layers, 0.802, 10_000, None).accuracy_applies  # a capture without the name: MNIST


def test_on_fashion_mnist_the_page_compares_no_digit_observation(probes):
    loss = np.r_[np.full(30, CHANCE), np.linspace(2.2, 0.5, 30)]
    dataset = {"name": "fashion", "title": "Fashion-MNIST", "class_names": [str(i) for i in range(10)]}
    capture = _capture(probes, loss, np.r_[np.full(30, 0.1), np.linspace(0.3, 0.8, 30)],
                       meta={"dataset": dataset, "final_test_accuracy": 0.802, "final_test_size": 10000})
    capture.activations = {"conv1": capture.activations["conv3"]}
    findings = analyse(capture)
    said = commentary(findings, article=True, dataset=dataset)
    text = " ".join(said["training"])
    assert "95%" not in text and "post's" not in text
    assert "well above chance" in said["conclusions"][0]["evidence"]
    layer = said["layers"][0]
    assert layer["comparison"] == [] and layer["post_applies"] is False
    on_mnist = commentary(findings, article=True, dataset=dict(dataset, name="mnist"))
    assert "the post's 95%" in " ".join(on_mnist["training"]) and on_mnist["layers"][0]["comparison"]


# --- One real run: examples/relu_glorot.py, read sentence by sentence ---------------------------------------


@pytest.fixture(scope="module")
def relu_story(relu_run):
    """The shared relu_glorot run (tests/conftest.py: 40 steps of 256 on the bundled data, measured on the probes): its
    capture, its page's text and each layer section's text."""
    from capture.archive import Capture

    build, site = relu_run
    index = site / "index.html"
    sections = {name: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
                for name, body in re.findall(r'<section id="([^"]*)" class="layer".*?>(.*?)</section>',
                                             index.read_text(), flags=re.S)}
    return Capture.load(build / "capture.h5"), page_text(index), sections


def test_relu_run_plateau_sentence_recomputes(relu_story):
    capture, text, _ = relu_story
    loss, accuracy = capture.train_loss.astype(np.float64), capture.train_accuracy.astype(np.float64)
    limit = 0.1 + max(PLATEAU_ACCURACY_MARGIN, PLATEAU_ACCURACY_SE * math.sqrt(0.09 / capture.config["batch_size"]))
    at_chance = (np.abs(loss - CHANCE) <= PLATEAU_TOLERANCE) & (accuracy <= limit)
    initial = int(np.argmin(at_chance)) if not at_chance.all() else len(loss)
    if initial >= PLATEAU_MIN_STEPS:  # a plateau after all (another machine's numbers): it is said, with its step
        assert f"for the first {initial} steps" in text and f"left it at step {initial + 1}" in text
        return
    falls = loss[9] < loss[0]
    assert ("No plateau: the loss falls from the first steps" if falls else "No plateau: training leaves chance") \
        in text
    assert f"({loss[0]:.3f} at step 1, {loss[9]:.3f} at step 10)" in text
    off = initial + 1
    if accuracy[initial] > limit:
        assert f"at step {off} the batch accuracy is {100 * accuracy[initial]:.1f}%" in text
    for words in PLATEAU_WORDS:
        assert words not in text, words
    assert "This run has no loss plateau" in text and "The run has no loss plateau, so there is no grey band" in text


def test_relu_run_contrast_sentences_recompute(relu_story):
    capture, _, sections = relu_story
    steps = capture.steps.tolist()
    for name, series in capture.activations.items():
        values = np.asarray(series, np.float64)
        flat = values.reshape(len(values), -1, values.shape[-1])
        spread = np.median(flat.std(axis=1), axis=1)
        relative = spread / spread[-1]
        look = re.search(r"What to look for\. (.*?) What this run shows", sections[name]).group(1)
        if relative[0] < FAINT_MAX_SHARE:
            until = steps[int(np.argmax(relative >= FAINT_MAX_SHARE))]
            assert f"Until about step {until} the frames stay nearly white" in look, (name, look)
        else:
            assert "nearly white" not in look and "colours arrive" not in look, (name, look)
            said = re.search(r"Contrast (?:grows from|starts at) (\d+)% of its final value at step 0", look)
            if said:
                assert int(said.group(1)) == pytest.approx(100 * relative[0], abs=1), (name, look)
            else:  # contrast in place from the first step: said so only where it is
                assert "most of their final contrast from the first step" in look or \
                    "look from the first step as they will at the end" in look, (name, look)
                assert (relative >= INFORMATIVE_SHARE).all(), (name, relative.min())


def test_relu_run_dead_channels_recompute(relu_story):
    capture, _, sections = relu_story
    steps = np.asarray(capture.steps)
    for name, series in capture.activations.items():
        values = np.asarray(series)
        zero = (values == 0).reshape(len(values), -1, values.shape[-1]).mean(axis=1)  # (T, C)
        holds = np.flip(np.logical_and.accumulate(np.flip(zero >= DEAD_ZERO_SHARE, 0), axis=0), 0)
        table = sections[name].split("what each channel's final map correlates with", 1)[1]  # the channel table
        for channel in range(values.shape[-1]):
            row = re.search(rf"Channel {channel + 1} (.+?) [−+]\d", table)
            if holds[-1, channel]:
                died = int(steps[int(np.argmax(holds[:, channel]))])
                assert row.group(1) == f"dead (from step {died})", (name, channel)
                assert f"channel {channel + 1} from step {died}" in sections[name]
            else:
                assert not row.group(1).startswith("dead"), (name, channel)


def test_relu_run_notice_and_data_sentence_tell_the_true_cause(relu_story):
    capture, text, _ = relu_story
    assert capture.meta["dataset"]["name"] == "bundled" and capture.meta["dataset"]["notice"] == ""
    assert "could not be loaded" not in text and "Expect slightly lower" not in text
    assert "the subset was chosen for this run (--dataset bundled)" in text
    assert "used automatically when keras can load it" not in text
    assert "post's 95%" not in text  # not the post's model: nothing is held against its yardsticks
