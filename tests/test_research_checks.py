"""Tests for report/numbers/analysis_settling.py and report/numbers/research_checks.py on analysis series with
planted answers: settling steps, bootstrap intervals, depth order, the loss drop and the speed of change.

Run: .venv/bin/python -m pytest tests/test_research_checks.py -q
"""

import numpy as np
import pytest

from report.numbers.analysis_settling import percentile_interval, settling_from_series
from report.numbers.research_checks import (
    average_ranks,
    change_done,
    layer_research,
    loss_drop,
    run_research,
    spearman,
)
from report.numbers.thresholds import SETTLED_MIN_CKA

STEPS = np.arange(0, 1001, 20)  # a 51-point grid, every 20 steps, like a 1,000-step run's
RESAMPLES = 200


def ramp(steps: np.ndarray, reach: float, top: float = 1.0) -> np.ndarray:
    """A CKA curve through SETTLED_MIN_CKA exactly at `reach`, capped at `top` (below the bar: it never settles)."""
    return np.minimum(top, SETTLED_MIN_CKA * (steps / reach))


def layer_series(pattern_steps, contrast_step: int = 100, steps: np.ndarray = STEPS, never=None,
                 channel_settle=(100, 300, 500, 700), channel_pattern=(60, 200, 400, 900)) -> dict:
    """Analysis series whose row b settles its pattern at pattern_steps[b] (never where `never[b]`), whose
    median spread reaches half its final value at `contrast_step`, and whose channels settle and find their
    pattern at the planted steps."""
    rows = len(pattern_steps)
    never = np.zeros(rows, bool) if never is None else np.asarray(never)
    cka = np.stack([ramp(steps, reach, 0.8 if stuck else 1.0) for reach, stuck in zip(pattern_steps, never)])
    spread_share = np.minimum(1.0, 0.5 * steps / contrast_step)  # half the final spread exactly at contrast_step
    scales = np.array([1.0, 2.0, 0.5, 0.001])  # the last channel is faint: SETTLE_FLOOR sets its tolerance
    spread = spread_share[:, None] * scales[None]
    after = steps[:, None] >= np.asarray(channel_settle)[None]
    rms = np.where(after, 0.05 * np.maximum(scales, 0.1)[None], 1.0)  # within both tolerances once settled
    r = np.where(steps[:, None] >= np.asarray(channel_pattern)[None], 0.99, 0.5)
    return {"cka_final": cka, "cka_next": np.ones((rows, len(steps))), "pc1_share": np.full((rows, len(steps)), 0.3),
            "channel_r": r, "channel_rms": rms, "channel_spread": spread}


def jittered(centre: int, spread_grid_steps: float, seed: int, steps: np.ndarray = STEPS) -> np.ndarray:
    """Row 0 settles at `centre`; resamples at grid steps jittered around it by a planted normal spread."""
    rng = np.random.default_rng(seed)
    every = int(steps[1] - steps[0])
    offsets = np.rint(rng.normal(0.0, spread_grid_steps, RESAMPLES)).astype(int) * every
    return np.concatenate([[centre], np.clip(centre + offsets, steps[1], steps[-1])])


# --- Settling on the analysis set ------------------------------------------------------------------------


def test_late_layer_settles_at_its_planted_step_inside_its_interval():
    planted = jittered(800, 2.0, seed=1)
    settled = settling_from_series(layer_series(planted, contrast_step=100), STEPS)
    assert (settled.pattern_step, settled.contrast_step, settled.settled_step) == (800, 100, 800)
    assert settled.resampled_settled == planted[1:].tolist()  # contrast (100) is earlier than every pattern
    low, high = settled.settle_step_ci
    assert low <= 800 <= high and low < high
    assert low in settled.resampled_settled and high in settled.resampled_settled  # observed grid steps
    assert [low, high] == [int(np.percentile(planted[1:], 2.5, method="lower")),
                           int(np.percentile(planted[1:], 97.5, method="higher"))]
    assert settled.never_share == 0.0 and settled.grid_every == 20 and settled.last_step == 1000


def test_early_layer_settles_by_its_contrast_when_that_comes_later():
    settled = settling_from_series(layer_series(jittered(100, 1.0, seed=2), contrast_step=240), STEPS)
    assert (settled.pattern_step, settled.contrast_step, settled.settled_step) == (100, 240, 240)
    # Every resampled pattern step lies below 240 + jitter, so the contrast step bounds the interval below.
    assert settled.settle_step_ci[0] == 240 and settled.settle_step_ci[1] <= 240 + 4 * 20


def test_noisier_resamples_widen_the_interval():
    widths = []
    for spread in (0.5, 2.0, 5.0):
        low, high = settling_from_series(layer_series(jittered(600, spread, seed=3)), STEPS).settle_step_ci
        assert low <= 600 <= high
        widths.append(high - low)
    assert widths[0] < widths[1] < widths[2]


