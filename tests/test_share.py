"""The one-file report (`generate.py share`): copied alone into an empty folder, in real Chromium, against the site."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import explorer_browser as page
from tests import explorer_truth as truth
from tests import harness
from tests.explorer_fixtures import LAYER
from tests.helpers import REPO, generate, generate_here

COMPACT = "[data-explorer-compact]"


def share_command(build: Path, site: Path, share: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run `generate.py share` with the shared short run's flags (its capture is reused) as generate.main in this
    process; the module's first share (`shared`) is a real generate.py process, so the same-bytes test compares
    across processes."""
    return generate_here("share", build, site, "--share-dir", str(share), *extra)


@pytest.fixture(scope="module")
def shared(built, tmp_path_factory):
    """The short run's build folder copied, then `generate.py share` on it (no training): (build, site, file)."""
    root = tmp_path_factory.mktemp("share")
    build, site, share = root / "build", root / "site", root / "share"
    shutil.copytree(built[0], build, symlinks=True)
    result = generate("share", build, site, "--share-dir", str(share))  # as a user would: its own process
    assert result.returncode == 0, result.stderr
    files = [path for path in share.iterdir() if not path.name.startswith(".")]
    assert len(files) == 1 and files[0].suffix == ".html", files
    return build, site, files[0]


@pytest.fixture
def alone(shared, tmp_path):
    """The shared file copied alone into an empty folder."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return Path(shutil.copy(shared[2], folder))


def meta_of(html_path: Path) -> dict:
    """Return the explore.json a page holds."""
    return json.loads(re.search(r'<script type="application/json" id="explorer-meta"[^>]*>(.*?)</script>',
                                html_path.read_text(), re.S).group(1))


def requested(driver) -> set[str]:
    """Return every URL but data: ones that the page requested so far (Performance API and DevTools events)."""
    urls = {entry["name"] for entry in driver.execute_script(harness.tools.script("resources"))}
    urls |= {event["params"]["request"]["url"] for event in harness.page.network_events(driver)
             if event["method"] == "Network.requestWillBeSent"}
    return {url.split("#")[0] for url in urls if not url.startswith("data:")}


def views(driver, layers: list[str]) -> dict:
    """Return the canvases of the compact view and of every layer's view, once each shows the current step."""
    shots = {COMPACT: page.read_view(driver, COMPACT, ["[data-explorer-compact-input]"])}
    for name in layers:
        shots[name] = page.read_view(driver, LAYER.format(name), [".xl-grid", ".xl-probes"])
    return shots


