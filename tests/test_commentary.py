"""Tests for report/words/commentary.py: sentences and verdicts chosen by the numbers, with grammatical counts.

Run: .venv/bin/python -m pytest tests/test_commentary.py -q
"""

import copy
import dataclasses
import json

import numpy as np
import pytest

from report.numbers.analysis import analyse
from report.numbers.checks import DOES_NOT_HOLD, HOLDS, PARTLY
from report.numbers.conclusions import EARLY_LAYERS, LATE_LAYERS, conclusion_1, conclusion_2, conclusion_3
from report.numbers.findings import Findings
from report.numbers.reference_maps import EDGE_KINDS
from report.numbers.run_findings import Plateau
from report.numbers.thresholds import UNBOUNDED_ONLY, thresholds
from report.words.commentary import commentary
from report.words.conclusion_text import VERDICT_CLASSES, conclusion_1_text, conclusion_2_text, conclusion_3_text
from report.words.training_text import training_sentences
from tests.analysis_fixtures import make_capture, make_probes, maps_at, stack_channels
from tests.commentary_fixtures import kinds_layer
from tests.helpers import REPO

SIZES = {"conv1": (28, 4), "conv2": (28, 4), "conv3": (14, 8), "conv4": (14, 8), "conv5": (7, 16), "conv6": (7, 16)}


@pytest.fixture(scope="module")
def probes():
    return make_probes()


def build_findings(probes, early="copy", late="noise", accuracy=0.97, settle="early", count=8) -> Findings:
    """Analyse a six-layer synthetic run: conv1-4 all copies or all edge maps; conv5-6 entangled noise or edges.

    With late="edges" conv5 and conv6 get two channels each, a horizontal and a vertical edge detector,
    which are nameable and nearly uncorrelated with each other.
    """
    rng = np.random.default_rng(11)
    layers = {}
    for name, (size, width) in SIZES.items():
        if late == "edges" and name in LATE_LAYERS:
            width = 2
        maps = maps_at(probes, size)
        is_early = name in EARLY_LAYERS
        if is_early and early == "copy":
            finals = [(0.8 if c % 2 else -0.8) * maps["copy"] for c in range(width)]
        elif is_early or late == "edges":
            kinds = ["horizontal", "vertical"] if not is_early else list(EDGE_KINDS)
            finals = [0.1 * maps[kinds[c % len(kinds)]] * (1 if c % 2 else -1) for c in range(width)]
            if not is_early:  # different pairs for distinct channels: independent noise on top
                finals = [f + 0.02 * rng.standard_normal(f.shape) for f in finals]
        else:  # entangled and unnamed: mixtures of one shared noise map, unrelated to the input
            shared = 0.3 * rng.standard_normal(maps["copy"].shape)
            finals = [shared + 0.2 * rng.standard_normal(shared.shape) for _ in range(width)]
        final = stack_channels(*finals)
        series = np.empty((count, *final.shape))
        for t in range(count):
            if settle == "early" or t == count - 1:
                series[t] = final
            else:  # the pattern keeps changing until the last step
                series[t] = 0.3 * rng.standard_normal(final.shape)
        layers[name] = series
    capture = make_capture(layers, probes, meta={"final_test_accuracy": accuracy, "final_test_loss": 0.2},
                           train_loss=np.concatenate([np.full(55, 2.3026), np.linspace(2.0, 0.3, count - 56)])
                           if count > 56 else None)
    return analyse(capture)


@pytest.fixture(scope="module")
def supportive(probes):
    return build_findings(probes)


# --- Conclusions ---------------------------------------------------------------------------------------


def verdicts(findings):
    return [item["verdict"] for item in commentary(findings)["conclusions"]]


def test_supportive_run_holds(supportive):
    assert verdicts(supportive) == [HOLDS, HOLDS, HOLDS]


def test_contradicting_run_does_not_hold(probes):
    findings = build_findings(probes, early="edges", late="edges", settle="late")
    assert verdicts(findings) == [DOES_NOT_HOLD] * 3


def test_low_accuracy_makes_conclusion_1_partial(probes):
    findings = build_findings(probes, accuracy=0.90)
    result = conclusion_1_text(findings.run.conclusion_1)
    assert result["verdict"] == PARTLY
    assert "90.0%, below the claimed 95%" in result["evidence"]
    assert "Test accuracy: 90.0%; needs at least 95%; fails by 5.0 percentage points" in " ".join(result["checks"])


@pytest.mark.parametrize("kinds, accuracy, expected", [
    (["copy"] * 20 + ["edge"] * 2 + ["other"] * 2, 0.97, HOLDS),
    (["copy"] * 20 + ["edge"] * 2 + ["other"] * 2, 0.93, PARTLY),
    (["copy"] * 10 + ["edge"] * 10 + ["other"] * 4, 0.97, PARTLY),
    (["copy"] * 5 + ["edge"] * 17 + ["other"] * 2, 0.97, DOES_NOT_HOLD),
    (["copy"] * 20 + ["edge"] * 2 + ["other"] * 2, None, PARTLY),
])
def test_conclusion_1_verdicts(kinds, accuracy, expected):
    layers = [kinds_layer(f"conv{i + 1}", kinds[6 * i:6 * i + 6]) for i in range(4)]
    result = conclusion_1(layers, accuracy, 10_000)
    assert result.verdict == expected
    assert len(result.checks) == 4 and all(item.margin >= 0 for item in result.checks)


