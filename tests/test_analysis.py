"""Tests for report/numbers/analysis.py on synthetic captures whose channels are known copies, edge maps, idle
or saturated.

Run: .venv/bin/python -m pytest tests/test_analysis.py -q
"""

import json
import math
import time

import numpy as np
import pytest

import report.numbers.thresholds as threshold_registry
from report.numbers.analysis import analyse, analyse_layer, first_step_staying
from report.numbers.channel_kinds import classify
from report.numbers.conclusions import plateau
from report.numbers.reference_maps import EDGE_KINDS, area_pool
from report.numbers.thresholds import COPY_MIN_R, EDGE_MIN_R, thresholds
from tests.analysis_fixtures import NUM_PROBES, constant_series, make_capture, make_probes, maps_at, stack_channels


@pytest.fixture(scope="module")
def probes():
    return make_probes()


# --- Reference maps -----------------------------------------------------------------------------------


def test_area_pool_averages_blocks():
    images = np.arange(2 * 28 * 28, dtype=np.float64).reshape(2, 28, 28)
    pooled = area_pool(images, 7, 7)
    assert pooled.shape == (2, 7, 7)
    assert pooled[1, 2, 3] == pytest.approx(images[1, 8:12, 12:16].mean())
    assert area_pool(images, 14, 14)[0, 0, 0] == pytest.approx(images[0, :2, :2].mean())
    np.testing.assert_allclose(area_pool(images, 28, 28), images)


def test_sobel_signs_follow_the_documented_sides():
    # Ink fills the lower half: the boundary is the top edge of a stroke, so "horizontal" is positive there.
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 14:, :] = 255
    maps = maps_at(image, 28)
    assert maps["horizontal"][0, 13:15, 5:20].min() > 0
    assert np.abs(maps["vertical"][0, :, 1:27]).max() == 0
    # Ink fills the right half: a left edge, so "vertical" is positive there.
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, :, 14:] = 255
    maps = maps_at(image, 28)
    assert maps["vertical"][0, 5:20, 13:15].min() > 0
    # Ink below-right of a "/" boundary (upper-left side of a stroke): "diagonal_rising" positive.
    image = np.zeros((1, 28, 28), np.uint8)
    rows, cols = np.indices((28, 28))
    image[0][rows + cols > 28] = 255
    maps = maps_at(image, 28)
    assert maps["diagonal_rising"][0, 14, 14] > 0
    image[0] = 0
    image[0][rows > cols] = 255  # ink below-left of a "\" boundary: upper-right side of a stroke
    assert maps_at(image, 28)["diagonal_falling"][0, 14, 14] > 0


def test_input_maps_use_the_model_input_scale(probes):
    maps = maps_at(probes, 28)
    assert maps["copy"].max() == pytest.approx(1.0)
    assert set(maps) == {"copy", "silhouette", *EDGE_KINDS}


# --- Channel kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [28, 14, 7])
def test_copy_and_inverted_copy(probes, size):
    pooled = maps_at(probes, size)["copy"]
    final = stack_channels(0.8 * pooled - 0.1, -0.8 * pooled + 0.2)
    layer = analyse_layer("conv1", constant_series(final), np.arange(4), probes)
    copy, inverted = layer.channels
    assert copy.kind == inverted.kind == "copy"
    assert copy.copy_r == pytest.approx(1.0, abs=2e-3)
    assert inverted.copy_r == pytest.approx(-1.0, abs=2e-3)
    assert layer.counts["copy"] == 2
    assert copy.linear_r == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("kind, positive_side, negative_side", [
    ("horizontal", "top", "bottom"),
    ("vertical", "left", "right"),
    ("diagonal_rising", "upper-left", "lower-right"),
    ("diagonal_falling", "upper-right", "lower-left"),
])
@pytest.mark.parametrize("size", [28, 14])
def test_edge_detectors_get_their_orientation_and_side(probes, kind, positive_side, negative_side, size):
    edge = maps_at(probes, size)[kind]
    edge = 0.8 * edge / np.abs(edge).max()
    layer = analyse_layer("conv3", constant_series(stack_channels(edge, -edge)), np.arange(4), probes)
    detector, flipped = layer.channels
    assert detector.kind == flipped.kind == "edge"
    assert detector.best_edge == flipped.best_edge == kind
    assert detector.best_edge_r == pytest.approx(1.0, abs=2e-3)
    assert detector.edge_side == positive_side
    assert flipped.best_edge_r == pytest.approx(-1.0, abs=2e-3)
    assert flipped.edge_side == negative_side


