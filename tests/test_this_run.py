"""The box "This run and the post" at the top of the article (report/page/this_run.py, partials/this_run.html.j2).

Its numbers are recomputed here from the archive (h5py, numpy) and the model file (zipfile, json), not through
report/; the test run's short real run of examples/relu_glorot.py (tests/conftest.py's relu_run) checks a user's
model, and its page at phone width.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np

from tests import harness
from tests.helpers import SHORT

DUPLICATE_MIN_R = 0.9  # report/numbers/thresholds.py, restated


def box_rows(site: Path) -> dict[str, list[str]]:
    """Return the box's rows by their data-this-run key: each cell's text (header cell first)."""
    markup = (site / "index.html").read_text()
    found = re.search(r'<section class="this-run".*?</section>', markup, re.S)
    assert found, "the page has no box 'This run and the post'"
    header = markup[:found.start()]
    assert '<header class="masthead">' in header and "</header>" not in header  # at the top, in the header
    rows = {}
    for key, body in re.findall(r'<tr data-this-run="([a-z_]+)"[^>]*>(.*?)</tr>', found.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        rows[key] = [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell))).strip() for cell in cells]
    return rows


def differing(rows: dict[str, list[str]]) -> set[str]:
    """Return the settings rows marked as differing from the post."""
    return {key for key, cells in rows.items() if len(cells) == 4 and cells[3] == "differs"}


def model_facts(model: Path) -> tuple[list[dict], dict]:
    """Return the conv layers' kernel initialisers and the optimiser from the model file's config.json."""
    with zipfile.ZipFile(model) as archive:
        config = json.loads(archive.read("config.json"))
    inits = [layer["config"]["kernel_initializer"] for layer in config["config"]["layers"]
             if layer["class_name"] == "Conv2D"]
    return inits, config["compile_config"]["optimizer"]


def archive_facts(capture: Path) -> dict:
    """Return the final accuracy, the first test step at 90% and the early layers' near-duplicate share."""
    with h5py.File(capture, "r") as archive:
        meta = json.loads(bytes(archive["meta"][()]).decode())
        steps, accuracy = archive["test_steps"][()], archive["test_accuracy"][()]
        if "analysis" in archive:  # the pairs are measured on the analysis images where the run has them
            finals = [archive["analysis"]["final"][str(index)][()] for index in (0, 1)]
        else:
            finals = [archive["activations"][str(index)][()][-1] for index in (0, 1)]
    reaching = pairs = 0
    for maps in finals:
        flat = np.asarray(maps, np.float64).reshape(-1, maps.shape[-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.nan_to_num(np.corrcoef(flat, rowvar=False))
        upper = np.abs(r[np.triu_indices(r.shape[0], k=1)])
        reaching, pairs = reaching + int((upper >= DUPLICATE_MIN_R).sum()), pairs + upper.size
    hit = np.flatnonzero(accuracy >= 0.9)
    return {"accuracy": meta["final_test_accuracy"], "ninety": int(steps[hit[0]]) if hit.size else None,
            "share": reaching / pairs, "reaching": reaching, "pairs": pairs}


def findings_plateau(site: Path) -> dict:
    """Return the published findings' plateau (the findings download)."""
    (path,) = site.rglob("findings.json")
    return json.loads(path.read_text())["run"]["plateau"]


def plateau_text(plateau: dict) -> str:
    if not plateau["found"]:
        return "no plateau"
    if plateau["left_at_step"] is None:
        return f"{plateau['steps']:,} steps; never left"
    return f"{plateau['steps']:,} steps; left at step {plateau['left_at_step']:,}"


def check_figures(rows: dict[str, list[str]], build: Path, site: Path) -> None:
    facts = archive_facts(build / "capture.h5")
    assert rows["accuracy"][1] == f"{facts['accuracy'] * 100:.1f}%"
    assert rows["ninety"][1] == (f"step {facts['ninety']:,}" if facts["ninety"] is not None else "not reached")
    assert rows["duplicates"][1] == f"{facts['share'] * 100:.1f}% ({facts['reaching']} of {facts['pairs']} pairs)"
    assert "conv1–conv2" in rows["duplicates"][0]
    assert rows["plateau"][1] == plateau_text(findings_plateau(site))
    assert rows["ninety"][2] == "not stated" and rows["duplicates"][2] == "not stated"
    assert "95%" in rows["accuracy"][2] and "60 steps" in rows["plateau"][2]


def test_box_on_the_short_run_of_the_article_model(built):
    build, site = built
    rows = box_rows(site)
    # The short run (tests/helpers.py SHORT): the bundled 10,000-image subset and 4 steps; batch 1,024 as the post's.
    assert "--steps" in SHORT and SHORT[SHORT.index("--steps") + 1] == "4" and "--batch-size" not in SHORT
    assert differing(rows) == {"dataset", "steps"}
    assert rows["steps"][1:3] == ["4", "290"] and rows["batch_size"][1:4] == ["1,024", "1,024", "same"]
    assert rows["model"][1] == "the post's CNN" and "six 3×3 conv layers" in rows["model"][2]
    assert rows["activation"][1].startswith("tanh (conv1–conv6)") and rows["activation"][2].startswith("tanh")
    inits, optimizer = model_facts(build / "model.keras")
    assert {(i["class_name"], i["config"]["mean"], i["config"]["stddev"]) for i in inits} == {
        ("RandomNormal", 0.0, 0.01)}
    for cell in rows["initialiser"][1:3]:
        assert "N(0, 0.01)" in cell and "RandomNormal" in cell
    assert optimizer["class_name"] == "Adam"
    assert rows["optimizer"][1] == f"Adam, learning rate {optimizer['config']['learning_rate']:g}"
    assert "10,000 training images" in rows["dataset"][1] and "60,000" in rows["dataset"][2]
    check_figures(rows, build, site)
    assert "make compare" in (site / "index.html").read_text()  # no run of the article's model beside it


def test_box_on_a_relu_glorot_run_and_its_phone_page(relu_run, driver):
    build, site = relu_run  # tests/conftest.py: 40 steps of 256 of examples/relu_glorot.py on the bundled data
    rows = box_rows(site)
    assert rows["activation"][1] == "ReLU (conv1–conv6)" and rows["activation"][2].startswith("tanh")
    assert rows["initialiser"][1] == "GlorotUniform (conv1–conv6)"
    assert {"activation", "initialiser", "model", "steps", "dataset", "batch_size"} == differing(rows)
    assert rows["batch_size"][1:3] == ["256", "1,024"]
    assert rows["model"][1].startswith("relu_glorot, from ")
    inits, _ = model_facts(build / "model.keras")
    assert {init["class_name"] for init in inits} == {"GlorotUniform"}
    if not findings_plateau(site)["found"]:
        assert rows["plateau"][1] == "no plateau"
    check_figures(rows, build, site)

    harness.require(harness.chromium_available())
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        driver.get(harness.file_url(site / "index.html"))
        width = driver.execute_script("return document.scrollingElement.scrollWidth")
        box = driver.execute_script("return document.querySelector('.this-run').getBoundingClientRect().right")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert width <= 390, width
    assert box <= 390, box
