"""The explorer of a capture unlike the article's, in real Chromium: RGB probes, a 40-channel ReLU layer of
non-square maps (three channel groups), a Dense layer of 64 units (1x1 maps) and a run long enough that a
small data budget keeps every k-th snapshot. The page is the explorer's partials alone (tests/explorer_site.py),
its pixels compared with numpy truth recomputed from the capture (tests/explorer_truth.py)."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from report.words.wording import ordinal
from tests import explorer_browser as page
from tests import explorer_truth as truth
from tests import harness
from tests.explorer_fixtures import LAYER
from tests.explorer_site import build_explorer_site
from tests.helpers import write_synthetic_model
from tests.synthetic_capture import synthetic_capture

RELU, DENSE = "block1/conv", "dense"
ACTIVATIONS = {RELU: "relu", DENSE: "linear"}
BUDGET = 200_000  # bytes: a few times smaller than this run's chunks at every step
CLASS_NAMES = ["heron", "kestrel", "wren", "plover"]


@pytest.fixture(scope="module")
def anyrun(tmp_path_factory):
    """Build the explorer page of the synthetic run; return its capture, site folder and data."""
    capture = synthetic_capture(steps=401, probes=4, layers=(RELU, DENSE), widths=(40, 64), sizes=((6, 4), 1),
                                activations=("relu", "linear"), rgb=True, origin="builder")
    capture.meta["dataset"]["class_names"] = CLASS_NAMES
    site = tmp_path_factory.mktemp("anylayer")
    built = build_explorer_site(capture, site, ACTIVATIONS, budget_bytes=BUDGET)
    return {"capture": capture, "site": site, **built}


@pytest.fixture()
def served(anyrun):
    with harness.serve_directory(anyrun["site"]) as base:
        yield base


def strided(count: int, stride: int) -> list[int]:
    return sorted(set(range(0, count, stride)) | {count - 1})


def expected_groups(values) -> list[list[int]]:
    order = truth.ranking(values)
    return [sorted(order[i:i + 16]) for i in range(0, len(order), 16)]


def test_every_channel_is_in_the_data_at_the_smallest_stride_that_fits(anyrun):
    capture, meta, entry = anyrun["capture"], anyrun["meta"], anyrun["entry"]
    count = len(capture.steps)
    stride = meta["stride"]
    assert stride > 1 and entry["stride"] == stride and meta["snapshots"] == count
    kept = strided(count, stride)
    assert kept[0] == 0 and kept[-1] == count - 1 and (count - 1) % stride  # the last is kept though off the stride
    assert meta["steps"] == [int(capture.steps[i]) for i in kept]
    sizes = {}
    for layer in meta["layers"]:
        values = capture.activations[layer["name"]]
        scale = anyrun["scales"][layer["name"]]
        levels, exponents = truth.run_levels(values, max(abs(end) for end in scale["domain"]))  # (T, N, H, W, C)
        exponents = np.asarray(exponents)
        assert layer["exponents"] == exponents[kept].tolist()
        assert layer["fixed_table"] == truth.scale_table(scale).tolist()
        assert [list(base64.b64decode(meta["level_tables"][index])) for index in layer["fine_tables"]] == \
            [truth.scale_table(scale, k).tolist() for k in range(1, exponents[kept].max() + 1)]
        groups = expected_groups(values)
        assert [group["channels"] for group in layer["groups"]] == groups
        for g, group in enumerate(layer["groups"]):
            for probe, file in enumerate(group["files"]):
                name, chunk_probe, chunk_group, decoded = truth.read_chunk(anyrun["site"] / "assets" / file["path"],
                                                                           meta)
                assert (name, chunk_probe, chunk_group) == (layer["name"], probe, g)
                want = levels[kept, probe][..., groups[g]]  # (T', H, W, c)
                assert (decoded == want.transpose(0, 3, 1, 2).reshape(len(kept), -1)).all(), (name, probe, g)
                for k in (stride, stride - 1):
                    rows = strided(count, k)
                    sizes[k] = sizes.get(k, 0) + truth.chunk_script_size(
                        name, probe, g, levels[rows, probe][..., groups[g]], exponents[rows])
    assert sizes[stride] == entry["bytes"] <= BUDGET < sizes[stride - 1]
    assert meta["probe_names"] == CLASS_NAMES and meta["probe_color"] == "rgb"
    kinds = {layer["name"]: layer["kind"] for layer in meta["layers"]}
    assert kinds == {RELU: "sequential", DENSE: "diverging"}


def assert_view_shows(driver, anyrun, name: str, group: int, t: int, indices=None) -> dict:
    """Read a layer's view and check its grid against the truth for one channel group at snapshot t."""
    capture, meta = anyrun["capture"], anyrun["meta"]
    values = capture.activations[name]
    scale = anyrun["scales"][name]
    channels = expected_groups(values)[group]
    shot = page.read_view(driver, LAYER.format(name), [".xl-grid", ".xl-probes"])
    grid = shot["canvases"][0]
    kept = strided(len(capture.steps), meta["stride"])
    levels, exponent = truth.step_levels(values[kept[t]], max(abs(end) for end in scale["domain"]))  # (N, H, W, C)
    shown = truth.grid_blocks(truth.decode_png(grid["png"]), grid, len(channels), levels.shape[0], values.shape[2:4])
    index = truth.scale_table(scale, exponent)[levels] if indices is None else indices(levels)
    expected = truth.PALETTE[index.transpose(3, 0, 1, 2)[channels]]  # (c, N, H, W, 3)
    wrong = np.argwhere((shown != expected).any(-1))
    assert wrong.size == 0, f"{name} group {group}: {len(wrong)} values differ, first {wrong[0].tolist()}"
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .xl-rows li')).filter(li => !li.hidden)"
        ".map(li => +li.querySelector('.xl-num').textContent)", LAYER.format(name))
    assert rows == [c + 1 for c in channels]  # each row labelled with its channel's number
    return shot


