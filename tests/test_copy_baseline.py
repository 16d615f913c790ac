"""Copies judged against a per-layer baseline, and silhouettes (issue 23), recomputed with plain numpy.

A layer's baseline is what random positive blurs of the input over its window reach in |r| with the pooled input
(report/numbers/robust/baseline.py documents the kernels: BASELINE_KERNELS rows of one uniform [0, 1) draw by
np.random.default_rng(BASELINE_SEED)). Here the blurs are made again another way (numpy's sliding windows, not the
analysis' gathered windows), on the archive's analysis images, with the input pooled by reshaping blocks and the
silhouette mask thresholded by hand; every label of the copy / silhouette rule and the page's sentences about the
bar must follow from these numbers. The default run's archive is build/capture.h5 (or WATCH_CAPTURE, else trained
once per test run: tests/conftest.py's default_archive, which tests/test_truthful_default_run.py reads too);
COPY_BASELINE_CAPTURES (paths joined by the OS path separator)
adds other archives, such as a Fashion-MNIST run, to the same checks. Synthetic cases: a channel that is exactly the
silhouette mask is a silhouette where the mask and the input differ, a copy where they are the same picture; a
channel that is exactly a blur of the input is a copy only where random blurs over its window stay below it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from report.numbers.channel_kinds import LabelInputs, LabelRule, LayerTerms, copy_bars, kind_codes, label_channel
from report.numbers.filters import FilterFit
from report.numbers.findings import CHANNEL_KINDS, CopyBaseline
from report.numbers.receptive_fields import Window
from report.numbers.reference_maps import correlate_same
from report.numbers.robust.baseline import BASELINE_KERNELS, BASELINE_SEED
from report.numbers.robust.final_measures import MeasureSetup, measure_final
from report.numbers.thresholds import (
    COPY_BASELINE_QUANTILE,
    COPY_MIN_R,
    EDGE_MIN_R,
    FILTER_MIN_R,
    PATTERN_MIN_R,
    SHAPE_MIN_SCORE,
    SILHOUETTE_LEVEL,
    SILHOUETTE_MARGIN,
)
from tests.analysis_fixtures import make_probes
from tests.helpers import STORED_ROUNDING

# --- An independent baseline ---------------------------------------------------------------------------


def _pooled(values: np.ndarray, size: int) -> np.ndarray:
    """Average (N, S, S) values over size x size blocks of S / size pixels (the layers' sizes divide 28)."""
    block = values.shape[1] // size
    return values.reshape(len(values), size, block, size, block).mean(axis=(2, 4))


def _mask(images: np.ndarray) -> np.ndarray:
    """Return 1 where a pixel is SILHOUETTE_LEVEL of 255 or more above its image's darkest pixel, else 0."""
    images = images.astype(np.float64)
    return (images - images.min(axis=(1, 2), keepdims=True) >= SILHOUETTE_LEVEL * 255).astype(np.float64)


def _blur_rs(images: np.ndarray, window, size: int, references: list[np.ndarray]) -> list[np.ndarray]:
    """Return per reference the |r| of each random positive kernel's blur (over images x positions) with it."""
    kernels = np.random.default_rng(BASELINE_SEED).uniform(0.0, 1.0, (BASELINE_KERNELS, window.size ** 2))
    kernels = kernels.reshape(-1, window.size, window.size)
    pad = window.size + abs(window.offset)
    padded = np.pad(images.astype(np.float64) / 255, ((0, 0), (pad, pad), (pad, pad)))
    start = pad + window.offset
    sums = {"b": 0.0, "bb": 0.0, "y": [0.0] * len(references), "yy": [0.0] * len(references),
            "by": [0.0] * len(references)}
    count = len(images) * size * size
    for first in range(0, len(images), 100):
        views = np.lib.stride_tricks.sliding_window_view(padded[first:first + 100], (window.size, window.size),
                                                         axis=(1, 2))
        windows = views[:, start:start + window.stride * size:window.stride,
                        start:start + window.stride * size:window.stride]  # (n, size, size, k, k)
        # each window (n, row, column) times each kernel: one matrix product (einsum's loop took ten times longer)
        blurred = windows.reshape(-1, window.size ** 2) @ kernels.reshape(BASELINE_KERNELS, -1).T
        sums["b"] = sums["b"] + blurred.sum(axis=0)
        sums["bb"] = sums["bb"] + (blurred ** 2).sum(axis=0)
        for index, reference in enumerate(references):
            y = reference[first:first + 100].reshape(-1)
            sums["y"][index] += y.sum()
            sums["yy"][index] += (y ** 2).sum()
            sums["by"][index] = sums["by"][index] + y @ blurred
    out = []
    for index in range(len(references)):
        covariance = sums["by"][index] - sums["b"] * sums["y"][index] / count
        variance_b = sums["bb"] - sums["b"] ** 2 / count
        variance_y = sums["yy"][index] - sums["y"][index] ** 2 / count
        out.append(np.abs(covariance / np.sqrt(variance_b * variance_y)))
    return out


def _r(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _expected_kind(channel, copy_abs: float, silhouette_abs: float, bars: tuple[float, float | None]) -> str:
    """Return the kind the issue-23 rule gives a working channel from recomputed |r| (its edge r and filter taken
    from the findings, which tests/test_truthful_default_run.py recomputes)."""
    copy_bar, silhouette_bar = bars
    if silhouette_bar is not None and silhouette_abs >= silhouette_bar and \
            silhouette_abs >= copy_abs + SILHOUETTE_MARGIN:
        picture, matched = "silhouette", silhouette_abs
    elif copy_abs >= copy_bar:
        picture, matched = "copy", copy_abs
    else:
        picture, matched = None, copy_abs
    fit, edge_abs = channel.filter, abs(channel.best_edge_r)
    if fit is not None and fit.fit_r >= FILTER_MIN_R:
        if max(abs(fit.blob), abs(fit.edge)) < SHAPE_MIN_SCORE:
            return "other"
        return "edge" if fit.edge_share > 0.5 else picture or "other"
    if edge_abs >= EDGE_MIN_R and (picture is None or edge_abs > matched):
        return "edge"
    return picture or "other"


# --- Real runs -------------------------------------------------------------------------------------------


def _captures() -> list[str]:
    extra = [path for path in os.environ.get("COPY_BASELINE_CAPTURES", "").split(os.pathsep) if path]
    return ["default"] + extra


@pytest.fixture(scope="module", params=_captures())
def measured_run(request):
    """Return (capture, findings, commentary, dataset) of the default run (tests/conftest.py's default_archive) or
    an archive named in the environment."""
    from capture.archive import Capture
    from report.numbers.analysis import analyse
    from report.words.commentary import commentary

    path = request.getfixturevalue("default_archive") if request.param == "default" else Path(request.param)
    capture = Capture.load(path)
    assert capture.analysis is not None, "these checks need the analysis images"
    findings = request.getfixturevalue("default_findings") if request.param == "default" else analyse(capture)
    dataset = (capture.meta or {}).get("dataset")
    return capture, findings, commentary(findings, dataset=dataset), dataset


def test_the_baseline_recomputes_from_the_analysis_images(measured_run):
    capture, findings, _, _ = measured_run
    images = np.asarray(capture.analysis.images)
    for layer in findings.layers:
        baseline = layer.copy_baseline
        if layer.height * layer.width == 1:
            assert baseline is None
            continue
        copy, mask = _pooled(images.astype(np.float64) / 255, layer.height), _pooled(_mask(images), layer.height)
        window = layer.filter_window
        copy_rs, mask_rs = _blur_rs(images, window, layer.height, [copy, mask])
        assert (baseline.window, baseline.kernels, baseline.images) == (window.size, BASELINE_KERNELS, len(images))
        expected = {"copy_median": np.median(copy_rs), "copy_high": np.quantile(copy_rs, COPY_BASELINE_QUANTILE),
                    "silhouette_median": np.median(mask_rs),
                    "silhouette_high": np.quantile(mask_rs, COPY_BASELINE_QUANTILE),
                    "silhouette_input_r": _r(copy, mask)}
        for key, value in expected.items():
            assert getattr(baseline, key) == pytest.approx(value, **STORED_ROUNDING), (layer.name, key)
        assert baseline.copy_bar == pytest.approx(max(COPY_MIN_R, expected["copy_high"]), **STORED_ROUNDING)
        if abs(expected["silhouette_input_r"]) < PATTERN_MIN_R:
            assert baseline.silhouette_bar == pytest.approx(max(COPY_MIN_R, expected["silhouette_high"]),
                                                           **STORED_ROUNDING)
        else:
            assert baseline.silhouette_bar is None


def test_every_label_follows_the_recomputed_bars(measured_run):
    capture, findings, _, _ = measured_run
    images = np.asarray(capture.analysis.images)
    for layer in findings.layers:
        if layer.copy_baseline is None:
            continue
        final = np.asarray(capture.analysis.final[layer.name], np.float64)
        copy, mask = _pooled(images.astype(np.float64) / 255, layer.height), _pooled(_mask(images), layer.height)
        bars = (layer.copy_baseline.copy_bar, layer.copy_baseline.silhouette_bar)
        for channel in layer.channels:
            if channel.kind in ("idle", "saturated"):
                continue
            copy_abs, silhouette_abs = abs(_r(final[..., channel.channel], copy)), \
                abs(_r(final[..., channel.channel], mask))
            assert channel.silhouette_r == pytest.approx(_r(final[..., channel.channel], mask),
                                                          **STORED_ROUNDING)
            assert channel.kind == _expected_kind(channel, copy_abs, silhouette_abs, bars), \
                (layer.name, channel.channel, copy_abs, silhouette_abs, bars)
            if channel.kind == "copy":
                assert copy_abs >= max(bars[0], COPY_MIN_R)


def test_the_page_states_each_raised_bar_and_who_falls_below_it(measured_run):
    _, findings, said, _ = measured_run
    for layer, text in zip(findings.layers, said["layers"]):
        baseline = layer.copy_baseline
        sentences = [sentence for sentence in text["run"] if "random positive blur of the input" in sentence]
        if baseline is None or baseline.copy_bar <= COPY_MIN_R:
            assert sentences == [], layer.name
            continue
        below = [ch for ch in layer.channels if abs(ch.copy_r) < baseline.copy_bar]
        digits = 3 if any(f"{abs(ch.copy_r):.2f}" == f"{baseline.copy_bar:.2f}" for ch in below) else 2
        assert len(sentences) == 1, layer.name
        spread = "" if COPY_BASELINE_QUANTILE == 0.5 else \
            f"; {100 * COPY_BASELINE_QUANTILE:.0f}% of them reach at most {baseline.copy_high:.{digits}f}"
        assert (f"At {layer.height}×{layer.width} a random positive blur of the input over the layer's "
                f"{baseline.window}×{baseline.window}-pixel window already correlates "
                f"{baseline.copy_median:.{digits}f} with the input (the median of {baseline.kernels} such blurs"
                f"{spread}), so a copy here needs |r| ≥ {baseline.copy_bar:.{digits}f}") in sentences[0]
        blurs = [ch for ch in layer.channels if ch.kind == "other" and COPY_MIN_R <= abs(ch.copy_r) < baseline.copy_bar]
        said_blurs = [sentence for sentence in text["run"] if "no more closely than random positive blurs" in sentence]
        assert len(said_blurs) == (1 if blurs else 0), layer.name
        if blurs:
            assert f"(below {baseline.copy_bar:.{digits}f})" in said_blurs[0]
            for ch in blurs:
                assert f"{abs(ch.copy_r):.{digits}f}" in said_blurs[0]


def test_silhouettes_are_said_with_both_matches(measured_run):
    _, findings, said, _ = measured_run
    for layer, text in zip(findings.layers, said["layers"]):
        found = [ch for ch in layer.channels if ch.kind == "silhouette"]
        sentences = [sentence for sentence in text["run"] if "more closely than the input" in sentence]
        assert len(sentences) == (1 if found else 0), layer.name
        for ch in found:
            assert f"{abs(ch.silhouette_r):.2f}" in sentences[0] and f"{abs(ch.copy_r):.2f}" in sentences[0]


# --- Synthetic layers ---------------------------------------------------------------------------------


def _garments(seed: int, count: int) -> np.ndarray:
    """Draw garment-like uint8 images: one filled ellipse each, its inside textured (so not its own 0/1 mask)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28]
    images = np.zeros((count, 28, 28))
    for image in images:
        centre, radii = rng.uniform(10, 18, 2), rng.uniform(6, 12, 2)
        inside = ((rows - centre[0]) / radii[0]) ** 2 + ((cols - centre[1]) / radii[1]) ** 2 <= 1
        texture = rng.uniform(0.25, 1.0) + 0.35 * np.sin(cols / rng.uniform(1.5, 4) + rng.uniform(0, 6)) * \
            np.cos(rows / rng.uniform(1.5, 4))
        image[:] = np.where(inside, np.clip(texture, 0.15, 1.0), 0.0)
    return (255 * images).astype(np.uint8)


def _measure(channel: np.ndarray, images: np.ndarray, window: Window | None):
    """Return the measures of a one-channel layer (N, H, W) on its images (window None: no filter, so its kind is
    read from correlations, and the baseline's window is a 3x3 filter at the layer's resolution)."""
    setup = MeasureSetup("conv", window, "model" if window else "fallback", False, True, 0.0)
    return measure_final(channel[..., None], images, setup)


SEVEN = Window(24, 4, -10)  # the article's conv5: 7x7 maps of a 24x24-pixel window


def test_a_channel_that_is_the_silhouette_mask_is_a_silhouette_where_mask_and_input_differ():
    """By correlation (no filter fitted). A fitted filter would read this channel as neither a blob nor an edge
    (it evens out the texture inside the outline), and a filter that is no blob names no picture."""
    garments = _garments(1, 300)
    mask = _pooled(_mask(garments), 7)
    measures = _measure(0.8 * mask - 0.1, garments, None)
    baseline = measures.baselines["mean"]
    assert abs(_r(_pooled(garments / 255, 7), mask)) < PATTERN_MIN_R and baseline.silhouette_bar is not None
    assert measures.silhouette_r[0] == pytest.approx(1.0) and abs(measures.copy_r[0]) + SILHOUETTE_MARGIN < 1
    assert (measures.labels[0].kind, measures.labels[0].basis) == ("silhouette", "correlation")
    assert _measure(0.8 * mask - 0.1, garments, SEVEN).labels[0].kind == "other"  # its filter is no blob
    # On stroke images the mask is the strokes themselves: the same picture as the input, so a match is a copy.
    strokes = make_probes(seed=2, count=300)
    measures = _measure(_pooled(_mask(strokes), 7), strokes, None)
    assert measures.baselines["mean"].silhouette_bar is None
    assert measures.labels[0].kind == "copy"


def test_a_channel_that_is_a_blur_of_the_input_is_a_copy_only_where_the_baseline_is_low():
    """The input blurred twice by a 3x3 box at the layer's resolution: at 28x28, where the typical positive 3x3 blur
    of the strokes correlates more with them, not a copy; at 14x14, where random blurs over the 10x10 window stay
    below COPY_MIN_R, a copy. The old rule (COPY_MIN_R alone) called both copies."""
    strokes = make_probes(seed=3, count=300)
    for size, window, expected in ((28, Window(3, 1, -1), "other"), (14, Window(10, 2, -4), "copy")):
        pooled = _pooled(strokes / 255, size)
        blurred = correlate_same(correlate_same(pooled, np.ones((3, 3)) / 9), np.ones((3, 3)) / 9)
        measures = _measure(blurred, strokes, window)
        baseline = measures.baselines["mean"]
        r = abs(_r(blurred, pooled))
        assert r >= COPY_MIN_R and measures.copy_r[0] == pytest.approx(r)
        copy_rs, _ = _blur_rs(strokes, window, size, [pooled, pooled])
        assert baseline.copy_high == pytest.approx(np.quantile(copy_rs, COPY_BASELINE_QUANTILE), abs=1e-9)
        assert (r >= baseline.copy_bar) == (expected == "copy"), (size, r, baseline.copy_bar)
        assert measures.labels[0].kind == expected


def test_the_vectorised_rule_agrees_with_label_channel_with_silhouettes_and_bars():
    rng = np.random.default_rng(4)
    count = 3000
    copy, silhouette, edge = rng.uniform(0.4, 1, count), rng.uniform(0.4, 1, count), rng.uniform(0, 1, count)
    spread, fit_r = rng.uniform(0.02, 0.2, count), rng.uniform(0.8, 1, count)
    blob, edge_score, share = rng.uniform(-1, 1, count), rng.uniform(-1, 1, count), rng.uniform(0, 1, count)
    copy_bar, silhouette_bar = copy_bars(0.78, 0.72, 0.9)
    baseline = CopyBaseline(window=24, kernels=64, images=100, copy_median=0.77, copy_high=0.78,
                            silhouette_median=0.7, silhouette_high=0.72, silhouette_input_r=0.9,
                            copy_bar=copy_bar, silhouette_bar=silhouette_bar)
    inputs = LabelInputs(copy, edge, spread, None, fit_r, blob, edge_score, share, silhouette, baseline)
    codes = kind_codes(inputs, idle_limit=0.03)[0]
    found = set()
    for i in range(count):
        fit = FilterFit(size=3, stride=1, offset=-1, weights=[[0.0] * 3] * 3, intercept=0.0, fit_r=fit_r[i],
                        in_sample_r=fit_r[i], in_sample=False, ridge=0.0, blob=blob[i], edge=edge_score[i],
                        edge_angle=0.0, edge_kind="vertical", edge_side="left", edge_share=share[i])
        label = label_channel(copy[i], edge[i], spread[i], None, fit, silhouette[i],
                              terms=LayerTerms(idle_limit=0.03, baseline=baseline))
        assert CHANNEL_KINDS[codes[i]] == label.kind, i
        found.add(label.kind)
    assert {"copy", "silhouette", "edge", "other", "idle"} <= found
    # A rule that moves COPY_MIN_R moves the layer's bars by as much.
    moved = kind_codes(LabelInputs(np.array([0.79]), np.array([0.0]), np.array([1.0]), None, None, None, None, None,
                                   np.array([0.0]), baseline), LabelRule(copy_min_r=COPY_MIN_R + 0.02))
    assert CHANNEL_KINDS[moved[0, 0]] == "other"


def test_findings_json_keeps_the_baseline(measured_run):
    _, findings, _, _ = measured_run
    from report.numbers.findings import Findings

    again = Findings.from_dict(json.loads(findings.to_json()))
    for before, after in zip(findings.layers, again.layers):
        if before.copy_baseline is not None:
            assert isinstance(after.copy_baseline, CopyBaseline)
            assert after.copy_baseline.copy_bar == pytest.approx(before.copy_baseline.copy_bar, rel=1e-5)
