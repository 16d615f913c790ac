"""The default run's claims, recomputed from its archive with plain numpy, and the verdict colours in Chromium.

The archive is build/capture.h5 (or WATCH_CAPTURE) when the default config made it: `make site` writes it, and
CI (.ci/run) runs `make site` before `make test`. Otherwise the default run is trained once per test run, on the
bundled data (tests/conftest.py's default_archive, which tests/test_copy_baseline.py reads too).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from report.numbers.checks import DOES_NOT_HOLD, HOLDS, PARTLY, VERDICTS
from report.numbers.conclusions import EARLY_LAYERS, LATE_LAYERS
from report.numbers.findings import CHANNEL_KINDS
from report.numbers.thresholds import (
    DUPLICATE_MIN_R,
    EARLY_SHARE,
    INFORMATIVE_SHARE,
    PLATEAU_ACCURACY_MARGIN,
    PLATEAU_ACCURACY_SE,
    PLATEAU_MIN_STEPS,
    PLATEAU_TOLERANCE,
    SETTLED_MIN_CKA,
)
from report.words.commentary import commentary
from report.words.conclusion_text import VERDICT_CLASSES
from tests.archive_arrays import read_archive
from tests.helpers import REPO, STORED_ROUNDING

SHAPES = {"conv1": (28, 28, 4), "conv2": (28, 28, 4), "conv3": (14, 14, 8),
          "conv4": (14, 14, 8), "conv5": (7, 7, 16), "conv6": (7, 7, 16)}


# --- The default run's archive, recomputed with plain numpy --------------------------------------------


@pytest.fixture(scope="module")
def default_run(default_archive, default_findings):
    """The default run's arrays (read with h5py), its findings and the page's words (tests/conftest.py's
    default_archive: build/capture.h5 from `make site`, or the default run trained once per test run)."""
    findings = default_findings
    arrays = read_archive(default_archive)
    arrays.update(read_analysis(default_archive), path=str(default_archive))
    return arrays, findings, commentary(findings)


def read_analysis(path: Path) -> dict:
    """Read the archive's analysis group with h5py directly: the analysis images and each layer's final maps
    ("analysis/<layer>") and grid series ("analysis/<layer>/<series>"), keyed by name."""
    import h5py

    with h5py.File(path, "r") as archive:
        names = json.loads(bytes(archive["layer_names"][()]).decode())  # UTF-8 JSON stored as uint8 bytes
        group = archive["analysis"]
        arrays = {"analysis/images": group["images"][()], "analysis/steps": group["steps"][()]}
        for index, name in enumerate(names):
            arrays[f"analysis/{name}"] = group["final"][str(index)][()]
            for key, values in group["series"][str(index)].items():
                arrays[f"analysis/{name}/{key}"] = values[()]
    return arrays


def test_default_run_has_291_snapshots_of_the_documented_shapes(default_run):
    arrays, _, _ = default_run
    assert arrays["steps"].tolist() == list(range(291))
    for name, (height, width, channels) in SHAPES.items():
        assert arrays[name].shape == (291, 10, height, width, channels) and arrays[name].dtype == np.float16
    assert arrays["probe_images"].shape == (10, 28, 28) and arrays["probe_images"].dtype == np.uint8
    assert arrays["train_loss"].shape == (290,)


def _final(arrays, name) -> np.ndarray:
    """Return a layer's final maps on the analysis images, as (images x positions, channels)."""
    values = arrays[f"analysis/{name}"].astype(np.float64)  # (A, H, W, C)
    return values.reshape(-1, values.shape[-1])


