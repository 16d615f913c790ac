"""The figures kept in build/figures.json (report/figure_cache.py) are the figures the site shows, a page built
from them is the page built by drawing, and a stored figure that is damaged or from other findings is drawn again.

The truth is the short run's own site, drawn by matplotlib when the shared run was built, and a second run of
generate.main with the cache damaged or removed.
"""

from __future__ import annotations

import json

from report.figure_cache import CACHE_NAME, FigureCache
from tests.helpers import generate_here, tree


def _svg_names(site) -> set[str]:
    """The site's SVG figures drawn by the site stage (the curves' SVG is the render stage's)."""
    return {path.name for path in (site / "assets").glob("*.svg") if not path.name.startswith("curves")}


def test_the_stored_figures_are_the_sites_figures(built):
    build, site = built
    stored = json.loads((build / CACHE_NAME).read_text())["figures"]
    assert set(stored) == _svg_names(site) and {"settling.svg", "xor.svg"} <= set(stored)
    for name, entry in stored.items():
        assert entry["svg"].encode("utf-8") == (site / "assets" / name).read_bytes(), name


def test_a_damaged_or_missing_store_is_drawn_again_to_the_same_bytes(run_copy):
    build, site = run_copy
    before = tree(site)
    path = build / CACHE_NAME
    data = json.loads(path.read_text())
    data["figures"]["settling.svg"]["svg"] = data["figures"]["settling.svg"]["svg"].replace("<svg", "<svg x='1'", 1)
    path.write_text(json.dumps(data))
    assert generate_here("site", build, site).returncode == 0
    assert tree(site) == before  # the damaged figure was not used: its sha256 no longer matched
    repaired = json.loads(path.read_text())["figures"]["settling.svg"]
    assert repaired["svg"].encode("utf-8") == (site / "assets" / "settling.svg").read_bytes()
    path.unlink()
    assert generate_here("site", build, site).returncode == 0
    assert tree(site) == before and path.is_file()


def test_other_findings_loss_or_edition_read_nothing_back(built):
    build, _ = built
    findings = (built[1] / "assets" / "findings.json").read_text()
    stored = json.loads((build / CACHE_NAME).read_text())
    loss = [float(value) for value in range(4)]
    key = stored["key"]
    same = FigureCache.open(build, findings, _loss(build), True, key["edition"])
    assert same.key == key and same.stored == stored["figures"]
    assert FigureCache.open(build, findings + " ", _loss(build), True, key["edition"]).stored == {}
    assert FigureCache.open(build, findings, loss, True, key["edition"]).stored == {}
    assert FigureCache.open(build, findings, _loss(build), True, "zh").stored == {}


def _loss(build):
    """The short run's training loss, as the site stage reads it from the archive."""
    from capture.archive import Capture

    return Capture.load(build / "capture.h5").train_loss