def test_group_0_and_then_group_2_draw_their_channels(anyrun, driver, served):
    info = page.open_at(driver, served + "index.html")
    last = len(info["steps"]) - 1
    assert info["index"] == last
    assert_view_shows(driver, anyrun, RELU, 0, last)
    showing = driver.find_element(By.CSS_SELECTOR, f"{LAYER.format(RELU)} [data-explorer-showing]").text
    assert showing.startswith("Showing the 16 most active of 40 channels")
    picker = Select(driver.find_element(By.CSS_SELECTOR, f"{LAYER.format(RELU)} [data-explorer-group]"))
    assert [option.text for option in picker.options] == ["ranked 1\u201316 (most active)", "ranked 17\u201332",
                                                         "ranked 33\u201340 (least active)"]
    picker.select_by_value("2")
    assert_view_shows(driver, anyrun, RELU, 2, last)
    showing = driver.find_element(By.CSS_SELECTOR, f"{LAYER.format(RELU)} [data-explorer-showing]").text
    assert "ranked 33\u201340" in showing, showing
    assert_view_shows(driver, anyrun, DENSE, 0, last)


def test_rgb_probes_are_drawn_in_their_colours(anyrun, driver, served):
    images = anyrun["capture"].probe_images  # (N, 28, 28, 3)
    page.open_at(driver, served + "index.html")
    for name in (RELU, DENSE):
        head = page.read_view(driver, LAYER.format(name), [".xl-probes"])["canvases"][0]
        assert head["block"] == int(head["block"]) >= 1
        drawn = truth.grid_blocks(truth.decode_png(head["png"]), head, 1, len(images), images.shape[1:3])[0]
        assert (drawn == images).all(), name


def test_slider_moves_over_the_kept_steps_and_the_page_says_so(anyrun, driver, served):
    meta, steps = anyrun["meta"], anyrun["meta"]["steps"]
    stride = meta["stride"]
    page.open_at(driver, served + "index.html")
    text = driver.find_element(By.ID, "explorer").text
    assert f"every {ordinal(stride)} of the run\u2019s {meta['snapshots']} snapshots" in text.replace("'", "\u2019")
    slider = driver.find_element(By.ID, "explorer-step")
    assert int(slider.get_attribute("max")) == len(steps) - 1
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    for keys, step in ((Keys.HOME, steps[0]), (Keys.ARROW_RIGHT, steps[1]), (Keys.END, steps[-1]),
                       (Keys.ARROW_LEFT, steps[-2])):
        slider.send_keys(keys)
        assert page.state(driver)["shown"] == str(step), keys
    assert steps[1] - steps[0] == stride and steps[-1] - steps[-2] < stride
    page.open_at(driver, served + f"index.html#step={steps[3] + 1}")  # between kept steps: the one before
    assert page.state(driver)["shown"] == str(steps[3])
    assert_view_shows(driver, anyrun, RELU, 0, 3)