def test_idle_and_saturated_channels(probes):
    rng = np.random.default_rng(1)
    shape = (NUM_PROBES, 14, 14)
    constant = np.full(shape, 0.3)
    faint = 0.005 * rng.standard_normal(shape)
    saturated = 0.999 * np.sign(rng.standard_normal(shape))
    pooled = maps_at(probes, 14)["copy"]
    mostly_saturated = np.where(pooled > 0.5, -0.95, 0.95)  # saturated everywhere, yet a copy of the input
    final = stack_channels(constant, faint, saturated, mostly_saturated)
    layer = analyse_layer("conv4", constant_series(final), np.arange(4), probes)
    kinds = [channel.kind for channel in layer.channels]
    assert kinds == ["idle", "idle", "saturated", "saturated"]
    assert layer.channels[0].spread == pytest.approx(0.0, abs=1e-6)
    assert layer.channels[2].saturated_share == 1.0
    assert layer.counts == {"copy": 0, "silhouette": 0, "edge": 0, "other": 0, "idle": 2, "saturated": 2}
    assert layer.median_settle_step is not None  # the saturated channels are active


def test_unrelated_channel_is_other(probes):
    rng = np.random.default_rng(2)
    noise = 0.3 * rng.standard_normal((NUM_PROBES, 7, 7))
    layer = analyse_layer("conv5", constant_series(noise[..., None]), np.arange(4), probes)
    channel = layer.channels[0]
    assert channel.kind == "other"
    assert abs(channel.copy_r) < COPY_MIN_R and abs(channel.best_edge_r) < EDGE_MIN_R


@pytest.mark.parametrize("copy_r, edge_r, spread, saturated, expected", [
    (0.95, 0.2, 0.2, 0.0, "copy"),
    (-0.75, 0.2, 0.2, 0.0, "copy"),
    (0.65, 0.7, 0.2, 0.0, "edge"),
    (0.8, 0.7, 0.2, 0.0, "copy"),  # the edge match is weaker than the copy
    (0.5, -0.55, 0.2, 0.0, "other"),
    (0.99, 0.1, 0.01, 0.0, "idle"),
    (0.99, 0.1, 0.5, 0.95, "saturated"),
])
def test_classify_thresholds(copy_r, edge_r, spread, saturated, expected):
    assert classify(copy_r, edge_r, spread, saturated) == expected


# --- Settling -----------------------------------------------------------------------------------------


def test_settle_step_is_when_the_map_stops_changing(probes):
    rng = np.random.default_rng(3)
    pooled = maps_at(probes, 14)["copy"]
    count, settle_at = 12, 7
    series = np.empty((count, NUM_PROBES, 14, 14, 2))
    for t in range(count):
        # Channel 0: random maps, then the final copy from step `settle_at` on.
        series[t, ..., 0] = pooled * 0.8 if t >= settle_at else 0.3 * rng.standard_normal(pooled.shape)
        # Channel 1: the final pattern from step 2 on, but its contrast grows until step 9.
        series[t, ..., 1] = (0.0 if t < 2 else min(t, 9) / 9) * 0.8 * pooled
    steps = np.arange(0, 2 * count, 2)  # recorded every other step: settle steps are recorded steps
    layer = analyse_layer("conv3", series, steps, probes)
    jumpy, growing = layer.channels
    assert jumpy.settle_step == steps[settle_at]
    assert jumpy.pattern_step == steps[settle_at]
    assert growing.pattern_step == steps[2]
    # Within 10% of the final spread: 0.8 * (1 - t / 9) <= 0.1 * 0.8 from t = 8.1, i.e. t = 9.
    assert growing.settle_step == steps[9]


def test_first_step_staying():
    steps = np.array([0, 5, 10, 15])
    condition = np.array([[True, False, True],
                          [False, False, True],
                          [True, False, True],
                          [True, False, True]])
    assert first_step_staying(condition, steps).tolist() == [10, 15, 0]