def test_default_run_groups_meet_the_threshold_pair_by_pair(default_run):
    arrays, findings, said = default_run
    for layer, text in zip(findings.layers, said["layers"]):
        r = np.corrcoef(_final(arrays, layer.name).T)
        upper = np.abs(r[np.triu_indices(len(r), k=1)])
        for group in layer.duplicate_groups:
            inner = np.abs(r[np.ix_(group, group)])[np.triu_indices(len(group), k=1)]
            assert inner.min() >= DUPLICATE_MIN_R, (layer.name, group, inner.min())
        paragraph = text["paragraphs"][1]
        reaching = int((upper >= DUPLICATE_MIN_R).sum())
        if reaching == upper.size:
            assert paragraph.startswith(f"All {_word(len(r))} channels are near-duplicates")
            assert f"(lowest {upper.min():.2f})" in paragraph
        else:
            assert f"{_word(reaching) if reaching else 'None'}" in paragraph
            assert f"({100 * reaching / upper.size:.0f}%)" in paragraph or reaching == 0
            assert f"|r| from {upper.min():.2f} to {upper.max():.2f}" in paragraph
        for channels, lowest in re.findall(r"channels ([\d, and]+) \(\w+ pairs?, lowest \|r\| (\d\.\d\d)\)", paragraph):
            members = [int(c) - 1 for c in re.findall(r"\d+", channels)]
            inner = np.abs(r[np.ix_(members, members)])[np.triu_indices(len(members), k=1)]
            assert f"{inner.min():.2f}" == lowest


def _word(count: int) -> str:
    from report.words.wording import number
    return number(count) if count <= 10 else str(count)


def test_default_run_channel_numbers_recompute(default_run):
    arrays, findings, said = default_run
    probes = arrays["analysis/images"].astype(np.float64) / 255  # every label is measured on the analysis images
    for layer, text in zip(findings.layers, said["layers"]):
        final = arrays[f"analysis/{layer.name}"].astype(np.float64)  # (A, H, W, C)
        n, h, w, c = final.shape
        rows, cols = (np.arange(h) * 28) // h, (np.arange(w) * 28) // w
        pooled = np.add.reduceat(np.add.reduceat(probes, rows, axis=1), cols, axis=2) / ((28 // h) * (28 // w))
        for channel, row in enumerate(text["table"]["rows"]):
            r = np.corrcoef(final[..., channel].ravel(), pooled.ravel())[0, 1]
            assert row[2] == f"{r:+.2f}".replace("-", "\u2212"), (layer.name, channel)
            assert layer.channels[channel].copy_r == pytest.approx(r, **STORED_ROUNDING)
            assert row[7] == f"{final[..., channel].std():.3f}"


def test_default_run_filter_fits_recompute(default_run):
    """Refit every filter with plain numpy on the analysis images (ridge by the normal equations, solved directly
    rather than through the eigendecomposition report/numbers/filters.py uses; five folds by image index mod 5,
    each fold predicted from the others; the windows cut with numpy's sliding_window_view, not by index as the
    product cuts them). Each fold's products X'X and X'Y are summed once; the other folds' normal equations are the
    totals less the held-out fold's sums, centred by their means (the same equations as centring the kept rows
    first, in a quarter of the arithmetic)."""
    arrays, findings, said = default_run
    images = arrays["analysis/images"].astype(np.float64) / 255
    for layer, text in zip(findings.layers, said["layers"]):
        if layer.filter_window is None:
            continue
        size, stride, offset = layer.filter_window.size, layer.filter_window.stride, layer.filter_window.offset
        final = arrays[f"analysis/{layer.name}"].astype(np.float64)
        n, h, w, c = final.shape
        pad = size + abs(offset)
        padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
        first = offset + pad  # the first window's top-left corner in the padded image
        windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))  # every window
        design = windows[:, first:first + stride * h:stride, first:first + stride * w:stride].reshape(n, h * w, -1)
        share = layer.channels[0].filter.ridge
        folds = np.arange(n) % min(n, 5)
        sums = {}  # fold: (X'X, X'Y, column sums of X and of Y, rows) of the fold's own rows
        for fold in np.unique(folds):
            x = design[folds == fold].reshape(-1, size * size)
            y = final[folds == fold].reshape(-1, c)
            sums[fold] = (x.T @ x, x.T @ y, x.sum(0), y.sum(0), len(x))
        totals = [sum(parts) for parts in zip(*sums.values())]
        energy = np.trace(totals[0]) / size ** 2  # the sum of every window pixel's square, per weight
        predicted = np.zeros((n, h * w, c))
        for fold, held_out in sums.items():
            keep = folds != fold
            xx, xy, x_sum, y_sum, rows = (total - part for total, part in zip(totals, held_out))  # the kept rows'
            x_mean, y_mean = x_sum / rows, y_sum / rows
            gram = xx - rows * np.outer(x_mean, x_mean) + share * energy * keep.sum() / n * np.eye(size * size)
            weights = np.linalg.solve(gram, xy - rows * np.outer(x_mean, y_mean))
            predicted[~keep] = (design[~keep] - x_mean) @ weights + y_mean
        for channel in range(c):
            r = np.corrcoef(predicted[..., channel].ravel(), final[..., channel].ravel())[0, 1]
            row = next(row for row in text["filters"] if row["channel"] == channel)
            assert abs(r - layer.channels[channel].filter.fit_r) < 2e-3, (layer.name, channel)
            assert row["fit_r"] == f"{layer.channels[channel].filter.fit_r:.2f}"