def test_file_alone_opens_at_a_deep_linked_step_and_draws_what_the_site_draws(shared, alone, driver):
    _, site, _ = shared
    steps = meta_of(alone)["steps"]
    step = steps[len(steps) // 2]
    url = harness.file_url(alone) + f"#step={step}"
    report = harness.check_page(driver, url)
    assert report.ok, str(report)
    info = page.open_at(driver, url)
    assert info["index"] == steps.index(step) and page.state(driver)["shown"] == str(step)
    shared_views = views(driver, info["layers"])
    drawn = [canvas for shot in shared_views.values() for canvas in shot["canvases"] if canvas["width"] > 0]
    assert len(drawn) >= 6 and len(drawn) == 1 + 2 * len(info["layers"])  # each shown at the step asked for
    assert requested(driver) == {harness.file_url(alone)}  # the file itself, and nothing else
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == [], severe
    page.open_at(driver, harness.file_url(site / "index.html") + f"#step={step}")
    site_views = views(driver, info["layers"])
    for name, shot in shared_views.items():
        assert [canvas["png"] for canvas in shot["canvases"]] == \
            [canvas["png"] for canvas in site_views[name]["canvases"]], name


def test_file_alone_passes_axe_and_vnu(alone, driver):
    harness.require(harness.axe_available())
    driver.get(harness.file_url(alone))
    assert harness.run_axe(driver) == []
    harness.require(harness.vnu_available())
    assert harness.run_vnu([alone]) == []


def test_file_alone_opens_a_channels_story_with_its_images_inside(shared, alone, driver):
    build, site, _ = shared
    findings = json.loads((site / "assets" / "findings.json").read_text())
    layer = findings["layers"][1]
    number = next(ch["channel"] + 1 for ch in layer["channels"] if ch["filter"] is not None)
    page.open_at(driver, harness.file_url(alone))
    button = driver.find_element("css selector", f"#{layer['name']}-ch{number} .xl-open")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
    page.wait_for(lambda: driver.execute_script(
        "return !!document.getElementById('explorer-story').open && !document.querySelector('[data-story-body]').hidden"
        " && Array.from(document.querySelectorAll('#explorer-story img:not([hidden])')).every("
        "i => i.complete && i.naturalWidth > 0)"), what="the channel's story, its images loaded")
    sources = driver.execute_script(
        "return Array.from(document.querySelectorAll('#explorer-story img:not([hidden])')).map(i => i.src)")
    # the filter and the patch strip, both inside the file: the same bytes as the site's PNGs
    assert len(sources) == 2 and all(source.startswith("data:image/png;base64,") for source in sources)
    import base64

    site_files = {(site / "assets" / f"filters/{layer['name']}-{number}.png").read_bytes(),
                  (site / "assets" / f"patches-{layer['name']}.png").read_bytes()}
    assert {base64.b64decode(source.split(",", 1)[1]) for source in sources} == site_files
    assert requested(driver) == {harness.file_url(alone)}


def test_without_javascript_the_file_alone_shows_its_posters(alone, driver):
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(harness.file_url(alone))
        layers = len(meta_of(alone)["layers"])
        page.wait_for(lambda: len([width for source, width in driver.execute_script(
            "return Array.from(document.querySelectorAll('.poster img')).map(i => [i.currentSrc, "
            "i.complete ? i.naturalWidth : 0])") if source.startswith("data:image/png") and width > 0]) == layers,
            what="every layer's poster to load")
        assert not any(element.is_displayed() for element in driver.find_elements("css selector",
                                                                                  "[data-explorer-ui]"))
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_file_references_nothing_but_itself_and_says_what_it_leaves_out(shared):
    build, site, path = shared
    markup = path.read_text()
    references = re.findall(r'(?:href|src|poster|srcset)="([^"]*)"', markup)
    assert references and all(ref.startswith(("data:", "#")) for ref in references), \
        sorted({ref[:40] for ref in references if not ref.startswith(("data:", "#"))})
    assert "<noscript>" in markup and not re.search(r"\.(mp4|webm|keras)\"", markup)
    assert len(re.findall(r'class="left-out"', markup)) == 1
    for private in (str(build.parent), str(REPO)):
        assert private not in markup
    names = re.findall(r'<script src="static/([^"]+)" defer>', (site / "index.html").read_text())
    from report.page.inline import EXPLORER_SCRIPTS

    assert tuple(names) == EXPLORER_SCRIPTS  # the file runs the site's scripts, in the site's order
    assert path.stat().st_size <= 10_000_000


def test_same_capture_gives_the_same_bytes_and_a_public_url_is_linked(shared, tmp_path):
    build, _, path = shared
    again = share_command(build, tmp_path / "site", tmp_path / "again")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    linked = share_command(build, tmp_path / "site", tmp_path / "linked", "--public-url", "https://example.org/see")
    assert linked.returncode == 0, linked.stderr
    markup = (tmp_path / "linked" / path.name).read_text()
    assert '<a href="https://example.org/see/">the published site</a>' in markup
    assert re.search(r'<meta property="og:image" content="https://example.org/see/assets/[^"]+\.png">', markup)


@pytest.mark.parametrize("flags", [["--public-url", "ftp://example.org/"], ["--public-url", "example.org"]])
def test_a_bad_public_url_is_refused_in_one_line(shared, tmp_path, flags):
    build = tmp_path / "build"
    shutil.copytree(shared[0], build, symlinks=True)
    result = share_command(build, tmp_path / "site", tmp_path / "share", *flags)
    assert result.returncode == 2 and result.stderr.startswith("error: --public-url"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists() and not (tmp_path / "share").exists()


def test_a_share_dir_of_someone_elses_is_refused_and_left_intact(shared, tmp_path):
    build = tmp_path / "build"
    shutil.copytree(shared[0], build, symlinks=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.html").write_text("my own notes\n")
    result = share_command(build, tmp_path / "site", mine)
    assert result.returncode == 2 and result.stderr.startswith("error: --share-dir"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "notes.html" in result.stderr
    assert sorted(path.name for path in mine.iterdir()) == ["notes.html"]
    assert (mine / "notes.html").read_text() == "my own notes\n" and not (tmp_path / "site").exists()


@pytest.mark.parametrize("share", ["site", "site/share", "."])
def test_a_share_dir_in_or_over_the_site_is_refused(shared, tmp_path, share):
    build = tmp_path / "work" / "build"
    shutil.copytree(shared[0], build, symlinks=True)
    result = share_command(build, tmp_path / "work" / "site", tmp_path / "work" / share)
    assert result.returncode == 2 and result.stderr.startswith("error: --share-dir"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["build"]


def test_data_that_do_not_fit_keep_every_kth_snapshot_of_the_sites_levels(shared, tmp_path):
    from capture.archive import Capture
    from pipeline.layout import Layout
    from report import share

    build = shared[0]
    manifest = json.loads((build / "assets" / "manifest.json").read_text())
    budget = manifest["explore"]["bytes"] + share.INLINE_SCRIPT_BYTES * len(manifest["explore"]["chunks"]) - 1
    meta, chunks = share.explorer_data(Capture.load(build / "capture.h5"), manifest, Layout(build, tmp_path), budget)
    assert meta["stride"] > 1 and sum(len(chunk) + share.INLINE_SCRIPT_BYTES for chunk in chunks) <= budget
    site_meta = json.loads((build / "assets" / "explore.json").read_text())
    kept = site_meta["steps"][::meta["stride"]]
    assert meta["steps"] == kept + site_meta["steps"][-1:] * (kept[-1] != site_meta["steps"][-1])  # first and last
    # The sparser data are the site's own levels at the kept steps (the render stage's scales and channel order).
    assert [layer["fixed_table"] for layer in meta["layers"]] == [layer["fixed_table"] for layer in site_meta["layers"]]
    site_chunks = {}
    for chunk in manifest["explore"]["chunks"]:
        layer, probe, group, levels = truth.read_chunk(build / "assets" / chunk["path"], site_meta)
        site_chunks[layer, probe, group] = levels
    assert len(chunks) == len(site_chunks)
    rows = [site_meta["steps"].index(step) for step in meta["steps"]]
    for layer, site_layer in zip(meta["layers"], site_meta["layers"]):  # each kept step keeps its exponent
        assert layer["exponents"] == [site_layer["exponents"][row] for row in rows]
    for number, text in enumerate(chunks):
        (tmp_path / f"{number}.js").write_bytes(text)
        layer, probe, group, levels = truth.read_chunk(tmp_path / f"{number}.js", meta)
        assert (levels == site_chunks[layer, probe, group][rows]).all()


def test_a_file_over_its_budget_says_which_snapshots_it_keeps_and_fits(shared, tmp_path, monkeypatch):
    from capture.archive import Capture
    from pipeline.layout import Layout
    from report import share

    build, _, path = shared
    budget, slack = path.stat().st_size - 1, share.SLACK_BYTES  # the data no longer fit whole: a longer run's case
    monkeypatch.setattr(share, "BUDGET_BYTES", budget)
    monkeypatch.setattr(share, "SLACK_BYTES", 0)  # a short run's sparser data save less than the slack
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    manifest = json.loads((build / "assets" / "manifest.json").read_text())
    written = share.run(Capture.load(build / "capture.h5"), manifest, Layout(build, tmp_path / "s", tmp_path / "f"))
    meta, markup = meta_of(written), written.read_text()
    stride = re.search(r'<p class="x-stride">.*?</p>', markup, re.S).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", stride))
    assert meta["stride"] > 1 and f"holds every {meta['stride']}" in text
    assert f"({len(meta['steps'])}, the first and last among them), so that the file stays light" in text
    # What the page grows by when it keeps fewer snapshots is this sentence: SLACK_BYTES leaves room for it.
    assert written.stat().st_size <= budget + len(stride.encode()) and len(stride.encode()) < 1000 <= slack


def test_make_clean_removes_a_share_folder_only_with_the_marker(shared, tmp_path):
    from pipeline import clean

    ours, theirs = tmp_path / "share", tmp_path / "theirs"
    shutil.copytree(shared[2].parent, ours)
    theirs.mkdir()
    (theirs / "report.html").write_text("mine\n")
    assert clean.main([str(ours), str(theirs)]) == 2
    assert not ours.exists() and (theirs / "report.html").read_text() == "mine\n"


def test_an_interrupted_share_leaves_the_previous_file_whole(shared, tmp_path, monkeypatch):
    from capture.archive import Capture
    from pipeline.layout import Layout
    from report import share

    build, _, path = shared
    previous = tmp_path / "share"
    shutil.copytree(path.parent, previous)
    before = {item.name: item.read_bytes() for item in previous.iterdir()}

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt("interrupted while writing the file")

    monkeypatch.setattr(share, "page", interrupted)
    manifest = json.loads((build / "assets" / "manifest.json").read_text())
    with pytest.raises(KeyboardInterrupt):
        share.run(Capture.load(build / "capture.h5"), manifest, Layout(build, tmp_path / "site", previous))
    assert {item.name: item.read_bytes() for item in previous.iterdir()} == before
    assert sorted(item.name for item in tmp_path.iterdir()) == ["share"]