def test_layer_events_follow_the_timeline(probes):
    pooled = maps_at(probes, 7)["copy"]
    count = 10
    rng = np.random.default_rng(4)
    series = np.zeros((count, NUM_PROBES, 7, 7, 2))
    for t in range(count):
        if t < 3:  # faint and unrelated to the input
            series[t] = 0.001 * rng.standard_normal(series.shape[1:])
        elif t < 6:  # blurry copies, both channels alike
            series[t, ..., 0] = series[t, ..., 1] = 0.5 * pooled
        else:  # distinct: a copy and a horizontal-edge map
            series[t, ..., 0] = 0.5 * pooled
            series[t, ..., 1] = 0.1 * maps_at(probes, 7)["vertical"]
    layer = analyse_layer("conv5", series, np.arange(count), probes)
    assert layer.informative_step == 3
    assert layer.resembles_input_step == 3
    assert layer.distinct_step == 6
    assert len(layer.timeline["median_spread"]) == count


# --- Similarity ---------------------------------------------------------------------------------------


def test_duplicates_within_and_across_layers(probes):
    maps = maps_at(probes, 28)
    rng = np.random.default_rng(5)
    copy = 0.8 * maps["copy"]
    first = stack_channels(copy, 0.1 * maps["horizontal"], 0.2 * rng.standard_normal(copy.shape))
    second = stack_channels(copy, -copy + 0.001 * rng.standard_normal(copy.shape), 0.1 * maps["vertical"])
    capture = make_capture({"conv1": constant_series(first), "conv2": constant_series(second)}, probes)
    findings = analyse(capture)
    conv1, conv2 = findings.layers
    assert conv1.duplicate_groups == []
    assert conv2.duplicate_groups == [[0, 1]]
    assert conv2.pair_max == [0, 1]
    assert conv2.channels[1].most_similar_channel == 0
    assert conv2.channels[1].most_similar_r == pytest.approx(-1.0, abs=1e-2)
    assert conv1.previous_layer is None and conv1.channels[0].previous_layer_channel is None
    assert conv2.previous_layer == "conv1"
    assert [(d.channel, d.previous_channel) for d in conv2.duplicates_of_previous] == [(0, 0), (1, 0)]


def test_previous_layer_is_pooled_to_this_resolution(probes):
    copy28 = 0.8 * maps_at(probes, 28)["copy"]
    copy14 = 0.8 * maps_at(probes, 14)["copy"]
    capture = make_capture({"conv2": constant_series(copy28[..., None]),
                            "conv3": constant_series(copy14[..., None])}, probes)
    conv3 = analyse(capture).layer("conv3")
    assert conv3.channels[0].previous_layer_r == pytest.approx(1.0, abs=2e-3)


# --- Run level ----------------------------------------------------------------------------------------


def test_plateau_counts_steps_at_chance():
    chance = math.log(10)
    loss = np.concatenate([chance + 0.01 * np.sin(np.arange(60)), np.linspace(2.0, 0.3, 230)])
    result = plateau(loss)
    assert result.steps == 60 and result.left_at_step == 61
    assert result.chance_loss == pytest.approx(chance)
    never = plateau(np.full(20, chance))
    assert never.steps == 20 and never.left_at_step is None


def test_final_accuracy_prefers_meta(probes):
    layer = constant_series(0.5 * maps_at(probes, 28)["copy"][..., None])
    with_meta = analyse(make_capture({"conv1": layer}, probes, meta={"final_test_accuracy": 0.961,
                                                                             "final_test_loss": 0.12}))
    assert with_meta.run.final_test_accuracy == pytest.approx(0.961)
    assert with_meta.run.final_test_loss == pytest.approx(0.12)
    assert with_meta.run.accuracy_source == "whole test set"
    without = analyse(make_capture({"conv1": layer}, probes, test_accuracy=(0.3, 0.88)))
    assert without.run.final_test_accuracy == pytest.approx(0.88)
    assert without.run.accuracy_source == "last test point"