def test_default_run_settling_and_conclusion_3_recompute(default_run):
    arrays, findings, said = default_run
    steps = arrays["steps"]
    loss = arrays["train_loss"].astype(np.float64)
    accuracy = arrays["train_accuracy"].astype(np.float64)
    batch = json.loads(str(arrays["config"]))["batch_size"]
    # The plateau (issue 23): loss within PLATEAU_TOLERANCE of ln 10 and batch accuracy near 10%, for at least
    # PLATEAU_MIN_STEPS steps from the start; without one, learning counts from step 0.
    margin = max(PLATEAU_ACCURACY_MARGIN, PLATEAU_ACCURACY_SE * math.sqrt(0.1 * 0.9 / batch))
    at_chance = (np.abs(loss - math.log(10)) <= PLATEAU_TOLERANCE) & (accuracy <= 0.1 + margin)
    outside = np.flatnonzero(~at_chance)
    start = int(outside[0]) if outside.size else len(loss)
    start = start if start >= PLATEAU_MIN_STEPS else 0
    assert findings.run.plateau.found == (start > 0) and findings.run.plateau.steps == start
    last = int(steps[-1])
    limit = start + EARLY_SHARE * (last - start)
    numbers = findings.run.conclusion_3
    assert numbers.learning_start == start and numbers.early_limit == pytest.approx(limit)
    early = []
    for layer in findings.layers:
        series = arrays[layer.name].astype(np.float64)
        flat = series.reshape(series.shape[0], -1, series.shape[-1])
        centred = flat - flat.mean(axis=1, keepdims=True)
        final = centred[-1]
        cka = np.array([np.linalg.norm(final.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(final.T @ final))
                        for x in centred])
        spread = np.median(centred.std(axis=1), axis=1)
        relative = spread / spread[-1]

        def first_staying(condition):
            stays = np.flip(np.logical_and.accumulate(np.flip(condition)))
            return int(steps[np.argmax(stays)])

        pattern = first_staying(cka >= SETTLED_MIN_CKA)
        contrast = first_staying(relative >= INFORMATIVE_SHARE)
        probe_view = layer.on_probes.settling  # the shown probes' every-step CKA: a variant of conclusion 3
        assert (probe_view.pattern_step, probe_view.contrast_step, probe_view.settled_step) == \
            (pattern, contrast, max(pattern, contrast)), layer.name
        # The headline: the same rules on the analysis images' grid series (their CKA is checked against a
        # brute-force Gram computation in tests/test_analysis_replay.py).
        grid = arrays["analysis/steps"]
        grid_cka = arrays[f"analysis/{layer.name}/cka_final"][0]
        grid_spread = np.median(arrays[f"analysis/{layer.name}/channel_spread"], axis=1)

        def first_staying_on_grid(condition, grid=grid):
            stays = np.flip(np.logical_and.accumulate(np.flip(condition)))
            return int(grid[np.argmax(stays)])

        pattern = first_staying_on_grid(grid_cka >= SETTLED_MIN_CKA)
        contrast = first_staying_on_grid(grid_spread / grid_spread[-1] >= INFORMATIVE_SHARE)
        settling = layer.settling
        assert (settling.pattern_step, settling.contrast_step, settling.settled_step) == \
            (pattern, contrast, max(pattern, contrast)), layer.name
        assert layer.settle_step_ci[0] <= settling.settled_step <= layer.settle_step_ci[1]
        if max(pattern, contrast) <= limit:
            early.append(layer.name)
    assert numbers.layers_early == early
    expected = HOLDS if len(early) == len(findings.layers) else PARTLY if early else DOES_NOT_HOLD
    assert numbers.definition_verdict == expected  # the headline definition; the variants may lower the verdict
    assert numbers.verdict == (PARTLY if expected == HOLDS and numbers.variants_holding < len(numbers.variants)
                               else expected)
    evidence = said["conclusions"][2]["evidence"]
    assert (f"after step {start}" if start else "no loss plateau") in evidence
    assert f"by step {limit:g}" in evidence.replace(".0 ", " ")
    checks = said["conclusions"][2]["checks"]  # each layer's settled step is stated in its check line
    for layer in findings.layers:
        line = next(line for line in checks if line.startswith(f"{layer.name}:"))
        assert f"Settled step: step {layer.settling.settled_step};" in line