def test_coin_flip_resamples_that_never_settle_give_never_share_one_half():
    rng = np.random.default_rng(4)
    never = np.concatenate([[False], rng.random(RESAMPLES) < 0.5])
    settled = settling_from_series(layer_series(np.full(RESAMPLES + 1, 400), never=never), STEPS)
    assert settled.never_share == pytest.approx(never[1:].mean())
    assert abs(settled.never_share - 0.5) < 0.1
    assert settled.settled_step == 400 and settled.settle_step_ci == [400, 1000]  # "never" counts as the end
    assert sorted(set(settled.resampled_settled)) == [400, 1000]


def test_full_set_that_never_settles_has_no_pattern_step():
    settled = settling_from_series(layer_series(np.full(5, 400), never=[True] * 5), STEPS)
    assert settled.pattern_step is None and settled.settled_step is None
    assert settled.never_share == 1.0 and settled.settle_step_ci == [1000, 1000]


def test_channel_steps_follow_the_probe_rules():
    settled = settling_from_series(layer_series(np.full(3, 400)), STEPS)
    assert settled.channel_settle_steps == [100, 300, 500, 700]
    assert settled.channel_pattern_steps == [60, 200, 400, 900]
    series = layer_series(np.full(3, 400))
    series["channel_rms"][-1, 0] = 5.0  # channel 0 is off its final map at the end: the last step, as on the probes
    assert settling_from_series(series, STEPS).channel_settle_steps[0] == 1000


def test_wrong_shapes_are_refused_by_name():
    series = layer_series(np.full(3, 400))
    series["pc1_share"] = series["pc1_share"][:, :-1]
    with pytest.raises(ValueError, match="pc1_share"):
        settling_from_series(series, STEPS)
    with pytest.raises(ValueError, match="channel_spread"):
        settling_from_series({**layer_series(np.full(3, 400)), "channel_spread": np.ones((3, 3))}, STEPS)


def test_no_resamples_give_an_empty_interval():
    settled = settling_from_series(layer_series([400]), STEPS)
    assert settled.settle_step_ci == [None, None] and settled.resampled_settled == []
    assert percentile_interval([None, None]) == [None, None]
    # Steps: observed values, widened outwards (positions 0.225 and 8.775 of ten values).
    assert percentile_interval(range(0, 100, 10), whole=True) == [0, 90]
    assert percentile_interval(range(0, 100, 10)) == pytest.approx([2.25, 87.75])


# --- Layer research ----------------------------------------------------------------------------------------


def test_change_done_matches_a_hand_computation():
    steps = np.arange(0, 1001, 100)
    cka = np.array([[0.2, 0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 1.0, 1.0, 1.0]])
    # change = 1 - cka: 0.8 at step 0; 0.5 at step 100 (10%); at step 250 halfway between 0.2 and 0.1 = 0.15.
    assert change_done(cka, steps, 0.10)[0] == pytest.approx((0.8 - 0.5) / 0.8)
    assert change_done(cka, steps, 0.25)[0] == pytest.approx((0.8 - 0.15) / 0.8)
    assert change_done(np.ones((1, len(steps))), steps, 0.10) == [None]  # no change at all


def test_layer_research_reads_change_dimensionality_and_speed():
    steps = np.array([0, 100, 200, 300, 400, 410, 600, 800, 1000])
    rows = RESAMPLES + 1
    series = layer_series(np.full(rows, 400), steps=steps)
    # cka_final: rows differ by a planted offset, so the change shares have a known spread.
    base = np.array([0.2, 0.5, 0.8, 0.9, 0.95, 0.96, 0.98, 0.99, 1.0])
    noise = np.concatenate([[0.0], np.random.default_rng(5).normal(0, 0.02, RESAMPLES)])
    series["cka_final"] = np.clip(base[None] + noise[:, None] * (1 - base[None]), 0, 1)
    # Speed: 1 - cka_next = 0.2 over the 200 steps to 600 (0.001 a step) loses to 0.05 over the 10 to 410.
    cka_next = np.full((rows, len(steps)), 0.999)
    cka_next[:, 0], cka_next[:, 6], cka_next[:, 5] = 1.0, 0.8, 0.95
    series["cka_next"] = cka_next
    pc1 = np.tile([0.3, 0.5, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3], (rows, 1))
    pc1[1:, -1] += np.random.default_rng(6).normal(0, 0.01, RESAMPLES)
    series["pc1_share"] = pc1
    research = layer_research(series, steps)
    assert research.change_done_10 == pytest.approx((0.8 - 0.5) / 0.8)
    assert research.change_done_25 == pytest.approx((0.8 - 0.15) / 0.8)
    low, high = research.change_done_10_ci
    assert low < research.change_done_10 < high
    assert research.pc1_peak_step == 200 and research.pc1_peak_share == pytest.approx(0.7)
    assert research.pc1_share_end == pytest.approx(0.3)
    assert research.pc1_share_end_ci[0] < 0.3 < research.pc1_share_end_ci[1]
    assert research.speed_peak_step == 410 and research.speed_peak_step_ci == [410, 410]
    assert len(research.resampled_speed_peak) == RESAMPLES