@pytest.mark.parametrize("unnamed, pair_mean, expected", [
    (24, 0.7, HOLDS),
    (24, 0.3, PARTLY),  # hard to name, but separate
    (12, 0.7, PARTLY),
    (16, 0.3, PARTLY),  # exactly half is not "most"
    (4, 0.3, DOES_NOT_HOLD),
    (4, 0.7, PARTLY),  # nameable but overlapping
])
def test_conclusion_2_verdicts(unnamed, pair_mean, expected):
    kinds = ["other"] * unnamed + ["copy"] * (32 - unnamed)
    layers = [kinds_layer("conv5", kinds[:16], pair_mean), kinds_layer("conv6", kinds[16:], pair_mean)]
    assert conclusion_2(layers).verdict == expected


def test_conclusion_2_counts_read_well(supportive):
    numbers = supportive.run.conclusion_2
    said = conclusion_2_text(dataclasses.replace(numbers, active_channels=4, unnamed=0, unnamed_share=0.0))
    assert "none of the four active channels is unnamed (0%" in said["evidence"]
    said = conclusion_2_text(dataclasses.replace(numbers, active_channels=32, unnamed=32, unnamed_share=1.0))
    assert "all 32 active channels are unnamed (100%" in said["evidence"]
    said = conclusion_2_text(dataclasses.replace(numbers, active_channels=32, unnamed=1, unnamed_share=1 / 32))
    assert "one of the 32 active channels is unnamed (3%" in said["evidence"]


def test_conclusion_3_partial_and_idle_evidence():
    plateau = Plateau(chance_loss=2.3, tolerance=0.05, steps=50, num_steps=290, left_at_step=51)
    settled = {"conv1": 60, "conv2": 70, "conv3": 80, "conv4": 90, "conv5": 250, "conv6": 260}
    layers = [kinds_layer(name, ["copy"] * 4, settled=step) for name, step in settled.items()]
    numbers = conclusion_3(layers, plateau, 290)
    assert numbers.early_limit == 170 and numbers.verdict == PARTLY
    result = conclusion_3_text(numbers)
    assert "conv5 and conv6 kept changing for longer" in result["evidence"]
    assert "No channel stayed idle" in result["evidence"]
    assert "conv5: Settled step: step 250; needs at most step 170; fails by 80 steps" in " ".join(result["checks"])
    layers[3].channels[2].kind = "idle"
    numbers = conclusion_3(layers, plateau, 290)
    assert "One channel stayed idle to the end: conv4 channel 3." in conclusion_3_text(numbers)["evidence"]
    late = [kinds_layer(name, ["copy"] * 4, settled=280) for name in settled]
    assert conclusion_3(late, plateau, 290).verdict == DOES_NOT_HOLD
    never = conclusion_3(late, dataclasses.replace(plateau, steps=290, left_at_step=None), 290)
    assert never.verdict == DOES_NOT_HOLD and never.checks == []
    assert "never left its plateau" in conclusion_3_text(never)["evidence"]


def test_verdict_classes_are_the_ones_the_stylesheet_styles(supportive):
    css = (REPO / "templates" / "static" / "site.css").read_text()
    for verdict, name in VERDICT_CLASSES.items():
        assert f".verdict-{name} " in css or f".verdict-{name}{{" in css, (verdict, name)
    assert set(VERDICT_CLASSES) == {HOLDS, PARTLY, DOES_NOT_HOLD}


# --- Layer sentences ----------------------------------------------------------------------------------


def test_training_sentences_follow_the_plateau(supportive):
    run = copy.deepcopy(supportive.run)
    run.plateau = dataclasses.replace(run.plateau, steps=54, left_at_step=55, num_steps=290, found=True)
    assert "for the first 54 steps, close to the post's 60" in training_sentences(run)[0]
    run.plateau = dataclasses.replace(run.plateau, steps=1, left_at_step=2)
    assert "for the first one step, fewer than the post's 60" in training_sentences(run)[0]
    run.plateau = dataclasses.replace(run.plateau, steps=290, left_at_step=None)
    assert "never left chance level" in training_sentences(run)[0]
    run.plateau = dataclasses.replace(run.plateau, steps=0, left_at_step=None, num_steps=0)
    assert training_sentences(run)[0] == "The run recorded no training loss."
    run.final_test_accuracy = 0.951
    assert "95.1% and loss 0.200 on the whole test set, above the post's 95%" in training_sentences(run)[1]


# --- Output as a whole --------------------------------------------------------------------------------


