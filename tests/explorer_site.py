"""A standalone explorer page for a capture of any shape: the explorer's partials and data, nothing else.

The whole article needs an analysis of the run; the explorer does not. `build_explorer_site` writes the
page data with render/page_data.py (scales and rankings from pipeline/scales.py, as the render stage chooses
them), copies the static files and renders the step bar, the explorer and one view per layer with the
site's own Jinja environment and partials, so the page a reader gets is tested with any layer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline.scales import channel_ranking, choose_scale
from render.page_data import write_page_data
from report.page.explorer import explorer_context
from report.stage import STATIC, environment

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The explorer of a synthetic run</title>
<link rel="stylesheet" href="static/site.css">
{% include "partials/explorer_head.html.j2" %}
</head>
<body>
<main id="main">
<h1>The explorer of a synthetic run</h1>
<div class="x-scope">
{% include "partials/explorer_stepbar.html.j2" %}
{% include "partials/explorer.html.j2" %}
{% for layer in layers %}<section id="{{ layer.name }}" class="layer" aria-labelledby="{{ layer.name }}-title">
<h2 id="{{ layer.name }}-title">{{ layer.name }}</h2>
{{ layer_view(layer.name, layer.channels, explorer.rows[layer.name], explorer) }}
</section>
{% endfor %}</div>
</main>
</body>
</html>
"""


def build_explorer_site(capture, site_dir: Path, activations: dict[str, str], **page_data) -> dict:
    """Write a page of the explorer alone for `capture` into site_dir; return explore.json and the entry."""
    site_dir = Path(site_dir)
    assets, static = site_dir / "assets", site_dir / "static"
    values = capture.activations
    scales = {name: choose_scale(values[name], activations[name]) for name in values}
    rankings = {name: channel_ranking(values[name]) for name in values}
    entry = write_page_data(capture, assets, scales, rankings, **page_data)
    meta = json.loads((assets / entry["meta"]["path"]).read_text())
    static.mkdir(parents=True, exist_ok=True)
    for path in sorted(STATIC.iterdir()):
        if path.is_file():
            shutil.copyfile(path, static / path.name)
    explorer = explorer_context(None, meta, 0, "assets/")
    page = {"layer_count_word": str(len(values)), "probe_count_word": str(len(capture.probe_labels))}
    layers = [{"name": layer["name"], "channels": layer["channels"]} for layer in meta["layers"]]
    template = environment().from_string('{% from "partials/explorer_layer.html.j2" import layer_view %}' + PAGE)
    (site_dir / "index.html").write_text(template.render(explorer=explorer, page=page, layers=layers), "utf-8")
    return {"meta": meta, "entry": entry, "scales": scales, "rankings": rankings}
