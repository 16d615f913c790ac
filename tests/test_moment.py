"""The opening figure (issue 22): the moment every layer switches on, shown without a click.

Against the short real run: the figure opens the article, names every recorded layer and only recorded steps, and
its cells are the capture's activations coloured on the manifest's fixed scale (each channel's map found in the
decoded PNG, enlarged by whole pixels). Against planted runs: the rule that chooses the steps.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from capture.archive import Capture
from render.palette import PALETTE, scale_indices
from report.page.moment import COLUMNS, choose_steps, moment_context
from tests.synthetic_capture import synthetic_capture

BYTE_BUDGET = 60_000  # the figure's share of the first view's 0.5 MB


def _figure(site) -> tuple[str, dict]:
    """Return the page's HTML and the moment figure's attributes."""
    text = (site / "index.html").read_text(encoding="utf-8")
    tag = re.search(r'<figure id="moment"[^>]*>', text)
    assert tag, "the page has no opening figure"
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))
    return text, attributes


def test_the_figure_opens_the_article_with_every_layer_and_recorded_steps(built):
    build, site = built
    capture = Capture.load(build / "capture.h5")
    text, figure = _figure(site)
    assert text.index('id="moment"') < text.index('id="experiment"')
    assert figure["data-layers"].split() == capture.layer_names
    steps = [int(step) for step in figure["data-steps"].split()]
    recorded = [int(step) for step in capture.steps]
    assert steps == sorted(set(steps)) and set(steps) <= set(recorded)
    assert len(steps) >= min(COLUMNS, len(recorded))  # the short run records 5 steps: all of them
    if len(recorded) <= COLUMNS:
        assert steps == recorded and figure["data-rule"] == "all"
    block = text[text.index('<figure id="moment"'):text.index("</figure>", text.index('<figure id="moment"'))]
    image = re.search(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]+)"', block)
    assert image and image.group(1) == "assets/moment.png"
    path = site / image.group(1)
    assert path.is_file() and path.stat().st_size <= BYTE_BUDGET
    with Image.open(path) as png:
        assert png.size == (int(image.group(2)), int(image.group(3)))
    alt = html.unescape(image.group(4))
    assert all(name in alt for name in capture.layer_names) and "loss" in alt
    assert 'href="#explorer"' in block and "fixed scale" in block


def _find(image: np.ndarray, block: np.ndarray) -> list[tuple[int, int]]:
    """Return every (top, left) at which `block` (h, w, 3) appears in `image` (H, W, 3), pixel for pixel."""
    packed = image[..., 0].astype(np.int64) << 16 | image[..., 1].astype(np.int64) << 8 | image[..., 2]
    want = block[..., 0].astype(np.int64) << 16 | block[..., 1].astype(np.int64) << 8 | block[..., 2]
    colours, counts = np.unique(packed, return_counts=True)
    rarity = dict(zip(colours.tolist(), counts.tolist()))
    anchor = min(np.ndindex(want.shape), key=lambda spot: rarity.get(int(want[spot]), 0))
    if rarity.get(int(want[anchor]), 0) == 0:
        return []
    h, w = want.shape
    hits = []
    for y, x in zip(*np.nonzero(packed == want[anchor])):
        top, left = y - anchor[0], x - anchor[1]
        if 0 <= top <= packed.shape[0] - h and 0 <= left <= packed.shape[1] - w and \
                np.array_equal(packed[top:top + h, left:left + w], want):
            hits.append((int(top), int(left)))
    return hits


def test_each_cell_is_the_probe_coloured_on_its_layers_fixed_scale(built):
    build, site = built
    capture = Capture.load(build / "capture.h5")
    manifest = json.loads((build / "assets" / "manifest.json").read_text())
    _, figure = _figure(site)
    steps = [int(step) for step in figure["data-steps"].split()]
    probe = int(figure["data-probe"]) - 1
    with Image.open(site / "assets" / "moment.png") as png:
        pixels = np.asarray(png.convert("RGB"))
    position = {int(step): index for index, step in enumerate(capture.steps)}
    checked = 0
    for entry in manifest["layers"]:
        channel = (entry.get("shown_channels") or [0])[0]
        lefts = []
        for step in steps:
            values = np.asarray(capture.activations[entry["name"]][position[step]][probe, ..., channel], np.float32)
            colours = PALETTE[scale_indices(values, entry["scale"])]  # the page's colours on the fixed scale
            if len(np.unique(colours.reshape(-1, 3), axis=0)) < 2:
                continue  # a one-colour map could be any blank cell: nothing to locate (and slow to look for)
            checked += 1
            found = []
            for zoom in range(1, 9):  # enlarged by whole pixels, nearest neighbour
                found = _find(pixels, np.repeat(np.repeat(colours, zoom, axis=0), zoom, axis=1))
                if found:
                    break
            assert found, f"{entry['name']} at step {step}: no cell holds the capture's map on the fixed scale"
            lefts.append(min(left for _, left in found))
        assert lefts == sorted(lefts), f"{entry['name']}: columns out of step order"
    assert checked >= len(steps), "too few cells with a picture to check"


def test_the_one_file_report_carries_the_same_figure_inside_it(run_copy):
    from pipeline.layout import Layout
    from report.share import page

    build, site = run_copy
    capture = Capture.load(build / "capture.h5")
    manifest = json.loads((build / "assets" / "manifest.json").read_text())
    text, _ = page(capture, manifest, Layout(build, site), None)
    start = text.index('<figure id="moment"')
    assert start < text.index('id="experiment"')
    source = re.search(r'<img src="data:image/png;base64,([^"]+)"', text[start:text.index("</figure>", start)])
    assert source and base64.b64decode(source.group(1)) == (site / "assets" / "moment.png").read_bytes()


def _relative_spread(values: np.ndarray) -> np.ndarray:
    """Return a layer's median channel spread per step as a share of its last one, from (T, N, H, W, C)."""
    spread = np.asarray(values, np.float32).std(axis=(1, 2, 3))  # (T, C)
    median = np.median(spread, axis=1)
    return median / median[-1]


