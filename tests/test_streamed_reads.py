"""The render and report stages read a layer a block of steps at a time, never whole, and get the numbers the
whole-array formulas give: a guard around each layer fails any read of more than CHUNK_ROWS snapshots, and
the analysis's per-step series are recomputed here from the whole arrays with plain numpy."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from capture.schema import CHUNK_ROWS
from capture.step_blocks import iter_steps, step_blocks, take_steps
from pipeline.scales import channel_ranking, choose_scale
from render.assets import render_capture
from render.encode import RenderSettings
from render.page_data import levels_stride, strided_indices, write_page_data
from report.numbers.analysis import analyse
from tests import explorer_truth as truth
from tests.synthetic_capture import synthetic_capture


class GuardedLayer:
    """A (T, N, H, W, C) layer that serves only small reads and remembers the largest."""

    def __init__(self, values: np.ndarray, limit: int = CHUNK_ROWS):
        self.values, self.limit, self.largest, self.reads = values, limit, 0, 0
        self.shape, self.dtype, self.ndim = values.shape, values.dtype, values.ndim

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, key):
        first = key[0] if isinstance(key, tuple) else key
        rows = len(range(*first.indices(len(self.values)))) if isinstance(first, slice) else np.size(first)
        if first is Ellipsis or rows > self.limit:
            raise AssertionError(f"read {len(self.values) if first is Ellipsis else rows} snapshots at once")
        self.largest, self.reads = max(self.largest, rows), self.reads + 1
        return self.values[key]

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the whole layer was read")


@pytest.fixture(scope="module")
def long_run():
    """A synthetic run of 300 steps (301 snapshots: several blocks) with a tanh, a ReLU and a Dense layer."""
    return synthetic_capture(steps=300, probes=3, layers=("conv1", "conv2", "dense"), widths=(4, 20, 8),
                             sizes=(12, 6, 1), activations=("tanh", "relu", "linear"), origin="builder")


def guarded(capture):
    layers = {name: GuardedLayer(np.asarray(values)) for name, values in capture.activations.items()}
    return dataclasses.replace(capture, activations=layers), layers


@pytest.mark.parametrize("indices", [None, [0, 1, 2], [300, 0, 5, 64, 65, 63, 200, 199, -1], list(range(0, 301, 7))])
def test_step_blocks_give_the_steps_asked_for_in_their_order(long_run, indices):
    values = np.asarray(long_run.activations["conv2"])
    layer = GuardedLayer(values)
    picks = list(range(len(values))) if indices is None else indices
    got = np.stack(list(iter_steps(layer, indices)))
    assert np.array_equal(got, values[picks])
    assert layer.largest <= CHUNK_ROWS
    assert np.array_equal(take_steps(layer, picks, lambda block: block * 2), values[picks] * 2)
    positions = np.concatenate([found for found, _ in step_blocks(layer, indices)])
    assert positions.tolist() == list(range(len(picks)))
    with pytest.raises(IndexError):
        next(step_blocks(layer, [len(values)]))


def test_a_block_is_one_archive_chunk(long_run, tmp_path):
    import h5py

    long_run.save(tmp_path / "capture.h5")
    with h5py.File(tmp_path / "capture.h5", "r") as archive:  # the chunks as HDF5 itself reports them
        dataset = archive["activations/0"]
        rows, count = dataset.chunks[0], len(dataset)
        blocks = [positions.tolist() for positions, _ in step_blocks(dataset)]
    assert blocks == [list(range(start, min(start + rows, count))) for start in range(0, count, rows)]


def test_render_and_analysis_never_read_a_layer_whole(long_run, tmp_path):
    capture, layers = guarded(long_run)
    settings = RenderSettings(gif_budget_bytes=1_000_000, gif_min_frames=4)
    manifest = render_capture(capture, tmp_path / "assets", settings, progress=False)
    findings = analyse(capture)
    assert all(0 < layer.largest <= CHUNK_ROWS for layer in layers.values())
    assert manifest["steps"]["count"] == 301 and len(findings.layers) == 3


def test_streamed_analysis_matches_the_whole_array_formulas(long_run):
    findings = analyse(guarded(long_run)[0])
    for layer in findings.layers:
        values = np.asarray(long_run.activations[layer.name], np.float32)
        count, channels = len(values), values.shape[-1]
        flat = values.reshape(count, -1, channels)  # (T, P, C)
        centred = flat - flat.mean(axis=1, keepdims=True)
        spread = np.sqrt((centred ** 2).mean(axis=1))  # (T, C)
        timeline = layer.timeline
        assert np.allclose(timeline["median_spread"], np.median(spread, axis=1), rtol=1e-5, atol=1e-7)
        assert np.allclose(timeline["max_abs"], np.abs(flat).max(axis=(1, 2)))
        # CKA with the last step, from its definition on centred (P, C) matrices
        last = centred[-1].astype(np.float64)
        cka = [np.linalg.norm(step.astype(np.float64).T @ last) ** 2
               / (np.linalg.norm(step.astype(np.float64).T @ step) * np.linalg.norm(last.T @ last))
               for step in centred]
        assert np.allclose(timeline["cka"], cka, rtol=1e-4, atol=1e-6)
        unit = centred / np.where(spread > 0, spread, 1)[:, None, :] / np.sqrt(flat.shape[1])
        r_final = np.einsum("tpc,pc->tc", unit, unit[-1])
        assert np.allclose(timeline["median_r"], np.median(r_final, axis=1), rtol=1e-4, atol=1e-6)
        if channels > 1:
            pairs = np.abs(np.swapaxes(unit, 1, 2) @ unit)
            upper = np.triu_indices(channels, k=1)
            assert np.allclose(timeline["pair_mean_abs_r"], pairs[:, upper[0], upper[1]].mean(axis=1), atol=1e-5)


def test_a_diverged_step_is_named_though_the_last_step_is_read_first(long_run):
    values = np.array(long_run.activations["conv1"])
    values[130:, 0, 0, 0, 0] = np.nan
    broken = dataclasses.replace(long_run, activations={"conv1": GuardedLayer(values)})
    with pytest.raises(ValueError, match="non-finite activations from step 130"):
        analyse(broken)


def test_the_archive_check_reads_a_layer_a_block_at_a_time_and_names_the_first_non_finite_step(long_run):
    from capture.value_checks import activations_problem

    _, layers = guarded(long_run)
    assert activations_problem({"steps": long_run.steps, **layers}, list(layers)) is None
    assert all(0 < layer.largest <= CHUNK_ROWS for layer in layers.values())  # every layer read, never whole
    values = np.array(long_run.activations["conv2"])
    values[130:, 1, 0, 0, 0] = np.inf
    broken = {"steps": long_run.steps, "conv1": GuardedLayer(np.asarray(long_run.activations["conv1"])),
              "conv2": GuardedLayer(values)}
    problem = activations_problem(broken, ["conv1", "conv2"])
    assert f"layer conv2 has non-finite activations from step {int(long_run.steps[130])} " in problem


def test_page_levels_are_thinned_before_reading_when_they_pass_their_budget(long_run, tmp_path):
    capture, layers = guarded(long_run)
    names = list(layers)
    values = {name: np.asarray(long_run.activations[name]) for name in names}
    per_step = sum(v[0].size for v in values.values())
    budget = 40 * per_step  # room for 40 snapshots of 301
    scales = {name: choose_scale(values[name], act) for name, act in zip(names, ("tanh", "relu", "linear"))}
    rankings = {name: channel_ranking(values[name]) for name in names}
    entry = write_page_data(capture, tmp_path, scales, rankings, levels_budget_bytes=budget,
                            budget_bytes=10_000_000)
    base = levels_stride([v.shape for v in values.values()], budget)
    assert len(strided_indices(301, base)) * per_step <= budget < len(strided_indices(301, base - 1)) * per_step
    assert entry["stride"] == base  # the bytes budget is loose here: the levels budget alone decides
    kept = strided_indices(301, entry["stride"])
    meta = json.loads((tmp_path / entry["meta"]["path"]).read_text())
    for name in names:
        scale = max(abs(end) for end in scales[name]["domain"])
        want, exponents = truth.run_levels(values[name][kept], scale)  # (T', N, H, W, C)
        assert next(layer for layer in meta["layers"] if layer["name"] == name)["exponents"] == exponents
        groups = [sorted(rankings[name][i:i + 16]) for i in range(0, len(rankings[name]), 16)]
        for g, channels_of in enumerate(groups):
            for probe in range(3):
                path = tmp_path / f"explore-{name}-{probe}-{g}.js"
                _, _, _, decoded = truth.read_chunk(path, meta)
                expected = want[:, probe][..., channels_of].transpose(0, 3, 1, 2).reshape(len(kept), -1)
                assert (decoded == expected).all(), (name, probe, g)
    assert all(layer.largest <= CHUNK_ROWS for layer in layers.values())


def test_a_long_runs_videos_show_the_explorers_snapshots(long_run, tmp_path, monkeypatch):
    import imageio_ffmpeg

    from render import page_data

    per_step = sum(np.asarray(values[0]).size for values in long_run.activations.values())
    monkeypatch.setattr(page_data, "LEVELS_BUDGET_BYTES", 40 * per_step)
    capture, _ = guarded(long_run)
    manifest = render_capture(capture, tmp_path, progress=False)
    stride = manifest["explore"]["stride"]
    kept = strided_indices(301, stride)
    assert stride > 1 and manifest["explore"]["steps_shown"] == len(kept)
    for layer in manifest["layers"]:
        mp4 = layer["files"]["mp4"]
        assert mp4["stride"] == stride and mp4["frames"] == len(kept)
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / mp4["path"]))
        assert frames == len(kept)


def test_the_article_says_which_snapshots_a_long_runs_page_and_videos_keep(tmp_path, monkeypatch):
    from render import page_data
    from report.words.wording import ordinal
    from tests.helpers import build_site, page_text

    capture = synthetic_capture(steps=1100, probes=2, layers=("conv1", "conv2"), widths=(4, 4), sizes=(6, 3),
                                activations=("tanh", "relu"), origin="builder")
    per_step = sum(np.asarray(values[0]).size for values in capture.activations.values())
    monkeypatch.setattr(page_data, "LEVELS_BUDGET_BYTES", 100 * per_step)
    text = page_text(build_site(capture, tmp_path))
    manifest = json.loads((tmp_path / "build" / "assets" / "manifest.json").read_text())
    stride = manifest["explore"]["stride"]
    kept = len(strided_indices(1101, stride))
    assert stride > 1 and kept <= 100
    assert (f"The explorer holds every {ordinal(stride)} of the run's 1,101 snapshots ({kept:,}, the first and "
            f"last among them)") in text
    assert f"MP4 video, every {ordinal(stride)} snapshot" in text
    assert "has every step" not in text
