"""What each layer's analysis block shows (templates/partials/layer_analysis.html.j2): look-for line, filters, heat map.

`layer_views(said_layers, figures)` joins a layer's sentences (report/words/layer_text.py) with its figures
(report/page/figure_files.py), in the layers' order.
"""

from __future__ import annotations


def layer_view(said_layer: dict, figures: dict | None, explain: bool = True) -> dict:
    """Return what templates/partials/layer_analysis.html.j2 shows for one layer: look-for line, filters, heat map.

    `explain` asks for the full explanation of the filter table (the first layer that has one gets it).
    """
    figures = figures or {"pairs": None, "filters": {}}
    rows = [dict(row, image=figures["filters"].get(row["channel"])) for row in said_layer.get("filters", [])]
    return {"look_for": said_layer.get("look_for"), "filters": [row for row in rows if row["image"]],
            "filter_rule": said_layer.get("filter_rule"), "explain": explain, "pairs": figures.get("pairs")}


def layer_views(said_layers: list[dict], figures: dict) -> list[dict]:
    """Return every layer's view in order; only the first layer with a filter table explains it in full."""
    views, explained = [], False
    for said_layer in said_layers:
        view = layer_view(said_layer, figures["layers"].get(said_layer["name"]), explain=not explained)
        explained = explained or bool(view["filters"])
        views.append(view)
    return views