def test_a_plateau_gives_a_window_from_before_its_end_to_after_every_layer_is_informative():
    steps = np.arange(0, 291)
    informative = [96, 128, 134, 139, 140, 140]  # planted: the plateau ends at 120, every layer informative by 140
    chosen, rule, window, basis = choose_steps(steps, 120, informative, np.zeros((6, steps.size)))
    assert rule == "plateau" and basis == [120, 140] and len(chosen) == COLUMNS
    assert chosen[0] == 0  # the run's first step, for reference
    assert window[0] < 120 and window[1] > 140 and window == [chosen[1], chosen[-1]]
    assert window[1] - window[0] <= 3 * (140 - 120)  # around the moment, not across the run
    gaps = np.diff(chosen[1:])
    assert gaps.max() - gaps.min() <= 1  # evenly spaced recorded steps
    later, rule, _, basis = choose_steps(steps, 120, [96, None, 134, 139, 140, 140], np.zeros((6, steps.size)))
    assert rule == "plateau" and basis == [120, 290] and later[-1] == 290  # a layer never informative


def test_without_a_plateau_the_window_is_where_the_spread_grows_fastest():
    capture = synthetic_capture(steps=120, layers=("a", "b", "c"), widths=(4, 8, 8), sizes=(14, 7, 7),
                                activations="relu")
    # Planted: each layer's last maps scaled by a gain that rises fastest at step 40, with a wobble of its own.
    steps = capture.steps.astype(np.float64)
    rng = np.random.default_rng(1)
    for delay, name in zip((0, 2, 4), capture.layer_names):
        gain = 0.02 + 1 / (1 + np.exp(-(steps - 38 - delay) / 3)) + rng.normal(scale=0.01, size=steps.size)
        last = np.asarray(capture.activations[name][-1], np.float32)
        capture.activations[name] = (gain[:, None, None, None, None] * last).astype(np.float16)
    spread = [_relative_spread(values) for values in capture.activations.values()]
    chosen, rule, window, basis = choose_steps(capture.steps, None, [None] * 3, spread)
    assert rule == "spread" and basis[0] <= 40 <= basis[1] and basis[1] - basis[0] <= 20
    assert window[0] < basis[0] and window[1] > basis[1] and set(chosen) <= set(capture.steps.tolist())
    assert len(chosen) == COLUMNS and chosen[0] == 0 and window == [chosen[1], chosen[-1]]
    flat, rule, window, _ = choose_steps(np.arange(50), None, [None], np.ones((1, 50)))
    assert rule == "run" and window == [flat[0], 49] and len(flat) == COLUMNS
    few, rule, _, _ = choose_steps(np.arange(4), 2, [3], np.zeros((1, 4)))
    assert rule == "all" and few == [0, 1, 2, 3]


def _findings(capture, plateau_end: int | None, informative: list) -> SimpleNamespace:
    """Return findings with just what the figure reads: the plateau and each layer's informative step and spread."""
    layers = [SimpleNamespace(name=name, informative_step=step,
                              timeline={"relative_spread": _relative_spread(values).tolist()})
              for (name, values), step in zip(capture.activations.items(), informative)]
    plateau = SimpleNamespace(left_at_step=plateau_end, steps=(plateau_end or 1) - 1)
    return SimpleNamespace(layers=layers, run=SimpleNamespace(plateau=plateau))


def test_the_context_writes_the_figure_for_any_layers_and_none_without_data(tmp_path):
    from pipeline.scales import choose_scale

    capture = synthetic_capture(steps=60, layers=("a", "b"), widths=(3, 20), sizes=(9, (1, 1)),
                                activations=("tanh", "linear"))
    manifest = {"layers": [{"name": name, "channels": values.shape[-1], "scale": choose_scale(values, activation),
                            "shown_channels": list(range(min(values.shape[-1], 16)))}
                           for (name, values), activation in zip(capture.activations.items(), ("tanh", "linear"))]}
    context = moment_context(capture, manifest, _findings(capture, 13, [15, 20]), tmp_path)
    assert context["rule"] == "plateau" and context["layers"] == ["a", "b"] and context["partial"]
    assert set(context["steps"]) <= set(capture.steps.tolist()) and len(context["steps"]) == COLUMNS
    with Image.open(tmp_path / "moment.png") as png:
        assert png.size == (context["width"], context["height"])
    assert context["src"] == "assets/moment.png"
    assert moment_context(capture, manifest, None, tmp_path) is None
    two = synthetic_capture(steps=1, layers=("a",), widths=(3,), sizes=(9,))
    single = dataclasses.replace(two, steps=two.steps[:1], activations={"a": two.activations["a"][:1]})
    assert moment_context(single, manifest, _findings(single, None, [None]), tmp_path) is None


@pytest.mark.parametrize("steps", [1, 3])
def test_short_runs_show_every_step(steps, tmp_path):
    from pipeline.scales import choose_scale

    capture = synthetic_capture(steps=steps, layers=("a",), widths=(4,), sizes=(7,))
    manifest = {"layers": [{"name": "a", "channels": 4, "scale": choose_scale(capture.activations["a"], "tanh")}]}
    context = moment_context(capture, manifest, _findings(capture, None, [None]), tmp_path)
    assert context["rule"] == "all" and context["steps"] == list(range(steps + 1))