# --- Run research --------------------------------------------------------------------------------------------


def research_layers(pattern_centres, spread=0.5, speed_peaks=None):
    """Layers in depth order settling near the planted steps (contrast early), speed peaking at planted steps."""
    layers = []
    for depth, centre in enumerate(pattern_centres):
        series = layer_series(jittered(centre, spread, seed=10 + depth), contrast_step=40)
        if speed_peaks is not None:
            where = int(np.searchsorted(STEPS, speed_peaks[depth]))
            series["cka_next"][:, where] = 0.5
        layers.append((f"conv{depth + 1}", layer_research(series, STEPS), settling_from_series(series, STEPS)))
    return layers


def test_layers_settling_in_depth_order_give_spearman_one_and_reversed_minus_one():
    forward = run_research(research_layers([200, 400, 600, 800]), np.full(1000, 2.3), 1000)
    assert forward.depth_settle_spearman == pytest.approx(1.0)
    assert forward.depth_settle_spearman_ci == pytest.approx([1.0, 1.0])
    backward = run_research(research_layers([800, 600, 400, 200]), np.full(1000, 2.3), 1000)
    assert backward.depth_settle_spearman == pytest.approx(-1.0)
    assert backward.depth_settle_spearman_ci == pytest.approx([-1.0, -1.0])
    two = run_research(research_layers([200, 400]), np.full(1000, 2.3), 1000)
    assert two.depth_settle_spearman is None and two.depth_settle_spearman_ci == [None, None]


def counted_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks by counting: the values below, plus the middle of the tied block (no sorting)."""
    return np.array([(values < value).sum() + ((values == value).sum() + 1) / 2 for value in values])


def test_spearman_agrees_with_an_independent_formula():
    # scipy is not in the venv: average ranks by counting and Pearson on them, and the no-ties d^2 formula.
    rng = np.random.default_rng(7)
    for _ in range(50):
        size = int(rng.integers(3, 12))
        x, y = rng.integers(0, 5, size), rng.integers(0, 5, size)  # many ties
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            assert spearman(x, y) is None
            continue
        assert spearman(x, y) == pytest.approx(np.corrcoef(counted_ranks(x), counted_ranks(y))[0, 1])
        distinct_x, distinct_y = rng.permutation(size), rng.permutation(size)
        d = (np.argsort(np.argsort(distinct_x)) - np.argsort(np.argsort(distinct_y))).astype(float)
        assert spearman(distinct_x, distinct_y) == pytest.approx(1 - 6 * (d ** 2).sum() / (size * (size ** 2 - 1)))
    np.testing.assert_allclose(average_ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2])


def test_loss_drop_is_found_within_the_window():
    total = 1000
    step = np.arange(1, total + 1)  # train_loss[k] is the loss of step k + 1
    noise = np.random.default_rng(8).normal(0, 0.02, total)
    loss = 2.3 - 2.0 / (1 + np.exp(-(step - 600) / 10)) + noise
    found, window = loss_drop(loss, total)
    assert window == 20 and abs(found - 600) <= window
    assert loss_drop(loss - noise, total)[0] == 600  # noiseless and symmetric: the slope is placed on its centre
    cliff = np.where(step < 600, 2.3, 0.3)
    found, _ = loss_drop(cliff, total)
    assert abs(found - 600) <= window // 2
    assert loss_drop(loss[:10], total) == (None, 20)
    assert loss_drop(np.full(100, 2.3), 100)[1] == 5  # the window never falls below 5 steps


def test_speed_lag_is_the_speed_peak_minus_the_loss_drop():
    step = np.arange(1, 1001)
    cliff = np.where(step < 600, 2.3, 0.3)
    drop, _ = loss_drop(cliff, 1000)
    run = run_research(research_layers([200, 400, 600], speed_peaks=[600, 640, 700]), cliff, 1000)
    assert run.loss_drop_step == drop and run.loss_window == 20
    assert run.speed_lag == {"conv1": 600 - drop, "conv2": 640 - drop, "conv3": 700 - drop}
    assert run.speed_lag_ci["conv2"] == [640 - drop, 640 - drop]
    assert run.median_speed_lag == 640 - drop and run.median_speed_lag_ci == pytest.approx([640 - drop] * 2)


def test_layers_with_different_resample_counts_are_refused():
    layers = research_layers([200, 400, 600])
    short = layer_series(np.full(5, 400))
    layers.append(("conv4", layer_research(short, STEPS), settling_from_series(short, STEPS)))
    with pytest.raises(ValueError, match="resamples"):
        run_research(layers, np.full(1000, 2.3), 1000)
