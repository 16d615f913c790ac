"""The build folder keeps the page templates compiled (build/templates.zip, report/compiled_templates.py): what it
keeps is Jinja2's code for each template's current source, a file of other settings or a damaged one gives nothing,
and a run that finds it damaged writes it whole again with a site of the same bytes.

The truth is Jinja2's own check of a compiled template against its source (the checksum in its bucket) and the short
run's site as generate.main wrote it when the shared run was built.
"""

from __future__ import annotations

import zipfile

from report.compiled_templates import CACHE_NAME, STAMP_MEMBER, CompiledTemplates
from report.voice import COMPILED, environment
from tests.helpers import generate_here, tree


def _loaded(path, stamp: str) -> list[str]:
    """Return the templates whose code a fresh cache with `stamp` takes from `path` for their current source."""
    fresh = CompiledTemplates(stamp)
    fresh.load(path)
    env = environment()
    found = []
    for name in env.list_templates(filter_func=lambda name: name.endswith(".j2")):
        source, filename, _ = env.loader.get_source(env, name)
        if fresh.get_bucket(env, name, filename, source).code is not None:
            found.append(name)
    return found


def test_the_build_keeps_every_template_the_site_compiled_as_code_for_its_source(built):
    kept = built[0] / CACHE_NAME
    with zipfile.ZipFile(kept) as archive:
        names = archive.namelist()
        assert names[0] == STAMP_MEMBER and archive.read(STAMP_MEMBER).decode() == COMPILED.stamp
    loaded = _loaded(kept, COMPILED.stamp)
    assert "article.html.j2" in loaded and any(name.startswith("words/") for name in loaded)
    assert len(loaded) == len(names) - 1  # every template kept loads, as Jinja2's checksum of its source says
    assert _loaded(kept, "other settings") == []


def test_a_damaged_file_gives_nothing_and_the_next_run_writes_it_whole_with_the_same_site(run_copy):
    build, site = run_copy
    kept = build / CACHE_NAME
    before = tree(site)
    kept.write_bytes(kept.read_bytes()[:1000])
    assert _loaded(kept, COMPILED.stamp) == []
    assert generate_here("site", build, site).returncode == 0
    assert tree(site) == before and len(_loaded(kept, COMPILED.stamp)) > 20