def test_contrast_scale_of_a_sequential_layer(anyrun, driver, served):
    meta = anyrun["meta"]
    t = len(meta["steps"]) // 3
    page.open_at(driver, served + f"index.html#step={meta['steps'][t]}")
    driver.find_element(By.CSS_SELECTOR, "[data-explorer-contrast]").click()
    scale = anyrun["scales"][RELU]
    values = anyrun["capture"].activations[RELU][strided(meta["snapshots"], meta["stride"])[t]]
    extent = truth.step_extent(truth.step_levels(values, scale["domain"][1])[0])
    assert_view_shows(driver, anyrun, RELU, 0, t, lambda levels: truth.contrast_indices(levels, extent))
    legend = driver.find_element(By.CSS_SELECTOR, f'[data-explorer-legend="{RELU}"]').text
    assert legend.startswith("Contrast scale: full blue at"), legend
    driver.find_element(By.CSS_SELECTOR, "[data-explorer-contrast]").click()
    page.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f'[data-explorer-legend="{RELU}"]').text
                  .startswith("Fixed scale: 0 white to"), what="the sequential legend")


def test_a_link_to_a_channel_of_another_group_shows_that_group(anyrun, driver, served):
    channel = expected_groups(anyrun["capture"].activations[RELU])[1][3]
    page.open_at(driver, served + "index.html")
    driver.execute_script("location.hash = arguments[0]", f"#{RELU}-ch{channel + 1}")
    row = driver.find_element(By.ID, f"{RELU}-ch{channel + 1}")
    page.wait_for(lambda: row.is_displayed(), what="the linked row to be shown")
    assert driver.find_element(By.CSS_SELECTOR, f"{LAYER.format(RELU)} [data-explorer-group]").get_attribute(
        "value") == "1"
    assert_view_shows(driver, anyrun, RELU, 1, len(anyrun["meta"]["steps"]) - 1)


def test_the_page_loads_from_disk_and_passes_axe_and_vnu(anyrun, driver, served):
    for url in (harness.file_url(anyrun["site"] / "index.html"), served + "index.html"):
        report = harness.check_page(driver, url)
        assert report.ok, str(report)
        page.open_at(driver, url)
        for selector in ["[data-explorer-compact]", LAYER.format(RELU), LAYER.format(DENSE)]:
            page.read_view(driver, selector, [])
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        assert severe == [], severe
    harness.require(harness.axe_available())
    for width, height in (harness.DESKTOP, harness.PHONE):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                      "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            page.open_at(driver, served + "index.html")
            page.read_view(driver, "[data-explorer-compact]", [])
            page.read_view(driver, LAYER.format(RELU), [])
            assert harness.run_axe(driver) == [], width
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    harness.require(harness.vnu_available())
    assert harness.run_vnu([anyrun["site"] / "index.html"]) == []


def test_the_whole_article_of_such_a_run_loads_plays_and_passes_axe_and_vnu(driver, tmp_path):
    import os

    from pipeline.layout import Layout
    from pipeline.ownership import BUILD, claim
    from render.assets import render_capture
    from report import stage

    capture = synthetic_capture(steps=30, probes=4, layers=("block1_conv", DENSE), widths=(40, 64),
                                sizes=((6, 4), 1), activations=("relu", "linear"), rgb=True, origin="builder")
    claim(tmp_path / "build", BUILD)  # what generate.py's prepare does: the build folder is the tool's
    manifest = render_capture(capture, tmp_path / "build" / "assets", progress=False)
    assert manifest["explore"]["stride"] == 1  # the default budget holds a short run whole
    layout = Layout(tmp_path / "build", tmp_path / "site")
    write_synthetic_model(layout.model)  # the page links a model; this run has none
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        index = stage.run(capture, manifest, layout)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    page.check_article_loads_plays_and_passes(driver, index)
