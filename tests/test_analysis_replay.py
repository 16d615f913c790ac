"""The analysis set (issue 21, docs/analysis-set.md): chosen, snapshotted, replayed and stored truthfully.

Real short Keras runs (6 steps of 32 bundled images): the replayed final activations equal a fresh forward pass
of the saved model, a replay of the probes at a grid step equals what the recorder captured at that step, the
set is stratified, seeded and disjoint from the probes, two runs store the same bytes, and the statistics
agree with a brute-force computation from n x n Gram matrices.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from capture.archive import Capture
from capture.bootstrap import resample_counts
from capture.replay_stats import LayerSeries, cka, hsic
from capture.schema import CaptureError
from model.analysis_replay import Replayer, WeightSnapshots, choose_analysis_set, grid_steps, replay
from model.data import load_bundled
from model.stage import run as run_capture
from model.train import to_inputs, train
from pipeline.config import Config
from pipeline.layout import Layout

SHORT = dict(dataset="bundled", steps=6, batch_size=32, test_every=3, test_subset=200, analysis_images=300,
             bootstrap=40)


@pytest.fixture(scope="module")
def dataset():
    return load_bundled(Config(dataset="bundled"))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    run_capture(Config(**SHORT), Layout(build, build.parent / "site"), progress=False)
    return build, Capture.load(build / "capture.h5")


def test_final_activations_equal_a_fresh_forward_pass_of_the_saved_model(short_run):
    build, capture = short_run
    analysis = capture.analysis
    assert analysis.steps.tolist() == list(range(7)) and capture.meta["analysis"]["images"] == 300
    model = keras.saving.load_model(build / "model.keras")
    extractor = keras.Model(model.inputs, [model.get_layer(name).output for name in capture.layer_names])
    fresh = extractor.predict(to_inputs(analysis.images), verbose=0)
    for name, expected in zip(capture.layer_names, fresh):
        np.testing.assert_allclose(analysis.final[name].astype(np.float32), expected, atol=2e-3, rtol=0,
                                   err_msg=name)
        series = analysis.series[name]
        assert series["cka_final"].shape == (41, 7) and series["channel_r"].shape == (7, expected.shape[-1])
        np.testing.assert_allclose(series["cka_final"][:, -1], 1.0)  # the last step against itself
        np.testing.assert_allclose(series["channel_rms"][-1], 0.0, atol=1e-6)  # from sums: rounding


def test_replaying_the_probes_at_a_grid_step_gives_the_recorded_snapshot(dataset):
    config = Config(**{**SHORT, "analysis_images": 20, "bootstrap": 2})
    grid = grid_steps(config)
    snapshots = WeightSnapshots(grid)
    trained = train(config, dataset, progress=False, extra_callbacks=[snapshots])
    snapshots.finish(trained.model)
    capture, model = trained.capture, trained.model
    final = model.get_weights()
    probes = to_inputs(capture.probe_images)
    shapes = {name: values.shape[2:] for name, values in capture.activations.items()}
    with Replayer(model, capture.layer_names, shapes, probes) as replayer:
        for step in (0, 3, 6):
            model.set_weights(snapshots.snapshots[step])
            replayed = replayer.activations(probes)
            for name in capture.layer_names:
                np.testing.assert_allclose(replayed[name], capture.activations[name][step].astype(np.float32),
                                           atol=2e-3, rtol=1e-3, err_msg=f"{name} at step {step}")
    model.set_weights(final)
    _, series = replay(model, capture.layer_names, shapes, snapshots.snapshots, probes, resample_counts(0, 10, 3))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), final))  # put back exactly
    assert series["conv1"]["cka_next"].shape == (4, len(grid))


def test_the_set_is_stratified_seeded_and_disjoint_from_the_probes(dataset):
    config = Config(dataset="bundled")
    chosen = choose_analysis_set(dataset, config, dataset.probe_indices)
    assert len(chosen) == 1000 and np.all(np.diff(chosen) > 0) and chosen.dtype == np.int32
    assert not np.isin(chosen, dataset.probe_indices).any()
    assert np.bincount(dataset.y_test[chosen]).tolist() == [100] * 10
    np.testing.assert_array_equal(chosen, choose_analysis_set(dataset, config, dataset.probe_indices))
    other = choose_analysis_set(dataset, dataclasses.replace(config, seed=1), dataset.probe_indices)
    assert not np.array_equal(chosen, other)
    # a class too small for its share gives all it has; the rest goes to the others, the remainder to the largest
    labels = np.array([0] * 3 + [1] * 50 + [2] * 40)
    small = choose_analysis_set(SimpleNamespace(y_test=labels), dataclasses.replace(config, analysis_images=30), [4])
    assert np.bincount(labels[small]).tolist() == [3, 14, 13] and 4 not in small
    every = choose_analysis_set(SimpleNamespace(y_test=labels), config, [4])
    assert len(every) == len(labels) - 1


def unbiased_hsic(x: np.ndarray, y: np.ndarray) -> float:
    """Song et al. (2012) from the n x n Gram matrices with zeroed diagonals."""
    n = len(x)
    k, m = x @ x.T, y @ y.T
    np.fill_diagonal(k, 0)
    np.fill_diagonal(m, 0)
    one = np.ones(n)
    return (np.trace(k @ m) + (one @ k @ one) * (one @ m @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * one @ k @ m @ one) / (n * (n - 3))


def test_statistics_agree_with_brute_force_gram_matrices():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 3, 3, 4)) + 2, rng.normal(size=(6, 3, 3, 4)) * 3 - 1
    weights = np.array([[1] * 6, [2, 0, 1, 3, 0, 0], [0, 0, 0, 6, 0, 0]])  # the last: one image six times
    series = LayerSeries(y, weights, 2)
    series.add(x)
    series.add(y)
    for row, counts in enumerate(weights[:2]):
        rows = np.repeat(np.arange(6), counts)  # the resample materialised as repeated images
        xs, ys = x[rows].reshape(-1, 4), y[rows].reshape(-1, 4)
        expected = unbiased_hsic(xs, ys)
        assert abs(hsic(x, y, counts[np.newaxis])[0] - expected) < 1e-9
        expected_cka = expected / np.sqrt(unbiased_hsic(xs, xs) * unbiased_hsic(ys, ys))
        assert abs(series.series["cka_final"][row, 0] - expected_cka) < 1e-9
        assert abs(series.series["cka_next"][row, 1] - expected_cka) < 1e-9
        eigenvalues = np.linalg.eigvalsh(np.cov(xs.T, bias=True))
        assert abs(series.series["pc1_share"][row, 0] - eigenvalues[-1] / eigenvalues.sum()) < 1e-9
    flat_x, flat_y = x.reshape(-1, 4), y.reshape(-1, 4)
    np.testing.assert_allclose(series.series["channel_r"][0],
                               [np.corrcoef(flat_x[:, c], flat_y[:, c])[0, 1] for c in range(4)], atol=1e-12)
    np.testing.assert_allclose(series.series["channel_rms"][0], np.sqrt(((flat_x - flat_y) ** 2).mean(0)))
    np.testing.assert_allclose(series.series["channel_spread"][0], flat_x.std(0))
    rotation = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    for other in (x, x @ rotation * 3 + 5):
        np.testing.assert_allclose(cka(hsic(x, other, weights[:2]), hsic(x, x, weights[:2]),
                                       hsic(other, other, weights[:2])), 1.0, atol=1e-12)


def test_resample_counts_are_deterministic_with_a_full_first_row():
    counts = resample_counts(7, 50, 20)
    assert counts.shape == (21, 50) and counts.dtype == np.int32
    assert (counts[0] == 1).all() and (counts.sum(axis=1) == 50).all()
    np.testing.assert_array_equal(counts, resample_counts(7, 50, 20))
    assert not np.array_equal(counts, resample_counts(8, 50, 20))


def test_two_identical_captures_store_the_same_analysis(short_run, tmp_path):
    build, first = short_run
    run_capture(Config(**SHORT), Layout(tmp_path, tmp_path.parent / "site"), progress=False)
    assert (tmp_path / "capture.h5").read_bytes() == (build / "capture.h5").read_bytes()


def test_the_group_is_optional_and_checked(short_run, tmp_path):
    _, capture = short_run
    whole = {**capture.__dict__, "activations": {name: np.asarray(values) for name, values in
                                                 capture.activations.items()}}
    Capture(**{**whole, "analysis": None}).save(tmp_path / "none.h5")
    assert Capture.load(tmp_path / "none.h5").analysis is None
    series = {name: dict(layer) for name, layer in capture.analysis.series.items()}
    series["conv2"]["cka_next"] = series["conv2"]["cka_next"].copy()
    series["conv2"]["cka_next"][0, 2] = np.nan
    broken = dataclasses.replace(capture.analysis, series=series)
    Capture(**{**whole, "analysis": broken}).save(tmp_path / "nan.h5")
    with pytest.raises(CaptureError, match="analysis cka_next of layer conv2"):
        Capture.load(tmp_path / "nan.h5")
    probe = int(capture.meta["dataset"]["probe_indices"][0])
    indices = np.sort(np.concatenate([capture.analysis.indices[1:], [probe]])).astype(np.int32)
    Capture(**{**whole, "analysis": dataclasses.replace(capture.analysis, indices=indices)}).save(tmp_path / "p.h5")
    with pytest.raises(CaptureError, match="include a probe"):
        Capture.load(tmp_path / "p.h5")