def test_conclusion_numbers(probes):
    maps7 = maps_at(probes, 7)
    rng = np.random.default_rng(6)
    layers = {}
    for name, size, width in (("conv1", 28, 4), ("conv2", 28, 4), ("conv3", 14, 8), ("conv4", 14, 8)):
        copy = 0.8 * maps_at(probes, size)["copy"]
        channels = [copy] * (width - 1) + [np.full(copy.shape, 0.2)]  # copies and one idle channel
        layers[name] = constant_series(stack_channels(*channels))
    for name in ("conv5", "conv6"):
        channels = [0.3 * rng.standard_normal(maps7["copy"].shape) for _ in range(15)] + [0.1 * maps7["vertical"]]
        layers[name] = constant_series(stack_channels(*channels))
    findings = analyse(make_capture(layers, probes))
    first, second, third = findings.run.conclusion_1, findings.run.conclusion_2, findings.run.conclusion_3
    assert first.channels == 24 and first.counts["copy"] == 20 and first.counts["idle"] == 4
    assert first.shares["copy"] == pytest.approx(20 / 24)
    assert second.active_channels == 32 and second.unnamed == 30 and second.counts["edge"] == 2
    assert second.pair_mean_abs_r < 0.3
    assert [item.layer for item in third.idle_channels] == ["conv1", "conv2", "conv3", "conv4"]
    assert third.layers_early == third.layers  # nothing changes after step 0


# --- Output shape, determinism and speed -------------------------------------------------------------


def test_findings_are_json_and_deterministic(probes):
    rng = np.random.default_rng(7)
    layers = {"conv1": (0.2 * rng.standard_normal((6, NUM_PROBES, 28, 28, 3))),
              "conv2": (0.2 * rng.standard_normal((6, NUM_PROBES, 14, 14, 2)))}
    capture = make_capture(layers, probes)
    first = analyse(capture).to_dict()
    second = analyse(capture).to_dict()
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)
    assert [layer["name"] for layer in first["layers"]] == ["conv1", "conv2"]
    assert set(first["run"]) >= {"final_test_accuracy", "plateau", "conclusion_1", "conclusion_2", "conclusion_3"}
    channel = first["layers"][0]["channels"][0]
    assert set(channel) >= {"kind", "copy_r", "edge_r", "best_edge", "edge_side", "spread", "saturated_share",
                            "settle_step", "pattern_step", "linear_r"}


def test_thresholds_are_named_constants_with_explanations():
    rows = thresholds()
    assert "COPY_MIN_R" in rows and "SETTLE_TOLERANCE" in rows and "IDLE_MAX_STD" in rows
    for name, (value, text) in rows.items():
        assert getattr(threshold_registry, name) == value  # each one a module constant of that name
        assert isinstance(text, str) and len(text) > 20


def test_the_appendix_lists_only_thresholds_the_page_uses():
    from report.numbers.thresholds import appendix_rows

    article = {row["name"] for row in appendix_rows()}
    relu_own = appendix_rows(bounded=False, unbounded=True, post=False)  # a user's ReLU model: no tanh, no post
    names = {row["name"] for row in relu_own}
    assert {"IDLE_MAX_STD", "SATURATION_LEVEL", "EARLY_SHARE", "CLAIMED_ACCURACY"} <= article
    assert not names & {"IDLE_MAX_STD", "SATURATION_LEVEL", "EARLY_SHARE", "CLAIMED_ACCURACY", "MAJORITY_SHARE"}
    assert {"IDLE_MAX_SCALE_SHARE", "DEAD_ZERO_SHARE", "COPY_MIN_R", "SETTLE_FLOOR"} <= names
    assert not any("tanh" in row["meaning"] or "conclusion" in row["meaning"] for row in relu_own)


def test_rejects_mismatched_shapes(probes):
    with pytest.raises(ValueError, match="expected activations shaped"):
        analyse_layer("conv1", np.zeros((3, NUM_PROBES, 28, 28)), np.arange(3), probes)
    with pytest.raises(ValueError, match="probe images"):
        analyse_layer("conv1", np.zeros((3, 4, 28, 28, 1)), np.arange(3), probes)


def test_rejects_diverged_runs(probes):
    series = np.zeros((3, NUM_PROBES, 7, 7, 1))
    series[2, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite activations from step 2"):
        analyse_layer("conv5", series, np.arange(3), probes)


def test_full_size_capture_is_fast(probes):
    rng = np.random.default_rng(8)
    count = 291
    layers = {}
    for name, size, width in zip(("conv1", "conv2", "conv3", "conv4", "conv5", "conv6"),
                                 (28, 28, 14, 14, 7, 7), (4, 4, 8, 8, 16, 16)):
        layers[name] = rng.standard_normal((count, NUM_PROBES, size, size, width), dtype=np.float32) * 0.1
    capture = make_capture(layers, probes, train_loss=np.full(290, 2.3))
    start = time.perf_counter()
    findings = analyse(capture)
    assert time.perf_counter() - start < 10.0
    assert findings.last_step == 290 and len(findings.layers) == 6
