"""Labels measured on the analysis set, their bootstrap stability and the conclusions' variants (issue 21).

Synthetic analysis records whose channels are known by construction: an exact copy of the input, a Sobel edge
of it, a near-duplicate pair given different labels, a channel whose copy r sits exactly at the layer's copy bar
(COPY_MIN_R, or what random positive blurs reach where higher: a coin flip under resampling), and a 7x7 channel
that copies the max-pooled input but not the mean-pooled one. The planted channels are drawn on noise images, where
a random positive 3x3 blur is no copy (its |r| with the input stays far below COPY_MIN_R), so the bar is COPY_MIN_R
and no channel other than the exact copy is a near-duplicate of it.
Independent recomputations use np.corrcoef and a materialised resample (np.repeat of the images).
"""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from capture.analysis_record import AnalysisRecord
from report.numbers.analysis import LayerAnalysis, LayerContext, analyse, analyse_layer
from report.numbers.channel_kinds import LabelInputs, LabelRule, kind_codes, label_channel
from report.numbers.checks import HOLDS, PARTLY
from report.numbers.conclusions import conclusion_2
from report.numbers.filters import fit_filters
from report.numbers.findings import CHANNEL_KINDS, Findings
from report.numbers.receptive_fields import Window
from report.numbers.reference_maps import area_pool, correlate_same, input_maps
from report.numbers.robust.baseline import layer_baselines
from report.numbers.robust.final_measures import MeasureSetup, measure_final
from report.numbers.robust.stability import resampled_inputs
from report.numbers.thresholds import COPY_MIN_R, KIND_SURE_SHARE
from tests.analysis_fixtures import make_probes

IMAGES, RESAMPLES, SEED = 400, 200, 3
SOBEL_VERTICAL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)


def _unit(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean()
    return centred / np.linalg.norm(centred)


def _orthogonal_noise(rng, shape, against: list[np.ndarray]) -> np.ndarray:
    """Return unit pixel noise orthogonal (over all images x positions) to the constant and the given unit maps."""
    noise = rng.normal(size=shape).ravel()
    basis = [np.ones(noise.size) / np.sqrt(noise.size)] + [item.ravel() for item in against]
    for _ in range(2):  # twice, for round-off
        for vector in basis:
            noise -= (noise @ vector) * vector
    return (noise / np.linalg.norm(noise)).reshape(shape)


def noise_images(seed: int, count: int) -> np.ndarray:
    """Draw (count, 28, 28) uint8 images of independent uniform pixels."""
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28)).astype(np.uint8)


def copy_bar_at_28(images: np.ndarray) -> float:
    """Return the copy bar of a 28x28 layer with a 3x3 window on these images (report/numbers/robust/baseline.py)."""
    return layer_baselines(images, Window(3, 1, -1), 28, 28, {"mean": input_maps(images, 28, 28)})["mean"].copy_bar