def test_default_run_conclusion_1_and_2_recompute(default_run):
    arrays, findings, said = default_run
    for numbers, names in ((findings.run.conclusion_1, EARLY_LAYERS), (findings.run.conclusion_2, LATE_LAYERS)):
        kinds = [ch.kind for layer in findings.layers if layer.name in names for ch in layer.channels]
        assert numbers.counts == {kind: kinds.count(kind) for kind in CHANNEL_KINDS}
    meta = json.loads(str(arrays["meta"]))
    accuracy = meta["final_test_accuracy"]
    check = findings.run.conclusion_1.checks[3]
    assert check.value == accuracy
    assert check.margin == pytest.approx(2 * math.sqrt(accuracy * (1 - accuracy) / meta["final_test_size"]))
    assert f"{100 * accuracy:.1f}%" in said["conclusions"][0]["evidence"]


def test_sure_labels_hold_on_2000_other_test_images(default_run):
    """Issue 21's check: on 2,000 test images that are neither probes nor analysis images, passed through the
    trained model by Keras itself, no two channels at |r| >= 0.95 carry different labels while both are sure."""
    import importlib.util

    arrays, findings, _ = default_run
    spec = importlib.util.spec_from_file_location("check_sure_labels", REPO / "scripts" / "check_sure_labels.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    build = Path(arrays["path"]).parent
    problems, close = check.contradictions(json.loads(findings.to_json()), build, build / "model.keras")
    assert close > 0  # the check has pairs to judge: the default run's deeper layers hold near-duplicates
    assert problems == []


# --- The verdict colours, in a real browser ------------------------------------------------------------


def test_the_three_verdicts_have_three_colours(driver, tmp_path):
    from report.stage import STATIC, environment
    from tests import harness

    items = [{"claim": f"Claim {n}.", "verdict": verdict, "borderline": False, "evidence": "Evidence.",
              "checks": ["A check."], "verdict_class": VERDICT_CLASSES[verdict], "variants": None}
             for n, verdict in enumerate(VERDICTS)]
    body = environment().get_template("partials/conclusions.html.j2").render(conclusions={"verdicts": items})
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_bytes((STATIC / "site.css").read_bytes())
    (tmp_path / "index.html").write_text('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
                                         '<link rel="stylesheet" href="static/site.css"></head><body><main>'
                                         f'{body}</main></body></html>')
    driver.get(harness.file_url(tmp_path / "index.html"))
    colours = driver.execute_script(
        "return [...document.querySelectorAll('.verdict')].map(e => getComputedStyle(e).color)")
    text = driver.execute_script("return getComputedStyle(document.querySelector('.verdicts p')).color")
    assert len(colours) == 3 and len(set(colours)) == 3, colours
    assert text not in colours