def test_commentary_structure_is_plain_deterministic_text(probes, supportive):
    first = commentary(supportive)
    second = commentary(copy.deepcopy(supportive))
    assert json.dumps(first) == json.dumps(second)
    assert [item["name"] for item in first["layers"]] == list(SIZES)
    assert [item["verdict"] for item in first["conclusions"]] == [HOLDS] * 3
    # a tanh run lists every threshold but those only layers without tanh's fixed range use
    assert {row["name"] for row in first["thresholds"]} == set(thresholds()) - UNBOUNDED_ONLY
    text = json.dumps(first)
    assert "<" not in text and ">" not in text.replace("\\u2192", "")  # no HTML inside
    assert all(item["post"] for item in first["layers"])
    for item in first["layers"]:
        assert item["run"] and len(item["channels"]) == item["num_channels"]
        assert len(item["paragraphs"]) == 3 and item["paragraphs"][0].startswith(item["run"][0])
        assert " ".join(item["paragraphs"]) == " ".join(item["run"] + item["comparison"])
        assert len(item["table"]["rows"]) == item["num_channels"]
        assert all(len(row) == len(item["table"]["headings"]) for row in item["table"]["rows"])
    assert [item["verdict_class"] for item in first["conclusions"]] == ["holds"] * 3


def test_findings_read_back_from_json_say_the_same(probes):
    capture_findings = analyse(make_capture(
        {"conv1": np.repeat((0.8 * maps_at(probes, 28)["copy"])[None, ..., None], 3, axis=0)}, probes))
    from_object = commentary(capture_findings)
    read_back = Findings.from_dict(json.loads(capture_findings.to_json()))  # the page's findings.json
    assert read_back.to_json() == capture_findings.to_json()
    said = commentary(read_back)  # the same sentences (raw numbers beside them keep six digits)
    assert [said[key] for key in ("training", "conclusions", "thresholds")] == \
        [from_object[key] for key in ("training", "conclusions", "thresholds")]
    for again, first in zip(said["layers"], from_object["layers"]):
        assert [again[key] for key in ("paragraphs", "look_for", "channels", "table")] == \
            [first[key] for key in ("paragraphs", "look_for", "channels", "table")]
    assert ("The only channel copies the input (a filter closer to a blob than to an oriented difference, edge share "
            "0.00; |r| = 1.00 with the input).") in from_object["layers"][0]["run"]


def test_unknown_layer_has_no_post_reading(probes):
    findings = analyse(make_capture(
        {"block7": np.repeat((0.8 * maps_at(probes, 14)["copy"])[None, ..., None], 3, axis=0)}, probes))
    item = commentary(findings)["layers"][0]
    assert item["post"] is None and item["comparison"] == []


def photo_probes(count: int = 8, seed: int = 3) -> np.ndarray:
    """Draw uint8 images that are not digits: rectangles lighter and darker than a grey ground."""
    rng = np.random.default_rng(seed)
    images = np.full((count, 28, 28), 110, np.uint8)
    for image in images:
        for _ in range(3):
            top, left = rng.integers(2, 18, size=2)
            height, width = rng.integers(5, 10, size=2)
            image[top:top + height, left:left + width] = rng.choice([30, 200, 250])
    return images


def test_other_data_gets_words_true_of_any_image():
    probes = photo_probes()
    maps = maps_at(probes, 28)
    final = stack_channels(0.5 * maps["horizontal"], -0.8 * maps["copy"])  # an edge detector, an inverted copy
    findings = analyse(make_capture({"conv1": np.repeat(final[None], 3, axis=0)}, probes))
    photos = commentary(findings, article=False, dataset={"name": "cifar10"})["layers"][0]
    digits = commentary(findings, article=False)["layers"][0]  # no dataset: MNIST, as today
    edge, inverted = findings.layers[0].channels
    assert (edge.kind, edge.best_edge, edge.edge_side, inverted.kind) == ("edge", "horizontal", "top", "copy")
    # The truth behind the words: the edge channel is positive where the image is brighter below than above
    # (the top side of a bright region), and the inverted copy is lowest where the image is brightest.
    brighter_below = np.zeros(probes.shape, bool)
    brighter_below[:, :-1] = probes[:, 1:].astype(int) > probes[:, :-1].astype(int) + 50
    assert (final[..., 0][brighter_below] > 0).all()
    bright = probes > np.median(probes)
    assert final[..., 1][bright].mean() < final[..., 1][~bright].mean()
    text = " ".join(photos["run"] + [photos["look_for"]] + [item["text"] for item in photos["channels"]])
    assert "positive along the top side of bright regions" in text and "of the strokes" not in text
    assert "inverted (negative on the bright parts of the image)" in text
    assert "side of the bright regions" in photos["look_for"]
    assert "stroke" not in text and " ink" not in text
    said = " ".join(digits["run"] + [digits["look_for"]] + [item["text"] for item in digits["channels"]])
    assert "top side of strokes" in said and "negative on the ink" in said and "side of the strokes" in said