def planted_maps(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Return (N, 28, 28, 5) maps: copy, vertical edge, a near-duplicate pair (copy r 0.02 above and below the
    layer's copy bar), a coin flip (copy r at the bar)."""
    rng = np.random.default_rng(seed)
    bar = copy_bar_at_28(images)
    scaled = images.astype(np.float64) / 255.0
    refs = input_maps(images, 28, 28)
    copy = _unit(refs["copy"])
    edges = [_unit(refs[kind]) for kind in refs if kind != "copy"]
    v = _orthogonal_noise(rng, scaled.shape, [copy] + edges)
    w = _orthogonal_noise(rng, scaled.shape, [copy, v] + edges)
    z = _orthogonal_noise(rng, scaled.shape, [copy, v, w] + edges)
    size = np.sqrt(copy.size) * 0.2  # unit vectors scaled to a spread of 0.2
    high, low = bar + 0.02, bar - 0.02
    first = high * copy + np.sqrt(1 - high ** 2) * v
    second = low * copy + 0.9 * np.sqrt(1 - low ** 2) * v + np.sqrt(0.19 * (1 - low ** 2)) * w  # |r| >= 0.9 with first
    coin = bar * copy + np.sqrt(1 - bar ** 2) * z
    return np.stack([scaled, 0.25 * correlate_same(scaled, SOBEL_VERTICAL), size * first, size * second,
                     size * coin], axis=-1)


def _context(final: np.ndarray, images: np.ndarray, series=None, steps=None, **options) -> LayerContext:
    record = AnalysisRecord(indices=np.arange(len(images)), images=images, labels=np.zeros(len(images), np.int32),
                            steps=np.array([0, 1, 2]), resamples=RESAMPLES, seed=SEED)
    channels = final.shape[-1]
    series = series or _series(channels, np.array([0, 1, 2]))
    return LayerContext(analysis=LayerAnalysis(final=final.astype(np.float16), images=images,
                                               counts=record.counts(), series=series,
                                               steps=np.array([0, 1, 2]) if steps is None else steps), **options)


def _series(channels: int, steps: np.ndarray, settle_at: int = 1) -> dict:
    """Return analysis series of a layer whose CKA with its last step reaches 1 at grid index `settle_at`."""
    grid = len(steps)
    cka = np.where(np.arange(grid) >= settle_at, 1.0, 0.2)[None].repeat(RESAMPLES + 1, axis=0)
    channel = np.where(np.arange(grid) >= settle_at, 1.0, 0.2)[:, None].repeat(channels, axis=1)
    return {"cka_final": cka, "cka_next": cka.copy(), "pc1_share": np.full((RESAMPLES + 1, grid), 0.4),
            "channel_r": channel, "channel_rms": 1 - channel, "channel_spread": np.full((grid, channels), 0.2)}


@pytest.fixture(scope="module")
def planted():
    images = noise_images(seed=11, count=IMAGES)
    probes = noise_images(seed=12, count=10)
    final = planted_maps(images)
    probe_series = np.repeat(planted_maps(probes, seed=1)[None], 3, axis=0).astype(np.float16)
    context = _context(final, images, window=Window(3, 1, -1), window_source="model")
    layer = analyse_layer("conv1", probe_series, np.arange(3), probes, context)
    return SimpleNamespace(images=images, final=final.astype(np.float16).astype(np.float64), layer=layer,
                           counts=context.analysis.counts)


def test_a_copy_and_an_edge_are_labelled_by_their_filter_and_sure(planted):
    copy, edge = planted.layer.channels[:2]
    assert (copy.kind, copy.kind_basis, copy.kind_stability, copy.kind_sure) == ("copy", "filter", 1.0, True)
    assert (edge.kind, edge.kind_basis, edge.kind_stability, edge.kind_sure) == ("edge", "filter", 1.0, True)
    assert edge.edge_scale_px == 3 and copy.edge_scale_px is None
    assert not copy.kind_borderline and copy.kind_alternative is None and copy.kind_on_probes == "copy"


def test_near_duplicates_with_different_kinds_are_both_unsure(planted):
    first, second = planted.layer.channels[2:4]
    assert (first.kind_basis, second.kind_basis) == ("correlation", "correlation")
    assert first.kind == "copy" and second.kind == "other"
    assert abs(planted.layer.pair_r[2][3]) >= 0.9
    assert first.duplicate_conflicts == [3] and second.duplicate_conflicts == [2]
    # Every resample agrees on each label, so the alternative named is the near-duplicate's kind.
    for channel, other in ((first, "other"), (second, "copy")):
        assert channel.kind_stability == 1.0 and channel.kind_runner_up is None
        assert not channel.kind_sure and channel.kind_borderline and channel.kind_alternative == other


def test_a_copy_r_at_its_threshold_is_a_coin_flip(planted):
    coin = planted.layer.channels[4]
    assert planted.layer.copy_baseline.copy_bar == COPY_MIN_R > planted.layer.copy_baseline.copy_high
    assert coin.copy_r == pytest.approx(COPY_MIN_R, abs=1e-3)
    assert 0.2 < coin.kind_stability < 0.8 and not coin.kind_sure
    assert coin.kind_runner_up in {"copy", "other"} - {coin.kind}
    assert coin.kind_stability + coin.kind_runner_up_share == pytest.approx(1.0)
    assert coin.kind_alternative == coin.kind_runner_up and coin.kind_borderline
    assert KIND_SURE_SHARE == 0.9


def test_copy_r_recomputes_with_corrcoef_and_one_resample_by_repeating_images(planted):
    """An independent recomputation: the full set with np.corrcoef, resample b by materialising it."""
    pooled = planted.images.astype(np.float64) / 255.0  # 28x28: the pooled input is the input itself
    for c, channel in enumerate(planted.layer.channels):
        direct = np.corrcoef(planted.final[..., c].ravel(), pooled.ravel())[0, 1]
        assert abs(channel.copy_r - direct) < 1e-9
    setup = MeasureSetup("conv1", Window(3, 1, -1), "model", False, True, 0.03)
    measures = measure_final(planted.final, planted.images, setup)
    b = 17
    resampled = resampled_inputs(measures, planted.counts[[b]])
    repeats = planted.counts[b]
    for c in range(planted.final.shape[-1]):
        x = np.repeat(planted.final[..., c], repeats, axis=0).ravel()
        y = np.repeat(pooled, repeats, axis=0).ravel()
        assert abs(resampled.copy_abs[0, c] - abs(np.corrcoef(x, y)[0, 1])) < 1e-9
        assert abs(resampled.spread[0, c] - x.std()) < 1e-9


def test_the_bootstrap_fit_r_is_the_full_fit_r_in_row_zero(planted):
    setup = MeasureSetup("conv1", Window(3, 1, -1), "model", False, True, 0.03)
    measures = measure_final(planted.final, planted.images, setup)
    full = resampled_inputs(measures, planted.counts[:1])
    assert np.allclose(full.fit_r[0], [fit.fit_r for fit in measures.fits], atol=1e-9)
    assert np.allclose(full.copy_abs[0], np.abs(measures.copy_r), atol=1e-9)


def test_kind_codes_agree_with_label_channel():
    rng = np.random.default_rng(0)
    copy, edge = rng.uniform(-1, 1, 400), rng.uniform(-1, 1, 400)
    spread, saturated = rng.uniform(0, 0.1, 400), rng.uniform(0.8, 1, 400)
    inputs = LabelInputs(np.abs(copy), np.abs(edge), spread, saturated, None, None, None, None)
    codes = kind_codes(inputs)[0]
    for i in range(400):
        expected = label_channel(copy[i], edge[i], spread[i], saturated[i]).kind
        assert CHANNEL_KINDS[codes[i]] == expected
    moved = kind_codes(LabelInputs(np.array([0.71]), np.array([0.0]), np.array([1.0]), None, None, None, None, None),
                       LabelRule(copy_min_r=0.72))
    assert CHANNEL_KINDS[moved[0, 0]] == "other"


def test_k_fold_fits_every_layer_on_many_images():
    images = make_probes(seed=5, count=120)
    maps = area_pool(images.astype(np.float64) / 255.0, 7, 7)[..., None]  # a blurred copy at 7x7
    fits = fit_filters(maps, images, Window(24, 4, -10))
    assert fits is not None and fits[0].fit_r > 0.95 and not fits[0].in_sample
    assert fit_filters(maps[:10], images[:10], Window(24, 4, -10)) is None  # ten probes are too few


def _max_pool_layer(images: np.ndarray) -> np.ndarray:
    """Return a 7x7 channel that copies the max-pooled input (r >= 0.8) but not the mean-pooled one (r 0.6)."""
    scaled = images.astype(np.float64) / 255.0
    biggest, average = _unit(area_pool(scaled, 7, 7, "max")), _unit(area_pool(scaled, 7, 7))
    rho = float((biggest * average).sum())
    # (rho - a)^2 = 0.36 (1 - 2 a rho + a^2): the smaller root gives r 0.6 with the mean-pooled input.
    a2, a1, a0 = 1 - 0.36, -2 * rho + 0.72 * rho, rho ** 2 - 0.36
    alpha = (-a1 - np.sqrt(a1 * a1 - 4 * a2 * a0)) / (2 * a2)
    channel = biggest - alpha * average
    return (np.sqrt(channel.size) * 0.2 * channel / np.linalg.norm(channel))[..., None]


def test_the_max_pool_variant_relabels_a_max_pooled_copy():
    images = make_probes(seed=21, count=IMAGES)
    probes = make_probes(seed=22, count=10)
    final = _max_pool_layer(images)
    probe_series = np.repeat(_max_pool_layer(probes)[None], 3, axis=0).astype(np.float16)
    layer = analyse_layer("conv5", probe_series, np.arange(3), probes, _context(final, images, fallback_window=False))
    channel = layer.channels[0]
    assert channel.kind_basis == "correlation" and abs(channel.copy_r - 0.6) < 0.01 and channel.kind == "other"
    assert layer.variant_kinds["max_pool_reference"] == ["copy"]
    assert layer.variant_kinds["c2_thresholds_strict"] == ["other"]
    numbers = conclusion_2([layer])
    pooled = {variant.definition: variant for variant in numbers.variants}
    assert pooled["analysis_set"].counts["other"] == 1 and pooled["max_pool_reference"].counts["copy"] == 1
    assert pooled["analysis_set"].verdict != pooled["max_pool_reference"].verdict
    assert numbers.verdict != HOLDS and numbers.variants_holding == sum(v.verdict == HOLDS for v in numbers.variants)


def _run(images: np.ndarray, probes: np.ndarray, late: bool):
    """Return a Capture-like run of two 28x28 layers with an analysis record; the second settles late if `late`."""
    layers = {"conv1": planted_maps(images), "conv2": planted_maps(images, seed=4)[..., ::-1]}
    steps = np.arange(0, 101, 10)
    series = {"conv1": _series(5, steps, settle_at=2), "conv2": _series(5, steps, settle_at=9 if late else 3)}
    record = AnalysisRecord(indices=np.arange(len(images)), images=images, labels=np.zeros(len(images), np.int32),
                            steps=steps.astype(np.int32), resamples=RESAMPLES, seed=SEED,
                            final={name: value.astype(np.float16) for name, value in layers.items()}, series=series)
    probe_values = {"conv1": planted_maps(probes), "conv2": planted_maps(probes, seed=4)[..., ::-1]}
    loss = np.r_[np.full(10, np.log(10)), np.linspace(2.0, 0.2, 90)].astype(np.float32)
    return SimpleNamespace(
        steps=steps, probe_images=probes, probe_labels=np.arange(10),
        activations={name: np.repeat(value[None], len(steps), axis=0).astype(np.float16)
                     for name, value in probe_values.items()},
        train_loss=loss, train_accuracy=np.zeros_like(loss), test_steps=np.array([100]),
        test_loss=np.array([0.3]), test_accuracy=np.array([0.93]), config_json="{}", analysis=record,
        meta={"final_test_accuracy": 0.93, "final_test_size": 10_000,
              "dataset": {"name": "bundled", "class_names": [str(d) for d in range(10)]}})


@pytest.fixture(scope="module")
def late_run():
    return analyse(_run(noise_images(seed=31, count=200), noise_images(seed=32, count=10), late=True))


def test_the_run_says_what_it_measured_on(late_run):
    run = late_run.run
    assert (run.analysis_images, run.analysis_source, run.bootstrap_resamples) == (200, "analysis set", RESAMPLES)
    assert run.research is not None and set(run.research.speed_lag) == {"conv1", "conv2"}
    for layer in late_run.layers:
        assert layer.research is not None and layer.on_probes is not None
        assert layer.settling.probes == 200 and layer.settle_step_ci[0] <= layer.settling.settled_step
    assert late_run.layer("conv2").settling.settled_step == 90


def test_a_late_layer_fails_conclusion_3_under_its_variants(late_run):
    numbers = late_run.run.conclusion_3
    keys = [variant.definition for variant in numbers.variants]
    assert keys == ["cka_analysis_set", "cka_shown_probes", "channel_values", "early_share_strict",
                    "early_share_lenient", "settle_upper_bound"]
    headline = numbers.variants[0]
    assert headline.steps == {"conv1": 20, "conv2": 90} and headline.verdict == PARTLY
    assert numbers.verdict == numbers.definition_verdict == PARTLY
    assert numbers.variants_holding == sum(variant.verdict == HOLDS for variant in numbers.variants)


def test_conclusion_1_variants_and_the_bundled_data(late_run):
    numbers = late_run.run.conclusion_1
    keys = [variant.definition for variant in numbers.variants]
    assert keys == ["analysis_set", "shown_probes", "max_pool_reference", "thresholds_strict",
                    "thresholds_lenient", "sure_labels_only"]
    sure = next(variant for variant in numbers.variants if variant.definition == "sure_labels_only")
    assert sum(sure.counts.values()) == sum(ch.kind_sure for layer in late_run.layers for ch in layer.channels)
    # Accuracy 93% < 95% on the bundled subset: explained by the data only when the label checks pass.
    label_checks_pass = all(item.passes for item in numbers.checks[:3])
    assert numbers.data_explained == (label_checks_pass and not numbers.checks[3].passes)


def test_findings_json_round_trips_the_new_fields(late_run):
    data = json.loads(late_run.to_json())
    again = Findings.from_dict(data)
    assert json.loads(again.to_json()) == data
    channel = again.layers[0].channels[4]
    assert isinstance(channel.kind_stability, float) and isinstance(channel.kind_sure, bool)
    assert again.layers[0].channels[2].duplicate_conflicts == [3]
    assert again.run.conclusion_1.variants[0].definition == "analysis_set"
    assert type(again.run.conclusion_1.variants[0].checks[0]).__name__ == "ShareCheck"
    assert again.run.research.loss_drop_step == late_run.run.research.loss_drop_step
    assert again.layers[1].research.pc1_share_end == pytest.approx(0.4)
    assert again.layers[0].on_probes.counts == late_run.layers[0].on_probes.counts
    assert data["run"]["analysis_source"] == "analysis set" and data["layers"][0]["settle_step_ci"][1] is not None


def test_without_an_analysis_set_the_probes_measure_as_before(planted):
    probes = noise_images(seed=12, count=10)
    series = np.repeat(planted_maps(probes, seed=1)[None], 3, axis=0).astype(np.float16)
    layer = analyse_layer("conv1", series, np.arange(3), probes, LayerContext(window=Window(3, 1, -1)))
    assert all(ch.kind_stability is None and ch.kind_on_probes == ch.kind for ch in layer.channels)
    assert layer.on_probes is None and layer.settle_step_ci == [None, None] and layer.research is None
    assert layer.settling.probes == 10


def test_an_accuracy_failing_only_on_the_bundled_subset_is_explained_by_the_data():
    from commentary_fixtures import kinds_layer

    from report.numbers.conclusions import conclusion_1

    layers = [kinds_layer(f"conv{i + 1}", ["copy"] * 6) for i in range(4)]
    bundled = conclusion_1(layers, 0.929, 10_000, "bundled")
    assert bundled.verdict == PARTLY and bundled.data_explained
    assert not conclusion_1(layers, 0.929, 10_000, "mnist").data_explained
    assert not conclusion_1(layers, 0.97, 10_000, "bundled").data_explained


def test_a_real_looking_layer_recomputes_with_corrcoef_on_the_set_and_one_resample():
    from synthetic_capture import synthetic_layer

    images = make_probes(seed=41, count=300)
    final = synthetic_layer(images, steps=3, size=14, channels=8, seed=7)[-1].astype(np.float64)  # (A, 14, 14, 8)
    probes = make_probes(seed=42, count=10)
    probe_series = synthetic_layer(probes, steps=3, size=14, channels=8, seed=7)
    layer = analyse_layer("conv3", probe_series, np.arange(4), probes,
                          _context(final, images, window=Window(10, 2, -4), window_source="model"))
    final = final.astype(np.float16).astype(np.float64)  # as the record stores it
    pooled = images.astype(np.float64).reshape(300, 14, 2, 14, 2).mean(axis=(2, 4)) / 255.0
    counts = _context(final, images).analysis.counts
    setup = MeasureSetup("conv3", Window(10, 2, -4), "model", False, True, 0.03)
    resampled = resampled_inputs(measure_final(final, images, setup), counts[[5]])
    for c, channel in enumerate(layer.channels):
        assert abs(channel.copy_r - np.corrcoef(final[..., c].ravel(), pooled.ravel())[0, 1]) < 1e-9
        x = np.repeat(final[..., c], counts[5], axis=0).ravel()
        y = np.repeat(pooled, counts[5], axis=0).ravel()
        assert abs(resampled.copy_abs[0, c] - abs(np.corrcoef(x, y)[0, 1])) < 1e-9
    # 300 images give every channel a filter; its shape decides where it predicts the channel well enough.
    assert all(channel.filter is not None for channel in layer.channels)
    assert all((channel.kind_basis == "filter") == (channel.filter.fit_r >= 0.9) for channel in layer.channels
               if channel.kind not in ("idle", "saturated"))
